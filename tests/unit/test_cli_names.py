"""Stack and project names: each names one state file, and none reaches outside the backend.

A self-managed backend keeps a stack at `.pulumi/stacks/<project>/<stack>.json`,
joined as paths; `state_file` below does what the engine does
(pkg/backend/diy/store.go StackBasePath: Go's filepath.Join, which cleans the
path, then `+ ".json"`), so the tests can show which pairs used to share a file.
"""

from __future__ import annotations

import itertools
import json
import posixpath
from pathlib import Path

import pytest

from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.engine import Target, name_problems
from fsx_backup_provider.cli.render import EXIT_USAGE

FILE = "file:///tmp/state"
CLOUD = "https://api.pulumi.com"


def state_file(project: str, stack: str) -> str:
    return posixpath.normpath(posixpath.join(".pulumi", "stacks", project, stack)) + ".json"


def test_the_pairs_of_the_issue_shared_or_escaped_a_state_file() -> None:
    """Why the rule exists: these are the engine's own paths for them."""
    assert state_file("fsx-backup", ".") == state_file(".", "fsx-backup")
    assert state_file("fsx-backup", ".") == ".pulumi/stacks/fsx-backup.json"
    assert state_file("..", "dev") == ".pulumi/dev.json"
    assert state_file("fsx-backup", "..") == ".pulumi/stacks.json"


@pytest.mark.parametrize(
    ("project", "stack"),
    [("fsx-backup", "."), (".", "fsx-backup"), ("..", "dev"), ("fsx-backup", ".."), (".", ".")],
)
def test_dot_names_are_refused(project: str, stack: str) -> None:
    problems = name_problems(project, stack, FILE)
    assert problems
    assert all(
        "not '.' or '..'" in p and ".pulumi/stacks/<project>/<stack>.json" in p for p in problems
    )


@pytest.mark.parametrize("stack", ["a/b", "organization/fsx-backup/dev", "../x", "a\\b", "a/../b"])
def test_separators_are_refused_on_self_managed_backends(stack: str) -> None:
    [problem] = name_problems("fsx-backup", stack, FILE)
    assert problem.startswith(f"--stack '{stack}'".replace("\\", "\\\\"))


def test_project_names_never_hold_a_separator() -> None:
    for project in ("a/b", "a\\b", "", "x" * 101):
        assert name_problems(project, "dev", CLOUD), project


def test_qualified_stacks_on_pulumi_cloud() -> None:
    assert name_problems("fsx-backup", "acme/dev", CLOUD) == []
    assert name_problems("fsx-backup", "acme/fsx-backup/dev", CLOUD) == []
    [other] = name_problems("fsx-backup", "acme/other/dev", CLOUD)
    assert "names project 'other', but --project is 'fsx-backup'" in other
    assert name_problems("fsx-backup", "acme/../dev", CLOUD)
    assert name_problems("fsx-backup", "a/b/c/d", CLOUD)


def test_every_accepted_pair_has_a_state_file_of_its_own() -> None:
    """Over a set of tricky names, the accepted pairs map one to one onto files in stacks/."""
    names = [".", "..", "...", ".a", "a.", "a", "b", "a.json", "stacks", "-", "_", "a..b"]
    files: dict[str, tuple[str, str]] = {}
    for project, stack in itertools.product(names, repeat=2):
        if name_problems(project, stack, FILE):
            continue
        path = state_file(project, stack)
        assert path.startswith(".pulumi/stacks/") and path.count("/") == 3, (project, stack)
        assert path not in files, (files[path], (project, stack))
        files[path] = (project, stack)
    assert ("...", "a") in files.values() and ("a", ".a") in files.values()


def test_the_defaults_pass() -> None:
    assert Target().problems() == []
    assert Target(stack="daily-fs-0123456789abcdef0", project="fsx-backup").problems() == []


@pytest.mark.parametrize(
    "args",
    [
        ["up", "--backup", "a=fs-0123456789abcdef0", "--project", ".", "--stack", "fsx-backup"],
        ["preview", "--backup", "a=fs-0123456789abcdef0", "--stack", "."],
        ["destroy", "--project", "..", "--region", "us-east-1"],
        ["cancel", "--stack", ".."],
        ["rotate", "--source", "fs-0123456789abcdef0", "--keep", "1", "--stack", "a/.."],
    ],
)
def test_the_cli_refuses_them_before_anything_runs(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*args, "--backend", f"file://{tmp_path / 'state'}", "--json"])
    out, err = capsys.readouterr()
    assert code == EXIT_USAGE, err
    report = json.loads(out)
    assert report["exit_code"] == EXIT_USAGE and report["result"] == "failed"
    [problem] = report["problems"]
    assert problem.startswith(("--stack", "--project")) and "'.' or '..'" in problem
    assert f"fsx-backup: error: {problem}" in err
    # Refused before anything was touched: not even the backend directory.
    assert not (tmp_path / "state").exists()

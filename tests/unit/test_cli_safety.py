"""Spec files that try to mislead or flood `fsx-backup`, and the JSON shape of every refusal.

No engine runs here: each case is refused before one would be needed, which
the tests also show (the backend directory is never created).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.render import EXIT_USAGE
from fsx_backup_provider.cli.spec import SpecError, build_specs, specs_from_config
from fsx_backup_provider.cli.text import MAX_LINES, cap_lines, clip, short

FS = "fs-0123456789abcdef0"
# The shape every refusal prints with --json, whatever the command.
REPORT_KEYS = {
    "command",
    "stack",
    "project",
    "backend",
    "result",
    "exit_code",
    "resource_changes",
    "changes",
    "deleted",
    "backups",
    "error",
    "problems",
}


def problems_in(path: Path) -> list[str]:
    with pytest.raises(SpecError) as refused:
        build_specs(path, [], [])
    return refused.value.problems


def run_main(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*args, "--backend", f"file://{tmp_path / 'state'}"])
    out, err = capsys.readouterr()
    return code, out, err


def test_duplicate_top_level_key_yaml(tmp_path: Path) -> None:
    spec = tmp_path / "twice.yaml"
    spec.write_text(
        f"backups:\n  - {{name: a, fileSystemId: {FS}}}\n"
        f"backups:\n  - {{name: b, fileSystemId: {FS}}}\n"
    )
    assert problems_in(spec) == [
        f"{spec}, line 3, column 1: key 'backups' is given twice in one mapping "
        "(first on line 1); each key may appear only once"
    ]


def test_duplicate_top_level_key_json(tmp_path: Path) -> None:
    spec = tmp_path / "twice.json"
    spec.write_text(f'{{"backups": [], "backups": [{{"name": "b", "fileSystemId": "{FS}"}}]}}')
    [problem] = problems_in(spec)
    assert problem.startswith(f"{spec}: key 'backups' is given twice in one JSON object")
    assert "each key may appear only once" in problem


def test_duplicate_field_in_an_entry(tmp_path: Path) -> None:
    spec = tmp_path / "entry.yaml"
    spec.write_text(
        f"""backups:
  - name: a
    fileSystemId: {FS}
    name: b
"""
    )
    [problem] = problems_in(spec)
    assert "line 4, column 5: key 'name' is given twice in one mapping (first on line 2)" in problem
    json_spec = tmp_path / "entry.json"
    json_spec.write_text(f'{{"backups": [{{"name": "a", "fileSystemId": "{FS}", "name": "b"}}]}}')
    [problem] = problems_in(json_spec)
    assert "key 'name' is given twice in one JSON object" in problem
    assert "['name', 'fileSystemId', 'name']" in problem


def test_duplicate_tag_key(tmp_path: Path) -> None:
    spec = tmp_path / "tags.yaml"
    spec.write_text(
        f"""backups:
  - name: a
    fileSystemId: {FS}
    tags:
      Env: dev
      Owner: me
      Env: prod
"""
    )
    [problem] = problems_in(spec)
    assert "line 7, column 7: key 'Env' is given twice in one mapping (first on line 5)" in problem


def test_keys_equal_after_yaml_resolution_count_as_duplicates(tmp_path: Path) -> None:
    spec = tmp_path / "bools.yaml"
    spec.write_text(f"backups:\n  - {{name: a, fileSystemId: {FS}, tags: {{yes: a, true: b}}}}\n")
    assert "key True is given twice" in problems_in(spec)[0]


def test_anchors_and_aliases_are_refused(tmp_path: Path) -> None:
    spec = tmp_path / "alias.yaml"
    spec.write_text(
        f"""backups:
  - name: a
    fileSystemId: {FS}
    tags: &common {{Env: prod}}
  - name: b
    fileSystemId: {FS}
    tags: *common
"""
    )
    [problem] = problems_in(spec)
    assert problem == (
        f"{spec}, line 4, column 11: YAML anchors and aliases (&name, *name) are not accepted "
        "in a spec file; write each value out"
    )


def alias_bomb() -> str:
    """The "billion laughs": about 1 KB that expands to 10^9 strings if aliases are followed."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        refs = ",".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append("backups:\n  - name: *a8\n    fileSystemId: " + FS)
    return "\n".join(lines) + "\n"


def test_alias_bomb_fails_fast_and_prints_little(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    assert len(bomb.read_bytes()) < 1200
    started = time.monotonic()
    code, out, err = run_main(capsys, tmp_path, "up", "--file", str(bomb), "--json")
    elapsed = time.monotonic() - started
    assert code == EXIT_USAGE
    assert elapsed < 10, elapsed  # generous: it is refused at the first anchor
    assert len(out) + len(err) < 4000
    assert "YAML anchors and aliases" in err
    report = json.loads(out)
    assert report["exit_code"] == EXIT_USAGE and "YAML anchors" in report["problems"][0]
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "x" * 1_000_000, "fileSystemId": FS},
        {"name": "a", "fileSystemId": "fs-" + "0" * 1_000_000},
        {"name": "a", "fileSystemId": FS, "tags": {"Env": "v" * 1_000_000}},
        {"name": "a", "fileSystemId": FS, "tags": {"k" * 1_000_000: "v"}},
        {"name": "a", "fileSystemId": FS, "z" * 1_000_000: 1},
        {"name": "a", "fileSystemId": FS, "tags": ["t"] * 1_000_000},
    ],
    ids=["name", "file-system-id", "tag-value", "tag-key", "unknown-field", "long-list"],
)
def test_a_huge_value_gives_a_short_error(
    entry: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "huge.json"
    spec.write_text(json.dumps({"backups": [entry]}))
    code, out, err = run_main(capsys, tmp_path, "preview", "--file", str(spec), "--json")
    assert code == EXIT_USAGE
    assert len(err) < 2000, err[:3000]
    assert len(out) < 3000
    assert json.loads(out)["problems"], out
    # The value itself is never echoed whole: no long run of its one character.
    assert re.search(r"(.)\1{199}", out + err) is None


def test_many_problems_are_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "many.json"
    spec.write_text(json.dumps({"backups": [{"name": f"n{i}"} for i in range(5000)]}))
    code, out, err = run_main(capsys, tmp_path, "up", "--file", str(spec), "--json")
    assert code == EXIT_USAGE
    assert len(err) < 12_000 and len(out) < 12_000
    problems = json.loads(out)["problems"]
    assert len(problems) <= MAX_LINES + 1
    assert problems[-1] == f"... and {5000 - (len(problems) - 1)} more (fix these first)"


def test_spec_error_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, tmp_path, "up", "--backup", "a=fs-12", "--json")
    assert code == EXIT_USAGE
    report = json.loads(out)
    assert set(report) == REPORT_KEYS
    assert report["command"] == "up" and report["stack"] == "dev"
    assert report["result"] == "failed" and report["exit_code"] == EXIT_USAGE
    assert report["error"] == "the backups as declared cannot be used:"
    assert report["problems"] == [
        "--backup #1 ('a'): fileSystemId: 'fs-12' must be 11 to 21 characters long, got 5"
    ]
    assert "fileSystemId: 'fs-12'" in err


@pytest.mark.parametrize(
    ("argv", "command", "message"),
    [
        (["sideways"], None, "invalid choice: 'sideways'"),
        (["up", "--nope"], "up", "unrecognized arguments: --nope"),
        (["preview", "--refresh", "--backup", f"a={FS}"], "preview", "--refresh"),
        (["rotate", "--keep", "3"], "rotate", "the following arguments are required: --source"),
        (["cancel", "--backup", f"a={FS}"], "cancel", "unrecognized arguments: --backup"),
        (["up"], "up", "no backups declared"),
        (["up", "--backup", f"a={FS}", "--parallel", "0"], "up", "--parallel must be at least 1"),
        (["destroy", "--stack", "a b"], "destroy", "--stack 'a b'"),
    ],
)
def test_usage_errors_as_json(
    argv: list[str],
    command: str | None,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_main(capsys, tmp_path, *argv, "--json")
    assert code == EXIT_USAGE
    report = json.loads(out)
    assert report["command"] == command
    assert report["result"] == "failed" and report["exit_code"] == EXIT_USAGE
    assert message in report["error"] and message in report["problems"][0]
    assert message in err
    assert not (tmp_path / "state").exists()


def test_rotate_refusal_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run_main(
        capsys, tmp_path, "rotate", "--source", "vol-1", "--keep", "0", "--at", "nope", "--json"
    )
    assert code == EXIT_USAGE
    report = json.loads(out)
    assert report["command"] == "rotate" and report["stack"] == "daily-vol-1"
    assert report["created"] == [] and report["deleted"] == [] and report["kept"] == []
    assert report["error"] == "rotate cannot run:"
    problems = "\n".join(report["problems"])
    assert "--keep 0: keep at least 1 backup" in problems
    assert "--at 'nope': not an ISO 8601 date or time" in problems
    assert "--source 'vol-1': source 'vol-1' is neither a file system ID" in problems
    assert not (tmp_path / "state").exists()


def test_example_stack_config_uses_the_same_parser() -> None:
    """`__main__.py` reads its config entries with the CLI's parser: same fields, same errors."""
    [spec] = specs_from_config(
        [{"name": "a", "fileSystemId": FS, "tags": {"Env": "prod"}}], "fsx-backup-demo:backups"
    )
    assert (spec.name, spec.file_system_id, dict(spec.tags)) == ("a", FS, {"Env": "prod"})
    assert specs_from_config(None, "fsx-backup-demo:backups") == []
    with pytest.raises(SpecError) as refused:
        specs_from_config(
            [{"name": "a", "filesystemId": FS}, {"name": "a", "volumeId": "fsvol-1"}],
            "fsx-backup-demo:backups",
        )
    assert refused.value.problems == [
        "fsx-backup-demo:backups[0] ('a'): unknown field 'filesystemId' (did you mean "
        "'fileSystemId'?); the fields are name, fileSystemId, volumeId, tags",
        "fsx-backup-demo:backups[1] ('a'): volumeId: 'fsvol-1' must be exactly 23 characters "
        "long, got 7",
    ]


def test_text_limits() -> None:
    assert short("x" * 10_000).startswith("'xxx") and len(short("x" * 10_000)) < 100
    assert short(list(range(1000))).endswith("...]")
    assert clip("short") == "short"
    long = "head " + "v" * 10_000 + " tail"
    clipped = clip(long)
    assert len(clipped) < 450
    assert clipped.startswith("head ") and clipped.endswith(" tail")
    assert "characters cut" in clipped
    assert cap_lines(["a"] * 3) == ["a", "a", "a"]
    capped = cap_lines(["y" * 300] * 100)
    assert sum(map(len, capped)) <= 8100 and capped[-1].endswith("more (fix these first)")

"""The Python scripts of README.md and docs/*.md run as written, each in a process of
its own against the emulator, and the emulator's pytest examples pass under pytest.

As for the commands (tests/e2e/test_doc_commands.py), what a reader would put in is
put in: the stand-in IDs become a file system and an AVAILABLE backup of the
emulator in the script's Region (its first `region="..."`), an `s3://` backend the
test's file backend, and the emulator's endpoint comes from AWS_ENDPOINT_URL_FSX, as
botocore reads it for a user. A script must exit 0.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.doc_blocks import all_blocks, is_pytest_example, is_script
from tests.e2e.cli_env import CALLERS_AWS_SETTINGS, available_backup
from tools.workspace import EMULATOR_CREDENTIALS

DOC_FS = "fs-0123456789abcdef0"
DOC_BACKUP = "backup-0123456789abcdef0"
SCRIPTS = [
    (block.where, block.code)
    for block in all_blocks()
    if block.language == "python" and block.not_run is None and is_script(block.code)
]
PYTEST_EXAMPLES = {
    block.where: block.code
    for block in all_blocks()
    if block.language == "python" and block.not_run is None and is_pytest_example(block.code)
}


def _env(fsx: Any, pulumi_env: dict[str, str], region: str) -> dict[str, str]:
    env = {**os.environ, **pulumi_env, **EMULATOR_CREDENTIALS}
    env.update(AWS_ENDPOINT_URL_FSX=fsx.endpoint_url, AWS_REGION=region)
    for key in CALLERS_AWS_SETTINGS:
        env.pop(key, None)
    return env


@pytest.mark.parametrize(("where", "code"), SCRIPTS, ids=[w for w, _ in SCRIPTS])
def test_a_documented_script_runs(
    where: str, code: str, fsx: Any, tmp_path: Path, pulumi_env: dict[str, str]
) -> None:
    region = next(iter(re.findall(r'\bregion="([a-z0-9-]+)"', code)), "us-east-1")
    file_system = fsx.create_file_system(region=region)
    backup = available_backup(fsx, region, FileSystemId=file_system)
    fsx.set_faults(backup_seconds=0.5, copy_seconds=0.5, restore_seconds=0.5, delete_seconds=0.2)
    code = code.replace(DOC_FS, file_system).replace(DOC_BACKUP, backup)
    code = re.sub(r'"s3://[^"]*"', repr(f"file://{tmp_path / 'state'}"), code)
    (tmp_path / "state").mkdir()
    script = tmp_path / "script.py"
    script.write_text(code)
    before = fsx.calls().get("_total", 0)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_env(fsx, pulumi_env, region),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{where}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    if "from fsx_backup_provider" in code:  # (the emulator's own examples start their own)
        assert fsx.calls().get("_total", 0) > before, f"{where} never reached the emulator"


def _pytest(directory: Path, conftest: str, tests: str) -> str:
    directory.mkdir()
    (directory / "conftest.py").write_text(conftest)
    (directory / "test_examples.py").write_text(tests)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory)],
        cwd=directory,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_the_emulators_pytest_examples_pass(tmp_path: Path) -> None:
    """docs/emulator.md's conftest.py examples, with its test examples, in a directory
    of their own, as a user's tests would be: they pass."""
    conftests = {w: c for w, c in PYTEST_EXAMPLES.items() if "def test_" not in c}
    [(short_where, short)] = conftests.items()
    [(full_where, full)] = [(w, c) for w, c in PYTEST_EXAMPLES.items() if "# test_" in c]
    [(lifecycle_where, lifecycle)] = [
        (w, c) for w, c in PYTEST_EXAMPLES.items() if "pytest_plugins" not in c
    ]
    conftest, tests = full.split("# test_backups.py", 1)
    assert "2 passed" in _pytest(tmp_path / "full", conftest, tests), full_where
    assert "1 passed" in _pytest(tmp_path / "short", short, lifecycle), (
        short_where,
        lifecycle_where,
    )


def test_the_scripts_are_found() -> None:
    assert {w.split(":")[0] for w, _ in SCRIPTS} >= {
        "docs/cli.md",
        "docs/rotation.md",
        "docs/emulator.md",
        "docs/own-repo.md",
    }
    assert len(PYTEST_EXAMPLES) == 3

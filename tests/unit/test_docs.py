"""The generated docs are what the code gives: a changed flag, input, output or
benchmark result without `make docs` fails here (tools/docs.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tools import docs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")


def test_the_generated_files_are_current() -> None:
    for path, text in docs.generated().items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: run `make docs`"


def test_every_input_and_output_is_documented_in_the_code() -> None:
    from fsx_backup_provider.program.backup import FsxBackup, FsxBackupArgs
    from fsx_backup_provider.program.copy import FsxBackupCopy, FsxBackupCopyArgs

    backup = "\n".join(docs.resource_section("FsxBackup", FsxBackupArgs, FsxBackup))
    assert "| `file_system_id` |" in backup and "| `tags_all` |" in backup
    copy = "\n".join(docs.resource_section("FsxBackupCopy", FsxBackupCopyArgs, FsxBackupCopy))
    assert "| `source_backup_id` |" in copy and "| `source_region` |" in copy

    class Args(FsxBackupArgs):
        """Inputs:
            file_system_id: only this one
        """

    with pytest.raises(SystemExit, match="input volume_id is not documented"):
        docs.resource_section("FsxBackup", Args, FsxBackup)


def test_every_cli_option_is_in_the_reference() -> None:
    from fsx_backup_provider.cli.parser import build_parser

    reference = docs.reference()
    parser = build_parser()
    for _name, sub in docs._subcommands(parser):
        for action in sub._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}" in reference or f", {flag}" in reference, flag
    assert "--adopt-stack" in reference


def test_relative_links_in_the_docs_name_files_that_exist() -> None:
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "bench" / "README.md",
             *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
    assert os.environ["COLUMNS"] == "100"

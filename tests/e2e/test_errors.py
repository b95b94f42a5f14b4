"""What a user sees when a create fails: one short paragraph, not a chain of tracebacks."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

import fsx_backup_provider
from fsx_backup_provider import FsxBackup


def diagnostic_of(lines: list[str], resource: str) -> list[str]:
    """The engine's diagnostic block of one resource, as `pulumi up` prints it."""
    text = "\n".join(lines)
    _, _, block = text.partition(f"FsxBackup ({resource}):")
    return [line for line in block.split("\n\n", 1)[0].splitlines() if line.strip()]


def test_a_missing_file_system_is_one_paragraph_saying_what_to_do(fsx: Any, fsx_stack: Any) -> None:
    def program() -> None:
        FsxBackup("missing", file_system_id="fs-0123456789abcdef9")

    lines: list[str] = []
    with pytest.raises(auto.CommandError):
        fsx_stack(program).up(on_output=lines.append, color="never")
    block = diagnostic_of(lines, "missing")
    joined = "\n".join(block)
    # The dynamic provider host sends one traceback of its own three frames;
    # nothing the provider chained to it.
    assert joined.count("Traceback") == 1, joined
    assert "direct cause" not in joined and "During handling" not in joined, joined
    # The host's three frames, the error, and the release it came from.
    assert len(block) <= 11, joined
    assert block[-1].strip() == f"(fsx-backup-provider {fsx_backup_provider.__version__})"
    [message] = [line for line in block if "fsx_backup_provider.FsxBackupError:" in line]
    assert "FileSystemNotFound" in message and "fs-0123456789abcdef9" in message
    assert "Check file_system_id" in message and "us-east-1" in message

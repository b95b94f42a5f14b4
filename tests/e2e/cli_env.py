"""What the `fsx-backup` end-to-end tests share: an isolated environment."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REGION
from tools.workspace import EMULATOR_CREDENTIALS


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fsx: Any) -> list[str]:
    """Dummy AWS credentials, a PULUMI_HOME of the test's own; returns the flags all runs share.

    Nothing of the caller's Pulumi setup is kept: the CLI brings its own
    backend (the flag) and passphrase (its documented default).
    """
    for key, value in EMULATOR_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    for key in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(key, raising=False)
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_FSX"):
        monkeypatch.delenv(key, raising=False)
    return [
        "--backend",
        f"file://{tmp_path / 'state'}",
        "--endpoint-url",
        fsx.endpoint_url,
        "--region",
        REGION,
    ]


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "fsx_backup_provider.cli", *args]


def live_backups(fsx: Any) -> dict[str, dict[str, Any]]:
    """The emulator's backups that are not deleted, by ID."""
    return {
        b["BackupId"]: b
        for b in fsx.client().describe_backups()["Backups"]
        if b["Lifecycle"] != "DELETED"
    }

"""What the `fsx-backup` end-to-end tests share: an isolated environment and process hygiene."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REGION
from tools.workspace import EMULATOR_CREDENTIALS

# Set in the environment of subprocesses a test may kill; the engine hands its
# environment down to the provider processes it starts, so this finds them too.
MARKER_VARIABLE = "FSX_BACKUP_TEST_RUN"
# The caller's AWS settings that would steer a run away from the emulator.
CALLERS_AWS_SETTINGS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")


def available_backup(fsx: Any, region: str | None = None, **source: str) -> str:
    """An AVAILABLE backup of `source` (FileSystemId= or VolumeId=) in `region` (None:
    the emulator's default), made at once: backups take 0 s from here on, until the
    test sets its own pace."""
    fsx.set_faults(backup_seconds=0)
    backup = fsx.client(region=region).create_backup(**source)["Backup"]
    assert backup["Lifecycle"] == "AVAILABLE"
    return str(backup["BackupId"])


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
    for key in (*CALLERS_AWS_SETTINGS, "AWS_ENDPOINT_URL_FSX"):
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


def start_cli(args: Sequence[str], marker: str) -> subprocess.Popen[str]:
    """`fsx-backup ARGS` in a process group of its own, marked for `kill_marked`."""
    return subprocess.Popen(
        cli_command(*args),
        env={**os.environ, MARKER_VARIABLE: marker},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def marked_pids(marker: str) -> list[int]:
    wanted = f"{MARKER_VARIABLE}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or not ours to read
            continue
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_marked(marker: str, timeout: float = 30.0) -> list[int]:
    """SIGKILL every process carrying `marker`, by pid, and wait until none runs.

    The engine starts each plugin (the Python provider process among them)
    in a process group of its own, so killing the CLI's group leaves those
    running: this is how a test makes sure none outlives it. Returns the
    pids that were still alive.
    """
    killed = [pid for pid in marked_pids(marker) if _alive(pid)]
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in killed):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes {killed} still run {timeout} s after SIGKILL")
        time.sleep(0.1)
    return killed


def live_backups(fsx: Any) -> dict[str, dict[str, Any]]:
    """The emulator's backups that are not deleted, by ID."""
    return {
        b["BackupId"]: b
        for b in fsx.client().describe_backups()["Backups"]
        if b["Lifecycle"] != "DELETED"
    }

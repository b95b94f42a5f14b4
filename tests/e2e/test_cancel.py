"""Ctrl-C ends a run promptly, even while a long backup is being made, and loses nothing.

The real `pulumi` CLI runs `pulumi up` of the example stack; SIGINT reaches it
while its one backup takes 20 s to become AVAILABLE. The engine asks the
provider to cancel; the provider's wait ends at once, the backup stays in
FSx, and the next `pulumi up` finds it again by its token.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tools.workspace import EMULATOR_CREDENTIALS, example_project, isolated_env, pulumi_cli

ROOT = Path(__file__).resolve().parents[2]
BACKUP_SECONDS = 20


def test_ctrl_c_ends_a_long_create_promptly_and_the_next_up_resumes(
    fsx: Any, tmp_path: Path
) -> None:
    fsx.set_faults(backup_seconds=BACKUP_SECONDS)
    fs_id = fsx.create_file_system("LUSTRE")
    project = example_project(tmp_path / "project")
    env = {**os.environ, **isolated_env(tmp_path / "pulumi"), **EMULATOR_CREDENTIALS}
    backups = [{"name": "slow", "fileSystemId": fs_id}]
    for args in (
        ("stack", "init", "cancel"),
        ("config", "set", "aws:region", "us-east-1"),
        ("config", "set", "aws:endpoints", json.dumps([{"fsx": fsx.endpoint_url}])),
        ("config", "set", "backups", json.dumps(backups)),
    ):
        assert pulumi_cli(project, env, *args).returncode == 0

    up = subprocess.Popen(
        ["pulumi", "up", "--yes", "--non-interactive"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while fsx.calls().get("CreateBackup", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    interrupted = time.monotonic()
    up.send_signal(signal.SIGINT)
    output, _ = up.communicate(timeout=60)
    took = time.monotonic() - interrupted
    print(f"pulumi up ended {took:.1f} s after Ctrl-C, with the backup still CREATING")
    assert up.returncode != 0
    assert took < 15, output
    assert "cancelled (Ctrl-C)" in output, output
    [backup] = fsx.client().describe_backups()["Backups"]
    assert backup["Lifecycle"] == "CREATING"

    # Nothing is lost: the next up finds the same backup and waits for it.
    resumed = pulumi_cli(project, env, "up", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    [after] = fsx.client().describe_backups()["Backups"]
    assert after["BackupId"] == backup["BackupId"] and after["Lifecycle"] == "AVAILABLE"
    assert fsx.calls().get("CreateBackup", 0) == 2
    assert pulumi_cli(project, env, "destroy", "--yes").returncode == 0

"""Backups are created concurrently beyond the dynamic provider host's 4 workers."""

from __future__ import annotations

from typing import Any

import pulumi

from fsx_backup_provider import FsxBackup
from tests.e2e.conftest import quiet


def test_eight_creates_are_in_flight_at_once(fsx: Any, fsx_stack: Any) -> None:
    fs_ids = [fsx.create_file_system("LUSTRE") for _ in range(8)]
    fsx.set_faults(backup_seconds=4)

    def program() -> None:
        for i, fs_id in enumerate(fs_ids):
            FsxBackup(f"b{i}", file_system_id=fs_id)
            pulumi.export("n", len(fs_ids))

    stack = fsx_stack(program)
    stack.up(on_output=quiet, parallel=16)
    backups = fsx.client().describe_backups()["Backups"]
    assert len(backups) == 8 and all(b["Lifecycle"] == "AVAILABLE" for b in backups)
    created = sorted(b["CreationTime"].timestamp() for b in backups)
    # With the host's 4 workers, creates 5-8 could only start once 1-4 had
    # waited out their 4 s; here all eight were requested within one backup time.
    assert created[-1] - created[0] < 4.0, created

"""A waiting create shows its backup's lifecycle and ProgressPercent in the engine's output."""

from __future__ import annotations

import re
from typing import Any

from fsx_backup_provider import FsxBackup


def test_progress_reaches_the_engine_output(fsx: Any, fsx_stack: Any) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    fsx.set_faults(backup_seconds=3)

    def program() -> None:
        FsxBackup("watched", file_system_id=fs_id)

    lines: list[str] = []
    fsx_stack(program).up(on_output=lines.append, color="never")
    watched = [line for line in lines if "FsxBackup watched" in line]
    assert any(re.search(r"backup-[0-9a-f]+: CREATING \d+%", line) for line in watched), watched
    assert any("AVAILABLE 100%" in line for line in watched), watched

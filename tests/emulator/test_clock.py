"""The clock tests control: freeze, advance, hold and release (docs/emulator.md)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from fsx_emulator.client import Emulator


def post_clock(fsx: Emulator, body: object) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{fsx.endpoint_url}/_emulator/clock", method="POST", data=json.dumps(body).encode()
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def describe(fsx: Emulator, backup_id: str, region: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = fsx.client(region=region).describe_backups(BackupIds=[backup_id])[
        "Backups"
    ][0]
    return found


def new_backup(fsx: Emulator) -> dict[str, Any]:
    backup: dict[str, Any] = fsx.client().create_backup(FileSystemId=fsx.create_file_system())[
        "Backup"
    ]
    return backup


def test_a_frozen_clock_stands_still_until_advanced(fsx: Emulator) -> None:
    fsx.set_faults(backup_seconds=0.05)
    document = fsx.freeze_clock()
    assert document["frozen"] is True and document["held"] == []
    backup = new_backup(fsx)
    time.sleep(0.2)
    assert describe(fsx, backup["BackupId"])["Lifecycle"] == "CREATING"
    assert fsx.clock()["now"] == document["now"]
    assert fsx.advance_clock(0.05)["now"] == pytest.approx(document["now"] + 0.05)
    assert describe(fsx, backup["BackupId"])["Lifecycle"] == "AVAILABLE"


def test_creation_times_follow_the_clock(fsx: Emulator) -> None:
    fsx.freeze_clock()
    first, second = new_backup(fsx), new_backup(fsx)
    assert first["CreationTime"] == second["CreationTime"]
    fsx.advance_clock(3600)
    later = new_backup(fsx)
    elapsed = (later["CreationTime"] - first["CreationTime"]).total_seconds()
    assert elapsed == pytest.approx(3600, abs=0.01)
    assert fsx.clock()["time"] == pytest.approx(later["CreationTime"].timestamp(), abs=0.01)


def test_advancing_a_running_clock_jumps_ahead(fsx: Emulator) -> None:
    fsx.set_faults(backup_seconds=600)
    backup = new_backup(fsx)
    assert fsx.advance_clock(600)["frozen"] is False
    assert describe(fsx, backup["BackupId"])["Lifecycle"] == "AVAILABLE"


def test_unfreezing_runs_on_from_where_the_clock_stood(fsx: Emulator) -> None:
    fsx.set_faults(backup_seconds=60)
    fsx.freeze_clock()
    backup = new_backup(fsx)
    fsx.advance_clock(30)
    time.sleep(0.1)
    stood_at = fsx.clock()["now"]
    document = fsx.unfreeze_clock()
    assert document["frozen"] is False
    # No jump by the time spent frozen: half of the 60 s backup is done, not more.
    assert document["now"] == pytest.approx(stood_at, abs=5)
    progress = describe(fsx, backup["BackupId"])["ProgressPercent"]
    assert 50 <= progress < 60
    assert fsx.clock()["now"] > stood_at


def test_a_held_backup_stays_in_its_lifecycle_and_resumes_where_it_stood(fsx: Emulator) -> None:
    fsx.set_faults(backup_seconds=10)
    fsx.freeze_clock()
    held, free = new_backup(fsx), new_backup(fsx)
    fsx.advance_clock(4)
    assert fsx.hold(held["BackupId"])["held"] == [held["BackupId"]]
    fsx.advance_clock(100)
    assert describe(fsx, free["BackupId"])["Lifecycle"] == "AVAILABLE"
    still = describe(fsx, held["BackupId"])
    assert (still["Lifecycle"], still["ProgressPercent"]) == ("CREATING", 40)

    assert fsx.release(held["BackupId"])["held"] == []
    assert describe(fsx, held["BackupId"])["ProgressPercent"] == 40
    fsx.advance_clock(5.99)
    assert describe(fsx, held["BackupId"])["Lifecycle"] == "CREATING"
    fsx.advance_clock(0.01)
    assert describe(fsx, held["BackupId"])["Lifecycle"] == "AVAILABLE"


def test_holding_a_copy_in_another_region(fsx: Emulator, other_region: str) -> None:
    source = new_backup(fsx)
    fsx.set_faults(copy_seconds=10)
    fsx.freeze_clock()
    copy = fsx.client(region=other_region).copy_backup(
        SourceBackupId=source["BackupId"], SourceRegion=fsx.region
    )["Backup"]
    fsx.hold(copy["BackupId"])
    fsx.advance_clock(60)
    assert describe(fsx, copy["BackupId"], other_region)["Lifecycle"] == "PENDING"
    # Held, the copy is still in progress: its source cannot be deleted yet.
    with pytest.raises(fsx.client().exceptions.BackupBeingCopied):
        fsx.client().delete_backup(BackupId=source["BackupId"])
    fsx.set_clock(release=[copy["BackupId"]], advance=10)
    assert describe(fsx, copy["BackupId"], other_region)["Lifecycle"] == "AVAILABLE"


def test_reset_returns_to_the_real_clock_with_nothing_held(fsx: Emulator) -> None:
    backup = new_backup(fsx)
    fsx.freeze_clock()
    fsx.advance_clock(1000)
    fsx.hold(backup["BackupId"])
    fsx.reset()
    document = fsx.clock()
    assert (document["frozen"], document["held"]) == (False, [])
    assert document["time"] == pytest.approx(time.time(), abs=60)


@pytest.mark.parametrize(
    "body",
    [
        {"freeze": "yes"},
        {"advance": -1},
        {"advance": "soon"},
        {"hold": "backup-0123456789abcdef0"},
        {"hold": ["backup-0123456789abcdef0"]},
        {"release": ["fs-0123456789abcdef0"]},
        {"freeze": True, "hold": ["nothing"]},
        {"rewind": 5},
        [1],
    ],
)
def test_bad_clock_requests_change_nothing(fsx: Emulator, body: object) -> None:
    before = fsx.clock()
    status, document = post_clock(fsx, body)
    assert status == 400
    assert document["error"]
    after = fsx.clock()
    assert (after["frozen"], after["held"]) == (before["frozen"], before["held"])

"""Backup lifecycle: CREATING with rising progress, AVAILABLE, FAILED, BackupInProgress
(semantics 4), judged on the emulator's frozen clock so that no verdict depends on how
fast the machine answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from fsx_emulator.client import Emulator

ClientErrorOf = Callable[..., ClientError]


def test_creating_with_rising_progress_then_available(fsx: Emulator) -> None:
    fsx.set_faults(backup_seconds=8)
    fsx.freeze_clock()
    client = fsx.client()
    created = client.create_backup(FileSystemId=fsx.create_file_system())["Backup"]
    assert (created["Lifecycle"], created["Type"], created["ProgressPercent"]) == (
        "CREATING",
        "USER_INITIATED",
        0,
    )
    seen = []
    for _ in range(4):
        fsx.advance_clock(1.5)
        backup = describe(fsx, created["BackupId"])
        assert backup["Lifecycle"] == "CREATING"
        seen.append(backup["ProgressPercent"])
    assert seen == [18, 37, 56, 75]
    fsx.advance_clock(1.99)
    assert (describe(fsx, created["BackupId"])["ProgressPercent"]) == 99
    fsx.advance_clock(0.01)
    done = describe(fsx, created["BackupId"])
    assert (done["Lifecycle"], done["ProgressPercent"]) == ("AVAILABLE", 100)
    assert "FailureDetails" not in done


def test_the_real_clock_drives_lifecycles_when_not_frozen(fsx: Emulator) -> None:
    fsx.set_faults(backup_seconds=0.2)
    backup_id = fsx.client().create_backup(FileSystemId=fsx.create_file_system())["Backup"][
        "BackupId"
    ]
    # A deadline, not a duration: only a machine 50 times too slow could fail this.
    deadline = time.monotonic() + 10
    while describe(fsx, backup_id)["Lifecycle"] == "CREATING":
        assert time.monotonic() < deadline, "the backup never became AVAILABLE"
        time.sleep(0.05)
    assert describe(fsx, backup_id)["Lifecycle"] == "AVAILABLE"


def test_zero_backup_seconds_is_available_at_once(fsx: Emulator) -> None:
    backup = fsx.client().create_backup(FileSystemId=fsx.create_file_system())["Backup"]
    assert (backup["Lifecycle"], backup["ProgressPercent"]) == ("AVAILABLE", 100)


def test_fail_next_backup_of_each_named_source(fsx: Emulator) -> None:
    client = fsx.client()
    file_system_id, volume_id, untouched = (
        fsx.create_file_system(),
        fsx.create_ontap_volume(),
        fsx.create_file_system(),
    )
    fsx.set_faults(
        fail_next_backups={file_system_id: "Injected failure A", volume_id: "Injected failure B"}
    )
    assert fsx.faults()["fail_next_backups"] == {
        file_system_id: "Injected failure A",
        volume_id: "Injected failure B",
    }
    failed_fs = client.create_backup(FileSystemId=file_system_id)["Backup"]
    failed_volume = client.create_backup(VolumeId=volume_id)["Backup"]
    assert client.create_backup(FileSystemId=untouched)["Backup"]["Lifecycle"] == "AVAILABLE"
    for backup, message in (
        (failed_fs, "Injected failure A"),
        (failed_volume, "Injected failure B"),
    ):
        assert backup["Lifecycle"] == "FAILED"
        assert backup["FailureDetails"] == {"Message": message}
        assert backup["ProgressPercent"] == 0
        described = client.describe_backups(BackupIds=[backup["BackupId"]])["Backups"][0]
        assert described["FailureDetails"]["Message"] == message
    # Only the next backup fails.
    assert client.create_backup(FileSystemId=file_system_id)["Backup"]["Lifecycle"] == "AVAILABLE"
    assert fsx.faults()["fail_next_backups"] == {}


def test_failure_comes_at_the_end_of_creating(fsx: Emulator) -> None:
    file_system_id = fsx.create_file_system()
    fsx.set_faults(backup_seconds=3, fail_next_backups={file_system_id: "late failure"})
    fsx.freeze_clock()
    backup = fsx.client().create_backup(FileSystemId=file_system_id)["Backup"]
    assert backup["Lifecycle"] == "CREATING"
    assert "FailureDetails" not in backup
    fsx.advance_clock(2.9)
    assert "FailureDetails" not in describe(fsx, backup["BackupId"])
    fsx.advance_clock(0.1)
    failed = describe(fsx, backup["BackupId"])
    assert failed["Lifecycle"] == "FAILED"
    assert failed["FailureDetails"] == {"Message": "late failure"}


def test_backup_in_progress_blocks_only_the_same_source(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    fsx.set_faults(backup_seconds=4)
    fsx.freeze_clock()
    client = fsx.client()
    busy, idle = fsx.create_file_system(), fsx.create_file_system()
    volume_id = fsx.create_ontap_volume()
    client.create_backup(FileSystemId=busy, ClientRequestToken="first")
    client.create_backup(VolumeId=volume_id)
    error = client_error(client.create_backup, FileSystemId=busy, ClientRequestToken="second")
    assert error.response["Error"]["Code"] == "BackupInProgress"
    assert error_code(client_error, client.create_backup, VolumeId=volume_id) == "BackupInProgress"
    assert client.create_backup(FileSystemId=idle)["Backup"]["Lifecycle"] == "CREATING"
    fsx.advance_clock(4)
    retried = client.create_backup(FileSystemId=busy, ClientRequestToken="second")["Backup"]
    assert retried["Lifecycle"] == "CREATING"


def describe(fsx: Emulator, backup_id: str) -> dict[str, Any]:
    found: dict[str, Any] = fsx.client().describe_backups(BackupIds=[backup_id])["Backups"][0]
    return found


def error_code(client_error: ClientErrorOf, call: Callable[..., object], **kwargs: object) -> str:
    return str(client_error(call, **kwargs).response["Error"]["Code"])

"""DeleteBackup (semantics 7)."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError

from fsx_emulator.client import Emulator

ClientErrorOf = Callable[..., ClientError]


def test_unknown_backup(fsx: Emulator, client_error: ClientErrorOf) -> None:
    error = client_error(fsx.client().delete_backup, BackupId="backup-0123456789abcdef0")
    assert error.response["Error"]["Code"] == "BackupNotFound"


def test_creating_backup_cannot_be_deleted(fsx: Emulator, client_error: ClientErrorOf) -> None:
    fsx.set_faults(backup_seconds=30)
    client = fsx.client()
    backup_id = client.create_backup(FileSystemId=fsx.create_file_system())["Backup"]["BackupId"]
    error = client_error(client.delete_backup, BackupId=backup_id)
    assert error.response["Error"]["Code"] == "BackupInProgress"
    assert client.describe_backups(BackupIds=[backup_id])["Backups"][0]["Lifecycle"] == "CREATING"


def test_available_and_failed_backups_delete_and_disappear(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    available = client.create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"]
    fsx.set_faults(fail_next_backups={file_system_id: "disk on fire"})
    failed = client.create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"]
    kept = client.create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"]

    for backup_id in (available, failed):
        response = client.delete_backup(BackupId=backup_id)
        assert (response["BackupId"], response["Lifecycle"]) == (backup_id, "DELETED")
        gone = client_error(client.describe_backups, BackupIds=[backup_id])
        assert gone.response["Error"]["Code"] == "BackupNotFound"
        again = client_error(client.delete_backup, BackupId=backup_id)
        assert again.response["Error"]["Code"] == "BackupNotFound"
    assert [b["BackupId"] for b in client.describe_backups()["Backups"]] == [kept]
    assert (
        client.describe_backups(Filters=[{"Name": "file-system-id", "Values": [file_system_id]}])[
            "Backups"
        ][0]["BackupId"]
        == kept
    )


def test_malformed_backup_id(fsx: Emulator, client_error: ClientErrorOf) -> None:
    error = client_error(fsx.client().delete_backup, BackupId="backup-XYZXYZXYZ")
    assert error.response["Error"]["Code"] == "BadRequest"
    assert error.response["Error"]["Message"].startswith("BackupId")

"""ClientRequestToken idempotency of CreateBackup (semantics 3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from fsx_emulator.client import Emulator

if TYPE_CHECKING:
    from mypy_boto3_fsx.type_defs import TagTypeDef

ClientErrorOf = Callable[..., ClientError]


def test_same_token_same_parameters_returns_the_same_backup_as_it_is_now(fsx: Emulator) -> None:
    fsx.set_faults(backup_seconds=3)
    fsx.freeze_clock()
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    tags: list[TagTypeDef] = [
        {"Key": "Name", "Value": "nightly"},
        {"Key": "team", "Value": "storage"},
    ]
    first = client.create_backup(FileSystemId=file_system_id, ClientRequestToken="tok-1", Tags=tags)
    assert first["Backup"]["Lifecycle"] == "CREATING"
    fsx.advance_clock(3)
    # The tags in another order are the same parameters.
    again = client.create_backup(
        FileSystemId=file_system_id, ClientRequestToken="tok-1", Tags=list(reversed(tags))
    )
    assert again["Backup"]["BackupId"] == first["Backup"]["BackupId"]
    assert again["Backup"]["Lifecycle"] == "AVAILABLE"
    assert len(client.describe_backups()["Backups"]) == 1


@pytest.mark.parametrize("change", ["source", "tags", "tags dropped", "tags added"])
def test_same_token_different_parameters(
    fsx: Emulator, client_error: ClientErrorOf, change: str
) -> None:
    client = fsx.client()
    file_system_id, other_id = fsx.create_file_system(), fsx.create_file_system()
    token = "t" * 63
    original = {"Key": "Name", "Value": "a"}
    first: dict[str, Any] = {"FileSystemId": file_system_id, "ClientRequestToken": token}
    if change != "tags added":
        first["Tags"] = [original]
    client.create_backup(**first)
    second = dict(first)
    if change == "source":
        second["FileSystemId"] = other_id
    elif change == "tags":
        second["Tags"] = [{"Key": "Name", "Value": "b"}]
    elif change == "tags dropped":
        del second["Tags"]
    else:
        second["Tags"] = [original]
    error = client_error(client.create_backup, **second)
    assert error.response["Error"]["Code"] == "IncompatibleParameterError"
    assert dict(error.response)["Parameter"] == "ClientRequestToken"
    assert len(client.describe_backups()["Backups"]) == 1


def test_token_outlives_its_deleted_backup(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    backup_id = client.create_backup(FileSystemId=file_system_id, ClientRequestToken="keep")[
        "Backup"
    ]["BackupId"]
    client.delete_backup(BackupId=backup_id)
    again = client.create_backup(FileSystemId=file_system_id, ClientRequestToken="keep")["Backup"]
    assert (again["BackupId"], again["Lifecycle"]) == (backup_id, "DELETED")
    error = client_error(client.describe_backups, BackupIds=[backup_id])
    assert error.response["Error"]["Code"] == "BackupNotFound"
    assert client.describe_backups()["Backups"] == []


def test_a_new_token_makes_a_new_backup(fsx: Emulator) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    # boto3 fills ClientRequestToken with a fresh UUID when it is left out.
    first = client.create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"]
    second = client.create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"]
    assert first != second

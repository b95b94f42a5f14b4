"""DescribeBackups: IDs, filters, pagination and speed (semantics 6 and 10)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from fsx_emulator.client import Emulator

ClientErrorOf = Callable[..., ClientError]


def test_backup_ids(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    ids = [
        client.create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"] for _ in range(3)
    ]
    described = client.describe_backups(BackupIds=[ids[2], ids[0]])["Backups"]
    assert [b["BackupId"] for b in described] == [ids[2], ids[0]]

    unknown = client_error(client.describe_backups, BackupIds=[ids[0], "backup-0123456789abcdef0"])
    assert unknown.response["Error"]["Code"] == "BackupNotFound"
    assert "backup-0123456789abcdef0" in unknown.response["Error"]["Message"]

    too_many = client_error(client.describe_backups, BackupIds=ids * 17)
    assert too_many.response["Error"]["Code"] == "BadRequest"
    assert "BackupIds" in too_many.response["Error"]["Message"]

    client.delete_backup(BackupId=ids[1])
    deleted = client_error(client.describe_backups, BackupIds=[ids[1]])
    assert deleted.response["Error"]["Code"] == "BackupNotFound"
    assert [b["BackupId"] for b in client.describe_backups()["Backups"]] == [ids[0], ids[2]]


def test_filters(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    lustre = fsx.create_file_system()
    windows = fsx.create_file_system(type="WINDOWS")
    volume_id = fsx.create_ontap_volume()
    by_source = {
        "lustre": client.create_backup(FileSystemId=lustre)["Backup"],
        "windows": client.create_backup(FileSystemId=windows)["Backup"],
        "volume": client.create_backup(VolumeId=volume_id)["Backup"],
    }
    ontap_fs = by_source["volume"]["FileSystem"]["FileSystemId"]

    def ids(*filters: tuple[str, list[str]]) -> set[str]:
        request: list[Any] = [{"Name": name, "Values": values} for name, values in filters]
        return {b["BackupId"] for b in client.describe_backups(Filters=request)["Backups"]}

    def of(*names: str) -> set[str]:
        return {by_source[name]["BackupId"] for name in names}

    assert ids(("file-system-id", [lustre])) == of("lustre")
    assert ids(("file-system-id", [lustre, windows])) == of("lustre", "windows")
    assert ids(("file-system-id", [ontap_fs])) == of("volume")
    assert ids(("volume-id", [volume_id])) == of("volume")
    assert ids(("file-system-type", ["WINDOWS", "ONTAP"])) == of("windows", "volume")
    assert ids(("backup-type", ["USER_INITIATED"])) == of("lustre", "windows", "volume")
    assert ids(("backup-type", ["AUTOMATIC"])) == set()
    assert ids(("backup-type", ["USER_INITIATED"]), ("file-system-type", ["LUSTRE"])) == of(
        "lustre"
    )
    unknown = client_error(
        client.describe_backups, Filters=[{"Name": "not-a-filter", "Values": ["x"]}]
    )
    assert unknown.response["Error"]["Code"] == "BadRequest"
    assert "Filters[0].Name" in unknown.response["Error"]["Message"]


def test_pagination(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    ids = [
        client.create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"] for _ in range(7)
    ]

    first = client.describe_backups(MaxResults=3)
    assert [b["BackupId"] for b in first["Backups"]] == ids[:3]
    second = client.describe_backups(MaxResults=3, NextToken=first["NextToken"])
    assert [b["BackupId"] for b in second["Backups"]] == ids[3:6]

    paginator = client.get_paginator("describe_backups")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 3}))
    assert [len(page["Backups"]) for page in pages] == [3, 3, 1]
    assert "NextToken" not in pages[-1]
    assert [b["BackupId"] for page in pages for b in page["Backups"]] == ids

    by_ids = list(paginator.paginate(BackupIds=ids[::-1], PaginationConfig={"PageSize": 4}))
    assert [b["BackupId"] for page in by_ids for b in page["Backups"]] == ids[::-1]

    foreign = client_error(
        client.describe_backups, BackupIds=ids[:2], MaxResults=3, NextToken=first["NextToken"]
    )
    assert foreign.response["Error"]["Code"] == "BadRequest"
    assert "NextToken" in foreign.response["Error"]["Message"]
    # botocore checks MaxResults' minimum itself; the emulator checks it for other clients.
    unchecked = fsx.client(Config(parameter_validation=False))
    zero = client_error(unchecked.describe_backups, MaxResults=0)
    assert zero.response["Error"]["Code"] == "BadRequest"


def test_fifty_ids_among_thousands_is_fast(fsx: Emulator) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    ids = [
        client.create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"] for _ in range(1000)
    ]
    started = time.perf_counter()
    for batch in range(0, 1000, 50):
        assert len(client.describe_backups(BackupIds=ids[batch : batch + 50])["Backups"]) == 50
    per_call = (time.perf_counter() - started) / 20
    # About 7 ms here, most of it botocore parsing; a scan per ID would take far longer.
    assert per_call < 0.1, f"DescribeBackups of 50 IDs took {per_call * 1000:.0f} ms"

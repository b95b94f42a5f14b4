"""Many concurrent requests; state changes stay consistent (semantics 10)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from botocore.config import Config
from botocore.exceptions import ClientError

from fsx_emulator.client import Emulator

THREADS = 16


def test_concurrent_creates_and_describes(fsx: Emulator) -> None:
    client = fsx.client(Config(max_pool_connections=THREADS))
    file_system_ids = [fsx.create_file_system() for _ in range(THREADS)]

    def work(file_system_id: str) -> list[str]:
        created = []
        for _ in range(10):
            created.append(client.create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"])
            client.describe_backups(BackupIds=created[-5:])
        return created

    with ThreadPoolExecutor(THREADS) as pool:
        created = [backup_id for ids in pool.map(work, file_system_ids) for backup_id in ids]

    assert len(set(created)) == THREADS * 10
    listed = [
        b["BackupId"]
        for page in client.get_paginator("describe_backups").paginate()
        for b in page["Backups"]
    ]
    assert sorted(listed) == sorted(created)
    calls = fsx.calls()
    assert calls["CreateBackup"] == calls["DescribeBackups"] - 1 == THREADS * 10


def test_one_token_raced_from_many_threads_makes_one_backup(fsx: Emulator) -> None:
    client = fsx.client(Config(max_pool_connections=THREADS))
    file_system_id = fsx.create_file_system()
    fsx.set_faults(backup_seconds=30)

    def create(_: int) -> str:
        return client.create_backup(FileSystemId=file_system_id, ClientRequestToken="raced")[
            "Backup"
        ]["BackupId"]

    with ThreadPoolExecutor(THREADS) as pool:
        backup_ids = set(pool.map(create, range(THREADS * 4)))
    assert len(backup_ids) == 1
    assert len(client.describe_backups()["Backups"]) == 1


def test_racing_tokens_on_one_source_let_exactly_one_win(fsx: Emulator) -> None:
    client = fsx.client(Config(max_pool_connections=THREADS, retries={"total_max_attempts": 1}))
    file_system_id = fsx.create_file_system()
    fsx.set_faults(backup_seconds=30)

    def create(index: int) -> str:
        try:
            client.create_backup(FileSystemId=file_system_id, ClientRequestToken=f"token-{index}")
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "created"

    with ThreadPoolExecutor(THREADS) as pool:
        results = sorted(pool.map(create, range(THREADS * 2)))
    assert results == ["BackupInProgress"] * (THREADS * 2 - 1) + ["created"]

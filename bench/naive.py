"""The naive peer: FSx backups as the dynamic provider a blog post would show.

`make bench` deploys a stack of these beside FsxBackup, on the same emulator,
so the README's comparison with what a team would write first is measured
every run rather than once. Kept under bench/ (never shipped, never imported
by the package): boto3's default client, CreateBackup without a
ClientRequestToken, a DescribeBackups every 2 s until the backup is
AVAILABLE, DeleteBackup without a wait, and the dynamic provider host's own
4 workers. None of what FsxBackup adds (a stable token, batched polling, a
wider pool, gates) is here, by design.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, ResourceProvider

POLL_SECONDS = 2.0


def _client(props: dict[str, Any]) -> Any:
    import boto3

    return boto3.client(
        "fsx", region_name=props["region"], endpoint_url=props.get("endpoint_url") or None
    )


class NaiveBackupProvider(ResourceProvider):
    """CreateBackup, poll every 2 s, DeleteBackup: what a first attempt does."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        fsx = _client(props)
        backup_id = fsx.create_backup(FileSystemId=props["file_system_id"])["Backup"]["BackupId"]
        while True:
            time.sleep(POLL_SECONDS)
            [backup] = fsx.describe_backups(BackupIds=[backup_id])["Backups"]
            if backup["Lifecycle"] == "AVAILABLE":
                break
            if backup["Lifecycle"] in ("FAILED", "DELETED"):
                raise RuntimeError(f"backup {backup_id} is {backup['Lifecycle']}")
        return CreateResult(backup_id, {**props, "backup_id": backup_id})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _client(props).delete_backup(BackupId=id_)


class NaiveBackup(Resource, module="fsx-backup-provider", name="NaiveBackup"):
    """A backup of `file_system_id` in `region`, made the naive way."""

    backup_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        file_system_id: pulumi.Input[str],
        region: str,
        endpoint_url: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "file_system_id": file_system_id,
            "region": region,
            "endpoint_url": endpoint_url,
            "backup_id": None,
        }
        super().__init__(NaiveBackupProvider(), resource_name, props, opts)

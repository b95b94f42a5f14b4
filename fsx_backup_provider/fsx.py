"""The only module that talks to AWS: boto3 clients, error mapping, finders.

Retries of throttled and transient calls come from botocore's retry modes,
configured once here, never from loops around individual calls. Everything
above this module sees FSx errors as `FsxApiError` with the AWS error code.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.servicemodel import max_backup_ids_per_describe

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_fsx import FSxClient
    from mypy_boto3_fsx.type_defs import TagTypeDef

Backup = dict[str, Any]

# Lifecycles after which a backup no longer changes by itself.
FINAL_LIFECYCLES = frozenset({"AVAILABLE", "FAILED", "DELETED"})
# botocore's retry modes retry throttling and transient 5xx errors with
# exponential backoff and jitter. "legacy" rather than "standard": standard
# mode also keeps a per-client retry quota (500 units, 5 per throttled retry,
# 14 per 5xx retry) that a burst of failures among dozens of concurrent
# creates drains, after which it stops retrying at all and a deploy fails on
# a single throttled call. Retrying is safe here for every call the provider
# makes (CreateBackup carries its idempotency token), so attempts are bounded
# by count, not by a shared budget. Ten attempts ride through 40% failures.
RETRY_SETTINGS: dict[str, Any] = {
    "retries": {"mode": "legacy", "max_attempts": 10},
    "user_agent_extra": "fsx-backup-provider",
    "max_pool_connections": 64,
}


# Error codes AWS uses for throttling, which botocore's retry modes retry too.
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException"}
)


class FsxApiError(Exception):
    """An FSx API call failed; `code` is the AWS error code (e.g. BackupNotFound)."""

    def __init__(self, operation: str, code: str, message: str, status: int = 400) -> None:
        self.operation = operation
        self.code = code
        self.message = message
        self.status = status
        super().__init__(f"FSx {operation} failed with {code}: {message}")

    @property
    def transient(self) -> bool:
        """Throttled or a server-side failure: worth asking again later.

        Anything else (access denied, bad request, unknown backup) gives the
        same answer however often it is asked.
        """
        return self.status >= 500 or self.code in THROTTLING_CODES


@dataclass(frozen=True)
class Connection:
    """Where and as whom to call FSx. None means: as boto3's chain decides.

    `endpoint_url` is only for an explicit override (aws:endpoints); boto3
    itself honours AWS_ENDPOINT_URL_FSX and AWS_ENDPOINT_URL.
    """

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


def default_region(region: str | None, profile: str | None) -> str | None:
    """The region boto3's chain settles on; ValueError names an unknown profile."""
    import boto3.session
    import botocore.exceptions

    try:
        return boto3.session.Session(profile_name=profile, region_name=region).region_name
    except botocore.exceptions.ProfileNotFound as error:
        raise ValueError(str(error)) from error


_clients: dict[Connection, FsxClient] = {}
_clients_lock = threading.Lock()


def client_for(connection: Connection) -> FsxClient:
    """One client per connection per process; boto3 clients are thread-safe."""
    with _clients_lock:
        found = _clients.get(connection)
        if found is None:
            found = FsxClient(connection)
            _clients[connection] = found
        return found


def _wrap(operation: str, exc: ClientError) -> FsxApiError:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
    return FsxApiError(
        operation, str(error.get("Code", "Unknown")), str(error.get("Message", "")), int(status)
    )


class FsxClient:
    """The FSx calls the provider makes, with errors mapped to FsxApiError."""

    def __init__(self, connection: Connection) -> None:
        # Imported here: boto3 and botocore's client machinery cost ~150 ms to
        # import, and a preview (check and diff only) never needs a client.
        import boto3.session
        import botocore.config
        from botocore.exceptions import ClientError

        self._client_error = ClientError
        session = boto3.session.Session(
            profile_name=connection.profile, region_name=connection.region
        )
        self._client: FSxClient = session.client(
            "fsx",
            endpoint_url=connection.endpoint_url,
            config=botocore.config.Config(**RETRY_SETTINGS),
        )
        self.region: str = self._client.meta.region_name

    def create_backup(
        self,
        *,
        client_request_token: str,
        file_system_id: str | None,
        volume_id: str | None,
        tags: Mapping[str, str],
    ) -> Backup:
        kwargs: dict[str, Any] = {"ClientRequestToken": client_request_token}
        if file_system_id is not None:
            kwargs["FileSystemId"] = file_system_id
        if volume_id is not None:
            kwargs["VolumeId"] = volume_id
        # No Tags at all (rather than an empty list, which FSx rejects) lets a
        # source with CopyTagsToBackups give the backup its own tags.
        if tags:
            kwargs["Tags"] = to_tag_list(tags)
        try:
            return dict(self._client.create_backup(**kwargs)["Backup"])
        except self._client_error as exc:
            raise _wrap("CreateBackup", exc) from exc

    def describe_backups(self, backup_ids: Sequence[str]) -> dict[str, Backup]:
        """The live descriptions of `backup_ids`; IDs FSx does not know are left out.

        DescribeBackups fails the whole call with BackupNotFound if any one ID
        is unknown, so such a batch is split in halves until the unknown IDs
        are isolated: a few extra calls, only when something was deleted.
        """
        found: dict[str, Backup] = {}
        limit = max_backup_ids_per_describe()
        unique = list(dict.fromkeys(backup_ids))
        for start in range(0, len(unique), limit):
            self._describe_batch(unique[start : start + limit], found)
        return found

    def _describe_batch(self, batch: list[str], found: dict[str, Backup]) -> None:
        if not batch:
            return
        try:
            response = self._client.describe_backups(BackupIds=batch)
        except self._client_error as exc:
            error = _wrap("DescribeBackups", exc)
            if error.code != "BackupNotFound":
                raise error from exc
            if len(batch) == 1:
                return
            middle = len(batch) // 2
            self._describe_batch(batch[:middle], found)
            self._describe_batch(batch[middle:], found)
            return
        for backup in response["Backups"]:
            found[backup["BackupId"]] = dict(backup)

    def user_backups_of(self, file_system_id: str | None, volume_id: str | None) -> list[Backup]:
        """The USER_INITIATED backups FSx lists for one source (DELETED ones excluded)."""
        name, value = ("volume-id", volume_id) if volume_id else ("file-system-id", file_system_id)
        filters: Any = [
            {"Name": name, "Values": [value]},
            {"Name": "backup-type", "Values": ["USER_INITIATED"]},
        ]
        found: list[Backup] = []
        try:
            for page in self._client.get_paginator("describe_backups").paginate(Filters=filters):
                found += [dict(b) for b in page["Backups"] if b.get("Lifecycle") != "DELETED"]
        except self._client_error as exc:
            raise _wrap("DescribeBackups", exc) from exc
        return found

    def copy_backup(
        self,
        *,
        client_request_token: str,
        source_backup_id: str,
        source_region: str | None,
        kms_key_id: str | None,
        copy_tags: bool,
        tags: Mapping[str, str],
    ) -> Backup:
        """CopyBackup into this client's Region; `source_region` None copies in-Region."""
        kwargs: dict[str, Any] = {
            "ClientRequestToken": client_request_token,
            "SourceBackupId": source_backup_id,
            "CopyTags": copy_tags,
        }
        if source_region is not None:
            kwargs["SourceRegion"] = source_region
        if kms_key_id is not None:
            kwargs["KmsKeyId"] = kms_key_id
        if tags:
            kwargs["Tags"] = to_tag_list(tags)
        try:
            return dict(self._client.copy_backup(**kwargs)["Backup"])
        except self._client_error as exc:
            raise _wrap("CopyBackup", exc) from exc

    def copies_of(self, source_backup_id: str) -> list[Backup]:
        """The live backups in this client's Region that are copies of `source_backup_id`."""
        found: list[Backup] = []
        try:
            for page in self._client.get_paginator("describe_backups").paginate():
                found += [
                    dict(b)
                    for b in page["Backups"]
                    if b.get("SourceBackupId") == source_backup_id
                    and b.get("Lifecycle") != "DELETED"
                ]
        except self._client_error as exc:
            raise _wrap("DescribeBackups", exc) from exc
        return found

    def delete_backup(self, backup_id: str) -> str:
        """Delete; returns the lifecycle FSx answers with (DELETED)."""
        try:
            return str(self._client.delete_backup(BackupId=backup_id).get("Lifecycle", "DELETED"))
        except self._client_error as exc:
            raise _wrap("DeleteBackup", exc) from exc

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        try:
            self._client.tag_resource(ResourceARN=arn, Tags=to_tag_list(tags))
        except self._client_error as exc:
            raise _wrap("TagResource", exc) from exc

    def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        try:
            self._client.untag_resource(ResourceARN=arn, TagKeys=list(keys))
        except self._client_error as exc:
            raise _wrap("UntagResource", exc) from exc


def to_tag_list(tags: Mapping[str, str]) -> list[TagTypeDef]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def tag_map(backup: Backup) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in backup.get("Tags") or []}

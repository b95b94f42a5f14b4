"""The only module that calls FSx: one boto3 client per connection, and the calls.

Every exception a boto3 call can raise leaves here as an `FsxApiError`
(errors.py); where and as whom the call goes, and its retries: session.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fsx_backup_provider.aws.servicemodel import max_backup_ids_per_describe

if TYPE_CHECKING:
    from mypy_boto3_fsx import FSxClient
    from mypy_boto3_fsx.type_defs import TagTypeDef


from fsx_backup_provider.aws.errors import (
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    ErrorMapping,
    FsxApiError,
    _files,
    _profile_of,
    _unknown_profile,
)
from fsx_backup_provider.aws.session import (
    Connection,
    _resolve_region,
    _RetryPolicy,
)

Backup = dict[str, Any]

# Lifecycles after which a backup no longer changes by itself.
FINAL_LIFECYCLES = frozenset({"AVAILABLE", "FAILED", "DELETED"})

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


class FsxClient(ErrorMapping):
    """The FSx calls the provider makes, with every failure mapped to FsxApiError."""

    def __init__(self, connection: Connection) -> None:
        # Imported here: boto3 and botocore's client machinery cost ~150 ms to
        # import, and a preview (check and diff only) never needs a client.
        import boto3.session
        import botocore.config
        import botocore.exceptions

        region, self.region_source = _resolve_region(connection.region, connection.profile)
        self.profile, self.profile_source = _profile_of(connection.profile)
        # Until the client is built, errors name what is known so far.
        self.region: str = region or "(none)"
        self.endpoint_url: str = connection.endpoint_url or "(not resolved)"
        self.read_timeout = READ_TIMEOUT_SECONDS
        if region is None:
            raise FsxApiError(
                "client setup",
                "NoRegion",
                "no AWS Region: looked at the resource's region input, aws:region, AWS_REGION, "
                f"AWS_DEFAULT_REGION and profile '{self.profile}' ({self.profile_source}) in "
                f"{_files()}. Set one, e.g. `pulumi config set aws:region us-east-1`.",
                0,
            )
        try:
            session = boto3.session.Session(profile_name=connection.profile, region_name=region)
            self._client: FSxClient = session.client(
                "fsx",
                endpoint_url=connection.endpoint_url,
                config=botocore.config.Config(
                    # Only the first attempt: _RetryPolicy decides on retries.
                    retries={"mode": "standard", "total_max_attempts": 1},
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    read_timeout=self.read_timeout,
                    user_agent_extra="fsx-backup-provider",
                    max_pool_connections=64,
                ),
            )
        except botocore.exceptions.ProfileNotFound:
            raise _unknown_profile(connection.profile) from None
        except ValueError as exc:
            # botocore's own words for a malformed URL ("Invalid endpoint: ...").
            raise FsxApiError(
                "client setup",
                "InvalidEndpoint",
                f"{exc}. The FSx endpoint (aws:endpoints, AWS_ENDPOINT_URL_FSX or "
                "AWS_ENDPOINT_URL) must be a URL such as https://fsx.us-east-1.amazonaws.com.",
                0,
            ) from None
        except Exception as exc:
            raise self._error("client setup", exc) from None
        # The stubs type event handlers as returning None; needs-retry handlers return a delay.
        self._client.meta.events.register(
            "needs-retry.fsx",
            _RetryPolicy().needs_retry,  # type: ignore[arg-type]
        )
        self.region = self._client.meta.region_name
        self.endpoint_url = self._client.meta.endpoint_url

    # -- calls --------------------------------------------------------------

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
        except Exception as exc:
            # `from None`: the message says it all, and the dynamic provider
            # host sends the whole traceback text to the engine's output.
            raise self._error("CreateBackup", exc) from None

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
        except Exception as exc:
            error = self._error("DescribeBackups", exc)
            if error.code != "BackupNotFound":
                raise error from None
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
        except Exception as exc:
            raise self._error("DescribeBackups", exc) from None
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
        except Exception as exc:
            raise self._error("CopyBackup", exc) from None

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
        except Exception as exc:
            raise self._error("DescribeBackups", exc) from None
        return found

    def delete_backup(self, backup_id: str) -> str:
        """Delete; returns the lifecycle FSx answers with (DELETED)."""
        try:
            return str(self._client.delete_backup(BackupId=backup_id).get("Lifecycle", "DELETED"))
        except Exception as exc:
            raise self._error("DeleteBackup", exc) from None

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        try:
            self._client.tag_resource(ResourceARN=arn, Tags=to_tag_list(tags))
        except Exception as exc:
            raise self._error("TagResource", exc) from None

    def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        try:
            self._client.untag_resource(ResourceARN=arn, TagKeys=list(keys))
        except Exception as exc:
            raise self._error("UntagResource", exc) from None

    # -- restore tests (restores.py) -------------------------------------

    def _call(self, operation: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:
            raise self._error(operation, exc) from None

    def create_file_system_from_backup(self, request: Mapping[str, Any]) -> dict[str, Any]:
        answer = self._call(
            "CreateFileSystemFromBackup",
            lambda: self._client.create_file_system_from_backup(**request),
        )
        return dict(answer["FileSystem"])

    def create_volume_from_backup(self, request: Mapping[str, Any]) -> dict[str, Any]:
        answer = self._call(
            "CreateVolumeFromBackup", lambda: self._client.create_volume_from_backup(**request)
        )
        return dict(answer["Volume"])

    def describe_file_system(self, file_system_id: str) -> dict[str, Any] | None:
        """The file system's description, or None once FSx no longer knows it."""
        try:
            found = self._client.describe_file_systems(FileSystemIds=[file_system_id])
        except Exception as exc:
            error = self._error("DescribeFileSystems", exc)
            if error.code == "FileSystemNotFound":
                return None
            raise error from None
        systems = found["FileSystems"]
        return dict(systems[0]) if systems else None

    def describe_volume(self, volume_id: str) -> dict[str, Any] | None:
        """The volume's description, or None once FSx no longer knows it."""
        try:
            found = self._client.describe_volumes(VolumeIds=[volume_id])
        except Exception as exc:
            error = self._error("DescribeVolumes", exc)
            if error.code == "VolumeNotFound":
                return None
            raise error from None
        volumes = found["Volumes"]
        return dict(volumes[0]) if volumes else None

    def all_file_systems(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        try:
            for page in self._client.get_paginator("describe_file_systems").paginate():
                found += [dict(fs) for fs in page["FileSystems"]]
        except Exception as exc:
            raise self._error("DescribeFileSystems", exc) from None
        return found

    def all_volumes(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        try:
            for page in self._client.get_paginator("describe_volumes").paginate():
                found += [dict(volume) for volume in page["Volumes"]]
        except Exception as exc:
            raise self._error("DescribeVolumes", exc) from None
        return found

    def delete_file_system(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return dict(
            self._call("DeleteFileSystem", lambda: self._client.delete_file_system(**request))
        )

    def delete_volume(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("DeleteVolume", lambda: self._client.delete_volume(**request)))


def to_tag_list(tags: Mapping[str, str]) -> list[TagTypeDef]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def tag_map(backup: Backup) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in backup.get("Tags") or []}

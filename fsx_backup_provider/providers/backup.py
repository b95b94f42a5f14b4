"""The dynamic ResourceProvider behind FsxBackup.

The engine calls these methods in one provider process per program run
(`python -m pulumi.dynamic`), on a pool of threads. What every resource of
this provider does alike is in base.py and core/; this module holds
what is FsxBackup's own: CreateBackup's request, which inputs replace the
backup, validation, the import check and the outputs.

Its class path, `fsx_backup_provider.provider.FsxBackupProvider` (the end of this
module), is pickled into every state that holds an FsxBackup: it must keep resolving.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fsx_backup_provider.aws.fsx import Backup, FsxClient
from fsx_backup_provider.core.claims import CreateRequest
from fsx_backup_provider.core.constants import DEFAULT_TAGS_CONFIG
from fsx_backup_provider.core.gates import Gate
from fsx_backup_provider.core.lifecycle import FsxBackupError
from fsx_backup_provider.core.process import ProcessState
from fsx_backup_provider.providers.base import BackupResourceProvider
from fsx_backup_provider.providers.inputs import is_volume_backup, secret_names
from fsx_backup_provider.providers.validation import Failure, is_unknown, shown, validate_inputs

__all__ = ["FsxBackupError", "FsxBackupProvider"]

SOURCE_KEYS = ("file_system_id", "volume_id")


def _source_of(props: Mapping[str, Any]) -> str:
    key = "volume_id" if props.get("volume_id") else "file_system_id"
    noun = "volume" if key == "volume_id" else "file system"
    return f"{noun} {shown(props.get(key), key in secret_names(props))}"


class FsxBackupProvider(BackupResourceProvider):
    """check/diff/create/read/update/delete for one FSx backup of a file system or volume."""

    OWN_INPUT_KEYS = SOURCE_KEYS
    # 0.1.0's token scope (project, stack, parent URN, name).
    LEGACY_INPUT_KEYS = ("token_scope",)

    def validate(
        self, news: Mapping[str, Any], default_tags: Mapping[str, str], secrets: frozenset[str]
    ) -> list[Failure]:
        return validate_inputs(news, default_tags, secrets, DEFAULT_TAGS_CONFIG in secrets)

    def own_replaces(
        self, olds: Mapping[str, Any], news: Mapping[str, Any], given: Mapping[str, Any]
    ) -> list[str]:
        return [
            key
            for key in SOURCE_KEYS
            if is_unknown(news.get(key)) or olds.get(key) != news.get(key)
        ]

    def refreshed_inputs(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        return {key: outputs.get(key) for key in SOURCE_KEYS}

    def token_binding(self, props: Mapping[str, Any], region: str) -> tuple[str, ...]:
        return str(props.get("file_system_id") or props.get("volume_id")), region

    def request(
        self,
        state: ProcessState,
        client: FsxClient,
        props: Mapping[str, Any],
        tags: Mapping[str, str],
    ) -> tuple[CreateRequest, Gate]:
        """CreateBackup; backups of one source go through the source's Gate one at a time.

        FSx refuses a second backup of a source while one is in progress, so
        the rest wait here, through the poller, instead of asking FSx every
        second.
        """
        source_id = str(props.get("file_system_id") or props.get("volume_id"))
        source = _source_of(props)
        region = client.region
        request = CreateRequest(
            urn=props.get("resource_urn"),
            what=f"a backup of {source}",
            send=lambda token: client.create_backup(
                client_request_token=token,
                file_system_id=props.get("file_system_id"),
                volume_id=props.get("volume_id"),
                tags=tags,
            ),
            tokens=self.tokens(props, region),
            user_token=props.get("client_request_token"),
            waits={"BackupInProgress": "another backup of this source is in progress"},
            candidates=lambda: client.user_backups_of(
                props.get("file_system_id"), props.get("volume_id")
            ),
            queue_reason=f"backups of {source} are made one at a time",
            remedies={
                "FileSystemNotFound": f"Check file_system_id, and that the Region ({region}) "
                "and the credentials' account are the file system's.",
                "VolumeNotFound": f"Check volume_id, and that the Region ({region}) and the "
                "credentials' account are the volume's.",
                "UnsupportedOperation": "Back up an ONTAP volume with volume_id, not its file "
                "system.",
                "AccessDeniedException": "The credentials need fsx:CreateBackup, and "
                "fsx:TagResource for a backup with tags (see docs/iam.md).",
            },
        )
        gate = state.gate(("source", self.connection(props), source_id), 1)
        return request, gate

    def check_adopted(self, backup: Backup, props: Mapping[str, Any]) -> None:
        backup_id = backup["BackupId"]
        if is_volume_backup(backup):
            actual = ("volume_id", (backup.get("Volume") or {}).get("VolumeId"))
        else:
            actual = ("file_system_id", (backup.get("FileSystem") or {}).get("FileSystemId"))
        key = "volume_id" if props.get("volume_id") else "file_system_id"
        declared = (key, props.get(key))
        if actual != declared:
            secret = key in secret_names(props)
            raise FsxBackupError(
                f"cannot import backup {backup_id}: it is a backup of {actual[0]} "
                f"{shown(actual[1], secret)}, but this FsxBackup declares {declared[0]} "
                f"{shown(declared[1], secret)}. Declare the backup's own source, or import a "
                "backup of the declared one."
            )

    def own_outputs(self, backup: Backup, props: Mapping[str, Any]) -> dict[str, Any]:
        is_volume = is_volume_backup(backup)
        file_system = backup.get("FileSystem") or {}
        volume = backup.get("Volume") or {}
        file_system_id = None if is_volume else file_system.get("FileSystemId")
        volume_id = volume.get("VolumeId") if is_volume else None
        return {
            "file_system_id": file_system_id
            or (None if is_volume else props.get("file_system_id")),
            "volume_id": volume_id or (props.get("volume_id") if is_volume else None),
        }


# Every state that holds one records this class pickled by reference under
# the path it had before providers/ existed; that module re-exports it, and
# the class keeps reporting it, so states old and new record one path.
FsxBackupProvider.__module__ = "fsx_backup_provider.provider"

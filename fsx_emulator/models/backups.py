"""CreateBackup, DescribeBackups and DeleteBackup, and the Region's idempotency tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import (
    BackupBeingCopied,
    BackupInProgress,
    BackupNotFound,
    BackupRestoring,
    BadRequest,
    VolumeNotFound,
)
from fsx_emulator.models.backup import (
    Backup,
    BackupRequest,
    CopyRequest,
    backup_attribute,
)
from fsx_emulator.models.requests import page, select_by_ids, tag_key
from fsx_emulator.models.resources import FileSystem, Volume
from fsx_emulator.models.settings import new_id, settings
from fsx_emulator.models.state import BackendState
from fsx_emulator.models.timing import Timeline, clock


class BackupsMixin(BackendState):
    """The backup operations of the backend."""

    def create_backup(
        self,
        file_system_id: object,
        client_request_token: object,
        volume_id: object,
        tags: object,
    ) -> Backup:
        if (file_system_id is None) == (volume_id is None):
            raise BadRequest(
                "Specify exactly one of FileSystemId (to back up a file system) or VolumeId "
                "(to back up an ONTAP volume)."
            )
        fs_id = servicemodel.check_optional_string(file_system_id, "FileSystemId", "FileSystemId")
        vol_id = servicemodel.check_optional_string(volume_id, "VolumeId", "VolumeId")
        token = servicemodel.check_optional_string(
            client_request_token, "ClientRequestToken", "ClientRequestToken"
        )
        requested_tags = None if tags is None else servicemodel.check_tags(tags)
        request = BackupRequest(
            file_system_id=fs_id, volume_id=vol_id, tags=tag_key(requested_tags)
        )
        now = clock.now()
        existing = self._remembered_backup(token, request, now)
        if existing is not None:
            return existing

        volume: Volume | None = None
        if vol_id is not None:
            volume = self.volumes_by_id.get(vol_id)
            if volume is None:
                raise VolumeNotFound(vol_id)
            file_system = self._file_system(volume.file_system_id)
        else:
            assert fs_id is not None
            file_system = self._file_system(fs_id)
            refusal = file_system.backup_refusal()
            if refusal is not None:
                raise refusal
        backup = self._start_backup(file_system, volume, requested_tags, request, now)
        self._remember(token, request, backup, now)
        return backup

    def _start_backup(
        self,
        file_system: FileSystem,
        volume: Volume | None,
        requested_tags: Mapping[str, str] | None,
        request: BackupRequest,
        now: float,
    ) -> Backup:
        """Back up `volume`, or `file_system` if no volume is given: FSx's rules on which
        sources can be backed up at all are the caller's to check first.

        With `requested_tags`, the backup gets exactly those; without, and with
        CopyTagsToBackups on the source, the source's tags; otherwise none.
        """
        source: FileSystem | Volume = file_system if volume is None else volume
        source_id = file_system.file_system_id if volume is None else volume.volume_id
        lifecycle = source.lifecycle(now)
        if lifecycle != source.READY:
            raise BadRequest(
                f"'{source_id}' is {lifecycle}: FSx backs up only a file system that is "
                f"AVAILABLE or a volume that is CREATED."
            )
        latest = self._backup_in_progress(source_id, now)
        if latest is not None:
            raise BackupInProgress(
                f"Backup '{latest.backup_id}' of '{source_id}' is still being created: "
                f"wait until it is AVAILABLE or FAILED, then retry."
            )

        if requested_tags is not None:
            backup_tags = dict(requested_tags)
        elif source.copy_tags_to_backups:
            backup_tags = self.tags_of(source.resource_arn)
        else:
            backup_tags = {}
        backup_id = new_id("backup")
        backup = Backup(
            backup_id=backup_id,
            resource_arn=f"{self.arn_prefix}:backup/{backup_id}",
            owner_id=self.account_id,
            kms_key_id=file_system.kms_key_id,
            creation_time=clock.wall(),
            timeline=Timeline(backup_id, now, settings.backup_seconds),
            failure_message=settings.fail_next_backups.pop(source_id, None),
            resource_type="FILE_SYSTEM" if volume is None else "VOLUME",
            file_system_id=file_system.file_system_id,
            file_system_type=file_system.file_system_type,
            volume_id=None if volume is None else volume.volume_id,
            source_id=source_id,
            request=request,
            file_system_description=self.describe_file_system(file_system, now),
            volume_description=None if volume is None else self.describe_volume(volume, now),
        )
        self.backups_by_id[backup_id] = backup
        self.resource_arns.add(backup.resource_arn)
        self.latest_backup_by_source[source_id] = backup
        self._set_tags(backup.resource_arn, backup_tags)
        return backup

    def _backup_in_progress(self, source_id: str, now: float) -> Backup | None:
        """The backup of file system or volume `source_id` still CREATING, if any."""
        latest = self.latest_backup_by_source.get(source_id)
        return latest if latest is not None and latest.lifecycle(now) == "CREATING" else None

    def _remembered_backup(
        self, token: str | None, request: BackupRequest | CopyRequest, now: float
    ) -> Backup | None:
        existing = self._remembered(token, request, now)
        # A token is only ever bound to the request that made it, so the same request
        # made the same kind of resource.
        assert existing is None or isinstance(existing, Backup)
        return existing

    def describe_backup(self, backup: Backup, now: float) -> dict[str, Any]:
        tags = backup.tags_at_deletion
        return backup.describe(self.tags_of(backup.resource_arn) if tags is None else tags, now)

    def delete_backup(self, backup_id: object, client_request_token: object) -> dict[str, Any]:
        checked = servicemodel.check_string(backup_id, "BackupId", "BackupId")
        servicemodel.check_optional_string(
            client_request_token, "ClientRequestToken", "ClientRequestToken"
        )
        backup = self.backups_by_id.get(checked)
        if backup is None:
            raise BackupNotFound(checked)
        now = clock.now()
        if not backup.finished(now):
            raise BackupInProgress(
                f"Backup '{checked}' is still {backup.lifecycle(now)}: wait until it is "
                f"AVAILABLE or FAILED, then delete it."
            )
        copy = backup.copy_in_progress(now)
        if copy is not None:
            raise BackupBeingCopied(checked, copy.backup_id)
        for restored in backup.restores_in_progress(now):
            if isinstance(restored, FileSystem):
                raise BackupRestoring(
                    checked, restored.file_system_id, f"file system '{restored.file_system_id}'"
                )
            raise BackupRestoring(
                checked, restored.file_system_id, f"volume '{restored.volume_id}'"
            )
        del self.backups_by_id[checked]
        self.resource_arns.discard(backup.resource_arn)
        backup.tags_at_deletion = self.tags_of(backup.resource_arn)
        self.tagger.delete_all_tags_for_resource(backup.resource_arn)
        return {"BackupId": checked, "Lifecycle": "DELETED"}

    def describe_backups(
        self, backup_ids: object, filters: object, max_results: object, next_token: object
    ) -> tuple[list[Backup], str | None]:
        selected = select_by_ids(
            backup_ids, "BackupIds", "BackupIds", self.backups_by_id, BackupNotFound
        )
        if filters is not None:
            wanted = servicemodel.check_filters(filters, "Filters")
            selected = [
                backup
                for backup in selected
                if all(backup_attribute(backup, name) in values for name, values in wanted.items())
            ]
        return page(
            selected,
            "backup_id",
            max_results,
            next_token,
            {"ids": backup_ids, "filters": filters},
        )

"""CreateBackup, DescribeBackups and DeleteBackup, and the Region's idempotency tokens."""

from __future__ import annotations

from typing import Any

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import (
    BackupBeingCopied,
    BackupInProgress,
    BackupNotFound,
    BadRequest,
    IncompatibleParameterError,
    VolumeNotFound,
)
from fsx_emulator.models.backup import (
    Backup,
    BackupRequest,
    CopyRequest,
    TokenRecord,
    backup_attribute,
)
from fsx_emulator.models.requests import page, select_by_ids, tag_key
from fsx_emulator.models.resources import Volume
from fsx_emulator.models.settings import new_id, settings
from fsx_emulator.models.state import BackendState
from fsx_emulator.models.timing import Timeline, clock, seconds_between


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
            source_id, source_arn = vol_id, volume.resource_arn
            copy_tags = volume.copy_tags_to_backups
        else:
            assert fs_id is not None
            file_system = self._file_system(fs_id)
            refusal = file_system.backup_refusal()
            if refusal is not None:
                raise refusal
            source_id, source_arn = fs_id, file_system.resource_arn
            copy_tags = file_system.copy_tags_to_backups

        latest = self.latest_backup_by_source.get(source_id)
        if latest is not None and latest.lifecycle(now) == "CREATING":
            raise BackupInProgress(
                f"Backup '{latest.backup_id}' of '{source_id}' is still being created: "
                f"wait until it is AVAILABLE or FAILED, then retry."
            )

        if requested_tags is not None:
            backup_tags = requested_tags
        elif copy_tags:
            backup_tags = self.tags_of(source_arn)
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
            volume_id=vol_id,
            source_id=source_id,
            request=request,
            file_system_description=file_system.describe(self.tags_of(file_system.resource_arn)),
            volume_description=None
            if volume is None
            else volume.describe(self.tags_of(source_arn)),
        )
        self.backups_by_id[backup_id] = backup
        self.resource_arns.add(backup.resource_arn)
        self.latest_backup_by_source[source_id] = backup
        self._set_tags(backup.resource_arn, backup_tags)
        if token is not None:
            self.tokens[token] = TokenRecord(backup=backup, registered=now)
        return backup

    def _remembered_backup(
        self, token: str | None, request: BackupRequest | CopyRequest, now: float
    ) -> Backup | None:
        """The backup an earlier request with `token` made, if it asked for the same.

        CreateBackup and CopyBackup share the Region's tokens, so a token of one reused
        for the other is a reuse with other parameters too.
        """
        if token is None:
            return None
        record = self.tokens.get(token)
        if record is None:
            return None
        ttl = settings.token_ttl_seconds
        if ttl is not None and seconds_between(record.registered, now) > ttl:
            del self.tokens[token]
            return None
        existing = record.backup
        if existing.request != request:
            raise IncompatibleParameterError(
                "ClientRequestToken",
                f"ClientRequestToken '{token}' was already used with other parameters, by "
                f"the {existing.request.OPERATION} that made backup '{existing.backup_id}': "
                f"use a new token for a different request.",
            )
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

"""CopyBackup: copies of a backup into this Region, from this or another Region."""

from __future__ import annotations

from moto.utilities.utils import get_partition

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import (
    BackupNotFound,
    BadRequest,
    InvalidDestinationKmsKey,
    InvalidRegion,
    ServiceLimitExceeded,
    SourceBackupUnavailable,
    shown,
)
from fsx_emulator.models.backup import Backup, CopyRequest, in_progress
from fsx_emulator.models.backups import BackupsMixin
from fsx_emulator.models.requests import optional_bool, tag_key
from fsx_emulator.models.settings import new_id, settings
from fsx_emulator.models.state import BackendState
from fsx_emulator.models.timing import Timeline, clock

# CopyBackup's documentation in the model states this limit in prose only ("up to five
# backup copy requests in progress to a single destination Region per account").
COPY_REQUESTS_IN_PROGRESS_LIMIT = 5


class CopiesMixin(BackupsMixin):
    """The backup copy operation of the backend."""

    def copy_backup(
        self,
        source_backup_id: object,
        source_region: object,
        kms_key_id: object,
        copy_tags: object,
        tags: object,
        client_request_token: object,
    ) -> Backup:
        """Copy a backup of `source_region` (default: this Region) into this Region."""
        source_id = servicemodel.check_string(source_backup_id, "SourceBackupId", "SourceBackupId")
        region = (
            servicemodel.check_optional_string(source_region, "Region", "SourceRegion")
            or self.region_name
        )
        kms = servicemodel.check_optional_string(kms_key_id, "KmsKeyId", "KmsKeyId")
        copy_source_tags = optional_bool(copy_tags, "CopyTags")
        requested_tags = None if tags is None else servicemodel.check_tags(tags)
        token = servicemodel.check_optional_string(
            client_request_token, "ClientRequestToken", "ClientRequestToken"
        )
        request = CopyRequest(
            source_backup_id=source_id,
            source_region=region,
            kms_key_id=kms or self.default_kms_key_id,
            copy_tags=copy_source_tags,
            tags=tag_key(requested_tags),
        )
        now = clock.now()
        existing = self._remembered_backup(token, request, now)
        if existing is not None:
            return existing

        source_backend = self._source_region_backend(region)
        if kms is not None:
            self._check_destination_key(kms)
        source = source_backend.backups_by_id.get(source_id)
        if source is None:
            raise BackupNotFound(source_id, region)
        source_lifecycle = source.lifecycle(now)
        if source_lifecycle != "AVAILABLE":
            raise SourceBackupUnavailable(source_id, source_lifecycle)
        self.copies_in_progress = in_progress(self.copies_in_progress, now)
        if len(self.copies_in_progress) >= COPY_REQUESTS_IN_PROGRESS_LIMIT:
            raise ServiceLimitExceeded(
                "TOTAL_IN_PROGRESS_COPY_BACKUPS",
                f"{len(self.copies_in_progress)} backup copies to {self.region_name} are already "
                f"in progress, the most an account may have: retry when one is AVAILABLE "
                f"or FAILED.",
            )

        copy_tags_now = dict(requested_tags or {})
        if copy_source_tags:
            # The requested tags win over the source's on a key both have.
            copy_tags_now = {**source_backend.tags_of(source.resource_arn), **copy_tags_now}
        limit = servicemodel.FSX_MODEL.shape_for("Tags").metadata["max"]
        if len(copy_tags_now) > limit:
            raise BadRequest(
                f"Tags: the copy would have {len(copy_tags_now)} tags (the source backup's "
                f"and Tags merged); at most {limit} are allowed. Pass fewer Tags or set "
                f"CopyTags to false."
            )

        backup_id = new_id("backup")
        copy = Backup(
            backup_id=backup_id,
            resource_arn=f"{self.arn_prefix}:backup/{backup_id}",
            owner_id=self.account_id,
            kms_key_id=request.kms_key_id,
            creation_time=clock.wall(),
            timeline=Timeline(backup_id, now, settings.effective_copy_seconds),
            failure_message=settings.fail_next_copies.pop(source_id, None),
            resource_type=source.resource_type,
            file_system_id=source.file_system_id,
            file_system_type=source.file_system_type,
            volume_id=source.volume_id,
            source_id=source.source_id,
            request=request,
            file_system_description=source.file_system_description,
            volume_description=source.volume_description,
        )
        self.backups_by_id[backup_id] = copy
        self.resource_arns.add(copy.resource_arn)
        self.copies_in_progress.append(copy)
        source.copies = [*in_progress(source.copies, now), copy]
        self._set_tags(copy.resource_arn, copy_tags_now)
        self._remember(token, request, copy, now)
        return copy

    def _source_region_backend(self, region: str) -> BackendState:
        """The backend of this account in `region`, if FSx could copy from there to here."""
        backend = self.account_backend(region)
        if backend is None or get_partition(region) != self.partition:
            raise InvalidRegion(
                f"SourceRegion {shown(region)} is not a Region of FSx in the "
                f"{self.partition} partition, where this copy to {self.region_name} is made: "
                f"name the Region the source backup is in, in the same partition."
            )
        return backend

    def _check_destination_key(self, kms_key_id: str) -> None:
        if self._key_of_another_region(kms_key_id):
            raise InvalidDestinationKmsKey(
                f"KmsKeyId {shown(kms_key_id)} is not a KMS key of {self.region_name}, where "
                f"the copy is made: name a key of that Region, or none for its default key."
            )

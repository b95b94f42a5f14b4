"""DeleteFileSystem and DeleteVolume, with the final backups FSx takes on delete.

A deleted file system or volume is DELETING for the delete time, then gone: requests no
longer find it, its tags go, and the backups of it stay (backups outlive their source in
FSx, and so do their tokens).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import BadRequest, VolumeNotFound
from fsx_emulator.models.backup import Backup, BackupRequest
from fsx_emulator.models.backups import BackupsMixin
from fsx_emulator.models.requests import optional_bool, optional_mapping, tag_key, tag_list
from fsx_emulator.models.resources import CONFIGURATION_MEMBER, FileSystem, Volume
from fsx_emulator.models.settings import settings
from fsx_emulator.models.timing import Timeline, clock

# The file system types whose DeleteFileSystem takes a configuration, the member of the
# response that reports their final backup, and whether FSx takes one when
# SkipFinalBackup is not given. The model's documentation says so in prose: Windows and
# OpenZFS back up by default, Lustre does not ("Default = true" for its SkipFinalBackup).
FINAL_BACKUP_DEFAULTS = {
    "WINDOWS": ("WindowsResponse", True),
    "LUSTRE": ("LustreResponse", False),
    "OPENZFS": ("OpenZFSResponse", True),
}


class DeletesMixin(BackupsMixin):
    """The file system and volume deletes of the backend."""

    def delete_file_system(self, params: Mapping[str, Any]) -> dict[str, Any]:
        file_system_id = servicemodel.check_string(
            params.get("FileSystemId"), "FileSystemId", "FileSystemId"
        )
        self._check_token(params)
        file_system = self._file_system(file_system_id)
        fs_type = file_system.file_system_type
        for other_type in FINAL_BACKUP_DEFAULTS:
            member = CONFIGURATION_MEMBER[other_type]
            if other_type != fs_type and params.get(member) is not None:
                raise BadRequest(
                    f"{member} applies to deleting a {other_type} file system, but "
                    f"'{file_system_id}' is a {fs_type} file system."
                )
        now = clock.now()
        if file_system.delete_response is not None:
            # A retry of the delete (FSx documents its token as making deletes
            # idempotent) answers the same, and takes no second final backup.
            return file_system.delete_response
        self._check_deletable(f"File system '{file_system_id}'", file_system.lifecycle(now))
        if any(
            svm.file_system_id == file_system_id
            for svm in self.storage_virtual_machines_by_id.values()
        ):
            raise BadRequest(
                f"File system '{file_system_id}' still has storage virtual machines: delete "
                f"its volumes and storage virtual machines first."
            )

        response: dict[str, Any] = {"FileSystemId": file_system_id, "Lifecycle": "DELETING"}
        if fs_type in FINAL_BACKUP_DEFAULTS:
            member = CONFIGURATION_MEMBER[fs_type]
            response_member, backs_up_by_default = FINAL_BACKUP_DEFAULTS[fs_type]
            requested = optional_mapping(params.get(member), member)
            if requested is not None and requested.get("Options") is not None:
                # Checked, and nothing to do: the emulator has no child volumes.
                servicemodel.check_ids(
                    requested["Options"], "DeleteFileSystemOpenZFSOptions", f"{member}.Options"
                )
            final_tags = self._final_backup_tags(member, requested, backs_up_by_default)
            if final_tags is not None and file_system.lifecycle(now) == "AVAILABLE":
                if file_system.backup_refusal() is not None:
                    # Only Lustre gets here: scratch, or linked to a data repository.
                    raise BadRequest(
                        f"File system '{file_system_id}' cannot be backed up (a scratch or "
                        f"repository-linked Lustre file system), so it gets no final backup: "
                        f"set {member}.SkipFinalBackup to true."
                    )
                final = self._final_backup(file_system, None, final_tags, now)
                response[response_member] = self._final_backup_response(final)
        self._start_deletion(file_system, file_system_id, response, now)
        return response

    def delete_volume(self, params: Mapping[str, Any]) -> dict[str, Any]:
        volume_id = servicemodel.check_string(params.get("VolumeId"), "VolumeId", "VolumeId")
        self._check_token(params)
        requested = optional_mapping(params.get("OntapConfiguration"), "OntapConfiguration")
        volume = self.volumes_by_id.get(volume_id)
        if volume is None:
            raise VolumeNotFound(volume_id)
        if params.get("OpenZFSConfiguration") is not None:
            raise BadRequest(
                f"OpenZFSConfiguration applies to deleting OpenZFS volumes, but '{volume_id}' "
                f"is an ONTAP volume: use OntapConfiguration."
            )
        now = clock.now()
        if volume.delete_response is not None:
            return volume.delete_response
        self._check_deletable(f"Volume '{volume_id}'", volume.lifecycle(now))
        if requested is not None:
            # Accepted for the model's sake: the emulator has no SnapLock volumes.
            optional_bool(
                requested.get("BypassSnaplockEnterpriseRetention"),
                "OntapConfiguration.BypassSnaplockEnterpriseRetention",
            )

        response: dict[str, Any] = {"VolumeId": volume_id, "Lifecycle": "DELETING"}
        # FSx backs up an ONTAP volume on delete unless told not to.
        final_tags = self._final_backup_tags("OntapConfiguration", requested, True)
        if final_tags is not None and volume.lifecycle(now) == "CREATED":
            file_system = self._file_system(volume.file_system_id)
            final = self._final_backup(file_system, volume, final_tags, now)
            response["OntapResponse"] = self._final_backup_response(final)
        self._start_deletion(volume, volume_id, response, now)
        return response

    @staticmethod
    def _check_token(params: Mapping[str, Any]) -> None:
        servicemodel.check_optional_string(
            params.get("ClientRequestToken"), "ClientRequestToken", "ClientRequestToken"
        )

    @staticmethod
    def _check_deletable(what: str, lifecycle: str) -> None:
        if lifecycle == "CREATING":
            raise BadRequest(
                f"{what} is still CREATING: wait until it is ready or FAILED, then delete it."
            )

    @staticmethod
    def _final_backup_tags(
        member: str, requested: Mapping[str, Any] | None, backs_up_by_default: bool
    ) -> dict[str, str] | None:
        """The FinalBackupTags a delete asks for (empty: none given), or None when it
        takes no final backup."""
        requested = requested or {}
        skip = requested.get("SkipFinalBackup")
        skipped = (
            not backs_up_by_default
            if skip is None
            else optional_bool(skip, f"{member}.SkipFinalBackup")
        )
        tags = requested.get("FinalBackupTags")
        if skipped:
            if tags is not None:
                raise BadRequest(
                    f"{member}.FinalBackupTags tag the final backup, which this delete does not "
                    f"take: set {member}.SkipFinalBackup to false, or leave the tags out."
                )
            return None
        return {} if tags is None else servicemodel.check_tags(tags, f"{member}.FinalBackupTags")

    def _final_backup(
        self,
        file_system: FileSystem,
        volume: Volume | None,
        final_tags: dict[str, str],
        now: float,
    ) -> Backup:
        """A backup of the resource being deleted, made as CreateBackup makes one.

        Its Type is USER_INITIATED: the model's BackupType has no value for final
        backups, and FSx keeps them, unlike AUTOMATIC ones, until someone deletes them.
        Without FinalBackupTags it gets the source's tags if CopyTagsToBackups is set.
        """
        source_id = file_system.file_system_id if volume is None else volume.volume_id
        in_progress = self._backup_in_progress(source_id, now)
        if in_progress is not None:
            # BackupInProgress is not among the delete operations' errors.
            raise BadRequest(
                f"Backup '{in_progress.backup_id}' of '{source_id}' is still being created, "
                f"and a final backup cannot start beside it: wait until it is AVAILABLE or "
                f"FAILED, or skip the final backup."
            )
        request = BackupRequest(
            file_system_id=None if volume is not None else source_id,
            volume_id=None if volume is None else source_id,
            tags=tag_key(final_tags or None),
        )
        return self._start_backup(file_system, volume, final_tags or None, request, now)

    def _final_backup_response(self, final: Backup) -> dict[str, Any]:
        response: dict[str, Any] = {"FinalBackupId": final.backup_id}
        tags = self.tags_of(final.resource_arn)
        if tags:
            response["FinalBackupTags"] = tag_list(tags)
        return response

    def _start_deletion(
        self,
        resource: FileSystem | Volume,
        resource_id: str,
        response: dict[str, Any],
        now: float,
    ) -> None:
        resource.deletion = Timeline(resource_id, now, settings.effective_delete_seconds)
        resource.delete_response = response
        self.deleting.append(resource)

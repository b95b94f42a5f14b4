"""CreateFileSystemFromBackup and CreateVolumeFromBackup: restores of AVAILABLE backups.

A restored file system or volume is CREATING for the restore time, then AVAILABLE (a
volume: CREATED), or FAILED when `fail_next_restores` names its backup. Its settings are
the backed-up resource's, as the backup's description holds them, overridden by what the
request names.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from botocore.model import StructureShape

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import (
    BackupNotFound,
    BadRequest,
    InvalidNetworkSettings,
    MissingVolumeConfiguration,
    StorageVirtualMachineNotFound,
    shown,
)
from fsx_emulator.models.backup import Backup
from fsx_emulator.models.backups import BackupsMixin
from fsx_emulator.models.requests import optional_bool, optional_mapping
from fsx_emulator.models.resources import CONFIGURATION_MEMBER, FileSystem, Volume
from fsx_emulator.models.settings import new_id, settings
from fsx_emulator.models.timing import Timeline, clock
from fsx_emulator.models.tokens import RestoreRequest

# Members a restore request may set that the description echoes, each checked against
# the model shape of the same name.
_ECHOED_MEMBERS = ("NetworkType", "FileSystemTypeVersion")


class RestoresMixin(BackupsMixin):
    """The restore operations of the backend."""

    def create_file_system_from_backup(self, params: Mapping[str, Any]) -> FileSystem:
        backup_id = servicemodel.check_string(params.get("BackupId"), "BackupId", "BackupId")
        subnets = servicemodel.check_ids(params.get("SubnetIds"), "SubnetIds", "SubnetIds")
        if not subnets:
            raise BadRequest(
                "SubnetIds must name at least one subnet to restore the file system into."
            )
        if params.get("SecurityGroupIds") is not None:
            servicemodel.check_ids(
                params["SecurityGroupIds"], "SecurityGroupIds", "SecurityGroupIds"
            )
        token = self._token(params)
        new_tags = {} if params.get("Tags") is None else servicemodel.check_tags(params["Tags"])
        storage_type = servicemodel.check_optional_string(
            params.get("StorageType"), "StorageType", "StorageType"
        )
        kms = servicemodel.check_optional_string(params.get("KmsKeyId"), "KmsKeyId", "KmsKeyId")
        capacity = (
            None
            if params.get("StorageCapacity") is None
            else servicemodel.check_integer(
                params["StorageCapacity"], "StorageCapacity", "StorageCapacity"
            )
        )
        optional_members = {
            name: servicemodel.check_string(params[name], name, name)
            for name in _ECHOED_MEMBERS
            if params.get(name) is not None
        }
        request = RestoreRequest.of("CreateFileSystemFromBackup", params)
        now = clock.now()
        existing = self._remembered(token, request, now)
        if existing is not None:
            assert isinstance(existing, FileSystem)
            return existing

        backup = self._restorable(backup_id, now)
        if backup.resource_type != "FILE_SYSTEM":
            # The model lists no error for this case, and neither UnsupportedOperation
            # (which CreateFileSystemFromBackup cannot answer) nor IncompatibleParameterError
            # (documented as a token reused with other parameters) fits: the request names
            # the wrong kind of backup, a client error, so BadRequest.
            raise BadRequest(
                f"BackupId '{backup_id}' is a backup of volume '{backup.volume_id}', not of a "
                f"file system: restore it with CreateVolumeFromBackup."
            )
        source = backup.file_system_description
        fs_type = backup.file_system_type
        member = CONFIGURATION_MEMBER[fs_type]
        for other_type, other_member in CONFIGURATION_MEMBER.items():
            if other_type != fs_type and params.get(other_member) is not None:
                raise BadRequest(
                    f"{other_member} applies to FileSystemType {other_type}, but backup "
                    f"'{backup_id}' is of a {fs_type} file system."
                )
        if capacity is not None and capacity < source["StorageCapacity"]:
            raise BadRequest(
                f"StorageCapacity {capacity} is smaller than the {source['StorageCapacity']} "
                f"GiB of the file system backup '{backup_id}' was taken of: give at least that."
            )
        if kms is not None and self._key_of_another_region(kms):
            raise BadRequest(
                f"KmsKeyId {shown(kms)} is not a KMS key of {self.region_name}, where the file "
                f"system is restored: name a key of that Region, or none for the backup's key."
            )
        vpc_id = self._vpc_of(subnets)
        configuration = self._restored_configuration(
            fs_type, member, source[member], optional_mapping(params.get(member), member)
        )

        file_system_id = new_id("fs")
        file_system = FileSystem(
            file_system_id=file_system_id,
            file_system_type=fs_type,
            resource_arn=f"{self.arn_prefix}:file-system/{file_system_id}",
            owner_id=self.account_id,
            creation_time=clock.wall(),
            storage_capacity=capacity or source["StorageCapacity"],
            storage_type=storage_type or source["StorageType"],
            subnet_ids=subnets,
            vpc_id=vpc_id,
            network_interface_ids=[new_id("eni")],
            dns_name=f"{file_system_id}.fsx.{self.region_name}.amazonaws.com",
            kms_key_id=kms or backup.kms_key_id,
            configuration=configuration,
            optional_members=optional_members,
            creation=Timeline(file_system_id, now, settings.effective_restore_seconds),
            failure_message=settings.fail_next_restores.pop(backup_id, None),
            source_backup_id=backup_id,
        )
        self.file_systems_by_id[file_system_id] = file_system
        self.resource_arns.add(file_system.resource_arn)
        self._set_tags(file_system.resource_arn, new_tags)
        backup.restores = [*backup.restores_in_progress(now), file_system]
        self._remember(token, request, file_system, now)
        return file_system

    def create_volume_from_backup(self, params: Mapping[str, Any]) -> Volume:
        backup_id = servicemodel.check_string(params.get("BackupId"), "BackupId", "BackupId")
        volume_name = servicemodel.check_string(params.get("Name"), "VolumeName", "Name")
        token = self._token(params)
        new_tags = {} if params.get("Tags") is None else servicemodel.check_tags(params["Tags"])
        requested = optional_mapping(params.get("OntapConfiguration"), "OntapConfiguration")
        if requested is None:
            # The model leaves OntapConfiguration optional, but a volume needs an SVM to
            # live in and only this member names one.
            raise MissingVolumeConfiguration(
                "OntapConfiguration is required to restore a volume: name the "
                "StorageVirtualMachineId to restore it into."
            )
        svm_id = servicemodel.check_string(
            requested.get("StorageVirtualMachineId"),
            "StorageVirtualMachineId",
            "OntapConfiguration.StorageVirtualMachineId",
        )
        request = RestoreRequest.of("CreateVolumeFromBackup", params)
        now = clock.now()
        existing = self._remembered(token, request, now)
        if existing is not None:
            assert isinstance(existing, Volume)
            return existing

        backup = self._restorable(backup_id, now)
        if backup.resource_type != "VOLUME" or backup.volume_description is None:
            # As for a volume backup given to CreateFileSystemFromBackup: the wrong kind
            # of backup is a client error the model has no narrower code for.
            raise BadRequest(
                f"BackupId '{backup_id}' is a backup of {backup.file_system_type} file system "
                f"'{backup.file_system_id}', not of an ONTAP volume: restore it with "
                f"CreateFileSystemFromBackup."
            )
        svm = self.storage_virtual_machines_by_id.get(svm_id)
        if svm is None:
            raise StorageVirtualMachineNotFound(svm_id)
        shape = servicemodel.member_shape("Volume", "OntapConfiguration")
        configuration: dict[str, Any] = copy.deepcopy(
            backup.volume_description["OntapConfiguration"]
        )
        # The junction path is where the backed-up volume is mounted in its SVM; the
        # restored one is mounted only where the request says.
        configuration.pop("JunctionPath", None)
        configuration.update(servicemodel.project(requested, shape))
        if "CopyTagsToBackups" in requested:
            configuration["CopyTagsToBackups"] = optional_bool(
                requested["CopyTagsToBackups"], "OntapConfiguration.CopyTagsToBackups"
            )
        configuration.update(
            StorageVirtualMachineId=svm_id, UUID=str(uuid4()), StorageVirtualMachineRoot=False
        )

        volume_id = new_id("fsvol")
        volume = Volume(
            volume_id=volume_id,
            file_system_id=svm.file_system_id,
            storage_virtual_machine_id=svm_id,
            name=volume_name,
            resource_arn=f"{self.arn_prefix}:volume/{svm.file_system_id}/{volume_id}",
            creation_time=clock.wall(),
            ontap_configuration=configuration,
            creation=Timeline(volume_id, now, settings.effective_restore_seconds),
            failure_message=settings.fail_next_restores.pop(backup_id, None),
            source_backup_id=backup_id,
        )
        self.volumes_by_id[volume_id] = volume
        self.resource_arns.add(volume.resource_arn)
        self._set_tags(volume.resource_arn, new_tags)
        backup.restores = [*backup.restores_in_progress(now), volume]
        self._remember(token, request, volume, now)
        return volume

    @staticmethod
    def _token(params: Mapping[str, Any]) -> str | None:
        return servicemodel.check_optional_string(
            params.get("ClientRequestToken"), "ClientRequestToken", "ClientRequestToken"
        )

    def _restorable(self, backup_id: str, now: float) -> Backup:
        """The backup `backup_id` of this Region, if it can be restored now."""
        backup = self.backups_by_id.get(backup_id)
        if backup is None:
            raise BackupNotFound(backup_id)
        lifecycle = backup.lifecycle(now)
        if lifecycle != "AVAILABLE":
            # FSx answers BadRequest here; the model has no narrower code for restores.
            raise BadRequest(
                f"Backup '{backup_id}' is {lifecycle}: only an AVAILABLE backup can be "
                f"restored. Wait until it is AVAILABLE, then retry."
            )
        return backup

    def _vpc_of(self, subnet_ids: list[str]) -> str:
        """The VPC of the subnets a restore names, all known and all in one VPC."""
        for subnet in subnet_ids:
            if not self.subnet_known(subnet):
                raise InvalidNetworkSettings(
                    f"SubnetIds: subnet '{subnet}' is not known in {self.region_name}. The "
                    f"emulator knows the subnets of the file systems created in this Region "
                    f"and those registered with it (POST /_emulator/subnets).",
                    invalid_subnet_id=subnet,
                )
        vpc_ids = {self.subnet_vpcs.get(subnet) for subnet in subnet_ids} - {None}
        if len(vpc_ids) > 1:
            raise InvalidNetworkSettings(
                f"SubnetIds {subnet_ids} are in different VPCs ({sorted(map(str, vpc_ids))}): "
                f"name subnets of one VPC.",
                invalid_subnet_id=subnet_ids[-1],
            )
        return self.register_subnets(subnet_ids)

    @staticmethod
    def _restored_configuration(
        fs_type: str, member: str, backed_up: Mapping[str, Any], requested: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The backed-up file system's configuration with the request's overrides.

        What identifies the backed-up file system itself (its Lustre mount name, its
        OpenZFS root volume) is minted anew.
        """
        shape = servicemodel.member_shape("FileSystem", member)
        assert isinstance(shape, StructureShape)
        configuration: dict[str, Any] = copy.deepcopy(dict(backed_up))
        if requested is not None:
            configuration.update(servicemodel.project(requested, shape))
            if "CopyTagsToBackups" in requested:
                configuration["CopyTagsToBackups"] = optional_bool(
                    requested["CopyTagsToBackups"], f"{member}.CopyTagsToBackups"
                )
            if fs_type == "LUSTRE" and "DeploymentType" in requested:
                servicemodel.check_string(
                    requested["DeploymentType"],
                    "LustreDeploymentType",
                    f"{member}.DeploymentType",
                )
        if fs_type == "LUSTRE":
            configuration["MountName"] = uuid4().hex[:8]
        elif fs_type == "OPENZFS":
            configuration["RootVolumeId"] = new_id("fsvol")
        return configuration

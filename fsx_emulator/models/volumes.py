"""Storage virtual machines and ONTAP volumes: create and describe."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import (
    BadRequest,
    MissingVolumeConfiguration,
    StorageVirtualMachineNotFound,
    UnsupportedOperation,
    VolumeNotFound,
)
from fsx_emulator.models.requests import optional_bool, optional_mapping, page, select_by_ids
from fsx_emulator.models.resources import StorageVirtualMachine, Volume
from fsx_emulator.models.settings import new_id
from fsx_emulator.models.state import BackendState
from fsx_emulator.models.timing import clock


class VolumesMixin(BackendState):
    """The storage virtual machine and volume operations of the backend."""

    def create_storage_virtual_machine(
        self,
        file_system_id: object,
        name: object,
        tags: object,
        root_volume_security_style: object,
    ) -> StorageVirtualMachine:
        fs_id = servicemodel.check_string(file_system_id, "FileSystemId", "FileSystemId")
        svm_name = servicemodel.check_string(name, "StorageVirtualMachineName", "Name")
        security_style = servicemodel.check_optional_string(
            root_volume_security_style,
            "StorageVirtualMachineRootVolumeSecurityStyle",
            "RootVolumeSecurityStyle",
        )
        new_tags = {} if tags is None else servicemodel.check_tags(tags)
        file_system = self._file_system(fs_id)
        if file_system.file_system_type != "ONTAP":
            raise BadRequest(
                f"File system '{fs_id}' is of type {file_system.file_system_type}: storage "
                f"virtual machines exist only on ONTAP file systems."
            )
        lifecycle = file_system.lifecycle(clock.now())
        if lifecycle != "AVAILABLE":
            raise BadRequest(
                f"File system '{fs_id}' is {lifecycle}: storage virtual machines are "
                f"created on AVAILABLE file systems only."
            )
        svm_id = new_id("svm")
        svm = StorageVirtualMachine(
            storage_virtual_machine_id=svm_id,
            file_system_id=fs_id,
            name=svm_name,
            resource_arn=f"{self.arn_prefix}:storage-virtual-machine/{fs_id}/{svm_id}",
            creation_time=clock.wall(),
            uuid=str(uuid4()),
            root_volume_security_style=security_style,
        )
        self.storage_virtual_machines_by_id[svm_id] = svm
        self.resource_arns.add(svm.resource_arn)
        self._set_tags(svm.resource_arn, new_tags)
        return svm

    def describe_storage_virtual_machines(
        self,
        storage_virtual_machine_ids: object,
        filters: object,
        max_results: object,
        next_token: object,
    ) -> tuple[list[StorageVirtualMachine], str | None]:
        selected = select_by_ids(
            storage_virtual_machine_ids,
            "StorageVirtualMachineIds",
            "StorageVirtualMachineIds",
            self.storage_virtual_machines_by_id,
            StorageVirtualMachineNotFound,
        )
        if filters is not None:
            wanted = servicemodel.check_filters(filters, "StorageVirtualMachineFilters")
            selected = [
                svm
                for svm in selected
                if all(svm.file_system_id in values for values in wanted.values())
            ]
        return page(
            selected,
            "storage_virtual_machine_id",
            max_results,
            next_token,
            {"ids": storage_virtual_machine_ids, "filters": filters},
        )

    def create_volume(
        self,
        volume_type: object,
        name: object,
        ontap_configuration: object,
        tags: object,
    ) -> Volume:
        kind = servicemodel.check_string(volume_type, "VolumeType", "VolumeType")
        if kind != "ONTAP":
            raise UnsupportedOperation(
                f"VolumeType {kind}: the FSx emulator implements ONTAP volumes only."
            )
        volume_name = servicemodel.check_string(name, "VolumeName", "Name")
        requested = optional_mapping(ontap_configuration, "OntapConfiguration")
        if requested is None:
            raise MissingVolumeConfiguration(
                "OntapConfiguration is required to create a volume of type ONTAP."
            )
        svm_id = servicemodel.check_string(
            requested.get("StorageVirtualMachineId"),
            "StorageVirtualMachineId",
            "OntapConfiguration.StorageVirtualMachineId",
        )
        copy_tags = optional_bool(
            requested.get("CopyTagsToBackups"), "OntapConfiguration.CopyTagsToBackups"
        )
        new_tags = {} if tags is None else servicemodel.check_tags(tags)
        svm = self.storage_virtual_machines_by_id.get(svm_id)
        if svm is None:
            raise StorageVirtualMachineNotFound(svm_id)

        configuration: dict[str, Any] = servicemodel.project(
            requested, servicemodel.member_shape("Volume", "OntapConfiguration")
        )
        configuration.update(
            StorageVirtualMachineId=svm_id,
            CopyTagsToBackups=copy_tags,
            UUID=str(uuid4()),
            StorageVirtualMachineRoot=False,
            FlexCacheEndpointType="NONE",
        )
        configuration.setdefault("OntapVolumeType", "RW")
        volume_id = new_id("fsvol")
        volume = Volume(
            volume_id=volume_id,
            file_system_id=svm.file_system_id,
            storage_virtual_machine_id=svm_id,
            name=volume_name,
            resource_arn=f"{self.arn_prefix}:volume/{svm.file_system_id}/{volume_id}",
            creation_time=clock.wall(),
            ontap_configuration=configuration,
        )
        self.volumes_by_id[volume_id] = volume
        self.resource_arns.add(volume.resource_arn)
        self._set_tags(volume.resource_arn, new_tags)
        return volume

    def describe_volumes(
        self,
        volume_ids: object,
        filters: object,
        max_results: object,
        next_token: object,
    ) -> tuple[list[Volume], str | None]:
        selected = select_by_ids(
            volume_ids, "VolumeIds", "VolumeIds", self.volumes_by_id, VolumeNotFound
        )
        if filters is not None:
            wanted = servicemodel.check_filters(filters, "VolumeFilters")
            attribute = {
                "file-system-id": lambda volume: volume.file_system_id,
                "storage-virtual-machine-id": lambda volume: volume.storage_virtual_machine_id,
            }
            selected = [
                volume
                for volume in selected
                if all(attribute[name](volume) in values for name, values in wanted.items())
            ]
        return page(
            selected,
            "volume_id",
            max_results,
            next_token,
            {"ids": volume_ids, "filters": filters},
        )

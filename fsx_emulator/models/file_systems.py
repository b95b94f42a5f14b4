"""CreateFileSystem and DescribeFileSystems (DeleteFileSystem is in deletes.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from botocore.model import StructureShape

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import BadRequest, FileSystemNotFound, MissingFileSystemConfiguration
from fsx_emulator.models.requests import optional_bool, optional_mapping, page, select_by_ids
from fsx_emulator.models.resources import CONFIGURATION_MEMBER, FileSystem
from fsx_emulator.models.settings import new_id
from fsx_emulator.models.state import BackendState
from fsx_emulator.models.timing import clock


class FileSystemsMixin(BackendState):
    """The file system operations of the backend."""

    def create_file_system(
        self,
        file_system_type: object,
        storage_capacity: object,
        storage_type: object,
        subnet_ids: object,
        tags: object,
        kms_key_id: object,
        configurations: Mapping[str, object],
    ) -> FileSystem:
        """`configurations` maps each CONFIGURATION_MEMBER name to the request's value."""
        fs_type = servicemodel.check_string(file_system_type, "FileSystemType", "FileSystemType")
        if storage_capacity is None:
            raise BadRequest("StorageCapacity is required: give the file system's size in GiB.")
        capacity = servicemodel.check_integer(
            storage_capacity, "StorageCapacity", "StorageCapacity"
        )
        storage = servicemodel.check_string(storage_type or "SSD", "StorageType", "StorageType")
        subnets = servicemodel.check_ids(subnet_ids, "SubnetIds", "SubnetIds")
        if not subnets:
            raise BadRequest("SubnetIds must name at least one subnet.")
        kms = servicemodel.check_optional_string(kms_key_id, "KmsKeyId", "KmsKeyId")
        new_tags = {} if tags is None else servicemodel.check_tags(tags)
        member = CONFIGURATION_MEMBER[fs_type]
        for other_type, other_member in CONFIGURATION_MEMBER.items():
            if other_type != fs_type and configurations.get(other_member) is not None:
                raise BadRequest(
                    f"{other_member} applies to FileSystemType {other_type}, not {fs_type}."
                )
        requested = optional_mapping(configurations.get(member), member)
        if requested is None and fs_type != "LUSTRE":
            raise MissingFileSystemConfiguration(
                f"{member} is required to create a file system of type {fs_type}."
            )
        configuration = self._file_system_configuration(fs_type, member, requested or {})

        file_system_id = new_id("fs")
        file_system = FileSystem(
            file_system_id=file_system_id,
            file_system_type=fs_type,
            resource_arn=f"{self.arn_prefix}:file-system/{file_system_id}",
            owner_id=self.account_id,
            creation_time=clock.wall(),
            storage_capacity=capacity,
            storage_type=storage,
            subnet_ids=subnets,
            vpc_id=self.register_subnets(subnets),
            network_interface_ids=[new_id("eni")],
            dns_name=f"{file_system_id}.fsx.{self.region_name}.amazonaws.com",
            kms_key_id=kms or self.default_kms_key_id,
            configuration=configuration,
        )
        self.file_systems_by_id[file_system_id] = file_system
        self.resource_arns.add(file_system.resource_arn)
        self._set_tags(file_system.resource_arn, new_tags)
        return file_system

    def _file_system_configuration(
        self, fs_type: str, member: str, requested: Mapping[str, Any]
    ) -> dict[str, Any]:
        shape = servicemodel.member_shape("FileSystem", member)
        assert isinstance(shape, StructureShape)
        configuration: dict[str, Any] = servicemodel.project(requested, shape)
        if "CopyTagsToBackups" in shape.members:
            configuration["CopyTagsToBackups"] = optional_bool(
                requested.get("CopyTagsToBackups"), f"{member}.CopyTagsToBackups"
            )
        if fs_type == "LUSTRE":
            # SCRATCH_1 is what FSx creates when no deployment type is given.
            configuration["DeploymentType"] = servicemodel.check_string(
                requested.get("DeploymentType", "SCRATCH_1"),
                "LustreDeploymentType",
                f"{member}.DeploymentType",
            )
            configuration["MountName"] = uuid4().hex[:8]
            import_path = servicemodel.check_optional_string(
                requested.get("ImportPath"), "ArchivePath", f"{member}.ImportPath"
            )
            if import_path is not None:
                repository: dict[str, Any] = {
                    "Lifecycle": "AVAILABLE",
                    "ImportPath": import_path,
                    "ImportedFileChunkSize": requested.get("ImportedFileChunkSize", 1024),
                    "AutoImportPolicy": requested.get("AutoImportPolicy", "NONE"),
                }
                if "ExportPath" in requested:
                    repository["ExportPath"] = servicemodel.check_string(
                        requested["ExportPath"], "ArchivePath", f"{member}.ExportPath"
                    )
                configuration["DataRepositoryConfiguration"] = repository
        elif fs_type == "WINDOWS":
            configuration.setdefault("DeploymentType", "SINGLE_AZ_1")
        elif fs_type == "OPENZFS":
            configuration["RootVolumeId"] = new_id("fsvol")
        return configuration

    def describe_file_systems(
        self, file_system_ids: object, max_results: object, next_token: object
    ) -> tuple[list[FileSystem], str | None]:
        selected = select_by_ids(
            file_system_ids,
            "FileSystemIds",
            "FileSystemIds",
            self.file_systems_by_id,
            FileSystemNotFound,
        )
        return page(
            selected,
            "file_system_id",
            max_results,
            next_token,
            {"file_system_ids": file_system_ids},
        )

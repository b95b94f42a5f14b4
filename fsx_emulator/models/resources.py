"""File systems, storage virtual machines and ONTAP volumes: what a backup is made of."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fsx_emulator.exceptions import BadRequest, UnsupportedOperation
from fsx_emulator.models.requests import tag_list
from fsx_emulator.models.timing import Timeline

# Which request/description member carries each file system type's configuration:
# the model names the members but does not tie them to FileSystemType values.
CONFIGURATION_MEMBER = {
    "WINDOWS": "WindowsConfiguration",
    "LUSTRE": "LustreConfiguration",
    "ONTAP": "OntapConfiguration",
    "OPENZFS": "OpenZFSConfiguration",
}

ONTAP_FILE_SYSTEM_BACKUP_MESSAGE = "ONTAP file system backup is unsupported."


@dataclass(eq=False, kw_only=True)
class Provisioned:
    """What the lifecycle of a file system or volume is derived from, read off the clock.

    Made by CreateFileSystem or CreateVolume, a resource is ready at once; restored from
    a backup, it is CREATING for the restore time, then ready or FAILED. Deleted, it is
    DELETING for the delete time, then gone.
    """

    # None: ready at once.
    creation: Timeline | None = None
    failure_message: str | None = None
    # The backup it was restored from, if it was.
    source_backup_id: str | None = None
    # Set by the delete, with what the delete answered (a retry answers the same).
    deletion: Timeline | None = None
    delete_response: dict[str, Any] | None = None
    # The tags it had when it was gone; None while it exists.
    tags_at_deletion: dict[str, str] | None = None

    # The lifecycle a resource of this kind reports when it is ready.
    READY: ClassVar[str] = "AVAILABLE"

    def creating(self, now: float) -> bool:
        return self.creation is not None and not self.creation.finished(now)

    def gone(self, now: float) -> bool:
        return self.deletion is not None and self.deletion.finished(now)

    def lifecycle(self, now: float) -> str:
        if self.deletion is not None:
            return "DELETING"
        if self.creating(now):
            return "CREATING"
        return self.READY if self.failure_message is None else "FAILED"


@dataclass(eq=False)
class FileSystem(Provisioned):
    file_system_id: str
    file_system_type: str
    resource_arn: str
    owner_id: str
    creation_time: float
    storage_capacity: int
    storage_type: str
    subnet_ids: list[str]
    vpc_id: str
    network_interface_ids: list[str]
    dns_name: str
    kms_key_id: str
    configuration: dict[str, Any]
    # Members of the description that only some requests set (NetworkType, ...).
    optional_members: dict[str, Any] = field(default_factory=dict)

    @property
    def copy_tags_to_backups(self) -> bool:
        return self.configuration.get("CopyTagsToBackups") is True

    def backup_refusal(self) -> Exception | None:
        """Why FSx refuses a file-system-level backup of this file system, if it does."""
        if self.file_system_type == "ONTAP":
            return UnsupportedOperation(ONTAP_FILE_SYSTEM_BACKUP_MESSAGE)
        if self.file_system_type != "LUSTRE":
            return None
        deployment_type = self.configuration["DeploymentType"]
        if not deployment_type.startswith("PERSISTENT"):
            return BadRequest(
                f"File system '{self.file_system_id}' has Lustre deployment type "
                f"{deployment_type}: FSx backs up only persistent Lustre file systems. "
                f"Back up a PERSISTENT_1 or PERSISTENT_2 file system instead."
            )
        if "DataRepositoryConfiguration" in self.configuration:
            return BadRequest(
                f"File system '{self.file_system_id}' is linked to a data repository: "
                f"FSx backs up only Lustre file systems that are not linked to one."
            )
        return None

    def describe(self, tags: Mapping[str, str], now: float) -> dict[str, Any]:
        lifecycle = self.lifecycle(now)
        description = {
            "OwnerId": self.owner_id,
            "CreationTime": self.creation_time,
            "FileSystemId": self.file_system_id,
            "FileSystemType": self.file_system_type,
            "Lifecycle": lifecycle,
            "StorageCapacity": self.storage_capacity,
            "StorageType": self.storage_type,
            "VpcId": self.vpc_id,
            "SubnetIds": list(self.subnet_ids),
            "NetworkInterfaceIds": list(self.network_interface_ids),
            "DNSName": self.dns_name,
            "KmsKeyId": self.kms_key_id,
            "ResourceARN": self.resource_arn,
            "Tags": tag_list(tags),
            CONFIGURATION_MEMBER[self.file_system_type]: self.configuration,
            **self.optional_members,
        }
        if lifecycle == "FAILED" and self.failure_message is not None:
            description["FailureDetails"] = {"Message": self.failure_message}
        return description


@dataclass(eq=False)
class StorageVirtualMachine:
    storage_virtual_machine_id: str
    file_system_id: str
    name: str
    resource_arn: str
    creation_time: float
    uuid: str
    root_volume_security_style: str | None

    def describe(self, tags: Mapping[str, str]) -> dict[str, Any]:
        description: dict[str, Any] = {
            "CreationTime": self.creation_time,
            "FileSystemId": self.file_system_id,
            "Lifecycle": "CREATED",
            "Name": self.name,
            "ResourceARN": self.resource_arn,
            "StorageVirtualMachineId": self.storage_virtual_machine_id,
            "Subtype": "DEFAULT",
            "UUID": self.uuid,
            "Tags": tag_list(tags),
        }
        if self.root_volume_security_style is not None:
            description["RootVolumeSecurityStyle"] = self.root_volume_security_style
        return description


@dataclass(eq=False)
class Volume(Provisioned):
    """An ONTAP volume; FSx reports a ready one CREATED."""

    READY: ClassVar[str] = "CREATED"

    volume_id: str
    file_system_id: str
    storage_virtual_machine_id: str
    name: str
    resource_arn: str
    creation_time: float
    ontap_configuration: dict[str, Any]

    @property
    def copy_tags_to_backups(self) -> bool:
        return self.ontap_configuration.get("CopyTagsToBackups") is True

    def describe(self, tags: Mapping[str, str], now: float) -> dict[str, Any]:
        lifecycle = self.lifecycle(now)
        description: dict[str, Any] = {
            "CreationTime": self.creation_time,
            "FileSystemId": self.file_system_id,
            "Lifecycle": lifecycle,
            "Name": self.name,
            "OntapConfiguration": self.ontap_configuration,
            "ResourceARN": self.resource_arn,
            "Tags": tag_list(tags),
            "VolumeId": self.volume_id,
            "VolumeType": "ONTAP",
        }
        # The model gives a volume no FailureDetails; this is where FSx says why.
        if lifecycle == "FAILED" and self.failure_message is not None:
            description["LifecycleTransitionReason"] = {"Message": self.failure_message}
        return description

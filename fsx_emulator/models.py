"""FSx state and rules: file systems, storage virtual machines, ONTAP volumes and backups.

Shaped as moto shapes a service (`moto/fsx/models.py`): `EmulatorFSxBackend` is a moto
`BaseBackend`, one per account and Region through `BackendDict` (so a request is served
by the backend of the Region it is signed for, and `reset()` starts it afresh), tagging
through moto's `TaggingService`. It holds what a backup provider is tested against and
moto's own FSx backend lacks (see EMULATOR_NOTES.md): IDs in AWS's 17-hex format,
idempotency tokens, backup lifecycles, BackupInProgress, volumes and SVMs, FSx's rules on
which sources can be backed up, and backup copies across Regions.

moto's FSxBackend and its FileSystem and Backup entities are not reused: they mint 8-hex
IDs, tag themselves on construction, describe themselves by echoing request
configuration the model's description shapes do not hold, and their methods take and
return other things than these do, so a subclass would keep nothing of them but the name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import uuid4

from botocore.model import StructureShape
from botocore.utils import ArnParser, InvalidArnException
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import InvalidToken
from moto.utilities.paginator import Paginator
from moto.utilities.tagging_service import TaggingService
from moto.utilities.utils import get_partition

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import (
    BackupBeingCopied,
    BackupInProgress,
    BackupNotFound,
    BadRequest,
    FileSystemNotFound,
    IncompatibleParameterError,
    InvalidDestinationKmsKey,
    InvalidRegion,
    MissingFileSystemConfiguration,
    MissingVolumeConfiguration,
    ResourceNotFound,
    ServiceLimitExceeded,
    SourceBackupUnavailable,
    StorageVirtualMachineNotFound,
    UnsupportedOperation,
    VolumeNotFound,
    shown,
)

# All FSx state in the process sits behind one lock. Requests spend well under a
# millisecond inside it, so finer locks would buy nothing but ordering bugs.
STATE_LOCK = threading.RLock()

# Which request/description member carries each file system type's configuration:
# the model names the members but does not tie them to FileSystemType values.
CONFIGURATION_MEMBER = {
    "WINDOWS": "WindowsConfiguration",
    "LUSTRE": "LustreConfiguration",
    "ONTAP": "OntapConfiguration",
    "OPENZFS": "OpenZFSConfiguration",
}

ONTAP_FILE_SYSTEM_BACKUP_MESSAGE = "ONTAP file system backup is unsupported."

# CopyBackup's documentation in the model states this limit in prose only ("up to five
# backup copy requests in progress to a single destination Region per account").
COPY_REQUESTS_IN_PROGRESS_LIMIT = 5
# A copy is PENDING (FSx has accepted it, nothing is copied yet) for this share of its
# copy time, then COPYING for the rest.
COPY_PENDING_SHARE = 0.2

_T = TypeVar("_T")


@dataclass
class EmulatorSettings:
    """Run-time knobs shared by every account and region the emulator serves."""

    backup_seconds: float = 3.0
    # None: copies take the backup_seconds in force when they are made.
    copy_seconds: float | None = None
    token_ttl_seconds: float | None = None
    # Source (file system or volume) ID -> FailureDetails.Message of its next backup.
    fail_next_backups: dict[str, str] = field(default_factory=dict)
    # Source backup ID -> FailureDetails.Message of its next copy.
    fail_next_copies: dict[str, str] = field(default_factory=dict)

    @property
    def effective_copy_seconds(self) -> float:
        return self.backup_seconds if self.copy_seconds is None else self.copy_seconds


settings = EmulatorSettings()


def _new_id(prefix: str) -> str:
    # AWS mints 17 hex digits after the prefix; the model's patterns allow 8 or more.
    return f"{prefix}-{uuid4().hex[:17]}"


@dataclass(eq=False)
class FileSystem:
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

    def describe(self, tags: Mapping[str, str]) -> dict[str, Any]:
        return {
            "OwnerId": self.owner_id,
            "CreationTime": self.creation_time,
            "FileSystemId": self.file_system_id,
            "FileSystemType": self.file_system_type,
            "Lifecycle": "AVAILABLE",
            "StorageCapacity": self.storage_capacity,
            "StorageType": self.storage_type,
            "VpcId": self.vpc_id,
            "SubnetIds": list(self.subnet_ids),
            "NetworkInterfaceIds": list(self.network_interface_ids),
            "DNSName": self.dns_name,
            "KmsKeyId": self.kms_key_id,
            "ResourceARN": self.resource_arn,
            "Tags": _tag_list(tags),
            CONFIGURATION_MEMBER[self.file_system_type]: self.configuration,
        }


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
            "Tags": _tag_list(tags),
        }
        if self.root_volume_security_style is not None:
            description["RootVolumeSecurityStyle"] = self.root_volume_security_style
        return description


@dataclass(eq=False)
class Volume:
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

    def describe(self, tags: Mapping[str, str]) -> dict[str, Any]:
        return {
            "CreationTime": self.creation_time,
            "FileSystemId": self.file_system_id,
            "Lifecycle": "CREATED",
            "Name": self.name,
            "OntapConfiguration": self.ontap_configuration,
            "ResourceARN": self.resource_arn,
            "Tags": _tag_list(tags),
            "VolumeId": self.volume_id,
            "VolumeType": "ONTAP",
        }


@dataclass(frozen=True)
class BackupRequest:
    """The CreateBackup parameters an idempotency token is bound to."""

    file_system_id: str | None
    volume_id: str | None
    tags: tuple[tuple[str, str], ...] | None

    # Named in IncompatibleParameterError's message.
    OPERATION = "CreateBackup"


@dataclass(frozen=True)
class CopyRequest:
    """The CopyBackup parameters an idempotency token is bound to.

    The Region and key are the ones in effect, so leaving SourceRegion or KmsKeyId out and
    naming their defaults are the same parameters.
    """

    source_backup_id: str
    source_region: str
    kms_key_id: str
    copy_tags: bool
    tags: tuple[tuple[str, str], ...] | None

    OPERATION = "CopyBackup"


def _tag_key(tags: Mapping[str, str] | None) -> tuple[tuple[str, str], ...] | None:
    """Tags as idempotency compares them: their order in the request does not matter."""
    return None if tags is None else tuple(sorted(tags.items()))


@dataclass(eq=False)
class Backup:
    """A user-initiated backup or backup copy, whose lifecycle is derived from the clock.

    Deriving CREATING (a copy: PENDING, COPYING) -> AVAILABLE/FAILED lazily from the
    elapsed time needs no background thread and makes every description consistent with
    the moment it is read.
    """

    backup_id: str
    resource_arn: str
    owner_id: str
    kms_key_id: str
    creation_time: float
    started: float
    duration: float
    failure_message: str | None
    resource_type: str
    file_system_id: str
    file_system_type: str
    volume_id: str | None
    source_id: str
    request: BackupRequest | CopyRequest
    file_system_description: dict[str, Any]
    volume_description: dict[str, Any] | None
    # The tags the backup had when it was deleted; None while it exists.
    tags_at_deletion: dict[str, str] | None = None
    # Copies of this backup into any Region that may be in progress: while one is, the
    # backup cannot be deleted.
    copies: list[Backup] = field(default_factory=list)

    @property
    def copied_from(self) -> CopyRequest | None:
        return self.request if isinstance(self.request, CopyRequest) else None

    def finished(self, now: float) -> bool:
        return now - self.started >= self.duration

    def _work_started(self) -> float:
        """When, after `started`, the data starts to move (a copy waits PENDING first)."""
        return self.started + (
            0.0 if self.copied_from is None else COPY_PENDING_SHARE * self.duration
        )

    def lifecycle(self, now: float) -> str:
        if self.tags_at_deletion is not None:
            return "DELETED"
        if not self.finished(now):
            if self.copied_from is None:
                return "CREATING"
            return "PENDING" if now < self._work_started() else "COPYING"
        return "AVAILABLE" if self.failure_message is None else "FAILED"

    def progress_percent(self, now: float) -> int:
        if not self.finished(now):
            work_started = self._work_started()
            if now < work_started:
                return 0
            # Never 100 while in progress: a poller must see AVAILABLE to know it is done.
            working = self.started + self.duration - work_started
            return min(99, int(100 * (now - work_started) / working))
        # A failed backup produced nothing usable, so it reports no progress.
        return 0 if self.failure_message is not None else 100

    def copy_in_progress(self, now: float) -> Backup | None:
        return next((copy for copy in self.copies if not copy.finished(now)), None)

    def describe(self, tags: Mapping[str, str], now: float) -> dict[str, Any]:
        lifecycle = self.lifecycle(now)
        description: dict[str, Any] = {
            "BackupId": self.backup_id,
            "Lifecycle": lifecycle,
            "Type": "USER_INITIATED",
            "ProgressPercent": self.progress_percent(now),
            "CreationTime": self.creation_time,
            "KmsKeyId": self.kms_key_id,
            "ResourceARN": self.resource_arn,
            "Tags": _tag_list(tags),
            "FileSystem": self.file_system_description,
            "OwnerId": self.owner_id,
            "ResourceType": self.resource_type,
        }
        if self.volume_description is not None:
            description["Volume"] = self.volume_description
        if self.copied_from is not None:
            description["SourceBackupId"] = self.copied_from.source_backup_id
            description["SourceBackupRegion"] = self.copied_from.source_region
        if lifecycle == "FAILED" and self.failure_message is not None:
            description["FailureDetails"] = {"Message": self.failure_message}
        return description


def _in_progress(backups: list[Backup], now: float) -> list[Backup]:
    return [backup for backup in backups if not backup.finished(now)]


@dataclass
class TokenRecord:
    backup: Backup
    registered: float


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _optional_mapping(value: object, field_name: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadRequest(f"{field_name} must be an object.")
    return value


def _optional_bool(value: object, field_name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"{field_name} must be true or false.")
    return value


def _select_by_ids(
    ids: object,
    list_shape: str,
    field_name: str,
    store: Mapping[str, _T],
    not_found: Callable[[str], Exception],
) -> list[_T]:
    """The resources named by `ids` in request order (duplicates once), or all of them."""
    if ids is None or ids == []:
        return list(store.values())
    selected: dict[str, _T] = {}
    for resource_id in servicemodel.check_ids(ids, list_shape, field_name):
        resource = store.get(resource_id)
        if resource is None:
            raise not_found(resource_id)
        selected[resource_id] = resource
    return list(selected.values())


def _page(
    items: Sequence[_T],
    unique_attribute: str,
    max_results: object,
    next_token: object,
    query: dict[str, Any],
) -> tuple[list[_T], str | None]:
    """One page of `items`, with moto's paginator and the model's MaxResults/NextToken rules.

    The token names the first item of the next page, so a page boundary survives
    resources created or deleted between calls, as long as that item still exists.
    """
    limit = (
        None
        if max_results is None
        else servicemodel.check_integer(max_results, "MaxResults", "MaxResults")
    )
    token = servicemodel.check_optional_string(next_token, "NextToken", "NextToken")
    try:
        paginator = Paginator(
            max_results=limit,
            # Without MaxResults everything comes in one page, as moto answers too.
            max_results_default=len(items) or 1,
            starting_token=token,
            unique_attribute=unique_attribute,
            param_values_to_check=query,
        )
        page, following = paginator.paginate(list(items))
    except InvalidToken as error:
        raise BadRequest(
            "NextToken is not valid for this request: pass the NextToken of the previous "
            "response together with the same parameters."
        ) from error
    return page, following


class EmulatorFSxBackend(BaseBackend):
    """The FSx state of one account in one Region, and the rules that change it."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.tagger = TaggingService()
        self.file_systems_by_id: dict[str, FileSystem] = {}
        self.storage_virtual_machines_by_id: dict[str, StorageVirtualMachine] = {}
        self.volumes_by_id: dict[str, Volume] = {}
        self.backups_by_id: dict[str, Backup] = {}
        self.resource_arns: set[str] = set()
        self.tokens: dict[str, TokenRecord] = {}
        self.latest_backup_by_source: dict[str, Backup] = {}
        # Copies made in this Region, pruned of finished ones whenever they are counted.
        self.copies_in_progress: list[Backup] = []
        self.arn_prefix = f"arn:{self.partition}:fsx:{region_name}:{account_id}"
        self.default_kms_key_id = (
            f"arn:{self.partition}:kms:{region_name}:{account_id}:key/{uuid4()}"
        )

    # ---- tags -------------------------------------------------------------------------

    def tags_of(self, resource_arn: str) -> dict[str, str]:
        return self.tagger.get_tag_dict_for_resource(resource_arn)

    def _set_tags(self, resource_arn: str, tags: Mapping[str, str]) -> None:
        if tags:
            self.tagger.tag_resource(resource_arn, _tag_list(tags))

    def _existing_arn(self, resource_arn: object) -> str:
        arn = servicemodel.check_string(resource_arn, "ResourceARN", "ResourceARN")
        if arn not in self.resource_arns:
            raise ResourceNotFound(arn)
        return arn

    def tag_resource(self, arn: object, tags: object) -> None:
        resource_arn = self._existing_arn(arn)
        new_tags = servicemodel.check_tags(tags)
        merged = {**self.tags_of(resource_arn), **new_tags}
        limit = servicemodel.FSX_MODEL.shape_for("Tags").metadata["max"]
        if len(merged) > limit:
            raise BadRequest(
                f"Tags: resource {shown(resource_arn)} would have {len(merged)} tags; "
                f"at most {limit} are allowed."
            )
        self._set_tags(resource_arn, new_tags)

    def untag_resource(self, arn: object, tag_keys: object) -> None:
        resource_arn = self._existing_arn(arn)
        self.tagger.untag_resource_using_names(resource_arn, servicemodel.check_tag_keys(tag_keys))

    def list_tags_for_resource(self, resource_arn: object) -> list[dict[str, str]]:
        return _tag_list(self.tags_of(self._existing_arn(resource_arn)))

    # ---- file systems -----------------------------------------------------------------

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
        requested = _optional_mapping(configurations.get(member), member)
        if requested is None and fs_type != "LUSTRE":
            raise MissingFileSystemConfiguration(
                f"{member} is required to create a file system of type {fs_type}."
            )
        configuration = self._file_system_configuration(fs_type, member, requested or {})

        file_system_id = _new_id("fs")
        file_system = FileSystem(
            file_system_id=file_system_id,
            file_system_type=fs_type,
            resource_arn=f"{self.arn_prefix}:file-system/{file_system_id}",
            owner_id=self.account_id,
            creation_time=time.time(),
            storage_capacity=capacity,
            storage_type=storage,
            subnet_ids=subnets,
            vpc_id=_new_id("vpc"),
            network_interface_ids=[_new_id("eni")],
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
            configuration["CopyTagsToBackups"] = _optional_bool(
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
            configuration["RootVolumeId"] = _new_id("fsvol")
        return configuration

    def describe_file_systems(
        self, file_system_ids: object, max_results: object, next_token: object
    ) -> tuple[list[FileSystem], str | None]:
        selected = _select_by_ids(
            file_system_ids,
            "FileSystemIds",
            "FileSystemIds",
            self.file_systems_by_id,
            FileSystemNotFound,
        )
        return _page(
            selected,
            "file_system_id",
            max_results,
            next_token,
            {"file_system_ids": file_system_ids},
        )

    def delete_file_system(self, file_system_id: object) -> FileSystem:
        checked = servicemodel.check_string(file_system_id, "FileSystemId", "FileSystemId")
        file_system = self.file_systems_by_id.get(checked)
        if file_system is None:
            raise FileSystemNotFound(checked)
        if any(
            svm.file_system_id == checked for svm in self.storage_virtual_machines_by_id.values()
        ):
            raise BadRequest(
                f"File system '{checked}' still has storage virtual machines: delete its "
                f"volumes and storage virtual machines first."
            )
        # Backups outlive their file system in FSx, so they (and their tokens) stay.
        del self.file_systems_by_id[checked]
        self.resource_arns.discard(file_system.resource_arn)
        self.tagger.delete_all_tags_for_resource(file_system.resource_arn)
        return file_system

    def _file_system(self, file_system_id: str) -> FileSystem:
        file_system = self.file_systems_by_id.get(file_system_id)
        if file_system is None:
            raise FileSystemNotFound(file_system_id)
        return file_system

    # ---- storage virtual machines and volumes -----------------------------------------

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
        svm_id = _new_id("svm")
        svm = StorageVirtualMachine(
            storage_virtual_machine_id=svm_id,
            file_system_id=fs_id,
            name=svm_name,
            resource_arn=f"{self.arn_prefix}:storage-virtual-machine/{fs_id}/{svm_id}",
            creation_time=time.time(),
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
        selected = _select_by_ids(
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
        return _page(
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
        requested = _optional_mapping(ontap_configuration, "OntapConfiguration")
        if requested is None:
            raise MissingVolumeConfiguration(
                "OntapConfiguration is required to create a volume of type ONTAP."
            )
        svm_id = servicemodel.check_string(
            requested.get("StorageVirtualMachineId"),
            "StorageVirtualMachineId",
            "OntapConfiguration.StorageVirtualMachineId",
        )
        copy_tags = _optional_bool(
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
        volume_id = _new_id("fsvol")
        volume = Volume(
            volume_id=volume_id,
            file_system_id=svm.file_system_id,
            storage_virtual_machine_id=svm_id,
            name=volume_name,
            resource_arn=f"{self.arn_prefix}:volume/{svm.file_system_id}/{volume_id}",
            creation_time=time.time(),
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
        selected = _select_by_ids(
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
        return _page(
            selected,
            "volume_id",
            max_results,
            next_token,
            {"ids": volume_ids, "filters": filters},
        )

    # ---- backups ----------------------------------------------------------------------

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
            file_system_id=fs_id, volume_id=vol_id, tags=_tag_key(requested_tags)
        )
        now = time.monotonic()
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
        backup_id = _new_id("backup")
        backup = Backup(
            backup_id=backup_id,
            resource_arn=f"{self.arn_prefix}:backup/{backup_id}",
            owner_id=self.account_id,
            kms_key_id=file_system.kms_key_id,
            creation_time=time.time(),
            started=now,
            duration=settings.backup_seconds,
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
        if ttl is not None and now - record.registered > ttl:
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
        copy_source_tags = _optional_bool(copy_tags, "CopyTags")
        requested_tags = None if tags is None else servicemodel.check_tags(tags)
        token = servicemodel.check_optional_string(
            client_request_token, "ClientRequestToken", "ClientRequestToken"
        )
        request = CopyRequest(
            source_backup_id=source_id,
            source_region=region,
            kms_key_id=kms or self.default_kms_key_id,
            copy_tags=copy_source_tags,
            tags=_tag_key(requested_tags),
        )
        now = time.monotonic()
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
        self.copies_in_progress = _in_progress(self.copies_in_progress, now)
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

        backup_id = _new_id("backup")
        copy = Backup(
            backup_id=backup_id,
            resource_arn=f"{self.arn_prefix}:backup/{backup_id}",
            owner_id=self.account_id,
            kms_key_id=request.kms_key_id,
            creation_time=time.time(),
            started=now,
            duration=settings.effective_copy_seconds,
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
        source.copies = [*_in_progress(source.copies, now), copy]
        self._set_tags(copy.resource_arn, copy_tags_now)
        if token is not None:
            self.tokens[token] = TokenRecord(backup=copy, registered=now)
        return copy

    def _source_region_backend(self, region: str) -> EmulatorFSxBackend:
        """The backend of this account in `region`, if FSx could copy from there to here."""
        account = fsx_backends[self.account_id]
        if region not in account.regions or get_partition(region) != self.partition:
            raise InvalidRegion(
                f"SourceRegion {shown(region)} is not a Region of FSx in the "
                f"{self.partition} partition, where this copy to {self.region_name} is made: "
                f"name the Region the source backup is in, in the same partition."
            )
        return account[region]

    def _check_destination_key(self, kms_key_id: str) -> None:
        """KMS keys are regional: a key ARN must name this (the destination) Region.

        A key ID or alias, which names no Region, is taken to be one of this Region's.
        """
        try:
            arn = ArnParser().parse_arn(kms_key_id)
        except InvalidArnException:
            return
        if arn["service"] != "kms" or arn["region"] != self.region_name:
            raise InvalidDestinationKmsKey(
                f"KmsKeyId {shown(kms_key_id)} is not a KMS key of {self.region_name}, where "
                f"the copy is made: name a key of that Region, or none for its default key."
            )

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
        now = time.monotonic()
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
        selected = _select_by_ids(
            backup_ids, "BackupIds", "BackupIds", self.backups_by_id, BackupNotFound
        )
        if filters is not None:
            wanted = servicemodel.check_filters(filters, "Filters")
            selected = [
                backup
                for backup in selected
                if all(_backup_attribute(backup, name) in values for name, values in wanted.items())
            ]
        return _page(
            selected,
            "backup_id",
            max_results,
            next_token,
            {"ids": backup_ids, "filters": filters},
        )


def _backup_attribute(backup: Backup, filter_name: str) -> str | None:
    """The value of `backup` a DescribeBackups filter compares with its Values.

    Filter names the model allows that no emulated backup can match (data repository
    and file cache backups) yield None and so match nothing.
    """
    match filter_name:
        case "file-system-id":
            return backup.file_system_id
        case "volume-id":
            return backup.volume_id
        case "backup-type":
            return "USER_INITIATED"
        case "file-system-type":
            return backup.file_system_type
        case _:
            return None


fsx_backends = BackendDict(EmulatorFSxBackend, "fsx")


def reset_state() -> None:
    """Forget every file system, volume, backup and token in every account and region."""
    with STATE_LOCK:
        for _account_id, _region_name, backend in fsx_backends.iter_backends():
            backend.reset()

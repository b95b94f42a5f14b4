"""Seeding resources: file systems of every type, SVMs and ONTAP volumes (semantics 1)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsx_emulator.client import DEFAULT_SUBNET_ID, Emulator

FILE_SYSTEM_ID = re.compile(r"fs-[0-9a-f]{17}")
SVM_ID = re.compile(r"svm-[0-9a-f]{17}")
VOLUME_ID = re.compile(r"fsvol-[0-9a-f]{17}")

ClientErrorOf = Callable[..., ClientError]


@pytest.mark.parametrize(
    ("fs_type", "member", "configuration"),
    [
        ("WINDOWS", "WindowsConfiguration", {"ThroughputCapacity": 32, "CopyTagsToBackups": True}),
        (
            "ONTAP",
            "OntapConfiguration",
            {"DeploymentType": "SINGLE_AZ_1", "ThroughputCapacity": 128},
        ),
        (
            "OPENZFS",
            "OpenZFSConfiguration",
            {"DeploymentType": "SINGLE_AZ_1", "ThroughputCapacity": 64, "CopyTagsToBackups": True},
        ),
        ("LUSTRE", "LustreConfiguration", {"DeploymentType": "SCRATCH_1"}),
        ("LUSTRE", "LustreConfiguration", {"DeploymentType": "SCRATCH_2"}),
        (
            "LUSTRE",
            "LustreConfiguration",
            {"DeploymentType": "PERSISTENT_1", "CopyTagsToBackups": True},
        ),
        ("LUSTRE", "LustreConfiguration", {"DeploymentType": "PERSISTENT_2"}),
        (
            "LUSTRE",
            "LustreConfiguration",
            {"DeploymentType": "PERSISTENT_1", "ImportPath": "s3://bucket/x"},
        ),
        (
            "LUSTRE",
            "LustreConfiguration",
            {"DeploymentType": "SCRATCH_2", "ImportPath": "s3://bucket"},
        ),
    ],
)
def test_create_and_describe_each_file_system_type(
    fsx: Emulator, fs_type: str, member: str, configuration: dict[str, object]
) -> None:
    client = fsx.client()
    request: dict[str, Any] = {
        "FileSystemType": fs_type,
        "StorageCapacity": 1200,
        "SubnetIds": [DEFAULT_SUBNET_ID],
        "Tags": [{"Key": "Name", "Value": f"{fs_type}-test"}],
        member: configuration,
    }
    created: dict[str, Any] = dict(client.create_file_system(**request)["FileSystem"])

    assert FILE_SYSTEM_ID.fullmatch(created["FileSystemId"])
    assert created["FileSystemType"] == fs_type
    assert created["Lifecycle"] == "AVAILABLE"
    assert created["ResourceARN"] == (
        f"arn:aws:fsx:us-east-1:123456789012:file-system/{created['FileSystemId']}"
    )
    described = client.describe_file_systems(FileSystemIds=[created["FileSystemId"]])
    assert described["FileSystems"] == [created]
    echoed = created[member]
    if "CopyTagsToBackups" in configuration:
        assert echoed["CopyTagsToBackups"] is True
    if fs_type == "LUSTRE":
        assert echoed["DeploymentType"] == configuration["DeploymentType"]
        repository = echoed.get("DataRepositoryConfiguration")
        if "ImportPath" in configuration:
            assert repository is not None
            assert repository["ImportPath"] == configuration["ImportPath"]
        else:
            assert repository is None


def test_lustre_defaults_to_scratch_1_and_copy_tags_off(fsx: Emulator) -> None:
    created = fsx.client().create_file_system(
        FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[DEFAULT_SUBNET_ID]
    )["FileSystem"]
    assert created["LustreConfiguration"]["DeploymentType"] == "SCRATCH_1"
    assert created["LustreConfiguration"]["CopyTagsToBackups"] is False


def test_configuration_is_required_and_must_match_the_type(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    client = fsx.client()
    missing = client_error(
        client.create_file_system,
        FileSystemType="WINDOWS",
        StorageCapacity=32,
        SubnetIds=[DEFAULT_SUBNET_ID],
    )
    assert missing.response["Error"]["Code"] == "MissingFileSystemConfiguration"
    mismatched = client_error(
        client.create_file_system,
        FileSystemType="LUSTRE",
        StorageCapacity=1200,
        SubnetIds=[DEFAULT_SUBNET_ID],
        WindowsConfiguration={"ThroughputCapacity": 32},
    )
    assert mismatched.response["Error"]["Code"] == "BadRequest"
    assert "WindowsConfiguration" in mismatched.response["Error"]["Message"]


def test_describe_file_systems_unknown_id(fsx: Emulator, client_error: ClientErrorOf) -> None:
    fsx.create_file_system()
    error = client_error(fsx.client().describe_file_systems, FileSystemIds=["fs-0123456789abcdef0"])
    assert error.response["Error"]["Code"] == "FileSystemNotFound"


def test_svm_and_volume_on_ontap(fsx: Emulator) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system(type="ONTAP")
    svm = client.create_storage_virtual_machine(
        FileSystemId=file_system_id, Name="svm1", Tags=[{"Key": "k", "Value": "v"}]
    )["StorageVirtualMachine"]
    assert SVM_ID.fullmatch(svm["StorageVirtualMachineId"])
    assert svm["FileSystemId"] == file_system_id
    volume = client.create_volume(
        VolumeType="ONTAP",
        Name="data",
        OntapConfiguration={
            "StorageVirtualMachineId": svm["StorageVirtualMachineId"],
            "JunctionPath": "/data",
            "SizeInMegabytes": 2048,
            "CopyTagsToBackups": True,
        },
    )["Volume"]
    assert VOLUME_ID.fullmatch(volume["VolumeId"])
    assert volume["VolumeType"] == "ONTAP"
    assert volume["FileSystemId"] == file_system_id
    ontap = volume["OntapConfiguration"]
    assert ontap["StorageVirtualMachineId"] == svm["StorageVirtualMachineId"]
    assert ontap["CopyTagsToBackups"] is True
    assert ontap["SizeInMegabytes"] == 2048
    assert volume["ResourceARN"].endswith(f":volume/{file_system_id}/{volume['VolumeId']}")

    assert client.describe_storage_virtual_machines(
        Filters=[{"Name": "file-system-id", "Values": [file_system_id]}]
    )["StorageVirtualMachines"] == [svm]
    assert client.describe_volumes(VolumeIds=[volume["VolumeId"]])["Volumes"] == [volume]
    assert client.describe_volumes(
        Filters=[{"Name": "storage-virtual-machine-id", "Values": [svm["StorageVirtualMachineId"]]}]
    )["Volumes"] == [volume]
    assert (
        client.describe_volumes(
            Filters=[{"Name": "file-system-id", "Values": ["fs-0123456789abcdef0"]}]
        )["Volumes"]
        == []
    )


def test_seeding_checks_what_it_references(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    no_fs = client_error(
        client.create_storage_virtual_machine, FileSystemId="fs-0123456789abcdef0", Name="svm1"
    )
    assert no_fs.response["Error"]["Code"] == "FileSystemNotFound"
    not_ontap = client_error(
        client.create_storage_virtual_machine, FileSystemId=fsx.create_file_system(), Name="svm1"
    )
    assert not_ontap.response["Error"]["Code"] == "BadRequest"
    no_svm = client_error(
        client.create_volume,
        VolumeType="ONTAP",
        Name="data",
        OntapConfiguration={
            "StorageVirtualMachineId": "svm-0123456789abcdef0",
            "SizeInMegabytes": 1,
        },
    )
    assert no_svm.response["Error"]["Code"] == "StorageVirtualMachineNotFound"
    unknown_volume = client_error(client.describe_volumes, VolumeIds=["fsvol-0123456789abcdef0"])
    assert unknown_volume.response["Error"]["Code"] == "VolumeNotFound"
    unknown_svm = client_error(
        client.describe_storage_virtual_machines, StorageVirtualMachineIds=["svm-0123456789abcdef0"]
    )
    assert unknown_svm.response["Error"]["Code"] == "StorageVirtualMachineNotFound"


def test_create_ontap_volume_helper_reuses_its_svm(fsx: Emulator) -> None:
    first = fsx.create_ontap_volume(name="a")
    second = fsx.create_ontap_volume(name="b", tags={"team": "x"}, copy_tags_to_backups=True)
    volumes = {v["VolumeId"]: v for v in fsx.client().describe_volumes()["Volumes"]}
    assert set(volumes) == {first, second}
    assert len({v["OntapConfiguration"]["StorageVirtualMachineId"] for v in volumes.values()}) == 1
    assert volumes[second]["Tags"] == [{"Key": "team", "Value": "x"}]
    assert fsx.calls()["CreateStorageVirtualMachine"] == 1


def test_delete_file_system(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system()
    backup_id = client.create_backup(FileSystemId=file_system_id, ClientRequestToken="before")[
        "Backup"
    ]["BackupId"]
    deleted = client.delete_file_system(FileSystemId=file_system_id)
    assert (deleted["FileSystemId"], deleted["Lifecycle"]) == (file_system_id, "DELETING")
    gone = client_error(client.describe_file_systems, FileSystemIds=[file_system_id])
    assert gone.response["Error"]["Code"] == "FileSystemNotFound"
    # Backups outlive their file system, and so do their tokens.
    assert [b["BackupId"] for b in client.describe_backups()["Backups"]] == [backup_id]
    replay = client.create_backup(FileSystemId=file_system_id, ClientRequestToken="before")
    assert replay["Backup"]["BackupId"] == backup_id
    new = client_error(client.create_backup, FileSystemId=file_system_id)
    assert new.response["Error"]["Code"] == "FileSystemNotFound"

    fsx.create_ontap_volume()
    ontap_id = client.describe_volumes()["Volumes"][0]["FileSystemId"]
    busy = client_error(client.delete_file_system, FileSystemId=ontap_id)
    assert busy.response["Error"]["Code"] == "BadRequest"


def test_openzfs_volumes_are_not_emulated(fsx: Emulator, client_error: ClientErrorOf) -> None:
    error = client_error(
        fsx.client().create_volume,
        VolumeType="OPENZFS",
        Name="data",
        OpenZFSConfiguration={"ParentVolumeId": "fsvol-0123456789abcdef0"},
    )
    assert error.response["Error"]["Code"] == "UnsupportedOperation"


def test_operations_not_emulated(fsx: Emulator, client_error: ClientErrorOf) -> None:
    error = client_error(fsx.client().update_file_system, FileSystemId=fsx.create_file_system())
    assert error.response["Error"]["Code"] == "UnsupportedOperation"
    assert "UpdateFileSystem" in error.response["Error"]["Message"]

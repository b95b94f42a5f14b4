"""CreateFileSystemFromBackup and CreateVolumeFromBackup (docs/emulator.md, "Restores").

Lifecycles are judged on the emulator's frozen clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsx_emulator.client import DEFAULT_SUBNET_ID, Emulator

ClientErrorOf = Callable[..., ClientError]
OTHER_SUBNET = "subnet-0fedcba9876543210"


def code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def backup_of(fsx: Emulator, file_system_id: str, region: str | None = None, **kw: Any) -> str:
    """The ID of an AVAILABLE backup of `file_system_id` (backups take 0 s unless set)."""
    backup = fsx.client(region=region).create_backup(FileSystemId=file_system_id, **kw)["Backup"]
    assert backup["Lifecycle"] == "AVAILABLE"
    return str(backup["BackupId"])


def volume_backup(fsx: Emulator) -> tuple[str, str]:
    """An AVAILABLE backup of a new ONTAP volume, and the volume's SVM."""
    volume_id = fsx.create_ontap_volume()
    [volume] = fsx.client().describe_volumes(VolumeIds=[volume_id])["Volumes"]
    backup = fsx.client().create_backup(VolumeId=volume_id)["Backup"]
    return backup["BackupId"], volume["OntapConfiguration"]["StorageVirtualMachineId"]


def describe_fs(fsx: Emulator, file_system_id: str) -> dict[str, Any]:
    [found] = fsx.client().describe_file_systems(FileSystemIds=[file_system_id])["FileSystems"]
    return dict(found)


def describe_volume(fsx: Emulator, volume_id: str) -> dict[str, Any]:
    [found] = fsx.client().describe_volumes(VolumeIds=[volume_id])["Volumes"]
    return dict(found)


def restore(fsx: Emulator, backup_id: str, **kw: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"BackupId": backup_id, "SubnetIds": [DEFAULT_SUBNET_ID], **kw}
    restored: dict[str, Any] = fsx.client().create_file_system_from_backup(**request)["FileSystem"]
    return restored


# ---- CreateFileSystemFromBackup ---------------------------------------------------------


@pytest.mark.parametrize("fs_type", ["LUSTRE", "WINDOWS", "OPENZFS"])
def test_restore_makes_a_file_system_of_the_backups_type_creating_then_available(
    fsx: Emulator, fs_type: str
) -> None:
    source_id = fsx.create_file_system(type=fs_type, tags={"Name": "source"})
    source = describe_fs(fsx, source_id)
    backup_id = backup_of(fsx, source_id)
    fsx.set_faults(restore_seconds=30)
    fsx.freeze_clock()

    restored = restore(fsx, backup_id, Tags=[{"Key": "Name", "Value": "restored"}])
    member = {"LUSTRE": "LustreConfiguration", "WINDOWS": "WindowsConfiguration"}.get(
        fs_type, "OpenZFSConfiguration"
    )
    assert restored["FileSystemId"] != source_id
    assert (restored["FileSystemType"], restored["Lifecycle"]) == (fs_type, "CREATING")
    assert restored["Tags"] == [{"Key": "Name", "Value": "restored"}]
    assert restored["StorageCapacity"] == source["StorageCapacity"]
    assert restored["KmsKeyId"] == source["KmsKeyId"]
    assert (restored["SubnetIds"], restored["VpcId"]) == ([DEFAULT_SUBNET_ID], source["VpcId"])
    assert restored[member]["DeploymentType"] == source[member]["DeploymentType"]
    if fs_type == "LUSTRE":
        assert restored[member]["MountName"] != source[member]["MountName"]
    if fs_type == "OPENZFS":
        assert restored[member]["RootVolumeId"] != source[member]["RootVolumeId"]

    fsx.advance_clock(29.9)
    assert describe_fs(fsx, restored["FileSystemId"])["Lifecycle"] == "CREATING"
    fsx.advance_clock(0.1)
    available = describe_fs(fsx, restored["FileSystemId"])
    assert available["Lifecycle"] == "AVAILABLE"
    assert "FailureDetails" not in available
    listed = {fs["FileSystemId"] for fs in fsx.client().describe_file_systems()["FileSystems"]}
    assert listed == {source_id, restored["FileSystemId"]}


def test_restore_seconds_follow_backup_seconds_unless_set(fsx: Emulator) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system())
    assert fsx.faults()["restore_seconds"] == 0
    assert fsx.set_faults(backup_seconds=4)["restore_seconds"] == 4
    fsx.freeze_clock()
    follows = restore(fsx, backup_id)
    assert fsx.set_faults(restore_seconds=2)["restore_seconds"] == 2
    assert fsx.set_faults(backup_seconds=5)["restore_seconds"] == 2
    own = restore(fsx, backup_id)
    fsx.advance_clock(2)
    assert describe_fs(fsx, own["FileSystemId"])["Lifecycle"] == "AVAILABLE"
    assert describe_fs(fsx, follows["FileSystemId"])["Lifecycle"] == "CREATING"
    fsx.advance_clock(2)
    assert describe_fs(fsx, follows["FileSystemId"])["Lifecycle"] == "AVAILABLE"
    fsx.reset()
    assert fsx.faults()["restore_seconds"] == 0


def test_restore_request_overrides_the_backed_up_settings(fsx: Emulator) -> None:
    source_id = fsx.create_file_system(type="OPENZFS", copy_tags_to_backups=False)
    backup_id = backup_of(fsx, source_id)
    key = f"arn:aws:kms:{fsx.region}:123456789012:key/restored"
    restored = restore(
        fsx,
        backup_id,
        StorageCapacity=128,
        StorageType="SSD",
        KmsKeyId=key,
        NetworkType="DUAL",
        FileSystemTypeVersion="2.2",
        SecurityGroupIds=["sg-0123456789abcdef0"],
        OpenZFSConfiguration={
            "DeploymentType": "SINGLE_AZ_1",
            "ThroughputCapacity": 128,
            "CopyTagsToBackups": True,
        },
    )
    assert (restored["StorageCapacity"], restored["KmsKeyId"]) == (128, key)
    assert (restored["NetworkType"], restored["FileSystemTypeVersion"]) == ("DUAL", "2.2")
    configuration = restored["OpenZFSConfiguration"]
    assert (configuration["ThroughputCapacity"], configuration["CopyTagsToBackups"]) == (128, True)


def test_restore_of_a_copy_in_another_region(
    fsx: Emulator, other_region: str, client_error: ClientErrorOf
) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system(type="WINDOWS"))
    destination = fsx.client(region=other_region)
    copy_id = destination.copy_backup(SourceBackupId=backup_id, SourceRegion=fsx.region)["Backup"][
        "BackupId"
    ]
    # Subnets are regional: the home Region's subnet is unknown here until registered.
    unknown = client_error(
        destination.create_file_system_from_backup, BackupId=copy_id, SubnetIds=[OTHER_SUBNET]
    )
    assert code_of(unknown) == "InvalidNetworkSettings"
    assert fsx.register_subnets(OTHER_SUBNET, region=other_region) == [OTHER_SUBNET]
    restored = destination.create_file_system_from_backup(
        BackupId=copy_id, SubnetIds=[OTHER_SUBNET]
    )["FileSystem"]
    assert restored["FileSystemType"] == "WINDOWS"
    assert f":{other_region}:" in restored["ResourceARN"]


# ---- validation -------------------------------------------------------------------------


def test_unknown_backup_is_backup_not_found(fsx: Emulator, client_error: ClientErrorOf) -> None:
    error = client_error(restore, fsx, "backup-0123456789abcdef0")
    assert code_of(error) == "BackupNotFound"
    assert "backup-0123456789abcdef0" in error.response["Error"]["Message"]


def test_backup_not_available_is_bad_request(fsx: Emulator, client_error: ClientErrorOf) -> None:
    file_system_id = fsx.create_file_system()
    fsx.set_faults(backup_seconds=10)
    fsx.freeze_clock()
    creating = fsx.client().create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"]
    error = client_error(restore, fsx, creating)
    assert code_of(error) == "BadRequest"
    assert "CREATING" in error.response["Error"]["Message"]
    assert "only an AVAILABLE backup" in error.response["Error"]["Message"]

    fsx.set_faults(backup_seconds=0, fail_next_backups={file_system_id: "broke"})
    fsx.advance_clock(10)
    failed = fsx.client().create_backup(FileSystemId=file_system_id)["Backup"]["BackupId"]
    error = client_error(restore, fsx, failed)
    assert code_of(error) == "BadRequest"
    assert "FAILED" in error.response["Error"]["Message"]


def test_volume_backup_with_create_file_system_from_backup_is_refused(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    backup_id, _svm_id = volume_backup(fsx)
    error = client_error(restore, fsx, backup_id)
    assert code_of(error) == "BadRequest"
    assert "CreateVolumeFromBackup" in error.response["Error"]["Message"]


def test_unknown_subnet_is_invalid_network_settings(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system())
    error = client_error(restore, fsx, backup_id, SubnetIds=[OTHER_SUBNET])
    assert code_of(error) == "InvalidNetworkSettings"
    assert dict(error.response)["InvalidSubnetId"] == OTHER_SUBNET
    assert "SubnetIds" in error.response["Error"]["Message"]
    assert fsx.client().describe_file_systems()["FileSystems"][1:] == []

    # Subnets of another VPC (those of a file system made in another subnet) are known,
    # but one file system cannot span two VPCs.
    fsx.create_file_system(SubnetIds=[OTHER_SUBNET])
    error = client_error(restore, fsx, backup_id, SubnetIds=[DEFAULT_SUBNET_ID, OTHER_SUBNET])
    assert code_of(error) == "InvalidNetworkSettings"
    assert "different VPCs" in error.response["Error"]["Message"]
    assert restore(fsx, backup_id, SubnetIds=[OTHER_SUBNET])["Lifecycle"] == "AVAILABLE"


def test_subnets_given_at_startup_are_known_in_every_region() -> None:
    from fsx_emulator import EmulatorProcess

    with EmulatorProcess(backup_seconds=0, subnet_ids=[OTHER_SUBNET]) as emulator:
        backup_id = backup_of(
            emulator, emulator.create_file_system(region="eu-west-1"), "eu-west-1"
        )
        restored = emulator.client(region="eu-west-1").create_file_system_from_backup(
            BackupId=backup_id, SubnetIds=[OTHER_SUBNET]
        )["FileSystem"]
        assert restored["SubnetIds"] == [OTHER_SUBNET]
        emulator.reset()
        assert emulator.register_subnets(DEFAULT_SUBNET_ID) == [DEFAULT_SUBNET_ID]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"LustreConfiguration": {"DeploymentType": "PERSISTENT_1"}}, "LustreConfiguration"),
        ({"StorageCapacity": 16}, "StorageCapacity"),
        ({"KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/x"}, "KmsKeyId"),
        ({"SecurityGroupIds": ["not-a-group"]}, "SecurityGroupIds"),
        ({"NetworkType": "IPV5"}, "NetworkType"),
        ({"SubnetIds": []}, "SubnetIds"),
        ({"Tags": [{"Key": "aws:x", "Value": "1"}]}, "Tags[0].Key"),
    ],
)
def test_bad_restore_requests(
    fsx: Emulator, client_error: ClientErrorOf, request_: dict[str, Any], field: str
) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system(type="WINDOWS"))
    error = client_error(
        fsx.client().create_file_system_from_backup,
        **{"BackupId": backup_id, "SubnetIds": [DEFAULT_SUBNET_ID], **request_},
    )
    assert code_of(error) == "BadRequest"
    assert field in error.response["Error"]["Message"]
    assert len(fsx.client().describe_file_systems()["FileSystems"]) == 1


# ---- idempotency ------------------------------------------------------------------------


def test_same_token_same_parameters_returns_the_same_file_system_as_it_is_now(
    fsx: Emulator,
) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system())
    fsx.set_faults(restore_seconds=5)
    fsx.freeze_clock()
    tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    first = restore(fsx, backup_id, ClientRequestToken="restore-1", Tags=tags)
    assert first["Lifecycle"] == "CREATING"
    fsx.advance_clock(5)
    again = restore(fsx, backup_id, ClientRequestToken="restore-1", Tags=list(reversed(tags)))
    assert again["FileSystemId"] == first["FileSystemId"]
    assert again["Lifecycle"] == "AVAILABLE"
    assert len(fsx.client().describe_file_systems()["FileSystems"]) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"Tags": [{"Key": "a", "Value": "2"}]},
        {"SubnetIds": [DEFAULT_SUBNET_ID, DEFAULT_SUBNET_ID]},
        {"StorageType": "HDD"},
    ],
)
def test_same_token_other_parameters_is_incompatible(
    fsx: Emulator, client_error: ClientErrorOf, change: dict[str, Any]
) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system())
    first = restore(fsx, backup_id, ClientRequestToken="t", Tags=[{"Key": "a", "Value": "1"}])
    error = client_error(
        restore,
        fsx,
        backup_id,
        ClientRequestToken="t",
        **{"Tags": [{"Key": "a", "Value": "1"}], **change},
    )
    assert code_of(error) == "IncompatibleParameterError"
    assert dict(error.response)["Parameter"] == "ClientRequestToken"
    assert first["FileSystemId"] in error.response["Error"]["Message"]


def test_a_create_backup_token_reused_for_a_restore_is_incompatible(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system(), ClientRequestToken="shared")
    error = client_error(restore, fsx, backup_id, ClientRequestToken="shared")
    assert code_of(error) == "IncompatibleParameterError"
    assert "CreateBackup" in error.response["Error"]["Message"]


# ---- CreateVolumeFromBackup -------------------------------------------------------------


def test_volume_restore_is_creating_then_created(fsx: Emulator) -> None:
    backup_id, svm_id = volume_backup(fsx)
    fsx.set_faults(restore_seconds=20)
    fsx.freeze_clock()
    volume = fsx.client().create_volume_from_backup(
        BackupId=backup_id,
        Name="restored",
        OntapConfiguration={
            "StorageVirtualMachineId": svm_id,
            "JunctionPath": "/restored",
            "SizeInMegabytes": 2048,
        },
        Tags=[{"Key": "Name", "Value": "restored"}],
    )["Volume"]
    assert (volume["Name"], volume["Lifecycle"], volume["VolumeType"]) == (
        "restored",
        "CREATING",
        "ONTAP",
    )
    configuration = volume["OntapConfiguration"]
    assert configuration["StorageVirtualMachineId"] == svm_id
    assert (configuration["JunctionPath"], configuration["SizeInMegabytes"]) == ("/restored", 2048)
    # What the request does not name comes from the backed-up volume.
    assert configuration["StorageEfficiencyEnabled"] is True
    assert volume["Tags"] == [{"Key": "Name", "Value": "restored"}]
    fsx.advance_clock(19.9)
    assert describe_volume(fsx, volume["VolumeId"])["Lifecycle"] == "CREATING"
    fsx.advance_clock(0.1)
    assert describe_volume(fsx, volume["VolumeId"])["Lifecycle"] == "CREATED"


def test_volume_restore_validation(fsx: Emulator, client_error: ClientErrorOf) -> None:
    backup_id, svm_id = volume_backup(fsx)
    create = fsx.client().create_volume_from_backup
    missing = client_error(create, BackupId=backup_id, Name="v")
    assert code_of(missing) == "MissingVolumeConfiguration"
    assert "StorageVirtualMachineId" in missing.response["Error"]["Message"]
    unknown_svm = client_error(
        create,
        BackupId=backup_id,
        Name="v",
        OntapConfiguration={"StorageVirtualMachineId": "svm-0123456789abcdef0"},
    )
    assert code_of(unknown_svm) == "StorageVirtualMachineNotFound"
    unknown_backup = client_error(
        create,
        BackupId="backup-0123456789abcdef0",
        Name="v",
        OntapConfiguration={"StorageVirtualMachineId": svm_id},
    )
    assert code_of(unknown_backup) == "BackupNotFound"
    fs_backup = backup_of(fsx, fsx.create_file_system())
    wrong_kind = client_error(
        create, BackupId=fs_backup, Name="v", OntapConfiguration={"StorageVirtualMachineId": svm_id}
    )
    assert code_of(wrong_kind) == "BadRequest"
    assert "CreateFileSystemFromBackup" in wrong_kind.response["Error"]["Message"]
    assert len(fsx.client().describe_volumes()["Volumes"]) == 1


def test_volume_restore_token(fsx: Emulator, client_error: ClientErrorOf) -> None:
    backup_id, svm_id = volume_backup(fsx)
    create = fsx.client().create_volume_from_backup
    request: dict[str, Any] = {
        "BackupId": backup_id,
        "Name": "v",
        "OntapConfiguration": {"StorageVirtualMachineId": svm_id},
        "ClientRequestToken": "vol-1",
    }
    first = create(**request)["Volume"]
    assert create(**request)["Volume"]["VolumeId"] == first["VolumeId"]
    error = client_error(create, **{**request, "Name": "other"})
    assert code_of(error) == "IncompatibleParameterError"
    assert len(fsx.client().describe_volumes()["Volumes"]) == 2


# ---- the FAILED fault, BackupRestoring, holds -------------------------------------------


def test_fail_next_restore_of_a_backup(fsx: Emulator) -> None:
    fs_backup = backup_of(fsx, fsx.create_file_system())
    vol_backup, svm_id = volume_backup(fsx)
    fsx.set_faults(
        restore_seconds=3,
        fail_next_restores={fs_backup: "Injected restore failure", vol_backup: "volume broke"},
    )
    assert fsx.faults()["fail_next_restores"] == {
        fs_backup: "Injected restore failure",
        vol_backup: "volume broke",
    }
    fsx.freeze_clock()
    failing = restore(fsx, fs_backup)
    volume = fsx.client().create_volume_from_backup(
        BackupId=vol_backup, Name="v", OntapConfiguration={"StorageVirtualMachineId": svm_id}
    )["Volume"]
    assert (failing["Lifecycle"], volume["Lifecycle"]) == ("CREATING", "CREATING")
    assert "FailureDetails" not in failing
    fsx.advance_clock(3)
    failed = describe_fs(fsx, failing["FileSystemId"])
    assert failed["Lifecycle"] == "FAILED"
    assert failed["FailureDetails"] == {"Message": "Injected restore failure"}
    failed_volume = describe_volume(fsx, volume["VolumeId"])
    assert failed_volume["Lifecycle"] == "FAILED"
    assert failed_volume["LifecycleTransitionReason"] == {"Message": "volume broke"}
    # Only the next restore fails.
    assert fsx.faults()["fail_next_restores"] == {}
    fine = restore(fsx, fs_backup)
    fsx.advance_clock(3)
    assert describe_fs(fsx, fine["FileSystemId"])["Lifecycle"] == "AVAILABLE"


def test_a_backup_being_restored_cannot_be_deleted(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system())
    fsx.set_faults(restore_seconds=5)
    fsx.freeze_clock()
    restored = restore(fsx, backup_id)
    error = client_error(fsx.client().delete_backup, BackupId=backup_id)
    assert code_of(error) == "BackupRestoring"
    assert dict(error.response)["FileSystemId"] == restored["FileSystemId"]
    assert restored["FileSystemId"] in error.response["Error"]["Message"]
    fsx.advance_clock(5)
    assert fsx.client().delete_backup(BackupId=backup_id)["Lifecycle"] == "DELETED"
    # The restored file system outlives its backup.
    assert describe_fs(fsx, restored["FileSystemId"])["Lifecycle"] == "AVAILABLE"


def test_a_restored_file_system_is_backed_up_only_once_available(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system())
    fsx.set_faults(restore_seconds=5)
    fsx.freeze_clock()
    restored = restore(fsx, backup_id)["FileSystemId"]
    error = client_error(fsx.client().create_backup, FileSystemId=restored)
    assert code_of(error) == "BadRequest"
    assert "CREATING" in error.response["Error"]["Message"]
    fsx.advance_clock(5)
    assert backup_of(fsx, restored)


def test_holding_a_restored_file_system(fsx: Emulator) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system())
    fsx.set_faults(restore_seconds=10)
    fsx.freeze_clock()
    held, free = restore(fsx, backup_id), restore(fsx, backup_id)
    fsx.hold(held["FileSystemId"])
    fsx.advance_clock(60)
    assert describe_fs(fsx, free["FileSystemId"])["Lifecycle"] == "AVAILABLE"
    assert describe_fs(fsx, held["FileSystemId"])["Lifecycle"] == "CREATING"
    fsx.release(held["FileSystemId"])
    fsx.advance_clock(10)
    assert describe_fs(fsx, held["FileSystemId"])["Lifecycle"] == "AVAILABLE"


def test_restores_are_counted(fsx: Emulator) -> None:
    backup_id = backup_of(fsx, fsx.create_file_system())
    restore(fsx, backup_id)
    assert fsx.calls()["CreateFileSystemFromBackup"] == 1

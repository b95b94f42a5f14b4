"""DeleteFileSystem and DeleteVolume: DELETING, then gone, and final backups
(docs/emulator.md, "Deletes"). Lifecycles are judged on the emulator's frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsx_emulator.client import DEFAULT_SUBNET_ID, Emulator

ClientErrorOf = Callable[..., ClientError]
RESPONSE_MEMBER = {
    "WINDOWS": ("WindowsConfiguration", "WindowsResponse"),
    "LUSTRE": ("LustreConfiguration", "LustreResponse"),
    "OPENZFS": ("OpenZFSConfiguration", "OpenZFSResponse"),
}


def code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def backups(fsx: Emulator) -> dict[str, dict[str, Any]]:
    return {b["BackupId"]: dict(b) for b in fsx.client().describe_backups()["Backups"]}


def file_system_ids(fsx: Emulator) -> set[str]:
    return {fs["FileSystemId"] for fs in fsx.client().describe_file_systems()["FileSystems"]}


def lifecycle_of(fsx: Emulator, file_system_id: str) -> str:
    [found] = fsx.client().describe_file_systems(FileSystemIds=[file_system_id])["FileSystems"]
    return str(found["Lifecycle"])


def svm_of(fsx: Emulator, volume_id: str) -> str:
    [volume] = fsx.client().describe_volumes(VolumeIds=[volume_id])["Volumes"]
    return str(volume["OntapConfiguration"]["StorageVirtualMachineId"])


# ---- DeleteFileSystem ---------------------------------------------------------------


@pytest.mark.parametrize("fs_type", ["WINDOWS", "OPENZFS"])
def test_windows_and_openzfs_take_a_final_backup_by_default(fsx: Emulator, fs_type: str) -> None:
    file_system_id = fsx.create_file_system(type=fs_type)
    fsx.set_faults(backup_seconds=4, delete_seconds=10)
    fsx.freeze_clock()
    deleted = fsx.client().delete_file_system(FileSystemId=file_system_id)
    _member, response_member = RESPONSE_MEMBER[fs_type]
    assert (deleted["FileSystemId"], deleted["Lifecycle"]) == (file_system_id, "DELETING")
    final_id = deleted[response_member]["FinalBackupId"]
    assert "FinalBackupTags" not in deleted[response_member]

    final = backups(fsx)[final_id]
    assert (final["Type"], final["ResourceType"], final["Lifecycle"]) == (
        "USER_INITIATED",
        "FILE_SYSTEM",
        "CREATING",
    )
    assert final["FileSystem"]["FileSystemId"] == file_system_id
    assert final["FileSystem"]["FileSystemType"] == fs_type
    assert lifecycle_of(fsx, file_system_id) == "DELETING"

    fsx.advance_clock(4)
    assert backups(fsx)[final_id]["Lifecycle"] == "AVAILABLE"
    fsx.advance_clock(5.9)
    assert lifecycle_of(fsx, file_system_id) == "DELETING"
    fsx.advance_clock(0.1)
    assert file_system_ids(fsx) == set()
    with pytest.raises(fsx.client().exceptions.FileSystemNotFound):
        fsx.client().describe_file_systems(FileSystemIds=[file_system_id])
    # The final backup outlives its file system, and can be deleted as any other.
    assert set(backups(fsx)) == {final_id}
    assert fsx.client().delete_backup(BackupId=final_id)["Lifecycle"] == "DELETED"


@pytest.mark.parametrize("fs_type", ["WINDOWS", "OPENZFS", "LUSTRE"])
def test_skip_final_backup(fsx: Emulator, fs_type: str) -> None:
    file_system_id = fsx.create_file_system(type=fs_type)
    member, response_member = RESPONSE_MEMBER[fs_type]
    deleted = fsx.client().delete_file_system(
        FileSystemId=file_system_id, **{member: {"SkipFinalBackup": True}}
    )
    assert response_member not in deleted
    assert backups(fsx) == {}
    assert file_system_ids(fsx) == set()


def test_lustre_takes_a_final_backup_only_when_asked(fsx: Emulator) -> None:
    client = fsx.client()
    by_default = client.delete_file_system(FileSystemId=fsx.create_file_system())
    assert "LustreResponse" not in by_default
    assert backups(fsx) == {}

    file_system_id = fsx.create_file_system(tags={"team": "storage"}, copy_tags_to_backups=True)
    asked = client.delete_file_system(
        FileSystemId=file_system_id, LustreConfiguration={"SkipFinalBackup": False}
    )
    final_id = asked["LustreResponse"]["FinalBackupId"]
    # CopyTagsToBackups gives the final backup the file system's tags.
    assert asked["LustreResponse"]["FinalBackupTags"] == [{"Key": "team", "Value": "storage"}]
    assert backups(fsx)[final_id]["Tags"] == [{"Key": "team", "Value": "storage"}]


def test_a_lustre_file_system_fsx_cannot_back_up_is_refused_a_final_backup(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    scratch = fsx.create_file_system(deployment_type="SCRATCH_2")
    error = client_error(
        fsx.client().delete_file_system,
        FileSystemId=scratch,
        LustreConfiguration={"SkipFinalBackup": False},
    )
    assert code_of(error) == "BadRequest"
    assert "SkipFinalBackup" in error.response["Error"]["Message"]
    assert lifecycle_of(fsx, scratch) == "AVAILABLE"


def test_final_backup_tags(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    file_system_id = fsx.create_file_system(
        type="WINDOWS", tags={"team": "storage"}, copy_tags_to_backups=True
    )
    deleted = client.delete_file_system(
        FileSystemId=file_system_id,
        WindowsConfiguration={"FinalBackupTags": [{"Key": "Name", "Value": "final"}]},
    )
    # Given tags are the final backup's tags; none of the file system's are copied.
    assert deleted["WindowsResponse"]["FinalBackupTags"] == [{"Key": "Name", "Value": "final"}]
    final = backups(fsx)[deleted["WindowsResponse"]["FinalBackupId"]]
    assert final["Tags"] == [{"Key": "Name", "Value": "final"}]

    other = fsx.create_file_system(type="WINDOWS")
    error = client_error(
        client.delete_file_system,
        FileSystemId=other,
        WindowsConfiguration={
            "SkipFinalBackup": True,
            "FinalBackupTags": [{"Key": "Name", "Value": "final"}],
        },
    )
    assert code_of(error) == "BadRequest"
    assert "WindowsConfiguration.FinalBackupTags" in error.response["Error"]["Message"]
    error = client_error(
        client.delete_file_system,
        FileSystemId=other,
        WindowsConfiguration={"FinalBackupTags": [{"Key": "aws:x", "Value": "1"}]},
    )
    assert code_of(error) == "BadRequest"
    assert "WindowsConfiguration.FinalBackupTags[0].Key" in error.response["Error"]["Message"]
    assert lifecycle_of(fsx, other) == "AVAILABLE"


def test_another_types_delete_configuration_is_refused(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    file_system_id = fsx.create_file_system(type="WINDOWS")
    error = client_error(
        fsx.client().delete_file_system,
        FileSystemId=file_system_id,
        LustreConfiguration={"SkipFinalBackup": True},
    )
    assert code_of(error) == "BadRequest"
    assert "LustreConfiguration" in error.response["Error"]["Message"]
    assert lifecycle_of(fsx, file_system_id) == "AVAILABLE"


def test_a_retried_delete_answers_the_same_and_takes_one_final_backup(fsx: Emulator) -> None:
    file_system_id = fsx.create_file_system(type="OPENZFS")
    fsx.set_faults(delete_seconds=10)
    fsx.freeze_clock()
    first = fsx.client().delete_file_system(FileSystemId=file_system_id)
    again = fsx.client().delete_file_system(FileSystemId=file_system_id)
    assert again["OpenZFSResponse"] == first["OpenZFSResponse"]
    assert len(backups(fsx)) == 1
    fsx.advance_clock(10)
    with pytest.raises(fsx.client().exceptions.FileSystemNotFound):
        fsx.client().delete_file_system(FileSystemId=file_system_id)


def test_a_final_backup_beside_one_in_progress_is_refused(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    file_system_id = fsx.create_file_system(type="WINDOWS")
    fsx.set_faults(backup_seconds=5)
    fsx.freeze_clock()
    fsx.client().create_backup(FileSystemId=file_system_id)
    error = client_error(fsx.client().delete_file_system, FileSystemId=file_system_id)
    assert code_of(error) == "BadRequest"
    assert "skip the final backup" in error.response["Error"]["Message"]
    skipped = fsx.client().delete_file_system(
        FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True}
    )
    assert skipped["Lifecycle"] == "DELETING"


def test_injected_backup_failure_reaches_the_final_backup(fsx: Emulator) -> None:
    file_system_id = fsx.create_file_system(type="WINDOWS")
    fsx.set_faults(fail_next_backups={file_system_id: "final backup broke"})
    deleted = fsx.client().delete_file_system(FileSystemId=file_system_id)
    final = backups(fsx)[deleted["WindowsResponse"]["FinalBackupId"]]
    assert final["Lifecycle"] == "FAILED"
    assert final["FailureDetails"] == {"Message": "final backup broke"}
    # The file system is deleted all the same.
    assert file_system_ids(fsx) == set()


def test_a_gone_file_system_takes_its_tags_and_arn_with_it(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    file_system_id = fsx.create_file_system(tags={"team": "storage"})
    [described] = fsx.client().describe_file_systems(FileSystemIds=[file_system_id])["FileSystems"]
    fsx.set_faults(delete_seconds=3)
    fsx.freeze_clock()
    fsx.client().delete_file_system(FileSystemId=file_system_id)
    # While DELETING, it still has its tags.
    tags = fsx.client().list_tags_for_resource(ResourceARN=described["ResourceARN"])["Tags"]
    assert tags == [{"Key": "team", "Value": "storage"}]
    fsx.advance_clock(3)
    error = client_error(fsx.client().list_tags_for_resource, ResourceARN=described["ResourceARN"])
    assert code_of(error) == "ResourceNotFound"


def test_delete_seconds_follow_restore_seconds_unless_set(fsx: Emulator) -> None:
    assert fsx.faults()["delete_seconds"] == 0
    assert fsx.set_faults(backup_seconds=6)["delete_seconds"] == 6
    assert fsx.set_faults(restore_seconds=4)["delete_seconds"] == 4
    assert fsx.set_faults(delete_seconds=2)["delete_seconds"] == 2
    assert fsx.set_faults(restore_seconds=5)["delete_seconds"] == 2
    fsx.reset()
    assert fsx.faults()["delete_seconds"] == 0


def test_holding_a_deleting_file_system(fsx: Emulator) -> None:
    file_system_id = fsx.create_file_system()
    fsx.set_faults(delete_seconds=5)
    fsx.freeze_clock()
    fsx.hold(file_system_id)
    fsx.client().delete_file_system(FileSystemId=file_system_id)
    fsx.advance_clock(60)
    assert lifecycle_of(fsx, file_system_id) == "DELETING"
    fsx.release(file_system_id)
    fsx.advance_clock(5)
    assert file_system_ids(fsx) == set()


# ---- restored resources -------------------------------------------------------------


def test_the_restore_test_cycle_leaves_only_the_backup_behind(fsx: Emulator) -> None:
    """Restore a backup, wait for AVAILABLE, delete it skipping the final backup."""
    source_id = fsx.create_file_system(type="WINDOWS")
    backup_id = fsx.client().create_backup(FileSystemId=source_id)["Backup"]["BackupId"]
    fsx.set_faults(restore_seconds=30, delete_seconds=20)
    fsx.freeze_clock()
    restored = fsx.client().create_file_system_from_backup(
        BackupId=backup_id, SubnetIds=[DEFAULT_SUBNET_ID], ClientRequestToken="restore-test"
    )["FileSystem"]["FileSystemId"]
    fsx.advance_clock(30)
    assert lifecycle_of(fsx, restored) == "AVAILABLE"
    deleted = fsx.client().delete_file_system(
        FileSystemId=restored, WindowsConfiguration={"SkipFinalBackup": True}
    )
    assert "WindowsResponse" not in deleted
    fsx.advance_clock(20)
    assert file_system_ids(fsx) == {source_id}
    assert set(backups(fsx)) == {backup_id}
    # Its token still answers with what it made, gone as it is.
    replay = fsx.client().create_file_system_from_backup(
        BackupId=backup_id, SubnetIds=[DEFAULT_SUBNET_ID], ClientRequestToken="restore-test"
    )["FileSystem"]
    assert (replay["FileSystemId"], replay["Lifecycle"]) == (restored, "DELETING")
    assert file_system_ids(fsx) == {source_id}


def test_a_file_system_still_creating_cannot_be_deleted(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    backup_id = fsx.client().create_backup(FileSystemId=fsx.create_file_system())["Backup"][
        "BackupId"
    ]
    fsx.set_faults(restore_seconds=5)
    fsx.freeze_clock()
    restored = fsx.client().create_file_system_from_backup(
        BackupId=backup_id, SubnetIds=[DEFAULT_SUBNET_ID]
    )["FileSystem"]["FileSystemId"]
    error = client_error(fsx.client().delete_file_system, FileSystemId=restored)
    assert code_of(error) == "BadRequest"
    assert "CREATING" in error.response["Error"]["Message"]
    fsx.advance_clock(5)
    assert fsx.client().delete_file_system(FileSystemId=restored)["Lifecycle"] == "DELETING"


def test_a_failed_restore_is_deleted_without_a_final_backup(fsx: Emulator) -> None:
    backup_id = fsx.client().create_backup(FileSystemId=fsx.create_file_system(type="WINDOWS"))[
        "Backup"
    ]["BackupId"]
    fsx.set_faults(fail_next_restores={backup_id: "restore broke"})
    restored = fsx.client().create_file_system_from_backup(
        BackupId=backup_id, SubnetIds=[DEFAULT_SUBNET_ID]
    )["FileSystem"]
    assert restored["Lifecycle"] == "FAILED"
    deleted = fsx.client().delete_file_system(FileSystemId=restored["FileSystemId"])
    assert "WindowsResponse" not in deleted
    assert set(backups(fsx)) == {backup_id}


# ---- DeleteVolume -------------------------------------------------------------------


def test_delete_volume_takes_a_final_backup_by_default(fsx: Emulator) -> None:
    volume_id = fsx.create_ontap_volume(tags={"team": "storage"}, copy_tags_to_backups=True)
    fsx.set_faults(delete_seconds=8)
    fsx.freeze_clock()
    deleted = fsx.client().delete_volume(VolumeId=volume_id)
    assert (deleted["VolumeId"], deleted["Lifecycle"]) == (volume_id, "DELETING")
    final = backups(fsx)[deleted["OntapResponse"]["FinalBackupId"]]
    assert (final["ResourceType"], final["Type"]) == ("VOLUME", "USER_INITIATED")
    assert final["Volume"]["VolumeId"] == volume_id
    assert final["Tags"] == [{"Key": "team", "Value": "storage"}]
    assert deleted["OntapResponse"]["FinalBackupTags"] == final["Tags"]
    [deleting] = fsx.client().describe_volumes(VolumeIds=[volume_id])["Volumes"]
    assert deleting["Lifecycle"] == "DELETING"
    fsx.advance_clock(8)
    with pytest.raises(fsx.client().exceptions.VolumeNotFound):
        fsx.client().describe_volumes(VolumeIds=[volume_id])


def test_delete_volume_options(fsx: Emulator, client_error: ClientErrorOf) -> None:
    client = fsx.client()
    skipped = client.delete_volume(
        VolumeId=fsx.create_ontap_volume(name="a"),
        OntapConfiguration={"SkipFinalBackup": True, "BypassSnaplockEnterpriseRetention": False},
    )
    assert "OntapResponse" not in skipped
    assert backups(fsx) == {}

    tagged = client.delete_volume(
        VolumeId=fsx.create_ontap_volume(name="b", tags={"team": "x"}, copy_tags_to_backups=True),
        OntapConfiguration={"FinalBackupTags": [{"Key": "Name", "Value": "final"}]},
    )
    assert tagged["OntapResponse"]["FinalBackupTags"] == [{"Key": "Name", "Value": "final"}]

    volume_id = fsx.create_ontap_volume(name="c")
    openzfs = client_error(
        client.delete_volume,
        VolumeId=volume_id,
        OpenZFSConfiguration={"Options": ["DELETE_CHILD_VOLUMES_AND_SNAPSHOTS"]},
    )
    assert code_of(openzfs) == "BadRequest"
    assert "OntapConfiguration" in openzfs.response["Error"]["Message"]
    unknown = client_error(client.delete_volume, VolumeId="fsvol-0123456789abcdef0")
    assert code_of(unknown) == "VolumeNotFound"


def test_a_restored_volume_is_deleted_after_it_is_created(
    fsx: Emulator, client_error: ClientErrorOf
) -> None:
    volume_id = fsx.create_ontap_volume()
    backup_id = fsx.client().create_backup(VolumeId=volume_id)["Backup"]["BackupId"]
    fsx.set_faults(restore_seconds=5)
    fsx.freeze_clock()
    restored = fsx.client().create_volume_from_backup(
        BackupId=backup_id,
        Name="restored",
        OntapConfiguration={"StorageVirtualMachineId": svm_of(fsx, volume_id)},
    )["Volume"]["VolumeId"]
    error = client_error(fsx.client().delete_volume, VolumeId=restored)
    assert code_of(error) == "BadRequest"
    fsx.advance_clock(5)
    deleted = fsx.client().delete_volume(
        VolumeId=restored, OntapConfiguration={"SkipFinalBackup": True}
    )
    assert deleted["Lifecycle"] == "DELETING"
    fsx.advance_clock(5)
    assert [v["VolumeId"] for v in fsx.client().describe_volumes()["Volumes"]] == [volume_id]
    assert set(backups(fsx)) == {backup_id}


def test_openzfs_delete_options_are_checked(fsx: Emulator, client_error: ClientErrorOf) -> None:
    file_system_id = fsx.create_file_system(type="OPENZFS")
    error = client_error(
        fsx.client().delete_file_system,
        FileSystemId=file_system_id,
        OpenZFSConfiguration={"Options": ["DELETE_EVERYTHING"]},
    )
    assert code_of(error) == "BadRequest"
    assert "OpenZFSConfiguration.Options" in error.response["Error"]["Message"]
    deleted = fsx.client().delete_file_system(
        FileSystemId=file_system_id,
        OpenZFSConfiguration={
            "SkipFinalBackup": True,
            "Options": ["DELETE_CHILD_VOLUMES_AND_SNAPSHOTS"],
        },
    )
    assert deleted["Lifecycle"] == "DELETING"

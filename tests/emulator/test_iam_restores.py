"""IAM for restore tests (docs/iam.md, "Restore tests"): each action is judged, and the
actions FSx implies (tags on create, final backups) are judged too."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fsx_emulator import Emulator, EmulatorProcess
from fsx_emulator.client import DEFAULT_SUBNET_ID

if TYPE_CHECKING:
    from mypy_boto3_fsx import FSxClient

POLICY_PAGE = Path(__file__).resolve().parents[2] / "docs" / "iam.md"
# CreateUser, CreatePolicy, AttachUserPolicy and CreateAccessKey for the administrator.
SETUP_CALLS = 4
REGION = "us-east-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
TAGS = [{"Key": "Name", "Value": "restore-test"}]


def restore_test_policy() -> dict[str, Any]:
    """The JSON policy under the page's "Restore tests" heading."""
    section = POLICY_PAGE.read_text().split("## Restore tests", 1)[1]
    found = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert found is not None, f"{POLICY_PAGE} has no policy under 'Restore tests'"
    policy: dict[str, Any] = json.loads(found.group(1))
    return policy


def actions_of(policy: dict[str, Any]) -> list[str]:
    return [action for statement in policy["Statement"] for action in statement["Action"]]


def without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    trimmed = copy.deepcopy(policy)
    for statement in trimmed["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    return trimmed


class SignedEmulator(Emulator):
    """The emulator's seeding helpers, signing with the given session's keys."""

    def __init__(self, endpoint_url: str, session: boto3.session.Session) -> None:
        super().__init__(endpoint_url, REGION)
        self._signed: FSxClient = session.client(
            "fsx", endpoint_url=endpoint_url, config=NO_RETRIES
        )

    def client(self, config: Config | None = None, region: str | None = None) -> FSxClient:
        return self._signed


@dataclass
class World:
    admin: SignedEmulator
    endpoint_url: str
    iam: Any
    file_system_backup: str
    volume_backup: str
    svm_id: str

    def user_key(self, name: str, policy: dict[str, Any]) -> dict[str, Any]:
        self.iam.create_user(UserName=name)
        self.iam.put_user_policy(
            UserName=name, PolicyName="restore-test", PolicyDocument=json.dumps(policy)
        )
        key: dict[str, Any] = self.iam.create_access_key(UserName=name)["AccessKey"]
        return key

    def user(self, name: str, policy: dict[str, Any]) -> FSxClient:
        key = self.user_key(name, policy)
        session = boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name=REGION,
        )
        fsx: FSxClient = session.client("fsx", endpoint_url=self.endpoint_url, config=NO_RETRIES)
        return fsx

    def file_system_ids(self) -> set[str]:
        found = self.admin.client().describe_file_systems()["FileSystems"]
        return {fs["FileSystemId"] for fs in found}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with EmulatorProcess(enforce_iam=SETUP_CALLS, backup_seconds=0) as emulator:
        url = emulator.endpoint_url
        setup = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        ).client("iam", endpoint_url=url)
        setup.create_user(UserName="admin")
        everything = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        arn = setup.create_policy(PolicyName="admin", PolicyDocument=json.dumps(everything))
        setup.attach_user_policy(UserName="admin", PolicyArn=arn["Policy"]["Arn"])
        key = setup.create_access_key(UserName="admin")["AccessKey"]
        session = boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name=REGION,
        )
        admin = SignedEmulator(url, session)
        fsx = admin.client()
        file_system_backup = fsx.create_backup(FileSystemId=admin.create_file_system())["Backup"][
            "BackupId"
        ]
        volume_id = admin.create_ontap_volume()
        [volume] = fsx.describe_volumes(VolumeIds=[volume_id])["Volumes"]
        volume_backup = fsx.create_backup(VolumeId=volume_id)["Backup"]["BackupId"]
        yield World(
            admin=admin,
            endpoint_url=url,
            iam=session.client("iam", endpoint_url=url),
            file_system_backup=file_system_backup,
            volume_backup=volume_backup,
            svm_id=volume["OntapConfiguration"]["StorageVirtualMachineId"],
        )


def denied_action(error: ClientError) -> str:
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    found = re.search(r"not authorized to perform: (\S+)", error.response["Error"]["Message"])
    assert found is not None, error.response["Error"]["Message"]
    return found.group(1)


def test_the_restore_test_policy_runs_a_restore_test(world: World) -> None:
    policy = restore_test_policy()
    fsx = world.user("restorer", policy)
    restored = fsx.create_file_system_from_backup(
        BackupId=world.file_system_backup, SubnetIds=[DEFAULT_SUBNET_ID], Tags=TAGS
    )["FileSystem"]["FileSystemId"]
    [described] = fsx.describe_file_systems(FileSystemIds=[restored])["FileSystems"]
    assert described["Lifecycle"] == "AVAILABLE"
    fsx.delete_file_system(
        FileSystemId=restored,
        LustreConfiguration={
            "SkipFinalBackup": True,
        },
    )
    volume = fsx.create_volume_from_backup(
        BackupId=world.volume_backup,
        Name="restored",
        OntapConfiguration={"StorageVirtualMachineId": world.svm_id},
        Tags=TAGS,
    )["Volume"]["VolumeId"]
    assert fsx.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Lifecycle"] == "CREATED"
    fsx.delete_volume(VolumeId=volume, OntapConfiguration={"SkipFinalBackup": True})
    assert fsx.describe_backups()["Backups"]
    assert restored not in world.file_system_ids()


@pytest.mark.parametrize(
    "action",
    [
        "fsx:CreateFileSystemFromBackup",
        "fsx:CreateVolumeFromBackup",
        "fsx:DeleteFileSystem",
        "fsx:DeleteVolume",
        "fsx:DescribeFileSystems",
        "fsx:DescribeVolumes",
        "fsx:DescribeBackups",
        "fsx:TagResource",
    ],
)
def test_each_action_of_the_policy_is_judged(world: World, action: str) -> None:
    policy = restore_test_policy()
    assert action in actions_of(policy)
    fsx = world.user(f"without-{action.removeprefix('fsx:').lower()}", without(policy, action))
    admin = world.admin.client()
    # A file system and a volume for the deletes, restored by the administrator.
    target_fs = admin.create_file_system_from_backup(
        BackupId=world.file_system_backup, SubnetIds=[DEFAULT_SUBNET_ID]
    )["FileSystem"]["FileSystemId"]
    target_volume = admin.create_volume_from_backup(
        BackupId=world.volume_backup,
        Name="target",
        OntapConfiguration={"StorageVirtualMachineId": world.svm_id},
    )["Volume"]["VolumeId"]
    calls: dict[str, Any] = {
        "fsx:CreateFileSystemFromBackup": lambda: fsx.create_file_system_from_backup(
            BackupId=world.file_system_backup, SubnetIds=[DEFAULT_SUBNET_ID]
        ),
        "fsx:CreateVolumeFromBackup": lambda: fsx.create_volume_from_backup(
            BackupId=world.volume_backup,
            Name="v",
            OntapConfiguration={"StorageVirtualMachineId": world.svm_id},
        ),
        "fsx:DeleteFileSystem": lambda: fsx.delete_file_system(
            FileSystemId=target_fs, LustreConfiguration={"SkipFinalBackup": True}
        ),
        "fsx:DeleteVolume": lambda: fsx.delete_volume(
            VolumeId=target_volume, OntapConfiguration={"SkipFinalBackup": True}
        ),
        "fsx:DescribeFileSystems": lambda: fsx.describe_file_systems(),
        "fsx:DescribeVolumes": lambda: fsx.describe_volumes(),
        "fsx:DescribeBackups": lambda: fsx.describe_backups(),
        # Tags on a restore need fsx:TagResource besides the restore's own action.
        "fsx:TagResource": lambda: fsx.create_file_system_from_backup(
            BackupId=world.file_system_backup, SubnetIds=[DEFAULT_SUBNET_ID], Tags=TAGS
        ),
    }
    before = world.file_system_ids()
    volumes_before = len(admin.describe_volumes()["Volumes"])
    with pytest.raises(ClientError) as denied:
        calls[action]()
    assert denied_action(denied.value) == action
    assert world.file_system_ids() == before
    assert len(admin.describe_volumes()["Volumes"]) == volumes_before
    [still] = admin.describe_file_systems(FileSystemIds=[target_fs])["FileSystems"]
    assert still["Lifecycle"] == "AVAILABLE"


def test_tag_on_create_and_final_backups_are_judged(world: World) -> None:
    """The actions FSx implies, for a user allowed everything but TagResource and
    CreateBackup."""
    everything_but = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "fsx:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": ["fsx:TagResource", "fsx:CreateBackup"],
                "Resource": "*",
            },
        ],
    }
    fsx = world.user("no-tagging", everything_but)
    admin = world.admin.client()
    lustre = world.admin.create_file_system()
    windows = world.admin.create_file_system(type="WINDOWS")
    attempts = {
        "volume restore with tags": lambda: fsx.create_volume_from_backup(
            BackupId=world.volume_backup,
            Name="v",
            OntapConfiguration={"StorageVirtualMachineId": world.svm_id},
            Tags=TAGS,
        ),
        "copy with tags": lambda: fsx.copy_backup(
            SourceBackupId=world.file_system_backup, Tags=TAGS
        ),
        "final backup tags": lambda: fsx.delete_file_system(
            FileSystemId=windows, WindowsConfiguration={"FinalBackupTags": TAGS}
        ),
    }
    for what, attempt in attempts.items():
        with pytest.raises(ClientError) as denied:
            attempt()
        assert denied_action(denied.value) == "fsx:TagResource", what
    with pytest.raises(ClientError) as denied:
        fsx.delete_file_system(FileSystemId=lustre, LustreConfiguration={"SkipFinalBackup": False})
    assert denied_action(denied.value) == "fsx:CreateBackup"
    for file_system_id in (lustre, windows):
        [still] = admin.describe_file_systems(FileSystemIds=[file_system_id])["FileSystems"]
        assert still["Lifecycle"] == "AVAILABLE"
    # Without tags, and skipping the final backup, the same user may do all of it.
    fsx.copy_backup(SourceBackupId=world.file_system_backup)
    fsx.delete_file_system(FileSystemId=lustre)
    fsx.delete_file_system(FileSystemId=windows, WindowsConfiguration={"SkipFinalBackup": True})
    assert not {lustre, windows} & world.file_system_ids()

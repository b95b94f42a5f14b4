"""Least privilege: the policy in docs/iam.md is all the provider needs, and all of it is needed.

A dedicated emulator enforces IAM (moto's auth mode, `--enforce-iam`). Its first
SETUP_CALLS requests make an administrator; the administrator then makes the test users
and seeds file systems and backups. Each Pulumi step runs with one user's access keys in
the provider's environment:

- the user holding the documented policy runs up (with tags), preview, a tag update,
  refresh, import and destroy, and a user with no FSx permission runs preview;
- for each action of the policy, a user holding the policy minus that action runs the step
  that needs it, which fails with FSx's AccessDeniedException naming that action, and the
  state keeps what it had.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
import pulumi
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from pulumi import automation as auto

from fsx_backup_provider import FsxBackup, FsxBackupArgs, FsxBackupCopy
from fsx_backup_provider.core.holder import without_holder
from fsx_emulator import Emulator, EmulatorProcess
from tests.conftest import PROJECT, resources_of_type
from tests.e2e.conftest import REGION, preview_first, quiet
from tools.workspace import inline_stack

if TYPE_CHECKING:
    from mypy_boto3_fsx import FSxClient
    from mypy_boto3_iam import IAMClient

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
POLICY_PAGE = ROOT / "docs" / "iam.md"
FSX_MODULE = ROOT / "fsx_backup_provider" / "aws" / "fsx.py"

ACTIONS = (
    "fsx:CreateBackup",
    "fsx:CopyBackup",
    "fsx:DescribeBackups",
    "fsx:DeleteBackup",
    "fsx:TagResource",
    "fsx:UntagResource",
)
# CreateUser, CreatePolicy, AttachUserPolicy and CreateAccessKey for the administrator:
# the requests the emulator serves before it starts enforcing IAM.
SETUP_CALLS = 4
DR_REGION = "eu-west-1"
FULL = "full-policy"
NO_FSX = "no-fsx-permission"
TAGS = {"Name": "iam", "Env": "test"}

Policy = dict[str, Any]


def documented_policy() -> Policy:
    """The JSON policy of docs/iam.md: the tests check exactly what the page says."""
    found = re.search(r"```json\n(.*?)```", POLICY_PAGE.read_text(), re.DOTALL)
    assert found is not None, f"{POLICY_PAGE} has no ```json block"
    policy: Policy = json.loads(found.group(1))
    return policy


def granted_actions(policy: Policy) -> set[str]:
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def without(policy: Policy, action: str) -> Policy:
    trimmed = copy.deepcopy(policy)
    for statement in trimmed["Statement"]:
        listed = statement["Action"]
        statement["Action"] = [
            a for a in ([listed] if isinstance(listed, str) else listed) if a != action
        ]
    return trimmed


def user_without(action: str) -> str:
    return f"without-{action.removeprefix('fsx:').lower()}"


class SignedEmulator(Emulator):
    """The emulator's seeding helpers, signing their FSx calls with the given keys."""

    def __init__(self, endpoint_url: str, region: str, session: boto3.session.Session) -> None:
        super().__init__(endpoint_url, region)
        self._signed = session
        self._fsx: FSxClient = session.client("fsx", endpoint_url=endpoint_url)

    def client(self, config: Config | None = None) -> FSxClient:
        if config is not None:
            return self._signed.client("fsx", endpoint_url=self.endpoint_url, config=config)
        return self._fsx


@dataclass
class IamWorld:
    """The IAM-enforcing emulator, its administrator and the test users' credentials."""

    admin: SignedEmulator
    users: dict[str, dict[str, str]]

    @property
    def fsx(self) -> FSxClient:
        return self.admin.client()

    def live_tags(self, backup_id: str) -> dict[str, str]:
        [backup] = self.fsx.describe_backups(BackupIds=[backup_id])["Backups"]
        # As declared: less the provider's own fsx-backup:stack tag.
        return without_holder({tag["Key"]: tag["Value"] for tag in backup.get("Tags", [])})

    def live_backup_ids(self) -> set[str]:
        return {backup["BackupId"] for backup in self.fsx.describe_backups()["Backups"]}


def _session(key_id: str, secret: str) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=REGION
    )


def _make_user(iam: IAMClient, name: str, policy: Policy | None) -> dict[str, str]:
    """A user with `policy` inline (None: no policy at all); its keys as provider env vars."""
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(
            UserName=name, PolicyName="fsx-backup-provider", PolicyDocument=json.dumps(policy)
        )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def world() -> Iterator[IamWorld]:
    with EmulatorProcess(enforce_iam=SETUP_CALLS, backup_seconds=1) as emulator:
        url = emulator.endpoint_url
        setup = _session("testing", "testing").client("iam", endpoint_url=url)
        setup.create_user(UserName="admin")
        everything = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        created = setup.create_policy(PolicyName="admin", PolicyDocument=json.dumps(everything))
        setup.attach_user_policy(UserName="admin", PolicyArn=created["Policy"]["Arn"])
        key = setup.create_access_key(UserName="admin")["AccessKey"]

        # The budget is spent: from here on, every request is judged by IAM.
        with pytest.raises(ClientError) as unknown:
            emulator.client().describe_backups()
        assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"

        admin_session = _session(key["AccessKeyId"], key["SecretAccessKey"])
        iam = admin_session.client("iam", endpoint_url=url)
        policy = documented_policy()
        users = {FULL: _make_user(iam, FULL, policy), NO_FSX: _make_user(iam, NO_FSX, None)}
        for action in ACTIONS:
            users[user_without(action)] = _make_user(
                iam, user_without(action), without(policy, action)
            )
        yield IamWorld(SignedEmulator(url, REGION, admin_session), users)


def program_of(spec: dict[str, dict[str, Any]]) -> auto.PulumiFn:
    """One FsxBackup per entry of `spec` (read at each run); `import_` adopts a backup;
    an entry with `copy_of` is an FsxBackupCopy (in DR_REGION) of that entry's backup."""

    def program() -> None:
        made: dict[str, FsxBackup | FsxBackupCopy] = {}
        for name, entry in spec.items():
            args = {key: value for key, value in entry.items() if key not in ("import_", "copy_of")}
            opts = pulumi.ResourceOptions(import_=entry["import_"]) if "import_" in entry else None
            if "copy_of" in entry:
                source = made[entry["copy_of"]]
                made[name] = FsxBackupCopy(
                    name, source.backup_id, source_region=REGION, region=DR_REGION, **args
                )
            else:
                made[name] = FsxBackup(name, FsxBackupArgs(**args), opts=opts)
            pulumi.export(
                name,
                {
                    "backup_id": made[name].backup_id,
                    "lifecycle": made[name].lifecycle,
                    "arn": made[name].arn,
                },
            )

    return program


class IamStack:
    """A stack whose FsxBackups talk to the IAM-enforcing emulator as a chosen user."""

    def __init__(
        self, world: IamWorld, pulumi_env: dict[str, str], spec: dict[str, dict[str, Any]]
    ) -> None:
        self.world = world
        self.pulumi_env = pulumi_env
        self.spec = spec
        # Its up() previews first, as a plain `pulumi up` (a preview makes no FSx call).
        self.stack = preview_first(
            inline_stack(pulumi_env, program_of(spec), PROJECT, extra_env=world.users[FULL])
        )
        self.stack.set_config("aws:region", auto.ConfigValue(REGION))
        self.stack.set_config(
            "aws:endpoints", auto.ConfigValue(json.dumps([{"fsx": world.admin.endpoint_url}]))
        )

    def as_user(self, user: str) -> auto.Stack:
        """The stack, its next operation running with `user`'s access keys."""
        self.stack.workspace.env_vars = {**self.pulumi_env, **self.world.users[user]}
        return self.stack

    def fsx_backups(self) -> list[dict[str, Any]]:
        return resources_of_type(self.stack, ":FsxBackup")


@contextmanager
def iam_stack(
    world: IamWorld, pulumi_env: dict[str, str], spec: dict[str, dict[str, Any]]
) -> Iterator[IamStack]:
    made = IamStack(world, pulumi_env, spec)
    try:
        yield made
    finally:
        try:
            made.as_user(FULL).destroy(on_output=quiet)
        finally:
            made.stack.workspace.remove_stack(made.stack.name)


def outputs(result: auto.UpResult) -> dict[str, Any]:
    return {key: value.value for key, value in result.outputs.items()}


def test_policy_allows_exactly_the_fsx_calls_the_provider_makes() -> None:
    """fsx.py is the only module that calls FSx; the provider's policy and the restore
    test's (docs/iam.md "Restore tests") together allow exactly what it calls."""
    from tests.emulator.test_iam_restores import actions_of, restore_test_policy

    model = botocore.session.get_session().get_service_model("fsx")
    method_to_api = {xform_name(name): name for name in model.operation_names}
    source = FSX_MODULE.read_text()
    called = set(re.findall(r"self\._client\.([a-z_]+)\(", source)) - {"get_paginator"}
    called |= set(re.findall(r"self\._client\.get_paginator\(\"([a-z_]+)\"\)", source))
    assert called, f"found no FSx call in {FSX_MODULE}"
    restore_test = set(actions_of(restore_test_policy()))
    assert {f"fsx:{method_to_api[method]}" for method in called} == set(ACTIONS) | restore_test
    policy = documented_policy()
    assert granted_actions(policy) == set(ACTIONS)
    assert all(statement["Resource"] == "*" for statement in policy["Statement"])


def test_documented_policy_runs_every_step(world: IamWorld, pulumi_env: dict[str, str]) -> None:
    fs_id = world.admin.create_file_system()
    spec: dict[str, dict[str, Any]] = {"b": {"file_system_id": fs_id, "tags": dict(TAGS)}}
    with iam_stack(world, pulumi_env, spec) as stack:
        # up: CreateBackup with Tags, then DescribeBackups until AVAILABLE.
        tag_calls = world.admin.calls().get("TagResource", 0)
        up = outputs(stack.as_user(FULL).up(on_output=quiet))["b"]
        backup_id = up["backup_id"]
        assert up["lifecycle"] == "AVAILABLE"
        assert world.live_tags(backup_id) == TAGS
        assert world.admin.calls().get("TagResource", 0) == tag_calls  # tagged on create

        # preview plans a tag change from check and diff alone: no FSx permission needed.
        spec["b"]["tags"] = {"Name": "iam", "Team": "storage"}
        calls = world.admin.calls()
        for user in (NO_FSX, FULL):
            preview = stack.as_user(user).preview(on_output=quiet)
            assert preview.change_summary == {auto.OpType.UPDATE: 1, auto.OpType.SAME: 3}
        assert world.admin.calls() == calls

        # tag update in place: TagResource (Team), UntagResource (Env), DescribeBackups.
        result = stack.as_user(FULL).up(on_output=quiet)
        assert result.summary.resource_changes == {"update": 1, "same": 3}
        assert outputs(result)["b"]["backup_id"] == backup_id
        assert world.live_tags(backup_id) == {"Name": "iam", "Team": "storage"}

        # refresh reads a tag added outside Pulumi.
        world.fsx.tag_resource(ResourceARN=up["arn"], Tags=[{"Key": "Outside", "Value": "1"}])
        stack.as_user(FULL).refresh(on_output=quiet)
        [state] = stack.fsx_backups()
        assert state["outputs"]["tags_all"] == {"Name": "iam", "Team": "storage", "Outside": "1"}

        # import adopts a backup made outside Pulumi, with no CreateBackup (and the same
        # up removes the outside tag from the first backup again).
        other_fs = world.admin.create_file_system()
        existing = world.fsx.create_backup(
            FileSystemId=other_fs, Tags=[{"Key": "Name", "Value": "adopted"}]
        )["Backup"]["BackupId"]
        spec["adopted"] = {
            "file_system_id": other_fs,
            "tags": {"Name": "adopted"},
            "import_": existing,
        }
        creates = world.admin.calls().get("CreateBackup", 0)
        imported = outputs(stack.as_user(FULL).up(on_output=quiet))
        assert imported["adopted"]["backup_id"] == existing
        assert imported["adopted"]["lifecycle"] == "AVAILABLE"
        assert world.admin.calls().get("CreateBackup", 0) == creates
        assert world.live_tags(backup_id) == {"Name": "iam", "Team": "storage"}

        # a copy of the first backup in another Region: CopyBackup with Tags.
        spec["dr"] = {"copy_of": "b", "tags": {"Name": "dr"}}
        copied = outputs(stack.as_user(FULL).up(on_output=quiet))["dr"]
        assert copied["lifecycle"] == "AVAILABLE" and f":{DR_REGION}:" in copied["arn"]

        # destroy: DeleteBackup of all three.
        stack.as_user(FULL).destroy(on_output=quiet)
        assert stack.fsx_backups() == []
        assert not {backup_id, existing} & world.live_backup_ids()


@dataclass
class Deployed:
    """A stack holding one backup with TAGS, made by the user with the full policy."""

    stack: IamStack
    backup_id: str
    arn: str
    spare_fs_id: str


@pytest.fixture(scope="module")
def deployed(world: IamWorld, pulumi_env: dict[str, str]) -> Iterator[Deployed]:
    spec: dict[str, dict[str, Any]] = {
        "b": {"file_system_id": world.admin.create_file_system(), "tags": dict(TAGS)}
    }
    with iam_stack(world, pulumi_env, spec) as stack:
        up = outputs(stack.as_user(FULL).up(on_output=quiet))["b"]
        yield Deployed(stack, up["backup_id"], up["arn"], world.admin.create_file_system())


@dataclass(frozen=True)
class Step:
    """What a user lacking one action runs, and the live tags the denial leaves."""

    run: Callable[[Deployed], object]
    tags_left: Mapping[str, str]


def _create_another(deployed: Deployed) -> object:
    deployed.stack.spec["another"] = {"file_system_id": deployed.spare_fs_id}
    return deployed.stack.stack.up(on_output=quiet)


def _copy(deployed: Deployed) -> object:
    deployed.stack.spec["dr"] = {"copy_of": "b"}
    return deployed.stack.stack.up(on_output=quiet)


def _add_tag(deployed: Deployed) -> object:
    deployed.stack.spec["b"]["tags"] = {**TAGS, "Added": "yes"}
    return deployed.stack.stack.up(on_output=quiet)


def _remove_tag(deployed: Deployed) -> object:
    deployed.stack.spec["b"]["tags"] = {"Name": TAGS["Name"]}
    return deployed.stack.stack.up(on_output=quiet)


def _destroy(deployed: Deployed) -> object:
    return deployed.stack.stack.destroy(on_output=quiet)


STEPS = {
    # up of a new backup: CreateBackup is refused before anything is made.
    "fsx:CreateBackup": Step(_create_another, TAGS),
    # up of a new copy: CopyBackup is refused before anything is made.
    "fsx:CopyBackup": Step(_copy, TAGS),
    # Every up first checks that the backups the stack holds still exist (the seed's
    # check, docs/design.md): refused before anything changes.
    "fsx:DescribeBackups": Step(_add_tag, TAGS),
    "fsx:DeleteBackup": Step(_destroy, TAGS),
    "fsx:TagResource": Step(_add_tag, TAGS),
    "fsx:UntagResource": Step(_remove_tag, TAGS),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_is_needed_by_its_step(
    action: str, world: IamWorld, deployed: Deployed
) -> None:
    step = STEPS[action]
    spec_before = copy.deepcopy(deployed.stack.spec)
    backups_before = world.live_backup_ids()
    deployed.stack.as_user(user_without(action))
    try:
        with pytest.raises(auto.CommandError) as failed:
            step.run(deployed)
        assert world.live_tags(deployed.backup_id) == step.tags_left
    finally:
        deployed.stack.spec.clear()
        deployed.stack.spec.update(spec_before)
        extra = set(world.live_tags(deployed.backup_id)) - set(TAGS)
        if extra:
            world.fsx.untag_resource(ResourceARN=deployed.arn, TagKeys=sorted(extra))

    message = str(failed.value)
    assert "AccessDeniedException" in message
    assert f"is not authorized to perform: {action}" in message
    assert not [other for other in ACTIONS if other != action and f"perform: {other}" in message]
    [state] = deployed.stack.fsx_backups()
    assert state["id"] == deployed.backup_id
    assert state["outputs"]["tags_all"] == TAGS
    assert world.live_backup_ids() == backups_before

"""Drift handled as users expect, nothing foreign deleted, no credential or secret leaked."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from fsx_backup_provider import FsxBackup, FsxBackupCopy
from tests.conftest import resources_of_type
from tests.e2e.conftest import pulumi_cli, quiet
from tools.workspace import preview_first

# How Pulumi's state marks a secret value.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270"
ACCESS_KEY = "AKIAFSXBACKUPLEAKCHK"
SECRET_KEY = "fsx-backup-secret-key-that-must-never-leak-0123"


def live(fsx: Any) -> list[dict[str, Any]]:
    return list(fsx.client().describe_backups()["Backups"])


def test_a_backup_gone_failed_is_replaced(fsx: Any, fsx_stack: Any) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    fsx.set_faults(fail_next_backups={fs_id: "disk array offline"})

    def program() -> None:
        backup = FsxBackup("b", file_system_id=fs_id, wait_for_available=False)
        pulumi.export("backup_id", backup.backup_id)

    stack = fsx_stack(program)
    first = stack.up(on_output=quiet).outputs["backup_id"].value
    time.sleep(1.5)  # the emulator's 1 s backup ends FAILED

    stack.refresh(on_output=quiet)
    [state] = resources_of_type(stack, ":FsxBackup")
    assert state["outputs"]["lifecycle"] == "FAILED"

    result = stack.up(on_output=quiet)
    assert result.summary.resource_changes == {"replace": 1, "update": 1, "same": 2}
    second = result.outputs["backup_id"].value
    assert second != first
    [backup] = live(fsx)  # the FAILED one was deleted after its replacement was made
    assert backup["BackupId"] == second and backup["Lifecycle"] != "FAILED"


def test_destroy_deletes_only_what_the_stack_holds(fsx: Any, fsx_stack: Any) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    foreign = fsx.client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    time.sleep(1.2)  # past the emulator's 1 s backup, so ours is not BackupInProgress for long

    def program() -> None:
        FsxBackup("mine", file_system_id=fs_id)

    stack = fsx_stack(program)
    stack.up(on_output=quiet)
    assert len(live(fsx)) == 2
    stack.destroy(on_output=quiet)
    assert [b["BackupId"] for b in live(fsx)] == [foreign]


def test_credentials_never_reach_state_or_output(fsx: Any, new_stack: Any) -> None:
    fs_id = fsx.create_file_system("LUSTRE")

    def program() -> None:
        FsxBackup(
            "b",
            file_system_id=fs_id,
            tags={"Name": "plain", "Token": pulumi.Output.secret("s3cr3t-tag-value")},
        )

    # Its up() previews first, as a plain `pulumi up` does.
    stack = preview_first(
        new_stack(
            program,
            env={
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_EC2_METADATA_DISABLED": "true",
            },
        )
    )
    stack.set_config("aws:region", auto.ConfigValue("us-east-1"))
    stack.set_config("aws:endpoints", auto.ConfigValue(json.dumps([{"fsx": fsx.endpoint_url}])))
    lines: list[str] = []
    stack.up(on_output=lines.append, color="never")
    stack.preview(on_output=lines.append, color="never")
    stack.refresh(on_output=lines.append, color="never")
    # Automation API's export is `pulumi stack export --show-secrets`.
    exported = json.dumps(stack.export_stack().deployment)

    engine_output = "\n".join(lines)
    for needle in (ACCESS_KEY, SECRET_KEY):
        assert needle not in engine_output
        assert needle not in exported

    # The secret tag value is a secret wherever it appears: in the state file
    # on disk only as ciphertext, in the shown-secrets export only inside
    # secret envelopes, and never in the engine's output.
    backend = Path(stack.workspace.env_vars["PULUMI_BACKEND_URL"].removeprefix("file://"))
    [state_file] = [p for p in backend.rglob(f"{stack.name}.json") if "stacks" in p.parts]
    assert "s3cr3t-tag-value" not in state_file.read_text()
    assert "s3cr3t-tag-value" not in engine_output
    [state] = resources_of_type(stack, ":FsxBackup")
    assert state["inputs"]["tags"]["Token"][SECRET_SIG] == SECRET_MARK
    assert state["outputs"]["tags"]["Token"][SECRET_SIG] == SECRET_MARK
    assert state["outputs"]["tags_all"][SECRET_SIG] == SECRET_MARK
    assert state["outputs"]["tags"]["Name"] == "plain"
    # ...while FSx itself has the real value.
    [backup] = live(fsx)
    assert {"Key": "Token", "Value": "s3cr3t-tag-value"} in backup["Tags"]

    destroy_lines: list[str] = []
    stack.destroy(on_output=destroy_lines.append, color="never")
    assert SECRET_KEY not in "\n".join(destroy_lines)


def test_after_a_refresh_the_plan_shows_only_the_drift(fsx: Any, fsx_stack: Any) -> None:
    """0.1.0 showed `[diff: -client_request_token,region~tags]` for a tag drift."""
    fs_id = fsx.create_file_system("LUSTRE")

    def program() -> None:
        FsxBackup("b", file_system_id=fs_id, tags={"Name": "b"})

    stack = fsx_stack(program)
    stack.up(on_output=quiet)
    [state] = resources_of_type(stack, ":FsxBackup")
    fsx.client().tag_resource(
        ResourceARN=state["outputs"]["arn"], Tags=[{"Key": "Name", "Value": "drifted"}]
    )
    stack.refresh(on_output=quiet)
    events: list[auto.EngineEvent] = []
    stack.preview(on_output=quiet, on_event=events.append)
    [step] = [
        e.resource_pre_event.metadata
        for e in events
        if e.resource_pre_event is not None
        and e.resource_pre_event.metadata.type.endswith(":FsxBackup")
    ]
    assert step.op == auto.OpType.UPDATE
    assert step.old is not None and step.new is not None
    changed = {
        key
        for key in {*step.old.inputs, *step.new.inputs}
        if step.old.inputs.get(key) != step.new.inputs.get(key)
    }
    assert changed == {"tags"}


def test_a_secret_default_tag_makes_tags_all_secret(fsx: Any, fsx_stack: Any) -> None:
    fs_id = fsx.create_file_system("LUSTRE")

    def program() -> None:
        FsxBackup("b", file_system_id=fs_id, tags={"Name": "b"})

    stack = fsx_stack(program)
    stack.set_config(
        "aws:defaultTags.tags.CostCenter",
        auto.ConfigValue("cc-4711-secret", secret=True),
        path=True,
    )
    lines: list[str] = []
    stack.up(on_output=lines.append, color="never")
    [state] = resources_of_type(stack, ":FsxBackup")
    assert state["outputs"]["tags_all"][SECRET_SIG] == SECRET_MARK
    backend = Path(stack.workspace.env_vars["PULUMI_BACKEND_URL"].removeprefix("file://"))
    [state_file] = [p for p in backend.rglob(f"{stack.name}.json") if "stacks" in p.parts]
    assert "cc-4711-secret" not in state_file.read_text()
    assert "cc-4711-secret" not in "\n".join(lines)
    [backup] = live(fsx)
    assert {"Key": "CostCenter", "Value": "cc-4711-secret"} in backup["Tags"]


@pytest.mark.parametrize(
    ("source", "command"),
    [("fs-secretnotvalid", "preview"), ("fs-0123456789abcdef9", "up")],
)
def test_a_secret_source_is_never_quoted_in_errors(
    fsx: Any, fsx_stack: Any, source: str, command: str
) -> None:
    """A bad secret source fails preview, a missing one fails up: neither names it."""

    def program() -> None:
        FsxBackup("b", file_system_id=pulumi.Output.secret(source))

    stack = fsx_stack(program)
    lines: list[str] = []
    with pytest.raises(auto.CommandError) as failed:
        getattr(stack, command)(on_output=lines.append, color="never")
    text = str(failed.value) + "\n".join(lines)
    assert "file_system_id" in text or "file system" in text
    assert source not in text
    assert source[3:] not in text


def test_every_secret_input_stays_secret_in_the_exported_state(fsx: Any, fsx_stack: Any) -> None:
    """Issue 22, 4: `pulumi stack export` without --show-secrets holds no secret input, and
    no value derived from one: the token and Region kept apart under `given`, a copy's KMS
    key, tags a copy took from its source, and the ARN that names a secret Region."""
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    dr = "eu-central-1"
    secret = {
        "token": "backup-token-never-shown-x1",
        "tag": "tag-value-never-shown-x2",
        "kms": "kms-key-never-shown-x3",
        "copy-token": "copy-token-never-shown-x4",
    }

    def program() -> None:
        backup = FsxBackup(
            "b",
            file_system_id=fs_id,
            client_request_token=pulumi.Output.secret(secret["token"]),
            tags={"Name": "plain", "Owner": pulumi.Output.secret(secret["tag"])},
        )
        FsxBackupCopy(
            "c",
            backup.backup_id,
            source_region="us-east-1",
            region=pulumi.Output.secret(dr),
            kms_key_id=pulumi.Output.secret(secret["kms"]),
            copy_tags=True,
            client_request_token=pulumi.Output.secret(secret["copy-token"]),
        )

    stack = fsx_stack(program)
    stack.up(on_output=quiet)
    exports = [pulumi_cli(stack, "stack", "export").stdout]
    stack.refresh(on_output=quiet)
    exports.append(pulumi_cli(stack, "stack", "export").stdout)
    stack.preview(on_output=quiet, expect_no_changes=True)
    for exported in exports:
        for name, value in secret.items():
            assert value not in exported, name
        [copy] = [
            r for r in json.loads(exported)["deployment"]["resources"] if r["urn"].endswith("::c")
        ]
        # The copy's Region is no unique string; wherever the copy's state holds it, it is secret.
        assert dr not in json.dumps(copy), json.dumps(copy, indent=1)
        for key in ("given", "arn", "region", "tags", "tags_all", "kms_key_id"):
            assert copy["outputs"][key][SECRET_SIG] == SECRET_MARK, key
    # FSx has the real values.
    [copy_in_fsx] = fsx.client(region=dr).describe_backups()["Backups"]
    assert copy_in_fsx["KmsKeyId"] == secret["kms"]
    assert {"Key": "Owner", "Value": secret["tag"]} in copy_in_fsx["Tags"]
    stack.destroy(on_output=quiet)

"""FsxBackup end to end: the real engine, the provider process and the emulator.

Assertions look at three things: the stack's outputs, the exported state, and
the emulator (its call counters and DescribeBackups through boto3).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from bench.noop import Noop
from fsx_backup_provider import FsxBackup, FsxBackupArgs
from fsx_backup_provider.core.holder import without_holder
from tests.conftest import resources_of_type
from tests.e2e.conftest import interrupted_tags, quiet, token_for

MUTATING = ("CreateBackup", "DeleteBackup", "TagResource", "UntagResource")
StackMaker = Callable[..., auto.Stack]


def live_backups(fsx: Any) -> list[dict[str, Any]]:
    return list(fsx.client().describe_backups()["Backups"])


def tags_of(backup: dict[str, Any]) -> dict[str, str]:
    # As declared: less the provider's own fsx-backup:stack tag (test_ownership.py).
    return without_holder({t["Key"]: t["Value"] for t in backup.get("Tags", [])})


def program_of(spec: dict[str, dict[str, Any]]) -> auto.PulumiFn:
    """An inline program declaring one FsxBackup per entry of `spec` (mutable between runs)."""

    def program() -> None:
        for name, args in spec.items():
            opts = args.pop("opts", None)
            backup = FsxBackup(name, FsxBackupArgs(**args), opts=opts)
            if opts is not None:
                args["opts"] = opts
            pulumi.export(
                name,
                {
                    "backup_id": backup.backup_id,
                    "lifecycle": backup.lifecycle,
                    "tags": backup.tags,
                    "tags_all": backup.tags_all,
                    "token": backup.client_request_token,
                    "resource_type": backup.resource_type,
                    "arn": backup.arn,
                    "file_system_id": backup.file_system_id,
                    "volume_id": backup.volume_id,
                    "type": backup.type,
                    "owner_id": backup.owner_id,
                    "creation_time": backup.creation_time,
                },
            )

    return program


class CallCounter:
    """FSx calls counted by the emulator since this counter was made (or last restarted)."""

    def __init__(self, fsx: Any) -> None:
        self.fsx = fsx
        self.restart()

    def restart(self) -> None:
        self.before = dict(self.fsx.calls())

    def get(self, operation: str) -> int:
        return int(self.fsx.calls().get(operation, 0)) - int(self.before.get(operation, 0))


def wait_available(fsx: Any, backup_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [backup] = fsx.client().describe_backups(BackupIds=[backup_id])["Backups"]
        if backup["Lifecycle"] == "AVAILABLE":
            return
        time.sleep(0.2)
    raise AssertionError(f"{backup_id} did not become AVAILABLE in {timeout}s")


def available_backup_made_outside(fsx: Any, fs_id: str) -> str:
    """A backup made through boto3, not the stack, tagged Name=old, once AVAILABLE."""
    backup_id = str(
        fsx.client().create_backup(FileSystemId=fs_id, Tags=[{"Key": "Name", "Value": "old"}])[
            "Backup"
        ]["BackupId"]
    )
    wait_available(fsx, backup_id)
    return backup_id


def outputs(result: auto.UpResult) -> dict[str, Any]:
    return {key: value.value for key, value in result.outputs.items()}


def test_file_system_and_volume_backups_lifecycle(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    vol_id = fsx.create_ontap_volume(name="vol1")
    spec: dict[str, dict[str, Any]] = {
        "fs": {"file_system_id": fs_id, "tags": {"Name": "fs-backup"}},
        "vol": {"volume_id": vol_id, "tags": {"Name": "vol-backup"}},
    }
    stack = fsx_stack(program_of(spec))

    up = outputs(stack.up(on_output=quiet))
    assert up["fs"]["lifecycle"] == "AVAILABLE"
    assert up["fs"]["resource_type"] == "FILE_SYSTEM"
    assert up["fs"]["file_system_id"] == fs_id
    assert up["fs"]["type"] == "USER_INITIATED"
    assert up["fs"]["token"].startswith("fsxb-") and up["fs"]["token"].endswith("-g0")
    assert up["vol"]["lifecycle"] == "AVAILABLE"
    assert up["vol"]["resource_type"] == "VOLUME"
    assert up["vol"]["volume_id"] == vol_id
    assert up["vol"]["tags"] == {"Name": "vol-backup"}
    live = {b["BackupId"]: b for b in live_backups(fsx)}
    assert set(live) == {up["fs"]["backup_id"], up["vol"]["backup_id"]}
    assert all(b["Lifecycle"] == "AVAILABLE" for b in live.values())
    assert CallCounter(fsx).before.get("CreateBackup") == 2
    [fs_state] = [
        r for r in resources_of_type(stack, ":FsxBackup") if r["id"] == up["fs"]["backup_id"]
    ]
    assert fs_state["type"] == "pulumi-python:dynamic/fsx:FsxBackup"
    assert fs_state["outputs"]["arn"] == up["fs"]["arn"]
    # The provider pickles by reference and captures no secret.
    assert isinstance(fs_state["outputs"]["__provider"], str)
    assert len(fs_state["outputs"]["__provider"]) < 200

    # preview after up: no changes, and no FSx call that changes anything.
    calls = CallCounter(fsx)
    preview = stack.preview(on_output=quiet)
    # Two backups, the seed, the ledger and the stack.
    assert preview.change_summary == {auto.OpType.SAME: 5}
    assert not any(calls.get(op) for op in MUTATING)

    # tag change: in place, same backup.
    spec["fs"]["tags"] = {"Name": "fs-backup", "Env": "prod"}
    calls.restart()
    up2 = outputs(stack.up(on_output=quiet))
    assert up2["fs"]["backup_id"] == up["fs"]["backup_id"]
    assert up2["fs"]["tags"] == {"Name": "fs-backup", "Env": "prod"}
    assert tags_of(
        fsx.client().describe_backups(BackupIds=[up["fs"]["backup_id"]])["Backups"][0]
    ) == {
        "Name": "fs-backup",
        "Env": "prod",
    }
    assert calls.get("TagResource") == 1
    assert calls.get("CreateBackup") == 0
    assert calls.get("UntagResource") == 0

    # tag removal: exactly the removed key is untagged.
    spec["fs"]["tags"] = {"Env": "prod"}
    calls.restart()
    stack.up(on_output=quiet)
    assert calls.get("UntagResource") == 1
    assert calls.get("TagResource") == 0

    # destroy leaves no backup.
    destroy = stack.destroy(on_output=quiet)
    assert destroy.summary.result == "succeeded"
    assert live_backups(fsx) == []
    assert resources_of_type(stack, ":FsxBackup") == []


def test_source_change_replaces(fsx: Any, fsx_stack: StackMaker) -> None:
    first = fsx.create_file_system("WINDOWS")
    second = fsx.create_file_system("OPENZFS")
    spec: dict[str, dict[str, Any]] = {"b": {"file_system_id": first}}
    stack = fsx_stack(program_of(spec))
    old_id = outputs(stack.up(on_output=quiet))["b"]["backup_id"]

    spec["b"]["file_system_id"] = second
    result = stack.up(on_output=quiet)
    # The ledger records the new backup's token.
    assert result.summary.resource_changes == {"replace": 1, "update": 1, "same": 2}
    new = outputs(result)["b"]
    assert new["backup_id"] != old_id
    assert new["file_system_id"] == second
    assert [b["BackupId"] for b in live_backups(fsx)] == [new["backup_id"]]


def test_out_of_band_delete_then_refresh_and_up(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    stack = fsx_stack(program_of({"b": {"file_system_id": fs_id, "tags": {"Name": "x"}}}))
    old_id = outputs(stack.up(on_output=quiet))["b"]["backup_id"]
    fsx.client().delete_backup(BackupId=old_id)

    refresh = stack.refresh(on_output=quiet)
    assert refresh.summary.resource_changes == {"delete": 1, "same": 3}
    assert resources_of_type(stack, ":FsxBackup") == []

    new_id = outputs(stack.up(on_output=quiet))["b"]["backup_id"]
    assert new_id != old_id
    [live] = live_backups(fsx)
    assert live["BackupId"] == new_id and live["Lifecycle"] == "AVAILABLE"


def test_out_of_band_retag_is_restored(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    stack = fsx_stack(program_of({"b": {"file_system_id": fs_id, "tags": {"Name": "declared"}}}))
    up = outputs(stack.up(on_output=quiet))["b"]
    client = fsx.client()
    client.tag_resource(
        ResourceARN=up["arn"],
        Tags=[{"Key": "Name", "Value": "hijacked"}, {"Key": "Extra", "Value": "1"}],
    )

    stack.refresh(on_output=quiet)
    [state] = resources_of_type(stack, ":FsxBackup")
    assert state["outputs"]["tags_all"] == {"Name": "hijacked", "Extra": "1"}

    result = stack.up(on_output=quiet)
    assert result.summary.resource_changes == {"update": 1, "same": 3}
    assert outputs(result)["b"]["backup_id"] == up["backup_id"]
    [live] = live_backups(fsx)
    assert tags_of(live) == {"Name": "declared"}


def test_import_adopts_without_create(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    existing = available_backup_made_outside(fsx, fs_id)
    calls = CallCounter(fsx)

    spec: dict[str, dict[str, Any]] = {
        "adopted": {
            "file_system_id": fs_id,
            "tags": {"Name": "old"},
            "opts": pulumi.ResourceOptions(import_=existing),
        }
    }
    stack = fsx_stack(program_of(spec))
    up = outputs(stack.up(on_output=quiet))
    assert up["adopted"]["backup_id"] == existing
    assert up["adopted"]["lifecycle"] == "AVAILABLE"
    assert calls.get("CreateBackup") == 0
    [state] = resources_of_type(stack, ":FsxBackup")
    assert state["id"] == existing

    # Once adopted, the import option can stay or go: nothing changes.
    del spec["adopted"]["opts"]
    assert stack.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 4}

    # Destroy deletes what was adopted, as with any managed resource.
    stack.destroy(on_output=quiet)
    assert live_backups(fsx) == []


def test_import_of_a_backup_of_another_source_fails(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    other = fsx.create_file_system("WINDOWS")
    existing = fsx.client().create_backup(FileSystemId=other)["Backup"]["BackupId"]
    spec: dict[str, dict[str, Any]] = {
        "adopted": {"file_system_id": fs_id, "opts": pulumi.ResourceOptions(import_=existing)}
    }
    stack = fsx_stack(program_of(spec))
    with pytest.raises(auto.CommandError) as failed:
        stack.up(on_output=quiet)
    assert existing in str(failed.value) and other in str(failed.value)
    assert resources_of_type(stack, ":FsxBackup") == []
    assert [b["BackupId"] for b in live_backups(fsx)] == [existing]


def test_get_reads_an_existing_backup(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    existing = available_backup_made_outside(fsx, fs_id)
    calls = CallCounter(fsx)

    def get_program() -> None:
        found = FsxBackup.get("looked-up", existing)
        pulumi.export("lifecycle", found.lifecycle)
        pulumi.export("tags", found.tags)
        pulumi.export("file_system_id", found.file_system_id)

    got = outputs(fsx_stack(get_program).up(on_output=quiet))
    assert got == {"lifecycle": "AVAILABLE", "tags": {"Name": "old"}, "file_system_id": fs_id}
    assert calls.get("CreateBackup") == 0
    assert calls.get("DeleteBackup") == 0


def test_failed_backup_fails_up_and_leaves_nothing(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    fsx.set_faults(fail_next_backups={fs_id: "the storage array caught fire"})
    stack = fsx_stack(program_of({"b": {"file_system_id": fs_id}}))

    with pytest.raises(auto.CommandError) as failed:
        stack.up(on_output=quiet)
    assert "the storage array caught fire" in str(failed.value)
    assert "FAILED" in str(failed.value)
    assert live_backups(fsx) == []
    assert resources_of_type(stack, ":FsxBackup") == []

    up = outputs(stack.up(on_output=quiet))
    assert up["b"]["lifecycle"] == "AVAILABLE"
    assert [b["BackupId"] for b in live_backups(fsx)] == [up["b"]["backup_id"]]


def test_two_backups_of_one_file_system(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    stack = fsx_stack(program_of({"a": {"file_system_id": fs_id}, "b": {"file_system_id": fs_id}}))
    up = outputs(stack.up(on_output=quiet))
    assert up["a"]["lifecycle"] == up["b"]["lifecycle"] == "AVAILABLE"
    assert up["a"]["backup_id"] != up["b"]["backup_id"]
    assert len(live_backups(fsx)) == 2


MISSING_FS = "fs-0000000000000000f"


def up_that_fails_before_any_backup(stack: auto.Stack, spec: dict[str, dict[str, Any]]) -> None:
    """An earlier `pulumi up` of the same resources that made no backup (its source was
    wrong): the stack's seed exists, so tests can derive the tokens its backups will use."""
    real = {name: dict(args) for name, args in spec.items()}
    for args in spec.values():
        args["file_system_id"] = MISSING_FS
    with pytest.raises(auto.CommandError, match="FileSystemNotFound"):
        stack.up(on_output=quiet)
    spec.clear()
    spec.update(real)


def test_create_adopts_the_live_backup_its_token_names(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    spec: dict[str, dict[str, Any]] = {"b": {"file_system_id": fs_id, "tags": {"Name": "x"}}}
    stack = fsx_stack(program_of(spec))
    up_that_fails_before_any_backup(stack, spec)
    # As if an earlier `pulumi up` made the backup and was killed before
    # recording it: the backup exists under the token, the state has nothing.
    orphan = fsx.client().create_backup(
        FileSystemId=fs_id,
        ClientRequestToken=token_for(stack, "b", fs_id),
        Tags=interrupted_tags(stack, "b", {"Name": "x"}),
    )["Backup"]["BackupId"]

    up = outputs(stack.up(on_output=quiet))
    assert up["b"]["backup_id"] == orphan
    assert [b["BackupId"] for b in live_backups(fsx)] == [orphan]


def test_destroy_then_up_gets_a_fresh_backup(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    stack = fsx_stack(program_of({"b": {"file_system_id": fs_id}}))
    first = outputs(stack.up(on_output=quiet))["b"]
    stack.destroy(on_output=quiet)
    second = outputs(stack.up(on_output=quiet))["b"]
    assert second["backup_id"] != first["backup_id"]
    # The destroy removed the stack's seed: the new one derives other tokens.
    assert second["token"] != first["token"] and second["token"].endswith("-g0")
    assert [b["BackupId"] for b in live_backups(fsx)] == [second["backup_id"]]


def test_replacement_with_unchanged_inputs_makes_a_fresh_backup(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    """replace_with: the backup is replaced because another resource is, its own
    inputs (and so everything hashed into its token but the epoch) unchanged."""
    fs_id = fsx.create_file_system("LUSTRE")
    trigger = {"value": "v1"}

    def program() -> None:
        marker = Noop("marker", value=trigger["value"])
        backup = FsxBackup(
            "b",
            file_system_id=fs_id,
            opts=pulumi.ResourceOptions(replace_with=[marker]),
        )
        pulumi.export("backup_id", backup.backup_id)
        pulumi.export("token", backup.client_request_token)

    stack = fsx_stack(program)
    first = outputs(stack.up(on_output=quiet))

    trigger["value"] = "v2"
    result = stack.up(on_output=quiet)
    assert result.summary.resource_changes == {"replace": 2, "update": 1, "same": 2}
    second = outputs(result)
    assert second["token"] != first["token"]
    assert second["backup_id"] != first["backup_id"]
    assert [b["BackupId"] for b in live_backups(fsx)] == [second["backup_id"]]


def test_targeted_replace_makes_a_fresh_backup(fsx: Any, fsx_stack: StackMaker) -> None:
    """`pulumi up --replace`: the engine gives the provider no trace of what it
    replaces, but the old resource holds its token in the stack's state, so the
    replacement makes a new backup, and the old one is deleted after it."""
    fs_id = fsx.create_file_system("LUSTRE")
    stack = fsx_stack(program_of({"b": {"file_system_id": fs_id}}))
    first = outputs(stack.up(on_output=quiet))["b"]
    [state] = resources_of_type(stack, ":FsxBackup")

    second = outputs(stack.up(on_output=quiet, replace=[state["urn"]]))["b"]
    assert second["backup_id"] != first["backup_id"]
    [live] = live_backups(fsx)
    assert live["BackupId"] == second["backup_id"] and live["Lifecycle"] == "AVAILABLE"
    [after] = resources_of_type(stack, ":FsxBackup")
    assert after["id"] == live["BackupId"]
    assert stack.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 4}


def test_timeout_names_the_backup_and_rerun_resumes(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    fsx.set_faults(backup_seconds=8)
    spec: dict[str, dict[str, Any]] = {"b": {"file_system_id": fs_id, "create_timeout_seconds": 1}}
    stack = fsx_stack(program_of(spec))
    with pytest.raises(auto.CommandError) as timed_out:
        stack.up(on_output=quiet)
    [pending] = live_backups(fsx)
    message = str(timed_out.value)
    assert pending["BackupId"] in message
    assert "CREATING" in message and "re-running `pulumi up`" in message
    assert resources_of_type(stack, ":FsxBackup") == []

    spec["b"]["create_timeout_seconds"] = 60
    up = outputs(stack.up(on_output=quiet))
    assert up["b"]["backup_id"] == pending["BackupId"]
    assert up["b"]["lifecycle"] == "AVAILABLE"
    assert [b["BackupId"] for b in live_backups(fsx)] == [pending["BackupId"]]


def test_retag_targeted_destroy_then_up_passes_over_the_spent_token(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    """The gen-0 token was used with the first tags; FSx refuses it with the
    new ones (IncompatibleParameterError) although its backup is deleted. A
    destroy of just this backup keeps the stack's seed, so the token is the same."""
    fs_id = fsx.create_file_system("LUSTRE")
    spec: dict[str, dict[str, Any]] = {"b": {"file_system_id": fs_id, "tags": {"Env": "dev"}}}
    stack = fsx_stack(program_of(spec))
    first = outputs(stack.up(on_output=quiet))["b"]
    spec["b"]["tags"] = {"Env": "prod"}
    stack.up(on_output=quiet)
    [state] = resources_of_type(stack, ":FsxBackup")
    stack.destroy(on_output=quiet, target=[state["urn"]])

    second = outputs(stack.up(on_output=quiet))["b"]
    assert second["backup_id"] != first["backup_id"]
    assert second["token"] == token_for(stack, "b", fs_id, 1)
    [live] = live_backups(fsx)
    assert live["BackupId"] == second["backup_id"] and tags_of(live) == {"Env": "prod"}


def test_interrupted_create_with_edited_tags_fails_naming_the_token(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    spec: dict[str, dict[str, Any]] = {"b": {"file_system_id": fs_id, "tags": {"Env": "edited"}}}
    stack = fsx_stack(program_of(spec))
    up_that_fails_before_any_backup(stack, spec)
    token = token_for(stack, "b", fs_id)
    # An interrupted run made this backup with the tags it had then.
    orphan = fsx.client().create_backup(
        FileSystemId=fs_id,
        ClientRequestToken=token,
        Tags=interrupted_tags(stack, "b", {"Env": "before"}),
    )["Backup"]["BackupId"]

    with pytest.raises(auto.CommandError) as failed:
        stack.up(on_output=quiet)
    message = str(failed.value)
    assert token in message and orphan in message
    assert "restore the tags of the interrupted run" in message
    assert [b["BackupId"] for b in live_backups(fsx)] == [orphan]
    assert resources_of_type(stack, ":FsxBackup") == []

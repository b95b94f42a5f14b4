"""FsxBackupCopy end to end: the real engine, the provider process and the emulator.

The emulator serves every Region on one endpoint (requests are routed by the
Region they are signed for), so a cross-Region copy is a stack whose
FsxBackup is in us-east-1 and whose FsxBackupCopy is in eu-west-1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from fsx_backup_provider import FsxBackup, FsxBackupCopy, FsxBackupCopyArgs
from fsx_backup_provider.core.holder import without_holder
from tests.conftest import resources_of_type
from tests.e2e.conftest import REGION, quiet

DR = "eu-west-1"
SOURCE = "backup-0123456789abcdef0"
StackMaker = Callable[..., auto.Stack]


def copies_in(fsx: Any, region: str = DR) -> dict[str, dict[str, Any]]:
    backups = fsx.client(region=region).describe_backups()["Backups"]
    return {b["BackupId"]: b for b in backups if b.get("SourceBackupId")}


def tags_of(backup: dict[str, Any]) -> dict[str, str]:
    # As declared: less the provider's own fsx-backup:stack tag (test_ownership.py).
    return without_holder({t["Key"]: t["Value"] for t in backup.get("Tags", [])})


def calls(fsx: Any, operation: str) -> int:
    return int(fsx.calls().get(operation, 0))


def outputs_of(result: auto.UpResult) -> dict[str, Any]:
    return {key: value.value for key, value in result.outputs.items()}


def wait_available(fsx: Any, backup_id: str, region: str = REGION) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        [found] = fsx.client(region=region).describe_backups(BackupIds=[backup_id])["Backups"]
        if found["Lifecycle"] == "AVAILABLE":
            return
        time.sleep(0.2)
    raise AssertionError(f"{backup_id} did not become AVAILABLE")


def test_a_nightly_backup_and_its_copy_in_another_region(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    spec: dict[str, Any] = {"copy_tags": {"Name": "nightly-dr"}}

    def program() -> None:
        nightly = FsxBackup("nightly", file_system_id=fs_id, tags={"Name": "nightly"})
        copy = FsxBackupCopy(
            "nightly-dr",
            FsxBackupCopyArgs(
                source_backup_id=nightly.backup_id,
                source_region=REGION,
                region=DR,
                tags=spec["copy_tags"],
            ),
        )
        pulumi.export("backup", nightly.backup_id)
        pulumi.export(
            "copy",
            {
                key: getattr(copy, key)
                for key in (
                    "backup_id", "arn", "source_backup_id", "source_region", "region",
                    "kms_key_id", "tags", "tags_all", "lifecycle", "type", "resource_type",
                    "file_system_id", "volume_id", "owner_id", "creation_time",
                    "client_request_token",
                )
            },
        )  # fmt: skip

    stack = fsx_stack(program)
    up = outputs_of(stack.up(on_output=quiet))
    copy = up["copy"]
    assert copy["source_backup_id"] == up["backup"]
    assert copy["source_region"] == REGION and copy["region"] == DR
    assert copy["lifecycle"] == "AVAILABLE" and copy["resource_type"] == "FILE_SYSTEM"
    assert copy["file_system_id"] == fs_id and copy["volume_id"] is None
    assert f":{DR}:" in copy["arn"] and f":{DR}:" in copy["kms_key_id"]
    assert copy["tags"] == copy["tags_all"] == {"Name": "nightly-dr"}
    assert copy["client_request_token"].startswith("fsxb-")
    assert copy["owner_id"] and copy["creation_time"] and copy["type"]
    [live] = copies_in(fsx).values()
    assert live["BackupId"] == copy["backup_id"] and live["SourceBackupRegion"] == REGION
    # The backup, its copy, the seed, the ledger and the stack.
    assert stack.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 5}

    # Tags change in place: same copy, new tags, no CopyBackup.
    copies_before = calls(fsx, "CopyBackup")
    spec["copy_tags"] = {"Name": "nightly-dr", "Env": "prod"}
    result = stack.up(on_output=quiet)
    assert result.summary.resource_changes == {"update": 1, "same": 4}
    assert outputs_of(result)["copy"]["backup_id"] == copy["backup_id"]
    assert calls(fsx, "CopyBackup") == copies_before
    assert tags_of(copies_in(fsx)[copy["backup_id"]]) == {"Name": "nightly-dr", "Env": "prod"}

    refreshed = stack.refresh(on_output=quiet)
    assert refreshed.summary.resource_changes == {"same": 5}
    stack.destroy(on_output=quiet)
    assert copies_in(fsx) == {}
    assert fsx.client().describe_backups()["Backups"] == []


def test_an_in_region_copy_of_a_volume_backup(fsx: Any, fsx_stack: StackMaker) -> None:
    vol_id = fsx.create_ontap_volume(name="copied")

    def program() -> None:
        backup = FsxBackup("vol", volume_id=vol_id)
        copy = FsxBackupCopy("vol-copy", backup.backup_id)
        pulumi.export("copy", {"region": copy.region, "volume_id": copy.volume_id,
                               "source_region": copy.source_region})  # fmt: skip

    stack = fsx_stack(program)
    copy = outputs_of(stack.up(on_output=quiet))["copy"]
    assert copy == {"region": REGION, "volume_id": vol_id, "source_region": REGION}
    assert len(copies_in(fsx, REGION)) == 1
    assert stack.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 5}


def test_twenty_copies_to_one_region_all_succeed_five_at_a_time(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    fsx.set_faults(backup_seconds=0.2, copy_seconds=1)
    sources = []
    for _ in range(20):
        fs_id = fsx.create_file_system("LUSTRE")
        made = fsx.client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
        sources.append(made)
    for backup_id in sources:
        wait_available(fsx, backup_id)

    def program() -> None:
        for n, source in enumerate(sources):
            FsxBackupCopy(f"copy{n:02d}", source, source_region=REGION, region=DR)

    stack = fsx_stack(program)
    before = calls(fsx, "CopyBackup")
    lines: list[str] = []
    started = time.monotonic()
    stack.up(on_output=lines.append, color="never", parallel=64)
    took = time.monotonic() - started
    made = calls(fsx, "CopyBackup") - before
    print(f"20 copies to one Region: {made} CopyBackup calls, {took:.1f} s (5 x L = 5 s)")
    assert len(copies_in(fsx)) == 20
    assert made == 20
    assert any("queued behind backup-" in line and "copies to" in line for line in lines)


def test_a_copy_of_a_backup_still_being_made_waits_for_it(fsx: Any, fsx_stack: StackMaker) -> None:
    """The source is created without waiting: CopyBackup answers SourceBackupUnavailable."""
    fs_id = fsx.create_file_system("LUSTRE")
    fsx.set_faults(backup_seconds=4, copy_seconds=1)

    def program() -> None:
        backup = FsxBackup("quick", file_system_id=fs_id, wait_for_available=False)
        FsxBackupCopy("quick-dr", backup.backup_id, source_region=REGION, region=DR)

    lines: list[str] = []
    fsx_stack(program).up(on_output=lines.append, color="never")
    [copy] = copies_in(fsx).values()
    assert copy["Lifecycle"] == "AVAILABLE"
    assert any("the source backup is not AVAILABLE yet" in line for line in lines)


def test_copied_source_tags_are_not_fought_over(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    source = fsx.client().create_backup(
        FileSystemId=fs_id, Tags=[{"Key": "Owner", "Value": "team-a"}]
    )["Backup"]["BackupId"]
    wait_available(fsx, source)
    declared = {"Name": "dr"}

    def program() -> None:
        FsxBackupCopy("dr", source, source_region=REGION, region=DR, copy_tags=True, tags=declared)

    stack = fsx_stack(program)
    stack.up(on_output=quiet)
    [copy] = copies_in(fsx).values()
    assert tags_of(copy) == {"Owner": "team-a", "Name": "dr"}
    assert stack.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 4}
    declared["Name"] = "dr2"
    stack.up(on_output=quiet)
    assert tags_of(copies_in(fsx)[copy["BackupId"]]) == {"Owner": "team-a", "Name": "dr2"}
    stack.refresh(on_output=quiet)
    assert stack.preview(on_output=quiet).change_summary == {auto.OpType.SAME: 4}


@pytest.mark.parametrize("change", ["region", "copy_tags", "kms_key_id"])
def test_what_replaces_a_copy(fsx: Any, fsx_stack: StackMaker, change: str) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    source = fsx.client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    wait_available(fsx, source)
    args: dict[str, Any] = {"source_region": REGION, "region": DR}

    def program() -> None:
        FsxBackupCopy("dr", source, **args)

    stack = fsx_stack(program)
    stack.up(on_output=quiet)
    [first] = resources_of_type(stack, ":FsxBackupCopy")
    args[change] = {
        "region": "eu-central-1",
        "copy_tags": True,
        # Another key of the same Region and account as the default one.
        "kms_key_id": first["outputs"]["kms_key_id"].rsplit("/", 1)[0]
        + "/1234abcd-12ab-34cd-56ef-1234567890ab",
    }[change]
    result = stack.up(on_output=quiet)
    # The ledger records the new copy's token.
    assert result.summary.resource_changes == {"replace": 1, "update": 1, "same": 2}
    [second] = resources_of_type(stack, ":FsxBackupCopy")
    assert second["id"] != first["id"]
    assert list(copies_in(fsx, args["region"])) == [second["id"]]
    if change == "region":
        assert copies_in(fsx, DR) == {}


def test_an_interrupted_copy_is_found_again_and_destroy_then_up_makes_a_fresh_one(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    source = fsx.client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    wait_available(fsx, source)
    fsx.set_faults(copy_seconds=8)
    spec: dict[str, Any] = {"create_timeout_seconds": 1}

    def program() -> None:
        FsxBackupCopy("dr", source, source_region=REGION, region=DR, **spec)

    stack = fsx_stack(program)
    with pytest.raises(auto.CommandError, match="create_timeout_seconds"):
        stack.up(on_output=quiet)
    [pending] = copies_in(fsx)
    spec["create_timeout_seconds"] = 60
    stack.up(on_output=quiet)
    [state] = resources_of_type(stack, ":FsxBackupCopy")
    assert state["id"] == pending and list(copies_in(fsx)) == [pending]
    assert calls(fsx, "CopyBackup") == 2

    fsx.set_faults(copy_seconds=0.5)
    stack.destroy(on_output=quiet)
    stack.up(on_output=quiet)
    [fresh] = copies_in(fsx)
    assert fresh != pending


def test_import_and_get_of_a_copy(fsx: Any, fsx_stack: StackMaker) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    source = fsx.client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    wait_available(fsx, source)
    existing = fsx.client(region=DR).copy_backup(SourceBackupId=source, SourceRegion=REGION)[
        "Backup"
    ]["BackupId"]
    wait_available(fsx, existing, DR)
    before = calls(fsx, "CopyBackup")

    def program() -> None:
        adopted = FsxBackupCopy(
            "adopted", source, source_region=REGION, region=DR,
            opts=pulumi.ResourceOptions(import_=existing),
        )  # fmt: skip
        read = FsxBackupCopy.get("read", existing)
        pulumi.export("adopted", adopted.backup_id)
        pulumi.export("read_source", read.source_backup_id)

    stack = fsx_stack(program)
    stack.set_config("aws:region", auto.ConfigValue(DR))
    up = outputs_of(stack.up(on_output=quiet))
    assert up == {"adopted": existing, "read_source": source}
    assert calls(fsx, "CopyBackup") == before
    stack.destroy(on_output=quiet)
    assert copies_in(fsx) == {}


def test_deleting_a_source_being_copied_waits_for_the_copy(fsx: Any, fsx_stack: StackMaker) -> None:
    """A copy made outside the stack is in progress: FSx answers BackupBeingCopied."""
    fs_id = fsx.create_file_system("LUSTRE")

    def program() -> None:
        FsxBackup("b", file_system_id=fs_id)

    stack = fsx_stack(program)
    stack.up(on_output=quiet)
    [state] = resources_of_type(stack, ":FsxBackup")
    fsx.set_faults(copy_seconds=4)
    foreign = fsx.client(region=DR).copy_backup(SourceBackupId=state["id"], SourceRegion=REGION)[
        "Backup"
    ]["BackupId"]
    lines: list[str] = []
    stack.destroy(on_output=lines.append, color="never")
    assert fsx.client().describe_backups()["Backups"] == []
    assert list(copies_in(fsx)) == [foreign]
    assert any("waiting" in line and "copy of it" in line for line in lines)


def test_five_copies_in_progress_from_outside_the_stack_are_waited_out(
    fsx: Any, fsx_stack: StackMaker
) -> None:
    """FSx allows five copies in progress to a Region: the stack's sixth waits for one of
    the five to end. The five are held in the emulator until the stack's copy says it
    waits, then released: the verdict never depends on how fast the machine is."""
    fs_id = fsx.create_file_system("LUSTRE")
    source = fsx.client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    wait_available(fsx, source)
    fsx.set_faults(copy_seconds=0.5)
    outside = [
        fsx.client(region=DR).copy_backup(SourceBackupId=source, SourceRegion=REGION)["Backup"][
            "BackupId"
        ]
        for _ in range(5)
    ]
    fsx.hold(*outside)
    waiting = threading.Event()

    def release_when_waiting() -> None:
        # Bounded: if the stack's copy never says it waits, the five are let go
        # after 120 s and the assertion below fails.
        waiting.wait(timeout=120)
        fsx.release(*outside)

    releaser = threading.Thread(target=release_when_waiting, daemon=True)
    releaser.start()

    def program() -> None:
        FsxBackupCopy("sixth", source, source_region=REGION, region=DR)

    lines: list[str] = []

    def on_output(line: str) -> None:
        lines.append(line)
        if "five copies to this Region are already in progress" in line:
            waiting.set()

    try:
        fsx_stack(program).up(on_output=on_output, color="never")
    finally:
        waiting.set()
        releaser.join(timeout=30)
    assert any("five copies to this Region are already in progress" in line for line in lines)
    assert len(copies_in(fsx)) == 6


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"source_backup_id": "bkp-1"}, ["source_backup_id", "'bkp-1' must be 12 to 128"]),
        ({"source_region": "US East"}, ["source_region", "'US East' must match", "pattern"]),
        ({"region": "EU"}, ["region", "'EU' must match"]),
        ({"kms_key_id": ""}, ["kms_key_id", "must be 1 to 2048"]),
        ({"tags": {"aws:owner": "x"}}, ["tags", "reserved for AWS"]),
    ],
)
def test_bad_copy_inputs_fail_preview_naming_the_field_with_no_fsx_call(
    fsx: Any, fsx_stack: StackMaker, args: dict[str, Any], expected: list[str]
) -> None:
    def program() -> None:
        FsxBackupCopy("bad", FsxBackupCopyArgs(**{"source_backup_id": SOURCE, **args}))

    before = dict(fsx.calls())
    lines: list[str] = []
    with pytest.raises(auto.CommandError):
        fsx_stack(program).preview(on_output=lines.append, color="never")
    text = "\n".join(lines)
    for part in expected:
        assert part in text, text
    assert fsx.calls().get("_total") == before.get("_total")

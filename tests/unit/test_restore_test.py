"""restores.py without FSx: the plan, the token, and the rule that it deletes only its own."""

from __future__ import annotations

from typing import Any

import pytest

from fsx_backup_provider.aws.restore_plan import (
    RESTORE_TEST_TAG,
    RestorePlan,
    RestoreTestFailed,
    RestoreTestRefused,
    RestoreTestResult,
    input_problems,
    is_own_restore,
    plan_restore,
    restore_token,
)
from fsx_backup_provider.aws.restore_run import RestoreRun

BACKUP = "backup-0123456789abcdef0"
OTHER_BACKUP = "backup-0fedcba9876543210"


class FakeFsx:
    """The FsxClient calls a restore test makes, over a dict of file systems."""

    def __init__(self, file_systems: dict[str, dict[str, Any]]) -> None:
        self.file_systems = file_systems
        self.deleted: list[str] = []
        self.created: list[dict[str, Any]] = []

    def describe_file_system(self, file_system_id: str) -> dict[str, Any] | None:
        return self.file_systems.get(file_system_id)

    def describe_volume(self, volume_id: str) -> dict[str, Any] | None:
        return None

    def all_file_systems(self) -> list[dict[str, Any]]:
        return list(self.file_systems.values())

    def all_volumes(self) -> list[dict[str, Any]]:
        return []

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        [described] = [fs for fs in self.file_systems.values() if fs["ResourceARN"] == arn]
        kept = [t for t in described["Tags"] if t["Key"] not in tags]
        described["Tags"] = kept + [{"Key": k, "Value": v} for k, v in tags.items()]

    def delete_file_system(self, request: dict[str, Any]) -> dict[str, Any]:
        self.deleted.append(request["FileSystemId"])
        self.file_systems.pop(request["FileSystemId"])
        return {"Lifecycle": "DELETING"}

    def create_file_system_from_backup(self, request: dict[str, Any]) -> dict[str, Any]:
        self.created.append(request)
        file_system = {
            "FileSystemId": f"fs-{len(self.created):017x}",
            "FileSystemType": "WINDOWS",
            "Lifecycle": "AVAILABLE",
            "Tags": request["Tags"],
            "ResourceARN": f"arn:aws:fsx:us-east-1:1:file-system/fs-{len(self.created):017x}",
        }
        self.file_systems[file_system["FileSystemId"]] = file_system
        return file_system


def file_system(fs_id: str, tags: dict[str, str], lifecycle: str = "AVAILABLE") -> dict[str, Any]:
    return {
        "FileSystemId": fs_id,
        "FileSystemType": "WINDOWS",
        "Lifecycle": lifecycle,
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        "ResourceARN": f"arn:aws:fsx:us-east-1:123456789012:file-system/{fs_id}",
    }


def run_of(fake: FakeFsx, lines: list[str] | None = None) -> RestoreRun:
    say = lines.append if lines is not None else lambda _line: None
    return RestoreRun(fake, RestoreTestResult(BACKUP), 5.0, say, sleep=lambda _s: None)  # type: ignore[arg-type]


def test_is_own_restore_reads_the_tag_and_its_backup() -> None:
    assert is_own_restore(file_system("fs-1", {RESTORE_TEST_TAG: BACKUP}), BACKUP)
    assert not is_own_restore(file_system("fs-1", {RESTORE_TEST_TAG: OTHER_BACKUP}), BACKUP)
    assert not is_own_restore(file_system("fs-1", {"Name": BACKUP}), BACKUP)
    assert not is_own_restore(None, BACKUP)


def test_delete_refuses_a_file_system_not_tagged_as_its_restore_test() -> None:
    """The safety rule: never delete anything not tagged as this backup's restore test."""
    fake = FakeFsx(
        {
            "fs-untagged": file_system("fs-untagged", {"Name": "production"}),
            "fs-other": file_system("fs-other", {RESTORE_TEST_TAG: OTHER_BACKUP}),
        }
    )
    run = run_of(fake)
    for fs_id in ("fs-untagged", "fs-other"):
        with pytest.raises(RestoreTestFailed, match="deletes only what it restored"):
            run.delete("file system", fs_id)
    assert fake.deleted == []


def test_delete_takes_its_own_restore_without_a_final_backup() -> None:
    fake = FakeFsx({"fs-own": file_system("fs-own", {RESTORE_TEST_TAG: BACKUP})})
    requests: list[dict[str, Any]] = []
    original = fake.delete_file_system

    def delete(request: dict[str, Any]) -> dict[str, Any]:
        requests.append(request)
        return original(request)

    fake.delete_file_system = delete  # type: ignore[method-assign]
    run_of(fake).delete("file system", "fs-own")
    assert requests == [
        {"FileSystemId": "fs-own", "WindowsConfiguration": {"SkipFinalBackup": True}}
    ]


def test_leftovers_are_only_this_backups_restore_tests() -> None:
    fake = FakeFsx(
        {
            "fs-source": file_system("fs-source", {"Name": "source"}),
            "fs-other": file_system("fs-other", {RESTORE_TEST_TAG: OTHER_BACKUP}),
            "fs-left": file_system("fs-left", {RESTORE_TEST_TAG: BACKUP}),
        }
    )
    run = run_of(fake)
    run.clear_leftovers()
    assert fake.deleted == ["fs-left"]
    assert run.result.leftovers_deleted == ["fs-left"]
    assert set(fake.file_systems) == {"fs-source", "fs-other"}


def test_a_full_run_tags_its_restore_and_deletes_it() -> None:
    fake = FakeFsx({"fs-source": file_system("fs-source", {"Name": "source"})})
    run = run_of(fake)
    plan = RestorePlan(BACKUP, "file system", "WINDOWS", subnet_ids=("subnet-01234567",))
    run.run(plan, keep_restored=False)
    [request] = fake.created
    assert {"Key": RESTORE_TEST_TAG, "Value": BACKUP} in request["Tags"]
    assert request["ClientRequestToken"] == restore_token(BACKUP, 0)
    assert run.result.cleaned_up
    assert set(fake.file_systems) == {"fs-source"}


def test_the_token_is_stable_per_backup_and_generation_and_fits_fsx() -> None:
    token = restore_token(BACKUP, 0)
    assert token == restore_token(BACKUP, 0)
    assert token != restore_token(BACKUP, 1) != restore_token(OTHER_BACKUP, 0)
    assert len(restore_token(BACKUP, 999)) <= 63


def backup(**kw: Any) -> dict[str, Any]:
    described: dict[str, Any] = {
        "BackupId": BACKUP,
        "Lifecycle": "AVAILABLE",
        "ResourceType": "FILE_SYSTEM",
        "FileSystem": {"FileSystemType": "OPENZFS", "SubnetIds": ["subnet-0aaaaaaaa"]},
    }
    described.update(kw)
    return described


def test_plan_defaults_to_the_sources_network_and_takes_overrides() -> None:
    plan = plan_restore(backup())
    assert (plan.kind, plan.file_system_type, plan.subnet_ids) == (
        "file system",
        "OPENZFS",
        ("subnet-0aaaaaaaa",),
    )
    plan = plan_restore(backup(), ("subnet-0bbbbbbbb",), ("sg-0cccccccc",))
    assert (plan.subnet_ids, plan.security_group_ids) == (("subnet-0bbbbbbbb",), ("sg-0cccccccc",))
    volume = backup(
        ResourceType="VOLUME",
        Volume={"VolumeType": "ONTAP", "OntapConfiguration": {"StorageVirtualMachineId": "svm-1"}},
    )
    assert plan_restore(volume).svm_id == "svm-1"
    assert plan_restore(volume, svm_id="svm-2").svm_id == "svm-2"


@pytest.mark.parametrize(
    ("described", "words"),
    [
        (backup(Lifecycle="CREATING"), "is CREATING: only an AVAILABLE backup"),
        (backup(FileSystem={"FileSystemType": "ONTAP"}), "ONTAP file system"),
        (backup(ResourceType="VOLUME", Volume={"VolumeType": "OPENZFS"}), "OPENZFS volume"),
        (backup(FileSystem={"FileSystemType": "LUSTRE"}), "names no subnets"),
    ],
)
def test_plan_refuses(described: dict[str, Any], words: str) -> None:
    with pytest.raises(RestoreTestRefused, match=words):
        plan_restore(described)


def test_input_problems() -> None:
    assert input_problems(BACKUP, (), (), None, 10) == []
    problems = input_problems("fs-0123", ("subnet-x",), ("sg-y",), "svm-z", 0)
    assert len(problems) == 5


def test_the_tables_say_how_the_restore_test_went() -> None:
    from fsx_backup_provider.cli.render import render_restore_test, render_rotation
    from fsx_backup_provider.cli.rotate import RotationResult

    tested = RestoreTestResult(
        BACKUP, "failed", 1, "fs-0123", 12.5, False, "it broke", "file system"
    )
    table = render_restore_test(tested)
    assert table.splitlines()[1].split() == [BACKUP, "file", "system", "fs-0123", "12.5", "s", "no"]
    assert table.splitlines()[-1] == f"restore-test failed for {BACKUP}"
    rotation = RotationResult("s", "p", "b", "2024-01-01", restore_test=tested.to_json())
    assert rotation.to_json()["restore_test"]["result"] == "failed"
    assert (
        f"restore test of {BACKUP}: failed, restored as fs-0123 in 12.5 s, NOT cleaned up: it broke"
        in render_rotation(rotation)
    )


def test_a_copy_from_another_region_needs_this_regions_network() -> None:
    copied = backup(SourceBackupRegion="eu-west-1")
    with pytest.raises(RestoreTestRefused, match=r"copy from eu-west-1.*give --subnet-id"):
        plan_restore(copied, region="us-east-1")
    assert plan_restore(copied, ("subnet-0bbbbbbbb",), region="us-east-1").subnet_ids == (
        "subnet-0bbbbbbbb",
    )
    # A copy within the Region keeps its source's subnets.
    assert plan_restore(copied, region="eu-west-1").subnet_ids == ("subnet-0aaaaaaaa",)
    volume = backup(
        SourceBackupRegion="eu-west-1",
        ResourceType="VOLUME",
        Volume={"VolumeType": "ONTAP", "OntapConfiguration": {"StorageVirtualMachineId": "svm-1"}},
    )
    with pytest.raises(RestoreTestRefused, match="give --svm-id"):
        plan_restore(volume, region="us-east-1")


def test_ctrl_c_in_a_rotations_restore_test_is_a_cancelled_rotation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fsx_backup_provider.aws import restores
    from fsx_backup_provider.cli import rotate as rotation
    from fsx_backup_provider.cli import rotate_run
    from fsx_backup_provider.cli.engine import Target

    def interrupted(result: RestoreTestResult, **_kw: Any) -> RestoreTestResult:
        result.restored_id, result.cleaned_up = "fs-0123", False
        raise KeyboardInterrupt

    monkeypatch.setattr(restores, "run_restore_test", interrupted)
    monkeypatch.setattr(restores, "clear_leftovers_of_gone_backups", lambda **_kw: [])
    result = rotation.RotationResult("s", "p", "b", "2024-01-01", kept=[BACKUP])
    target = Target(stack="s", project="p", backend="b", region="us-east-1")
    with pytest.raises(rotation.RotationFailed) as failed:
        rotate_run.restore_test_period(result, target, None, None, lambda _line: None, 5.0, [])
    assert (failed.value.result.result, failed.value.result.exit_code) == ("cancelled", 130)
    tested = failed.value.result.restore_test
    assert tested is not None
    assert (tested["result"], tested["restored_id"], tested["cleaned_up"]) == (
        "cancelled",
        "fs-0123",
        False,
    )


def test_a_refused_restore_test_says_refused_in_its_table() -> None:
    from fsx_backup_provider.cli.render import EXIT_USAGE, render_restore_test

    refused = RestoreTestResult(BACKUP)
    refused.result, refused.exit_code = "failed", EXIT_USAGE
    refused.error = "FSx has no backup " + BACKUP
    assert render_restore_test(refused).splitlines()[-1] == f"restore-test refused for {BACKUP}"


def test_a_dry_run_with_a_restore_test_is_refused_before_anything_runs() -> None:
    from fsx_backup_provider.cli.rotate import rotate
    from fsx_backup_provider.cli.spec import SpecError

    with pytest.raises(SpecError) as refused:
        rotate(
            "fs-0123456789abcdef0",
            1,
            dry_run=True,
            restore_test=True,
            backend="file:///nonexistent-never-touched",
        )
    assert "--dry-run changes nothing and so restores nothing" in refused.value.problems[0]


def test_a_gone_backups_leftover_restore_is_deleted_before_the_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A timed-out restore test, then its backup rotated out: the next restore test
    of that backup is refused (no backup), but what the earlier one left is deleted."""
    from fsx_backup_provider.aws import restore_plan, restores

    tags = {t["Key"]: t["Value"] for t in restore_plan.restore_tags(BACKUP)}
    fake = FakeFsx(
        {
            "fs-0000000000000000a": file_system("fs-0000000000000000a", tags),
            "fs-0000000000000000b": file_system("fs-0000000000000000b", {"Name": "keep"}),
        }
    )
    fake.describe_backups = lambda _ids: {}  # type: ignore[attr-defined]
    fake.region = "us-east-1"  # type: ignore[attr-defined]
    monkeypatch.setattr(restores, "client_for", lambda _connection: fake)
    result = restores.restore_test(BACKUP, region="us-east-1")
    assert result.exit_code == 2 and "was not found" in (result.error or "")
    assert fake.deleted == ["fs-0000000000000000a"]
    assert result.leftovers_deleted == ["fs-0000000000000000a"]


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 0.0, -1.0, 1e9])
def test_a_timeout_that_bounds_nothing_is_refused(timeout: float) -> None:
    from fsx_backup_provider.aws.restore_plan import input_problems

    [problem] = input_problems(BACKUP, (), (), None, timeout)
    assert problem.startswith("--timeout must be a number of seconds more than 0")


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 0.0, 1e9])
def test_a_bad_restore_test_timeout_is_refused_before_the_rotation(timeout: float) -> None:
    from fsx_backup_provider.cli.rotate import rotate
    from fsx_backup_provider.cli.spec import SpecError

    with pytest.raises(SpecError) as refused:
        rotate(
            "fs-0123456789abcdef0",
            1,
            restore_test=True,
            restore_test_timeout=timeout,
            backend="file:///nonexistent-never-touched",
        )
    assert refused.value.problems[0].startswith("--restore-test-timeout must be a number")


# Concurrent restore tests of one backup, and a rotation's sweep of what restore
# tests of the backups it deleted left.


def _dead_pid() -> int:
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_run_in_progress_reads_the_run_tag() -> None:
    import os
    import time

    from fsx_backup_provider.aws.restore_plan import RUN_TAG, _host, run_in_progress

    def restore(value: str) -> dict[str, Any]:
        return file_system("fs-1", {RESTORE_TEST_TAG: BACKUP, RUN_TAG: value})

    later, earlier = time.time() + 3600, time.time() - 1
    live_here = f"{_host()}:{os.getppid()}:{int(later)}:r1"
    assert run_in_progress(restore(live_here)) is not None
    assert "on host" in str(run_in_progress(restore(f"elsewhere.example:1:{int(later)}:r2")))
    # A leftover: its run's time is up, its process is gone, or it is this run's own.
    assert run_in_progress(restore(f"elsewhere.example:1:{int(earlier)}:r3")) is None
    assert run_in_progress(restore(f"{_host()}:{_dead_pid()}:{int(later)}:r4")) is None
    assert run_in_progress(restore(live_here), own=live_here) is None
    assert run_in_progress(file_system("fs-1", {RESTORE_TEST_TAG: BACKUP})) is None  # 0.4.0's
    assert run_in_progress(restore("garbage")) is None
    # The red team's: values no restore test writes never crash, and name no live run.
    for odd in (
        f"{_host()}:99999999999999999999:9999999999:r5",
        "elsewhere.example:12:99999999999999999999:r6",
        f"{_host()}:-1:{int(later)}:r7",
        f"{_host()}:0:{int(later)}:r8",
        f"a:b:c:{_host()}:abc",
        f"{_host()}:{os.getppid()}:{int(later)}",  # 3 fields: not this version's
        # Red team 2: a deadline no run could have set (its timeout is at most 7 days),
        # and numbers with spaces, which int() would take.
        f"{_host()}:{os.getppid()}:17179869184:ab",
        f"{_host()}:{os.getppid()}: {int(later)} :ab",
        f"{_host()}: {os.getppid()}:{int(later)}:ab",
    ):
        assert run_in_progress(restore(odd)) is None, odd


def test_a_restore_another_live_run_is_making_is_not_deleted_as_a_leftover() -> None:
    import os
    import time

    from fsx_backup_provider.aws.restore_plan import RUN_TAG, RestoreTestBusy, _host

    live = f"{_host()}:{os.getppid()}:{int(time.time() + 3600)}:r1"
    fake = FakeFsx(
        {"fs-live": file_system("fs-live", {RESTORE_TEST_TAG: BACKUP, RUN_TAG: live}, "CREATING")}
    )
    with pytest.raises(RestoreTestBusy, match=r"another restore test of .* is running"):
        run_of(fake).clear_leftovers()
    assert fake.deleted == [] and set(fake.file_systems) == {"fs-live"}
    # The same restore once its process is gone is a killed run's leftover.
    fake.file_systems["fs-live"]["Tags"][1]["Value"] = f"{_host()}:{_dead_pid()}:{2**33}:r1"
    fake.file_systems["fs-live"]["Lifecycle"] = "AVAILABLE"
    run_of(fake).clear_leftovers()
    assert fake.deleted == ["fs-live"]


def test_a_token_answered_with_another_live_runs_restore_is_refused_not_waited_on() -> None:
    import os
    import time

    from fsx_backup_provider.aws.restore_plan import RUN_TAG, RestoreTestBusy, _host

    live = f"{_host()}:{os.getppid()}:{int(time.time() + 3600)}:r1"
    fake = FakeFsx({})

    def answered(request: dict[str, Any]) -> dict[str, Any]:
        # Both runs sent the same token: FSx answers with the first one's restore.
        fake.created.append(request)
        return file_system("fs-first", {RESTORE_TEST_TAG: BACKUP, RUN_TAG: live}, "CREATING")

    fake.create_file_system_from_backup = answered  # type: ignore[method-assign]
    plan = RestorePlan(BACKUP, "file system", "WINDOWS", subnet_ids=("subnet-01234567",))
    run = run_of(fake)
    with pytest.raises(RestoreTestBusy):
        run.run(plan, keep_restored=False)
    assert fake.deleted == [] and run.result.restored_id is None
    [request] = fake.created
    assert {"Key": RUN_TAG, "Value": run.run_tag} in request["Tags"]


def test_the_sweep_deletes_only_restore_tests_of_backups_that_are_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fsx_backup_provider.aws import restores

    fake = FakeFsx(
        {
            "fs-source": file_system("fs-source", {"Name": "source"}),
            "fs-of-gone": file_system("fs-of-gone", {RESTORE_TEST_TAG: BACKUP}),
            "fs-of-live": file_system("fs-of-live", {RESTORE_TEST_TAG: OTHER_BACKUP}),
            "fs-odd": file_system("fs-odd", {RESTORE_TEST_TAG: "not-a-backup-id"}),
        }
    )
    asked: list[list[str]] = []

    def describe_backups(ids: list[str]) -> dict[str, Any]:
        asked.append(list(ids))
        return {OTHER_BACKUP: {"BackupId": OTHER_BACKUP}}

    fake.describe_backups = describe_backups  # type: ignore[attr-defined]
    monkeypatch.setattr(restores, "client_for", lambda _connection: fake)
    lines: list[str] = []
    assert restores.clear_leftovers_of_gone_backups(timeout=5.0, progress=lines.append) == [
        "fs-of-gone"
    ]
    assert asked == [sorted([BACKUP, OTHER_BACKUP])]
    assert set(fake.file_systems) == {"fs-source", "fs-of-live", "fs-odd"}
    # Before a rotation deletes a backup, its restores go too (FSx refuses the delete
    # while one is CREATING); only restore tests of it, whatever else `also` names.
    assert restores.clear_leftovers_of_gone_backups(
        also=[OTHER_BACKUP, "fs-source"], timeout=5.0
    ) == ["fs-of-live"]
    assert set(fake.file_systems) == {"fs-source", "fs-odd"}

    # A sweep that fails says so and never raises: the rotation's result stands.
    def broken(ids: list[str]) -> dict[str, Any]:
        raise OverflowError("anything at all")

    fake.describe_backups = broken  # type: ignore[attr-defined]
    lines.clear()
    assert restores.clear_leftovers_of_gone_backups(timeout=5.0, progress=lines.append) == []
    assert "could not look for what restore tests left: anything at all" in lines[0]


def test_two_runs_started_at_once_restore_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The red team's race: the second run's token meets the first's restore made with
    another run tag (IncompatibleParameterError); it must not go on to a new token."""
    from fsx_backup_provider.aws.errors import FsxApiError
    from fsx_backup_provider.aws.restore_plan import RestoreTestBusy

    fake = FakeFsx({})
    first, second = run_of(fake), run_of(fake)
    plan = RestorePlan(BACKUP, "file system", "WINDOWS", subnet_ids=("subnet-01234567",))
    original = fake.create_file_system_from_backup

    def create(request: dict[str, Any]) -> dict[str, Any]:
        if fake.created:
            fake.created.append(request)
            raise FsxApiError("CreateFileSystemFromBackup", "IncompatibleParameterError", "x")
        made = original(request)
        made["Lifecycle"] = "CREATING"
        return made

    fake.create_file_system_from_backup = create  # type: ignore[method-assign]
    first.restore(plan)
    with pytest.raises(RestoreTestBusy):
        second.restore(plan)
    assert len(fake.file_systems) == 1 and len(fake.created) == 2
    assert first.run_tag != second.run_tag  # two runs of one process are told apart


def test_a_kept_restore_is_marked_left_so_the_same_process_can_sweep_it() -> None:
    """restore_test(keep_restored=True) from a process that lives on (a service, a test):
    its restore must not look like a run still in progress."""
    from fsx_backup_provider.aws.restore_plan import RUN_TAG, run_in_progress
    from fsx_backup_provider.aws.restores import tag_map

    fake = FakeFsx({})
    plan = RestorePlan(BACKUP, "file system", "WINDOWS", subnet_ids=("subnet-01234567",))
    first = run_of(fake)
    first.run(plan, keep_restored=True)
    kept = fake.file_systems[str(first.result.restored_id)]
    assert tag_map(kept)[RUN_TAG].split(":")[2] == "0"
    assert run_in_progress(kept) is None
    second = run_of(fake)
    second.clear_leftovers()
    assert fake.deleted == [first.result.restored_id]

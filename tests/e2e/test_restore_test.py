"""`fsx-backup restore-test` end to end: the console script against the emulator.

No Pulumi engine: a restore test is plain FSx calls. Each test checks what FSx holds
afterwards: the source and its backup, and nothing a restore test made.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fsx_backup_provider import restore_test
from fsx_backup_provider.aws.restore_plan import RESTORE_TEST_TAG
from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.render import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from fsx_emulator.client import DEFAULT_SUBNET_ID
from tests.e2e.cli_env import available_backup, isolate, kill_marked, live_backups, start_cli
from tests.e2e.conftest import REGION

Cli = Callable[..., tuple[int, dict[str, Any], str]]
JSON_KEYS = {
    "command",
    "backup_id",
    "result",
    "exit_code",
    "restored_id",
    "restore_seconds",
    "cleaned_up",
    "error",
    "leftovers_deleted",
}


@pytest.fixture
def flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsx: Any) -> list[str]:
    # restore-test takes no --backend: only the endpoint and the Region.
    return isolate(monkeypatch, tmp_path, fsx)[2:]


@pytest.fixture
def cli(flags: list[str], capsys: pytest.CaptureFixture[str]) -> Cli:
    """`fsx-backup restore-test --json ARGS` in this process: (exit code, JSON, stderr)."""

    def run(*args: str) -> tuple[int, dict[str, Any], str]:
        capsys.readouterr()
        code = main(["restore-test", *args, "--json", *flags])
        out, err = capsys.readouterr()
        document = json.loads(out)
        assert set(document) >= JSON_KEYS
        assert document["exit_code"] == code
        return code, document, err

    return run


def file_system_ids(fsx: Any) -> set[str]:
    return {fs["FileSystemId"] for fs in fsx.client().describe_file_systems()["FileSystems"]}


def volume_ids(fsx: Any) -> set[str]:
    return {v["VolumeId"] for v in fsx.client().describe_volumes()["Volumes"]}


def restores_made(fsx: Any) -> int:
    calls = fsx.calls()
    return int(calls.get("CreateFileSystemFromBackup", 0) + calls.get("CreateVolumeFromBackup", 0))


def wait_until_restoring(fsx: Any, source: str, process: subprocess.Popen[str]) -> str:
    """The file system a `restore-test` process started restoring (within 30 s)."""
    deadline = time.monotonic() + 30
    while file_system_ids(fsx) == {source}:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no restore started within 30 s"
        time.sleep(0.1)
    [restoring] = file_system_ids(fsx) - {source}
    return str(restoring)


@pytest.mark.parametrize("fs_type", ["LUSTRE", "WINDOWS", "OPENZFS"])
def test_a_file_system_backup_restores_and_nothing_is_left(
    fsx: Any, cli: Cli, fs_type: str
) -> None:
    source = fsx.create_file_system(type=fs_type)
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(restore_seconds=1, delete_seconds=0.5)
    code, document, err = cli("--backup-id", backup_id)
    assert code == EXIT_OK, err
    assert document["result"] == "succeeded"
    assert document["command"] == "restore-test"
    assert document["restored_id"].startswith("fs-")
    assert document["restore_seconds"] >= 0.9
    assert document["cleaned_up"] is True
    assert document["error"] is None
    assert f"restoring file system {document['restored_id']}: CREATING" in err
    # Only the source and its backup: no restored file system, and no final backup.
    assert file_system_ids(fsx) == {source}
    assert set(live_backups(fsx)) == {backup_id}
    assert fsx.calls()["DeleteFileSystem"] == 1


def test_a_volume_backup_restores_into_its_svm_and_nothing_is_left(fsx: Any, cli: Cli) -> None:
    volume_id = fsx.create_ontap_volume()
    backup_id = available_backup(fsx, VolumeId=volume_id)
    fsx.set_faults(restore_seconds=1, delete_seconds=0.5)
    code, document, err = cli("--backup-id", backup_id)
    assert code == EXIT_OK, err
    assert document["restored_id"].startswith("fsvol-")
    assert document["cleaned_up"] is True
    assert volume_ids(fsx) == {volume_id}
    # ONTAP volumes take a final backup on delete unless told not to: none here.
    assert set(live_backups(fsx)) == {backup_id}


def test_keep_restored_keeps_it_tagged_and_the_next_run_deletes_it_first(
    fsx: Any, cli: Cli
) -> None:
    source = fsx.create_file_system(type="WINDOWS")
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(restore_seconds=0.5, delete_seconds=0.5)
    code, kept, _ = cli("--backup-id", backup_id, "--keep-restored")
    assert (code, kept["cleaned_up"]) == (EXIT_OK, False)
    [restored] = fsx.client().describe_file_systems(FileSystemIds=[kept["restored_id"]])[
        "FileSystems"
    ]
    assert {"Key": RESTORE_TEST_TAG, "Value": backup_id} in restored["Tags"]
    code, again, err = cli("--backup-id", backup_id)
    assert code == EXIT_OK, err
    assert again["leftovers_deleted"] == [kept["restored_id"]]
    assert again["restored_id"] != kept["restored_id"]
    assert file_system_ids(fsx) == {source}
    assert set(live_backups(fsx)) == {backup_id}


def test_a_restore_that_ends_failed_fails_and_is_cleaned_up(fsx: Any, cli: Cli) -> None:
    source = fsx.create_file_system(type="OPENZFS")
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(
        restore_seconds=0.5, delete_seconds=0.5, fail_next_restores={backup_id: "disk on fire"}
    )
    code, document, err = cli("--backup-id", backup_id)
    assert code == EXIT_FAILED
    assert document["result"] == "failed"
    assert "ended FAILED: disk on fire" in document["error"]
    assert document["cleaned_up"] is True
    assert "restore-test failed" in err
    assert file_system_ids(fsx) == {source}
    assert set(live_backups(fsx)) == {backup_id}


def test_a_restore_slower_than_the_timeout_fails_and_the_next_run_cleans_up(
    fsx: Any, cli: Cli
) -> None:
    source = fsx.create_file_system()
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(restore_seconds=3, delete_seconds=0.5)
    code, document, _ = cli("--backup-id", backup_id, "--timeout", "1")
    assert code == EXIT_FAILED
    assert "still CREATING after 1 s (--timeout)" in document["error"]
    assert document["cleaned_up"] is False
    left = document["restored_id"]
    assert left in file_system_ids(fsx)
    fsx.set_faults(restore_seconds=0.5)
    code, document, err = cli("--backup-id", backup_id, "--timeout", "30")
    assert code == EXIT_OK, err
    assert document["leftovers_deleted"] == [left]
    assert file_system_ids(fsx) == {source}


@pytest.mark.parametrize(
    ("make", "words"),
    [
        ("missing", "was not found in Region"),
        ("creating", "is CREATING: only an AVAILABLE backup can be restored"),
        ("not-an-id", "is not a backup ID"),
    ],
)
def test_a_backup_it_cannot_restore_is_refused_and_nothing_is_created(
    fsx: Any, cli: Cli, make: str, words: str
) -> None:
    source = fsx.create_file_system()
    if make == "missing":
        backup_id = "backup-0123456789abcdef0"
    elif make == "creating":
        fsx.set_faults(backup_seconds=60)
        backup_id = fsx.client().create_backup(FileSystemId=source)["Backup"]["BackupId"]
    else:
        backup_id = "fs-0123456789abcdef0"
    code, document, err = cli("--backup-id", backup_id)
    assert code == EXIT_USAGE
    assert document["result"] == "failed"
    assert words in document["error"]
    assert "restore-test refused" in err
    assert document["restored_id"] is None
    assert restores_made(fsx) == 0
    assert file_system_ids(fsx) == {source}


def test_a_usage_error_has_the_restore_test_shape(fsx: Any, flags: list[str], capsys: Any) -> None:
    code = main(["restore-test", "--json", *flags])
    document = json.loads(capsys.readouterr().out)
    assert code == EXIT_USAGE
    assert document["command"] == "restore-test"
    assert "--backup-id" in document["error"]


def test_a_kill_mid_restore_then_a_rerun_leaves_nothing(fsx: Any, flags: list[str]) -> None:
    source = fsx.create_file_system(type="WINDOWS")
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(restore_seconds=4, delete_seconds=0.5)
    marker = f"restore-kill-{time.monotonic_ns()}"
    process = start_cli(["restore-test", "--backup-id", backup_id, "--json", *flags], marker)
    try:
        left = wait_until_restoring(fsx, source, process)
    finally:
        kill_marked(marker)
        process.communicate(timeout=10)
    assert file_system_ids(fsx) == {source, left}
    [described] = fsx.client().describe_file_systems(FileSystemIds=[left])["FileSystems"]
    assert described["Lifecycle"] == "CREATING"

    fsx.set_faults(restore_seconds=0.5)
    result = restore_test(backup_id, region=REGION, endpoint_url=fsx.endpoint_url, timeout=60)
    assert (result.result, result.exit_code) == ("succeeded", EXIT_OK), result.error
    assert result.leftovers_deleted == [left]
    assert result.cleaned_up
    assert file_system_ids(fsx) == {source}
    assert set(live_backups(fsx)) == {backup_id}


def test_a_second_restore_test_of_a_backup_being_tested_is_refused_and_the_first_succeeds(
    fsx: Any, flags: list[str], cli: Cli
) -> None:
    """Two at once used to fail the first: the second deleted its restore as a leftover."""
    source = fsx.create_file_system(type="WINDOWS")
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(restore_seconds=4, delete_seconds=0.5)
    marker = f"restore-first-{time.monotonic_ns()}"
    first = start_cli(["restore-test", "--backup-id", backup_id, "--json", *flags], marker)
    try:
        restoring = wait_until_restoring(fsx, source, first)
        code, second, err = cli("--backup-id", backup_id)
        assert code == EXIT_USAGE, err
        assert second["result"] == "failed" and second["restored_id"] is None
        assert f"another restore test of {backup_id} is running" in second["error"]
        assert restoring in second["error"] and f"process {first.pid}" in second["error"]
        out, _ = first.communicate(timeout=90)
    finally:
        kill_marked(marker)
    done = json.loads(out)
    assert (done["result"], done["restored_id"], done["cleaned_up"]) == (
        "succeeded",
        restoring,
        True,
    )
    assert file_system_ids(fsx) == {source}


def test_the_python_api_returns_the_same_fields(fsx: Any, flags: list[str]) -> None:
    volume_id = fsx.create_ontap_volume()
    backup_id = available_backup(fsx, VolumeId=volume_id)
    lines: list[str] = []
    result = restore_test(
        backup_id, region=REGION, endpoint_url=fsx.endpoint_url, timeout=60, progress=lines.append
    )
    assert set(result.to_json()) == JSON_KEYS
    assert result.exit_code == EXIT_OK, result.error
    assert any("restoring the volume" in line for line in lines)
    assert volume_ids(fsx) == {volume_id}


def test_it_never_deletes_what_is_not_its_own(fsx: Any, cli: Cli) -> None:
    """File systems with other tags, or a restore test of another backup, stay."""
    source = fsx.create_file_system()
    backup_id = available_backup(fsx, FileSystemId=source)
    other_backup = available_backup(fsx, FileSystemId=source)
    bystander = fsx.client().create_file_system_from_backup(
        BackupId=other_backup,
        SubnetIds=[DEFAULT_SUBNET_ID],
        Tags=[{"Key": RESTORE_TEST_TAG, "Value": other_backup}],
    )["FileSystem"]["FileSystemId"]
    code, document, err = cli("--backup-id", backup_id)
    assert code == EXIT_OK, err
    assert document["leftovers_deleted"] == []
    assert file_system_ids(fsx) == {source, bystander}


def test_two_runs_in_a_row_each_restore_anew(fsx: Any, cli: Cli) -> None:
    """The first run's token still names its deleted restore: the second passes it over."""
    source = fsx.create_file_system(type="OPENZFS")
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(restore_seconds=0.5, delete_seconds=0.5)
    code, first, _ = cli("--backup-id", backup_id)
    assert code == EXIT_OK
    code, second, err = cli("--backup-id", backup_id)
    assert code == EXIT_OK, err
    assert second["restored_id"] != first["restored_id"]
    assert second["leftovers_deleted"] == []
    assert file_system_ids(fsx) == {source}
    assert set(live_backups(fsx)) == {backup_id}


def test_ctrl_c_mid_restore_exits_130_and_a_rerun_cleans_up(fsx: Any, flags: list[str]) -> None:
    source = fsx.create_file_system()
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(restore_seconds=3, delete_seconds=0.5)
    marker = f"restore-int-{time.monotonic_ns()}"
    process = start_cli(["restore-test", "--backup-id", backup_id, "--json", *flags], marker)
    try:
        deadline = time.monotonic() + 30
        while file_system_ids(fsx) == {source}:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no restore started within 30 s"
            time.sleep(0.1)
        os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        kill_marked(marker)
    assert process.returncode == EXIT_INTERRUPTED, err
    document = json.loads(out)
    assert (document["result"], document["exit_code"]) == ("cancelled", EXIT_INTERRUPTED)
    [left] = file_system_ids(fsx) - {source}
    assert document["restored_id"] == left
    assert document["cleaned_up"] is False
    result = restore_test(backup_id, region=REGION, endpoint_url=fsx.endpoint_url, timeout=60)
    assert result.exit_code == EXIT_OK, result.error
    assert result.leftovers_deleted == [left]
    assert file_system_ids(fsx) == {source}


def test_the_table_and_the_progress_lines(
    fsx: Any, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    source = fsx.create_file_system(type="WINDOWS")
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(restore_seconds=1, delete_seconds=1)
    assert main(["restore-test", "--backup-id", backup_id, *flags]) == EXIT_OK
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == [
        "BACKUP",
        "ID",
        "RESTORED",
        "AS",
        "RESTORED",
        "ID",
        "RESTORE",
        "TIME",
        "CLEANED",
        "UP",
    ]
    assert lines[1].split()[:4] == [backup_id, "file", "system", lines[1].split()[3]]
    assert lines[1].split()[-1] == "yes"
    assert lines[-1] == f"restore-test succeeded for {backup_id}"
    assert "of at most 7200 s" in err
    assert "deleting file system" in err


def test_a_rerun_with_other_subnets_passes_the_earlier_token(fsx: Any, cli: Cli) -> None:
    """A token FSx remembers with other parameters is IncompatibleParameterError: skipped."""
    source = fsx.create_file_system()
    backup_id = available_backup(fsx, FileSystemId=source)
    fsx.set_faults(restore_seconds=0.5, delete_seconds=0.5)
    other_subnet = "subnet-0aaaabbbbccccdddd"
    fsx.register_subnets(other_subnet)
    code, first, err = cli("--backup-id", backup_id)
    assert code == EXIT_OK, err
    code, second, err = cli("--backup-id", backup_id, "--subnet-id", other_subnet)
    assert code == EXIT_OK, err
    [restore] = [request for request in [second] if request["restored_id"] != first["restored_id"]]
    assert restore["cleaned_up"] is True
    assert file_system_ids(fsx) == {source}


def test_a_copy_in_another_region_is_refused_without_its_subnets_then_restores(
    fsx: Any, cli: Cli, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    backup_id = available_backup(fsx, FileSystemId=fsx.create_file_system(type="WINDOWS"))
    other = "eu-west-1"
    copy_id = fsx.client(region=other).copy_backup(SourceBackupId=backup_id, SourceRegion=REGION)[
        "Backup"
    ]["BackupId"]
    subnet = "subnet-0aaaabbbbccccdddd"
    fsx.register_subnets(subnet, region=other)
    fsx.set_faults(copy_seconds=0, restore_seconds=0.5, delete_seconds=0.5)
    in_other = [*flags[:-1], other]  # --endpoint-url URL --region eu-west-1
    for extra, expected in (([], EXIT_USAGE), (["--subnet-id", subnet], EXIT_OK)):
        capsys.readouterr()
        code = main(["restore-test", "--backup-id", copy_id, "--json", *extra, *in_other])
        document = json.loads(capsys.readouterr().out)
        assert code == expected, document["error"]
    assert restores_made(fsx) == 1
    assert not fsx.client(region=other).describe_file_systems()["FileSystems"]


def test_a_kept_volume_restore_is_a_leftover_the_next_run_deletes(fsx: Any, cli: Cli) -> None:
    volume_id = fsx.create_ontap_volume()
    backup_id = available_backup(fsx, VolumeId=volume_id)
    fsx.set_faults(restore_seconds=0.5, delete_seconds=0.5)
    code, kept, err = cli("--backup-id", backup_id, "--keep-restored")
    assert (code, kept["cleaned_up"]) == (EXIT_OK, False), err
    assert volume_ids(fsx) == {volume_id, kept["restored_id"]}
    code, again, err = cli("--backup-id", backup_id)
    assert code == EXIT_OK, err
    assert again["leftovers_deleted"] == [kept["restored_id"]]
    assert volume_ids(fsx) == {volume_id}
    assert set(live_backups(fsx)) == {backup_id}

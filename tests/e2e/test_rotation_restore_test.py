"""`fsx-backup rotate --restore-test`: the real engine, the emulator, then a restore test."""

from __future__ import annotations

from typing import Any

from fsx_backup_provider import restore_test
from fsx_backup_provider.cli.render import EXIT_FAILED, EXIT_OK
from tests.e2e.cli_env import live_backups
from tests.e2e.conftest import REGION
from tests.e2e.test_rotation import Rotate, flags, run_rotate

# The same fixtures as rotate's own end-to-end tests.
__all__ = ["flags", "run_rotate"]


def file_system_ids(fsx: Any) -> set[str]:
    return {fs["FileSystemId"] for fs in fsx.client().describe_file_systems()["FileSystems"]}


def test_rotate_restore_tests_the_periods_backup(fsx: Any, run_rotate: Rotate) -> None:
    fs_id = fsx.create_file_system(type="WINDOWS")
    fsx.set_faults(restore_seconds=0.5, delete_seconds=0.5)
    source = ("--source", fs_id, "--keep", "1", "--restore-test")
    code, result, err = run_rotate(*source, "--at", "2024-01-01")
    assert code == EXIT_OK, err
    [day1] = result["created"]
    tested = result["restore_test"]
    assert (tested["backup_id"], tested["result"], tested["cleaned_up"]) == (
        day1,
        "succeeded",
        True,
    )
    assert tested["restored_id"].startswith("fs-")
    assert file_system_ids(fsx) == {fs_id}
    assert set(live_backups(fsx)) == {day1}


def test_a_failed_restore_test_fails_the_run_and_deletes_nothing_kept(
    fsx: Any, run_rotate: Rotate
) -> None:
    fs_id = fsx.create_file_system()
    source = ("--source", fs_id, "--keep", "1")
    code, result, err = run_rotate(*source, "--at", "2024-01-01")
    assert code == EXIT_OK, err
    [day1] = result["created"]
    # The restore takes longer than the restore test waits.
    fsx.set_faults(restore_seconds=3, delete_seconds=0.5)
    code, result, err = run_rotate(
        *source, "--at", "2024-01-02", "--restore-test", "--restore-test-timeout", "0.5"
    )
    assert code == EXIT_FAILED
    assert result["result"] == "failed"
    [day2] = result["created"]
    assert result["kept"] == [day2] and result["deleted"] == [day1]
    assert f"restore test of {day2} failed" in result["error"]
    assert result["restore_test"]["cleaned_up"] is False
    # The rotation's rules hold: the kept backup stays; only the old one went.
    assert set(live_backups(fsx)) == {day2}
    # The next restore test of that backup deletes what this one left.
    again = restore_test(day2, region=REGION, endpoint_url=fsx.endpoint_url, timeout=60)
    assert again.exit_code == EXIT_OK, again.error
    assert again.leftovers_deleted == [result["restore_test"]["restored_id"]]
    assert file_system_ids(fsx) == {fs_id}
    assert set(live_backups(fsx)) == {day2}


def test_a_rotation_deletes_what_restore_tests_of_the_backups_it_drops_left(
    fsx: Any, run_rotate: Rotate
) -> None:
    """No later restore test of a deleted backup would ever delete its restores."""
    fs_id = fsx.create_file_system(type="WINDOWS")
    fsx.set_faults(restore_seconds=0.5, delete_seconds=0.5)
    source = ("--source", fs_id, "--keep", "1", "--restore-test")
    code, result, err = run_rotate(*source, "--at", "2024-01-01")
    assert code == EXIT_OK, err
    [day1] = result["created"]
    kept = restore_test(
        day1, region=REGION, endpoint_url=fsx.endpoint_url, timeout=60, keep_restored=True
    )
    assert kept.exit_code == EXIT_OK and kept.restored_id is not None, kept.error
    assert file_system_ids(fsx) == {fs_id, kept.restored_id}
    code, result, err = run_rotate(*source, "--at", "2024-01-02")
    assert code == EXIT_OK, err
    assert result["deleted"] == [day1]
    assert kept.restored_id in result["restore_test"]["leftovers_deleted"]
    assert file_system_ids(fsx) == {fs_id}


def test_a_timed_out_restore_test_does_not_fail_the_next_days_rotation(
    fsx: Any, run_rotate: Rotate
) -> None:
    """The new user's case: day 3's restore test timed out with its restore still
    CREATING; day 4 drops day 3, whose DeleteBackup FSx refuses while it restores."""
    fs_id = fsx.create_file_system(type="WINDOWS")
    fsx.set_faults(restore_seconds=6, delete_seconds=0.5)
    source = ("--source", fs_id, "--keep", "1", "--restore-test")
    code, result, err = run_rotate(*source, "--restore-test-timeout", "0.5", "--at", "2024-01-03")
    assert code == EXIT_FAILED and result["restore_test"]["cleaned_up"] is False, err
    [day3] = result["created"]
    left = result["restore_test"]["restored_id"]
    code, result, err = run_rotate(*source, "--at", "2024-01-04")
    assert code == EXIT_OK, err
    assert result["deleted"] == [day3]
    assert left in result["restore_test"]["leftovers_deleted"]
    assert file_system_ids(fsx) == {fs_id}

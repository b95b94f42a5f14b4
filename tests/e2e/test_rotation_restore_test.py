"""`fsx-backup rotate --restore-test`: the real engine, the emulator, then a restore test."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fsx_backup_provider import restore_test
from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.render import EXIT_FAILED, EXIT_OK
from tests.e2e.cli_env import isolate, live_backups
from tests.e2e.conftest import REGION

Rotate = Callable[..., tuple[int, dict[str, Any], str]]


@pytest.fixture
def flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsx: Any, pulumi_env: dict[str, str]
) -> list[str]:
    fsx.set_faults(backup_seconds=1)
    return isolate(monkeypatch, tmp_path, fsx)


@pytest.fixture
def run_rotate(flags: list[str], capsys: pytest.CaptureFixture[str]) -> Rotate:
    """`fsx-backup rotate ... --json` in this process: (exit code, the JSON, stderr)."""

    def run(*args: str) -> tuple[int, dict[str, Any], str]:
        capsys.readouterr()
        code = main(["rotate", *args, "--json", *flags])
        out, err = capsys.readouterr()
        return code, json.loads(out), err

    return run


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

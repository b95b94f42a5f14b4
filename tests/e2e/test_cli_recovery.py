"""A killed `fsx-backup up`, recovered with `fsx-backup` itself: the lock, `cancel`, `up` again."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.engine import Target, open_stack
from fsx_backup_provider.cli.render import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from tests.e2e.cli_env import isolate, kill_marked, live_backups, start_cli


def creating(fsx: Any) -> set[str]:
    return {b for b, d in live_backups(fsx).items() if d["Lifecycle"] == "CREATING"}


def test_killed_up_cancel_then_up_finds_the_same_backups(
    fsx: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pulumi_env: dict[str, str],
) -> None:
    flags = [*isolate(monkeypatch, tmp_path, fsx), "--stack", "killed"]
    backend = flags[1]
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    vol_id = fsx.create_ontap_volume(name="vol1")
    declared = ["--backup", f"lustre={fs_id},Name=lustre", "--backup", f"volume={vol_id}"]

    def cli(*args: str) -> tuple[int, dict[str, Any], str]:
        capsys.readouterr()
        code = main([*args, "--json"])
        out, err = capsys.readouterr()
        return code, json.loads(out), err

    # Slow backups, so the kill lands while both are being created.
    fsx.set_faults(backup_seconds=20)
    marker = uuid.uuid4().hex
    process = start_cli(["up", *declared, *flags], marker)
    try:
        deadline = time.monotonic() + 180
        while len(creating(fsx)) < 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the two creates never started"
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        kill_marked(marker)
    interrupted = creating(fsx)
    assert len(interrupted) == 2
    fsx.set_faults(backup_seconds=1)

    # The killed run's lock stops the next one, which says how to clear it.
    before = fsx.calls()
    code, report, err = cli("up", *declared, *flags)
    assert code == EXIT_FAILED, err
    assert "the stack is currently locked" in report["error"]
    assert (
        f"fsx-backup cancel --stack killed --project fsx-backup --backend {backend}"
        in (report["error"])
    )
    assert "currently locked" in err
    assert fsx.calls().get("CreateBackup", 0) == before.get("CreateBackup", 0)

    code, report, err = cli("cancel", "--stack", "killed", "--backend", backend)
    assert code == EXIT_OK, err
    assert report["command"] == "cancel" and report["result"] == "succeeded"

    # Refresh drops the interrupted creates from the state (they are pending
    # operations there, with no backup ID)...
    code, report, err = cli("refresh", *flags)
    assert code == EXIT_OK, err
    assert "clearing 2 create(s) a killed run left pending" in err
    assert report["backups"] == {}

    # ...and the next up finds their backups by their tokens.
    code, report, err = cli("up", *declared, *flags)
    assert code == EXIT_OK, err
    assert report["changes"] == {"lustre": "create", "volume": "create"}
    assert {b["backup_id"] for b in report["backups"].values()} == interrupted
    live = live_backups(fsx)
    assert set(live) == interrupted
    assert all(b["Lifecycle"] == "AVAILABLE" for b in live.values())
    assert fsx.calls().get("DeleteBackup", 0) == 0
    target = Target(stack="killed", backend=backend)
    with open_stack(target, lambda: None, create=False) as stack:
        assert not (stack.export_stack().deployment or {}).get("pending_operations")

    # And a second up has nothing left to do.
    code, report, err = cli("up", *declared, *flags)
    assert code == EXIT_OK, err
    assert report["changes"] == {} and set(live_backups(fsx)) == interrupted


def test_cancel_of_a_stack_that_does_not_exist_exits_2(
    fsx: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pulumi_env: dict[str, str],
) -> None:
    backend = isolate(monkeypatch, tmp_path, fsx)[1]
    assert main(["cancel", "--stack", "never-made", "--backend", backend]) == 2
    assert "stack 'never-made' of project 'fsx-backup' does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["up", "rotate"])
def test_ctrl_c_under_json_prints_a_cancelled_report_and_leaves_no_lock(
    command: str,
    fsx: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pulumi_env: dict[str, str],
) -> None:
    """Issue 22, 7: Ctrl-C (SIGINT to the process group, as a terminal sends it) while a
    backup is being created: exit 130, the JSON object says `cancelled`, no traceback; the
    engine stopped cleanly, so the next run needs no `cancel` and finds the same backup."""
    flags = [*isolate(monkeypatch, tmp_path, fsx), "--stack", "interrupted"]
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    args = (
        ["up", "--backup", f"a={fs_id}"]
        if command == "up"
        else ["rotate", "--source", fs_id, "--keep", "1", "--at", "2024-01-01"]
    )
    fsx.set_faults(backup_seconds=60)
    marker = uuid.uuid4().hex
    process = start_cli([*args, "--json", *flags], marker)
    try:
        deadline = time.monotonic() + 180
        while not creating(fsx):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the create never started"
            time.sleep(0.2)
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
        stopped_after = time.monotonic() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        kill_marked(marker)
    assert process.returncode == EXIT_INTERRUPTED, err
    report = json.loads(out)
    assert report["command"] == command
    assert report["result"] == "cancelled" and report["exit_code"] == EXIT_INTERRUPTED
    assert report["error"].startswith("interrupted (Ctrl-C)")
    assert "Traceback" not in err and "Exception in thread" not in err
    assert "interrupted (Ctrl-C): the engine is stopping the run cleanly" in err
    assert stopped_after < 30, stopped_after
    [interrupted] = creating(fsx)

    # No lock was left: the same command again, without `cancel`, finds the same backup.
    fsx.set_faults(backup_seconds=1)
    capsys.readouterr()
    assert main([*args, "--json", *flags]) == EXIT_OK, capsys.readouterr().err
    again = json.loads(capsys.readouterr().out)
    found = again["backups"]["a"]["backup_id"] if command == "up" else again["kept"][0]
    assert found == interrupted and set(live_backups(fsx)) == {interrupted}

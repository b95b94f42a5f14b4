"""`fsx-backup rotate` end to end: the real engine, the emulator, file and S3 backends."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from fsx_backup_provider.cli import main
from fsx_backup_provider.cli.render import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from fsx_backup_provider.cli.rotate import RotationResult, rotate
from fsx_backup_provider.core.holder import without_holder
from tests.e2e.cli_env import isolate, kill_marked, live_backups, start_cli
from tests.e2e.conftest import REGION

MUTATING = ("CreateBackup", "DeleteBackup", "TagResource", "UntagResource")
Rotate = Callable[..., tuple[int, dict[str, Any], str]]


@pytest.fixture
def flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsx: Any, pulumi_env: dict[str, str]
) -> list[str]:
    """`pulumi_env` is asked for only so that a missing engine fails loudly here."""
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


def mutating(fsx: Any, before: dict[str, int]) -> dict[str, int]:
    now = fsx.calls()
    return {
        op: now.get(op, 0) - before.get(op, 0)
        for op in MUTATING
        if now.get(op, 0) != before.get(op, 0)
    }


def test_five_daily_runs_keep_three(fsx: Any, run_rotate: Rotate) -> None:
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    # Made outside the stack, of the same file system: never the rotation's to delete.
    foreign = fsx.client().create_backup(
        FileSystemId=fs_id, Tags=[{"Key": "Name", "Value": "made-by-hand"}]
    )["Backup"]["BackupId"]
    source = ("--source", fs_id, "--keep", "3", "--tag", "Schedule=nightly")

    kept_by_day: dict[int, str] = {}
    for day in range(1, 6):
        code, result, err = run_rotate(*source, "--at", f"2024-01-0{day}T02:00:00Z")
        assert code == EXIT_OK, err
        assert result["result"] == "succeeded" and result["period"] == f"2024-01-0{day}"
        [created] = result["created"]
        kept_by_day[day] = created
        newest_first = [kept_by_day[d] for d in range(day, max(day - 3, 0), -1)]
        assert result["kept"] == newest_first
        assert result["deleted"] == ([kept_by_day[day - 3]] if day > 3 else [])
        assert set(live_backups(fsx)) == {*newest_first, foreign}
        assert f"daily-2024-01-0{day}: create done ({created} AVAILABLE)" in err
    assert result["stack"] == f"daily-{fs_id}"
    assert result["copies"] == {}  # no --copy-to-region, no copies
    live = live_backups(fsx)
    tags = without_holder({t["Key"]: t["Value"] for t in live[kept_by_day[5]]["Tags"]})
    assert tags == {"Schedule": "nightly"}
    assert {t["Key"]: t["Value"] for t in live[foreign]["Tags"]} == {"Name": "made-by-hand"}

    # A re-run inside the same period changes nothing, even with other tags.
    before = fsx.calls()
    code, result, err = run_rotate(
        "--source", fs_id, "--keep", "3", "--tag", "Schedule=other", "--at", "2024-01-05T23:59:59Z"
    )
    assert code == EXIT_OK, err
    assert result["created"] == [] and result["deleted"] == []
    assert result["kept"] == [kept_by_day[5], kept_by_day[4], kept_by_day[3]]
    assert mutating(fsx, before) == {}

    # A run for an earlier period is refused before anything runs.
    code, result, err = run_rotate(*source, "--at", "2024-01-04")
    assert code == EXIT_USAGE
    assert "period 2024-01-04 is older than the newest backup" in result["problems"][0]
    assert mutating(fsx, before) == {}

    # The period's backup deleted outside: the run's refresh notices, and it is made again.
    fsx.client().delete_backup(BackupId=kept_by_day[5])
    code, result, err = run_rotate(*source, "--at", "2024-01-05T12:00:00Z")
    assert code == EXIT_OK, err
    [remade] = result["created"]
    assert remade != kept_by_day[5] and result["deleted"] == []
    assert result["kept"] == [remade, kept_by_day[4], kept_by_day[3]]
    assert set(live_backups(fsx)) == {remade, kept_by_day[4], kept_by_day[3], foreign}


def test_an_earlier_period_deleted_outside_is_not_remade(fsx: Any, run_rotate: Rotate) -> None:
    """A backup of an old period made now would hold today's data under an old date."""
    fs_id = fsx.create_file_system("WINDOWS")
    source = ("--source", fs_id, "--keep", "2", "--every", "week", "--name", "weekly-db")
    ids = []
    for at in ("2024-01-01", "2024-01-08"):
        code, result, err = run_rotate(*source, "--at", at)
        assert code == EXIT_OK, err
        ids += result["created"]
    assert result["period"] == "2024-W02"
    fsx.client().delete_backup(BackupId=ids[0])
    code, result, err = run_rotate(*source, "--at", "2024-01-15")
    assert code == EXIT_OK, err
    [week3] = result["created"]
    assert result["deleted"] == [] and result["kept"] == [week3, ids[1]]
    assert set(live_backups(fsx)) == {week3, ids[1]}


def test_two_runs_at_once_one_wins_the_other_names_the_lock(
    fsx: Any, flags: list[str], run_rotate: Rotate
) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    # A stack that already holds a backup: the run refused by the lock must not
    # report it as created (it created nothing).
    code, first, err = run_rotate("--source", fs_id, "--keep", "3", "--at", "2024-01-01")
    assert code == EXIT_OK, err
    [day_1] = first["created"]
    # A long create holds the stack's lock while the other run starts.
    fsx.set_faults(backup_seconds=15)
    marker = uuid.uuid4().hex
    args = ["rotate", "--source", fs_id, "--keep", "3", "--at", "2024-01-02", "--json", *flags]
    runs = [start_cli(args, marker), start_cli(args, marker)]
    try:
        outcomes = [(*run.communicate(timeout=300), run.returncode) for run in runs]
        outcomes = [(code, out, err) for out, err, code in outcomes]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.communicate()
        kill_marked(marker)
    codes = sorted(code for code, _out, _err in outcomes)
    assert codes == [EXIT_OK, EXIT_FAILED], outcomes
    [(_, won, _)] = [o for o in outcomes if o[0] == EXIT_OK]
    [(_, lost, lost_err)] = [o for o in outcomes if o[0] == EXIT_FAILED]
    assert lost, lost_err
    winner, loser = json.loads(won), json.loads(lost)
    assert "the stack is currently locked" in loser["error"]
    assert "fsx-backup cancel --stack" in loser["error"] and "currently locked" in lost_err
    assert loser["created"] == [] and loser["deleted"] == []
    [backup_id] = winner["created"]
    assert set(live_backups(fsx)) == {day_1, backup_id}
    assert fsx.calls().get("CreateBackup") == 2  # day 1, and the winner's


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """moto's S3 on a free loopback port, stopped after the test."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_state_in_s3_is_found_by_the_next_runner(
    fsx: Any,
    flags: list[str],
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each run as on an ephemeral CI runner: a fresh PULUMI_HOME, the state only in S3."""
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    s3.create_bucket(Bucket="fsx-backup-state")
    backend = (
        f"s3://fsx-backup-state/rotation?endpoint={s3_endpoint}&use_path_style=true&region={REGION}"
    )
    # Not a file backend: the passphrase is the user's to give, the same on every runner.
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "the-same-on-every-runner")
    fs_id = fsx.create_file_system("OPENZFS")
    aws_flags = flags[2:]

    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "runner-1"))
    capsys.readouterr()
    code = main(
        [
            "rotate",
            "--source",
            fs_id,
            "--keep",
            "1",
            "--at",
            "2024-01-01",
            "--backend",
            backend,
            "--json",
            *aws_flags,
        ]
    )
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    [day1] = json.loads(out)["created"]
    stacks = [o["Key"] for o in s3.list_objects_v2(Bucket="fsx-backup-state")["Contents"]]
    assert f"rotation/.pulumi/stacks/fsx-backup/daily-{fs_id}.json" in stacks

    # The next day's runner is a Python script on the Automation API.
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "runner-2"))
    progress: list[str] = []
    result = rotate(
        fs_id,
        keep=1,
        at="2024-01-02",
        backend=backend,
        region=REGION,
        endpoint_url=fsx.endpoint_url,
        progress=progress.append,
    )
    assert isinstance(result, RotationResult)
    [day2] = result.created
    assert result.deleted == [day1] and result.kept == [day2]
    assert result.to_json()["stack"] == f"daily-{fs_id}"
    assert set(live_backups(fsx)) == {day2}
    assert f"daily-2024-01-01: delete done ({day1})" in progress


def test_a_failed_backup_deletes_nothing(fsx: Any, run_rotate: Rotate) -> None:
    fs_id = fsx.create_file_system("LUSTRE")
    code, result, err = run_rotate("--source", fs_id, "--keep", "1", "--at", "2024-01-01")
    assert code == EXIT_OK, err
    [day1] = result["created"]
    fsx.set_faults(fail_next_backups={fs_id: "the storage array caught fire"})
    code, result, err = run_rotate("--source", fs_id, "--keep", "1", "--at", "2024-01-02")
    assert code == EXIT_FAILED
    assert result["result"] == "failed" and "the storage array caught fire" in result["error"]
    assert result["created"] == [] and result["deleted"] == [] and result["kept"] == []
    # The day before's backup is still there: the engine deletes only after creating,
    # and the failed run says it meant to delete it and did not.
    assert result["not_deleted"] == {"daily-2024-01-01": day1}
    assert set(live_backups(fsx)) == {day1}
    code, result, err = run_rotate("--source", fs_id, "--keep", "1", "--at", "2024-01-02")
    assert code == EXIT_OK, err
    assert result["deleted"] == [day1] and set(live_backups(fsx)) == set(result["kept"])


def test_rotate_and_up_never_work_on_each_others_stacks(
    fsx: Any, flags: list[str], run_rotate: Rotate, capsys: pytest.CaptureFixture[str]
) -> None:
    """The red team's data loss: `rotate --stack` of a stack `fsx-backup up` made, whose
    backups happen to be named like periods, deleted the oldest."""
    fs_id = fsx.create_file_system("LUSTRE")
    declared = ["--backup", f"daily-2024-01-01={fs_id}", "--backup", f"daily-2024-01-02={fs_id}"]
    assert main(["up", "--stack", "by-up", *declared, *flags]) == EXIT_OK
    made_by_up = set(live_backups(fsx))
    assert len(made_by_up) == 2
    before = fsx.calls()
    for extra in ((), ("--dry-run",)):
        code, result, err = run_rotate(
            "--source", fs_id, "--stack", "by-up", "--keep", "1", "--at", "2024-01-03", *extra
        )
        assert code == EXIT_USAGE, err
        assert "stack by-up was not made by fsx-backup rotate" in result["problems"][0]
        assert result["deleted"] == [] and result["created"] == []
    assert mutating(fsx, before) == {} and set(live_backups(fsx)) == made_by_up

    # And `up` of a spec on a rotation's stack would delete its periods: refused too.
    code, result, err = run_rotate("--source", fs_id, "--keep", "2", "--at", "2024-01-03")
    assert code == EXIT_OK, err
    [period] = result["created"]
    capsys.readouterr()
    for command in ("up", "preview"):
        code = main([command, "--stack", result["stack"], *declared, "--json", *flags])
        report = json.loads(capsys.readouterr().out)
        assert code == EXIT_USAGE
        assert f"stack {result['stack']} is a rotation's" in report["error"]
    assert set(live_backups(fsx)) == {*made_by_up, period}
    # The mark holds from the first run on: the next day's run works as ever.
    code, result, err = run_rotate("--source", fs_id, "--keep", "1", "--at", "2024-01-04")
    assert code == EXIT_OK and result["deleted"] == [period], err

    # A stack 0.3 rotated bears no mark: --adopt-stack takes it, once, and marks it.
    adopt = ("--source", fs_id, "--stack", "by-up", "--keep", "1", "--at", "2024-01-03")
    code, result, err = run_rotate(*adopt, "--adopt-stack")
    assert code == EXIT_OK, err
    assert set(result["deleted"]) == made_by_up  # --keep 1: its own period only
    code, result, err = run_rotate(*adopt)
    assert code == EXIT_OK and result["created"] == result["deleted"] == [], err


def test_copies_in_another_region_rotate_with_their_backups(fsx: Any, run_rotate: Rotate) -> None:
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    dr = "eu-west-1"
    source = ("--source", fs_id, "--keep", "2", "--copy-to-region", dr)

    copies_by_day: dict[int, tuple[str, str]] = {}
    for day in range(1, 5):
        code, result, err = run_rotate(*source, "--at", f"2024-02-0{day}T02:00:00Z")
        assert code == EXIT_OK, err
        [created] = result["created"]
        copies_by_day[day] = (created, result["copies"][created])
        kept = [copies_by_day[d][0] for d in range(day, max(day - 2, 0), -1)]
        assert result["kept"] == kept
        assert result["copies"] == {
            copies_by_day[d][0]: copies_by_day[d][1] for d in range(day, max(day - 2, 0), -1)
        }
        live_copies = {
            b["BackupId"]: b for b in fsx.client(region=dr).describe_backups()["Backups"]
        }
        assert set(live_copies) == {copies_by_day[d][1] for d in range(day, max(day - 2, 0), -1)}
        for backup_id, copy_id in result["copies"].items():
            assert live_copies[copy_id]["SourceBackupId"] == backup_id
            assert live_copies[copy_id]["SourceBackupRegion"] == REGION

    # A run without the flag keeps the copies it has, and makes none for the new backup.
    code, result, err = run_rotate("--source", fs_id, "--keep", "2", "--at", "2024-02-05T02:00:00Z")
    assert code == EXIT_OK, err
    [created] = result["created"]
    assert result["copies"] == {copies_by_day[4][0]: copies_by_day[4][1]}
    assert created not in result["copies"]


def test_copy_flags_are_checked_before_anything_runs(fsx: Any, run_rotate: Rotate) -> None:
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    before = dict(fsx.calls())
    code, result, _ = run_rotate("--source", fs_id, "--keep", "2", "--copy-to-region", "EU West")
    assert code == EXIT_USAGE
    assert any("--copy-to-region 'EU West'" in p for p in result["problems"])
    code, result, _ = run_rotate("--source", fs_id, "--keep", "2", "--copy-kms-key-id", "k")
    assert code == EXIT_USAGE
    assert any("--copy-kms-key-id" in p and "--copy-to-region" in p for p in result["problems"])
    assert mutating(fsx, before) == {}


def test_a_lost_backup_never_takes_its_copy(fsx: Any, run_rotate: Rotate) -> None:
    """Issue 22, 1: day 2's backup deleted by hand; its copy in the DR Region is what must
    survive, until day 2 itself leaves the window. Every delete is reported."""
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    dr = "us-west-2"
    source = ("--source", fs_id, "--keep", "3", "--copy-to-region", dr)
    made: dict[int, tuple[str, str]] = {}
    for day in (1, 2, 3):
        code, result, err = run_rotate(*source, "--at", f"2024-03-0{day}")
        assert code == EXIT_OK, err
        [backup_id] = result["created"]
        made[day] = (backup_id, result["copies"][backup_id])

    fsx.client().delete_backup(BackupId=made[2][0])
    code, result, err = run_rotate(*source, "--at", "2024-03-04")
    assert code == EXIT_OK, err
    [day4] = result["created"]
    # Day 2 is still inside the window (days 4, 3, 2): its copy stays, and day 1 goes.
    assert result["kept"] == [day4, made[3][0]]
    assert result["copies_without_backup"] == {
        "daily-2024-03-02": {"copy_id": made[2][1], "source_backup_id": made[2][0]}
    }
    assert sorted(result["deleted"]) == sorted(made[1])
    assert f"daily-2024-03-01: delete done ({made[1][0]})" in err
    assert f"daily-2024-03-01-copy: delete done ({made[1][1]})" in err
    assert f"daily-2024-03-02: its backup {made[2][0]} is gone" in err
    # The refresh dropped it from the state: not a delete of this run (new user).
    assert f"daily-2024-03-02: gone from FSx ({made[2][0]}), deleted outside" in err
    assert "daily-2024-03-02: delete done" not in err
    live_copies = set(live_backups_in(fsx, dr))
    assert made[2][1] in live_copies and made[1][1] not in live_copies
    assert set(live_backups(fsx)) == {day4, made[3][0]}

    # Day 5: day 2 leaves the window, and its copy with it; reported like any delete.
    code, result, err = run_rotate(*source, "--at", "2024-03-05")
    assert code == EXIT_OK, err
    assert result["copies_without_backup"] == {}
    assert result["deleted"] == [made[2][1]]
    assert f"daily-2024-03-02-copy: delete done ({made[2][1]})" in err
    assert made[2][1] not in live_backups_in(fsx, dr)
    assert len(live_backups_in(fsx, dr)) == 3  # days 5, 4, 3


def test_a_lost_backup_is_shown_in_the_table(
    fsx: Any, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    fs_id = fsx.create_file_system("WINDOWS")
    source = ["rotate", "--source", fs_id, "--keep", "2", "--copy-to-region", "us-west-2", *flags]
    assert main([*source, "--at", "2024-03-01"]) == EXIT_OK
    state = capsys.readouterr().out
    [backup_id] = re.findall(r"^daily-2024-03-01\s+create\s+(backup-\w+)", state, re.M)
    fsx.client().delete_backup(BackupId=backup_id)
    assert main([*source, "--at", "2024-03-02"]) == EXIT_OK
    table = capsys.readouterr().out
    assert re.search(r"^daily-2024-03-01\s+same\s+-\s+gone\s+backup-\w+$", table, re.M), table
    assert f"daily-2024-03-01: its backup {backup_id} is gone" in table


@pytest.mark.parametrize(("keep", "action"), [(1, "deleted"), (2, "adopted")])
def test_a_killed_runs_backup_is_found_by_the_next_run(
    fsx: Any, flags: list[str], run_rotate: Rotate, keep: int, action: str
) -> None:
    """Issue 22, 3: the run is killed after CreateBackup; after `cancel`, the next day's run
    finds that backup by the killed run's own token, and rotates it (keep 1: deleted).
    A backup of the same file system made by hand is never looked at."""
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    by_hand = fsx.client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    fsx.set_faults(backup_seconds=1)
    deadline = time.monotonic() + 60
    while live_backups(fsx)[by_hand]["Lifecycle"] != "AVAILABLE":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    fsx.set_faults(backup_seconds=20)
    rotate_args = ["rotate", "--source", fs_id, "--keep", str(keep), *flags]
    marker = uuid.uuid4().hex
    process = start_cli([*rotate_args, "--at", "2024-04-01"], marker)
    try:
        deadline = time.monotonic() + 180
        while not [b for b in live_backups(fsx).values() if b["Lifecycle"] == "CREATING"]:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the killed run never created its backup"
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        kill_marked(marker)
    [killed] = set(live_backups(fsx)) - {by_hand}
    fsx.set_faults(backup_seconds=1)
    backend = flags[1]
    assert main(["cancel", "--stack", f"daily-{fs_id}", "--backend", backend]) == EXIT_OK

    code, result, err = run_rotate("--source", fs_id, "--keep", str(keep), "--at", "2024-04-02")
    assert code == EXIT_OK, err
    [day2] = result["created"]
    assert result["recovered"] == {"daily-2024-04-01": {"backup_id": killed, "action": action}}
    assert "a killed run left 1 create(s) unfinished (daily-2024-04-01)" in err
    if action == "deleted":
        assert result["deleted"] == [killed] and result["kept"] == [day2]
        assert f"daily-2024-04-01: delete done ({killed})" in err
        assert set(live_backups(fsx)) == {day2, by_hand}
    else:
        assert result["deleted"] == [] and result["kept"] == [day2, killed]
        assert set(live_backups(fsx)) == {day2, killed, by_hand}

    # The next days' runs: nothing of the killed run is left over, nothing is made twice.
    code, result, err = run_rotate("--source", fs_id, "--keep", str(keep), "--at", "2024-04-03")
    assert code == EXIT_OK, err
    assert result["recovered"] == {} and len(result["kept"]) == keep
    assert set(live_backups(fsx)) == {*result["kept"], by_hand}
    assert live_backups(fsx)[by_hand]["Lifecycle"] == "AVAILABLE"


def live_backups_in(fsx: Any, region: str) -> set[str]:
    return {
        b["BackupId"]
        for b in fsx.client(region=region).describe_backups()["Backups"]
        if b["Lifecycle"] != "DELETED"
    }


# Calendar retention and --dry-run (issue 25).


def rules_keep(dates: list[str], counts: dict[str, int]) -> dict[str, list[str]]:
    """restic's rules computed here, apart from the planner: per rule, the N most recent
    distinct buckets (UTC day, ISO week, month, year) holding a date, and the newest date in
    each. Returns date -> the rules keeping it (in the order of RULE_ORDER)."""
    bucket = {
        "last": lambda d: d,
        "daily": lambda d: d,
        "weekly": lambda d: "{}-{:02d}".format(*date.fromisoformat(d).isocalendar()[:2]),
        "monthly": lambda d: d[:7],
        "yearly": lambda d: d[:4],
    }
    kept: dict[str, list[str]] = {}
    for rule in RULE_ORDER:
        if rule not in counts:
            continue
        newest: dict[str, str] = {}
        for d in dates:
            newest[bucket[rule](d)] = max(d, newest.get(bucket[rule](d), d))
        for b in sorted(newest.values(), reverse=True)[: counts[rule]]:
            kept.setdefault(b, []).append(rule)
    return kept


RULE_ORDER = ("last", "hourly", "daily", "weekly", "monthly", "yearly")


def rule_flags(counts: dict[str, int]) -> list[str]:
    return [arg for rule, n in counts.items() for arg in (f"--keep-{rule}", str(n))]


def state_files(flags: list[str]) -> dict[str, bytes]:
    """Every file of the file:// backend (the stacks, their backups and locks), by path."""
    root = Path(flags[1].removeprefix("file://"))
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_calendar_rules_over_months_with_a_dry_run_before_each_change(
    fsx: Any, flags: list[str], run_rotate: Rotate
) -> None:
    """Sparse daily runs from January to April; the rules raised and lowered on the way.
    Each run's kept backups are those the rules keep, computed in the test; before some
    runs a --dry-run says exactly what the run then does, and changes nothing."""
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    by_hand = fsx.client().create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
    mixed = {"daily": 3, "weekly": 2, "monthly": 3}
    plan = [
        ("2024-01-01", mixed),
        ("2024-01-02", mixed),
        ("2024-01-03", mixed),
        ("2024-01-10", mixed),
        ("2024-01-17", mixed),
        ("2024-01-31", mixed),
        ("2024-02-01", mixed),
        ("2024-02-14", mixed),
        ("2024-02-29", mixed),
        # Raised: nothing comes back, but nothing more goes.
        ("2024-03-01", {"last": 4, "daily": 3, "weekly": 4, "monthly": 6, "yearly": 2}),
        ("2024-03-02", {"last": 4, "daily": 3, "weekly": 4, "monthly": 6, "yearly": 2}),
        # Lowered: the backups no rule keeps any more go in one run.
        ("2024-04-15", {"daily": 1, "monthly": 2}),
    ]
    ids: dict[str, str] = {}  # date -> backup ID, of the backups the stack holds
    dry_runs = {"2024-01-10", "2024-03-01", "2024-04-15"}
    for at, counts in plan:
        args = ("--source", fs_id, *rule_flags(counts), "--at", at)
        expected = rules_keep([*ids, at], counts)
        if at in dry_runs:
            before_calls, before_state = fsx.calls(), state_files(flags)
            code, dry, err = run_rotate(*args, "--dry-run")
            assert code == EXIT_OK, err
            assert mutating(fsx, before_calls) == {}
            assert state_files(flags) == before_state
            assert dry["dry_run"] is True and dry["created"] == [] and dry["deleted"] == []
            assert dry["would_create"] == [{"name": f"daily-{at}", "period": at}]
            assert dry["would_delete"] == [
                {"name": f"daily-{d}", "period": d, "backup_id": ids[d]}
                for d in sorted(ids, reverse=True)
                if d not in expected
            ], (dry, err)
            assert dry["kept_by"] == {f"daily-{d}": rules for d, rules in expected.items()}
        code, result, err = run_rotate(*args)
        assert code == EXIT_OK, err
        [ids[at]] = result["created"]
        dropped = [ids.pop(d) for d in sorted(ids, reverse=True) if d not in expected]
        assert result["kept"] == [ids[d] for d in sorted(ids, reverse=True)], at
        assert sorted(result["deleted"]) == sorted(dropped), at
        assert result["kept_by"] == {f"daily-{d}": rules for d, rules in expected.items()}
        assert result["retention"] == counts
        assert set(live_backups(fsx)) == {*ids.values(), by_hand}, at
        if at in dry_runs:  # what the dry run said is what the run did
            assert sorted(e["backup_id"] for e in dry["would_delete"]) == sorted(dropped)
            assert dry["kept"] == result["kept"][1:]
    # The last run's rules: April 15 (daily, monthly) and March 2 (monthly, March's newest).
    assert sorted(ids) == ["2024-03-02", "2024-04-15"]


def test_a_keep_n_stack_switched_to_rules_keeps_its_backups(
    fsx: Any, flags: list[str], run_rotate: Rotate, capsys: pytest.CaptureFixture[str]
) -> None:
    fs_id = fsx.create_file_system("OPENZFS")
    made = []
    for day in range(1, 5):
        code, result, err = run_rotate("--source", fs_id, "--keep", "3", "--at", f"2024-05-0{day}")
        assert code == EXIT_OK, err
        made += result["created"]
    assert result["kept"] == made[:0:-1]  # days 4, 3, 2
    rules = ("--keep-daily", "7", "--keep-weekly", "4")
    # The dry run of a stack that does not exist yet creates nothing, not even the stack.
    before = state_files(flags)
    code, dry, err = run_rotate("--source", fs_id, *rules, "--stack", "nowhere", "--dry-run")
    assert code == EXIT_OK, err
    assert dry["would_create"] and dry["would_delete"] == [] and state_files(flags) == before
    # The same stack, now with rules: every backup it holds is kept, one more is made.
    code, result, err = run_rotate("--source", fs_id, *rules, "--at", "2024-05-05")
    assert code == EXIT_OK, err
    [day5] = result["created"]
    assert result["deleted"] == [] and result["kept"] == [day5, *made[:0:-1]]
    assert result["kept_by"]["daily-2024-05-05"] == ["daily", "weekly"]
    assert set(live_backups(fsx)) == {day5, *made[1:]}
    # The table shows which rule keeps each backup.
    capsys.readouterr()
    assert main(["rotate", "--source", fs_id, *rules, "--at", "2024-05-05", *flags]) == EXIT_OK
    table = capsys.readouterr().out
    assert re.search(
        rf"^daily-2024-05-05\s+same\s+{day5}\s+AVAILABLE\s+daily,weekly\s+-$", table, re.M
    ), table
    assert re.search(
        r"^daily-2024-05-02\s+same\s+backup-\w+\s+AVAILABLE\s+daily\s+-$", table, re.M
    ), table
    # And back to --keep 2: the oldest go.
    code, result, err = run_rotate("--source", fs_id, "--keep", "2", "--at", "2024-05-06")
    assert code == EXIT_OK, err
    assert sorted(result["deleted"]) == sorted([made[1], made[2], made[3]])
    assert result["kept_by"] == {"daily-2024-05-06": ["last"], "daily-2024-05-05": ["last"]}


def test_list_shows_each_backup_with_the_rules_that_keep_it_and_its_copy(
    fsx: Any, flags: list[str], run_rotate: Rotate, capsys: pytest.CaptureFixture[str]
) -> None:
    fs_id = fsx.create_file_system("LUSTRE", deployment_type="PERSISTENT_2")
    rules = ("--keep-daily", "2", "--keep-monthly", "3")
    made = {}
    for at in ("2024-06-29", "2024-06-30", "2024-07-01", "2024-07-02"):
        code, result, err = run_rotate(
            "--source", fs_id, *rules, "--copy-to-region", "us-west-2", "--at", at
        )
        assert code == EXIT_OK, err
        [made[at]] = result["created"]
        copies = result["copies"]
    # Kept: 07-02 (daily, monthly), 07-01 (daily), 06-30 (monthly, June's newest).
    fsx.client().delete_backup(BackupId=made["2024-07-01"])
    before = fsx.calls()
    capsys.readouterr()
    code = main(["list", "--source", fs_id, "--json", *flags])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    assert mutating(fsx, before) == {}
    listing = json.loads(out)
    assert listing["rotation"] == {
        "prefix": "daily",
        "every": "day",
        "retention": {"daily": 2, "monthly": 3},
    }
    rows = {e["name"]: e for e in listing["backups"]}
    assert list(rows) == ["daily-2024-07-02", "daily-2024-07-01", "daily-2024-06-30"]
    newest = rows["daily-2024-07-02"]
    assert newest["backup_id"] == made["2024-07-02"] and newest["lifecycle"] == "AVAILABLE"
    assert newest["kept_by"] == ["daily", "monthly"] and newest["period"] == "2024-07-02"
    assert newest["copy_id"] == copies[made["2024-07-02"]] and newest["copy_region"] == "us-west-2"
    assert newest["copy_lifecycle"] == "AVAILABLE" and newest["age_seconds"] >= 0
    # Deleted outside since the last run: FSx says it is gone; its copy is still there.
    assert rows["daily-2024-07-01"]["lifecycle"] == "gone"
    assert rows["daily-2024-07-01"]["copy_lifecycle"] == "AVAILABLE"
    assert rows["daily-2024-06-30"]["kept_by"] == ["monthly"]
    # The table, through the `ls` alias and --stack.
    assert main(["ls", "--stack", f"daily-{fs_id}", *flags]) == EXIT_OK
    table = capsys.readouterr().out
    assert re.search(
        rf"^daily-2024-06-30\s+2024-06-30\s+{made['2024-06-30']}\s+AVAILABLE\s+-\s+\S+\s+monthly\s+backup-\w+$",
        table,
        re.M,
    ), table
    assert "3 backup(s) in stack" in table and "keep daily 2, monthly 3" in table
    # A stack that does not exist: exit 2.
    assert main(["list", "--stack", "nowhere", *flags]) == EXIT_USAGE

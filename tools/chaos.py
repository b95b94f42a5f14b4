"""`make chaos`: crash trials and injected faults, counted.

Crash trials: the real `pulumi` CLI runs `pulumi up` of 8 backups and a copy
of each in another Region (the top-level example program with its
copyToRegion config, local backend) against the emulator with 2 s backups
and copies; at a seeded random moment while the creates are in flight (after
1 to 16 of the 8 CreateBackup and 8 CopyBackup calls) the whole process group
(CLI, language host, provider) is killed with SIGKILL. Then the recovery
README.md documents for users runs (`pulumi cancel`, `pulumi refresh
--clear-pending-creates`, `pulumi up`), and the trial checks: exactly 8 live
USER_INITIATED backups with the declared tags and exactly 8 copies, one of
each backup, exactly the FsxBackups and FsxBackupCopies in the state naming
them, no pending operations.

Fault runs: with the emulator throttling 30% of FSx calls and failing 10%
with InternalServerError, `pulumi up` of 32 backups then `pulumi destroy`
must succeed with no duplicate and nothing left.

    python -m tools.chaos [--trials 20] [--fault-runs 10] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from fsx_backup_provider import FsxBackup
from fsx_emulator import Emulator, EmulatorProcess
from tools import leftovers
from tools.workspace import (
    EMULATOR_CREDENTIALS,
    example_project,
    inline_stack,
    isolated_env,
    pulumi_cli,
)

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
DR_REGION = "eu-west-1"
CRASH_BACKUPS = 8
FAULT_BACKUPS = 32


@dataclass
class Tally:
    runs: int = 0
    duplicates: int = 0
    orphans: int = 0
    failures: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.runs += other.runs
        self.duplicates += other.duplicates
        self.orphans += other.orphans
        self.failures += other.failures
        self.notes += other.notes

    def line(self, what: str) -> str:
        return (
            f"{what}: {self.runs} runs, {self.duplicates} duplicates, "
            f"{self.orphans} orphans, {self.failures} failures"
        )


def _user_backups(emulator: Emulator) -> list[dict[str, Any]]:
    pages = (
        emulator.client()
        .get_paginator("describe_backups")
        .paginate(Filters=[{"Name": "backup-type", "Values": ["USER_INITIATED"]}])
    )
    return [dict(b) for page in pages for b in page["Backups"]]


def _tags(backup: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in backup.get("Tags", [])}


def _judge(
    tally: Tally,
    trial: str,
    emulator: Emulator,
    declared: dict[str, dict[str, str]],
    state_ids: list[str],
    expected: int,
) -> None:
    """Count duplicates (extra backups of one source) and orphans (backups outside the state)."""
    live = _user_backups(emulator)
    per_source = Counter(b["FileSystem"]["FileSystemId"] for b in live)
    duplicates = sum(n - 1 for n in per_source.values() if n > 1)
    orphans = len({b["BackupId"] for b in live} - set(state_ids))
    missing = len(set(state_ids) - {b["BackupId"] for b in live})
    wrong_tags = [
        b["BackupId"] for b in live if _tags(b) != declared.get(b["FileSystem"]["FileSystemId"], {})
    ]
    tally.duplicates += duplicates
    tally.orphans += orphans
    problems = []
    if len(live) != expected or len(state_ids) != expected:
        problems.append(f"{len(live)} live and {len(state_ids)} in state, expected {expected}")
    if missing:
        problems.append(f"{missing} resources without a backup")
    if wrong_tags:
        problems.append(f"wrong tags on {wrong_tags}")
    if problems or duplicates or orphans:
        tally.failures += 1
        tally.notes.append(f"{trial}: {'; '.join(problems)} dup={duplicates} orphans={orphans}")


def _judge_copies(
    tally: Tally,
    trial: str,
    emulator: Emulator,
    state_copy_ids: list[str],
    state_backup_ids: list[str],
    expected: int,
) -> None:
    """Duplicates (two copies of one backup) and orphans (copies outside the state)."""
    live = [
        b
        for b in emulator.client(region=DR_REGION).describe_backups()["Backups"]
        if b.get("Lifecycle") != "DELETED"
    ]
    per_source = Counter(b.get("SourceBackupId") for b in live)
    duplicates = sum(n - 1 for n in per_source.values() if n > 1)
    orphans = len({b["BackupId"] for b in live} - set(state_copy_ids))
    problems = []
    if len(live) != expected or len(state_copy_ids) != expected:
        problems.append(
            f"{len(live)} live copies and {len(state_copy_ids)} in state, expected {expected}"
        )
    strays = [b["BackupId"] for b in live if b.get("SourceBackupId") not in state_backup_ids]
    if strays:
        problems.append(f"copies of backups the state does not hold: {strays}")
    tally.duplicates += duplicates
    tally.orphans += orphans
    if problems or duplicates or orphans:
        tally.failures += 1
        tally.notes.append(
            f"{trial}: {'; '.join(problems)} copy dup={duplicates} copy orphans={orphans}"
        )


def crash_trial(emulator: Emulator, rng: random.Random, work: Path, number: int) -> Tally:
    """One kill-and-recover trial with the real CLI; returns its own tally."""
    tally = Tally(runs=1)
    trial = f"crash trial {number}"
    emulator.reset()
    emulator.set_faults(backup_seconds=2)
    sources = [emulator.create_file_system("LUSTRE") for _ in range(CRASH_BACKUPS)]
    declared = {fs: {"Name": f"b{i}", "Trial": str(number)} for i, fs in enumerate(sources)}

    project = example_project(work / f"trial{number}")
    env = {
        **os.environ,
        **isolated_env(work / f"pulumi{number}"),
        **EMULATOR_CREDENTIALS,
    }
    backups = [
        {"name": f"b{i}", "fileSystemId": fs, "tags": declared[fs]} for i, fs in enumerate(sources)
    ]
    for args in (
        ("stack", "init", "chaos"),
        ("config", "set", "aws:region", REGION),
        ("config", "set", "aws:endpoints", json.dumps([{"fsx": emulator.endpoint_url}])),
        ("config", "set", "backups", json.dumps(backups)),
        ("config", "set", "copyToRegion", DR_REGION),
    ):
        done = pulumi_cli(project, env, *args, timeout=600)
        if done.returncode:
            raise RuntimeError(f"{trial}: pulumi {' '.join(args)} failed: {done.stderr}")

    # Kill while creates are in flight: after a random number of the 8
    # CreateBackup and 8 CopyBackup calls have reached FSx, plus a random part
    # of a backup time.
    creates_before_kill = rng.randint(1, 2 * CRASH_BACKUPS)
    extra_delay = rng.uniform(0.0, 1.5)
    up = subprocess.Popen(
        ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--parallel", "64"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while _creates(emulator) < creates_before_kill:
        if up.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    time.sleep(extra_delay)
    os.killpg(up.pid, signal.SIGKILL)
    up.wait()
    # The engine started its language host in a process group of its own, and
    # nothing ends it once the engine is gone: this trial orphaned it, so it
    # ends it. (The provider process ends itself: its watchdog sees the engine
    # go.)
    leftovers.kill(leftovers.running(leftovers.mark_this_process(), (leftovers.LANGUAGE_HOST,)))

    recovery: list[tuple[str, ...]] = [
        ("cancel", "--yes"),
        ("refresh", "--yes", "--clear-pending-creates"),
        ("up", "--yes", "--skip-preview", "--parallel", "64"),
    ]
    for step in recovery:
        done = pulumi_cli(project, env, *step, timeout=600)
        if done.returncode:
            tally.failures += 1
            tally.notes.append(f"{trial}: pulumi {' '.join(step)} failed: {done.stdout[-800:]}")
            return tally
    exported = json.loads(pulumi_cli(project, env, "stack", "export", timeout=600).stdout)[
        "deployment"
    ]
    if exported.get("pending_operations"):
        tally.failures += 1
        tally.notes.append(f"{trial}: pending operations left: {exported['pending_operations']}")
    resources = exported.get("resources", [])
    state_ids = [r["id"] for r in resources if r["type"].endswith(":FsxBackup")]
    copy_ids = [r["id"] for r in resources if r["type"].endswith(":FsxBackupCopy")]
    _judge(tally, trial, emulator, declared, state_ids, CRASH_BACKUPS)
    _judge_copies(tally, trial, emulator, copy_ids, state_ids, CRASH_BACKUPS)
    return tally


def _creates(emulator: Emulator) -> int:
    calls = emulator.calls()
    return int(calls.get("CreateBackup", 0)) + int(calls.get("CopyBackup", 0))


def fault_run(emulator: Emulator, work: Path, number: int, seed: int) -> Tally:
    """up of 32 backups then destroy under 30% throttling and 10% InternalServerError."""
    tally = Tally(runs=1)
    run = f"fault run {number}"
    emulator.reset()
    emulator.set_faults(backup_seconds=2, throttle_rate=0.0, error_rate=0.0)
    sources = [emulator.create_file_system("LUSTRE") for _ in range(FAULT_BACKUPS)]
    declared = {fs: {"Name": f"f{i}"} for i, fs in enumerate(sources)}

    def program() -> None:
        for i, fs in enumerate(sources):
            FsxBackup(f"f{i}", file_system_id=fs, tags=declared[fs])

    stack = inline_stack(
        isolated_env(work / f"faults{number}"),
        program,
        "fsx-chaos",
        extra_env=EMULATOR_CREDENTIALS,
        config={
            "aws:region": REGION,
            "aws:endpoints": json.dumps([{"fsx": emulator.endpoint_url}]),
        },
    )
    emulator.set_faults(throttle_rate=0.3, error_rate=0.1, seed=seed + number)
    try:
        stack.up(on_output=lambda _line: None, parallel=64)
        state = (stack.export_stack().deployment or {}).get("resources", [])
        state_ids = [r["id"] for r in state if r["type"].endswith(":FsxBackup")]
        emulator.set_faults(throttle_rate=0.0, error_rate=0.0)
        _judge(tally, run, emulator, declared, state_ids, FAULT_BACKUPS)
        emulator.set_faults(throttle_rate=0.3, error_rate=0.1)
        stack.destroy(on_output=lambda _line: None, parallel=64)
        emulator.set_faults(throttle_rate=0.0, error_rate=0.0)
        left = _user_backups(emulator)
        if left:
            tally.failures += 1
            tally.orphans += len(left)
            tally.notes.append(f"{run}: {len(left)} backups left after destroy")
    except auto.CommandError as error:
        tally.failures += 1
        tally.notes.append(f"{run}: {str(error)[-1500:]}")
    finally:
        emulator.set_faults(throttle_rate=0.0, error_rate=0.0)
    return tally


def run_all(trials: int, fault_runs: int, seed: int) -> tuple[Tally, Tally]:
    crashes, faults = Tally(), Tally()
    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory(prefix="fsx-chaos-") as tmp,
        EmulatorProcess(backup_seconds=2, seed=seed) as emulator,
    ):
        work = Path(tmp)
        for number in range(trials):
            one = crash_trial(emulator, rng, work, number)
            crashes.add(one)
            print(f"  {one.line(f'crash trial {number}')}", flush=True)
        for number in range(fault_runs):
            one = fault_run(emulator, work, number, seed)
            faults.add(one)
            print(f"  {one.line(f'fault run {number}')}", flush=True)
    return crashes, faults


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--fault-runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    mark = leftovers.mark_this_process()
    crashes, faults = run_all(args.trials, args.fault_runs, args.seed)
    left = leftovers.leftovers(mark)
    print(crashes.line("crash trials (SIGKILL during creates, then the README recovery)"))
    print(faults.line("fault runs (30% throttled, 10% InternalServerError)"))
    for note in crashes.notes + faults.notes:
        print(f"  - {note}")
    bad = crashes.duplicates + crashes.orphans + crashes.failures
    bad += faults.duplicates + faults.orphans + faults.failures
    print(f"processes left running: {len(left)}")
    if left:
        leftovers.kill(left)
        print(leftovers.report(left))
    return 1 if bad or left else 0


if __name__ == "__main__":
    sys.exit(main())

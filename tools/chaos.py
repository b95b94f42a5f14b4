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

Destroy trials: the same stack, made in full, then `pulumi destroy` killed
the same way after 1 to 16 of its DeleteBackup calls. Nothing may be sent to
FSx once the engine is dead; then `pulumi cancel`, `pulumi refresh` and
`pulumi destroy` must leave no backup and no copy of the stack, and a backup
of the same file systems made by hand (a bystander) must be untouched.

Rotate trials: `fsx-backup rotate --keep 2 --copy-to-region` for three days,
the third run killed (CLI, engine and provider) after 1 to 3 of its
CreateBackup, CopyBackup and DeleteBackup calls; then the documented
recovery (`fsx-backup cancel`, the run again) and a fourth day. The fourth
day must keep exactly days 3 and 4 and their copies, with the bystander
untouched.

Fault runs: with the emulator throttling 30% of FSx calls and failing 10%
with InternalServerError, `pulumi up` of 32 backups then `pulumi destroy`
must succeed with no duplicate and nothing left.

`--cpu-hog N` runs N busy processes beside everything (a loaded machine:
the watchdogs, timeouts and retries must hold up, not only the logic).

    python -m tools.chaos [--trials 20] [--destroy-trials 5] [--rotate-trials 5]
                          [--fault-runs 10] [--seed 7] [--cpu-hog N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from fsx_backup_provider import FsxBackup
from fsx_backup_provider.core.holder import without_holder
from fsx_emulator import Emulator, EmulatorProcess
from tools import leftovers
from tools.workspace import (
    EMULATOR_CREDENTIALS,
    example_project,
    inline_stack,
    isolated_env,
    preview_first,
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
    """The tags as declared: less the provider's own fsx-backup:stack tag."""
    return without_holder({t["Key"]: t["Value"] for t in backup.get("Tags", [])})


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

    project, env = _example_stack(emulator, work / f"trial{number}", trial, declared)

    # Kill while creates are in flight: after a random number of the 8
    # CreateBackup and 8 CopyBackup calls have reached FSx, plus a random part
    # of a backup time.
    creates_before_kill = rng.randint(1, 2 * CRASH_BACKUPS)
    extra_delay = rng.uniform(0.0, 1.5)
    up = subprocess.Popen(
        ["pulumi", "up", "--yes", "--non-interactive", "--parallel", "64"],
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

    _clear_empty_attrs(env)
    recovery: list[tuple[str, ...]] = [
        ("cancel", "--yes"),
        ("refresh", "--yes", "--clear-pending-creates"),
        ("up", "--yes", "--parallel", "64"),
    ]
    for step in recovery:
        done = pulumi_cli(project, env, *step, timeout=600)
        if done.returncode:
            tally.failures += 1
            output = (done.stdout + done.stderr)[-800:]
            tally.notes.append(f"{trial}: pulumi {' '.join(step)} failed: {output}")
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


def _example_stack(
    emulator: Emulator, where: Path, trial: str, declared: dict[str, dict[str, str]]
) -> tuple[Path, dict[str, str]]:
    """The example program (a backup of each file system, a copy of each in
    DR_REGION) as stack `chaos` of a project of its own, configured, not run."""
    project = example_project(where / "project")
    env = {**os.environ, **isolated_env(where / "pulumi"), **EMULATOR_CREDENTIALS}
    backups = [
        {"name": f"b{i}", "fileSystemId": fs, "tags": tags}
        for i, (fs, tags) in enumerate(declared.items())
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
    return project, env


def _kill_after(
    process: subprocess.Popen[Any], emulator: Emulator, operations: tuple[str, ...], calls: int
) -> int:
    """SIGKILL `process`'s group once `calls` of `operations` reached FSx (or it
    ended, or 120 s passed). Returns those calls' count 1 s after the kill:
    requests already on the wire may still land, nothing may be sent later."""
    deadline = time.monotonic() + 120
    while _count(emulator, operations) < calls:
        if process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    # The engine started its language host in a process group of its own, and
    # nothing ends it once the engine is gone: the trial orphaned it, so it
    # ends it. (A provider process ends itself: its watchdog sees the engine go.)
    leftovers.kill(leftovers.running(leftovers.mark_this_process(), (leftovers.LANGUAGE_HOST,)))
    time.sleep(1)
    return _count(emulator, operations)


def _count(emulator: Emulator, operations: tuple[str, ...]) -> int:
    calls = emulator.calls()
    return sum(int(calls.get(operation, 0)) for operation in operations)


def _bystanders(emulator: Emulator, sources: list[str]) -> list[str]:
    """A backup of each of the first two sources made by hand, outside any stack."""
    client = emulator.client()
    return [
        client.create_backup(FileSystemId=fs, Tags=[{"Key": "Bystander", "Value": "yes"}])[
            "Backup"
        ]["BackupId"]
        for fs in sources[:2]
    ]


def _untouched(tally: Tally, trial: str, emulator: Emulator, bystanders: list[str]) -> None:
    alive = {
        b["BackupId"]
        for b in _user_backups(emulator)
        if b["BackupId"] in bystanders and b["Lifecycle"] == "AVAILABLE"
    }
    if alive != set(bystanders):
        tally.failures += 1
        tally.notes.append(f"{trial}: backups made by hand were touched: {set(bystanders) - alive}")


def destroy_trial(emulator: Emulator, rng: random.Random, work: Path, number: int) -> Tally:
    """`pulumi destroy` of backups and copies killed midway; the recovery leaves nothing."""
    tally = Tally(runs=1)
    trial = f"destroy trial {number}"
    emulator.reset()
    emulator.set_faults(backup_seconds=0, copy_seconds=0)
    sources = [emulator.create_file_system("LUSTRE") for _ in range(CRASH_BACKUPS)]
    declared = {fs: {"Name": f"b{i}", "Trial": str(number)} for i, fs in enumerate(sources)}
    project, env = _example_stack(emulator, work / f"destroy{number}", trial, declared)
    done = pulumi_cli(project, env, "up", "--yes", "--parallel", "64", timeout=600)
    if done.returncode:
        raise RuntimeError(f"{trial}: the first up failed: {done.stdout[-800:]}")
    bystanders = _bystanders(emulator, sources)
    deletes = rng.randint(1, 2 * CRASH_BACKUPS)
    destroy = subprocess.Popen(
        ["pulumi", "destroy", "--yes", "--non-interactive", "--parallel", "64"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    at_death = _kill_after(destroy, emulator, ("DeleteBackup",), deletes)
    time.sleep(3)
    later = _count(emulator, ("DeleteBackup",))
    if later != at_death:
        tally.failures += 1
        tally.notes.append(f"{trial}: {later - at_death} DeleteBackup sent after the engine died")
    _clear_empty_attrs(env)
    for step in (("cancel", "--yes"), ("refresh", "--yes"), ("destroy", "--yes")):
        done = pulumi_cli(project, env, *step, timeout=600)
        if done.returncode:
            tally.failures += 1
            output = (done.stdout + done.stderr)[-800:]
            tally.notes.append(f"{trial}: pulumi {' '.join(step)} failed: {output}")
            return tally
    left = [b["BackupId"] for b in _user_backups(emulator) if b["BackupId"] not in bystanders]
    copies = [
        b["BackupId"]
        for b in emulator.client(region=DR_REGION).describe_backups()["Backups"]
        if b.get("Lifecycle") != "DELETED"
    ]
    if left or copies:
        tally.failures += 1
        tally.orphans += len(left) + len(copies)
        tally.notes.append(f"{trial}: left after the recovery: {left + copies}")
    _untouched(tally, trial, emulator, bystanders)
    return tally


def _clear_empty_attrs(env: dict[str, str]) -> None:
    """A file backend killed while it writes a checkpoint can leave an empty
    `<stack>.json.attrs` beside an intact state; docs/troubleshooting.md says
    to delete it (every command fails "failed to load checkpoint: EOF" until then)."""
    backend = Path(env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    for attrs in (backend / ".pulumi" / "stacks").rglob("*.attrs"):
        if attrs.stat().st_size == 0:
            attrs.unlink()


def rotate_trial(emulator: Emulator, rng: random.Random, work: Path, number: int) -> Tally:
    """`rotate --keep 2` with copies, day 3 killed midway; the next runs keep days 3 and 4."""
    tally = Tally(runs=1)
    trial = f"rotate trial {number}"
    emulator.reset()
    emulator.set_faults(backup_seconds=1, copy_seconds=1)
    fs = emulator.create_file_system("LUSTRE")
    stack = f"daily-{fs}"
    common = [
        "--backend",
        f"file://{work / f'rotate{number}' / 'state'}",
        "--endpoint-url",
        emulator.endpoint_url,
        "--region",
        REGION,
    ]
    env = {
        **os.environ,
        **isolated_env(work / f"rotate{number}" / "pulumi"),
        **EMULATOR_CREDENTIALS,
    }
    for key in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        env.pop(key, None)

    def command(*args: str) -> list[str]:
        return [sys.executable, "-m", "fsx_backup_provider.cli", *args, *common]

    def rotate(day: int) -> subprocess.CompletedProcess[str]:
        at = f"2024-01-0{day}T02:00:00Z"
        args = ["rotate", "--source", fs, "--keep", "2", "--copy-to-region", DR_REGION]
        return subprocess.run(
            command(*args, "--at", at, "--json"),
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            start_new_session=True,
        )

    for day in (1, 2):
        done = rotate(day)
        if done.returncode:
            raise RuntimeError(f"{trial}: day {day} failed: {done.stdout[-800:]} {done.stderr}")
    bystanders = _bystanders(emulator, [fs])
    mutations = ("CreateBackup", "CopyBackup", "DeleteBackup")
    before = _count(emulator, mutations)
    killed = subprocess.Popen(
        command(
            "rotate",
            "--source",
            fs,
            "--keep",
            "2",
            "--copy-to-region",
            DR_REGION,
            "--at",
            "2024-01-03T02:00:00Z",
            "--json",
        ),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    at_death = _kill_after(killed, emulator, mutations, before + rng.randint(1, 3))
    time.sleep(3)
    if _count(emulator, mutations) != at_death:
        tally.failures += 1
        tally.notes.append(f"{trial}: FSx was changed after the run was killed")
    _clear_empty_attrs({"PULUMI_BACKEND_URL": common[1]})
    cancelled = subprocess.run(
        [sys.executable, "-m", "fsx_backup_provider.cli", "cancel", "--stack", stack, *common[:2]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if cancelled.returncode:
        raise RuntimeError(f"{trial}: fsx-backup cancel failed: {cancelled.stderr}")
    newest: dict[int, list[str]] = {}
    for day in (3, 4):
        done = rotate(day)
        if done.returncode:
            tally.failures += 1
            tally.notes.append(f"{trial}: day {day} after the kill failed: {done.stdout[-800:]}")
            return tally
        newest[day] = json.loads(done.stdout)["kept"]
    result = json.loads(done.stdout)
    kept = set(result["kept"])
    names = {b["BackupId"]: _tags(b).get("Name") for b in _user_backups(emulator)}
    live = {b for b in names if b not in bystanders}
    copies = [
        b
        for b in emulator.client(region=DR_REGION).describe_backups()["Backups"]
        if b.get("Lifecycle") != "DELETED"
    ]
    problems = []
    if len(kept) != 2 or live != kept:
        problems.append(f"kept {sorted(kept)}, live {sorted(live)}")
    if {c.get("SourceBackupId") for c in copies} != kept or len(copies) != 2:
        problems.append(f"copies of {sorted(str(c.get('SourceBackupId')) for c in copies)}")
    # Newest first: day 4's run keeps its own backup and the one day 3's re-run kept.
    if newest[4][1:] != newest[3][:1]:
        problems.append(f"day 4 kept {newest[4]}, day 3 kept {newest[3]}")
    if problems:
        tally.failures += 1
        tally.orphans += max(0, len(live - kept)) + max(0, len(copies) - 2)
        tally.notes.append(f"{trial}: {'; '.join(problems)}")
    _untouched(tally, trial, emulator, bystanders)
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

    stack = preview_first(inline_stack(
        isolated_env(work / f"faults{number}"),
        program,
        "fsx-chaos",
        extra_env=EMULATOR_CREDENTIALS,
        config={
            "aws:region": REGION,
            "aws:endpoints": json.dumps([{"fsx": emulator.endpoint_url}]),
        },
    ))
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


@contextlib.contextmanager
def cpu_hog(processes: int) -> Iterator[None]:
    """`processes` busy loops for the duration (a loaded machine), always ended."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(processes)
    ]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@dataclass
class Plan:
    trials: int
    destroy_trials: int
    rotate_trials: int
    fault_runs: int
    seed: int
    cpu_hog: int


def run_all(plan: Plan) -> dict[str, Tally]:
    tallies = {kind: Tally() for kind in ("crash", "destroy", "rotate", "fault")}
    rng = random.Random(plan.seed)
    with (
        tempfile.TemporaryDirectory(prefix="fsx-chaos-") as tmp,
        EmulatorProcess(backup_seconds=2, seed=plan.seed) as emulator,
        cpu_hog(plan.cpu_hog),
    ):
        work = Path(tmp)
        runs: list[tuple[str, int, Callable[[int], Tally]]] = [
            ("crash", plan.trials, lambda n: crash_trial(emulator, rng, work, n)),
            ("destroy", plan.destroy_trials, lambda n: destroy_trial(emulator, rng, work, n)),
            ("rotate", plan.rotate_trials, lambda n: rotate_trial(emulator, rng, work, n)),
            ("fault", plan.fault_runs, lambda n: fault_run(emulator, work, n, plan.seed)),
        ]
        for kind, count, one_run in runs:
            for number in range(count):
                started = time.monotonic()
                one = one_run(number)
                tallies[kind].add(one)
                took = time.monotonic() - started
                print(f"  {one.line(f'{kind} {number}')} ({took:.0f} s)", flush=True)
    return tallies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20, help="crash trials (kill during up)")
    parser.add_argument("--destroy-trials", type=int, default=5)
    parser.add_argument("--rotate-trials", type=int, default=5)
    parser.add_argument("--fault-runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cpu-hog", type=int, default=0, help="busy processes run beside")
    args = parser.parse_args(argv)
    mark = leftovers.mark_this_process()
    plan = Plan(
        args.trials,
        args.destroy_trials,
        args.rotate_trials,
        args.fault_runs,
        args.seed,
        args.cpu_hog,
    )
    print(f"chaos: seed {plan.seed}, {plan.cpu_hog} busy process(es) beside", flush=True)
    tallies = run_all(plan)
    left = leftovers.leftovers(mark)
    lines = {
        "crash": "crash trials (SIGKILL during up, then the README recovery)",
        "destroy": "destroy trials (SIGKILL during destroy, then cancel, refresh, destroy)",
        "rotate": "rotate trials (SIGKILL during a rotate run, then cancel and the next runs)",
        "fault": "fault runs (30% throttled, 10% InternalServerError)",
    }
    bad = 0
    for kind, tally in tallies.items():
        print(tally.line(lines[kind]))
        bad += tally.duplicates + tally.orphans + tally.failures
    for tally in tallies.values():
        for note in tally.notes:
            print(f"  - {note}")
    print(f"processes left running: {len(left)}")
    if left:
        leftovers.kill(left)
        print(leftovers.report(left))
    return 1 if bad or left else 0


if __name__ == "__main__":
    sys.exit(main())

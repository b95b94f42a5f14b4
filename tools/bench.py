"""`make bench`: FsxBackup and FsxBackupCopy against the engine's own cost, in one run.

Everything goes through the real engine (Automation API, inline programs,
local backend) and the FSx emulator. Two no-op dynamic resources of an
installed module stand for the engine's own cost: the one-property floor (the
same stack shape, for `pulumi up`), and the shaped no-op, registered exactly
as an FsxBackup is (for `pulumi preview`): what any provider of this
resource's shape costs before it computes anything. Results go to
bench/results.json and a table on stdout.

It ends with `fsx-backup preview` of a 10,000-backup spec file, the command
line as users run it (a process of its own, the real engine), timed, with the
peak memory and CPU of each process it starts.

    python -m tools.bench [--smoke] [--backup-seconds 3] [--out bench/results.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from bench.naive import NaiveBackup
from bench.noop import Noop, ShapedNoop
from fsx_backup_provider import FsxBackup, FsxBackupCopy
from fsx_emulator import Emulator, EmulatorProcess
from tools.workspace import EMULATOR_CREDENTIALS, inline_stack, isolated_env

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "fsx-bench"
REGION = "us-east-1"
# Both the floor and FsxBackup run with the same engine parallelism, high
# enough that the engine never queues operations of these stack sizes.
PARALLEL = 256
# Previews count as the quickest of several runs: a 2 s preview on a shared
# 2-core machine varies by a quarter from run to run, all on the slow side.
# A multiple of 3, so each of the three stacks takes each place in the order
# equally often; with 5, the P3 ratio of one build spread from 1.02 to 1.06.
PREVIEW_SAMPLES = 9

# P1 is judged at the largest N, P3 against the shaped no-op (issue 14).
TARGETS = {
    "up_ratio_vs_floor": ("<=", 1.25),
    "calls_per_backup": ("<=", 3.0),
    "preview_fsx_calls": ("==", 0),
    "preview_ratio_vs_shaped_noop": ("<=", 1.05),
    "refresh_describe_calls": ("<=", 8),
    "provider_pickle_bytes": ("<=", 200),
    "calls_per_copy": ("<=", 3.0),
    "unknown_preview_fsx_calls": ("==", 0),
    # Issue 22, on 2 CPUs: a 10,000-backup `fsx-backup preview` in 3 minutes and 500 MB.
    "cli_preview_seconds": ("<=", 180.0),
    "cli_preview_peak_mb": ("<=", 500.0),
    # Issue 27: destroy near the floor at 128 and at N_large (1,000), up of N_large
    # within 1.1 of floor + L, and the provider's peak memory at N_large.
    "destroy_ratio_vs_floor": ("<=", 1.25),
    "destroy_ratio_vs_floor_large": ("<=", 1.25),
    "up_ratio_vs_floor_large": ("<=", 1.1),
    "provider_peak_mb_large": ("<=", 200.0),
}
# The stack size of the large case (issue 27), and the naive peer's sizes.
N_LARGE = 1_000
NAIVE_SIZES = [8, 32, 128]
CLI_PREVIEW_BACKUPS = 10_000
DR_REGION = "eu-west-1"
# FSx allows five copies in progress to one Region: twenty take at least four copy times.
COPIES_TO_ONE_REGION = 20


def quiet(_line: str) -> None:
    pass


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def noop_program(n: int) -> auto.PulumiFn:
    def program() -> None:
        for i in range(n):
            Noop(f"r{i}", value=f"v{i}")

    return program


def shaped_program(n: int) -> auto.PulumiFn:
    def program() -> None:
        # Like the FsxBackup stack's seed: one resource every backup depends on.
        seed = Noop("seed", value="0" * 32)
        for i in range(n):
            ShapedNoop(
                f"r{i}",
                file_system_id=f"fs-{i:017x}",
                tags={"Name": f"bench-{i}"},
                identity=seed.value,
            )

    return program


def wired_program(n: int, shaped: bool) -> auto.PulumiFn:
    """n backups (or shaped no-ops) whose source is another new resource's ID.

    The engine hands a resource not yet created no ID at preview: every
    file_system_id is unknown, as in a program that makes its file systems
    with pulumi-aws in the same stack.
    """

    def program() -> None:
        seed = Noop("seed", value="0" * 32) if shaped else None
        for i in range(n):
            source = Noop(f"fs{i}", value=f"v{i}").id
            tags = {"Name": f"bench-{i}"}
            if seed is not None:
                ShapedNoop(f"r{i}", file_system_id=source, tags=tags, identity=seed.value)
            else:
                FsxBackup(f"r{i}", file_system_id=source, tags=tags)

    return program


def fsx_program(file_system_ids: list[str]) -> auto.PulumiFn:
    def program() -> None:
        for i, fs_id in enumerate(file_system_ids):
            FsxBackup(f"r{i}", file_system_id=fs_id, tags={"Name": f"bench-{i}"})

    return program


def naive_program(file_system_ids: list[str], endpoint_url: str) -> auto.PulumiFn:
    def program() -> None:
        for i, fs_id in enumerate(file_system_ids):
            NaiveBackup(f"n{i}", fs_id, region=REGION, endpoint_url=endpoint_url)

    return program


def copy_program(source_ids: list[str]) -> auto.PulumiFn:
    def program() -> None:
        for i, source in enumerate(source_ids):
            FsxBackupCopy(f"c{i}", source, source_region=REGION, region=DR_REGION)

    return program


class ProcessWatch:
    """Peak memory (VmHWM) and CPU time of every process under a root pid (Linux /proc).

    Sampled every 0.2 s; the kernel keeps each process's peak, so a sample
    just before a process ends holds its peak. By hand: the standard library
    has no process table, and this is the benchmark's only need of one.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: dict[int, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.sample()

    def sample(self) -> None:
        parents: dict[int, int] = {}
        stats: dict[int, tuple[str, float, int]] = {}
        tick = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                status = (entry / "status").read_text()
            except OSError:
                continue
            name, _, rest = stat.partition("(")[2].rpartition(")")
            fields = rest.split()
            pid = int(entry.name)
            # The kernel's peak of each process; of this process (the root
            # when inline programs are watched, and alive before the watch),
            # its resident memory now, so the peak is the watch's own.
            key = "VmRSS:" if pid == os.getpid() else "VmHWM:"
            hwm = [line for line in status.splitlines() if line.startswith(key)]
            parents[pid] = int(fields[1])
            cpu = (int(fields[11]) + int(fields[12])) / tick
            stats[pid] = (name, cpu, int(hwm[0].split()[1]) // 1024 if hwm else 0)
        for pid, (name, cpu, peak_mb) in stats.items():
            ancestor = pid
            while ancestor not in (0, 1, self.root) and ancestor in parents:
                ancestor = parents[ancestor]
            if ancestor == self.root:
                known = self.seen.setdefault(
                    pid, {"command": _label(pid, name), "cpu_s": 0.0, "peak_mb": 0}
                )
                known["cpu_s"] = max(known["cpu_s"], cpu)
                known["peak_mb"] = max(known["peak_mb"], peak_mb)


def _label(pid: int, name: str) -> str:
    if pid == os.getpid():
        return "program (inline, the bench process)"
    try:
        command = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return name
    return "provider (pulumi.dynamic)" if b"pulumi.dynamic" in command else f"{name} ({pid})"


def cli_preview_case(emulator: Emulator, work: Path, n: int) -> dict[str, Any]:
    """`fsx-backup preview` of an n-backup spec, in a process of its own, as users run it."""
    spec = work / f"spec-{n}.json"
    entries = [
        {"name": f"b{i:05d}", "fileSystemId": f"fs-{i:017x}", "tags": {"Name": f"bench-{i}"}}
        for i in range(n)
    ]
    spec.write_text(json.dumps({"backups": entries}))
    env = {
        **os.environ,
        **isolated_env(work / "cli"),
        **EMULATOR_CREDENTIALS,
    }
    command = [
        sys.executable,
        "-m",
        "fsx_backup_provider.cli",
        "preview",
        "--file",
        str(spec),
        "--stack",
        f"preview-{n}",
        "--backend",
        f"file://{work / 'cli' / 'backend'}",
        "--region",
        REGION,
        "--endpoint-url",
        emulator.endpoint_url,
        "--json",
    ]
    before = dict(emulator.calls())
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    with ProcessWatch(process.pid) as watch:
        watch.seen[process.pid] = {"command": "fsx-backup (CLI)", "cpu_s": 0.0, "peak_mb": 0}
        out, _ = process.communicate()
        watch.sample()
    seconds = time.perf_counter() - started
    report = json.loads(out)
    planned = sum(1 for op in report["changes"].values() if op == "create")
    if process.returncode != 3 or planned != n:
        raise RuntimeError(f"fsx-backup preview of {n} planned {planned}: {report['error']}")
    processes = sorted(watch.seen.values(), key=lambda p: -p["peak_mb"])
    cli = watch.seen[process.pid]
    return {
        "n": n,
        "seconds": round(seconds, 1),
        "ms_per_backup": round(1000 * seconds / n, 2),
        "cli_peak_mb": cli["peak_mb"],
        "peak_mb_by_process": {p["command"]: p["peak_mb"] for p in processes},
        "cpu_seconds_by_process": {p["command"]: round(p["cpu_s"], 1) for p in processes},
        "fsx_calls": sum(Bench.delta(before, dict(emulator.calls())).values()),
    }


class Bench:
    def __init__(self, emulator: Emulator, work: Path) -> None:
        self.emulator = emulator
        self.env = isolated_env(work)

    def stack(self, program: auto.PulumiFn) -> auto.Stack:
        # Its up() does not preview first (the Automation API's never does): the
        # bench times `up` itself against the floor's. The previews the bench
        # measures, and the tests, run as users do (tools/workspace.preview_first).
        return inline_stack(
            self.env,
            program,
            PROJECT,
            extra_env=EMULATOR_CREDENTIALS,
            config={
                "aws:region": REGION,
                "aws:endpoints": json.dumps([{"fsx": self.emulator.endpoint_url}]),
            },
        )

    def file_systems(self, n: int) -> list[str]:
        # One source per backup: backups of one source are serialised by FSx
        # itself (BackupInProgress), which is not what this measures.
        return [self.emulator.create_file_system("LUSTRE") for _ in range(n)]

    def calls(self) -> dict[str, int]:
        return dict(self.emulator.calls())

    @staticmethod
    def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
        ops = {k for k in (*before, *after) if k != "_total"}
        return {k: after.get(k, 0) - before.get(k, 0) for k in sorted(ops)}

    def floor_up(self, n: int) -> tuple[float, auto.Stack]:
        stack = self.stack(noop_program(n))
        seconds = timed(lambda: stack.up(on_output=quiet, parallel=PARALLEL))
        return seconds, stack

    def up_case(self, n: int, backup_seconds: float) -> dict[str, Any]:
        """`pulumi up` of n backups and its floor; destroy, with every FSx call counted."""
        floor_seconds, floor_stack = self.floor_up(n)
        floor_destroy = timed(lambda: floor_stack.destroy(on_output=quiet, parallel=PARALLEL))
        self.emulator.set_faults(backup_seconds=backup_seconds)
        stack = self.stack(fsx_program(self.file_systems(n)))
        gc.collect()
        before = self.calls()
        with ProcessWatch(os.getpid()) as watch:
            up_seconds = timed(lambda: stack.up(on_output=quiet, parallel=PARALLEL))
            watch.sample()
        after_up = self.calls()
        state = (stack.export_stack().deployment or {}).get("resources", [])
        backups = [r for r in state if r["type"].endswith(":FsxBackup")]
        pickles = [len(r["outputs"]["__provider"]) for r in backups]
        destroy_seconds = timed(lambda: stack.destroy(on_output=quiet, parallel=PARALLEL))
        after = self.calls()
        calls = self.delta(before, after)
        peaks = {p["command"]: p["peak_mb"] for p in watch.seen.values()}
        return {
            "n": n,
            "backup_seconds": backup_seconds,
            "up_seconds": round(up_seconds, 3),
            "floor_up_seconds": round(floor_seconds, 3),
            "up_ratio_vs_floor": round(up_seconds / (floor_seconds + backup_seconds), 3),
            "destroy_seconds": round(destroy_seconds, 3),
            "floor_destroy_seconds": round(floor_destroy, 3),
            "destroy_ratio_vs_floor": round(destroy_seconds / floor_destroy, 3),
            # What one FsxBackup costs the engine at every checkpoint: its entry
            # in the state, as the engine writes it.
            "state_bytes_per_backup": round(
                sum(len(json.dumps(r, separators=(",", ":"))) for r in backups) / n
            ),
            "peak_mb_by_process": peaks,
            "provider_peak_mb": peaks.get("provider (pulumi.dynamic)", 0),
            "program_peak_mb": peaks.get("program (inline, the bench process)", 0),
            "up_calls": self.delta(before, after_up),
            "up_and_destroy_calls": calls,
            "calls_per_backup": round(sum(calls.values()) / n, 3),
            "provider_pickle_bytes": max(pickles),
        }

    def naive_case(self, n: int, backup_seconds: float) -> dict[str, Any]:
        """The naive peer (bench/naive.py) up and destroyed at n, with the engine's
        default parallelism, as its users would run it."""
        self.emulator.set_faults(backup_seconds=backup_seconds)
        stack = self.stack(naive_program(self.file_systems(n), self.emulator.endpoint_url))
        before = self.calls()
        up_seconds = timed(lambda: stack.up(on_output=quiet))
        after_up = self.calls()
        destroy_seconds = timed(lambda: stack.destroy(on_output=quiet))
        calls = self.delta(before, self.calls())
        return {
            "n": n,
            "up_seconds": round(up_seconds, 3),
            "destroy_seconds": round(destroy_seconds, 3),
            "up_calls": self.delta(before, after_up),
            "calls_per_backup": round(sum(calls.values()) / n, 3),
        }

    def available_backups(self, n: int) -> list[str]:
        """n AVAILABLE backups made outside any stack, of n file systems."""
        fsx = self.emulator.client()
        made = [
            fsx.create_backup(FileSystemId=fs_id)["Backup"]["BackupId"]
            for fs_id in self.file_systems(n)
        ]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = [
                b
                for start in range(0, n, 50)
                for b in fsx.describe_backups(BackupIds=made[start : start + 50])["Backups"]
            ]
            if all(b["Lifecycle"] == "AVAILABLE" for b in found):
                return made
            time.sleep(0.2)
        raise RuntimeError("the bench's source backups did not become AVAILABLE")

    def copy_case(self, n: int, copy_seconds: float) -> dict[str, Any]:
        """`pulumi up` of n copies to one Region, then destroy: FSx calls per copy, and time."""
        self.emulator.set_faults(backup_seconds=0, copy_seconds=copy_seconds)
        stack = self.stack(copy_program(self.available_backups(n)))
        before = self.calls()
        up_seconds = timed(lambda: stack.up(on_output=quiet, parallel=PARALLEL))
        after_up = self.calls()
        stack.destroy(on_output=quiet, parallel=PARALLEL)
        calls = self.delta(before, self.calls())
        return {
            "n": n,
            "copy_seconds": copy_seconds,
            "up_seconds": round(up_seconds, 3),
            "up_seconds_vs_5_copy_times": round(up_seconds / (5 * copy_seconds), 3),
            "up_calls": self.delta(before, after_up),
            "up_and_destroy_calls": calls,
            "calls_per_copy": round(sum(calls.values()) / n, 3),
        }

    def preview_refresh_case(self, n: int) -> dict[str, Any]:
        """`pulumi preview` and `pulumi refresh` of n unchanged backups, and the floor's preview.

        The shaped no-op's preview is a diagnostic beside the target: it
        splits what FsxBackup's preview costs above the floor into the price
        of its shape (output attributes, stored properties), which the engine
        and SDK charge, and what the provider itself adds.
        """
        floor_seconds, floor_stack = self.floor_up(n)
        shaped_stack = self.stack(shaped_program(n))
        shaped_stack.up(on_output=quiet, parallel=PARALLEL)
        self.emulator.set_faults(backup_seconds=0)
        stack = self.stack(fsx_program(self.file_systems(n)))
        stack.up(on_output=quiet, parallel=PARALLEL)

        def preview(target: auto.Stack) -> auto.PreviewResult:
            return target.preview(on_output=quiet, parallel=PARALLEL)

        # Interleaved, so a slow spell of the machine hits all three alike, in
        # an order that turns each round: the inline programs run in this
        # process, and one that always ran right after another paid for that
        # one's garbage (seen: 1.13 in a fixed order, where this gives 1.06).
        seconds: dict[str, list[float]] = {"floor": [], "shaped": [], "fsx": []}
        stacks = {"floor": floor_stack, "shaped": shaped_stack, "fsx": stack}
        preview_fsx_calls = 0
        fsx_previews: list[auto.PreviewResult] = []
        for sample in range(PREVIEW_SAMPLES):
            names = list(stacks)
            for name in names[sample % 3 :] + names[: sample % 3]:
                gc.collect()
                before = self.calls()
                started = time.perf_counter()
                result = preview(stacks[name])
                seconds[name].append(time.perf_counter() - started)
                if name == "fsx":
                    fsx_previews.append(result)
                    preview_fsx_calls += sum(self.delta(before, self.calls()).values())
        before_refresh = self.calls()
        refresh_seconds = timed(lambda: stack.refresh(on_output=quiet, parallel=PARALLEL))
        refresh_calls = self.delta(before_refresh, self.calls())
        for done in (stack, shaped_stack, floor_stack):
            done.destroy(on_output=quiet, parallel=PARALLEL)
        fastest = {name: min(runs) for name, runs in seconds.items()}
        changes = dict(fsx_previews[0].change_summary)
        return {
            "n": n,
            "floor_up_seconds": round(floor_seconds, 3),
            "floor_preview_seconds": round(fastest["floor"], 3),
            "preview_seconds": round(fastest["fsx"], 3),
            "shaped_noop_preview_seconds": round(fastest["shaped"], 3),
            "preview_runs_seconds": {k: [round(x, 3) for x in v] for k, v in seconds.items()},
            "preview_changes": {str(k): v for k, v in changes.items()},
            "preview_samples": PREVIEW_SAMPLES,
            "preview_ratio_vs_floor": round(fastest["fsx"] / fastest["floor"], 3),
            "shaped_noop_ratio_vs_floor": round(fastest["shaped"] / fastest["floor"], 3),
            "preview_ratio_vs_shaped_noop": round(fastest["fsx"] / fastest["shaped"], 3),
            "preview_fsx_calls": preview_fsx_calls,
            "refresh_seconds": round(refresh_seconds, 3),
            "refresh_calls": refresh_calls,
            "refresh_describe_calls": refresh_calls.get("DescribeBackups", 0),
        }

    def unknown_preview_case(self, n: int) -> dict[str, Any]:
        """`pulumi preview` of a new stack of n backups whose sources are unknown at preview,
        against the shaped no-op wired the same way: FSx calls (none) and time."""
        stacks = {
            "shaped": self.stack(wired_program(n, True)),
            "fsx": self.stack(wired_program(n, False)),
        }
        seconds: dict[str, list[float]] = {"shaped": [], "fsx": []}
        fsx_calls = 0
        changes: dict[str, int] = {}
        for sample in range(PREVIEW_SAMPLES - 1):
            for name in list(stacks)[sample % 2 :] + list(stacks)[: sample % 2]:
                gc.collect()
                before = self.calls()
                started = time.perf_counter()
                result = stacks[name].preview(on_output=quiet, parallel=PARALLEL)
                seconds[name].append(time.perf_counter() - started)
                if name == "fsx":
                    fsx_calls += sum(self.delta(before, self.calls()).values())
                    changes = {str(k): v for k, v in result.change_summary.items()}
        for stack in stacks.values():
            stack.workspace.remove_stack(stack.name)
        fastest = {name: min(runs) for name, runs in seconds.items()}
        return {
            "n": n,
            "preview_seconds": round(fastest["fsx"], 3),
            "shaped_noop_preview_seconds": round(fastest["shaped"], 3),
            "preview_ratio_vs_shaped_noop": round(fastest["fsx"] / fastest["shaped"], 3),
            "preview_runs_seconds": {k: [round(x, 3) for x in v] for k, v in seconds.items()},
            "preview_changes": changes,
            "fsx_calls": fsx_calls,
        }


def verdicts(results: dict[str, Any]) -> dict[str, bool]:
    out = {}
    for key, (op, bound) in TARGETS.items():
        value = results[key]
        out[key] = value <= bound if op == "<=" else value == bound
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny N: checks the harness only")
    parser.add_argument("--backup-seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    n_up, n_preview, scale = (2, 3, [2]) if args.smoke else (32, 200, [8, 32, 128])
    n_large, naive_sizes = (4, [2]) if args.smoke else (N_LARGE, NAIVE_SIZES)
    n_copies = 2 if args.smoke else COPIES_TO_ONE_REGION
    n_cli = 20 if args.smoke else CLI_PREVIEW_BACKUPS
    backup_seconds = 1.0 if args.smoke else args.backup_seconds

    with (
        tempfile.TemporaryDirectory(prefix="fsx-bench-") as work,
        EmulatorProcess(backup_seconds=backup_seconds) as emulator,
    ):
        bench = Bench(emulator, Path(work))
        up = bench.up_case(n_up, backup_seconds)
        scaling = [up if n == n_up else bench.up_case(n, backup_seconds) for n in scale]
        large = bench.up_case(n_large, backup_seconds)
        naive = [
            {
                **bench.naive_case(n, backup_seconds),
                "fsx_up_seconds": next(c["up_seconds"] for c in scaling if c["n"] == n),
            }
            for n in naive_sizes
        ]
        preview = bench.preview_refresh_case(n_preview)
        unknown = bench.unknown_preview_case(n_preview)
        copies = bench.copy_case(n_copies, backup_seconds)
        cli_preview = cli_preview_case(emulator, Path(work), n_cli)
        # A workspace of its own: without work_dir the SDK leaves a directory in /tmp.
        engine_version = auto.LocalWorkspace(work_dir=work).pulumi_version

    results: dict[str, Any] = {
        "smoke": args.smoke,
        "N_up": n_up,
        "N_preview": n_preview,
        "L_backup_seconds": backup_seconds,
        "parallel": PARALLEL,
        "up_ratio_vs_floor": scaling[-1]["up_ratio_vs_floor"],
        "calls_per_backup": up["calls_per_backup"],
        "preview_fsx_calls": preview["preview_fsx_calls"],
        "preview_ratio_vs_shaped_noop": preview["preview_ratio_vs_shaped_noop"],
        "refresh_describe_calls": preview["refresh_describe_calls"],
        "provider_pickle_bytes": up["provider_pickle_bytes"],
        "calls_per_copy": copies["calls_per_copy"],
        "unknown_preview_fsx_calls": unknown["fsx_calls"],
        "cli_preview_seconds": cli_preview["seconds"],
        "cli_preview_peak_mb": cli_preview["cli_peak_mb"],
        "destroy_ratio_vs_floor": scaling[-1]["destroy_ratio_vs_floor"],
        "destroy_ratio_vs_floor_large": large["destroy_ratio_vs_floor"],
        "up_ratio_vs_floor_large": large["up_ratio_vs_floor"],
        "provider_peak_mb_large": large["provider_peak_mb"],
        "N_large": n_large,
        "state_bytes_per_backup": up["state_bytes_per_backup"],
        "diagnostics": {
            "unknown_preview_ratio_vs_shaped_noop": unknown["preview_ratio_vs_shaped_noop"],
            "cli_preview_ms_per_backup": cli_preview["ms_per_backup"],
            "preview_ratio_vs_floor": preview["preview_ratio_vs_floor"],
            "shaped_noop_ratio_vs_floor": preview["shaped_noop_ratio_vs_floor"],
            "copies_to_one_region_seconds_vs_5_copy_times": copies["up_seconds_vs_5_copy_times"],
        },
        "copies": copies,
        "cli_preview": cli_preview,
        "up": up,
        "up_scaling": [
            {
                k: case[k]
                for k in (
                    "n",
                    "up_seconds",
                    "floor_up_seconds",
                    "up_ratio_vs_floor",
                    "destroy_seconds",
                    "floor_destroy_seconds",
                    "destroy_ratio_vs_floor",
                    "calls_per_backup",
                    "state_bytes_per_backup",
                    "provider_peak_mb",
                    "program_peak_mb",
                )
            }
            for case in [*scaling, large]
        ],
        "large": large,
        # The naive peer beside FsxBackup at the same sizes, in the same run.
        "naive_peer": [
            {
                **case,
                "times_slower_than_fsx_backup": round(
                    case["up_seconds"] / case["fsx_up_seconds"], 1
                ),
            }
            for case in naive
        ],
        "preview_refresh": preview,
        "unknown_preview": unknown,
        "versions": {
            "pulumi_engine": engine_version,
            "pulumi_sdk": version("pulumi"),
            "python": platform.python_version(),
            "boto3": version("boto3"),
            "moto": version("moto"),
        },
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }
    results["meets_targets"] = verdicts(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")

    print(f"{'metric':<30} {'value':>10}  target   ok")
    for key, (op, bound) in TARGETS.items():
        ok = "yes" if results["meets_targets"][key] else "NO"
        print(f"{key:<30} {results[key]!s:>10}  {op} {bound!s:<5} {ok}")
    for key, value in results["diagnostics"].items():
        print(f"{key:<30} {value!s:>10}  (diagnostic)")
    print(
        f"\n{'N':>5} {'up s':>8} {'floor s':>8} {'ratio':>6} {'destroy s':>9} {'floor s':>8} "
        f"{'ratio':>6} {'calls/backup':>13} {'state B':>8} {'provider MB':>11}"
    )
    for case in results["up_scaling"]:
        print(
            f"{case['n']:>5} {case['up_seconds']:>8} {case['floor_up_seconds']:>8} "
            f"{case['up_ratio_vs_floor']:>6} {case['destroy_seconds']:>9} "
            f"{case['floor_destroy_seconds']:>8} {case['destroy_ratio_vs_floor']:>6} "
            f"{case['calls_per_backup']:>13} {case['state_bytes_per_backup']:>8} "
            f"{case['provider_peak_mb']:>11}"
        )
    print(
        f"\n{'N':>5} {'naive up s':>10} {'FsxBackup up s':>14} {'x slower':>8} {'calls/backup':>12}"
    )
    for case in results["naive_peer"]:
        print(
            f"{case['n']:>5} {case['up_seconds']:>10} {case['fsx_up_seconds']:>14} "
            f"{case['times_slower_than_fsx_backup']:>8} {case['calls_per_backup']:>12}"
        )
    print(
        f"\n{copies['n']} copies to one Region: up {copies['up_seconds']} s, "
        f"{copies['up_seconds_vs_5_copy_times']} x 5 L; "
        f"{copies['calls_per_copy']} FSx calls per copy"
    )
    print(
        f"\nfsx-backup preview of {cli_preview['n']} backups: {cli_preview['seconds']} s "
        f"({cli_preview['ms_per_backup']} ms per backup); peak MB by process "
        f"{cli_preview['peak_mb_by_process']}; CPU s {cli_preview['cpu_seconds_by_process']}"
    )
    print(f"\nL = {backup_seconds}s; raw figures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

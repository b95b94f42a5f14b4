"""No provider process outlives its engine.

The engine starts the dynamic provider in a process group of its own, so a
SIGKILL of the engine alone (an OOM kill, a lost CI runner, `kill -9`) used
to leave the provider polling FSx up to the create timeout. Here the real
`pulumi up` of slow backups has its engine (`pulumi` itself, not its group)
killed while the creates are in flight, and the provider must be gone within
10 s. The session-wide check (tests/conftest.py) then finds nothing left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tools.workspace import EMULATOR_CREDENTIALS, example_project, pulumi_cli

ROOT = Path(__file__).resolve().parents[2]
BACKUPS = 3
WATCHDOG_LIMIT_SECONDS = 10.0


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = children_of(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def running(pid: int) -> bool:
    """Alive and not a zombie (an exited child nobody has reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def cli(project: Path, env: dict[str, str], *args: str) -> None:
    done = pulumi_cli(project, env, *args, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_provider_exits_within_10_s_of_its_engines_death(
    fsx: Any, pulumi_env: dict[str, str], tmp_path: Path
) -> None:
    fsx.set_faults(backup_seconds=120)
    sources = [fsx.create_file_system("LUSTRE") for _ in range(BACKUPS)]
    project = example_project(tmp_path / "project")
    env = {**os.environ, **pulumi_env, **EMULATOR_CREDENTIALS}
    stack = f"watchdog{os.getpid()}"
    cli(project, env, "stack", "init", stack)
    cli(project, env, "config", "set", "aws:region", "us-east-1")
    cli(project, env, "config", "set", "aws:endpoints", json.dumps([{"fsx": fsx.endpoint_url}]))
    backups = [{"name": f"slow{i}", "fileSystemId": fs} for i, fs in enumerate(sources)]
    cli(project, env, "config", "set", "backups", json.dumps(backups))

    engine = subprocess.Popen(
        ["pulumi", "up", "--yes", "--non-interactive"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while fsx.calls().get("CreateBackup", 0) < BACKUPS:
            assert engine.poll() is None, "pulumi up ended before its creates were in flight"
            assert time.monotonic() < deadline, "the creates never reached the emulator"
            time.sleep(0.1)
        started = descendants(engine.pid)
        providers = [pid for pid in started if "pulumi.dynamic" in command_of(pid)]
        assert len(providers) == 1, [command_of(pid) for pid in started]

        # The engine alone, as an OOM killer would: not its process group.
        engine.send_signal(signal.SIGKILL)
        engine.wait()
        killed = time.monotonic()
        while running(providers[0]) and time.monotonic() - killed < 30:
            time.sleep(0.1)
        gone_after = time.monotonic() - killed
        print(f"provider process gone {gone_after:.1f} s after its engine was killed")
        assert gone_after <= WATCHDOG_LIMIT_SECONDS
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait()
        # Whatever else the engine had started (language host, program):
        # they are this test's to end, and it ends them by their IDs.
        for pid in started:
            if running(pid):
                os.kill(pid, signal.SIGKILL)

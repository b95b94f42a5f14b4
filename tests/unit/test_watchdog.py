"""The watchdog ends its process when the engine process dies or its parent goes.

Each case runs the watchdog in a process of its own, as in the provider host.
The real engine is killed in tests/e2e/test_leftovers.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

from fsx_backup_provider.host import watchdog

WATCHED = textwrap.dedent(
    """
    import os, sys, time
    from fsx_backup_provider.host import watchdog
    address = ("127.0.0.1", int(sys.argv[1]))
    engine = watchdog.find_engine(address) if sys.argv[2] == "find" else watchdog.Engine(address)
    watchdog.watch(engine, os.getppid())
    print("watching", os.getpid(), engine.pid, flush=True)
    time.sleep(120)
    """
)
# Listens like the engine's gRPC service, and starts the watched process as the
# engine starts a provider plugin: through a shell shim that stays its parent.
ENGINE = textwrap.dedent(
    """
    import socket, subprocess, sys, time
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    print(port, flush=True)
    shim = f'"{sys.executable}" "{sys.argv[1]}" {port} {sys.argv[2]}; true'
    subprocess.Popen(["sh", "-c", shim])
    if sys.argv[3] == "close":
        time.sleep(1)
        server.close()
    time.sleep(120)
    """
)


def wait_for_exit(pid: int, limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if not os.path.exists(f"/proc/{pid}") or _zombie(pid):
            return time.monotonic() - start
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    pytest.fail(f"the watched process was still running {limit} s later")


class FakeEngine:
    def __init__(self, tmp_path: Any, mode: str = "find", close: bool = False) -> None:
        script = tmp_path / "watched.py"
        script.write_text(WATCHED)
        self.process = subprocess.Popen(
            [sys.executable, "-c", ENGINE, str(script), mode, "close" if close else "keep"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        watching, watched, found = self.process.stdout.readline().split()
        assert watching == "watching"
        self.watched = int(watched)
        self.found = None if found == "None" else int(found)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if os.path.exists(f"/proc/{self.watched}") and not _zombie(self.watched):
            os.kill(self.watched, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_the_engine_is_found_behind_the_shim_and_its_death_ends_the_process(
    tmp_path: Any,
) -> None:
    engine = FakeEngine(tmp_path)
    try:
        assert engine.found == engine.process.pid
        time.sleep(watchdog.PROBE_SECONDS * 3)
        assert os.path.exists(f"/proc/{engine.watched}")
        engine.process.kill()
        engine.process.wait()
        assert wait_for_exit(engine.watched, 10) < 5
    finally:
        engine.kill()


def test_a_stopped_or_busy_engine_is_never_taken_for_dead(tmp_path: Any) -> None:
    """A busy machine can make any probe time out; only the engine's death counts."""
    engine = FakeEngine(tmp_path)
    try:
        os.kill(engine.process.pid, signal.SIGSTOP)
        time.sleep(watchdog.PROBE_SECONDS * (watchdog.REFUSALS_TO_EXIT + 4))
        assert os.path.exists(f"/proc/{engine.watched}") and not _zombie(engine.watched)
        assert not watchdog.Engine(
            ("127.0.0.1", engine.port), engine.process.pid, watchdog._start_time(engine.process.pid)
        ).gone()
        os.kill(engine.process.pid, signal.SIGCONT)
    finally:
        engine.kill()


def test_where_the_engine_cannot_be_found_a_closed_address_ends_the_process(
    tmp_path: Any,
) -> None:
    engine = FakeEngine(tmp_path, mode="address", close=True)
    try:
        assert engine.found is None
        assert wait_for_exit(engine.watched, 10) < 10
    finally:
        engine.kill()


def test_engine_gone_is_exact_for_a_process_and_a_pid_reused() -> None:
    me = watchdog.Engine(("127.0.0.1", 1), os.getpid(), watchdog._start_time(os.getpid()))
    assert not me.gone()
    assert watchdog.Engine(("127.0.0.1", 1), os.getpid(), "not-its-start-time").gone()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = watchdog._start_time(child.pid)
    child.wait()
    assert watchdog.Engine(("127.0.0.1", 1), child.pid, started).gone()


def test_a_parent_that_exits_ends_the_process(tmp_path: Any) -> None:
    """The shell shim between the engine and python was killed: we were reparented."""
    engine = FakeEngine(tmp_path)
    try:
        shim = watchdog._parent(engine.watched)
        assert shim is not None and _cmdline(shim).startswith("sh")
        os.kill(shim, signal.SIGKILL)
        assert wait_for_exit(engine.watched, 10) < 10
    finally:
        engine.kill()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_outside_a_provider_process_nothing_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watchdog, "_started", False)
    watchdog.start_watchdog()
    assert watchdog._started is False


def test_an_address_it_cannot_read_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watchdog, "_started", False)
    monkeypatch.setattr(watchdog, "in_dynamic_provider_process", lambda: True)
    monkeypatch.setattr(sys, "argv", ["pulumi.dynamic", "not-an-address"])
    watchdog.start_watchdog()
    assert watchdog._started is False

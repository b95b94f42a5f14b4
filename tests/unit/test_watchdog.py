"""The watchdog ends its process when the engine's address closes or its parent goes.

Each case runs the watchdog in a process of its own, as in the provider host.
The real engine is killed in tests/e2e/test_leftovers.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from fsx_backup_provider.host import watchdog

WATCHED = textwrap.dedent(
    """
    import os, sys, time
    from fsx_backup_provider.host import watchdog
    watchdog.watch(("127.0.0.1", int(sys.argv[1])), os.getppid())
    print("watching", flush=True)
    time.sleep(120)
    """
)


def wait_for_exit(process: subprocess.Popen[str], limit: float) -> float:
    start = time.monotonic()
    try:
        process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"the watched process was still running {limit} s later")
    return time.monotonic() - start


def test_a_closed_engine_address_ends_the_process() -> None:
    engine = socket.socket()
    engine.bind(("127.0.0.1", 0))
    engine.listen(8)
    port = engine.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-c", WATCHED, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "watching\n"
        # Alive while the address answers: a few probes go by without an exit.
        time.sleep(watchdog.PROBE_SECONDS * (watchdog.REFUSALS_TO_EXIT + 1))
        assert process.poll() is None
    finally:
        engine.close()
    elapsed = wait_for_exit(process, 10)
    assert elapsed < 10
    assert process.returncode == watchdog.EXIT_STATUS
    assert process.stderr is not None
    assert "Pulumi engine at 127.0.0.1" in process.stderr.read()


def test_a_parent_that_exits_ends_the_process() -> None:
    """The engine, or the shell shim between it and python, was killed: we were reparented."""
    engine = socket.socket()
    engine.bind(("127.0.0.1", 0))
    engine.listen(8)
    port = engine.getsockname()[1]
    middle = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            f"child = subprocess.Popen([sys.executable, '-c', {WATCHED!r}, '{port}'],\n"
            "                         stdout=subprocess.DEVNULL)\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert middle.stdout is not None
        child = int(middle.stdout.readline())
        time.sleep(1)
        os.kill(middle.pid, signal.SIGKILL)
        middle.wait()
        start = time.monotonic()
        while time.monotonic() - start < 10:
            if not os.path.exists(f"/proc/{child}") or _zombie(child):
                break
            time.sleep(0.2)
        else:
            os.kill(child, signal.SIGKILL)
            pytest.fail("the watched process outlived its parent by 10 s")
    finally:
        engine.close()


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

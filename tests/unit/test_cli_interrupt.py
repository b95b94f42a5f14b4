"""Ctrl-C while an engine command runs: marked, not raised; nothing new starts; bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from fsx_backup_provider.cli import interrupt
from fsx_backup_provider.cli.interrupt import Interrupted, InterruptGuard, engine_processes


def test_sigint_marks_the_run_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    escalated: list[bool] = []
    monkeypatch.setattr(InterruptGuard, "_escalate", lambda self: escalated.append(True))
    before = signal.getsignal(signal.SIGINT)
    with InterruptGuard(said.append) as guard:
        guard.check()  # nothing yet
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)  # the handler runs between bytecodes of this thread
        assert guard.interrupted
        assert said and said[0].startswith("fsx-backup: interrupted (Ctrl-C): the engine is")
        with pytest.raises(Interrupted):
            guard.check()
        assert escalated == []  # the engine got its own SIGINT; it is given time
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)
        assert escalated == [True]  # a second Ctrl-C reaches the engine at once
    assert signal.getsignal(signal.SIGINT) is before


def test_the_engine_is_sent_sigint_after_the_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGINT to fsx-backup alone never reached the engine: it gets one after the grace."""
    monkeypatch.setattr(interrupt, "GRACE_SECONDS", 0.2)
    escalated: list[float] = []
    monkeypatch.setattr(InterruptGuard, "_escalate", lambda self: escalated.append(time.time()))
    with InterruptGuard(lambda _line: None):
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 10
        while not escalated:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_engine_processes_are_this_processs_children_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert child.pid not in engine_processes()
        monkeypatch.setattr(interrupt, "ENGINE_COMMAND", "sleep")
        assert child.pid in engine_processes()
        assert child.pid not in engine_processes(parent=1)
    finally:
        child.kill()
        child.wait()
    assert child.pid not in engine_processes()

"""Ctrl-C while the engine runs: let it stop cleanly, then say so in the command's own output.

Ctrl-C in a terminal reaches the whole foreground process group: this
process and the engine it started. The engine's first SIGINT cancels the run
cleanly (the provider's waits end at once, the state is written, the lock is
released); its second terminates it at once, leaving the lock and pending
operations behind. Python's own reaction, KeyboardInterrupt, would unwind the
Automation API's call from under it: its reader threads then fail on the
closed pipes (a traceback), the engine can die on them before writing its
state, and nothing is printed on stdout.

So while an engine command runs, SIGINT only marks the run interrupted, and
the command goes on waiting for the engine, which ends the run and returns
as cancelled. Every wait stays bounded: a SIGINT sent to this process alone
(`kill -INT`) never reached the engine, so after GRACE_SECONDS the engine is
sent one (its first, a clean cancel; or its second, ending a cancel that has
hung); FORCE_SECONDS after that it is killed. A second Ctrl-C goes to the
engine as well (its second: it stops at once), and the command still reports
what it can. No step that changes anything is started after an interrupt
(`check`); the state is only read, for the report.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

GRACE_SECONDS = 30.0
FORCE_SECONDS = 15.0
# The engine's executable, as /proc/<pid>/stat names it.
ENGINE_COMMAND = "pulumi"


class Interrupted(Exception):
    """The run was interrupted (Ctrl-C) before this step; nothing more was started."""


class InterruptGuard:
    """SIGINT marks the run interrupted instead of raising, while engine commands run.

    Use as a context manager around the engine commands of one CLI command,
    in the main thread (elsewhere it does nothing: only the main thread can
    install signal handlers, and there is nothing to protect).
    """

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self._count = 0
        self._lock = threading.Lock()
        self._installed = False
        self._previous: Any = None
        self._timers: list[threading.Timer] = []

    @property
    def interrupted(self) -> bool:
        return self._count > 0

    def check(self) -> None:
        """Raise Interrupted if Ctrl-C came: before starting the next engine command."""
        if self.interrupted:
            raise Interrupted("interrupted (Ctrl-C) before the next step")

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def __exit__(self, *_exc: object) -> None:
        for timer in self._timers:
            timer.cancel()
        if self._installed:
            # None: the handler before was not set from Python; the default is closest.
            previous = signal.SIG_DFL if self._previous is None else self._previous
            signal.signal(signal.SIGINT, previous)
            self._installed = False

    def _on_sigint(self, _signum: int, _frame: FrameType | None) -> None:
        with self._lock:
            self._count += 1
            count = self._count
        if count == 1:
            self._say(
                "fsx-backup: interrupted (Ctrl-C): the engine is stopping the run cleanly; a "
                "backup under way stays in FSx and the next run finds it by its token. Ctrl-C "
                "again stops the engine at once (it may then leave the stack locked)."
            )
            self._later(GRACE_SECONDS, self._escalate)
        else:
            self._say("fsx-backup: interrupted again: stopping the engine at once")
            self._escalate()

    def _later(self, seconds: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _escalate(self) -> None:
        engines = engine_processes()
        for pid in engines:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)
        if engines:
            self._later(FORCE_SECONDS, self._kill)

    def _kill(self) -> None:
        for pid in engine_processes():
            self._say(f"fsx-backup: the engine (pid {pid}) did not stop; killing it")
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def engine_processes(parent: int | None = None) -> list[int]:
    """The pids of the engines this process started and that still run (Linux: /proc).

    By hand because the standard library has no process table and the
    Automation API does not expose the engine's Popen; without /proc this
    finds none, and only the user's Ctrl-C reaches the engine.
    """
    parent = os.getpid() if parent is None else parent
    found: list[int] = []
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            command, _, rest = stat.partition("(")[2].rpartition(")")
            fields = rest.split()
            running = len(fields) > 1 and fields[0] != "Z" and fields[1] == str(parent)
            if command == ENGINE_COMMAND and running:
                found.append(int(entry.name))
    return found

"""Processes a test session or `make chaos` started and left running.

Other developers' runs share this machine, so "ours" cannot be told by name:
`mark_this_process()` puts a marker in this process's environment, every
process started from here on inherits it (emulators, engines, and the
provider processes the engines start), and `leftovers()` finds the running
ones whose environment carries this run's marker.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

MARK_VARIABLE = "FSX_BACKUP_RUN_MARK"
# Command lines of the processes no run may leave behind: the provider, the
# emulator, and the engine's Python language host (which a killed engine
# orphans: the engine starts its plugins in process groups of their own).
LANGUAGE_HOST = "pulumi-language-python"
WATCHED = ("pulumi.dynamic", "fsx_emulator", LANGUAGE_HOST)
# The provider's watchdog ends an orphaned provider within a few seconds,
# and an engine that finished stops its plugins; give both time.
SETTLE_SECONDS = 15.0


@dataclass(frozen=True)
class Leftover:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"{self.pid}: {self.command}"


def mark_this_process() -> str:
    """This run's marker, set in os.environ so that every child inherits it.

    A run started from inside another (the chaos test inside `make test`)
    keeps the outer run's marker, so the outer run's check covers it.
    """
    mark = os.environ.get(MARK_VARIABLE)
    if not mark:
        mark = uuid.uuid4().hex
        os.environ[MARK_VARIABLE] = mark
    return mark


def running(mark: str, watched: tuple[str, ...] = WATCHED) -> list[Leftover]:
    """Running processes (not this one) that carry `mark` and whose command line has `watched`."""
    wanted = f"{MARK_VARIABLE}={mark}".encode()
    found: list[Leftover] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        # Empty for a zombie (it runs nothing any more), and for a moment
        # during exec (leftovers() looks twice for that reason).
        if command and wanted in environ and any(name in command for name in watched):
            found.append(Leftover(int(entry.name), command))
    return found


def leftovers(mark: str, settle_seconds: float = SETTLE_SECONDS) -> list[Leftover]:
    """The marked processes still running once `settle_seconds` have passed (at most)."""
    deadline = time.monotonic() + settle_seconds
    looked_twice = False
    while True:
        found = running(mark)
        if found and time.monotonic() >= deadline:
            return found
        if not found:
            if looked_twice:
                return found
            looked_twice = True
        time.sleep(0.5)


def kill(found: list[Leftover]) -> None:
    """SIGKILL each leftover by its process ID (they are this run's own)."""
    for leftover in found:
        try:
            os.kill(leftover.pid, signal.SIGKILL)
        except ProcessLookupError:
            continue


def report(found: list[Leftover]) -> str:
    lines = [f"{len(found)} process(es) started by this run were still running at its end:"]
    lines += [f"  {leftover}" for leftover in found]
    lines.append("They have been killed; the run fails so that the leak is found and fixed.")
    return "\n".join(lines)

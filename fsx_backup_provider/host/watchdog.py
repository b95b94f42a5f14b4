"""End the provider process when the engine that started it is gone, and send nothing after.

The engine starts every provider plugin in a process group of its own
(`python -m pulumi.dynamic 127.0.0.1:PORT`, through a shell shim), so a
signal to the engine's group does not reach it, and an engine killed outright
(SIGKILL, an OOM kill, a lost CI runner) leaves it running: a waiting create
would keep polling FSx, and a destroy would keep deleting, with nobody to
record it.

The engine is found once, when the provider is configured: the process among
this one's ancestors that listens on the engine's address (the one argument
the engine gives a provider plugin); it is the grandparent, behind the shim.
From then on "the engine is gone" is exact: that process no longer exists
(its /proc entry is gone, or belongs to another process that reused the
PID). No probe and no timing is involved, so a busy or stopped engine never
looks dead, however loaded the machine. The watchdog thread checks it every
PROBE_SECONDS and ends the process; `engine_gone()` checks it before each
request that would change FSx (lifecycle.ensure_engine), so nothing is sent
in between.

Where the engine cannot be found that way (no /proc, another layout), the
address is probed instead, and only a refused connection counts: a process
that dies has its listening socket closed by the kernel at once, while a
busy one still accepts. The watchdog then ends the process after
REFUSALS_TO_EXIT refusals in a row, and engine_gone() after one. A parent
that changes (the shim was killed) ends the process too.

It fails soft: outside a provider process, or with an argument it cannot
read as host:port, it does nothing and engine_gone() is False.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass

from fsx_backup_provider.host.server import in_dynamic_provider_process

PROBE_SECONDS = 0.5
REFUSALS_TO_EXIT = 3
# Exit status when the engine is gone: EX_UNAVAILABLE, for whoever reaps us.
EXIT_STATUS = 69
# How far up the process tree the engine may be (python <- shim <- engine).
ANCESTORS = 6

_LISTEN = "0A"


@dataclass(frozen=True)
class Engine:
    """The engine process, or only its address when the process could not be found."""

    address: tuple[str, int]
    pid: int | None = None
    started: str | None = None

    def gone(self) -> bool:
        """Exactly: the process is gone. Without one: its address refuses a connection."""
        if self.pid is not None:
            return _start_time(self.pid) != self.started
        return _refused(self.address)


_started = False
_engine: Engine | None = None
_lock = threading.Lock()


def start_watchdog() -> None:
    """Watch this provider process's engine, once per process; no-op elsewhere."""
    global _started, _engine
    with _lock:
        if _started or not in_dynamic_provider_process() or len(sys.argv) < 2:
            return
        address = _parse(sys.argv[1])
        if address is None:
            return
        _started = True
        _engine = find_engine(address)
    watch(_engine, os.getppid())


def engine_gone() -> bool:
    """Whether the engine that started this provider process is gone (False if unknown)."""
    with _lock:
        engine = _engine
    return engine is not None and engine.gone()


def _parse(address: str) -> tuple[str, int] | None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # The command name may hold spaces and parentheses: split after it.
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid: int) -> str | None:
    fields = _stat_fields(pid)
    # Field 22 of /proc/PID/stat (starttime); fields[0] is field 3 (state).
    if fields is None or len(fields) < 20 or fields[0] == "Z":
        return None
    return fields[19]


def _parent(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields and len(fields) > 1 else None


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines, None)
                for line in lines:
                    fields = line.split()
                    listening = len(fields) > 9 and fields[3] == _LISTEN
                    if listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except OSError:
            continue
    return inodes


def _holds_socket(pid: int, inodes: set[str]) -> bool:
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return True
    except OSError:
        return False
    return False


def find_engine(address: tuple[str, int], start: int | None = None) -> Engine:
    """The ancestor of `start` (this process) that listens on `address`, or the address alone."""
    inodes = _listening_inodes(address[1])
    pid = _parent(start if start is not None else os.getpid())
    for _ in range(ANCESTORS):
        if not inodes or pid is None or pid <= 1:
            break
        if _holds_socket(pid, inodes):
            started = _start_time(pid)
            if started is not None:
                return Engine(address, pid, started)
        pid = _parent(pid)
    return Engine(address)


def _refused(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=PROBE_SECONDS):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        # A timeout or a transient network error is not a refusal: the
        # engine may just be busy. Only a closed port counts.
        return False


def watch(engine: Engine, parent_pid: int) -> threading.Thread:
    """Exit the process once the engine is gone or the parent changes."""
    thread = threading.Thread(
        target=_watch, args=(engine, parent_pid), name="fsx-backup-watchdog", daemon=True
    )
    thread.start()
    return thread


def _watch(engine: Engine, parent_pid: int) -> None:
    refusals = 0
    while True:
        time.sleep(PROBE_SECONDS)
        if os.getppid() != parent_pid:
            _exit(f"its parent process {parent_pid} exited")
        if engine.pid is not None:
            if engine.gone():
                _exit(f"the Pulumi engine (process {engine.pid}) is gone")
            continue
        refusals = refusals + 1 if engine.gone() else 0
        if refusals >= REFUSALS_TO_EXIT:
            host, port = engine.address
            _exit(f"the Pulumi engine at {host}:{port} no longer answers")


def _exit(why: str) -> None:
    # Nobody may read our stderr any more; the exit must not depend on it.
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(
            f"fsx-backup-provider: {why}; the provider process ends. Backups being created "
            "are kept in FSx and found again by the next `pulumi up`.\n"
        )
        sys.stderr.flush()
    # os._exit: the engine's gRPC server and the workers blocked in FSx calls
    # would keep an orderly interpreter shutdown waiting.
    os._exit(EXIT_STATUS)

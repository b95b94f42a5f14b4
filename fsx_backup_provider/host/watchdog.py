"""End the provider process when the engine that started it is gone.

The engine starts every provider plugin in a process group of its own
(`python -m pulumi.dynamic 127.0.0.1:PORT`, through a shell shim), so a
signal to the engine's group does not reach it, and an engine killed outright
(SIGKILL, an OOM kill, a lost CI runner) leaves it running: a waiting create
would keep polling FSx up to its create timeout, with nobody to tell.

Two signs that the engine is gone, both cheap and both available to any
dynamic provider process: the process's parent changed (whatever started it
exited), or the engine's own gRPC address, the one argument the engine gives
a provider plugin, refuses connections several times in a row (a process
that dies has its listening socket closed by the kernel at once). Either
ends the process, within about PROBE_SECONDS * REFUSALS_TO_EXIT seconds.
Nothing is lost by ending it: a backup being created is in FSx and the next
`pulumi up` finds it again by its token.

It fails soft: outside a provider process, or with an argument it cannot
read as host:port, it does nothing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time

from fsx_backup_provider.host.server import in_dynamic_provider_process

PROBE_SECONDS = 1.0
REFUSALS_TO_EXIT = 3
# Exit status when the engine is gone: EX_UNAVAILABLE, for whoever reaps us.
EXIT_STATUS = 69

_started = False
_lock = threading.Lock()


def start_watchdog() -> None:
    """Watch this provider process's engine, once per process; no-op elsewhere."""
    global _started
    with _lock:
        if _started or not in_dynamic_provider_process() or len(sys.argv) < 2:
            return
        address = _parse(sys.argv[1])
        if address is None:
            return
        _started = True
    watch(address, os.getppid())


def _parse(address: str) -> tuple[str, int] | None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def watch(address: tuple[str, int], parent_pid: int) -> threading.Thread:
    """Exit the process once `address` refuses connections or the parent changes."""
    thread = threading.Thread(
        target=_watch, args=(address, parent_pid), name="fsx-backup-watchdog", daemon=True
    )
    thread.start()
    return thread


def _watch(address: tuple[str, int], parent_pid: int) -> None:
    refusals = 0
    while True:
        time.sleep(PROBE_SECONDS)
        if os.getppid() != parent_pid:
            _exit(f"its parent process {parent_pid} exited")
        try:
            with socket.create_connection(address, timeout=PROBE_SECONDS):
                refusals = 0
        except ConnectionRefusedError:
            refusals += 1
            if refusals >= REFUSALS_TO_EXIT:
                _exit(f"the Pulumi engine at {address[0]}:{address[1]} no longer answers")
        except OSError:
            # A timeout or a transient network error is not a refusal: the
            # engine may just be busy. Only a closed port counts.
            continue


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

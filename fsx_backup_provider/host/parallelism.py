"""Let the dynamic provider process run more than 4 operations at once.

All dynamic resources of a program share one provider process,
`python -m pulumi.dynamic`, whose gRPC server is built with
`futures.ThreadPoolExecutor(max_workers=4)` (pulumi/dynamic/__main__.py). A
create that waits for AVAILABLE holds a worker for the whole backup, so 32
backups would take 8 backup-times however large the engine's `--parallel`.
No public API sizes that pool, so this widens it from inside the process:
it finds the gRPC server the SDK started and raises its executor's worker
limit; ThreadPoolExecutor reads that limit on every submit and starts threads
on demand. The engine's `--parallel` then bounds concurrency, as it does for
any other provider.

This leans on internals: the SDK building its server on a ThreadPoolExecutor,
grpcio's `grpc._server._Server` holding it as `_state.thread_pool`, and the
executor's `_max_workers` and `_work_queue`. They held from pulumi 3.220 to
the newest SDK the smoke test installs. If one of them differs, the provider
says so once in the engine's output and runs with the host's 4 workers:
slower, never failing an operation.
"""

from __future__ import annotations

import gc
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from typing import Any

# Far above any sensible --parallel: threads are only started when the engine
# actually has that many operations in flight.
PROVIDER_WORKERS = 512
WARNING_PREFIX = "fsx-backup-provider could not widen the Pulumi dynamic provider's worker pool"

# None until the first attempt in this process; then whether the pool is wide.
_wide: bool | None = None
_lock = threading.Lock()


class _InternalsDiffer(Exception):
    """What the widening expected of the SDK or grpcio and did not find."""


def _start_a_worker() -> None:
    """Submitted only so that ThreadPoolExecutor starts another thread."""


def in_dynamic_provider_process() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == "pulumi.dynamic.__main__"


def grpc_servers() -> list[Any]:
    """The grpc servers of this process (the provider host's one): no API names them."""
    return [
        candidate
        for candidate in gc.get_objects()
        if (type(candidate).__module__, type(candidate).__qualname__) == ("grpc._server", "_Server")
    ]


def _grpc_server_pools() -> list[ThreadPoolExecutor]:
    pools: list[ThreadPoolExecutor] = []
    for server in grpc_servers():
        pool = getattr(getattr(server, "_state", None), "thread_pool", None)
        if isinstance(pool, ThreadPoolExecutor):
            pools.append(pool)
    return pools


def _widen(workers: int) -> None:
    pools = _grpc_server_pools()
    if len(pools) != 1:
        raise _InternalsDiffer(f"found {len(pools)} grpc._server._Server thread pools, not 1")
    pool = pools[0]
    limit = getattr(pool, "_max_workers", None)
    queue = getattr(pool, "_work_queue", None)
    if not isinstance(limit, int) or not callable(getattr(queue, "qsize", None)):
        raise _InternalsDiffer("the server's ThreadPoolExecutor has no _max_workers/_work_queue")
    pool._max_workers = max(limit, workers)
    # Operations that arrived together with this first one (a refresh sends
    # them all at once) are already queued behind the 4 busy workers, and
    # threads are only started on submit: one no-op per queued operation
    # starts a thread for each.
    for _ in range(pool._work_queue.qsize()):
        pool.submit(_start_a_worker)


def _installed(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def _warn(reason: str) -> None:
    """Tell the user once, in the engine's output; stderr if the engine cannot be reached."""
    message = (
        f"{WARNING_PREFIX} ({reason}; pulumi {_installed('pulumi')}, grpcio "
        f"{_installed('grpcio')}): this run creates, deletes and refreshes at most 4 "
        "FsxBackups at a time. Nothing else changes. For full parallelism use a pulumi SDK "
        "in the tested range (README.md, 'Supported versions')."
    )
    try:
        # Imported here: progress imports this module for in_dynamic_provider_process.
        from pulumi.runtime.proto import engine_pb2

        from fsx_backup_provider.host.progress import _engine

        engine = _engine()
        if engine is not None:
            # No urn: a stack-level warning, shown once in the update's diagnostics.
            engine.Log(
                engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message), timeout=5
            )
            return
    except Exception:  # the engine's Log RPC is one more internal that may differ
        pass
    print(message, file=sys.stderr, flush=True)


def widen_provider_pool(workers: int = PROVIDER_WORKERS) -> bool:
    """Raise the provider server's worker limit, once per process; no-op elsewhere.

    Returns whether the pool is wide. Never raises: a failure costs speed
    only, so it is reported once and the host's 4 workers carry on.
    """
    global _wide
    with _lock:
        if not in_dynamic_provider_process():
            return False
        if _wide is None:
            try:
                _widen(workers)
                _wide = True
            except Exception as error:  # any change of the internals: slower, never failing
                _wide = False
                _warn(str(error) or type(error).__name__)
        return _wide

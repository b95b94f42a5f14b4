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

This leans on internals, proven on the SDK versions pinned in
pyproject.toml (pulumi 3.272.x, grpcio's `_Server._state.thread_pool`, and the executor's
`_max_workers` and `_work_queue`). If
either changes, the provider fails loudly with a message saying so, rather
than quietly running four at a time.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

# Far above any sensible --parallel: threads are only started when the engine
# actually has that many operations in flight.
PROVIDER_WORKERS = 512
ALLOW_SERIAL_ENV = "FSX_BACKUP_ALLOW_FOUR_WORKERS"

_done = False
_lock = threading.Lock()


class ParallelismUnavailable(RuntimeError):
    pass


def _start_a_worker() -> None:
    """Submitted only so that ThreadPoolExecutor starts another thread."""


def in_dynamic_provider_process() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == "pulumi.dynamic.__main__"


def _grpc_server_pools() -> list[ThreadPoolExecutor]:
    pools: list[ThreadPoolExecutor] = []
    for candidate in gc.get_objects():
        kind = type(candidate)
        if (kind.__module__, kind.__qualname__) == ("grpc._server", "_Server"):
            pool = getattr(getattr(candidate, "_state", None), "thread_pool", None)
            if isinstance(pool, ThreadPoolExecutor):
                pools.append(pool)
    return pools


def widen_provider_pool(workers: int = PROVIDER_WORKERS) -> None:
    """Raise the provider server's worker limit, once per process; no-op elsewhere."""
    global _done
    with _lock:
        if _done or not in_dynamic_provider_process():
            return
        pools = _grpc_server_pools()
        if len(pools) != 1 or not isinstance(getattr(pools[0], "_max_workers", None), int):
            if os.environ.get(ALLOW_SERIAL_ENV):
                _done = True
                return
            raise ParallelismUnavailable(
                "fsx-backup-provider could not widen the Pulumi dynamic provider's worker "
                f"pool (found {len(pools)} gRPC server pools): the pulumi or grpcio SDK "
                "internals it relies on have changed (proven on pulumi 3.272.x). Without "
                "it, backups are created 4 at a time. Install the pinned SDK, or set "
                f"{ALLOW_SERIAL_ENV}=1 to accept 4 at a time."
            )
        pool = pools[0]
        pool._max_workers = max(pool._max_workers, workers)
        # Operations that arrived together with this first one (a refresh
        # sends them all at once) are already queued behind the 4 busy
        # workers, and threads are only started on submit: one no-op per
        # queued operation starts a thread for each.
        for _ in range(pool._work_queue.qsize()):
            pool.submit(_start_a_worker)
        _done = True

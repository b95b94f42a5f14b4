"""Let the dynamic provider process run more than 4 operations at once.

All dynamic resources of a program share one provider process,
`python -m pulumi.dynamic`, whose gRPC server is built with
`futures.ThreadPoolExecutor(max_workers=4)` (pulumi/dynamic/__main__.py). A
create that waits for AVAILABLE holds a worker for the whole backup, so 32
backups would take 8 backup-times however large the engine's `--parallel`.
No public API sizes that pool, so this replaces it from inside the process:
it finds the gRPC server the SDK started and hands it an executor of this
module's own, which starts a thread whenever an operation arrives and no
thread is idle. The engine's `--parallel` then bounds concurrency, as it does
for any other provider.

Why not simply raise the ThreadPoolExecutor's worker limit (as before):
that executor guesses whether a thread is idle from a semaphore that every
finished task releases, and the tasks it ran before the limit was raised
(and the ones it was given to start threads) leave it counting threads as
idle that are in fact blocked in a create's wait. A check that arrives then
is queued behind those creates: in `make bench`, about one `pulumi up` of
128 backups in three saw checks stall for a whole backup time (13.9 s
instead of 6.6 s); on real FSx that is minutes.

This leans on internals: the SDK serving on one grpcio server, grpcio's
`grpc._server._Server` holding its executor as `_state.thread_pool` and only
ever calling its `submit`, and (for operations already queued when the
executor is replaced) the ThreadPoolExecutor's `_max_workers` and
`_work_queue`. They held from pulumi 3.216 to the newest SDK the smoke test
installs. If one of them differs, the provider says so once in the engine's
output and runs with the host's 4 workers: slower, never failing an
operation.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from fsx_backup_provider.host.server import grpc_servers, in_dynamic_provider_process, warn

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


class OnDemandExecutor(Executor):
    """Runs each task at once: on an idle thread if there is one, else on a new one.

    Written by hand because the standard library has no executor that knows
    which of its threads are idle (see the module docstring): here a thread
    counts as idle exactly while it waits for a task, under one lock. Idle
    threads end after `idle_seconds`; all are daemons, so none holds up the
    provider process's exit.
    """

    def __init__(self, max_workers: int, idle_seconds: float = 60.0) -> None:
        self._max_workers = max_workers
        self._idle_seconds = idle_seconds
        self._cond = threading.Condition()
        self._tasks: deque[tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]]
        self._tasks = deque()
        self._threads = 0
        self._idle = 0
        self._shut_down = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._cond:
            if self._shut_down:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._tasks.append((future, fn, args, kwargs))
            # A woken thread stays counted as idle until it takes its task:
            # as many tasks queued as threads idle means none is spare.
            if self._idle >= len(self._tasks) or self._threads >= self._max_workers:
                self._cond.notify()
            else:
                self._threads += 1
                threading.Thread(target=self._work, name="fsx-backup-rpc", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._tasks and not self._shut_down:
                    self._idle += 1
                    woken = self._cond.wait(timeout=self._idle_seconds)
                    self._idle -= 1
                    if not woken and not self._tasks:
                        self._threads -= 1
                        return
                if not self._tasks:
                    self._threads -= 1
                    return
                future, fn, args, kwargs = self._tasks.popleft()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as error:  # handed to whoever holds the future
                    future.set_exception(error)
            del future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._shut_down = True
            if cancel_futures:
                while self._tasks:
                    self._tasks.popleft()[0].cancel()
            self._cond.notify_all()


def _grpc_server_states() -> list[Any]:
    """The state of each grpc server whose executor is a ThreadPoolExecutor."""
    return [
        state
        for server in grpc_servers()
        if isinstance(
            getattr(state := getattr(server, "_state", None), "thread_pool", None),
            ThreadPoolExecutor,
        )
    ]


def _widen(workers: int) -> None:
    states = _grpc_server_states()
    if len(states) != 1:
        raise _InternalsDiffer(f"found {len(states)} grpc._server._Server thread pools, not 1")
    state = states[0]
    pool = state.thread_pool
    limit = getattr(pool, "_max_workers", None)
    queue = getattr(pool, "_work_queue", None)
    if not isinstance(limit, int) or not callable(getattr(queue, "qsize", None)):
        raise _InternalsDiffer("the server's ThreadPoolExecutor has no _max_workers/_work_queue")
    # From now on the server hands every operation to an executor that starts
    # a thread when none is idle.
    state.thread_pool = OnDemandExecutor(workers)
    # Operations that arrived together with this first one (a refresh sends
    # them all at once) are already queued in the old pool behind its 4 busy
    # workers, and it starts threads only on submit: one no-op per queued
    # operation starts a thread for each. Nothing new is queued there, so its
    # idle count going wrong no longer matters.
    pool._max_workers = max(limit, workers)
    for _ in range(pool._work_queue.qsize()):
        pool.submit(_start_a_worker)


def _installed(dist: str) -> str:
    # Imported here: only a warning needs it, and every provider process of
    # every preview would pay for importlib.metadata (about 3 ms).
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def _warn(reason: str) -> None:
    warn(
        f"{WARNING_PREFIX} ({reason}; pulumi {_installed('pulumi')}, grpcio "
        f"{_installed('grpcio')}): this run creates, deletes and refreshes at most 4 "
        "FsxBackups at a time. Nothing else changes. For full parallelism use a pulumi SDK "
        "in the tested range (CONTRIBUTING.md, 'Supported versions')."
    )


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

"""The provider pool is widened only in the dynamic provider process; a failure
to widen it is reported once and never raised."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from fsx_backup_provider.host import parallelism


def test_outside_the_provider_process_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallelism, "_wide", None)
    assert parallelism.widen_provider_pool() is False
    assert parallelism._wide is None


def test_the_grpc_servers_pool_is_widened_and_queued_work_gets_threads() -> None:
    """In a process of its own, like the provider host: exactly one gRPC server."""
    script = textwrap.dedent(
        """
        import threading, time
        from concurrent.futures import ThreadPoolExecutor
        import grpc
        from fsx_backup_provider.host import parallelism

        parallelism.in_dynamic_provider_process = lambda: True
        pool = ThreadPoolExecutor(max_workers=4)
        server = grpc.server(pool)
        release = threading.Event()
        running = []
        for _ in range(12):  # what a refresh does: everything arrives at once
            pool.submit(lambda: (running.append(1), release.wait(10)))
        time.sleep(0.2)
        assert len(running) == 4, running
        assert parallelism.widen_provider_pool(64) is True
        time.sleep(0.5)
        print(pool._max_workers, len(running))
        release.set()
        server.stop(0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["64", "12"], done.stderr


def test_a_quick_call_never_waits_behind_blocked_ones() -> None:
    """What stalled checks behind creates: ThreadPoolExecutor counting threads as idle
    that are blocked. 12 calls arrive while the host's 4 workers are busy (8 are
    queued), the pool is widened, they finish; then 13 creates block and a check
    arrives. It must run at once, not when a create returns."""
    script = textwrap.dedent(
        """
        import threading, time
        from concurrent.futures import ThreadPoolExecutor
        import grpc
        from fsx_backup_provider.host import parallelism

        parallelism.in_dynamic_provider_process = lambda: True
        server = grpc.server(ThreadPoolExecutor(max_workers=4))
        state = server._state
        first = threading.Event()
        done = [state.thread_pool.submit(first.wait, 10) for _ in range(12)]
        time.sleep(0.2)
        assert parallelism.widen_provider_pool(64) is True
        first.set()
        for future in done:
            future.result(timeout=10)
        creates = threading.Event()
        blocked = [state.thread_pool.submit(creates.wait, 10) for _ in range(13)]
        asked = time.monotonic()
        check = state.thread_pool.submit(time.monotonic)
        print(round(check.result(timeout=20) - asked, 1))
        creates.set()
        for future in blocked:
            future.result(timeout=10)
        server.stop(0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert float(done.stdout) < 1.0, done.stdout + done.stderr


def test_the_executor_reuses_idle_threads_and_runs_everything() -> None:
    pool = parallelism.OnDemandExecutor(max_workers=8, idle_seconds=0.2)
    for n in range(20):
        assert pool.submit(lambda x: x * 2, n).result(timeout=5) == n * 2
    # One at a time: one thread did all of it.
    assert pool._threads == 1
    gate = threading.Event()
    waiting = [pool.submit(gate.wait, 5) for _ in range(12)]
    time.sleep(0.2)
    # The cap holds: 8 threads, 4 calls queued until one is free.
    assert pool._threads == 8 and len(pool._tasks) == 4
    gate.set()
    assert all(f.result(timeout=5) for f in waiting)
    failing = pool.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)
    time.sleep(0.6)
    assert pool._threads == 0  # idle threads end
    pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(print)


def test_changed_internals_cost_speed_not_an_operation() -> None:
    """No gRPC server where one is expected (the SDK changed): one warning, no error.

    Outside an engine there is no Log RPC to reach, so the warning goes to
    stderr; tests/e2e/test_parallelism.py shows it in the engine's output.
    """
    script = textwrap.dedent(
        """
        from fsx_backup_provider.host import parallelism

        parallelism.in_dynamic_provider_process = lambda: True
        print(parallelism.widen_provider_pool(), parallelism.widen_provider_pool())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["False", "False"], done.stderr
    [warning] = done.stderr.splitlines()
    assert warning.startswith(parallelism.WARNING_PREFIX), warning
    assert "found 0 grpc._server._Server thread pools" in warning
    assert "at most 4 FsxBackups at a time" in warning and "pulumi 3." in warning

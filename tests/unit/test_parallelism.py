"""The provider pool is widened only in the dynamic provider process, or fails loudly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from fsx_backup_provider.host import parallelism


def test_outside_the_provider_process_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallelism, "_done", False)
    parallelism.widen_provider_pool()
    assert parallelism._done is False


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
        parallelism.widen_provider_pool(64)
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


def test_changed_internals_fail_loudly() -> None:
    """No gRPC server where one is expected (the SDK changed): a clear error, not 4 workers."""
    script = textwrap.dedent(
        """
        from fsx_backup_provider.host import parallelism

        parallelism.in_dynamic_provider_process = lambda: True
        try:
            parallelism.widen_provider_pool()
        except parallelism.ParallelismUnavailable as error:
            print("raised:", error)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != parallelism.ALLOW_SERIAL_ENV}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.stdout.startswith("raised:"), (done.stdout, done.stderr)
    assert "4 at a time" in done.stdout and parallelism.ALLOW_SERIAL_ENV in done.stdout

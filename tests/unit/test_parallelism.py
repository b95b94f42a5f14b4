"""The provider pool is widened only in the dynamic provider process, or fails loudly."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from fsx_backup_provider import parallelism


@pytest.fixture
def as_provider_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallelism, "in_dynamic_provider_process", lambda: True)
    monkeypatch.setattr(parallelism, "_done", False)
    monkeypatch.delenv(parallelism.ALLOW_SERIAL_ENV, raising=False)


def test_outside_the_provider_process_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallelism, "_done", False)
    parallelism.widen_provider_pool()
    assert parallelism._done is False


@pytest.mark.usefixtures("as_provider_process")
def test_the_grpc_servers_pool_is_widened() -> None:
    pool = ThreadPoolExecutor(max_workers=4)
    server = grpc.server(pool)
    try:
        parallelism.widen_provider_pool(64)
        assert pool._max_workers == 64
    finally:
        server.stop(0)
        pool.shutdown()
        del server


@pytest.mark.usefixtures("as_provider_process")
def test_changed_internals_fail_loudly() -> None:
    gc.collect()  # no stopped server of another test may still be found
    with pytest.raises(parallelism.ParallelismUnavailable, match="4 at a time"):
        parallelism.widen_provider_pool()

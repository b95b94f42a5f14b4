"""The shared poller: batching, and errors that retrying cannot fix fail at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from fsx_backup_provider.fsx import FsxApiError
from fsx_backup_provider.poller import BackupPoller


class FakeClient:
    def __init__(self, error: FsxApiError | None = None) -> None:
        self.calls: list[list[str]] = []
        self.error = error

    def describe_backups(self, backup_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.calls.append(list(backup_ids))
        if self.error is not None:
            raise self.error
        return {i: {"BackupId": i, "Lifecycle": "AVAILABLE"} for i in backup_ids}


def test_concurrent_lookups_share_one_call() -> None:
    client = FakeClient()
    poller = BackupPoller(client, interval=0.05, coalesce_seconds=0.2)  # type: ignore[arg-type]
    results: dict[str, Any] = {}

    def look(backup_id: str) -> None:
        results[backup_id] = poller.lookup(backup_id)

    threads = [threading.Thread(target=look, args=(f"backup-{i:08x}",)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20 and all(r["Lifecycle"] == "AVAILABLE" for r in results.values())
    assert len(client.calls) < 20
    assert sum(len(c) for c in client.calls) == 20


def test_access_denied_fails_waiters_at_once() -> None:
    denied = FsxApiError("DescribeBackups", "AccessDeniedException", "not authorized", 400)
    poller = BackupPoller(FakeClient(denied), interval=0.05)  # type: ignore[arg-type]
    start = time.monotonic()
    with pytest.raises(FsxApiError, match="AccessDeniedException"):
        poller.wait_for("backup-00000001", lambda b: False, timeout=60)
    assert time.monotonic() - start < 5


def test_transient_errors_are_waited_through_until_the_deadline() -> None:
    throttled = FsxApiError("DescribeBackups", "ThrottlingException", "slow down", 400)
    assert throttled.transient
    assert FsxApiError("DescribeBackups", "InternalServerError", "oops", 500).transient
    assert not FsxApiError("DescribeBackups", "AccessDeniedException", "no", 400).transient
    client = FakeClient(throttled)
    poller = BackupPoller(client, interval=0.05)  # type: ignore[arg-type]
    with pytest.raises(FsxApiError, match="ThrottlingException"):
        poller.wait_for("backup-00000001", lambda b: False, timeout=0.5)
    assert len(client.calls) >= 2

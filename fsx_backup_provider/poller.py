"""One poller per FSx client serves every backup the provider is waiting on.

A naive waiter (Terraform's, for one) polls DescribeBackups once per backup
per round. Here every create, delete and refresh read in the provider process
registers what it wants to know, and one thread asks FSx for up to 50 backups
per DescribeBackups call, then wakes each caller whose answer is in. Refresh
reads wait a few milliseconds so concurrent reads share a call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fsx_backup_provider.fsx import Backup, FsxApiError, FsxClient

# A condition on the latest description (None: FSx no longer knows the backup).
Condition = Callable[[Backup | None], bool]
Progress = Callable[[Backup], None]


class WaitTimeout(Exception):
    """The condition did not hold in time; `last` is the last description seen."""

    def __init__(self, backup_id: str, last: Backup | None) -> None:
        self.backup_id = backup_id
        self.last = last
        lifecycle = last.get("Lifecycle") if last else "unknown"
        super().__init__(f"timed out waiting for {backup_id} (lifecycle {lifecycle})")


@dataclass(eq=False)
class _Waiter:
    backup_id: str
    condition: Condition
    deadline: float
    progress: Progress | None
    done: threading.Event = field(default_factory=threading.Event)
    result: Backup | None = None
    seen: Backup | None = None
    error: BaseException | None = None


class BackupPoller:
    """Batches DescribeBackups for all waiters of one client on one thread."""

    def __init__(
        self, client: FsxClient, interval: float = 2.0, coalesce_seconds: float = 0.05
    ) -> None:
        self._client = client
        self._interval = interval
        self._coalesce = coalesce_seconds
        self._lock = threading.Condition()
        self._waiters: list[_Waiter] = []
        self._urgent = False
        self._thread: threading.Thread | None = None

    def lookup(self, backup_id: str, timeout: float = 300.0) -> Backup | None:
        """The current description of one backup, or None if FSx does not know it."""
        return self._register(backup_id, lambda _backup: True, timeout, None, urgent=True)

    def wait_for(
        self,
        backup_id: str,
        condition: Condition,
        timeout: float,
        progress: Progress | None = None,
    ) -> Backup | None:
        """Block until `condition` holds for the backup's description; WaitTimeout if not."""
        return self._register(backup_id, condition, timeout, progress, urgent=False)

    def _register(
        self,
        backup_id: str,
        condition: Condition,
        timeout: float,
        progress: Progress | None,
        urgent: bool,
    ) -> Backup | None:
        waiter = _Waiter(backup_id, condition, time.monotonic() + timeout, progress)
        with self._lock:
            self._waiters.append(waiter)
            self._urgent = self._urgent or urgent
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="fsx-backup-poller", daemon=True
                )
                self._thread.start()
            self._lock.notify_all()
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def _run(self) -> None:
        backoff = self._interval
        while True:
            with self._lock:
                while not self._waiters:
                    if not self._lock.wait(timeout=60):
                        self._thread = None
                        return
                if not self._urgent:
                    self._lock.wait(timeout=backoff)
                self._urgent = False
            # Let concurrent reads that arrive together share one call.
            time.sleep(self._coalesce)
            with self._lock:
                waiters = list(self._waiters)
            try:
                found = self._client.describe_backups([w.backup_id for w in waiters])
            except FsxApiError as error:
                if not error.transient:
                    # Access denied and the like: no later round answers otherwise.
                    self._fail(waiters, error)
                    continue
                # botocore already retried; slow down before the next round,
                # and fail only the waiters whose time is up.
                backoff = min(backoff * 2, 30.0)
                self._settle(waiters, None, error)
                continue
            backoff = self._interval
            self._settle(waiters, found, None)

    def _fail(self, waiters: list[_Waiter], error: BaseException) -> None:
        for waiter in waiters:
            waiter.error = error
        self._finish(waiters)

    def _settle(
        self, waiters: list[_Waiter], found: dict[str, Backup] | None, error: BaseException | None
    ) -> None:
        now = time.monotonic()
        finished: list[_Waiter] = []
        for waiter in waiters:
            if found is not None:
                backup = found.get(waiter.backup_id)
                waiter.seen = backup
                if backup is not None and waiter.progress is not None:
                    waiter.progress(backup)
                if waiter.condition(backup):
                    waiter.result = backup
                    finished.append(waiter)
                    continue
            if now >= waiter.deadline:
                waiter.error = error or WaitTimeout(waiter.backup_id, waiter.seen)
                finished.append(waiter)
        self._finish(finished)

    def _finish(self, finished: list[_Waiter]) -> None:
        with self._lock:
            for waiter in finished:
                self._waiters.remove(waiter)
        for waiter in finished:
            waiter.done.set()

"""One poller per FSx client serves every backup the provider is waiting on.

A naive waiter (Terraform's, for one) polls DescribeBackups once per backup
per round. Here every create, delete and refresh read in the provider process
registers what it wants to know, and one thread asks FSx for up to 50 backups
per DescribeBackups call, then wakes each caller whose answer is in. Refresh
reads wait a few milliseconds so concurrent reads share a call.

Nothing here can hang a caller. The thread survives any exception of a round
and fails exactly the waiters it concerns; each caller waits on its own
deadline (plus a grace), so it returns even if the thread died or is stuck in
a call; and progress callbacks run in the caller's thread, where a slow or
failing one delays or affects nobody else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fsx_backup_provider.fsx import Backup, FsxApiError, FsxClient, unexpected_error

# A condition on the latest description (None: FSx no longer knows the backup).
Condition = Callable[[Backup | None], bool]
Progress = Callable[[Backup], None]

# How long past its deadline a caller gives the thread to answer for it.
GRACE_SECONDS = 5.0
# How long rounds may keep failing because the endpoint cannot be reached or
# does not answer before the waiters of the round fail: long enough to ride
# out a blip during a long backup, short enough that a refresh against an
# unreachable endpoint fails within a minute.
OUTAGE_PATIENCE_SECONDS = 30.0
MAX_ROUND_BACKOFF_SECONDS = 30.0
# A thread with nothing to wait for ends after this long.
IDLE_SECONDS = 60.0

_log = logging.getLogger(__name__)


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
    # Set by the thread whenever it has news for this waiter.
    wake: threading.Event = field(default_factory=threading.Event)
    # The fields below change only under the poller's lock.
    finished: bool = False
    result: Backup | None = None
    seen: Backup | None = None
    seen_count: int = 0
    error: BaseException | None = None


class BackupPoller:
    """Batches DescribeBackups for all waiters of one client on one thread."""

    def __init__(
        self,
        client: FsxClient,
        interval: float = 2.0,
        coalesce_seconds: float = 0.05,
        grace_seconds: float = GRACE_SECONDS,
        outage_patience_seconds: float = OUTAGE_PATIENCE_SECONDS,
    ) -> None:
        self._client = client
        self._interval = interval
        self._coalesce = coalesce_seconds
        self._grace = grace_seconds
        self._outage_patience = outage_patience_seconds
        self._lock = threading.Condition()
        self._waiters: list[_Waiter] = []
        self._urgent = False
        self._thread: threading.Thread | None = None
        self._backoff = interval
        # Since when rounds have failed for want of an answer (see OUTAGE_PATIENCE_SECONDS).
        self._outage_since: float | None = None
        # The error of the last round, if it failed: what a waiter whose time ran out saw.
        self._last_error: FsxApiError | None = None

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
        """Block until `condition` holds for the backup's description; WaitTimeout if not.

        `progress` sees each new description, in the calling thread; an
        exception it raises is logged and the wait goes on.
        """
        return self._register(backup_id, condition, timeout, progress, urgent=False)

    # -- the calling side ---------------------------------------------------

    def _register(
        self,
        backup_id: str,
        condition: Condition,
        timeout: float,
        progress: Progress | None,
        urgent: bool,
    ) -> Backup | None:
        waiter = _Waiter(backup_id, condition, time.monotonic() + timeout)
        with self._lock:
            self._waiters.append(waiter)
            self._urgent = self._urgent or urgent
            if self._thread is None or not self._thread.is_alive():
                # The first registration, or the thread ended (idle, or died).
                self._thread = threading.Thread(
                    target=self._run, name="fsx-backup-poller", daemon=True
                )
                self._thread.start()
            self._lock.notify_all()
        return self._await(waiter, progress)

    def _await(self, waiter: _Waiter, progress: Progress | None) -> Backup | None:
        reported = 0
        while True:
            waiter.wake.wait(timeout=max(waiter.deadline + self._grace - time.monotonic(), 0.0))
            waiter.wake.clear()
            with self._lock:
                if not waiter.finished and time.monotonic() >= waiter.deadline + self._grace:
                    # The thread did not answer in time (stuck in a call, or
                    # dead): this caller's deadline holds regardless.
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
                    waiter.finished = True
                    waiter.error = self._last_error or WaitTimeout(waiter.backup_id, waiter.seen)
                finished, seen, count = waiter.finished, waiter.seen, waiter.seen_count
            if progress is not None and seen is not None and count != reported:
                reported = count
                _report(progress, seen)
            if finished:
                if waiter.error is not None:
                    raise waiter.error
                return waiter.result

    # -- the thread ---------------------------------------------------------

    def _run(self) -> None:
        me = threading.current_thread()
        try:
            while True:
                waiters = self._next_round()
                if waiters is None:
                    return
                try:
                    self._poll(waiters)
                except Exception as error:
                    # A fault of this module's own: fail the round, keep serving.
                    self._fail(waiters, unexpected_error("DescribeBackups", error))
        finally:
            with self._lock:
                # Still registered: not an idle end (see _next_round), so
                # something killed the thread itself. Nobody may wait on a
                # thread that is gone; the next registration starts another.
                died = self._thread is me
                if died:
                    self._thread = None
                left = list(self._waiters) if died else []
            if left:
                self._fail(left, unexpected_error("DescribeBackups", RuntimeError("poller died")))

    def _next_round(self) -> list[_Waiter] | None:
        """The waiters of the next round, once it is time for it; None to end the thread."""
        with self._lock:
            while not self._waiters:
                if not self._lock.wait(timeout=IDLE_SECONDS) and not self._waiters:
                    # Under the same lock as registrations look at it, so a
                    # registration from now on starts a new thread.
                    self._thread = None
                    return None
            # A wait (for AVAILABLE, for deletion) joining between rounds waits
            # for the next round; only a lookup (urgent) brings it forward.
            # Waking for every registration made a round per create: twenty
            # copies made three calls each in DescribeBackups alone.
            next_round = time.monotonic() + self._backoff
            while not self._urgent and (left := next_round - time.monotonic()) > 0:
                self._lock.wait(timeout=left)
            self._urgent = False
        # Let concurrent reads that arrive together share one call.
        time.sleep(self._coalesce)
        with self._lock:
            return list(self._waiters)

    def _poll(self, waiters: list[_Waiter]) -> None:
        started = time.monotonic()
        try:
            found = self._client.describe_backups([w.backup_id for w in waiters])
        except FsxApiError as error:
            self._round_failed(waiters, error, started)
            return
        except Exception as error:
            # FsxClient maps every failure to FsxApiError; anything else is a bug.
            self._round_failed(waiters, unexpected_error("DescribeBackups", error), started)
            return
        self._backoff = self._interval
        self._outage_since = None
        self._last_error = None
        self._settle(waiters, found)

    def _round_failed(self, waiters: list[_Waiter], error: FsxApiError, started: float) -> None:
        self._last_error = error
        if not error.transient:
            # No credentials, access denied and the like: no later round answers otherwise.
            self._fail(waiters, error)
            return
        if error.outage:
            if self._outage_since is None:
                self._outage_since = started
            if time.monotonic() - self._outage_since >= self._outage_patience:
                self._outage_since = None
                self._fail(waiters, error)
                return
        else:
            # FSx answered (throttled, or a 5xx): the endpoint is there.
            self._outage_since = None
        # The client already retried; slow down before the next round, and
        # fail only the waiters whose time is up.
        self._backoff = min(self._backoff * 2, MAX_ROUND_BACKOFF_SECONDS)
        now = time.monotonic()
        self._fail([w for w in waiters if now >= w.deadline], error)

    def _settle(self, waiters: list[_Waiter], found: dict[str, Backup]) -> None:
        now = time.monotonic()
        for waiter in waiters:
            backup = found.get(waiter.backup_id)
            error: BaseException | None = None
            try:
                done = waiter.condition(backup)
            except Exception as raised:
                # The condition's own fault concerns its own waiter only.
                done, error = True, raised
            with self._lock:
                if waiter.finished:
                    continue
                if backup is not None:
                    waiter.seen = backup
                    waiter.seen_count += 1
                if done or now >= waiter.deadline:
                    self._close(waiter)
                    if error is not None:
                        waiter.error = error
                    elif done:
                        waiter.result = backup
                    else:
                        waiter.error = WaitTimeout(waiter.backup_id, waiter.seen)
            waiter.wake.set()

    def abort(self, error: BaseException) -> None:
        """Fail every wait now (the engine cancelled the run); later waits are not affected."""
        with self._lock:
            waiters = list(self._waiters)
        self._fail(waiters, error)

    def _fail(self, waiters: list[_Waiter], error: BaseException) -> None:
        with self._lock:
            for waiter in waiters:
                if not waiter.finished:
                    self._close(waiter)
                    waiter.error = error
        for waiter in waiters:
            waiter.wake.set()

    def _close(self, waiter: _Waiter) -> None:
        """Take a waiter out of the rounds; the caller holds the lock."""
        waiter.finished = True
        if waiter in self._waiters:
            self._waiters.remove(waiter)


def _report(progress: Progress, backup: Backup) -> None:
    try:
        progress(backup)
    except Exception as error:
        # Progress is shown for the user's benefit; it never fails a wait.
        _log.warning(
            "fsx-backup-provider: progress report for %s failed (%s: %s); the wait goes on",
            backup.get("BackupId"),
            type(error).__name__,
            error,
        )

"""Gates: at most one backup of a source (FSx answers BackupInProgress to a
second), at most five copies to a Region, started from this process at a
time; the rest queue here instead of asking FSx every second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fsx_backup_provider.aws.fsx import Backup
from fsx_backup_provider.aws.poller import BackupPoller, WaitTimeout
from fsx_backup_provider.core.lifecycle import (
    remaining,
    settled,
)


@dataclass(eq=False)
class _Slot:
    backup_id: str | None = None
    done: bool = False
    # The create that took the slot is itself waiting for its backup to
    # settle, and will say when (Gate.settled): nobody else need poll it.
    watched: bool = False


class Gate:
    """At most `capacity` backups of one kind in progress from this process.

    A slot is taken before the request and stays busy until the backup it
    started settles, even if its create returned earlier (wait_for_available
    false). A thread that finds every slot busy waits for one to free: the
    creates that wait for their own backups say when they settle, and a
    backup nobody waits for any more is followed through the poller (one
    batched DescribeBackups for all). Either way nobody asks FSx to start a
    backup that it would refuse.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._cond = threading.Condition()
        self._slots: list[_Slot] = []

    @contextmanager
    def slot(
        self,
        poller: BackupPoller,
        deadline: float,
        on_queued: Callable[[str], None],
        timed_out: Callable[[str], Exception],
    ) -> Iterator[_Slot]:
        taken = self._enter(poller, deadline, on_queued, timed_out)
        try:
            yield taken
        finally:
            with self._cond:
                if taken.backup_id is None:
                    taken.done = True
                self._cond.notify_all()

    def _enter(
        self,
        poller: BackupPoller,
        deadline: float,
        on_queued: Callable[[str], None],
        timed_out: Callable[[str], Exception],
    ) -> _Slot:
        announced = False
        while True:
            with self._cond:
                self._slots = [s for s in self._slots if not s.done]
                if len(self._slots) < self.capacity:
                    taken = _Slot()
                    self._slots.append(taken)
                    return taken
                started = [s for s in self._slots if s.backup_id is not None]
                unwatched = [s for s in started if not s.watched]
                if not unwatched:
                    # Every slot is asking FSx, or its create is waiting for
                    # its backup and will say when it settles.
                    if time.monotonic() >= deadline:
                        raise timed_out(str(started[0].backup_id) if started else "")
                    if started and not announced:
                        announced = True
                        on_queued(str(started[0].backup_id))
                    self._cond.wait(timeout=min(remaining(deadline), 1.0))
                    continue
                target = unwatched[0]
                assert target.backup_id is not None
                ahead = target.backup_id
            announced = True
            on_queued(ahead)
            try:
                poller.wait_for(ahead, settled, timeout=remaining(deadline))
            except WaitTimeout as timeout:
                raise timed_out(ahead) from timeout
            with self._cond:
                target.done = True
                self._cond.notify_all()

    def started(self, taken: _Slot, backup: Backup, watched: bool) -> None:
        """The slot's request started (or found) `backup`; it is busy until that settles.

        `watched`: the create goes on to wait for the backup, and will call
        `settled` (or `unwatched`, if it stops waiting first).
        """
        with self._cond:
            if settled(backup):
                taken.done = True
            else:
                taken.backup_id = backup["BackupId"]
                taken.watched = watched
            self._cond.notify_all()

    def settled(self, backup_id: str) -> None:
        """The backup of a slot settled: the slot is free."""
        self._mark(backup_id, done=True)

    def unwatched(self, backup_id: str) -> None:
        """Its create no longer waits for this backup (it failed, or returned): poll it."""
        self._mark(backup_id, done=False)

    def _mark(self, backup_id: str, done: bool) -> None:
        with self._cond:
            for slot in self._slots:
                if slot.backup_id == backup_id:
                    slot.watched = False
                    slot.done = slot.done or done
            self._cond.notify_all()

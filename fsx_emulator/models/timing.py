"""The time every lifecycle is derived from, which tests can stop, move and hold.

Lifecycles are computed from elapsed time whenever a resource is read (nothing runs in
the background), so controlling this one clock controls every backup, copy, restore and
delete. By default it is the real monotonic clock. Frozen, it stands still until
advanced, so a test's verdict never depends on how fast the machine serves requests.
Holding a resource stops its own clock only: it stays in its lifecycle until released,
then carries on from where it stood.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

# Elapsed times are counted in whole microseconds. A test that freezes the clock and
# advances it by exactly a lifecycle's duration must see it end: in floating point,
# (t + 0.3) - t is not always 0.3.
RESOLUTION_DIGITS = 6


def seconds_between(start: float, end: float) -> float:
    return round(end - start, RESOLUTION_DIGITS)


class EmulatorClock:
    """The emulator's time: the real monotonic clock, moved by tests when they ask."""

    # The real clock's reading when frozen; None while the clock runs.
    _frozen_at: float | None
    # Seconds the emulator's time is ahead of the real clock (advances, and time spent
    # frozen taken back on unfreezing so that time never jumps).
    _offset: float
    # Resource ID -> the emulator's time when it was held.
    _held: dict[str, float]
    # Resource ID -> seconds it has spent held, which its own time leaves out.
    _paused: dict[str, float]
    # Read once, so that wall-clock times stand exactly still while the clock is frozen.
    _epoch_of_monotonic_zero: float

    def __init__(self) -> None:
        self.reset()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> float:
        """The emulator's monotonic time, in seconds."""
        real = time.monotonic() if self._frozen_at is None else self._frozen_at
        return real + self._offset

    def wall(self) -> float:
        """The emulator's wall-clock time (epoch seconds), moved as `now()` is."""
        return self._epoch_of_monotonic_zero + self.now()

    def local(self, resource_id: str, now: float) -> float:
        """`now` in the time of resource `resource_id`, which stands still while held."""
        held_at = self._held.get(resource_id)
        return (now if held_at is None else held_at) - self._paused.get(resource_id, 0.0)

    def freeze(self) -> None:
        if self._frozen_at is None:
            self._frozen_at = time.monotonic()

    def unfreeze(self) -> None:
        """Run again from the time the clock stood at."""
        if self._frozen_at is not None:
            self._offset += self._frozen_at - time.monotonic()
            self._frozen_at = None

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"The clock only moves forward, not by {seconds} seconds.")
        self._offset += seconds

    def hold(self, resource_id: str) -> None:
        self._held.setdefault(resource_id, self.now())

    def release(self, resource_id: str) -> None:
        held_at = self._held.pop(resource_id, None)
        if held_at is not None:
            self._paused[resource_id] = self._paused.get(resource_id, 0.0) + self.now() - held_at

    def held(self) -> list[str]:
        return sorted(self._held)

    def reset(self) -> None:
        """Back to the real clock, with nothing held."""
        self._frozen_at = None
        self._offset = 0.0
        self._held = {}
        self._paused = {}
        self._epoch_of_monotonic_zero = time.time() - time.monotonic()


clock = EmulatorClock()


@dataclass
class Timeline:
    """Something that takes `duration` seconds of its owner's time from `started`.

    `started` is a reading of `clock.now()`; the elapsed time is counted in the owner's
    own time, so holding the owner stops it.
    """

    owner_id: str
    started: float
    duration: float

    def elapsed(self, now: float) -> float:
        return seconds_between(self.started, clock.local(self.owner_id, now))

    def finished(self, now: float) -> bool:
        return self.elapsed(now) >= self.duration

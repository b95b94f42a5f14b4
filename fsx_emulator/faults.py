"""Injected throttles and server errors, and the per-operation call counters.

Both sit in front of the FSx backend: a fault is decided, and a call counted, before the
request reaches any state, so a faulted call has changed nothing.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass

from moto.core.exceptions import JsonRESTError

from fsx_emulator.exceptions import InternalServerError, ThrottlingException

INJECTED_ERROR_MESSAGE = "Injected fault: the FSx emulator failed this request on purpose."


@dataclass(frozen=True)
class FaultRates:
    throttle_rate: float = 0.0
    error_rate: float = 0.0

    def __post_init__(self) -> None:
        for name, rate in (("throttle_rate", self.throttle_rate), ("error_rate", self.error_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}.")
        if self.throttle_rate + self.error_rate > 1.0:
            raise ValueError(
                f"throttle_rate + error_rate must be at most 1, got "
                f"{self.throttle_rate} + {self.error_rate}."
            )


class FaultInjector:
    """Decides, reproducibly for a seed, which FSx calls fail.

    Each FSx call draws exactly one number from a generator seeded with `seed`, so the
    same seed and the same sequence of calls give the same faults, whatever the rates.
    """

    def __init__(self, seed: int, rates: FaultRates) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._random = random.Random(seed)
        self._rates = rates
        self._injected: Counter[str] = Counter()

    def configure(self, rates: FaultRates | None = None, seed: int | None = None) -> None:
        with self._lock:
            if rates is not None:
                self._rates = rates
            if seed is not None:
                self._seed = seed
                self._random.seed(seed)

    def restart(self, seed: int, rates: FaultRates) -> None:
        """Back to a fresh generator for `seed`, with no faults counted."""
        with self._lock:
            self._seed = seed
            self._random.seed(seed)
            self._rates = rates
            self._injected.clear()

    def draw(self) -> JsonRESTError | None:
        """The fault for the next FSx call, or None to serve it."""
        with self._lock:
            roll = self._random.random()
            if roll < self._rates.throttle_rate:
                fault: JsonRESTError = ThrottlingException()
            elif roll < self._rates.throttle_rate + self._rates.error_rate:
                fault = InternalServerError(INJECTED_ERROR_MESSAGE)
            else:
                return None
            self._injected[fault.error_type] += 1
            return fault

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def rates(self) -> FaultRates:
        return self._rates

    def injected(self) -> dict[str, int]:
        with self._lock:
            return dict(self._injected)


class CallCounter:
    """FSx calls per operation since the last reset, faulted calls included."""

    TOTAL_KEY = "_total"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        counts[self.TOTAL_KEY] = sum(counts.values())
        return counts

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

"""`--rate N/min`: keep messages to an SMTP server's limit by spacing them evenly.

Fixed spacing (a token bucket holding one token): the first message goes at once,
each next one no sooner than 1/rate after the one before. Servers that throttle
count messages over a sliding window, so a burst allowed by a bigger bucket
would be refused mid-run; even spacing never is. The clock and the sleep are
injected so tests run on a fake clock.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hour": 3600.0}
_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*/\s*([a-z]+)\s*")
MAX_PER_SECOND = 1000.0  # beyond what any SMTP server takes from one client


@dataclass(frozen=True)
class Rate:
    """At most `count` messages per `unit` ("s", "min" or "h")."""

    count: float
    unit: str = "min"

    @property
    def interval(self) -> float:
        """Seconds between the starts of two messages."""
        return _UNITS[self.unit] / self.count

    def __str__(self) -> str:
        return f"{self.count:g}/{self.unit}"


def parse_rate(text: str) -> Rate:
    """Parse "30/min" (or "2/s", "1000/h"); raise ValueError saying what to write."""
    found = _RATE.fullmatch((text or "").lower())
    if found is None or found.group(2) not in _UNITS:
        raise ValueError(f"{text!r} is not a rate; write messages per minute, e.g. 30/min (or 2/s, 1000/h)")
    rate = Rate(float(found.group(1)), found.group(2))
    if rate.count <= 0 or rate.interval < 1 / MAX_PER_SECOND:
        raise ValueError(f"{text!r}: give a rate above 0 and at most {MAX_PER_SECOND:g}/s")
    return rate


class Throttle:
    """Wait before each message so that two never start closer than the rate's interval."""

    def __init__(self, rate: Rate | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self._next: float | None = None  # the earliest moment the next message may start

    def wait(self) -> float:
        """Sleep until the next message may go; return how long that was (0 without a rate)."""
        if self.rate is None:
            return 0.0
        now = self.clock()
        waited = 0.0
        if self._next is not None and now < self._next:
            waited = self._next - now
            self.sleep(waited)
            now = self._next
        self._next = now + self.rate.interval
        return waited

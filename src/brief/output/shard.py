"""Split a build's work across machines: which work items shard I of N owns.

Every process computes the same answer from the same items (no clock, no randomness, no hash
seed), so N machines started with `--shard 1/N` ... `--shard N/N` each take a disjoint slice and
together cover everything. Items are keyed "edition:<audience>" and "recipient:<audience>/<id>".
"""
from __future__ import annotations

import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass

from brief.errors import UsageError

MAX_SHARDS = 10_000


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS or not 1 <= self.index <= self.count:
            raise UsageError(f"--shard {self.index}/{self.count}: {_why(self.index, self.count)}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _why(index: int, count: int) -> str:
    if count < 1:
        return "there must be at least one shard, e.g. --shard 1/4"
    if count > MAX_SHARDS:
        return f"at most {MAX_SHARDS:,} shards"
    return f"the shard number runs from 1 to {count} (I/N, 1-based)"


def parse_shard(text: str) -> Shard:
    """Parse "I/N" (1-based I); raise UsageError for anything else, 0/0 and 3/2 included."""
    found = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text or "")
    if found is None:
        raise UsageError(f"--shard {text!r}: write I/N, this machine's shard number and the number of shards, "
                         "e.g. --shard 2/4")
    index, count = int(found.group(1)), int(found.group(2))
    if not 1 <= count <= MAX_SHARDS or not 1 <= index <= count:
        raise UsageError(f"--shard {text!r}: {_why(index, count)}")
    return Shard(index, count)


def assign(items: Sequence[tuple[str, float]], shard: Shard) -> set[str]:
    """Return the keys of the items shard owns: costliest first, each to the least-loaded shard.

    items are (key, expected cost). Ties between costs are broken by key and ties between
    loads by the lower shard number, so the split depends on nothing but the items.
    """
    return {key for key, owner in owners(items, shard.count).items() if owner == shard.index}


def owners(items: Sequence[tuple[str, float]], count: int) -> dict[str, int]:
    """Return {key: owning shard number (1-based)} for every item, split in `count` shards."""
    keys = [key for key, _ in items]
    if len(set(keys)) != len(keys):
        raise ValueError("work-item keys must be unique")
    loads = [(0.0, i) for i in range(1, count + 1)]  # a heap: the least-loaded shard, then the lowest number
    owner: dict[str, int] = {}
    for key, cost in sorted(items, key=lambda item: (-item[1], item[0])):
        load, least = heapq.heappop(loads)
        owner[key] = least
        heapq.heappush(loads, (load + cost, least))
    return owner

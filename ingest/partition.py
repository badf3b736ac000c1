"""Enterprise partitions: several ingesters on plain persistent subscriptions (pure).

A shared subscription splits messages between ingesters, but Mosquitto 2.0 does not restore
shared subscriptions from its persistence file: after a broker restart, readings published before
the ingesters subscribe again have no subscriber and are dropped. Plain persistent subscriptions
are restored and queue meanwhile. So with N partitions each ingester takes, on plain
subscriptions, the enterprises whose code hashes to its index: every enterprise has exactly one
owner, and the broker keeps an owner's messages across its own restarts and the owner's.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

_SPEC = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True, slots=True)
class Partition:
    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"partition {self.index}/{self.count}: the index must be in 0..{self.count - 1}")

    @classmethod
    def parse(cls, spec: str) -> Partition:
        """``I/N``: the I-th of N partitions, counting from 0."""
        match = _SPEC.match(spec.strip())
        if match is None:
            raise ValueError(f"partition {spec!r}: expected I/N, e.g. 0/2")
        return cls(int(match[1]), int(match[2]))

    def owns(self, park: str, enterprise: str) -> bool:
        # crc32, not hash(): the same owner in every process and after every restart.
        return zlib.crc32(f"{park}/{enterprise}".encode()) % self.count == self.index

    def split(self, enterprises: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(park, enterprise) pairs: (this partition's, the others'), each sorted."""
        mine: list[tuple[str, str]] = []
        others: list[tuple[str, str]] = []
        for pair in sorted(set(enterprises)):
            (mine if self.owns(*pair) else others).append(pair)
        return mine, others


def enterprise_filters(root: str, enterprises: Iterable[tuple[str, str]]) -> list[str]:
    """The telemetry topic filters of (park, enterprise) pairs: device and gateway topics."""
    return [
        topic
        for park, ent in enterprises
        for topic in (f"{root}/{park}/{ent}/+/telemetry", f"{root}/{park}/{ent}/gateway/+/telemetry")
    ]

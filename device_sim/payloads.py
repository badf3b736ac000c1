"""Readings as gateways send them: entries grouped per device into size-bounded JSON messages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

MAX_MESSAGE_BYTES = 64 * 1024  # well under the broker's and ingester's 256 KiB limit


@dataclass(frozen=True, slots=True)
class Entry:
    """One device's readings at one instant (the ``{"ts", "values"}`` object of the contract)."""

    device: str
    ts_ms: int
    values: dict[str, float]


@dataclass(frozen=True, slots=True)
class Message:
    payload: bytes
    readings: int  # values a decoder will accept from it
    entries: int


def _entry_json(e: Entry) -> str:
    return json.dumps({"ts": e.ts_ms, "values": e.values}, separators=(",", ":"), allow_nan=False)


def encode(entries: Sequence[Entry], max_bytes: int = MAX_MESSAGE_BYTES) -> Iterator[Message]:
    """Gateway payloads ``{"device": [entry, ...], ...}``, each at most ``max_bytes`` long.

    Entries keep their order within a device; one entry never spans messages.
    """
    by_device: dict[str, list[tuple[str, int]]] = {}
    for e in entries:
        by_device.setdefault(e.device, []).append((_entry_json(e), len(e.values)))
    parts: list[str] = []
    size = 2
    readings = count = 0
    for device, items in by_device.items():
        key = json.dumps(device) + ":["
        group: list[str] = []
        for text, n in items:
            extra = len(text) + 1 + (len(key) + 2 if not group else 0)
            if (parts or group) and size + extra > max_bytes:
                if group:
                    parts.append(key + ",".join(group) + "]")
                    group = []
                yield _message(parts, readings, count)
                parts, size, readings, count = [], 2, 0, 0
                extra = len(text) + len(key) + 3
            group.append(text)
            size += extra
            readings += n
            count += 1
        parts.append(key + ",".join(group) + "]")
    if parts:
        yield _message(parts, readings, count)


def _message(parts: Iterable[str], readings: int, entries: int) -> Message:
    return Message(("{" + ",".join(parts) + "}").encode(), readings, entries)

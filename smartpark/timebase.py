"""The one time representation at module boundaries, and the conversions to and from it.

Between modules an instant is an ``int`` of milliseconds since the Unix epoch, UTC ("epoch ms"):
the MQTT contract's ``ts``, numpy ``int64`` arrays in ingest and aggregation, alarm and silence
times in alerting. Other forms live only at the edges, converted here:

- timezone-aware ``datetime`` (UTC) where psycopg reads or writes ``timestamptz`` row by row and
  where the API speaks ISO 8601;
- PostgreSQL's binary ``timestamptz`` (microseconds since 2000-01-01 UTC) only inside the binary
  COPY codec, which owns that conversion (:mod:`smartpark.db.binary_copy`);
- a clock's float seconds (``time.time``) only where it is read.

docs/architecture.md ("Time") lists where each conversion happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def now_ms(clock: Callable[[], float] = time.time) -> int:
    """The clock's present instant (float seconds since the Unix epoch) in epoch ms."""
    return int(clock() * 1000)


def ms_from_datetime(at: datetime) -> int:
    """Epoch ms of an aware datetime, exact (no float rounding); floors sub-millisecond parts."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: give it a time zone")
    return (at - UNIX_EPOCH) // _MS


def datetime_from_ms(ms: int) -> datetime:
    """The aware UTC datetime of an epoch-ms instant."""
    return UNIX_EPOCH + timedelta(milliseconds=int(ms))


def datetime_from_s(seconds: float) -> datetime:
    """The aware UTC datetime of a clock reading (float seconds since the Unix epoch)."""
    return datetime.fromtimestamp(seconds, UTC)

"""Owner of ``hj212_logger_clock`` (migration 0730): each data logger's clock skew as last found.

The HJ 212 server's clock check writes it; the API reads it. Callers own the connection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

_CHECKED = """
INSERT INTO hj212_logger_clock (device_id, checked_at, skew_s) VALUES (%s, %s, %s)
ON CONFLICT (device_id) DO UPDATE SET checked_at = excluded.checked_at, skew_s = excluded.skew_s
"""
_SET = """
UPDATE hj212_logger_clock SET set_at = %s, set_skew_s = %s, sets = sets + 1 WHERE device_id = %s
"""


async def checked(conn: psycopg.AsyncConnection[Any], *, device_id: int, at: datetime, skew_s: float) -> None:
    """The logger's time was asked: its skew (logger minus platform, seconds) at ``at``."""
    await conn.execute(_CHECKED, (device_id, at, skew_s))


async def was_set(conn: psycopg.AsyncConnection[Any], *, device_id: int, at: datetime, skew_s: float) -> None:
    """The logger confirmed a time setting that corrected ``skew_s``."""
    await conn.execute(_SET, (at, skew_s, device_id))

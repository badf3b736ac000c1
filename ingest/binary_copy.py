"""PostgreSQL binary COPY data for telemetry rows, built with numpy in one pass (pure).

A batch of readings becomes one structured array whose memory layout *is* the COPY row format
(field count, then length-prefixed big-endian fields), so ``tobytes()`` is the whole payload and no
Python code runs per row. See "Binary Format" of the PostgreSQL COPY documentation.
"""

from __future__ import annotations

import numpy as np

# Microseconds between the Unix epoch and PostgreSQL's epoch, 2000-01-01T00:00:00Z.
PG_EPOCH_US = 946_684_800_000_000

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)

# Column order of the staging table: (ts timestamptz, device_id int4, metric_id int2,
# value float8, flag int2).
COLUMNS = ("ts", "device_id", "metric_id", "value", "flag")

ROW_DTYPE = np.dtype(
    [
        ("nfields", ">i2"),
        ("ts_len", ">i4"),
        ("ts", ">i8"),
        ("device_len", ">i4"),
        ("device_id", ">i4"),
        ("metric_len", ">i4"),
        ("metric_id", ">i2"),
        ("value_len", ">i4"),
        ("value", ">f8"),
        ("flag_len", ">i4"),
        ("flag", ">i2"),
    ]
)
assert ROW_DTYPE.itemsize == 2 + 12 + 8 + 6 + 12 + 6  # packed: no padding between fields

_FIXED = {
    "nfields": len(COLUMNS),
    "ts_len": 8,
    "device_len": 4,
    "metric_len": 2,
    "value_len": 8,
    "flag_len": 2,
}


def unix_ms_to_pg_us(ts_ms: np.ndarray) -> np.ndarray:
    """Epoch milliseconds (int64) to PostgreSQL timestamp microseconds."""
    return ts_ms.astype(np.int64) * 1000 - PG_EPOCH_US


def pg_us_to_unix_ms(ts_us: np.ndarray) -> np.ndarray:
    return (ts_us.astype(np.int64) + PG_EPOCH_US) // 1000


def encode_rows(
    ts_us: np.ndarray,
    device_id: np.ndarray,
    metric_id: np.ndarray,
    value: np.ndarray,
    flag: np.ndarray,
) -> bytes:
    """The complete COPY payload (header, rows, trailer) for parallel columns of equal length."""
    n = len(ts_us)
    if not len(device_id) == len(metric_id) == len(value) == len(flag) == n:
        raise ValueError(
            "columns differ in length: "
            f"ts={n} device={len(device_id)} metric={len(metric_id)} "
            f"value={len(value)} flag={len(flag)}"
        )
    rows = np.empty(n, dtype=ROW_DTYPE)
    for name, fixed in _FIXED.items():
        rows[name] = fixed
    rows["ts"] = ts_us
    rows["device_id"] = device_id
    rows["metric_id"] = metric_id
    rows["value"] = value
    rows["flag"] = flag
    return b"".join((HEADER, rows.tobytes(), TRAILER))


def decode_rows(data: bytes) -> np.ndarray:
    """The rows of a payload made by :func:`encode_rows` (for tests and diagnostics)."""
    if not data.startswith(HEADER) or not data.endswith(TRAILER):
        raise ValueError("not a telemetry COPY payload: header or trailer missing")
    body = data[len(HEADER) : len(data) - len(TRAILER)]
    if len(body) % ROW_DTYPE.itemsize:
        raise ValueError(f"COPY body of {len(body)} bytes is not whole rows")
    return np.frombuffer(body, dtype=ROW_DTYPE)

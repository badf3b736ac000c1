"""PostgreSQL binary COPY of fixed-width, non-null columns to and from numpy arrays (no I/O).

The one codec of the project: ingest writes telemetry with it, the rollup job reads readings and
writes rollups with it. Every row of such a COPY has the same length, so one structured dtype
describes the whole payload and no Python code runs per row, in either direction. The same holds
for the elements of a one-dimensional binary array without NULLs (:func:`decode_array`). See
"Binary Format" of the PostgreSQL COPY documentation.

Timestamps: a ``timestamptz`` column crosses as epoch milliseconds (converted here); a
``timestamptz_pg_us`` column as PostgreSQL's own microseconds since 2000-01-01 UTC, unconverted
(ingest keeps readings' times in that form, exact to the microsecond).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format

PG_EPOCH_MS = 946_684_800_000  # 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix ms
PG_EPOCH_US = PG_EPOCH_MS * 1000
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"

_TYPES = {
    "int2": ">i2",
    "int4": ">i4",
    "int8": ">i8",
    "float8": ">f8",
    "timestamptz": ">i8",
    "timestamptz_pg_us": ">i8",
}

Columns = Sequence[tuple[str, str]]  # (name, PostgreSQL type as named in _TYPES)

# A COPY of telemetry's readings: ingest writes them so, the cold tier reads them so.
TELEMETRY_COLUMNS: Columns = (
    ("ts", "timestamptz_pg_us"),
    ("device_id", "int4"),
    ("metric_id", "int2"),
    ("value", "float8"),
    ("flag", "int2"),
)


def unix_ms_to_pg_us(ts_ms: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Epoch milliseconds to PostgreSQL timestamp microseconds."""
    return np.asarray(ts_ms).astype(np.int64) * 1000 - PG_EPOCH_US


def pg_us_to_unix_ms(ts_us: npt.ArrayLike) -> npt.NDArray[np.int64]:
    return (np.asarray(ts_us).astype(np.int64) + PG_EPOCH_US) // 1000


def row_dtype(columns: Columns) -> np.dtype[np.void]:
    fields: list[tuple[str, str]] = [("_n", ">i2")]
    for name, pgtype in columns:
        try:
            fields += [(f"_{name}_len", ">i4"), (name, _TYPES[pgtype])]
        except KeyError:
            raise ValueError(f"column {name!r}: type {pgtype!r} is not fixed-width binary") from None
    return np.dtype(fields)


def encode(columns: Columns, arrays: Mapping[str, npt.ArrayLike]) -> bytearray:
    """The whole COPY FROM payload: header, rows, trailer, built in place (the rows of a big
    write are a hundred MB: no copy of them after they are laid out)."""
    dtype = row_dtype(columns)
    n = len(np.asarray(arrays[columns[0][0]]))
    out = bytearray(len(HEADER) + n * dtype.itemsize + len(TRAILER))
    out[: len(HEADER)] = HEADER
    out[len(out) - len(TRAILER) :] = TRAILER
    rows = np.frombuffer(out, dtype=dtype, count=n, offset=len(HEADER))
    # field count and field lengths are the same in every row: lay one row out, copy it down
    one = np.zeros(1, dtype=dtype)
    one["_n"] = len(columns)
    for name, _ in columns:
        one[f"_{name}_len"] = dtype[name].itemsize
    rows.view(np.uint8).reshape(n, dtype.itemsize)[:] = one.view(np.uint8)
    for name, pgtype in columns:
        value = np.asarray(arrays[name])
        if value.shape != (n,):
            raise ValueError(f"column {name!r} has shape {value.shape}, expected ({n},)")
        if pgtype == "timestamptz":
            value = unix_ms_to_pg_us(value)
        rows[name] = value.astype(dtype[name])  # swap bytes contiguously, then one strided copy
    return out


def _from_wire(pgtype: str, col: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    return pg_us_to_unix_ms(col) if pgtype == "timestamptz" else col


def decode(columns: Columns, payload: bytes | bytearray) -> dict[str, npt.NDArray[np.generic]]:
    """Native-endian arrays of a COPY payload (columns must be NOT NULL)."""
    if not payload.startswith(HEADER[:11]) or not payload.endswith(TRAILER):
        raise ValueError("not a PostgreSQL binary COPY payload: header or trailer missing")
    ext = int.from_bytes(payload[15:19], "big")
    body = memoryview(payload)[19 + ext : len(payload) - len(TRAILER)]
    dtype = row_dtype(columns)
    if len(body) % dtype.itemsize:
        raise ValueError(
            f"COPY body of {len(body)} bytes is not whole rows of {dtype.itemsize} (a NULL or a variable-width column?)"
        )
    rows = np.frombuffer(body, dtype=dtype)
    return {name: _from_wire(pgtype, rows[name].astype(dtype[name].newbyteorder("="))) for name, pgtype in columns}


_ARRAY_HEADER = 12  # ndim, has-nulls flag, element type; then (length, lower bound) per dimension


def decode_array(pgtype: str, blob: bytes | None) -> npt.NDArray[np.generic]:
    """Native-endian elements of a one-dimensional binary array without NULLs (None: empty)."""
    dtype = np.dtype(_TYPES[pgtype])
    if blob is None or int.from_bytes(blob[:4], "big") == 0:
        return np.zeros(0, dtype.newbyteorder("="))
    if int.from_bytes(blob[:4], "big") != 1:
        raise ValueError("only one-dimensional arrays are decoded")
    if int.from_bytes(blob[4:8], "big"):
        raise ValueError("unexpected NULL in an aggregated array")
    raw = np.frombuffer(blob, dtype=np.dtype([("len", ">i4"), ("v", dtype)]), offset=_ARRAY_HEADER + 8)["v"]
    return _from_wire(pgtype, raw.astype(dtype.newbyteorder("=")))


class _RawArray(Loader):
    """Binary arrays handed over as bytes, decoded by numpy (:func:`decode_array`) instead of
    element by element."""

    format = Format.BINARY

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


INT8_ARRAY_OID, TIMESTAMPTZ_ARRAY_OID, FLOAT8_ARRAY_OID = 1016, 1185, 1022  # fixed in PostgreSQL's catalogue


def load_arrays_raw(cur: psycopg.Cursor[Any]) -> None:
    """Make this (binary) cursor return int8[], timestamptz[] and float8[] columns as the bytes
    that :func:`decode_array` takes."""
    for oid in (INT8_ARRAY_OID, TIMESTAMPTZ_ARRAY_OID, FLOAT8_ARRAY_OID):
        cur.adapters.register_loader(oid, _RawArray)

"""PostgreSQL binary COPY of fixed-width, non-null columns to and from numpy arrays (pure).

Every row of such a COPY has the same length, so one structured dtype describes the whole
payload and no Python code runs per row, in either direction. The same holds for the elements of
a one-dimensional binary array without NULLs (:func:`decode_array`). Timestamps cross as epoch
milliseconds (PostgreSQL sends microseconds since 2000-01-01).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

PG_EPOCH_MS = 946_684_800_000
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
TRAILER = b"\xff\xff"

_TYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "timestamptz": ">i8"}

Columns = Sequence[tuple[str, str]]  # (name, PostgreSQL type)


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
            value = (value.astype(np.int64) - PG_EPOCH_MS) * 1000
        rows[name] = value.astype(dtype[name])  # swap bytes contiguously, then one strided copy
    return out


def decode(columns: Columns, payload: bytes) -> dict[str, npt.NDArray[np.generic]]:
    """Native-endian arrays of a COPY TO payload (columns must be NOT NULL)."""
    if not payload.startswith(HEADER[:11]):
        raise ValueError("not a PostgreSQL binary COPY payload")
    ext = int.from_bytes(payload[15:19], "big")
    body = memoryview(payload)[19 + ext : len(payload) - 2]
    dtype = row_dtype(columns)
    if len(body) % dtype.itemsize:
        raise ValueError("COPY rows are not fixed width (a NULL or a variable-width column?)")
    rows = np.frombuffer(body, dtype=dtype)
    out: dict[str, npt.NDArray[np.generic]] = {}
    for name, pgtype in columns:
        col = rows[name].astype(dtype[name].newbyteorder("="))
        out[name] = col // 1000 + PG_EPOCH_MS if pgtype == "timestamptz" else col
    return out


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
    col = raw.astype(dtype.newbyteorder("="))
    return col // 1000 + PG_EPOCH_MS if pgtype == "timestamptz" else col

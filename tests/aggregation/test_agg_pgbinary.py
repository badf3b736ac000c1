"""Binary COPY payloads of fixed-width columns (pure)."""

from __future__ import annotations

import numpy as np
import pytest

from aggregation import pgbinary

COLUMNS = (("id", "int4"), ("m", "int2"), ("ts", "timestamptz"), ("v", "float8"), ("n", "int8"))


def test_round_trip_and_layout() -> None:
    arrays = {
        "id": np.asarray([1, 70000]),
        "m": np.asarray([3, -2]),
        "ts": np.asarray([0, 1_780_272_000_123]),
        "v": np.asarray([1.5, -0.0]),
        "n": np.asarray([2**40, 0]),
    }
    payload = pgbinary.encode(COLUMNS, arrays)
    assert payload.startswith(b"PGCOPY\n\xff\r\n\x00") and payload.endswith(b"\xff\xff")
    # field count, then (length, value) per column; timestamps as µs since 2000-01-01
    assert len(payload) == 19 + 2 * (2 + 4 * 5 + 4 + 2 + 8 + 8 + 8) + 2
    first_ts = int.from_bytes(payload[19 + 2 + 8 + 6 + 4 : 19 + 2 + 8 + 6 + 12], "big", signed=True)
    assert first_ts == -946_684_800_000_000
    out = pgbinary.decode(COLUMNS, payload)
    for name, values in arrays.items():
        assert out[name].tolist() == values.tolist()


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="'x': type 'text'"):
        pgbinary.row_dtype([("x", "text")])
    with pytest.raises(ValueError, match="column 'v' has shape"):
        pgbinary.encode(COLUMNS[:4], {"id": [1], "m": [1], "ts": [1], "v": [1.0, 2.0]})
    with pytest.raises(ValueError, match="not a PostgreSQL binary COPY"):
        pgbinary.decode(COLUMNS, b"nope")
    with pytest.raises(ValueError, match="not fixed width"):
        pgbinary.decode(COLUMNS, pgbinary.HEADER + b"\x00\x05" + pgbinary.TRAILER)


def _array_blob(pgtype: str, values: list[float]) -> bytes:
    width = {"int8": 8, "float8": 8, "timestamptz": 8, "int4": 4}[pgtype]
    head = (1).to_bytes(4, "big") + bytes(4) + (20).to_bytes(4, "big") + len(values).to_bytes(4, "big")
    head += (1).to_bytes(4, "big")
    fmt = ">f8" if pgtype == "float8" else f">i{width}"
    body = b"".join(width.to_bytes(4, "big") + np.asarray([v], dtype=fmt).tobytes() for v in values)
    return head + body


def test_arrays_decode_by_element_type() -> None:
    assert pgbinary.decode_array("int8", _array_blob("int8", [3, -(2**40)])).tolist() == [3, -(2**40)]
    assert pgbinary.decode_array("float8", _array_blob("float8", [1.5, -2.0])).tolist() == [1.5, -2.0]
    assert pgbinary.decode_array("int4", _array_blob("int4", [7])).tolist() == [7]
    ts = pgbinary.decode_array("timestamptz", _array_blob("timestamptz", [0, 1_000]))
    assert ts.tolist() == [pgbinary.PG_EPOCH_MS, pgbinary.PG_EPOCH_MS + 1]
    assert pgbinary.decode_array("int8", None).size == 0  # array_agg of no rows
    with pytest.raises(ValueError, match="NULL"):
        blob = bytearray(_array_blob("int8", [1]))
        blob[7] = 1
        pgbinary.decode_array("int8", bytes(blob))

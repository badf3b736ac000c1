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

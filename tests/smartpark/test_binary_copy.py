"""The binary COPY codec matches PostgreSQL's binary format byte for byte (checked against a
row-by-row struct reference), both timestamp forms included, and refuses bad input by name."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from smartpark.db import binary_copy as bc

READINGS = (
    ("ts", "timestamptz_pg_us"),
    ("device_id", "int4"),
    ("metric_id", "int2"),
    ("value", "float8"),
    ("flag", "int2"),
)
MIXED = (("id", "int4"), ("m", "int2"), ("ts", "timestamptz"), ("v", "float8"), ("n", "int8"))


def _reference(rows: list[tuple[int, int, int, float, int]]) -> bytes:
    out = [bc.HEADER]
    for ts, dev, met, val, flag in rows:
        out.append(struct.pack(">hiqiiihidih", 5, 8, ts, 4, dev, 2, met, 8, val, 2, flag))
    out.append(struct.pack(">h", -1))
    return b"".join(out)


def test_header_is_the_binary_copy_signature() -> None:
    # "PGCOPY\n\377\r\n\0", then a 32-bit flags field and a 32-bit header extension length
    assert bc.HEADER == b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    assert bc.TRAILER == b"\xff\xff"  # a 16-bit field count of -1
    assert bc.row_dtype(READINGS).itemsize == struct.calcsize(">hiqiiihidih")


def test_rows_match_a_row_by_row_reference() -> None:
    rows = [
        (0, 1, 1, 0.0, 0),
        (815_000_000_000_000, 2_000_000_000, 56, -1234.5, 64),
        (-bc.PG_EPOCH_US, 7, 32767, float("1e300"), 7),
    ]
    cols = list(zip(*rows, strict=True))
    arrays = {name: np.array(col) for (name, _), col in zip(READINGS, cols, strict=True)}
    data = bc.encode(READINGS, arrays)
    assert bytes(data) == _reference(rows)
    back = bc.decode(READINGS, data)
    for name, values in arrays.items():
        assert back[name].tolist() == values.tolist()


def test_empty_payload_is_header_and_trailer() -> None:
    empty = np.empty(0)
    assert bytes(bc.encode(READINGS, dict.fromkeys(("ts", "device_id", "metric_id", "value", "flag"), empty))) == (
        bc.HEADER + bc.TRAILER
    )


def test_epoch_ms_timestamps_cross_as_microseconds_since_2000() -> None:
    arrays = {
        "id": np.asarray([1, 70000]),
        "m": np.asarray([3, -2]),
        "ts": np.asarray([0, 1_780_272_000_123]),
        "v": np.asarray([1.5, -0.0]),
        "n": np.asarray([2**40, 0]),
    }
    payload = bc.encode(MIXED, arrays)
    # field count, then (length, value) per column
    assert len(payload) == 19 + 2 * (2 + 4 * 5 + 4 + 2 + 8 + 8 + 8) + 2
    first_ts = int.from_bytes(payload[19 + 2 + 8 + 6 + 4 : 19 + 2 + 8 + 6 + 12], "big", signed=True)
    assert first_ts == -946_684_800_000_000  # 1970-01-01 is 30 years before PostgreSQL's epoch
    out = bc.decode(MIXED, payload)
    for name, values in arrays.items():
        assert out[name].tolist() == values.tolist()


def test_epoch_conversion() -> None:
    ms = np.array([1_764_115_200_000, 946_684_800_000], np.int64)
    us = bc.unix_ms_to_pg_us(ms)
    assert us.tolist() == [(1_764_115_200_000 - 946_684_800_000) * 1000, 0]
    assert bc.pg_us_to_unix_ms(us).tolist() == ms.tolist()


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="'x': type 'text'"):
        bc.row_dtype([("x", "text")])
    with pytest.raises(ValueError, match=r"column 'v' has shape \(2,\), expected \(1,\)"):
        bc.encode(MIXED[:4], {"id": [1], "m": [1], "ts": [1], "v": [1.0, 2.0]})
    with pytest.raises(ValueError, match="not a PostgreSQL binary COPY payload"):
        bc.decode(MIXED, b"nope")
    with pytest.raises(ValueError, match="body of 2 bytes is not whole rows of 52"):
        bc.decode(MIXED, bc.HEADER + b"\x00\x05" + bc.TRAILER)


def _array_blob(pgtype: str, values: list[float]) -> bytes:
    width = {"int8": 8, "float8": 8, "timestamptz": 8, "int4": 4}[pgtype]
    head = (1).to_bytes(4, "big") + bytes(4) + (20).to_bytes(4, "big") + len(values).to_bytes(4, "big")
    head += (1).to_bytes(4, "big")
    fmt = ">f8" if pgtype == "float8" else f">i{width}"
    body = b"".join(width.to_bytes(4, "big") + np.asarray([v], dtype=fmt).tobytes() for v in values)
    return head + body


def test_arrays_decode_by_element_type() -> None:
    assert bc.decode_array("int8", _array_blob("int8", [3, -(2**40)])).tolist() == [3, -(2**40)]
    assert bc.decode_array("float8", _array_blob("float8", [1.5, -2.0])).tolist() == [1.5, -2.0]
    assert bc.decode_array("int4", _array_blob("int4", [7])).tolist() == [7]
    ts = bc.decode_array("timestamptz", _array_blob("timestamptz", [0, 1_000]))
    assert ts.tolist() == [bc.PG_EPOCH_MS, bc.PG_EPOCH_MS + 1]
    assert bc.decode_array("int8", None).size == 0  # array_agg of no rows
    with pytest.raises(ValueError, match="NULL"):
        blob = bytearray(_array_blob("int8", [1]))
        blob[7] = 1
        bc.decode_array("int8", bytes(blob))

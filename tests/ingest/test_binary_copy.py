"""The COPY payload matches PostgreSQL's binary format byte for byte (checked against struct)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from ingest.binary_copy import (
    HEADER,
    PG_EPOCH_US,
    ROW_DTYPE,
    TRAILER,
    decode_rows,
    encode_rows,
    pg_us_to_unix_ms,
    unix_ms_to_pg_us,
)


def _reference(rows: list[tuple[int, int, int, float, int]]) -> bytes:
    out = [HEADER]
    for ts, dev, met, val, flag in rows:
        out.append(struct.pack(">hiqiiihidih", 5, 8, ts, 4, dev, 2, met, 8, val, 2, flag))
    out.append(struct.pack(">h", -1))
    return b"".join(out)


def test_header_is_the_binary_copy_signature() -> None:
    assert HEADER == b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    assert TRAILER == b"\xff\xff"
    assert ROW_DTYPE.itemsize == struct.calcsize(">hiqiiihidih")


def test_rows_match_a_row_by_row_reference() -> None:
    rows = [
        (0, 1, 1, 0.0, 0),
        (815_000_000_000_000, 2_000_000_000, 56, -1234.5, 64),
        (-PG_EPOCH_US, 7, 32767, float("1e300"), 7),
    ]
    cols = list(zip(*rows, strict=True))
    data = encode_rows(
        np.array(cols[0], np.int64),
        np.array(cols[1], np.int32),
        np.array(cols[2], np.int16),
        np.array(cols[3], np.float64),
        np.array(cols[4], np.int16),
    )
    assert data == _reference(rows)


def test_empty_batch_is_header_and_trailer() -> None:
    empty = np.empty(0)
    assert encode_rows(empty, empty, empty, empty, empty) == HEADER + TRAILER


def test_columns_of_different_length_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        encode_rows(np.zeros(2), np.zeros(1), np.zeros(2), np.zeros(2), np.zeros(2))


def test_roundtrip_and_epoch_conversion() -> None:
    ms = np.array([1_764_115_200_000, 946_684_800_000], np.int64)
    us = unix_ms_to_pg_us(ms)
    assert us.tolist() == [(1_764_115_200_000 - 946_684_800_000) * 1000, 0]
    assert pg_us_to_unix_ms(us).tolist() == ms.tolist()
    data = encode_rows(us, np.array([3, 4]), np.array([1, 2]), np.array([1.5, 2.5]), np.array([0, 64]))
    rows = decode_rows(data)
    assert rows["ts"].tolist() == us.tolist()
    assert rows["flag"].tolist() == [0, 64]
    with pytest.raises(ValueError, match="header"):
        decode_rows(b"nope")

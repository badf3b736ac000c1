"""The series key packs (device, metric) into one int64 and back, in numpy and in SQL alike."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
import pytest

from smartpark.series_key import device_of, pack, pack_sql, unpack


def test_pack_and_unpack_round_trip_at_the_column_limits() -> None:
    device = np.array([1, 7, 2**31 - 1])  # devices.device_id is int4
    metric = np.array([1, 2**15 - 1, 56])  # metrics.metric_id is smallint
    keys = pack(device, metric)
    assert keys.tolist() == [65_537, 7 * 65_536 + 32_767, (2**31 - 1) * 65_536 + 56]
    d, m = unpack(keys)
    assert d.tolist() == device.tolist() and m.tolist() == metric.tolist()
    assert device_of(keys).tolist() == device.tolist()


def test_key_order_is_device_then_metric() -> None:
    keys = pack([2, 1, 1], [1, 9, 3])
    assert np.argsort(keys).tolist() == [2, 1, 0]


@pytest.mark.integration
def test_sql_packing_matches(db: psycopg.Connection[Any]) -> None:
    row = db.execute(f"SELECT {pack_sql('d', 'm')} FROM (VALUES (2147483647, 56::smallint)) v(d, m)").fetchone()
    assert row is not None and row[0] == int(pack([2**31 - 1], [56])[0])

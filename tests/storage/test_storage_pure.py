"""The storage package's pure parts: file layout and checksum, retention by category, the
projection, the columnstore's SQL. No services."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from pydantic import ValidationError

from smartpark.db.binary_copy import PG_EPOCH_US
from smartpark.settings import FIVE_YEARS_DAYS, StorageSettings
from storage import columnstore, layout
from storage.report import project
from storage.retention import Policy

DAY_US = 86_400_000_000


def _arrays(ts_unix_us: list[int], devices: list[int], metrics: list[int]) -> dict[str, np.ndarray]:
    n = len(ts_unix_us)
    return {
        "ts": np.array(ts_unix_us, dtype=np.int64) - PG_EPOCH_US,  # as the COPY gives them
        "device_id": np.array(devices, dtype=np.int32),
        "metric_id": np.array(metrics, dtype=np.int16),
        "value": np.arange(n, dtype=np.float64) / 3,
        "flag": np.zeros(n, dtype=np.int16),
    }


def test_a_chunk_splits_into_one_file_per_day_park_and_category_sorted_by_series() -> None:
    day0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
    arrays = _arrays(
        [day0 + 5, day0 + 1, day0 + DAY_US + 7, day0 + 3, day0 + 2],
        [2, 1, 1, 3, 1],
        [10, 10, 10, 20, 11],
    )
    rows, parts = layout.split(
        arrays, park_of_device={1: 7, 2: 7, 3: 8}, category_of_metric={10: "energy", 11: "safety", 20: "emissions"}
    )
    assert [(p.day, p.park_id, p.category, p.stop - p.start) for p in parts] == [
        (date(2026, 1, 1), 7, "energy", 2),  # devices 1 and 2, metric 10
        (date(2026, 1, 1), 7, "safety", 1),
        (date(2026, 1, 1), 8, "emissions", 1),
        (date(2026, 1, 2), 7, "energy", 1),
    ]
    assert rows["ts"][:2].tolist() == [day0 + 1, day0 + 5]  # device 1 before device 2
    assert parts[0].path("/cold/", "_hyper_1_2_chunk") == (
        "/cold/telemetry/day=2026-01-01/park=7/energy-_hyper_1_2_chunk.parquet"
    )


def test_a_reading_of_an_unknown_device_or_metric_stops_the_split() -> None:
    arrays = _arrays([PG_EPOCH_US], [99], [10])
    with pytest.raises(ValueError, match=r"devices \[99\] of the chunk have no park"):
        layout.split(arrays, park_of_device={}, category_of_metric={10: "energy"})
    with pytest.raises(ValueError, match=r"metrics \[10\] of the chunk are not in the catalogue"):
        layout.split(arrays, park_of_device={99: 1}, category_of_metric={})


def test_the_checksum_sees_every_value_and_survives_a_parquet_round_trip(tmp_path: object) -> None:
    import pyarrow.parquet as pq

    arrays = _arrays([10, 20, 30], [1, 1, 1], [5, 5, 5])
    rows, parts = layout.split(arrays, park_of_device={1: 1}, category_of_metric={5: "energy"})
    t = layout.table(rows, parts[0].start, parts[0].stop)
    path = f"{tmp_path}/x.parquet"
    pq.write_table(layout.encode(t), path, **layout.writer_options(9))  # type: ignore[arg-type]
    back = layout.read(path, None)
    assert layout.checksum([back]) == layout.checksum([t])
    changed = dict(rows)
    changed["value"] = rows["value"].copy()
    changed["value"][1] = np.nextafter(changed["value"][1], 1.0)  # one ulp
    assert layout.checksum([layout.table(changed)]) != layout.checksum([t])
    assert back.column("ts").to_pylist()[0] == datetime(1970, 1, 1, tzinfo=UTC).replace(microsecond=10)


def _policy(cold: bool, **days: int) -> Policy:
    cats = {"emissions": 1827, "environment": 1827, "energy": 1096, "safety": 366} | days
    return Policy(hot_days=90, category_days=cats, table_days={}, cold=cold)


def test_raw_chunks_leave_the_database_at_the_hot_age_only_with_a_cold_tier() -> None:
    assert _policy(cold=True).raw_drop_days() == 90
    # without one, the longest-kept category holds the whole chunk
    assert _policy(cold=False).raw_drop_days() == 1827
    assert _policy(cold=False, energy=0).raw_drop_days() == 0  # one category kept forever
    assert _policy(cold=True).cold_cutoff("safety", date(2027, 1, 1)) == date(2025, 12, 31)  # 366 days before
    assert _policy(cold=True, safety=0).cold_cutoff("safety", date(2027, 1, 1)) is None
    with pytest.raises(ValueError, match="retention of energy: -1 days"):
        _policy(cold=True, energy=-1)


def test_emissions_and_ambient_air_are_kept_at_least_five_years() -> None:
    """排污许可管理条例 Art. 19: 原始监测记录保存期限不得少于5年 → 5 × 365 + 2 leap days."""
    assert FIVE_YEARS_DAYS == 1827
    s = StorageSettings()
    assert (s.emissions_days, s.environment_days) == (1827, 1827)
    assert StorageSettings(emissions_days=1827).emissions_days == 1827
    for name in ("emissions_days", "environment_days"):
        with pytest.raises(ValidationError, match="1826 days is shorter than the 5 years"):
            StorageSettings(**{name: 1826})
    assert StorageSettings(emissions_days=0).emissions_days == 0  # forever is longer still
    # rejected messages are bounded: at most a year, never forever
    with pytest.raises(ValidationError):
        StorageSettings(rejected_messages_days=0)
    with pytest.raises(ValidationError):
        StorageSettings(rejected_messages_days=366)
    assert StorageSettings(rejected_messages_days=365).rejected_messages_days == 365


def test_the_projection_holds_the_hot_days_and_the_longest_category_beyond_them() -> None:
    p = project(readings_per_day=1000.0, hot_bpr=100.0, cold_bpr=3.0, policy=_policy(cold=True))
    assert (p.hot_days, p.cold_days, p.hot_bytes, p.cold_bytes) == (90, 1737, 9_000_000, 5_211_000)
    p = project(readings_per_day=1000.0, hot_bpr=100.0, cold_bpr=None, policy=_policy(cold=False))
    assert (p.hot_days, p.cold_days, p.hot_bytes, p.cold_bytes) == (1827, 0, 182_700_000, None)


def test_the_columnstore_sql_segments_by_series_and_orders_by_time() -> None:
    sql = columnstore.statements(7)
    assert sql[0] == (
        "ALTER TABLE telemetry SET (timescaledb.enable_columnstore = true,"
        " timescaledb.segmentby = 'device_id, metric_id', timescaledb.orderby = 'ts')"
    )
    assert "CALL add_columnstore_policy('rollup_15m', after => interval '7 days', if_not_exists => true)" in sql
    assert len(sql) == 2 * len(columnstore.TABLES)


def test_values_are_stored_at_their_series_decimal_scale_and_come_back_bit_for_bit() -> None:
    values = [12345.67, 12345.68, 0.1, 0.125, -3.5, 1 / 3, float("nan"), float("inf"), -0.0, 0.0, 1e300, 123456789.123]
    n = len(values)
    arrays = _arrays(list(range(n)), [1] * 6 + [2] * 6, [5] * n)
    arrays["value"] = np.array(values)
    rows, _ = layout.split(arrays, park_of_device={1: 1, 2: 1}, category_of_metric={5: "energy"})
    t = layout.table(rows)
    f = layout.encode(t)
    # series 1 needs three decimals (0.125), 1/3 needs more than any scale: raw
    assert f.column("scale").to_pylist()[:6] == [3] * 6
    assert f.column("value_e").to_pylist()[:6] == [12345670, 12345680, 100, 125, -3500, None]
    assert f.column("value_raw").to_pylist()[5] == 1 / 3
    back = layout.decode(f).column("value").to_numpy()
    assert back.tobytes() == t.column("value").to_numpy().tobytes()  # NaN, inf, -0.0 included
    assert layout.checksum([layout.decode(f)]) == layout.checksum([t])

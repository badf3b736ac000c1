"""The overlapped export's and the cross-tier reads' pure parts, without services: a file written
batch by batch is the file written at once, the digest does not depend on how rows arrive, hot
readings replace cold ones of the same instant, and a window's neighbours come from either side."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from smartpark.db.binary_copy import PG_EPOCH_US
from smartpark.series_key import pack
from storage import export, layout, raw_tiers
from storage.coldfs import ColdStore

DAY = datetime(2026, 3, 2, tzinfo=UTC)
CHUNK = {"range_start": DAY, "range_end": datetime(2026, 3, 3, tzinfo=UTC), "chunk_name": "_hyper_1_7_chunk"}


def _day(devices: int, per_series: int) -> dict[str, np.ndarray]:
    """Readings of devices 1..n (metric 1: energy, metric 2: safety) every 0.5 s from 00:00 UTC."""
    rng = np.random.default_rng(7)
    start = int(DAY.timestamp() * 1_000_000) - PG_EPOCH_US
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("ts", "device_id", "metric_id", "value", "flag")}
    for d in range(1, devices + 1):
        for m in (1, 2):
            parts["ts"].append(start + np.arange(per_series, dtype=np.int64) * 500_000)
            parts["device_id"].append(np.full(per_series, d, np.int32))
            parts["metric_id"].append(np.full(per_series, m, np.int16))
            parts["value"].append(np.round(rng.normal(100, 5, per_series), 2))
            parts["flag"].append(np.zeros(per_series, np.int16))
    return {k: np.concatenate(v) for k, v in parts.items()}


def test_a_file_written_batch_by_batch_is_the_file_written_at_once(tmp_path: Path) -> None:
    day = _day(devices=30, per_series=10_000)  # 300 000 rows a file: two full row groups and a rest
    parks, cats = {d: 1 + (d > 15) for d in range(1, 31)}, {1: "energy", 2: "safety"}
    store = ColdStore.of(str(tmp_path / "cold"))
    files = export.planned_files(store.root, CHUNK, parks={1, 2, 3}, categories={"energy", "safety"})
    assert len(files) == 6  # every park and category of the registry, listed before any read
    sink = export._Sink(store, files, zstd_level=3, park_of_device=parks, category_of_metric=cats)
    for first in range(1, 31, 4):  # batches of whole devices, in device order
        mine = (day["device_id"] >= first) & (day["device_id"] < first + 4)
        sink.add({k: v[mine] for k, v in day.items()})
    rows, digests = sink.finish()
    assert sorted(rows.values()) == [150_000] * 4  # park 3 has no device: its files are never written
    rows_all, parts = layout.split(day, park_of_device=parks, category_of_metric=cats)
    for p in parts:
        path, once = files[(p.day, p.park_id, p.category)], str(tmp_path / "once.parquet")
        t = layout.table(rows_all, p.start, p.stop)
        pq.write_table(layout.encode(t), once, **layout.writer_options(3))  # type: ignore[arg-type]
        groups = [pq.ParquetFile(f).metadata for f in (path, once)]
        assert [[g.row_group(i).num_rows for i in range(g.num_row_groups)] for g in groups] == [[131_072, 18_928]] * 2
        assert Path(path).read_bytes() == Path(once).read_bytes()
        assert layout.checksum([layout.read(path, store.fs)]) == layout.checksum([t])
    assert export.read_back(store, list(rows)) == (600_000, layout.combine(digests))


def test_the_digest_is_the_same_however_the_rows_arrive() -> None:
    day = _day(devices=3, per_series=100)
    rows, _ = layout.split(day, park_of_device={1: 1, 2: 1, 3: 1}, category_of_metric={1: "e", 2: "e"})
    whole, pieces = layout.Digest(), layout.Digest()
    whole.arrays(rows)
    for a in range(0, 600, 77):
        pieces.arrays(rows, a, min(600, a + 77))
    assert whole.digest() == pieces.digest() and pieces.rows == 600
    changed = dict(rows, flag=rows["flag"].copy())
    changed["flag"][5] = 1
    other = layout.Digest()
    other.arrays(changed)
    assert other.digest() != whole.digest()
    # the chunk's checksum takes its files by path whatever order they come in
    assert layout.combine({"b": b"2", "a": b"1"}) == layout.combine({"a": b"1", "b": b"2"})


def test_a_hot_reading_replaces_a_cold_one_of_the_same_instant() -> None:
    s = pack([4, 4, 4], [1, 1, 1])
    cold = raw_tiers.Points(s, np.array([0, 1000, 2000]), np.array([1.0, 2.0, 3.0]), np.zeros(3, np.int16))
    hot = (pack([4, 3], [1, 1]), np.array([1000, 5]), np.array([20.0, 9.0]))
    series, ts, value = raw_tiers.merge(hot, cold)
    assert series.tolist() == pack([3, 4, 4, 4], [1, 1, 1, 1]).tolist()
    assert (ts.tolist(), value.tolist()) == ([5, 0, 1000, 2000], [9.0, 1.0, 20.0, 3.0])


def test_a_windows_neighbours_in_the_cold_tier() -> None:
    s = pack([4] * 4 + [5] * 2, [1] * 6)
    cold = raw_tiers.Points(s, np.array([0, 100, 900, 1000, 50, 60]), np.zeros(6), np.zeros(6, np.int16))
    prev, nxt = raw_tiers.neighbours(
        cold, series=pack([4, 4, 5, 6], [1, 1, 1, 1]), lo=np.array([100, 2000, 0, 0]), hi=np.array([900, 3000, 55, 9])
    )
    assert prev.tolist() == [0, 1000, -1, -1]  # the last before lo, none for a series never seen
    assert nxt.tolist() == [900, -1, 60, -1]  # the first at or after hi
    assert raw_tiers.latest(np.array([-1, 5]), np.array([3, -1])).tolist() == [3, 5]
    assert raw_tiers.earliest(np.array([-1, 5, 7]), np.array([3, -1, 6])).tolist() == [3, 5, 6]

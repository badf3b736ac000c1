"""The Parquet cold tier against the real TimescaleDB: chunks move (export, verify, drop), raw
series read across both tiers, cold files expire by category, and a process killed (SIGKILL)
after any step loses nothing and doubles nothing once it runs again.

Each test keeps its readings in a year of its own (1981…), and moves only chunks of that year, so
the run's other tests' data stay where they are.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from api.queries import telemetry as q
from api.series import Aggregate, Interval, Pair, SeriesPlan
from smartpark.catalogue import metric
from smartpark.settings import Settings
from storage import cold_read, compaction, layout, manifest, retention, tiering
from storage.coldfs import ColdStore
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SERIES = {  # (enterprise, device) -> metric: one per category
    ("e1", "em1"): "elec.import_kwh",
    ("e1", "cems1"): "stack.so2_mgm3",
    ("e1", "gd1"): "safety.lel_pct",
}
PER_DAY = 144  # a reading every 10 minutes


def _year(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def _store(db: psycopg.Connection[Any], park: dict[str, Any], year: int, days: int = 3) -> list[int]:
    """A reading every 10 minutes for ``days`` days of each series; the devices."""
    devices, rows = [], []
    for (ent, code), m in SERIES.items():
        dev = device_id(db, park, ent, code)
        devices.append(dev)
        t0 = ms(year, 3, 1)
        rows += [
            (dev, metric(m).id, t0 + i * 600_000, round(100 + np.sin(i / 7) * 5, 2)) for i in range(days * PER_DAY)
        ]
    store_readings(db, rows)
    return devices


def _every_reading(db: psycopg.Connection[Any], store: ColdStore, devices: list[int]) -> list[tuple[Any, ...]]:
    """Each reading of the devices in either tier, hot ones first: a reading in both appears twice."""
    hot = db.execute(
        "SELECT device_id, metric_id, (extract(epoch FROM ts) * 1000000)::int8, value, flag FROM telemetry"
        " WHERE device_id = ANY(%s)",
        (devices,),
    ).fetchall()
    paths = [
        r[0]
        for r in db.execute(
            "SELECT f.path FROM storage_cold_files f JOIN storage_cold_chunks c USING (hypertable, chunk)"
            " WHERE c.state = 'cold'"
        ).fetchall()
    ]
    cold: list[tuple[Any, ...]] = []
    for path in paths:
        t = layout.read(path, store.fs)
        ts = t.column("ts").cast("int64").to_pylist()
        cold += [
            (d, m, u, v, f)
            for d, m, u, v, f in zip(
                t.column("device_id").to_pylist(), t.column("metric_id").to_pylist(), ts,
                t.column("value").to_pylist(), t.column("flag").to_pylist(), strict=True,
            )
            if d in devices
        ]  # fmt: skip
    return [tuple(r) for r in hot] + cold


def _files_on_disk(root: Path) -> set[str]:
    return {p.as_posix() for p in root.rglob("*.parquet")}


def _listed(db: psycopg.Connection[Any], root: Path) -> set[str]:
    rows = db.execute("SELECT path FROM storage_cold_files WHERE path LIKE %s", (f"{root.as_posix()}/%",)).fetchall()
    return {r[0] for r in rows}


def test_old_chunks_move_to_parquet_and_raw_series_read_across_tiers(
    db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path, settings: Settings
) -> None:
    devices = _store(db, park, 1981)
    before = sorted(_every_reading(db, ColdStore.of(str(tmp_path)), devices))
    store = ColdStore.of(str(tmp_path / "cold"))
    moved = tiering.move_old(db, store, hot_days=90, zstd_level=9, window=_year(1981), limit=2)
    assert [m.rows for m in moved] == [3 * PER_DAY, 3 * PER_DAY]  # two days of three series
    assert [m.files for m in moved] == [3, 3]  # one file per category: energy, emissions, safety
    after = _every_reading(db, store, devices)
    assert sorted(after) == before  # every reading in exactly one tier, unchanged
    hot_days = db.execute(
        "SELECT count(DISTINCT date_trunc('day', ts)) FROM telemetry WHERE device_id = ANY(%s)", (devices,)
    ).fetchone()
    assert hot_days == (1,)
    assert _files_on_disk(tmp_path / "cold") == _listed(db, tmp_path / "cold")
    states = db.execute(
        "SELECT state, count(*) FROM storage_cold_chunks WHERE chunk = ANY(%s) GROUP BY 1", ([m.chunk for m in moved],)
    ).fetchall()
    assert states == [("cold", 2)]

    # the series query of the API: one range over both tiers, in time order, nothing twice
    dev, m = devices[1], metric("stack.so2_mgm3")
    plan = SeriesPlan(
        pairs=(Pair(dev, m),),
        aggregates=(Aggregate.AVG,),
        interval=Interval.RAW,
        start=datetime(1981, 3, 1, 12, tzinfo=UTC),
        end=datetime(1981, 3, 3, 12, tzinfo=UTC),
        limit_per_series=10_000,
    )
    park_id = db.execute(
        "SELECT park_id FROM enterprises e JOIN devices d USING (enterprise_id) WHERE device_id = %s", (dev,)
    ).fetchone()
    assert park_id is not None
    with psycopg.connect(settings.database_url or "", row_factory=psycopg.rows.dict_row) as conn:
        both = q.series(conn, plan, timezones=["Asia/Shanghai"], parks=[park_id[0]], cold=store)[0]
        hot_only = q.series(conn, plan, timezones=["Asia/Shanghai"])[0]
    lo, hi = ms(1981, 3, 1, 12) * 1000, ms(1981, 3, 3, 12) * 1000
    expected = sorted((r for r in before if r[0] == dev and r[1] == m.id and lo <= r[2] < hi), key=lambda r: r[2])
    assert both.ts == [r[2] // 1000 for r in expected]
    assert both.values == [r[3] for r in expected]
    # the afternoon of day 1 and day 2 are cold, the morning of day 3 is still hot
    assert len(both.ts) == 2 * PER_DAY and len(hot_only.ts) == PER_DAY // 2
    assert both.flags == [0] * len(both.ts) and not both.truncated

    # several series of several categories in one request: each its own readings
    pairs = tuple(Pair(d, metric(code)) for d, code in zip(devices, SERIES.values(), strict=True))
    many = SeriesPlan(pairs, (Aggregate.AVG,) * 3, Interval.RAW, plan.start, plan.end, 10_000)
    with psycopg.connect(settings.database_url or "", row_factory=psycopg.rows.dict_row) as conn:
        got = q.series(conn, many, timezones=["Asia/Shanghai"] * 3, parks=[park_id[0]] * 3, cold=store)
    for pair, points in zip(pairs, got, strict=True):
        want = sorted(
            (r for r in before if r[:2] == (pair.device_id, pair.metric.id) and lo <= r[2] < hi), key=lambda r: r[2]
        )
        assert (points.ts, points.values) == ([r[2] // 1000 for r in want], [r[3] for r in want])

    # and through HTTP: the API with the cold tier configured answers the same, transparently
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import Role
    from smartpark.settings import ApiSettings, StorageSettings
    from tests.api.conftest import make_user

    with_cold = settings.model_copy(update={"storage": StorageSettings(cold_url=str(tmp_path / "cold"))})
    app = create_app(
        with_cold, limits=ApiSettings(pool_min=1, pool_max=2), database_url=settings.database_url, static_dir=None
    )
    params = {
        "series": f"{dev}:{m.code}",
        "from": "1981-03-01T12:00:00Z",
        "to": "1981-03-03T12:00:00Z",
        "interval": "raw",
    }
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/telemetry/series", headers={"X-API-Key": make_user(db, Role.ADMIN)}, params=params)
    assert r.status_code == 200, r.text
    answer = r.json()["series"][0]
    assert (answer["ts"], answer["values"]) == (both.ts, both.values)


def test_cold_files_expire_by_category(db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path) -> None:
    devices = _store(db, park, 1982, days=1)
    store = ColdStore.of(str(tmp_path))
    tiering.move_old(db, store, hot_days=90, zstd_level=3, window=_year(1982))
    cats = {"emissions": 1827, "environment": 1827, "energy": 1096, "safety": 366}
    policy = retention.Policy(hot_days=90, category_days=cats, table_days={}, cold=True)
    # 1982-03-01 + 366 days = 1983-03-02: the safety day is still kept that day, gone the next
    # (the run's other tests may have older cold files: only this test's are counted)
    tiering.expire_cold(db, store, policy=policy, today=date(1983, 3, 2))
    assert len(_listed(db, tmp_path)) == 3
    assert len([r for r in _every_reading(db, store, devices) if r[2] >= ms(1982, 1, 1) * 1000]) == 3 * PER_DAY
    assert tiering.expire_cold(db, store, policy=policy, today=date(1983, 3, 3)) >= 1
    assert len(_listed(db, tmp_path)) == 2
    left = {r[1] for r in _every_reading(db, store, devices) if ms(1982, 1, 1) * 1000 <= r[2] < ms(1983, 1, 1) * 1000}
    assert left == {metric("elec.import_kwh").id, metric("stack.so2_mgm3").id}  # energy and emissions stay
    assert _files_on_disk(tmp_path) == _listed(db, tmp_path)


def test_one_pass_moves_chunks_at_a_time(
    db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path, settings: Settings
) -> None:
    """A second pass restarting a chunk's move could delete files a first one is about to commit."""
    _store(db, park, 1987, days=1)
    store = ColdStore.of(str(tmp_path))
    with psycopg.connect(settings.database_url or "", autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (tiering.PASS_LOCK,))
        assert tiering.move_old(db, store, hot_days=90, zstd_level=3, window=_year(1987)) == []
        other.execute("SELECT pg_advisory_unlock(%s)", (tiering.PASS_LOCK,))  # released now, not at the close
    assert [m.rows for m in tiering.move_old(db, store, hot_days=90, zstd_level=3, window=_year(1987))] == [3 * PER_DAY]


def test_without_a_cold_tier_raw_chunks_stay_for_the_longest_category(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    # 2023-03-01: past the hot age and the energy and safety retentions, within the emissions' 5 years
    devices = _store(db, park, 2023, days=1)
    expired = _store(db, park, 1980, days=1)  # beyond every category's retention
    cats = {"emissions": 1827, "environment": 1827, "energy": 1096, "safety": 366}
    keep_others = dict.fromkeys(retention.AGGREGATES, 0)
    policy = retention.Policy(hot_days=90, category_days=cats, table_days=keep_others, cold=False)
    assert retention.apply(db, policy=policy)["telemetry"] >= 1
    since = datetime(2023, 1, 1, tzinfo=UTC)
    rows = db.execute("SELECT count(*) FROM telemetry WHERE device_id = ANY(%s) AND ts >= %s", (devices, since))
    assert rows.fetchone() == (3 * PER_DAY,)  # the whole day, energy and safety readings too
    rows = db.execute("SELECT count(*) FROM telemetry WHERE device_id = ANY(%s) AND ts < %s", (expired, since))
    assert rows.fetchone() == (0,)


def _tier(cold: Path, year: int, *args: str) -> subprocess.Popen[str]:
    since, until = _year(year)
    env = {
        **os.environ,
        "SMARTPARK_STORAGE_COLD_URL": str(cold),
        "SMARTPARK_STORAGE_ROLLUP_15M_DAYS": "0",  # this pass must not touch the run's other data
        "SMARTPARK_STORAGE_ROLLUP_1H_DAYS": "0",
        "SMARTPARK_STORAGE_REJECTED_MESSAGES_DAYS": "365",
        # the readings of the 1980s are past every retention: kept here to be counted
        **{f"SMARTPARK_STORAGE_{c.upper()}_DAYS": "0" for c in retention.CATEGORIES},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "smartpark.cli", "storage", "tier", "--limit", "1",
         "--since", since.isoformat(), "--until", until.isoformat(), *args],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("step", tiering.STEPS)
def test_a_kill_after_any_step_loses_nothing_and_doubles_nothing(
    db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path, step: str
) -> None:
    year = 1983 + tiering.STEPS.index(step)
    devices = _store(db, park, year, days=1)
    store = ColdStore.of(str(tmp_path))
    before = sorted(_every_reading(db, store, devices))
    p = _tier(tmp_path, year, "--pause-at", step)
    assert p.stdout is not None
    line = p.stdout.readline()  # the process holds there until killed
    assert line == f"paused at {step}\n", p.stderr.read() if p.stderr else ""
    p.kill()  # SIGKILL: no clean-up of any kind
    p.communicate(timeout=30)  # reaped, its pipes closed
    chunk = db.execute(
        "SELECT chunk, state FROM storage_cold_chunks c WHERE range_start = %s", (datetime(year, 3, 1, tzinfo=UTC),)
    ).fetchone()
    assert chunk is not None and chunk[1] == {"planned": "exporting", "dropping": "verified"}.get(step, step)
    assert sorted(_every_reading(db, store, devices)) == before  # the killed pass left the chunk hot
    out, err = _tier(tmp_path, year).communicate(timeout=120)
    assert '"cold_chunks": 1' in out, err
    assert manifest.state(db, hypertable="telemetry", chunk=chunk[0]) == "cold"
    assert sorted(_every_reading(db, store, devices)) == before
    assert _files_on_disk(tmp_path) == _listed(db, tmp_path)


def test_rollups_go_by_their_own_age(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    dev, kwh = device_id(db, park, "e1", "em1"), metric("elec.import_kwh").id
    for year in (1979, 1981):
        db.execute(
            "INSERT INTO rollup_15m (device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts,"
            " last, last_ts) VALUES (%s, %s, %s, 1, 1, 1, 1, 1, 1, %s, 1, %s)",
            (dev, kwh, *[datetime(year, 6, 1, tzinfo=UTC)] * 3),
        )
    # an age that reaches 1980-01-01: only the 1979 chunk is wholly older
    days = (datetime.now(UTC) - datetime(1980, 1, 1, tzinfo=UTC)).days
    assert retention.drop_older(db, table="rollup_15m", days=days) >= 1
    left = db.execute("SELECT extract(year FROM bucket)::int FROM rollup_15m WHERE device_id = %s", (dev,)).fetchall()
    assert left == [(1981,)]
    assert retention.drop_older(db, table="rollup_15m", days=0) == 0  # 0 keeps for ever


class _KilledAfterTheSwap(ColdStore):
    """A store whose process dies when it comes to deleting files."""

    def delete(self, paths: list[str]) -> None:
        raise KeyboardInterrupt("killed")


def test_a_wholly_cold_month_becomes_one_file_per_park_and_category(
    db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    devices = _store(db, park, 1988, days=3)
    store = ColdStore.of(str(tmp_path))
    tiering.move_old(db, store, hot_days=90, zstd_level=3, window=_year(1988))
    before = sorted(_every_reading(db, store, devices))
    assert len({p for p in _listed(db, tmp_path) if "/day=1988-03-" in p}) == 9  # 3 days × 3 categories

    def mine(prefix: str) -> set[str]:  # (other tests' months may be merged into this root too)
        return {p for p in _listed(db, tmp_path) if prefix in p}

    assert compaction.compact(db, store, before=date(1988, 3, 31), zstd_level=3) >= 0
    assert not mine("/month=1988-03/")  # the month has not ended: nothing merged

    # killed before the swap: the merged file is written but not listed, the daily files stay
    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt("killed")

    with monkeypatch.context() as m:
        m.setattr(manifest, "replace_files", killed)
        with pytest.raises(KeyboardInterrupt):
            compaction.compact(db, store, before=date(1988, 4, 1), zstd_level=3)
    assert len(mine("/day=1988-03-")) == 9 and not mine("/month=1988-03/")
    assert sorted(_every_reading(db, store, devices)) == before

    # killed after the first swap: that category's merged file is listed, its daily files are left
    # on disk unlisted, the other categories are still daily
    with pytest.raises(KeyboardInterrupt):
        compaction.compact(db, _KilledAfterTheSwap(store.fs, store.root), before=date(1988, 4, 1), zstd_level=3)
    assert (len(mine("/month=1988-03/")), len(mine("/day=1988-03-"))) == (1, 6)
    assert sorted(_every_reading(db, store, devices)) == before

    # a pass that runs to the end merges whatever is left; a series reads the same from the merged files
    compaction.compact(db, store, before=date(1988, 4, 1), zstd_level=3)
    assert len(mine("/month=1988-03/")) == 3 and not mine("/day=1988-03-")
    assert sorted(_every_reading(db, store, devices)) == before
    park_id = db.execute(
        "SELECT park_id FROM enterprises JOIN devices USING (enterprise_id) WHERE device_id = %s", (devices[0],)
    )
    got = cold_read.raw_series(
        db, store, device_id=devices[0], metric_id=metric("elec.import_kwh").id, park_id=park_id.fetchone()[0],  # type: ignore[index]
        category="energy", start=datetime(1988, 3, 1, tzinfo=UTC), end=datetime(1988, 3, 4, tzinfo=UTC),
    )  # fmt: skip
    assert got.ts_us.tolist() == [ms(1988, 3, 1) * 1000 + i * 600_000_000 for i in range(3 * PER_DAY)]

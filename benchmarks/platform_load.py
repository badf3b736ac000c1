"""What runs against the platform during `smartpark bench platform`, each in a thread of its own
until the run ends: the probes that time alarms, storage, rollups and the API into
:class:`Samples`, the alerting loop's longest step read from its heartbeat, and the disturbances
at 20, 40 and 60 % of the run."""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks.live_clients import Db, Sender, http_get, http_post
from benchmarks.platform_model import LEAK_DEVICES, LEAK_LEL, NORMAL, PER_GATEWAY, bench_model
from benchmarks.process_tree import cmdline, descendants


@dataclass
class Samples:
    """(wall time, value) per figure, cut into minutes at the end."""

    stored_lag: list[tuple[float, float]] = field(default_factory=list)
    alarm: list[tuple[float, float]] = field(default_factory=list)
    api: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    rollup_lag: list[tuple[float, float]] = field(default_factory=list)
    pause: list[tuple[float, float]] = field(default_factory=list)  # the loop's longest step so far
    swap: list[tuple[float, float]] = field(default_factory=list)  # of which a reload's swap
    events: list[tuple[float, str]] = field(default_factory=list)
    missed: int = 0  # leaks that raised no alarm within 30 s


def leaks(
    db_url: str, park: str, gw: dict[str, Any], ids: dict[str, int], every: float, end: float, s: Samples
) -> None:

    sender = Sender(park, gw)
    i = 0
    with Db(db_url) as conn:
        while time.time() < end - every:
            dev = f"lk{i % LEAK_DEVICES:04d}"
            t0 = time.time()
            sender.send(dev, {**NORMAL, "safety.lel_pct": LEAK_LEL})
            while time.time() < t0 + 30:
                row = conn.execute(
                    "SELECT count(*) FROM alerts WHERE device_id = %s AND rule_id = 'lel-level1'"
                    " AND state = 'firing' AND started_at >= to_timestamp(%s)",
                    (ids[dev], t0 - 1),
                ).fetchone()
                if row and row[0]:
                    s.alarm.append((t0, time.time() - t0))
                    break
                time.sleep(0.01)
            else:
                s.events.append((time.time(), f"no alarm within 30 s for a leak on {dev}: {_why(conn, ids[dev], t0)}"))
                s.missed += 1
            time.sleep(1.0)
            sender.send(dev, NORMAL)  # clears (past the hysteresis) for the next round
            time.sleep(max(0.0, t0 + every - time.time()))
            i += 1
    sender.close()


def _why(conn: Any, device_id: int, t0: float) -> str:
    """What the database says about a leak that raised no alarm: was it stored, and which alarms
    does its device have."""
    stored = conn.execute(
        "SELECT count(*) FROM telemetry WHERE device_id = %s AND ts >= to_timestamp(%s) AND value >= 50",
        (device_id, t0 - 1),
    ).fetchone()
    alarms = conn.execute(
        "SELECT rule_id, state, started_at FROM alerts WHERE device_id = %s ORDER BY started_at DESC LIMIT 3",
        (device_id,),
    ).fetchall()
    return f"leak reading stored {bool(stored and stored[0])}; its latest alarms {alarms}"


def probe(db_url: str, park: str, gw: dict[str, Any], ids: dict[str, int], end: float, s: Samples) -> None:

    sender, dev = Sender(park, gw), "pr0000"
    with Db(db_url) as conn:
        while time.time() < end:
            t0 = time.time()
            ts_ms = sender.send(dev, NORMAL)
            while time.time() < t0 + 60:
                row = conn.execute(
                    "SELECT 1 FROM telemetry WHERE device_id = %s AND ts = to_timestamp(%s / 1000.0) LIMIT 1",
                    (ids[dev], ts_ms),
                ).fetchone()
                if row:
                    s.stored_lag.append((t0, time.time() - t0))
                    break
                time.sleep(0.02)
            time.sleep(max(0.0, t0 + 0.5 - time.time()))
    sender.close()


def rollup_probe(db_url: str, device_id: int, end: float, s: Samples) -> None:
    """How long until the probe's stored readings are all in their 15-minute rollup."""

    from smartpark.catalogue import BY_CODE

    lel = BY_CODE["safety.lel_pct"].id
    with Db(db_url) as conn:
        while time.time() < end:
            t0 = time.time()
            bucket, stored = conn.execute(
                "SELECT time_bucket('15 minutes', now()), count(*) FROM telemetry"
                " WHERE device_id = %s AND metric_id = %s AND ts >= time_bucket('15 minutes', now())",
                (device_id, lel),
            ).fetchone()
            while stored and time.time() < t0 + 300:
                row = conn.execute(
                    "SELECT count FROM rollup_15m WHERE device_id = %s AND metric_id = %s AND bucket = %s",
                    (device_id, lel, bucket),
                ).fetchone()
                if row and row[0] >= stored:
                    s.rollup_lag.append((t0, time.time() - t0))
                    break
                time.sleep(1.0)
            time.sleep(max(0.0, t0 + 10 - time.time()))


def api(base: str, token: str, park_id: int, rate: float, end: float, s: Samples) -> None:
    today = time.strftime("%Y-%m-%d")
    routes = {
        "overview": f"/api/v1/overview?park_id={park_id}",
        "alarms": f"/api/v1/alarms?park_id={park_id}&limit=50",
        "latest": f"/api/v1/telemetry/latest?park_id={park_id}&limit=100",
        "statistics": f"/api/v1/statistics/parks/{park_id}?from=2026-01-01&to={today}",
    }
    names = list(routes)
    i = 0
    next_at = time.time()
    while time.time() < end:
        name = names[i % len(names)]
        t0 = time.time()
        code = http_get(base + routes[name], token)
        s.api[name if code == 200 else f"{name} ({code})"].append((t0, time.time() - t0))
        i += 1
        next_at += 1.0 / rate
        time.sleep(max(0.0, next_at - time.time()))


def heartbeats(db_url: str, end: float, s: Samples) -> None:

    with Db(db_url) as conn:
        while time.time() < end:
            for (detail,) in conn.execute(
                "SELECT detail FROM service_heartbeats WHERE service = 'alerting'"
            ).fetchall():
                if detail and "longest_pause_s" in detail:
                    s.pause.append((time.time(), float(detail["longest_pause_s"])))
                    s.swap.append((time.time(), float(detail.get("longest_swap_s", 0.0))))
            time.sleep(5)


def disturb(base: str, token: str, db_url: str, park: str, sup: Any, t0: float, end: float, s: Samples) -> None:
    import psycopg

    from smartpark.registry import load_model

    span = end - t0
    time.sleep(max(0.0, t0 + 0.2 * span - time.time()))
    scope = [f"e{i // PER_GATEWAY:03d}/gd{i % PER_GATEWAY:04d}" for i in range(9_999)]
    rule = {
        "id": f"bench-wide-{park}",
        "metric": "safety.lel_pct",
        "condition": {"op": ">=", "threshold": 40},
        "severity": "major",
        "category": "safety",
        "scope": {"parks": [park], "devices": scope},
    }
    code, _ = http_post(f"{base}/api/v1/rules", rule, token)
    s.events.append((time.time(), f"rule with a 10 000-entry scope saved (HTTP {code})"))
    time.sleep(max(0.0, t0 + 0.4 * span - time.time()))
    extra = bench_model(park, 1_000, prefix="x", extra=False)["parks"][0]
    with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
        load_model(conn, {"parks": [extra]})
    s.events.append((time.time(), "1 000 devices registered"))
    time.sleep(max(0.0, t0 + 0.6 * span - time.time()))
    ingest = next(c for c in sup.children if c.component.name == "ingest")
    workers = [p for p in descendants(ingest.proc.pid) if b"spawn_main" in cmdline(p)]
    if workers:
        os.kill(workers[-1], signal.SIGKILL)
    s.events.append((time.time(), f"ingest worker pid {workers[-1] if workers else '?'} killed"))

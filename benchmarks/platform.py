"""`smartpark bench platform`: the whole platform under live load and disturbances, minute by minute.

The platform runs as `smartpark up` runs it (the supervisor's components: two partitioned ingest
workers, alerting, scheduler, API) on a scratch database. A bench park of ``--devices`` gas
detectors (four readings each) is registered, and publisher processes send every device's
readings every ``--interval`` seconds with millisecond timestamps, so sub-second intervals are
distinct readings. Meanwhile:

- gas leaks are injected every ``--leak-every`` seconds on detectors kept out of the load, each
  timed from its publish to its alarm row (the default rules: lel-level1 at 25 %LEL);
- a probe detector publishes twice a second, each reading timed from publish to its telemetry row;
- the API is driven at ``--api-rate`` requests/s over four routes;
- at 20 % of the run a rule with a 10 000-entry scope is saved through the API, at 40 % 1 000 more
  devices are registered, at 60 % one ingest worker is killed (SIGKILL).

Printed per minute and overall: publish -> stored lag p99 (a probe detector, twice a second),
rollup lag (from a probe reading's commit to its 15-minute rollup counting it), alarm latency
p99, the alerting loop's longest step so far, API p95 per route; overall also CPU seconds and
memory growth per service, and readings lost and doubled. Then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import ensure_accounts, free_port, process_cpu_s, remove_accounts, scratch_db

GAS = ("safety.lel_pct", "safety.h2s_ppm", "safety.co_ppm", "safety.o2_pct")
NORMAL = {"safety.lel_pct": 1.0, "safety.h2s_ppm": 0.0, "safety.co_ppm": 2.0, "safety.o2_pct": 20.9}
LEAK_LEL = 60.0
PER_GATEWAY = 100
LEAK_DEVICES = 40


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, default=10_000, help="gas detectors publishing (4 readings each)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a device's readings")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the loaded run")
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--leak-every", type=float, default=5.0, help="seconds between injected gas leaks")
    parser.add_argument("--api-rate", type=float, default=10.0, help="API requests per second")
    parser.set_defaults(func=run)


def bench_model(code: str, devices: int, *, prefix: str = "e", extra: bool = True) -> dict[str, Any]:
    """Enterprises of PER_GATEWAY gas detectors each behind one gateway; with ``extra`` two more
    enterprises hold the leak detectors and the probe, out of the load."""

    def enterprise(name: str, count: int, prefix: str) -> dict[str, Any]:
        gw: dict[str, Any] = {"code": "gw1", "username": f"{code}.{name}.gw1", "password": secrets.token_urlsafe(12)}
        gw["devices"] = [{"code": f"{prefix}{i:04d}", "kind": "gas_detector", "zone": name} for i in range(count)]
        return {"code": name, "name": name, "industry": "coal_chemical", "land_area_mu": 10, "gateways": [gw]}

    ents = [
        enterprise(f"{prefix}{i:03d}", min(PER_GATEWAY, devices - i * PER_GATEWAY), "gd")
        for i in range(-(-devices // PER_GATEWAY))
    ]
    if extra:
        ents += [enterprise("leaks", LEAK_DEVICES, "lk"), enterprise("probe", 1, "pr")]
    park = {"code": code, "name": code, "timezone": "Asia/Shanghai", "grid_region": "east", "land_area_mu": 3000}
    return {"parks": [{**park, "enterprises": ents}]}


def _publisher(gateways: list[dict[str, Any]], park: str, interval: float, stop: Any, counts: Any, i: int) -> None:
    """Publish every device of these gateways every ``interval`` s (QoS 1), counting readings."""
    from ingest.cli import die_with_parent

    die_with_parent()  # a benchmark killed mid-run must not leave its load running
    from smartpark.broker_admin import gateway_client_id
    from smartpark.contract import gateway_topic
    from smartpark.mqtt import BrokerTarget, connect, make_client, mqtt_url
    from smartpark.settings import get_settings

    clients = []
    for gw in gateways:
        target = BrokerTarget.parse(mqtt_url(get_settings())).with_credentials(gw["username"], gw["password"])
        c = make_client(gateway_client_id(gw["username"]), target=target, clean_start=True, session_expiry=0)
        connect(c)
        clients.append((c, gateway_topic(park, gw["enterprise"], gw["code"]), [d["code"] for d in gw["devices"]]))
    rng = np.random.default_rng(i)
    next_at = time.time()
    sent = 0
    pending: list[Any] = []
    while not stop.is_set():
        ts_ms = int(time.time() * 1000)
        pending = []
        for c, topic, devs in clients:
            lel = rng.uniform(0.0, 5.0, len(devs)).round(2).tolist()
            body = {
                d: [{"ts": ts_ms, "values": {**NORMAL, "safety.lel_pct": v}}] for d, v in zip(devs, lel, strict=True)
            }
            pending.append(c.publish(topic, json.dumps(body), qos=1))
            sent += len(devs) * len(GAS)
        counts[i] = sent
        next_at += interval
        time.sleep(max(0.0, next_at - time.time()))
    for info in pending:  # the last round acknowledged before the count is final
        info.wait_for_publish(30)
    for c, _, _ in clients:
        c.disconnect()
        c.loop_stop()
    counts[i] = sent


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


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 4) if values else None


def _descendants(pid: int) -> list[int]:
    kids: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    kids[int(f.read().rsplit(")", 1)[1].split()[1])].append(int(entry))
            except OSError:
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(args: argparse.Namespace) -> int:
    from smartpark.settings import get_settings

    settings = get_settings()
    code = f"bp{secrets.token_hex(3)}"
    model = bench_model(code, args.devices)
    from smartpark.registry import broker_accounts

    accounts = broker_accounts(model)
    print(f"bench platform: {args.devices} devices every {args.interval:g} s for {args.minutes:g} min; park {code}")
    ensure_accounts(settings, accounts)
    try:
        with scratch_db("smartpark_bench_platform", settings) as scratch:
            return _run(args, settings, scratch.url, code, model)
    finally:
        remove_accounts(settings, accounts)


def _run(args: argparse.Namespace, settings: Any, db_url: str, code: str, model: dict[str, Any]) -> int:
    import psycopg

    from operations.plan import Options, components, parse_key
    from operations.supervisor import Supervisor
    from smartpark.registry import load_model

    with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
        load_model(conn, model)
    api_port = free_port()
    os.environ.update(SMARTPARK_DATABASE_URL=db_url, SMARTPARK_API_PORT=str(api_port))
    logs = Path(tempfile.mkdtemp(prefix="bench-platform-"))
    out = subprocess_output(["users", "add", f"bench-{code}", "--role", "admin", "--label", "bench"])
    key = parse_key(out)
    assert key, f"no API key in: {out}"
    # Shared-subscription groups of this run too: Mosquitto hands a group's share to every member
    # session, connected or not, so a previous run's alerting (its session kept 600 s) or a demo's
    # would take part of this run's readings and their alarms.
    os.environ["SMARTPARK_ALERTING_SHARE_GROUP"] = f"bench-{code}-alerting"
    os.environ["SMARTPARK_INGEST_SHARE_GROUP"] = f"bench-{code}-ingest"
    comps = [_own_ids(c, code) for c in components(Options(ingest_workers=2, hj212=False), model=logs / "none.yaml")]
    sup = Supervisor(comps, log_dir=logs)
    # a benchmark stopped with SIGTERM stops its platform too (the children run in sessions of
    # their own and would outlive it)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sup.start_all()
    watcher = _Watcher(sup)
    try:
        return _loaded_run(args, sup, logs, db_url, code, model, api_port, key)
    finally:
        watcher.stop()  # first: a watcher still polling would restart the children being stopped
        sup.stop_all()


class _Watcher:
    """Restarts a crashed or stuck child while the run lasts, as `smartpark up` does."""

    def __init__(self, sup: Any) -> None:
        self.sup, self.done = sup, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.is_set():
            self.sup.poll_once()
            self.done.wait(0.5)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(30)


def _loaded_run(
    args: argparse.Namespace,
    sup: Any,
    logs: Path,
    db_url: str,
    code: str,
    model: dict[str, Any],
    api_port: int,
    key: str,
) -> int:
    base = f"http://127.0.0.1:{api_port}"
    _wait(lambda: _get(f"{base}/readyz") == 200, 120, "the API")
    token = key  # an API key is a bearer credential too
    with Db(db_url) as db:
        park_id = db.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()[0]
        leak_ids: dict[str, int] = dict(
            db.execute(
                "SELECT d.code, d.device_id FROM devices d JOIN enterprises e USING (enterprise_id)"
                " WHERE e.park_id = %s AND e.code IN ('leaks', 'probe')",
                (park_id,),
            ).fetchall()
        )
    _wait(lambda: _alerting_sees(db_url, leak_ids), 120, "the alerting service")
    samples = Samples()
    stop = mp.get_context("spawn").Event()
    ctx = mp.get_context("spawn")
    counts = ctx.Array("q", args.publishers)
    gws = [
        {**ent["gateways"][0], "enterprise": ent["code"]}
        for ent in model["parks"][0]["enterprises"]
        if ent["code"] not in ("leaks", "probe")
    ]
    pubs = [
        ctx.Process(target=_publisher, args=(gws[i :: args.publishers], code, args.interval, stop, counts, i))
        for i in range(args.publishers)
    ]
    for p in pubs:
        p.start()
    leak_gw = {**model["parks"][0]["enterprises"][-2]["gateways"][0], "enterprise": "leaks"}
    probe_gw = {**model["parks"][0]["enterprises"][-1]["gateways"][0], "enterprise": "probe"}
    started = time.time()
    end = started + args.minutes * 60
    cpu0 = {c.component.name: _cpu(c) for c in sup.children}
    rss0 = {c.component.name: _rss(c) for c in sup.children}
    threads = [
        threading.Thread(target=_leaks, args=(db_url, code, leak_gw, leak_ids, args.leak_every, end, samples)),
        threading.Thread(target=_probe, args=(db_url, code, probe_gw, leak_ids, end, samples)),
        threading.Thread(target=_rollup_probe, args=(db_url, leak_ids["pr0000"], end, samples)),
        threading.Thread(target=_api, args=(base, token, park_id, args.api_rate, end, samples)),
        threading.Thread(target=_heartbeats, args=(db_url, end, samples)),
        threading.Thread(target=_disturb, args=(base, token, db_url, code, sup, started, end, samples)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for p in pubs:
        p.join(60)
    published = int(sum(counts[:]))
    stored = _settled_count(db_url, park_id, published)
    cpu = {n: round(_cpu(c) - cpu0[n], 1) for n, c in ((c.component.name, c) for c in sup.children)}
    rss = {n: round(_rss(c) - rss0[n], 1) for n, c in ((c.component.name, c) for c in sup.children)}
    return _report(args, samples, started, published, stored, cpu, rss)


def _own_ids(component: Any, code: str) -> Any:
    """The component with MQTT client ids of this run: the platform's own are per host, and
    another platform on the machine (a demo) must keep its sessions."""
    from dataclasses import replace

    extra = {
        "ingest": ("--client-id-prefix", f"bench-{code}-ingest", "--session-expiry", "600"),
        "alerting": ("--client-id", f"bench-{code}-alerting", "--session-expiry", "600"),
    }.get(component.name, ())
    return replace(component, argv=(*component.argv, *extra))


def subprocess_output(argv: list[str]) -> str:
    import subprocess

    from operations.children import smartpark_argv

    return subprocess.run(smartpark_argv(argv), capture_output=True, text=True, check=True).stdout


class Db:
    """An autocommit connection that connects again when the database restarts under the run
    (the machine is shared); a query is retried for up to a minute."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: Any = None

    def __enter__(self) -> Db:
        return self

    def __exit__(self, *_: object) -> None:
        if self.conn is not None:
            self.conn.close()

    def execute(self, sql: str, params: Any = ()) -> Any:
        import psycopg

        for _ in range(60):
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = psycopg.connect(self.url, autocommit=True)
                return self.conn.execute(sql, params)
            except psycopg.OperationalError as exc:
                print(f"bench platform: database away ({exc}); connecting again")
                self.conn = None
                time.sleep(1.0)
        raise SystemExit("bench platform: the database stayed away for a minute")


def _wait(check: Any, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            raise SystemExit(f"bench platform: {what} not ready after {timeout:g} s")
        time.sleep(0.5)


def _get(url: str, token: str | None = None) -> int:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _post(url: str, body: Any, token: str | None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def _alerting_sees(db_url: str, leak_ids: dict[str, int]) -> bool:

    with Db(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM service_heartbeats WHERE service = 'alerting' AND beat_at > now() - interval '5 s'"
        ).fetchone()
    return bool(row and row[0])


def _gateway_client(gw: dict[str, Any]) -> Any:
    from smartpark.broker_admin import gateway_client_id
    from smartpark.mqtt import BrokerTarget, connect, make_client, mqtt_url
    from smartpark.settings import get_settings

    target = BrokerTarget.parse(mqtt_url(get_settings())).with_credentials(gw["username"], gw["password"])
    c = make_client(gateway_client_id(gw["username"]), target=target, clean_start=True, session_expiry=0)
    connect(c)
    return c


class Sender:
    """One gateway's client for the leak or probe thread, connected again if the broker drops it."""

    def __init__(self, park: str, gw: dict[str, Any]) -> None:
        from smartpark.contract import gateway_topic

        self.gw, self.topic = gw, gateway_topic(park, gw["enterprise"], gw["code"])
        self.client = _gateway_client(gw)

    def send(self, device: str, values: dict[str, float]) -> int:
        ts_ms = int(time.time() * 1000)
        body = json.dumps({device: [{"ts": ts_ms, "values": values}]})
        try:
            self.client.publish(self.topic, body, qos=1).wait_for_publish(10)
        except (RuntimeError, ValueError):
            self.client = _gateway_client(self.gw)
            self.client.publish(self.topic, body, qos=1).wait_for_publish(10)
        return ts_ms

    def close(self) -> None:
        self.client.disconnect()


def _leaks(
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


def _probe(db_url: str, park: str, gw: dict[str, Any], ids: dict[str, int], end: float, s: Samples) -> None:

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


def _rollup_probe(db_url: str, device_id: int, end: float, s: Samples) -> None:
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


def _api(base: str, token: str, park_id: int, rate: float, end: float, s: Samples) -> None:
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
        code = _get(base + routes[name], token)
        s.api[name if code == 200 else f"{name} ({code})"].append((t0, time.time() - t0))
        i += 1
        next_at += 1.0 / rate
        time.sleep(max(0.0, next_at - time.time()))


def _heartbeats(db_url: str, end: float, s: Samples) -> None:

    with Db(db_url) as conn:
        while time.time() < end:
            for (detail,) in conn.execute(
                "SELECT detail FROM service_heartbeats WHERE service = 'alerting'"
            ).fetchall():
                if detail and "longest_pause_s" in detail:
                    s.pause.append((time.time(), float(detail["longest_pause_s"])))
                    s.swap.append((time.time(), float(detail.get("longest_swap_s", 0.0))))
            time.sleep(5)


def _disturb(base: str, token: str, db_url: str, park: str, sup: Any, t0: float, end: float, s: Samples) -> None:
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
    code, _ = _post(f"{base}/api/v1/rules", rule, token)
    s.events.append((time.time(), f"rule with a 10 000-entry scope saved (HTTP {code})"))
    time.sleep(max(0.0, t0 + 0.4 * span - time.time()))
    extra = bench_model(park, 1_000, prefix="x", extra=False)["parks"][0]
    with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
        load_model(conn, {"parks": [extra]})
    s.events.append((time.time(), "1 000 devices registered"))
    time.sleep(max(0.0, t0 + 0.6 * span - time.time()))
    ingest = next(c for c in sup.children if c.component.name == "ingest")
    workers = [p for p in _descendants(ingest.proc.pid) if b"spawn_main" in _cmdline(p)]
    if workers:
        os.kill(workers[-1], signal.SIGKILL)
    s.events.append((time.time(), f"ingest worker pid {workers[-1] if workers else '?'} killed"))


def _cpu(child: Any) -> float:
    return sum(process_cpu_s(p) or 0.0 for p in _descendants(child.proc.pid)) if child.proc else 0.0


def _rss(child: Any) -> float:
    return sum(_rss_mb(p) for p in _descendants(child.proc.pid)) if child.proc else 0.0


def _settled_count(db_url: str, park_id: int, published: int, *, quiet_s: float = 30.0) -> int:
    """Readings of the load stored, once all are in or the count has not moved for ``quiet_s``
    (ingest drained, or stopped: what is missing then is lost)."""

    sql = (
        "SELECT count(*) FROM telemetry t JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id)"
        " WHERE e.park_id = %s AND e.code LIKE 'e%%'"
    )
    last, since = -1, time.monotonic()
    with Db(db_url) as conn:
        while True:
            n = int(conn.execute(sql, (park_id,)).fetchone()[0])
            if n >= published or time.monotonic() - since >= quiet_s:
                return n
            if n != last:
                last, since = n, time.monotonic()
            time.sleep(2)


def _report(
    args: argparse.Namespace,
    s: Samples,
    t0: float,
    published: int,
    stored: int,
    cpu: dict[str, float],
    rss: dict[str, float],
) -> int:
    minutes = int(np.ceil(args.minutes))

    def in_minute(xs: list[tuple[float, float]], m: int | None) -> list[float]:
        return [v for t, v in xs if m is None or t0 + 60 * m <= t < t0 + 60 * (m + 1)]

    def row(m: int | None) -> dict[str, Any]:
        return {
            "stored_lag_p99_s": _pct(in_minute(s.stored_lag, m), 99),
            "rollup_lag_max_s": max(in_minute(s.rollup_lag, m), default=None),
            "alarm_p99_s": _pct(in_minute(s.alarm, m), 99),
            "alarms": len(in_minute(s.alarm, m)),
            "longest_pause_s": max(in_minute(s.pause, m), default=None),
            "longest_swap_s": max(in_minute(s.swap, m), default=None),
            "api_p95_s": {k: _pct(in_minute(v, m), 95) for k, v in sorted(s.api.items())},
        }

    print(
        f"{'minute':>6} {'stored p99':>10} {'rollup lag':>10} {'alarm p99':>9} {'pause':>7} {'swap':>7}"
        "  API p95 per route (s)"
    )
    for m in [*range(minutes), None]:
        r = row(m)
        label = "all" if m is None else str(m + 1)
        print(
            f"{label:>6} {r['stored_lag_p99_s'] or '-':>10} {r['rollup_lag_max_s'] or '-':>10}"
            f" {r['alarm_p99_s'] or '-':>9} {r['longest_pause_s'] or '-':>7} {r['longest_swap_s'] or '-':>7}"
            f"  {r['api_p95_s']}"
        )
    for t, what in s.events:
        print(f"  at {t - t0:6.1f} s: {what}")
    lost, doubled = max(0, published - stored), max(0, stored - published)
    print(f"readings published {published}, stored {stored}: lost {lost}, doubled {doubled}")
    print(f"leaks: {len(s.alarm) + s.missed}, alarmed within 30 s {len(s.alarm)}, missed {s.missed}")
    print(f"CPU s per service: {cpu}; memory growth MB: {rss}")
    overall = row(None)
    print(
        json.dumps(
            {
                "bench": "platform",
                "devices": args.devices,
                "interval_s": args.interval,
                "minutes": args.minutes,
                "readings_per_s": round(args.devices * len(GAS) / args.interval),
                **overall,
                "per_minute": [row(m) for m in range(minutes)],
                "published": published,
                "stored": stored,
                "lost": lost,
                "doubled": doubled,
                "leaks_missed": s.missed,
                "cpu_s": cpu,
                "memory_growth_mb": rss,
                "events": [(round(t - t0, 1), w) for t, w in s.events],
            }
        )
    )
    return 0

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
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import platform_load as load
from benchmarks.harness import ensure_accounts, free_port, remove_accounts, scratch_db
from benchmarks.live_clients import Db, gateway_client, http_get, wait_for
from benchmarks.platform_model import GAS, NORMAL, bench_model
from benchmarks.platform_report import report
from benchmarks.process_tree import tree_cpu_s, tree_rss_mb


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, default=10_000, help="gas detectors publishing (4 readings each)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a device's readings")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the loaded run")
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--leak-every", type=float, default=5.0, help="seconds between injected gas leaks")
    parser.add_argument("--api-rate", type=float, default=10.0, help="API requests per second")
    parser.set_defaults(func=run)


def _publisher(gateways: list[dict[str, Any]], park: str, interval: float, stop: Any, counts: Any, i: int) -> None:
    """Publish every device of these gateways every ``interval`` s (QoS 1), counting readings."""
    from ingest.cli import die_with_parent

    die_with_parent()  # a benchmark killed mid-run must not leave its load running
    from smartpark.contract import gateway_topic

    clients = [
        (gateway_client(gw), gateway_topic(park, gw["enterprise"], gw["code"]), [d["code"] for d in gw["devices"]])
        for gw in gateways
    ]
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
    wait_for(lambda: http_get(f"{base}/readyz") == 200, 120, "the API")
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
    wait_for(lambda: _alerting_sees(db_url, leak_ids), 120, "the alerting service")
    samples = load.Samples()
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
        threading.Thread(target=load.leaks, args=(db_url, code, leak_gw, leak_ids, args.leak_every, end, samples)),
        threading.Thread(target=load.probe, args=(db_url, code, probe_gw, leak_ids, end, samples)),
        threading.Thread(target=load.rollup_probe, args=(db_url, leak_ids["pr0000"], end, samples)),
        threading.Thread(target=load.api, args=(base, token, park_id, args.api_rate, end, samples)),
        threading.Thread(target=load.heartbeats, args=(db_url, end, samples)),
        threading.Thread(target=load.disturb, args=(base, token, db_url, code, sup, started, end, samples)),
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
    return report(args, samples, started, published, stored, cpu, rss)


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


def _alerting_sees(db_url: str, leak_ids: dict[str, int]) -> bool:

    with Db(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM service_heartbeats WHERE service = 'alerting' AND beat_at > now() - interval '5 s'"
        ).fetchone()
    return bool(row and row[0])


def _cpu(child: Any) -> float:
    return tree_cpu_s(child.proc.pid) if child.proc else 0.0


def _rss(child: Any) -> float:
    return tree_rss_mb(child.proc.pid) if child.proc else 0.0


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

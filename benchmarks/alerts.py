"""`smartpark bench alerts`: publish → webhook latency of threshold alarms under telemetry load.

A bench park of gas detectors is loaded into the registry and the broker; the alerting service
runs in this process with the default rules on every series and a local webhook receiver for
emergency management. Background gateways (separate processes) publish normal readings at
``--rate`` readings/s; meanwhile combustible-gas crossings are injected on devices kept out of
the background, and each one is timed from its publish to the receipt of its signed webhook.
The same injections without background load, measured first in the same run, are the baseline.
Everything happens in a scratch database created for the run and dropped after it.
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing as mp
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import InboxTap, ensure_accounts, remove_accounts, scratch_db
from benchmarks.webhook_sink import Hit, WebhookSink

HOOK_GROUP_BY = ("alertname", "device")
METRICS = ("safety.lel_pct", "safety.h2s_ppm", "safety.co_ppm", "safety.o2_pct")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=int, default=20_000, help="background readings per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the loaded phase")
    parser.add_argument("--injections", type=int, default=60, help="threshold crossings in the loaded phase")
    parser.add_argument("--baseline-injections", type=int, default=20, help="crossings without load")
    parser.add_argument(
        "--load",
        choices=("sim", "own"),
        default="sim",
        help="background publisher: `smartpark sim run` on a generated park, or this "
        "module's own gas-detector gateways",
    )
    parser.add_argument(
        "--sim-series",
        type=int,
        default=4000,
        help="sim load: about this many series, published every series/rate seconds",
    )
    parser.add_argument("--gateways", type=int, default=4, help="own load: gateways")
    parser.add_argument("--devices", type=int, default=125, help="own load: gas detectors per gateway")
    parser.add_argument("--publishers", type=int, default=2, help="own load: publisher processes")
    parser.set_defaults(func=run)


def injection_enterprise(code: str, spare: int) -> dict[str, Any]:
    devs = [{"code": f"inj{i:04d}", "kind": "gas_detector", "zone": "INJ"} for i in range(spare)]
    return {
        "code": "inj",
        "name": "injections",
        "gateways": [
            {"code": "gw1", "username": f"{code}.inj.gw1", "password": secrets.token_urlsafe(12), "devices": devs}
        ],
    }


def series_of(model: dict[str, Any]) -> int:
    from smartpark.catalogue import DEVICE_KINDS

    return sum(
        len(d.get("metrics") or DEVICE_KINDS[d["kind"]])
        for e in model["parks"][0]["enterprises"]
        for g in e.get("gateways", [])
        for d in g.get("devices", [])
    )


def sim_model(code: str, series: int) -> dict[str, Any]:
    """A generated park of about ``series`` series (the simulator's model, 40 series a company)."""
    from device_sim.model import generate_model

    return generate_model(enterprises=max(1, round(series / 40)), park=code, seed=11)


def bench_model(code: str, gateways: int, devices: int, spare: int) -> dict[str, Any]:
    """One enterprise per gateway; the first gateway also has ``spare`` detectors for injections."""
    ents = []
    for g in range(gateways):
        devs = [{"code": f"gd{i:04d}", "kind": "gas_detector", "zone": f"Z{i % 10}"} for i in range(devices)]
        if g == 0:
            devs += [{"code": f"inj{i:04d}", "kind": "gas_detector", "zone": "INJ"} for i in range(spare)]
        ents.append(
            {
                "code": f"e{g}",
                "name": f"bench {g}",
                "gateways": [
                    {
                        "code": "gw1",
                        "username": f"{code}.e{g}.gw1",
                        "password": secrets.token_urlsafe(12),
                        "devices": devs,
                    }
                ],
            }
        )
    return {"parks": [{"code": code, "name": "bench", "enterprises": ents}]}


def _publisher(
    url: str,
    park: str,
    gws: list[dict[str, Any]],
    devices: int,
    rate: float,
    seconds: float,
    counter: Any,
    ready: Any,
    go: Any,
) -> None:
    """Background load of one process: every gateway publishes rounds of all its devices."""
    from smartpark.broker_admin import gateway_client_id
    from smartpark.contract import gateway_topic
    from smartpark.mqtt import BrokerTarget, connect, make_client

    clients = []
    for gw in gws:
        target = BrokerTarget.parse(url).with_credentials(gw["username"], gw["password"])
        c = make_client(gateway_client_id(gw["username"]), target=target, clean_start=True, session_expiry=0)
        connect(c)
        clients.append((c, gateway_topic(park, gw["enterprise"], "gw1")))
    ready.release()
    go.wait()
    # A few pre-rendered payloads per gateway with the timestamp spliced in: the load generator
    # must leave the cores to the service it loads.
    rng = np.random.default_rng()
    templates = []
    for _ in range(8):
        noise = rng.random((devices, 3))
        body = {
            f"gd{i:04d}": [
                {
                    "ts": 0,
                    "values": {
                        "safety.lel_pct": round(noise[i, 0] * 5, 2),
                        "safety.h2s_ppm": round(noise[i, 1] * 2, 2),
                        "safety.co_ppm": round(noise[i, 2] * 5, 2),
                        "safety.o2_pct": 20.9,
                    },
                }
            ]
            for i in range(devices)
        }
        templates.append(json.dumps(body, separators=(",", ":")).split('"ts":0'))
    per_round = devices * len(METRICS) * len(clients)
    interval = per_round / rate
    start = time.time()
    n = 0
    while time.time() - start < seconds:
        stamp = f'"ts":{int(time.time() * 1000)}'
        for c, topic in clients:
            c.publish(topic, stamp.join(templates[n % len(templates)]), qos=1)
        n += 1
        with counter.get_lock():
            counter.value += per_round
        delay = start + n * interval - time.time()
        if delay > 0:
            time.sleep(delay)
    for c, _ in clients:
        c.disconnect()
        c.loop_stop()


def committed_at(conn: Any) -> dict[str, float]:
    """device -> when the first firing notification of its lel-level1 alarm was committed."""
    rows = conn.execute(
        "SELECT a.labels->>'device', min(extract(epoch FROM n.created_at)) FROM alerts a"
        " JOIN alert_notified x ON x.alert_id = a.alert_id AND x.status = 'firing'"
        " JOIN alert_notifications n ON n.notification_id = x.notification_id"
        " WHERE a.rule_id = 'lel-level1' GROUP BY 1"
    ).fetchall()
    return {d: float(t) for d, t in rows}


def _sim_load(
    background: dict[str, Any], args: argparse.Namespace, *, settle_s: float, inject: Callable[[int, float], None]
) -> tuple[int, float]:
    """`smartpark sim run` in its own process publishes the generated park (injection devices
    left out) every series/rate seconds while the crossings are injected."""
    from device_sim.model import write_model

    interval = max(0.1, series_of(background) / args.rate)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "park.yaml"
        write_model(background, path)
        started = time.time()
        sim = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "smartpark.cli",
                "sim",
                "run",
                "--model",
                str(path),
                "--interval",
                f"{interval:.3f}",
                "--duration",
                f"{args.seconds + settle_s + 1:.1f}",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(settle_s + 1.0)  # connect, then let the load settle before timing
            inject(args.injections, args.seconds)
            out, _ = sim.communicate(timeout=120)
        finally:
            if sim.poll() is None:
                sim.kill()
    summary = json.loads(out.decode().strip().splitlines()[-1])
    return int(summary["readings"]), float(summary["seconds"]) or time.time() - started


def _own_load(
    model: dict[str, Any],
    code: str,
    args: argparse.Namespace,
    settings: Any,
    inject: Callable[[int, float], None],
    injecting: str,
) -> tuple[int, float]:
    from smartpark.mqtt import mqtt_url

    ctx = mp.get_context("spawn")
    counter, ready, go = ctx.Value("q", 0), ctx.Semaphore(0), ctx.Event()
    gws = [
        {"username": e["gateways"][0]["username"], "password": e["gateways"][0]["password"], "enterprise": e["code"]}
        for e in model["parks"][0]["enterprises"]
        if e["code"] != injecting  # its gateway's one connection is the injector's
    ]
    shares = [gws[i :: args.publishers] for i in range(args.publishers)]
    procs = [
        ctx.Process(
            target=_publisher,
            args=(
                mqtt_url(settings),
                code,
                share,
                args.devices,
                args.rate / args.publishers,
                args.seconds + 2,
                counter,
                ready,
                go,
            ),
            daemon=True,
        )
        for share in shares
        if share
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire(timeout=30)
    go.set()
    start = time.time()
    time.sleep(2.0)  # let the load settle before timing
    inject(args.injections, args.seconds)
    published, seconds = counter.value, time.time() - start
    for p in procs:
        p.join(timeout=30)
    return published, seconds


@dataclass
class Phase:
    name: str
    sent: dict[str, float] = field(default_factory=dict)  # device -> publish time
    received: dict[str, float] = field(default_factory=dict)  # device -> the service got the message
    got: dict[str, float] = field(default_factory=dict)  # device -> first firing webhook receipt
    firing_hits: dict[int, int] = field(default_factory=dict)  # alert_id -> notifications saying firing

    def figures(self, committed: dict[str, float] | None = None) -> dict[str, Any]:
        """Latency figures; with ``committed`` (device -> when its notification was committed)
        also the split: publish → committed (evaluation) and committed → received (delivery)."""
        lat = np.array([self.got[d] - t for d, t in self.sent.items() if d in self.got]) * 1000
        split: dict[str, Any] = {}
        if committed:
            ev = np.array([committed[d] - t for d, t in self.sent.items() if d in committed]) * 1000
            dl = np.array([self.got[d] - committed[d] for d in self.got if d in committed]) * 1000
            split = {
                "commit_p50_ms": round(float(np.percentile(ev, 50)), 1) if ev.size else None,
                "deliver_p50_ms": round(float(np.percentile(dl, 50)), 1) if dl.size else None,
            }
        svc = np.array([self.got[d] - self.received[d] for d in self.got if d in self.received]) * 1000
        if svc.size:
            split["service_p50_ms"] = round(float(np.percentile(svc, 50)), 1)
            split["service_p99_ms"] = round(float(np.percentile(svc, 99)), 1)
        return {
            **split,
            "injected": len(self.sent),
            "received": len(lat),
            "missed": len(self.sent) - len(lat),
            "duplicated": sum(n - 1 for n in self.firing_hits.values() if n > 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
            "p99_ms": round(float(np.percentile(lat, 99)), 1) if lat.size else None,
            "max_ms": round(float(lat.max()), 1) if lat.size else None,
        }


def run(args: argparse.Namespace) -> int:
    import psycopg
    from prometheus_client import CollectorRegistry

    from alerting import routing_store
    from alerting.metrics import AlertingMetrics
    from alerting.routing import inhibit_rules_from_list
    from alerting.rules import EFFECTIVE_RATE_TODAY, SILENCE_TYPES, default_document, default_rules
    from alerting.service import AlertingService
    from smartpark.broker_admin import gateway_client_id
    from smartpark.contract import gateway_topic
    from smartpark.mqtt import BrokerTarget, connect, make_client, mqtt_url
    from smartpark.registry import broker_accounts, load_model
    from smartpark.settings import get_settings

    settings = get_settings()
    code = f"bench-{secrets.token_hex(3)}"
    spare = args.injections + args.baseline_injections
    if args.load == "sim":
        background = sim_model(code, args.sim_series)
        model = copy.deepcopy(background)
        model["parks"][0]["enterprises"].append(injection_enterprise(code, spare))
        inj_ent = "inj"
    else:
        model = bench_model(code, args.gateways, args.devices, spare)
        inj_ent = "e0"
    with scratch_db("smartpark_bench_alerts", settings) as scratch:
        url = scratch.url
        conn = psycopg.connect(url, autocommit=True)
        with conn.transaction():
            load_model(conn, model)
        ensure_accounts(settings, broker_accounts(model))
        time.sleep(2.0)  # the broker persists its account file after changes: let it settle
        row = conn.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()
        assert row is not None
        park_id = int(row[0])
        sink = WebhookSink()
        routing_store.create_receiver(
            conn,
            name=f"emergency-{code}",
            park_id=park_id,
            categories=["safety"],
            channel="webhook",
            url=sink.url,
            secret=sink.secret,
            group_by=HOOK_GROUP_BY,
            group_interval_s=0,
        )
        rules = [
            replace(r, scope=replace(r.scope, parks=(code,)))
            for r in default_rules()
            if r.condition.type not in SILENCE_TYPES and r.metric not in ("device.online", EFFECTIVE_RATE_TODAY)
        ]
        metrics = AlertingMetrics.create(CollectorRegistry())
        service = AlertingService(
            settings=settings.model_copy(
                update={"alerting_share_group": f"alerting-{code}", "webhook_allowed_networks": ["127.0.0.0/8"]}
            ),
            rules=rules,
            inhibit=inhibit_rules_from_list(default_document()["inhibit"]),
            metrics=metrics,
            client_id=f"alerting-{code}",
            tick_s=1.0,
            session_expiry_s=60,
            parks=(code,),
            connect=lambda: psycopg.connect(url, autocommit=True),
        )
        phase = Phase("idle")

        def on_hit(hit: Hit) -> None:
            for a in hit.payload["alerts"]:
                if (
                    a["status"] == "firing"
                    and a["labels"]["alertname"] == "lel-level1"
                    and a["labels"]["device"] in phase.sent
                ):
                    phase.got.setdefault(a["labels"]["device"], hit.at)
                    phase.firing_hits[a["alert_id"]] = phase.firing_hits.get(a["alert_id"], 0) + 1

        sink.on_hit = on_hit
        service.start()
        inj_prefix = f"{settings.topic_root}/{code}/{inj_ent}/"

        def note(msg: Any) -> None:
            if msg.topic.startswith(inj_prefix):
                for dev in json.loads(msg.payload):
                    phase.received.setdefault(dev, msg.received_ms / 1000)

        service.inbox = InboxTap(service.inbox, note)  # type: ignore[assignment]
        service.ready.wait(10)
        loop = threading.Thread(target=service.run, name="alerting-loop", daemon=True)
        loop.start()

        gw0 = next(e for e in model["parks"][0]["enterprises"] if e["code"] == inj_ent)["gateways"][0]
        target = BrokerTarget.parse(mqtt_url(settings)).with_credentials(gw0["username"], gw0["password"])
        injector = make_client(gateway_client_id(gw0["username"]), target=target, clean_start=True, session_expiry=0)
        connect(injector)
        topic = gateway_topic(code, inj_ent, "gw1")
        spares = iter(range(spare))

        def inject(count: int, seconds: float) -> None:
            for _ in range(count):
                dev = f"inj{next(spares):04d}"
                phase.sent[dev] = time.time()
                body = {dev: [{"ts": int(time.time() * 1000), "values": {"safety.lel_pct": 30.0}}]}
                injector.publish(topic, json.dumps(body), qos=1)
                time.sleep(seconds / count)

        def settle(timeout: float = 10.0) -> None:
            end = time.time() + timeout
            while time.time() < end and len(phase.got) < len(phase.sent):
                time.sleep(0.05)
            time.sleep(0.5)  # a duplicate would arrive now

        results: dict[str, Any] = {}
        try:
            inject(args.baseline_injections, max(2.0, args.baseline_injections * 0.1))
            settle()
            results["idle"] = phase.figures(committed_at(conn))

            phase = Phase("load")
            readings_before = metrics.readings._value.get()
            if args.load == "sim":
                published, load_seconds = _sim_load(background, args, settle_s=2.0, inject=inject)
            else:
                published, load_seconds = _own_load(model, code, args, settings, inject, inj_ent)
            evaluated = metrics.readings._value.get() - readings_before
            settle()
            results["load"] = phase.figures(committed_at(conn))
            results["load"]["published_per_s"] = round(published / load_seconds)
            results["load"]["evaluated_per_s"] = round(evaluated / load_seconds)
        finally:
            injector.disconnect()
            injector.loop_stop()
            service.stop_event.set()
            loop.join(timeout=10)
            service.stop()
            sink.close()
            conn.close()
            remove_accounts(settings, broker_accounts(model))

    print(
        f"{'phase':<6} {'injected':>8} {'received':>8} {'missed':>6} {'dup':>4} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8}"
    )
    for name in ("idle", "load"):
        r = results[name]
        print(
            f"{name:<6} {r['injected']:>8} {r['received']:>8} {r['missed']:>6} {r['duplicated']:>4} "
            f"{r['p50_ms']!s:>8} {r['p99_ms']!s:>8} {r['max_ms']!s:>8}"
        )
    load = results["load"]
    print(f"background load: {load['published_per_s']} readings/s published, {load['evaluated_per_s']} evaluated/s")
    for name in ("idle", "load"):
        r = results[name]
        print(
            f"{name}: publish -> notification committed p50 {r.get('commit_p50_ms')} ms, "
            f"committed -> webhook received p50 {r.get('deliver_p50_ms')} ms; "
            f"service receipt -> webhook p50 {r.get('service_p50_ms')} ms, p99 {r.get('service_p99_ms')} ms"
        )
    print(
        json.dumps(
            {
                "bench": "alerts",
                "load": args.load,
                "park": code,
                "rate_target": args.rate,
                **{f"{ph}_{k}": v for ph in ("idle", "load") for k, v in results[ph].items()},
                "target_p99_ms": 250,
                "met": bool(
                    load["p99_ms"] is not None
                    and load["p99_ms"] < 250
                    and load["missed"] == 0
                    and load["duplicated"] == 0
                ),
            }
        )
    )
    return 0

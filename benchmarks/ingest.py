"""`smartpark bench ingest`: readings committed per second, MQTT to TimescaleDB, end to end.

Publishers run in their own processes with gateways' own broker accounts; `smartpark ingest`
runs as in production; what counts is what the workers report as committed (their Prometheus
counters), checked against the database at the end. In the same run a naive consumer (one
INSERT per reading in autocommit, messages acknowledged on receipt) takes the 100-reading
workload, so the ratio is measured side by side. Everything happens in a scratch database and
unique parks on the configured broker, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from benchmarks.harness import (
    BackendCpu,
    CpuMeter,
    IngestProcess,
    ensure_accounts,
    free_port,
    process_cpu_s,
    remove_accounts,
    scratch_db,
)
from benchmarks.ingest_naive import naive_consumer

DEVICES_PER_GATEWAY = 25  # elec meters with 4 metrics each: 100 readings per gateway message
METRICS = ("elec.import_kwh", "elec.export_kwh", "elec.power_kw", "elec.pf")


def configure(parser: argparse.ArgumentParser) -> None:
    from smartpark.settings import get_settings

    parser.add_argument(
        "--messages-100", type=int, default=4000, help="messages of 100 readings (default 4000 = 400 000 readings)"
    )
    parser.add_argument("--messages-1", type=int, default=40000, help="messages of 1 reading (default 40 000)")
    parser.add_argument("--workers", type=int, default=1, help="ingest processes (default 1)")
    parser.add_argument(
        "--partitioned",
        action="store_true",
        help="workers split the enterprises (one per publisher) instead of sharing a subscription",
    )
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes (default 2)")
    parser.add_argument("--naive-seconds", type=float, default=8.0, help="how long the naive baseline runs (default 8)")
    settings = get_settings()
    parser.add_argument("--batch-max-readings", type=int, default=settings.ingest.batch_max_readings)
    parser.add_argument("--batch-max-ms", type=int, default=settings.ingest.batch_max_ms)
    parser.add_argument(
        "--broker",
        choices=("own", "shared"),
        default="own",
        help="own: a fresh broker with the project's configuration, started for "
        "the run (default); shared: the configured/machine-wide broker",
    )
    parser.add_argument("--log-level", default="WARNING", help="of the ingest workers")
    parser.add_argument("--quick", action="store_true", help="a fifth of the messages, 4 s baseline")
    parser.set_defaults(func=run)


@dataclass(frozen=True, slots=True)
class Gateway:
    enterprise: str
    username: str
    password: str


def bench_model(park: str, gateways: int) -> tuple[dict[str, Any], list[Gateway]]:
    gws = [Gateway(f"e{i}", f"{park}.e{i}.gw1", secrets.token_urlsafe(16)) for i in range(gateways)]
    model = {
        "parks": [
            {
                "code": park,
                "name": park,
                "grid_region": "east",
                "enterprises": [
                    {
                        "code": g.enterprise,
                        "name": g.enterprise,
                        "industry": "other",
                        "gateways": [
                            {
                                "code": "gw1",
                                "username": g.username,
                                "password": g.password,
                                "devices": [
                                    {"code": f"m{d:02d}", "kind": "elec_meter"} for d in range(DEVICES_PER_GATEWAY)
                                ],
                            }
                        ],
                    }
                    for g in gws
                ],
            }
        ]
    }
    return model, gws


# -- publishers (separate processes) --------------------------------------------------------


def _batch_payloads(park: str, ent: str, base_ms: int) -> tuple[str, Any]:
    from smartpark.contract import gateway_topic

    template = (
        "{"
        + ",".join(
            f'"m{d:02d}":{{"ts":TS,"values":{{"elec.import_kwh":N.{d:02d},"elec.export_kwh":0.5,'
            f'"elec.power_kw":{d}.25,"elec.pf":0.9{d % 10}}}}}'
            for d in range(DEVICES_PER_GATEWAY)
        )
        + "}"
    )
    topic = gateway_topic(park, ent, "gw1")

    def payload(i: int) -> tuple[str, bytes]:
        return topic, template.replace("TS", str(base_ms + i)).replace("N", str(i)).encode()

    return topic, payload


def _single_payloads(park: str, ent: str, base_ms: int) -> tuple[str, Any]:
    from smartpark.contract import device_topic

    topics = [device_topic(park, ent, f"m{d:02d}") for d in range(DEVICES_PER_GATEWAY)]

    def payload(i: int) -> tuple[str, bytes]:
        d, k = i % DEVICES_PER_GATEWAY, i // DEVICES_PER_GATEWAY
        return topics[d], b'{"ts":%d,"values":{"elec.power_kw":%d.5}}' % (base_ms + k, k % 1000)

    return topics[0], payload


def _publisher(
    mqtt_url: str, gw: Gateway, park: str, shape: str, messages: int, base_ms: int, ready: Any, go: Any, results: Any
) -> None:
    from smartpark import mqtt as sp_mqtt
    from smartpark.broker_admin import gateway_client_id

    make = _batch_payloads if shape == "batch" else _single_payloads
    _topic, payload = make(park, gw.enterprise, base_ms)
    acked = [0]
    client = sp_mqtt.make_client(
        gateway_client_id(gw.username),
        target=sp_mqtt.BrokerTarget.parse(mqtt_url).with_credentials(gw.username, gw.password),
        clean_start=True,
        session_expiry=0,
    )
    client.on_publish = lambda *_a: acked.__setitem__(0, acked[0] + 1)
    sp_mqtt.connect(client)
    ready.release()
    go.wait()
    started = time.time()
    for i in range(messages):
        topic, body = payload(i)
        client.publish(topic, body, qos=1)
    published = time.time()
    while acked[0] < messages:
        time.sleep(0.01)
    results.put({"started": started, "published": published, "acked": time.time()})
    client.disconnect()
    client.loop_stop()


def _publish(
    mqtt_url: str, gws: list[Gateway], park: str, shape: str, messages: int, base_ms: int
) -> tuple[list[Any], Any]:
    """Start one publisher process per gateway, connected and waiting; return (procs, go)."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    share = [messages // len(gws) + (1 if i < messages % len(gws) else 0) for i in range(len(gws))]
    procs = [
        ctx.Process(target=_publisher, args=(mqtt_url, gw, park, shape, n, base_ms, ready, go, results), daemon=True)
        for gw, n in zip(gws, share, strict=True)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        if not ready.acquire(timeout=60):
            raise RuntimeError("a publisher could not connect to the broker within 60 s")
    return procs, (go, results, len(procs))


# -- the ingest service ---------------------------------------------------------------------


def start_ingest(args: argparse.Namespace, db_url: str, mqtt_url: str, park: str) -> IngestProcess:
    return IngestProcess(
        db_url=db_url,
        park=park,
        workers=args.workers,
        mqtt_url=mqtt_url,
        log_level=args.log_level,
        extra=[
            "--batch-max-readings",
            str(args.batch_max_readings),
            "--batch-max-ms",
            str(args.batch_max_ms),
            *(["--partitioned"] if args.partitioned else []),
        ],
    )


def _run_workload(
    service: IngestProcess,
    meter: CpuMeter,
    mqtt_url: str,
    gws: list[Gateway],
    park: str,
    shape: str,
    messages: int,
    base_ms: int,
) -> dict[str, Any]:
    readings = messages * (len(METRICS) * DEVICES_PER_GATEWAY if shape == "batch" else 1)
    stored0, msgs0 = service.metric("readings_stored_total"), service.metric("messages_total")
    procs, (go, results, n) = _publish(mqtt_url, gws, park, shape, messages, base_ms)
    meter.start()
    go.set()
    started = time.time()
    last_progress, last_value = time.monotonic(), 0.0
    while True:
        # Polled slowly (scrapes cost the workers CPU); the end time is the last commit's.
        time.sleep(0.5)
        stored = service.metric("readings_stored_total") - stored0
        if stored >= readings:
            break
        if stored > last_value:
            last_progress, last_value = time.monotonic(), stored
        elif time.monotonic() - last_progress > 60:
            break  # stalled: report what was committed
    finished = max(service.samples("smartpark_ingest_last_commit_timestamp_seconds"), default=time.time())
    cpu = {k: v or 0.0 for k, v in meter.spent().items()}
    pubs = [results.get(timeout=60) for _ in range(n)]
    for p in procs:
        p.join(10)
    started = min([started, *(p["started"] for p in pubs)])
    elapsed = finished - started
    published_s = max(p["published"] for p in pubs) - started
    handled = service.metric("messages_total") - msgs0
    return {
        "shape": shape,
        "messages": messages,
        "readings": readings,
        "stored": int(stored),
        "seconds": elapsed,
        "readings_per_s": stored / elapsed,
        "messages_per_s": handled / elapsed,
        "publish_messages_per_s": messages / published_s if published_s > 0 else 0.0,
        "cpu_us_per_reading": {k: v / max(stored, 1) * 1e6 for k, v in cpu.items()},
    }


def cpu_meter(service: IngestProcess, db_url: str, dbname: str, broker_pid: int | None) -> CpuMeter:
    """CPU of the ingest workers, their database backends (the server runs on this machine)
    and the broker."""
    return CpuMeter(
        {
            "ingest": service.cpu_s,
            "database": BackendCpu(db_url, dbname=dbname, application="smartpark-ingest").total,
            "broker": (lambda: process_cpu_s(broker_pid)) if broker_pid else (lambda: 0.0),
        }
    )


# -- the naive baseline ---------------------------------------------------------------------


def _run_naive(
    db_url: str, mqtt_url: str, gws: list[Gateway], park: str, seconds: float, messages: int, base_ms: int
) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(db_url) as conn:
        devices = {
            f"{e}/{d}": i
            for i, e, d in conn.execute(
                "SELECT d.device_id, e.code, d.code FROM devices d JOIN enterprises e USING (enterprise_id)"
                " JOIN parks p USING (park_id) WHERE p.code = %s",
                (park,),
            ).fetchall()
        }
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Semaphore(0), ctx.Queue()
    consumer = ctx.Process(target=naive_consumer, args=(db_url, mqtt_url, park, devices, seconds, ready, results))
    consumer.start()
    if not ready.acquire(timeout=60):
        raise RuntimeError("the naive consumer did not start within 60 s")
    procs, (go, pub_results, n) = _publish(mqtt_url, gws, park, "batch", messages, base_ms)
    go.set()
    result: dict[str, Any] = results.get(timeout=seconds + 120)
    consumer.join(30)
    for _ in range(n):
        pub_results.get(timeout=120)
    for p in procs:
        p.join(10)
    return result


# -- orchestration --------------------------------------------------------------------------


def _per_cpu_s(workload: dict[str, Any]) -> float:
    """Readings committed per CPU-second spent by ingest, database and broker together."""
    return 1e6 / max(sum(workload["cpu_us_per_reading"].values()), 1e-9)


@contextmanager
def _own_broker(settings: Any) -> Iterator[Any]:
    """A broker of our own, configured like the local one, on a free port, removed afterwards:
    the machine-wide broker also carries everyone's sessions, which is not what is measured."""
    import shutil
    import tempfile
    from pathlib import Path

    from operations.services import mosquitto

    state = Path(tempfile.mkdtemp(prefix="smartpark-bench-"))
    state.chmod(0o755)  # the broker drops to its own user
    own = settings.model_copy(
        update={"state_dir": state, "mqtt_port": free_port(), "mqtt_url": None, "mqtt_admin_url": None}
    )
    try:
        mosquitto.start(own)
        yield own
    finally:
        mosquitto.destroy(own)
        shutil.rmtree(state, ignore_errors=True)


def _broker_pid(settings: Any) -> int | None:
    """The local broker's pid, when it is the machine's own (for its CPU figures)."""
    if settings.mqtt_url:
        return None
    from operations.services.local import paths

    try:
        return int(paths(settings).mqtt_pid.read_text().strip())
    except (OSError, ValueError):
        return None


def run(args: argparse.Namespace) -> int:
    import psycopg

    from smartpark.mqtt import mqtt_url
    from smartpark.registry import broker_accounts, load_model
    from smartpark.settings import get_settings

    if args.quick:
        args.messages_100 //= 5
        args.messages_1 //= 5
        args.naive_seconds = min(args.naive_seconds, 4.0)
    settings = get_settings()
    tag = secrets.token_hex(3)
    fast_park, naive_park = f"bench{tag}", f"naive{tag}"
    fast_model, fast_gws = bench_model(fast_park, args.publishers)
    naive_model, naive_gws = bench_model(naive_park, args.publishers)
    base_ms = int(time.time() * 1000) - 86_400_000  # a day ago: inside the accepted window
    with ExitStack() as cleanup:
        scratch = cleanup.enter_context(scratch_db("smartpark_bench", settings))
        db_url, dbname = scratch.url, scratch.name
        brokers = cleanup.enter_context(_own_broker(settings)) if args.broker == "own" else settings
        broker_url = mqtt_url(brokers)
        accounts = broker_accounts(fast_model) + broker_accounts(naive_model)
        if args.broker == "shared":
            cleanup.callback(remove_accounts, brokers, accounts)
        ensure_accounts(brokers, accounts)
        with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
            for model in (fast_model, naive_model):
                load_model(conn, model)
        service = start_ingest(args, db_url, broker_url, fast_park)
        cleanup.callback(service.stop)
        meter = cpu_meter(service, db_url, dbname, _broker_pid(brokers))
        batch = _run_workload(service, meter, broker_url, fast_gws, fast_park, "batch", args.messages_100, base_ms)
        single = _run_workload(
            service, meter, broker_url, fast_gws, fast_park, "single", args.messages_1, base_ms + 10_000_000
        )
        service.stop()
        with psycopg.connect(db_url) as conn:
            row = conn.execute("SELECT count(*) FROM telemetry").fetchone()
            in_db = int(row[0]) if row else 0
        naive = _run_naive(
            db_url, broker_url, naive_gws, naive_park, args.naive_seconds, max(200, args.messages_100 // 4), base_ms
        )
    exact = in_db == batch["readings"] + single["readings"]
    figures = {
        "workers": args.workers,
        "split": "partitioned" if args.partitioned else "shared",
        "publishers": args.publishers,
        "batch100_readings_per_s": round(batch["readings_per_s"]),
        "batch100_messages": batch["messages"],
        "single_messages_per_s": round(single["messages_per_s"]),
        "single_messages_per_s_per_worker": round(single["messages_per_s"] / args.workers),
        "naive_readings_per_s": round(naive["readings_per_s"]),
        "speedup_vs_naive": round(batch["readings_per_s"] / max(naive["readings_per_s"], 1e-9), 1),
        "stored_exactly_once": exact,
        "batch100_cpu_us_per_reading": {k: round(v, 2) for k, v in batch["cpu_us_per_reading"].items()},
        "single_cpu_us_per_message": {k: round(v, 1) for k, v in single["cpu_us_per_reading"].items()},
        "batch100_readings_per_cpu_s": round(_per_cpu_s(batch)),
        "single_messages_per_ingest_cpu_s": round(1e6 / max(single["cpu_us_per_reading"]["ingest"], 1e-9)),
        "load_average": os.getloadavg()[0],
    }
    rows = [
        ("workload", "messages", "readings", "seconds", "readings/s", "messages/s", "publish msg/s"),
        (
            "100 readings/message",
            batch["messages"],
            batch["stored"],
            f"{batch['seconds']:.2f}",
            f"{batch['readings_per_s']:,.0f}",
            f"{batch['messages_per_s']:,.0f}",
            f"{batch['publish_messages_per_s']:,.0f}",
        ),
        (
            "1 reading/message",
            single["messages"],
            single["stored"],
            f"{single['seconds']:.2f}",
            f"{single['readings_per_s']:,.0f}",
            f"{single['messages_per_s']:,.0f}",
            f"{single['publish_messages_per_s']:,.0f}",
        ),
        (
            "naive, 100 readings/message",
            "-",
            naive["stored"],
            f"{naive['seconds']:.2f}",
            f"{naive['readings_per_s']:,.0f}",
            "-",
            "-",
        ),
    ]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print(
            "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
    print()
    print(
        "CPU per reading (µs)      ingest  database  broker*  -> readings per CPU-second".replace(
            "*", "*" if args.broker == "shared" else " "
        )
    )
    for label, w in (("100 readings/message", batch), ("1 reading/message", single)):
        c = w["cpu_us_per_reading"]
        print(f"{label:24s} {c['ingest']:8.1f} {c['database']:9.1f} {c['broker']:8.1f}  -> {_per_cpu_s(w):,.0f}")
    if args.broker == "shared":
        print("* the shared broker's CPU includes everyone else's traffic")
    print(
        f"ingest workers: {args.workers}, publishers: {args.publishers}, "
        f"load average: {os.getloadavg()[0]:.1f}, stored exactly once: {exact} ({in_db} rows)"
    )
    print(json.dumps(figures))
    return 0 if exact else 1

"""`smartpark bench forward`: HJ 212 forwarding to one upstream, from one forwarder process.

1. throughput: a backlog of ``--packets`` packets of ``--outlets`` outlets, drained by
   `smartpark hj212 forward` to a sink platform (benchmarks/hj212_sink.py): packets/s delivered.
2. end-to-end: ``--outlets`` data loggers send every ``--interval`` s through `smartpark hj212
   serve` (packet log and outbox) and the forwarder to the sink; latency = arrival at the sink −
   the logger's QN (its send time, same clock); p50/p99. The gateway is told to store only
   hourly data (--store-cn 2061) while the loggers send real-time data, so it records, queues and
   replies without the MQTT leg, which is ingest's figure (`smartpark bench hj212`).
3. outage: the sink is stopped for ``--outage`` s while the loggers keep sending, then started
   again; every packet must arrive (none lost), the backlog drains at the target's max_rate.

Everything runs in a scratch database, dropped after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from benchmarks.harness import free_port, process_cpu_s, scratch_db
from benchmarks.hj212 import _bench_model
from forwarding import store
from hj212.encode import Pollutant, data_packets, qn_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--outlets", type=int, default=200, help="data loggers, each an outlet of the target")
    parser.add_argument("--packets", type=int, default=20_000, help="backlog drained in the throughput part")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between a logger's uploads")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the end-to-end part")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the upstream is down")
    parser.add_argument("--max-rate", type=float, default=5000.0, help="the target's max_rate (packets/s)")
    parser.set_defaults(func=main)


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=subprocess.PIPE)


def _sink(port: int, out: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = _spawn(["benchmarks.hj212_sink", "--port", str(port), "--out", out], env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(60)


def _received(path: str) -> list[tuple[str, str, float]]:
    with open(path) as f:
        return [tuple(json.loads(line)) for line in f]


def _wait_listening(port: int, timeout: float) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _wait_connected(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT bool_and(connected) FROM hj212_forward_status").fetchone()
            if row and row[0]:
                return
            time.sleep(0.2)
    raise TimeoutError("the forwarder did not connect to the sink")


def _backlog(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM hj212_forward_outbox").fetchone()
        return int(row[0]) if row else 0


def _wait_empty(url: str, timeout: float) -> float:
    start = time.monotonic()
    while _backlog(url) and time.monotonic() - start < timeout:
        time.sleep(0.05)
    return time.monotonic() - start


def _setup(url: str, park: str, outlets: int, port: int, max_rate: float) -> list[tuple[int, str]]:
    from smartpark.registry import load_model

    with psycopg.connect(url, autocommit=True) as conn:
        with conn.transaction():
            load_model(conn, _bench_model(park, outlets))
        rows = conn.execute("SELECT device_id, attributes->>'hj212_mn' FROM devices ORDER BY device_id").fetchall()
        target = {"name": "bench", "host": "127.0.0.1", "port": port, "version": "2017", "reply": True,
                  "over_time_s": 5.0, "re_count": 3, "max_rate": max_rate, "window": 256, "enabled": True}  # fmt: skip
        with conn.transaction():
            store.put_target(
                conn,
                target=target,
                outlets=[{"device_id": d, "mn": f"UP{mn}", "pw": "up", "cns": ["2011"]} for d, mn in rows],
            )
    return [(int(d), str(mn)) for d, mn in rows]


def _fill(url: str, devices: list[tuple[int, str]], n: int) -> None:
    t0 = datetime(2026, 1, 26, 8, tzinfo=SHANGHAI)

    async def go() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            batch: list[store.Recorded] = []
            for i in range(n):
                d, _ = devices[i % len(devices)]
                t = t0 + timedelta(seconds=10 * (i // len(devices)))
                cp = f"DataTime={t:%Y%m%d%H%M%S};a21026-Rtd={i % 97},a21026-Flag=N;a19001-Rtd=9.5,a19001-Flag=N"
                batch.append(store.Recorded(d, "31", "2011", f"{t:%Y%m%d%H%M%S}000", t, cp))
                if len(batch) == 1000:
                    await store.record(conn, packets=batch)
                    batch = []
            if batch:
                await store.record(conn, packets=batch)

    asyncio.run(go())


def throughput(url: str, env: dict[str, str], devices: list[tuple[int, str]], n: int, port: int) -> dict[str, Any]:
    _fill(url, devices, n)
    out = tempfile.mktemp(suffix=".jsonl")
    sink = _sink(port, out, env)
    fwd = _spawn(["smartpark.cli", "hj212", "forward"], env)
    try:
        took = _wait_empty(url, 600)
        cpu = process_cpu_s(fwd.pid) or float("nan")  # start-up included: a conservative figure
    finally:
        _stop(fwd)
        _stop(sink)
    got = _received(out)
    os.unlink(out)
    distinct = len({(mn, qn) for mn, qn, _ in got})
    # from the first packet at the sink to the last: the connection set-up is not forwarding
    span = max(t for *_, t in got) - min(t for *_, t in got) if got else float("nan")
    return {"backlog_packets": n, "delivered_distinct": distinct, "delivered_total": len(got),
            "drain_s": round(took, 2), "packets_per_s": round(n / span, 1) if span else None,
            # CPU-bound figure, steadier on a shared machine: packets per CPU second of the forwarder
            "forwarder_cpu_s": round(cpu, 2), "packets_per_cpu_s": round(n / cpu, 1) if cpu > 0 else None}  # fmt: skip


async def _logger(port: int, mn: str, interval: float, until: float, sent: list[tuple[str, str]]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await asyncio.sleep(interval * (hash(mn) % 1000) / 1000)  # spread the loggers over the interval
    while time.monotonic() < until:
        now = datetime.now(SHANGHAI)
        qn = qn_of(now)
        pollutants = [Pollutant("a21026", {"Rtd": 35.0}), Pollutant("a19001", {"Rtd": 9.5})]
        (frame,) = data_packets(qn=qn, st="31", cn="2011", pw="123456", mn=mn, data_time=now, pollutants=pollutants)
        writer.write(frame)
        await writer.drain()
        await asyncio.wait_for(reader.readuntil(b"\r\n"), 30)  # the gateway's 9014
        sent.append((f"UP{mn}", qn))
        await asyncio.sleep(interval)
    writer.close()


def end_to_end(url: str, env: dict[str, str], devices: list[tuple[int, str]], args: argparse.Namespace,
               port: int) -> dict[str, Any]:  # fmt: skip
    gw_port = free_port()
    gateway = _spawn(["smartpark.cli", "hj212", "serve", "--port", str(gw_port), "--store-cn", "2061"], env)
    out1, out2 = tempfile.mktemp(suffix=".jsonl"), tempfile.mktemp(suffix=".jsonl")
    sink = _sink(port, out1, env)
    fwd = _spawn(["smartpark.cli", "hj212", "forward"], env)
    sent: list[tuple[str, str]] = []
    figures: dict[str, Any] = {}
    try:
        _wait_listening(gw_port, 60)
        _wait_connected(url, 60)  # steady state: the forwarder's start-up is not forwarding latency

        async def loggers(seconds: float) -> None:
            until = time.monotonic() + seconds
            tasks = [asyncio.create_task(_logger(gw_port, mn, args.interval, until, sent)) for _, mn in devices]
            await asyncio.gather(*tasks)

        asyncio.run(loggers(args.duration))
        _wait_empty(url, 60)
        _stop(sink)
        got = _received(out1)
        lat = sorted(t - datetime.strptime(qn, "%Y%m%d%H%M%S%f").replace(tzinfo=SHANGHAI).timestamp()
                     for _, qn, t in got if qn)  # fmt: skip
        figures.update(
            e2e_packets=len(got), e2e_sent=len(sent),
            e2e_p50_ms=round(1000 * lat[len(lat) // 2], 1) if lat else None,
            e2e_p99_ms=round(1000 * lat[int(len(lat) * 0.99)], 1) if lat else None,
        )  # fmt: skip
        # outage: the upstream is down (sink stopped) while the loggers keep sending
        sent.clear()
        asyncio.run(loggers(args.outage))
        queued = _backlog(url)
        sink = _sink(port, out2, env)
        drain = _wait_empty(url, 600)
        time.sleep(0.5)
        _stop(sink)
        after = {(mn, qn) for mn, qn, _ in _received(out2)}
        figures.update(outage_s=args.outage, outage_backlog=queued, outage_drain_s=round(drain, 2),
                       outage_sent=len(sent), outage_delivered=len(after),
                       outage_lost=len(set(sent) - after))  # fmt: skip
    finally:
        for p in (fwd, gateway, sink):
            if p.poll() is None:
                _stop(p)
        for o in (out1, out2):
            if os.path.exists(o):
                os.unlink(o)
    return figures


def main(args: argparse.Namespace) -> int:
    from smartpark.settings import get_settings

    settings = get_settings()
    figures: dict[str, Any] = {"outlets": args.outlets}
    with scratch_db("smartpark_bench_forward", settings) as scratch:
        port = free_port()
        devices = _setup(scratch.url, "fwb", args.outlets, port, args.max_rate)
        env = {**os.environ, "SMARTPARK_DATABASE_URL": scratch.url, "SMARTPARK_FORWARD_RELOAD_S": "5",
               "SMARTPARK_FORWARD_REPORT_S": "0.5"}  # fmt: skip
        figures.update(throughput(scratch.url, env, devices, args.packets, port))
        print(json.dumps(figures), flush=True)
        figures.update(end_to_end(scratch.url, env, devices, args, port))
    print(f"{'figure':<24}{'value':>14}")
    for k, v in figures.items():
        print(f"{k:<24}{v!s:>14}")
    print(json.dumps(figures))
    return 0

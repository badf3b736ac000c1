"""`smartpark bench hj212`: packets/s decoded (pure) and readings/s stored with many loggers.

Decoding is compared with the standard's bit-by-bit CRC loop on the same packets; storing through
the gateway is compared with the same readings published straight to the broker, both stored by
a `smartpark ingest` process into a scratch database created for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from benchmarks.harness import free_port, scratch_db
from hj212.crc import crc16, crc16_reference
from hj212.encode import Pollutant, data_packets, qn_of
from hj212.packet import decode_frame
from ingest.hj212 import mapping

SHANGHAI = ZoneInfo("Asia/Shanghai")
READINGS_PER_UPLOAD = 5


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--packets", type=int, default=20_000, help="packets decoded in the pure part")
    parser.add_argument("--loggers", type=int, default=200, help="concurrent data loggers")
    parser.add_argument("--uploads", type=int, default=10, help="uploads per logger (5 readings each)")
    parser.add_argument("--pure-only", action="store_true", help="skip the part that needs the services")
    parser.set_defaults(func=main)


def sample_frames(n: int) -> list[bytes]:
    """Real-time stack packets as a CEMS logger sends them: five pollutants, measured and corrected."""
    out = []
    for i in range(n):
        pollutants = [
            Pollutant("a21026", {"Rtd": 30.0 + i % 17, "ZsRtd": 41.3 + i % 13}),
            Pollutant("a21002", {"Rtd": 45.5 + i % 11, "ZsRtd": 60.2}),
            Pollutant("a34013", {"Rtd": 4.2, "ZsRtd": 5.6}),
            Pollutant("a19001", {"Rtd": 10.1}),
            Pollutant("a00000", {"Rtd": 12.5 + i % 7}),
        ]
        out += data_packets(
            qn=qn_of(datetime(2026, 1, 26, 8) + timedelta(milliseconds=i)),
            st="31",
            cn="2011",
            pw="123456",
            mn=f"8888888{i % 1000:07d}",
            data_time=datetime(2026, 1, 26, 8, i % 60),
            pollutants=pollutants,
        )
    return out


def _rate(n: int, fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def pure(n: int) -> dict[str, float]:
    frames = sample_frames(n)
    segments = [f[6:-6] for f in frames]

    def decode_all() -> None:
        for f in frames:
            mapping.map_packet(decode_frame(f), tz=SHANGHAI)

    return {
        "decode_packets_per_s": _rate(n, decode_all),
        "crc_table_per_s": _rate(n, lambda: [crc16(s) for s in segments]),
        "crc_standard_loop_per_s": _rate(n, lambda: [crc16_reference(s) for s in segments]),
    }


def _bench_model(park: str, loggers: int) -> dict[str, Any]:
    devices = [
        {
            "code": f"cems{i:03d}",
            "kind": "stack_cems",
            "attributes": {"hj212_mn": f"{park}{i:04d}", "hj212_pw": "123456"},
        }
        for i in range(loggers)
    ]
    return {
        "parks": [
            {
                "code": park,
                "name": "bench",
                "enterprises": [
                    {"code": "e1", "name": "bench", "gateways": [{"code": "gw1", "devices": devices}]},
                ],
            }
        ]
    }


def _values(i: int, k: int) -> dict[str, float]:
    return {
        "stack.so2_mgm3": 30.0 + k % 10,
        "stack.nox_mgm3": 45.0,
        "stack.dust_mgm3": 4.5,
        "stack.o2_pct": 10.0,
        "stack.flow_m3h": 36000.0 + i,
    }


def stored(loggers: int, uploads: int) -> dict[str, float]:
    import psycopg

    from smartpark.registry import load_model
    from smartpark.settings import get_settings

    settings = get_settings()
    park = f"hjb{secrets.token_hex(3)}"
    ingest: subprocess.Popen[bytes] | None = None
    with scratch_db("smartpark_bench_hj212", settings) as scratch:
        url = scratch.url
        try:
            with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
                load_model(conn, _bench_model(park, loggers))
            env = {**os.environ, "SMARTPARK_DATABASE_URL": url}
            ingest = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "smartpark.cli",
                    "ingest",
                    "--park",
                    park,
                    "--group",
                    f"g{park}",
                    "--client-id-prefix",
                    f"bench-{park}",
                    "--session-expiry",
                    "60",
                    "--log-level",
                    "WARNING",
                ],
                env=env,
            )
            _await_ingest(url, park, settings.topic_root)
            total = loggers * uploads * READINGS_PER_UPLOAD
            base_ms = (int(time.time()) // 60 - 2 * uploads - 5) * 60_000
            direct = _direct(url, park, loggers, uploads, base_ms - uploads * 60_000, settings.topic_root)
            port = free_port()
            with tempfile.TemporaryFile() as log:
                gateway_proc = _serve(env, port, log)
                try:
                    gateway = asyncio.run(_through_gateway(url, park, port, loggers, uploads, base_ms))
                except Exception:
                    log.seek(0)
                    sys.stderr.write(log.read()[-4000:].decode(errors="replace"))  # what the gateway said
                    raise
                finally:
                    gateway_proc.terminate()
                    gateway_proc.wait(60)
            return {
                "readings": total,
                "gateway_readings_per_s": total / gateway,
                "direct_mqtt_readings_per_s": total / direct,
            }
        finally:
            if ingest is not None:
                ingest.terminate()
                ingest.wait(60)


PROBE_ROWS = 1  # the reading that shows ingest is subscribed


def _await_ingest(url: str, park: str, root: str, timeout: float = 120.0) -> None:
    """Until ingest has subscribed nothing is queued for it: publish a probe until it is stored."""
    from smartpark.contract import device_topic
    from smartpark.mqtt import connect, make_client, mqtt_url
    from smartpark.settings import get_settings

    client = make_client(f"bench-probe-{park}", url=mqtt_url(get_settings()), clean_start=True, session_expiry=0)
    connect(client)
    body = json.dumps({"ts": int(time.time() * 1000) // 60_000 * 60_000 - 86_400_000, "values": {"stack.o2_pct": 9.0}})
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            client.publish(device_topic(park, "e1", "cems000", root), body, qos=1).wait_for_publish(10)
            try:
                _wait_stored(url, PROBE_ROWS, timeout=1.0)
                return
            except TimeoutError:
                continue
        raise TimeoutError(f"smartpark ingest stored nothing within {timeout} s")
    finally:
        client.disconnect()
        client.loop_stop()


def _wait_stored(url: str, expected: int, timeout: float = 300.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM telemetry").fetchone()
            if row and row[0] >= expected:
                return
            time.sleep(0.05)
    raise TimeoutError(f"fewer than {expected} readings stored after {timeout} s")


def _direct(url: str, park: str, loggers: int, uploads: int, base_ms: int, root: str) -> float:
    """Baseline: the same readings published by one platform client straight to the broker."""
    from smartpark.contract import device_topic
    from smartpark.mqtt import connect, make_client, mqtt_url
    from smartpark.settings import get_settings

    client = make_client(f"bench-direct-{park}", url=mqtt_url(get_settings()), clean_start=True, session_expiry=0)
    connect(client)
    start = time.perf_counter()
    infos = [
        client.publish(
            device_topic(park, "e1", f"cems{i:03d}", root),
            json.dumps({"ts": base_ms + k * 60_000, "values": _values(i, k)}),
            qos=1,
        )
        for k in range(uploads)
        for i in range(loggers)
    ]
    for info in infos:
        info.wait_for_publish(60)
    _wait_stored(url, PROBE_ROWS + loggers * uploads * READINGS_PER_UPLOAD)
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return elapsed


def _serve(env: dict[str, str], port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """`smartpark hj212 serve` as its own process, as it runs in production; waits until it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "smartpark.cli", "hj212", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"smartpark hj212 serve exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise TimeoutError("smartpark hj212 serve did not listen within 30 s")


async def _through_gateway(url: str, park: str, port: int, loggers: int, uploads: int, base_ms: int) -> float:
    from device_sim.hj212_logger import DataLogger

    already = PROBE_ROWS + loggers * uploads * READINGS_PER_UPLOAD  # the probe's and the baseline's rows

    async def one(i: int) -> None:
        lg = DataLogger("127.0.0.1", port, mn=f"{park}{i:04d}", pw="123456")
        await lg.connect()
        for k in range(uploads):
            answer = await lg.upload(_values(i, k), ts_ms=base_ms + k * 60_000, timeout=10, retries=5)
            if answer.cn != "9014":
                raise RuntimeError(f"logger {i} refused: {answer.params}")
        await lg.close()

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(loggers)))
    await asyncio.to_thread(_wait_stored, url, already + loggers * uploads * READINGS_PER_UPLOAD)
    return time.perf_counter() - start


def main(args: argparse.Namespace) -> int:
    figures: dict[str, Any] = {"packets": args.packets}
    figures.update(pure(args.packets))
    if not args.pure_only:
        figures["loggers"] = args.loggers
        figures.update(stored(args.loggers, args.uploads))
    print(f"{'figure':<32}{'value':>14}")
    for key, value in figures.items():
        print(f"{key:<32}{value:>14,.0f}")
    figures["crc_speedup"] = figures["crc_table_per_s"] / figures["crc_standard_loop_per_s"]
    if "gateway_readings_per_s" in figures:
        figures["gateway_vs_direct"] = figures["gateway_readings_per_s"] / figures["direct_mqtt_readings_per_s"]
    print(f"{'crc_speedup':<32}{figures['crc_speedup']:>14.1f}")
    if "gateway_vs_direct" in figures:
        print(f"{'gateway_vs_direct':<32}{figures['gateway_vs_direct']:>14.2f}")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))
    return 0

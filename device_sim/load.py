"""The simulator as a load generator: a small API for benchmarks and fault tests.

Other components drive realistic traffic through the real broker with it, e.g. from an ingest
benchmark or an alerting test (in-process, or in a child process running ``smartpark sim``)::

    from device_sim.load import park_from, backfill, run_realtime
    from device_sim.publisher import Publisher

    park = park_from(model_dict_or_path, enterprises=["e001", "e002"])   # or first=3
    with Publisher(park.gateways, url=broker_url) as pub:  # each gateway: own account, will, QoS 1
        pub.connect()
        summary = backfill(park, pub, start_s=t0, end_s=t0 + 86_400, interval_s=300)
    summary.readings   # values the ingester will accept (what must land in telemetry)

or in one call: ``publish_readings(model, start_s=..., end_s=..., interval_s=..., url=broker_url)``.
Options everywhere: ``faults=FaultConfig.parse("drop=0.01,offline=0.5")``, ``signals=
SignalConfig(leak_per_day=2)`` (make alarms likely). ``broker_url`` is the platform account's
(``smartpark.mqtt.mqtt_url(settings)``) or any other whose ACLs allow the gateways. The model's
gateways must be loaded in the registry and broker first (``smartpark registry load``).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .faults import FaultConfig, Publish, Status
from .hj212 import Hj212Sender, speaks_hj212
from .model import ModelError, SimPark, read_model, sim_parks
from .publisher import Publisher
from .signals import SignalConfig
from .simulation import Round, Simulation


@dataclass
class Summary:
    readings: int = 0  # values in well-formed parts of published messages
    entries: int = 0  # device readings ({"ts", "values"} objects)
    messages: int = 0  # telemetry messages published
    bytes: int = 0
    malformed: int = 0
    seconds: float = 0.0
    ticks: int = 0
    late_ticks: int = 0  # real time: ticks that started later than half an interval
    max_lag_s: float = 0.0
    first_ts_ms: int | None = None
    last_ts_ms: int | None = None
    faults: dict[str, int] = field(default_factory=dict)
    hj212_uploads: int = 0  # sent by data loggers over HJ 212 (not counted above)
    hj212_readings: int = 0  # values in uploads the platform acknowledged (9014)
    hj212_refused: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.readings / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "readings_per_s": round(self.rate, 1)}

    def text(self) -> str:
        text = (
            f"{self.readings} readings ({self.entries} device readings) in {self.messages} "
            f"messages, {self.bytes / 1e6:.1f} MB, {self.seconds:.1f} s: {self.rate:,.0f} readings/s"
        )
        if self.hj212_uploads:
            text += (
                f"; HJ 212: {self.hj212_uploads} uploads, {self.hj212_readings} readings "
                f"acknowledged, refused {self.hj212_refused or 0}"
            )
        return text

    def add_hj212(self, sender: Hj212Sender) -> None:
        sender.drain(timeout=600)  # each upload waits for its reply, slow on a busy platform
        self.hj212_readings = sender.stats.readings
        self.hj212_refused = dict(sender.stats.refused or {})


def park_from(
    model: Mapping[str, Any] | str | Path,
    *,
    park: str | None = None,
    enterprises: Iterable[str] | None = None,
    first: int | None = None,
    seed: int | None = None,
) -> SimPark:
    """One park of a model (dict or file), restricted to some enterprises or the first N."""
    data = read_model(Path(model)) if isinstance(model, str | Path) else model
    parks = sim_parks(data, park=park, enterprises=enterprises, seed=seed)
    if len(parks) != 1:
        raise ModelError(f"the model holds {len(parks)} parks; choose one with park=")
    sim = parks[0]
    if first is not None:
        order = list(dict.fromkeys(g.enterprise for g in sim.gateways))
        keep = set(order[:first])
        sim = SimPark(sim.code, sim.timezone, sim.seed, tuple(g for g in sim.gateways if g.enterprise in keep))
    return sim


def _execute(pub: Publisher, rounds: list[Round], summary: Summary, direct: Hj212Sender | None = None) -> None:
    for r in rounds:
        key = r.gateway.key
        for device_key, entry in r.direct:
            assert direct is not None, "devices routed to HJ 212 without a sender"
            direct.submit(device_key, entry.ts_ms, entry.values)
            summary.hj212_uploads += 1
        for action in r.actions:
            if isinstance(action, Status):
                pub.set_online(key, action.state == "online")
                if action.state == "online":
                    pub.await_online(key)
                continue
            assert isinstance(action, Publish)
            pub.publish(key, action.message.payload)
            summary.messages += 1
            summary.bytes += len(action.message.payload)
            summary.readings += action.message.readings
            summary.entries += action.message.entries
            summary.malformed += action.malformed is not None


def backfill(
    park: SimPark,
    pub: Publisher,
    *,
    start_s: int,
    end_s: int,
    interval_s: int = 300,
    ticks_per_round: int = 12,
    signals: SignalConfig | None = None,
    faults: FaultConfig | None = None,
    progress: Callable[[float, Summary], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    direct: Hj212Sender | None = None,
) -> Summary:
    """Publish the history [start_s, end_s) as fast as the broker acknowledges it.

    ``direct``: HJ 212 loggers for the devices that speak it (see :mod:`device_sim.hj212`)."""
    if interval_s < 1 or end_s <= start_s:
        raise ValueError(f"back-fill needs interval ≥ 1 s and start < end, not {interval_s} s, {start_s}..{end_s}")
    sim = Simulation(park, signals=signals, faults=faults, direct=_direct_keys(park, direct))
    first = -(-start_s // interval_s) * interval_s  # whole intervals inside [start_s, end_s)
    ticks = np.arange(first, end_s, interval_s, dtype=np.int64)
    summary = Summary()
    t0 = clock()
    for i in range(0, len(ticks), ticks_per_round):
        chunk = ticks[i : i + ticks_per_round]
        _execute(pub, sim.rounds(chunk, interval_s, float(chunk[-1])), summary, direct)
        summary.ticks += len(chunk)
        summary.seconds = clock() - t0
        if progress is not None:
            progress(min(1.0, (i + len(chunk)) / len(ticks)), summary)
    _execute(pub, sim.flush(), summary)
    pub.drain(timeout=120)
    if direct is not None:
        summary.add_hj212(direct)
    summary.seconds = clock() - t0
    summary.faults = dict(sim.fault_counts())
    if len(ticks):
        summary.first_ts_ms, summary.last_ts_ms = int(ticks[0]) * 1000, int(ticks[-1]) * 1000
    return summary


def run_realtime(
    park: SimPark,
    pub: Publisher,
    *,
    interval_s: float = 10.0,
    duration_s: float | None = None,
    signals: SignalConfig | None = None,
    faults: FaultConfig | None = None,
    on_tick: Callable[[Summary], None] | None = None,
    clock: Callable[[], float] = time.time,
    direct: Hj212Sender | None = None,
) -> Summary:
    """Publish a reading of every device every ``interval_s`` seconds of wall-clock time."""
    if interval_s < 0.1:
        raise ValueError(f"interval {interval_s} s is below 0.1 s")
    sim = Simulation(park, signals=signals, faults=faults, direct=_direct_keys(park, direct))
    summary = Summary()
    start = clock()
    end = start + duration_s if duration_s is not None else math.inf
    tick = math.ceil(start / interval_s) * interval_s
    try:
        while tick < end:
            delay = tick - clock()
            if delay > 0:
                pub.wait_until(pub.clock() + delay)
            lag = clock() - tick
            summary.max_lag_s = max(summary.max_lag_s, lag)
            summary.late_ticks += lag > interval_s / 2
            ts = int(tick)
            _execute(pub, sim.rounds([ts], interval_s, tick), summary, direct)
            summary.ticks += 1
            summary.first_ts_ms = summary.first_ts_ms or ts * 1000
            summary.last_ts_ms = ts * 1000
            summary.seconds = clock() - start
            if on_tick is not None:
                on_tick(summary)
            tick += interval_s
            if tick < clock() - interval_s:  # hopelessly behind: skip ticks rather than burst
                tick = math.ceil(clock() / interval_s) * interval_s
    except KeyboardInterrupt:
        pass
    _execute(pub, sim.flush(), summary)
    pub.drain(timeout=30)
    if direct is not None:
        summary.add_hj212(direct)
    summary.seconds = clock() - start
    summary.faults = dict(sim.fault_counts())
    return summary


def _direct_keys(park: SimPark, direct: Hj212Sender | None) -> frozenset[str]:
    if direct is None:
        return frozenset()
    return frozenset(d.key for d in park.devices if speaks_hj212(d))


def publish_readings(
    model: Mapping[str, Any] | str | Path,
    *,
    start_s: int,
    end_s: int,
    interval_s: int = 300,
    enterprises: Iterable[str] | None = None,
    first: int | None = None,
    faults: FaultConfig | None = None,
    signals: SignalConfig | None = None,
    url: str,
    max_inflight: int = 1000,
) -> Summary:
    """Connect the model's gateways, back-fill [start_s, end_s) through the broker, disconnect."""
    park = park_from(model, enterprises=enterprises, first=first)
    with Publisher(park.gateways, url=url, max_inflight=max_inflight) as pub:
        pub.connect()
        return backfill(
            park,
            pub,
            start_s=start_s,
            end_s=end_s,
            interval_s=interval_s,
            faults=faults,
            signals=signals,
        )


class ProgressBar:
    """A one-line progress bar on stderr (a line every few seconds when not a terminal)."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.clock = stream or sys.stderr, clock
        self.tty = self.stream.isatty()
        self._last = -math.inf

    def __call__(self, done: float, summary: Summary) -> None:
        now = self.clock()
        if now - self._last < (0.25 if self.tty else 5.0) and done < 1.0:
            return
        self._last = now
        eta = summary.seconds * (1 - done) / done if done > 0 else 0
        bar = "#" * int(done * 30)
        line = (
            f"[{bar:<30}] {done * 100:5.1f}% {summary.readings:>12,} readings "
            f"{summary.rate:>10,.0f}/s  ETA {eta:5.0f} s"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and done >= 1.0:
            self.stream.write("\n")
        self.stream.flush()


def print_summary(summary: Summary, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    out.write(summary.text() + "\n")
    if summary.faults:
        out.write("faults: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.faults.items())) + "\n")
    out.write(json.dumps(summary.as_dict(), sort_keys=True) + "\n")

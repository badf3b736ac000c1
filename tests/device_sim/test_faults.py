"""Faults appear at their configured rates, as the platform would see them after decoding."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from device_sim.faults import FaultConfig, FaultError, GatewayFaults, Publish, Status
from device_sim.hj212 import speaks_hj212
from device_sim.model import generate_model, sim_parks
from device_sim.payloads import Entry, encode
from device_sim.simulation import Simulation
from smartpark.contract import BAD_SHAPE, BAD_VALUE, MALFORMED_JSON, Topic, decode

TOPIC = Topic.parse("smartpark/v1/p/e/gateway/gw01/telemetry")
ROUND_S = 10


def stream(rounds: int, devices: int = 20) -> list[list[Entry]]:
    """Distinct, increasing values per device, so every fault is visible after decoding."""
    return [
        [
            Entry(
                f"d{d}",
                (1_764_000_000 + r * ROUND_S) * 1000,
                {"elec.power_kw": float(r * 1000 + d), "elec.import_kwh": float(r)},
            )
            for d in range(devices)
        ]
        for r in range(rounds)
    ]


def run(config: FaultConfig, rounds: int = 1000, seed: int = 1) -> tuple[GatewayFaults, list]:
    faults = GatewayFaults("p/e/gateway/gw01", config, seed)
    actions = []
    for r, entries in enumerate(stream(rounds)):
        actions.extend(faults.round(entries, 1_764_000_000 + r * ROUND_S, ROUND_S))
    actions.extend(faults.flush())
    return faults, actions


def received(actions: list) -> list[tuple[str, int, str, float]]:
    out = []
    for a in actions:
        if isinstance(a, Publish):
            d = decode(TOPIC, a.message.payload, 0)
            out.extend(zip(d.device, d.ts_ms, d.metric, d.value, strict=True))
    return out


def within(observed: int, n: int, p: float) -> bool:
    """Observed count within 5 standard deviations of a binomial(n, p)."""
    return abs(observed - n * p) <= 5 * math.sqrt(n * p * (1 - p)) + 1


def test_drop_duplicate_and_late_rates() -> None:
    config = FaultConfig(drop=0.05, duplicate=0.03, late=0.04, late_rounds=3)
    _, actions = run(config)
    n = 1000 * 20
    got = Counter((dev, ts) for dev, ts, metric, _ in received(actions) if metric == "elec.power_kw")
    assert within(n - len(got), n, 0.05)  # dropped
    assert within(sum(1 for c in got.values() if c == 2), n, 0.95 * 0.96 * 0.03)
    # Late readings arrive after a newer reading of the same device: out of order.
    order = [(dev, ts) for dev, ts, metric, _ in received(actions) if metric == "elec.power_kw"]
    last: dict[str, int] = {}
    late = 0
    for dev, ts in order:
        if ts < last.get(dev, 0):
            late += 1
        last[dev] = max(ts, last.get(dev, 0))
    # Held readings and second copies both arrive after a newer reading of their device.
    assert within(late, n, 0.95 * (0.04 + 0.96 * 0.03))


def test_malformed_messages_fail_decoding_with_specific_reasons() -> None:
    _, actions = run(FaultConfig(malformed=0.1), rounds=2000)
    bad = [a for a in actions if isinstance(a, Publish) and a.malformed]
    assert within(len(bad), 2000, 0.1)
    reasons = Counter()
    for a in bad:
        d = decode(TOPIC, a.message.payload, 0)
        assert d.problems, a.malformed
        assert len(d) == a.message.readings
        reasons.update(p.reason for p in d.problems)
    assert {MALFORMED_JSON, BAD_SHAPE, BAD_VALUE} <= set(reasons)


def test_stuck_spike_and_skew() -> None:
    faults, actions = run(FaultConfig(stuck=0.05, stuck_rounds=10, spike=0.02, skew=1.0, skew_s=60))
    n = 1000 * 20
    # Stuck readings come in episodes (~10 long), so the share varies more than a binomial.
    assert faults.counts["stuck"] / n == pytest.approx(0.05, abs=0.015)
    assert within(faults.counts["spiked"], n, 0.02)
    readings = received(actions)
    skews = {ts % 10_000 for _, ts, _, _ in readings}
    assert len(skews) == 1 and skews != {0}  # one constant clock offset, not a whole second
    assert 0 < abs(faults.skew_ms) <= 60_000
    power = [(dev, ts, v) for dev, ts, metric, v in readings if metric == "elec.power_kw"]
    stale = sum(1 for dev, ts, v in power if v < (ts - faults.skew_ms - 1_764_000_000_000) / 10)
    assert stale > 0.02 * n  # stuck readings carry an earlier round's value
    assert max(v for _, _, v in power) > 10 * 1000 * 1000  # spikes


def test_offline_gateway_fires_its_will_and_comes_back_with_the_backlog() -> None:
    faults, actions = run(FaultConfig(offline=20, offline_s=120), rounds=2000)
    statuses = [a.state for a in actions if isinstance(a, Status)]
    outages = statuses.count("offline")
    assert outages > 5 and statuses.count("online") == outages
    assert all(a != b for a, b in itertools.pairwise(statuses))  # alternating
    # Nothing is lost: the backlog is published after reconnecting.
    got = {(dev, ts) for dev, ts, metric, _ in received(actions) if metric == "elec.power_kw"}
    assert len(got) == 2000 * 20
    # 20 outages per online hour, each lasting ~offline_s (at least a round).
    p = 20 * ROUND_S / 3600
    expected = 2000 * p / (1 + p * (120 / ROUND_S + 1))
    assert 0.6 * expected < outages < 1.4 * expected
    assert faults.counts["backlogged"] > 0


def test_reordered_messages_arrive_after_their_successor() -> None:
    _, actions = run(FaultConfig(reorder=0.1), rounds=1000)
    first_ts = [decode(TOPIC, a.message.payload, 0).ts_ms[0] for a in actions if isinstance(a, Publish)]
    inversions = sum(1 for a, b in itertools.pairwise(first_ts) if b < a)
    assert within(inversions, 1000, 0.1 * 0.9)


def test_same_seed_same_faults_other_seed_other_faults() -> None:
    config = FaultConfig.parse("all")
    a = [getattr(x, "message", x) for x in run(config, 300, seed=5)[1]]
    b = [getattr(x, "message", x) for x in run(config, 300, seed=5)[1]]
    c = [getattr(x, "message", x) for x in run(config, 300, seed=6)[1]]
    assert a == b and a != c


def test_no_faults_means_every_reading_once_in_order() -> None:
    park = sim_parks(generate_model(enterprises=2, seed=3))[0]
    sim = Simulation(park, faults=FaultConfig())
    ts = 1_764_000_000 + np.arange(0, 3600, 60)
    rounds = sim.rounds(ts, 60, float(ts[-1]))
    for r in rounds:
        # data loggers send over HJ 212 or not at all, never through their gateway
        devices = [d for d in r.gateway.devices if not speaks_hj212(d)]
        entries = sum(m.message.entries for m in r.actions if isinstance(m, Publish))
        assert entries == len(devices) * len(ts)
        total = sum(m.message.readings for m in r.actions if isinstance(m, Publish))
        decoded = sum(len(decode(TOPIC, m.message.payload, 0)) for m in r.actions if isinstance(m, Publish))
        assert decoded == total == sum(len(d.metrics) for d in devices) * len(ts)


def test_messages_respect_the_size_bound() -> None:
    entries = [e for r in stream(200, devices=30) for e in r]
    messages = list(encode(entries, max_bytes=4096))
    assert len(messages) > 10
    assert all(len(m.payload) <= 4096 for m in messages)
    assert sum(m.entries for m in messages) == len(entries)
    assert sum(len(decode(TOPIC, m.payload, 0)) for m in messages) == 2 * len(entries)


@pytest.mark.parametrize(
    ("spec", "named"),
    [("drop=2", "drop=2"), ("nosuch=1", "'nosuch=1'"), ("late=x", "'x'"), ("offline=-1", "offline")],
)
def test_bad_fault_specs_are_named(spec: str, named: str) -> None:
    with pytest.raises(FaultError, match=named):
        FaultConfig.parse(spec)

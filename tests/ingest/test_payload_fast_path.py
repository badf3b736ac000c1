"""The fast decoding of payloads (orjson, plain numeric entries a column at a time) decodes
exactly what the general path does: same readings, same problems, same reasons."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import smartpark.contract as contract
from smartpark.contract import Decoded, Topic, decode

DEVICE = Topic.parse("smartpark/v1/p/e/em1/telemetry")
GATEWAY = Topic.parse("smartpark/v1/p/e/gateway/gw1/telemetry")
NOW = 1_764_115_300_000


def _general(topic: Topic, payload: bytes) -> Decoded:
    """The reference: the standard library's JSON and the per-value checks only."""
    fast, loads = contract._add_plain_values, contract._loads
    contract._add_plain_values = lambda *_a: False  # type: ignore[assignment]
    contract._loads = json.loads
    try:
        return decode(topic, payload, NOW)
    finally:
        contract._add_plain_values, contract._loads = fast, loads


def _same(topic: Topic, payload: bytes) -> Decoded:
    got, want = decode(topic, payload, NOW), _general(topic, payload)
    assert got == want
    assert [type(x) for x in got.value] == [float] * len(got)  # ints arrive as floats either way
    return got


@pytest.mark.parametrize(
    "payload",
    [
        b'{"ts": 1764115200000, "values": {"elec.power_kw": 1.5, "elec.pf": 0.9}}',
        b'{"ts": 1764115200000, "values": {"elec.power_kw": 2, "elec.pf": 0.9}}',  # an integer
        b'{"values": {"elec.power_kw": 2}}',  # receipt time
        b'{"ts": 1, "values": {"safety.fire_alarm": true}}',  # a boolean state
        b'{"ts": 1, "values": {"a": 1.5, "b": "x"}}',  # one bad value among good ones
        b'{"ts": 1, "values": {"a": NaN, "b": 1.0}}',  # JSON orjson refuses
        b'{"ts": 1, "values": {"a": 1e308, "b": 1e308}}',  # finite values whose sum is not
        b'{"ts": 1, "values": {"a": 1' + b"0" * 400 + b', "b": 2}}',  # beyond a double
        b'{"ts": 1, "values": {"a": 123456789012345678901234567890}}',  # beyond 64 bits
        b'{"ts": 1, "values": {}}',
        b'{"ts": 1, "values": {"a": 1.0}, "flags": {"a": "D"}}',
        b'{"ts": 1, "values": {"a": 1.0}, "flags": {}}',
        b'{"ts": 1, "values": {"a": 1.0}, "flags": "D"}',
        b'[{"ts": 1, "values": {"a": 1.0}}, {"ts": 2, "values": {"a": 2}}]',
        b'{"ts": 1, "values": {"a": 1.0}',  # malformed: the standard library's message is kept
        b"\xff\xfe{\x00}\x00",  # UTF-16, which only the standard library reads
    ],
)
def test_device_payloads_decode_as_the_general_path_does(payload: bytes) -> None:
    _same(DEVICE, payload)


def test_a_gateway_payload_of_plain_entries_decodes_every_reading() -> None:
    body = {f"m{d:02d}": {"ts": NOW + d, "values": {"elec.import_kwh": d + 0.5, "elec.power_kw": d}} for d in range(25)}
    got = _same(GATEWAY, json.dumps(body).encode())
    assert len(got) == 50 and not got.problems
    assert got.device[:2] == ["m00", "m00"] and got.metric[:2] == ["elec.import_kwh", "elec.power_kw"]
    assert got.value[2:4] == [1.5, 1.0] and got.ts_ms[2:4] == [NOW + 1, NOW + 1]


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(
    values=st.dictionaries(st.text(min_size=1, max_size=5), numbers, max_size=6),
    ts=st.one_of(st.none(), st.integers(min_value=0, max_value=2**53), st.floats()),
    flags=st.one_of(st.none(), st.just({}), st.dictionaries(st.text(max_size=2), st.sampled_from("NDx"))),
)
def test_any_entry_decodes_as_the_general_path_does(values: dict[str, Any], ts: Any, flags: Any) -> None:
    entry: dict[str, Any] = {"values": values}
    if ts is not None:
        entry["ts"] = ts
    if flags is not None:
        entry["flags"] = flags
    _same(DEVICE, json.dumps(entry).encode())

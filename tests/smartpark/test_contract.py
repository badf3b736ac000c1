import json

import pytest

from smartpark.contract import (
    BAD_SHAPE,
    BAD_TIMESTAMP,
    BAD_VALUE,
    MALFORMED_JSON,
    NON_FINITE,
    PAYLOAD_TOO_LARGE,
    Topic,
    TopicError,
    decode,
    gateway_topic,
    parse_ts,
)

DEV = Topic.parse("smartpark/v1/p1/e1/em1/telemetry")
GW = Topic.parse("smartpark/v1/p1/e1/gateway/gw1/telemetry")
NOW = 1_764_115_300_000


def test_topics_parse_and_render():
    assert (DEV.park, DEV.enterprise, DEV.device, DEV.gateway) == ("p1", "e1", "em1", None)
    assert (GW.device, GW.gateway) == (None, "gw1")
    assert GW.render() == gateway_topic("p1", "e1", "gw1")
    assert Topic.parse("smartpark/v1/p1/e1/em1/status").kind == "status"


@pytest.mark.parametrize(
    "topic",
    [
        "smartpark/v1/p1/e1/telemetry",
        "other/v1/p1/e1/d/telemetry",
        "smartpark/v1/p1/e1/d/commands",
        "smartpark/v1/p1/e1/gateway/g/status",
        "smartpark/v1/p1//d/telemetry",
    ],
)
def test_bad_topics_are_refused(topic):
    with pytest.raises(TopicError):
        Topic.parse(topic)


def test_single_object_and_list():
    one = decode(DEV, json.dumps({"ts": 1764115200000, "values": {"elec.import_kwh": 1234.5}}).encode(), NOW)
    assert (one.device, one.metric, one.ts_ms, one.value) == (["em1"], ["elec.import_kwh"], [1764115200000], [1234.5])
    many = decode(DEV, json.dumps([{"ts": 1, "values": {"a": 1}}, {"ts": 2, "values": {"a": 2, "b": 3}}]).encode(), NOW)
    assert len(many) == 3 and not many.problems


def test_gateway_payload():
    body = {"m1": [{"ts": 10, "values": {"x": 1}}], "m2": {"ts": 20, "values": {"y": 2}}}
    out = decode(GW, json.dumps(body).encode(), NOW)
    assert sorted(zip(out.device, out.metric, out.ts_ms, strict=False)) == [("m1", "x", 10), ("m2", "y", 20)]


def test_rfc3339_and_missing_ts():
    assert parse_ts("2025-11-26T00:00:00Z") == 1764115200000
    assert parse_ts("2025-11-26T08:00:00+08:00") == 1764115200000
    out = decode(DEV, b'{"values": {"x": 1}}', NOW)
    assert out.ts_ms == [NOW] and out.receipt_time == [True]


def test_bad_input_is_explained_and_good_readings_kept():
    body = [
        {"ts": 1, "values": {"ok": 1.5, "text": "high", "nan": float("nan")}},
        {"ts": "yesterday", "values": {"x": 1}},
        {"ts": 3, "value": 5},
    ]
    out = decode(DEV, json.dumps(body).encode(), NOW)
    assert out.metric == ["ok"]
    reasons = sorted(p.reason for p in out.problems)
    assert reasons == sorted([BAD_VALUE, NON_FINITE, BAD_TIMESTAMP, BAD_SHAPE])
    assert any("'high'" in p.detail for p in out.problems)


def test_malformed_and_oversized():
    assert decode(DEV, b"{not json", NOW).problems[0].reason == MALFORMED_JSON
    assert decode(DEV, b"\xff\xfe", NOW).problems[0].reason == MALFORMED_JSON
    big = decode(DEV, b"[" + b"1," * 1000 + b"1]", NOW, max_bytes=100)
    assert big.problems[0].reason == PAYLOAD_TOO_LARGE and len(big) == 0
    assert decode(GW, b"[1, 2]", NOW).problems[0].reason == BAD_SHAPE


def test_timestamp_errors_name_the_value():
    with pytest.raises(ValueError, match="'2025-11-26T00:00:00'"):
        parse_ts("2025-11-26T00:00:00")  # no offset: ambiguous
    with pytest.raises(ValueError, match="boolean"):
        parse_ts(True)


def test_data_flags_travel_with_readings():
    body = {"ts": 1, "values": {"a": 1, "b": 2, "c": 3}, "flags": {"a": "D", "b": 0, "c": "Q"}}
    out = decode(DEV, json.dumps(body).encode(), NOW)
    assert dict(zip(out.metric, out.flag, strict=True)) == {"a": 4, "b": 0}
    assert [p.reason for p in out.problems] == ["bad_flag"]
    assert decode(DEV, b'{"ts": 1, "values": {"a": 1}, "flags": [1]}', NOW).problems[0].reason == "bad_flag"


def test_absurd_numbers_are_rejected_not_raised():
    huge = decode(DEV, b'{"ts": 1, "values": {"a": 1' + b"0" * 400 + b"}}", NOW)
    assert huge.problems[0].reason == NON_FINITE and len(huge) == 0
    digits = decode(DEV, b'{"ts": 1, "values": {"a": 1' + b"0" * 5000 + b"}}", NOW)
    assert digits.problems[0].reason == MALFORMED_JSON

"""Messages -> rows and rejections: every reading is either stored or explained."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pytest

from ingest import validate as v
from ingest.batch import COPY_COLUMNS, EXCERPT_CHARS, Batch, Message, Rows, build_batch, excerpt
from ingest.registry_index import DeviceEntry, RegistryIndex
from smartpark.catalogue import BY_CODE, DEVICE_KINDS, FLAG_RECEIPT_TIME
from smartpark.contract import device_topic, gateway_topic
from smartpark.db.binary_copy import PG_EPOCH_US, decode

NOW = 1_764_115_200_000
WINDOW = v.Window.of(past_days=30, future_s=300)


def _ids(kind: str) -> tuple[int, ...]:
    return tuple(BY_CODE[c].id for c in DEVICE_KINDS[kind])


@pytest.fixture
def index() -> RegistryIndex:
    # park p (id 1): enterprise e1 (10) with gateway g1 (100), e2 (20) with gateway g2 (200).
    return RegistryIndex.build(
        parks={"p": 1, "q": 2},
        enterprises=[(10, 1, "e1"), (20, 1, "e2"), (30, 2, "e1")],
        gateways=[(100, 10, "g1"), (200, 20, "g2")],
        devices=[
            DeviceEntry(1000, 10, "em1", _ids("elec_meter"), 100),
            DeviceEntry(1001, 10, "gd1", _ids("gas_detector"), 100),
            DeviceEntry(2000, 20, "em1", _ids("elec_meter"), 200),
            DeviceEntry(2001, 20, "ww1", _ids("wastewater"), 200),
        ],
    )


def _msg(topic: str, body: object, raw: bytes | None = None) -> Message:
    return Message(topic, raw if raw is not None else json.dumps(body).encode(), NOW)


def _build(index: RegistryIndex, *msgs: Message) -> Batch:
    return build_batch(list(msgs), index, now_ms=NOW, window=WINDOW)


def test_device_and_gateway_payloads_become_rows(index: RegistryIndex) -> None:
    batch = _build(
        index,
        _msg(device_topic("p", "e1", "em1"), {"ts": NOW - 1000, "values": {"elec.import_kwh": 12.5}}),
        _msg(
            gateway_topic("p", "e2", "g2"),
            {
                "em1": [{"ts": NOW, "values": {"elec.power_kw": -3.0, "elec.pf": 0.9}}],
                "ww1": {"ts": "2025-11-26T00:00:00+00:00", "values": {"ww.ph": 7}},
            },
        ),
        _msg(device_topic("p", "e1", "gd1"), [{"values": {"safety.lel_pct": 3}}]),
    )
    assert batch.rejections == ()
    assert (batch.readings, batch.messages, len(batch.rows)) == (5, 3, 5)
    rows = batch.rows
    assert rows.device_id.tolist() == [1000, 2000, 2000, 2001, 1001]
    assert rows.metric_id.tolist() == [1, 3, 4, 32, 50]
    assert rows.value.tolist() == [12.5, -3.0, 0.9, 7.0, 3.0]
    ms = [NOW - 1000, NOW, NOW, NOW, NOW]
    assert rows.ts_us.tolist() == [t * 1000 - PG_EPOCH_US for t in ms]
    assert rows.flag.tolist() == [0, 0, 0, 0, FLAG_RECEIPT_TIME]
    copied = decode(COPY_COLUMNS, rows.copy_data())
    assert copied["device_id"].tolist() == rows.device_id.tolist()
    assert copied["value"].tolist() == rows.value.tolist()


def test_each_fault_has_its_own_reason(index: RegistryIndex) -> None:
    e1 = lambda dev: device_topic("p", "e1", dev)  # noqa: E731
    day = 86_400_000
    batch = _build(
        index,
        _msg(
            e1("em1"),
            {
                "ts": NOW,
                "values": {
                    "elec.import_kwh": 1.0,  # valid
                    "elec.pf": 1.5,  # out_of_range
                    "ww.ph": 7.0,  # metric_not_allowed
                    "nonsense.metric": 1.0,  # unknown_metric
                    "elec.power_kw": "12",  # bad_value (decoder)
                },
            },
        ),
        _msg(
            e1("em1"),
            [
                {"ts": NOW - 31 * day, "values": {"elec.import_kwh": 2.0}},  # ts_too_old
                {"ts": NOW + 301_000, "values": {"elec.import_kwh": 3.0}},  # ts_in_future
                {"ts": NOW - 29 * day, "values": {"elec.import_kwh": 4.0}},  # valid
                {"ts": "yesterday", "values": {"elec.import_kwh": 5.0}},  # bad_timestamp
            ],
        ),
        _msg(e1("ghost"), {"ts": NOW, "values": {"elec.import_kwh": 1.0}}),  # unknown_device
        _msg(e1("ww1"), {"ts": NOW, "values": {"ww.ph": 7.0}}),  # foreign_device
        _msg(
            gateway_topic("p", "e1", "g1"),
            {"ww1": {"ts": NOW, "values": {"ww.ph": 7.0}}, "gd1": {"ts": NOW, "values": {"safety.o2_pct": 20.9}}},
        ),
        _msg(gateway_topic("p", "e1", "g2"), {"em1": {"ts": NOW, "values": {"elec.pf": 1}}}),
        _msg(device_topic("nopark", "e1", "em1"), {"ts": NOW, "values": {}}),
        _msg(device_topic("p", "e9", "em1"), {"ts": NOW, "values": {}}),
        _msg("smartpark/v1/p/e1/em1/bogus", {}),
        _msg(e1("em1"), None, raw=b"{not json"),
        _msg(e1("em1"), None, raw=b'{"ts": 1, "values": {"elec.pf": 1' + b"0" * 400 + b"}}"),  # non_finite
        _msg(e1("em1"), None, raw=b"[" * 100_000 + b"]" * 100_000),  # malformed_json (too deep)
        _msg("smartpark/v1/p/e1/em1/status", None, raw=b"online"),
    )
    reasons = Counter(r.reason_code for r in batch.rejections)
    assert reasons == {
        v.OUT_OF_RANGE: 1,
        v.METRIC_NOT_ALLOWED: 1,
        v.UNKNOWN_METRIC: 1,
        "bad_value": 1,
        v.TS_TOO_OLD: 1,
        v.TS_IN_FUTURE: 1,
        "bad_timestamp": 1,
        v.UNKNOWN_DEVICE: 1,
        v.FOREIGN_DEVICE: 2,
        v.UNKNOWN_GATEWAY: 1,
        v.UNKNOWN_PARK: 1,
        v.UNKNOWN_ENTERPRISE: 1,
        "unknown_topic": 1,
        "malformed_json": 2,
        "non_finite": 1,
        v.NOT_TELEMETRY: 1,
    }
    assert batch.rows.value.tolist() == [1.0, 4.0, 20.9]
    by_code = {r.reason_code: r for r in batch.rejections}
    assert "1.5" in by_code[v.OUT_OF_RANGE].reason and "'elec.pf'" in by_code[v.OUT_OF_RANGE].reason
    assert by_code[v.OUT_OF_RANGE].device_id == 1000
    assert by_code[v.OUT_OF_RANGE].enterprise_id == 10 and by_code[v.OUT_OF_RANGE].park_id == 1
    assert "'ghost'" in by_code[v.UNKNOWN_DEVICE].reason
    assert by_code[v.UNKNOWN_DEVICE].device_id is None
    assert "another enterprise" in by_code[v.FOREIGN_DEVICE].reason
    assert "'g2'" in by_code[v.UNKNOWN_GATEWAY].reason
    assert "30 days" in by_code[v.TS_TOO_OLD].reason


def test_large_payload_is_recorded_with_a_bounded_excerpt(index: RegistryIndex) -> None:
    body = {"ts": NOW, "values": {f"m{i}": i for i in range(20000)}}
    raw = json.dumps(body).encode()
    batch = build_batch(
        [_msg(device_topic("p", "e1", "em1"), body)], index, now_ms=NOW, window=WINDOW, max_payload_bytes=len(raw) - 1
    )
    (rej,) = batch.rejections
    assert rej.reason_code == "payload_too_large"
    assert len(rej.excerpt) == EXCERPT_CHARS and rej.excerpt.endswith("…")


def test_excerpt_is_printable_text() -> None:
    assert excerpt(b"\x00\xffab") == "\\x00\ufffdab"
    assert excerpt(b"x" * 10, limit=5) == "xxxx…"


def test_empty_registry_rejects_without_error() -> None:
    empty = RegistryIndex.build(parks={"p": 1}, enterprises=[(10, 1, "e1")], gateways=[], devices=[])
    batch = _build(empty, _msg(device_topic("p", "e1", "em1"), {"ts": NOW, "values": {"elec.pf": 1}}))
    assert [r.reason_code for r in batch.rejections] == [v.UNKNOWN_DEVICE]
    assert len(batch.rows) == 0


def test_a_large_batch_is_stored_whole(index: RegistryIndex) -> None:
    n = 10_000
    values = {f"elec.{k}": 1.0 for k in ("import_kwh", "export_kwh", "power_kw", "pf")}
    msgs = [_msg(device_topic("p", "e1", "em1"), {"ts": NOW - i, "values": values}) for i in range(n // 4)]
    batch = _build(index, *msgs)
    assert len(batch.rows) == n and not batch.rejections
    assert np.unique(batch.rows.ts_us).size == n // 4


def _rows(ts_min: list[int], device: list[int], metric: list[int]) -> Rows:
    n = len(ts_min)
    return Rows(
        np.asarray(ts_min, np.int64) * 60_000_000,
        np.asarray(device, np.int32),
        np.asarray(metric, np.int16),
        np.arange(n, dtype=np.float64),
        np.zeros(n, np.int16),
    )


def test_rows_sort_in_primary_key_order() -> None:
    rows = _rows([5, 1, 3, 2], [2, 2, 1, 2], [1, 1, 1, 3]).sorted()
    assert list(
        zip(rows.device_id.tolist(), rows.metric_id.tolist(), (rows.ts_us // 60_000_000).tolist(), strict=True)
    ) == [(1, 1, 3), (2, 1, 1), (2, 1, 5), (2, 3, 2)]


def test_latest_is_the_newest_reading_of_each_series_whatever_the_arrival_order() -> None:
    rows = _rows([10, 30, 20, 5, 7], [1, 1, 1, 2, 2], [4, 4, 4, 4, 3])
    latest = rows.latest()
    assert latest.device_id.tolist() == [1, 2, 2]
    assert latest.metric_id.tolist() == [4, 3, 4]
    assert (latest.ts_us // 60_000_000).tolist() == [30, 7, 5]
    assert latest.value.tolist() == [1.0, 4.0, 3.0]  # the value that came with that reading
    assert len(Rows.empty().latest()) == 0


def test_touched_buckets_are_distinct_quarter_hours() -> None:
    # Minutes 0, 14 share a bucket; 15 starts the next; -1 (before 2000-01-01) floors backwards.
    rows = _rows([0, 14, 15, 14, -1], [1, 1, 1, 2, 1], [1, 1, 1, 1, 1])
    device, metric, bucket = rows.touched()
    assert list(zip(device.tolist(), metric.tolist(), (bucket // 60_000_000).tolist(), strict=True)) == [
        (1, 1, -15),
        (1, 1, 0),
        (1, 1, 15),
        (2, 1, 0),
    ]


def test_flags_the_decoder_reports_are_stored_with_the_receipt_time_flag(
    index: RegistryIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HJ 212 data flags (e.g. 5 = calibration) travel in the decoder's flag column."""
    import ingest.batch as batch_module

    real = batch_module.decode

    def with_flags(*args: Any, **kwargs: Any) -> Any:
        dec = real(*args, **kwargs)

        class Flagged:
            def __init__(self) -> None:
                self.__dict__.update({f: getattr(dec, f) for f in dec.__slots__})
                self.flag = [5] * len(dec)

            def __len__(self) -> int:
                return len(dec)

        return Flagged()

    monkeypatch.setattr(batch_module, "decode", with_flags)
    batch = _build(
        index,
        _msg(device_topic("p", "e1", "em1"), {"ts": NOW, "values": {"elec.pf": 0.9}}),
        _msg(device_topic("p", "e1", "em1"), {"values": {"elec.power_kw": 1.0}}),
    )
    assert batch.rows.flag.tolist() == [5, 5 | FLAG_RECEIPT_TIME]


def test_repeated_keys_keep_their_first_reading() -> None:
    rows = _rows([1, 1, 2, 1], [1, 1, 1, 2], [1, 1, 1, 1]).sorted().distinct()
    assert list(
        zip(rows.device_id.tolist(), (rows.ts_us // 60_000_000).tolist(), rows.value.tolist(), strict=True)
    ) == [(1, 1, 0.0), (1, 2, 2.0), (2, 1, 3.0)]


def test_rows_already_in_key_order_are_not_sorted_again() -> None:
    rows = _rows([1, 2, 2, 0], [1, 1, 1, 2], [1, 1, 2, 1])
    assert rows.sorted() is rows
    assert rows.take(np.array([1, 0, 2, 3])).sorted().ts_us.tolist() == rows.ts_us.tolist()


def test_a_device_on_hj212_takes_readings_from_its_data_logger_only() -> None:
    """Issue 14 M2: a gateway's forged reading for a CEMS won over the logger's, silently."""
    index = RegistryIndex.build(
        parks={"p": 1},
        enterprises=[(10, 1, "e1")],
        gateways=[(100, 10, "g1")],
        devices=[DeviceEntry(1002, 10, "cems1", _ids("stack_cems"), 100, hj212=True)],
    )
    body = {"ts": NOW, "values": {"stack.so2_mgm3": 5.0}}
    forged = Message(device_topic("p", "e1", "cems1"), json.dumps(body).encode(), NOW)
    via_gateway = Message(gateway_topic("p", "e1", "g1"), json.dumps({"cems1": body}).encode(), NOW)
    logger = Message(device_topic("p", "e1", "cems1"), json.dumps(body).encode(), NOW, from_logger=True)
    batch = _build(index, forged, via_gateway, logger)
    assert len(batch.rows) == 1 and batch.rows.device_id.tolist() == [1002]
    assert [r.reason_code for r in batch.rejections] == [v.HJ212_DEVICE, v.HJ212_DEVICE]
    assert all("data logger only" in r.reason and r.device_id == 1002 for r in batch.rejections)


def test_a_foreign_device_is_not_shown_to_the_sending_enterprise(index: RegistryIndex) -> None:
    """Issue 14 (Low): the rejection told e2's users that e1 has a device 'gd1'. It is recorded
    for the park's operators only (no enterprise), and names no other enterprise."""
    batch = _build(index, _msg(device_topic("p", "e2", "gd1"), {"ts": NOW, "values": {"safety.lel_pct": 1}}))
    (rej,) = batch.rejections
    assert rej.reason_code == v.FOREIGN_DEVICE
    assert (rej.enterprise_id, rej.park_id, rej.device_id) == (None, 1, None)
    assert "'e1'" not in rej.reason and "'e2'" in rej.reason


def test_retained_and_over_quota_messages_are_refused_whole(index: RegistryIndex) -> None:
    """Issue 14 M8: gateways may not retain telemetry, and an enterprise has a message quota."""
    body = json.dumps({"ts": NOW, "values": {"elec.pf": 0.9}}).encode()
    topic = device_topic("p", "e1", "em1")
    batch = _build(
        index,
        Message(topic, body, NOW, retained=True),
        Message(topic, body, NOW, over_quota=True),
        Message(topic, b"", NOW, retained=True),  # a retained message being cleared: nothing at all
        Message(topic, body, NOW),
    )
    assert [r.reason_code for r in batch.rejections] == [v.RETAINED, v.QUOTA_EXCEEDED]
    assert len(batch.rows) == 1 and batch.messages == 4

"""Webhook signing and retry backoff (pure)."""

from __future__ import annotations

import hashlib
import hmac

from alerting.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, alerts_topic, backoff_s, body_of, signature, verify


def test_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    body = body_of({"b": 1, "a": "煤"})
    assert body == '{"a":"煤","b":1}'.encode()
    expected = hmac.new(b"s3cret", b"1764115200000." + body, hashlib.sha256).hexdigest()
    assert signature("s3cret", 1764115200000, body) == f"sha256={expected}"
    headers = {TIMESTAMP_HEADER: "1764115200000", SIGNATURE_HEADER: f"sha256={expected}"}
    assert verify("s3cret", headers, body)
    assert not verify("other", headers, body)
    assert not verify("s3cret", headers, body + b" ")
    assert not verify("s3cret", {**headers, TIMESTAMP_HEADER: "1764115200001"}, body)
    assert not verify("s3cret", {SIGNATURE_HEADER: f"sha256={expected}"}, body)


def test_backoff_grows_and_is_capped() -> None:
    mid = [backoff_s(n, rng=lambda: 0.5) for n in range(12)]
    assert mid[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(mid) == 300.0
    assert backoff_s(3, rng=lambda: 0.0) == 3.0 and backoff_s(3, rng=lambda: 1.0) == 5.0  # ±25 % jitter


def test_alerts_topic() -> None:
    assert alerts_topic("safety", "demo") == "smartpark/v1/alerts/safety/demo"

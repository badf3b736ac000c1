from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from ingest.hj212.rejections import RejectionLog, redact
from tests.support.hj212 import APPENDIX


def test_passwords_never_reach_excerpts_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    text = APPENDIX.decode()
    assert "PW=100000" in text
    assert "PW=***;" in redact(text) and "100000" not in redact(text)
    written: list[list[object]] = []
    registry = CollectorRegistry()
    log = RejectionLog(sink=written.append, registry=registry)
    log.record("bad_crc", f"frame {text[:60]}", peer="10.0.0.1:5000", excerpt=text)
    assert registry.get_sample_value("smartpark_hj212_rejected_total", {"reason": "bad_crc"}) == 1.0
    assert "100000" not in caplog.text and "PW=***" in caplog.text
    assert asyncio.run(log.flush()) == 1
    (write,) = written[0]
    row = write.sample  # type: ignore[attr-defined]
    assert "100000" not in row.excerpt and "100000" not in row.reason
    assert (row.reason_code, row.topic) == ("hj212.bad_crc", "hj212://10.0.0.1:5000")

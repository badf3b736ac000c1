"""`smartpark alerting` stops cleanly on SIGTERM, the signal supervisors and service managers send."""

from __future__ import annotations

import secrets
import signal
import time
from typing import Any

import pytest

from smartpark.settings import Settings
from tests.support.alerting import spawned

pytestmark = pytest.mark.integration


def test_sigterm_closes_the_service_and_exits_zero(settings: Settings, park: dict[str, Any], tmp_path: Any) -> None:
    log_path = tmp_path / "alerting.log"
    client_id = f"test-alerting-{secrets.token_hex(3)}"
    args = ["-m", "smartpark.cli", "alerting", "--client-id", client_id, "--park", park["parks"][0]["code"]]
    with spawned([*args, "--session-expiry", "0"], log_path) as proc:
        deadline = time.monotonic() + 60
        while b"running" not in log_path.read_bytes():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    assert f"alerting service {client_id} stopped" in log_path.read_text()

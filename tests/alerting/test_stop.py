"""`smartpark alerting` stops cleanly on SIGTERM, the signal supervisors and service managers send."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from ingest.cli import die_with_parent
from smartpark.settings import Settings
from tests.support.ingest import ROOT

pytestmark = pytest.mark.integration


def test_sigterm_closes_the_service_and_exits_zero(settings: Settings, park: dict[str, Any], tmp_path: Any) -> None:
    log_path = tmp_path / "alerting.log"
    client_id = f"test-alerting-{secrets.token_hex(3)}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "smartpark.cli",
                "alerting",
                "--client-id",
                client_id,
                "--park",
                park["parks"][0]["code"],
                "--session-expiry",
                "0",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        try:
            deadline = time.monotonic() + 60
            while b"running" not in log_path.read_bytes():
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert f"alerting service {client_id} stopped" in log_path.read_text()

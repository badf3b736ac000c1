"""Issue 14 H7: every WebSocket ``?token=`` of the live stream was in the API's log (uvicorn logs
WebSocket paths whether or not the access log is on). Checked on a real `smartpark api`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from api.access_log import RedactSecrets, redact_query


def test_credential_like_query_values_are_redacted() -> None:
    assert redact_query('"WebSocket /api/v1/live?token=eyJabc.def" 403') == '"WebSocket /api/v1/live?token=***" 403'
    assert redact_query("/x?park_id=3&api_key=spk_a&Password=p;secret=s") == (
        "/x?park_id=3&api_key=***&Password=***;secret=***"
    )
    assert redact_query("/api/v1/parks?limit=10") == "/api/v1/parks?limit=10"
    record = logging.LogRecord("uvicorn.access", 20, "", 0, '%s - "%s %s HTTP/%s" %d', None, None)
    record.args = ("127.0.0.1:5", "GET", "/a?token=t0ken", "1.1", 200)
    RedactSecrets().filter(record)
    assert "t0ken" not in record.getMessage() and record.args[2] == "/a?token=***"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.integration
def test_the_api_log_holds_no_token(settings: Any) -> None:
    import websockets

    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "smartpark.cli", "api", "--port", str(port), "--access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    secret_ws, secret_http = "wsSECRETtoken0123456789", "httpSECRETtoken0123456789"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the API did not start"
                time.sleep(0.3)

        async def live() -> None:
            with contextlib.suppress(Exception):  # refused: the token is not valid
                async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/live?token={secret_ws}") as ws:
                    await ws.recv()

        asyncio.run(live())
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/parks?token={secret_http}", timeout=5)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    text = out.decode(errors="replace")
    assert "/api/v1/live?token=***" in text and "/api/v1/parks?token=***" in text
    assert secret_ws not in text and secret_http not in text

"""Issue 14 H7: secrets in world-readable files and logs, and broker hashes at 101 iterations.

The broker case starts a broker of its own (own state directory and port), as `smartpark
services up` does, so that its files and hashes can be checked from the very first start."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from operations.services.broker_hashes import HASH_ITERATIONS, pbkdf2_entry, strengthen
from smartpark.private_files import write_private

KEY = "spk_abcdefgh_" + "Z" * 40


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_files_are_0600_even_when_they_existed(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "new")
    assert mode(path) == 0o600 and path.read_text() == "new"


def test_step_logs_hold_no_api_key_and_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from operations import preparation

    monkeypatch.setattr(preparation, "smartpark_argv", lambda argv: ["sh", "-c", f"echo 'api key: {KEY}'"])
    out = preparation.run_step("user", ("users", "add"), log_dir=tmp_path / "logs", say=lambda _: None, capture=True)
    assert KEY in out  # the caller still gets it, to keep it in the 0600 login file
    log = tmp_path / "logs" / "step-user.log"
    assert KEY not in log.read_text() and "spk_abcdefgh_***" in log.read_text()
    assert mode(log) == 0o600 and mode(log.parent) == 0o700


def test_component_logs_are_private(tmp_path: Path) -> None:
    from operations.supervisor import Child, Component

    child = Child(Component("api", ("api",)), tmp_path / "logs" / "api.log")
    child.start(0.0, argv_for=lambda argv: ["true"])
    assert child.proc is not None
    child.proc.wait()
    child.close_log()
    assert mode(child.log_path) == 0o600


def test_hashes_match_mosquittos_scheme() -> None:
    """PBKDF2-HMAC-SHA512, 64-byte digest, base64; checked on a hash Mosquitto 2.0.11 wrote for
    the password "x1" (salt pKBqQjVI9+cTQ1UU, 101 iterations)."""
    import base64

    entry = pbkdf2_entry("x1", 101, base64.b64decode("pKBqQjVI9+cTQ1UU"))
    assert entry["password"] == (
        "Lq+UgVSxlrm54c/phP4HebbQENH5bNlF10aIybizGxZpQGnJ5dsJdAwyBrTP+NuBvi5Nu6wA/MSXfLVAQ+AJ2Q=="
    )
    document = {"clients": [{"username": "a", "iterations": 101}, {"username": "gw", "iterations": 101}]}
    assert strengthen(document, {"a": "pw"}, HASH_ITERATIONS) == ["a"]
    assert [c["iterations"] for c in document["clients"]] == [HASH_ITERATIONS, 101]


@pytest.fixture
def own_broker() -> Iterator[Any]:
    from operations.services import mosquitto
    from smartpark.settings import Settings

    root = Path(tempfile.mkdtemp(prefix="smartpark-h7-", dir="/tmp"))
    root.chmod(0o755)  # the broker's user must reach its directory below
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(state_dir=root, mqtt_port=port, mqtt_url=None, mqtt_admin_url=None, database_url=None)
    try:
        mosquitto.start(settings)
        yield settings
    finally:
        mosquitto.stop(settings)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.integration
def test_the_brokers_secrets_are_private_and_strongly_hashed(own_broker: Any) -> None:
    from operations.services import local
    from smartpark.broker_admin import Account, BrokerAdmin, gateway_client_id
    from smartpark.mqtt import BrokerTarget, connect, make_client

    settings = own_broker
    p = local.paths(settings)
    with BrokerAdmin.of(local.resolved(settings)) as admin:  # the admin account logs in with its new hash
        admin.ensure_gateways([Account("p.e.gw1", "gateway-password-0001", "p", "e")])
    platform = make_client("check-platform", url=local.local_mqtt_url(settings), clean_start=True, session_expiry=0)
    connect(platform)  # and so does the platform's
    platform.disconnect()
    platform.loop_stop()
    gw = BrokerTarget.parse(local.local_mqtt_url(settings)).with_credentials("p.e.gw1", "gateway-password-0001")
    connect(make_client(gateway_client_id("p.e.gw1"), target=gw, clean_start=True, session_expiry=0))

    clients = {c["username"]: c for c in json.loads(p.mqtt_dynsec.read_text())["clients"]}
    assert clients[local.MQTT_ADMIN]["iterations"] == HASH_ITERATIONS
    assert clients[local.MQTT_PLATFORM]["iterations"] == HASH_ITERATIONS
    # rewritten by the broker after the gateway's creation: still the owner's only
    assert mode(p.mqtt_dynsec) == 0o600 and mode(p.mqtt_data) == 0o700
    assert mode(p.credentials) == 0o600
    others = [f for f in p.mqtt_data.iterdir() if mode(f) & 0o077]
    assert others == [], f"readable by others: {others}"
    assert os.stat(p.mqtt_dynsec).st_size > 0

"""Issue 14 H3: a gateway took over the ingester's persistent session and acknowledged another
enterprise's telemetry. Gateway accounts are now bound to their own client id, and platform
client ids carry a tag only the platform account's password yields; checked on the real broker."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from smartpark.broker_admin import gateway_client_id
from smartpark.mqtt import BrokerTarget, ConnectRefused, connect, make_client, mqtt_url, platform_client_id
from tests.support.factories import gateway_credentials

pytestmark = pytest.mark.integration


def _wait(pred: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not pred():
        time.sleep(0.05)
    return bool(pred())


def test_platform_client_ids_need_the_platform_password() -> None:
    url = "mqtt://smartpark-platform:s3cret@127.0.0.1:1"
    other = "mqtt://smartpark-platform:other@127.0.0.1:1"
    name = "ingest-ingest-all-p0of2-0"
    assert platform_client_id(name, url) == platform_client_id(name, url)  # the session survives restarts
    assert platform_client_id(name, url) != platform_client_id(name, other)
    assert platform_client_id(name, url).startswith(name + "-") and len(platform_client_id(name, url)) > len(name) + 20


def test_gateway_accounts_are_bound_to_their_own_client_id(park: dict[str, Any], broker: Any) -> None:
    from smartpark.registry import broker_accounts

    accounts = broker_accounts(park)
    bound = broker.client_ids([a.username for a in accounts])
    assert bound == {a.username: gateway_client_id(a.username) for a in accounts}


def test_a_gateway_cannot_connect_as_the_ingester_nor_resume_its_session(settings: Any, park: dict[str, Any]) -> None:
    code = park["parks"][0]["code"]
    url = mqtt_url(settings)
    ingester_id = platform_client_id(f"ingest-test-{code}", url)
    got: list[bytes] = []
    subscribed = threading.Event()
    ingester = make_client(ingester_id, url=url, clean_start=False, session_expiry=120)
    ingester.on_subscribe = lambda *a: subscribed.set()
    connect(ingester)
    ingester.subscribe(f"smartpark/v1/{code}/#", qos=1)
    assert subscribed.wait(5)
    ingester.disconnect()
    ingester.loop_stop()

    user, pw = gateway_credentials(park, "e2")
    target = BrokerTarget.parse(url).with_credentials(user, pw)
    gw = make_client(gateway_client_id(user), target=target, clean_start=True, session_expiry=0)
    connect(gw)
    gw.publish(f"smartpark/v1/{code}/e2/em1/telemetry", b"queued-for-the-ingester", qos=1).wait_for_publish(5)
    gw.disconnect()
    gw.loop_stop()

    # with the ingester's exact id, the old predictable form, or any id but its own: refused
    for stolen in (ingester_id, f"ingest-test-{code}", f"alerting-{code}", gateway_client_id(user) + "-2"):
        thief = make_client(stolen, target=target, clean_start=False, session_expiry=120)
        with pytest.raises(ConnectRefused):
            connect(thief)

    # the session is intact: the ingester gets what was queued for it
    again = make_client(ingester_id, url=url, clean_start=False, session_expiry=120)
    again.on_message = lambda c, u, m: got.append(m.payload)
    connect(again)
    assert _wait(lambda: got == [b"queued-for-the-ingester"])
    again.disconnect()
    again.loop_stop()
    cleanup = make_client(ingester_id, url=url, clean_start=True, session_expiry=0)
    connect(cleanup)
    cleanup.disconnect()
    cleanup.loop_stop()


def test_a_model_cannot_name_one_broker_account_twice() -> None:
    """Issue 14 M6, in model files: a device with a gateway's username."""
    from smartpark.registry import ModelError, broker_accounts
    from tests.support.factories import small_model, unique_code

    model = small_model(unique_code())
    ent = model["parks"][0]["enterprises"][0]
    gw = ent["gateways"][0]
    gw["devices"][0]["username"] = gw["username"]
    ent.setdefault("devices", []).append(
        {"code": "own1", "kind": "gas_detector", "username": gw["username"], "password": "x" * 20}
    )
    with pytest.raises(ModelError, match=f"broker user {gw['username']!r} is given to more than one"):
        broker_accounts(model)


def test_provisioning_never_takes_over_an_account_with_another_role(settings: Any, broker: Any) -> None:
    """Neither the platform's account nor another enterprise's gateway is reset by a model."""
    from smartpark.broker_admin import Account, BrokerAdminError

    platform = BrokerTarget.parse(mqtt_url(settings))
    assert platform.username is not None
    with pytest.raises(BrokerAdminError, match=f"broker user {platform.username!r} exists with role"):
        broker.ensure_gateways([Account(platform.username, "new-password-000000", "px", "ex")])
    still = make_client(f"check-{platform.username}", target=platform, clean_start=True, session_expiry=0)
    connect(still)
    still.disconnect()
    still.loop_stop()

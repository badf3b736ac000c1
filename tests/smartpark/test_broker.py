"""The broker's security and queueing, checked against the real Mosquitto."""

import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest

from smartpark.broker_admin import gateway_client_id
from smartpark.mqtt import BrokerTarget, ConnectRefused, connect, make_client, mqtt_url
from tests.support.factories import gateway_credentials
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _client(settings, username, password, **kw):
    target = BrokerTarget.parse(mqtt_url(settings)).with_credentials(username, password)
    return make_client(gateway_client_id(username), target=target, **kw)


def _collector(settings, topic_filter, client_id=None, clean_start=True):
    got: list[tuple[str, bytes]] = []
    sub = make_client(client_id or f"test-sub-{uuid.uuid4().hex[:8]}", url=mqtt_url(settings), clean_start=clean_start)
    sub.on_message = lambda c, u, m: got.append((m.topic, m.payload))
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    connect(sub)
    sub.subscribe(topic_filter, qos=1)
    assert subscribed.wait(5)
    return sub, got


def test_gateway_publishes_only_below_its_enterprise(settings, park):
    code = park["parks"][0]["code"]
    sub, got = _collector(settings, f"smartpark/v1/{code}/#")
    user, pw = gateway_credentials(park, "e1")
    # The broker may drop a connection that publishes where it must not: one client per attempt.
    spoof = _client(settings, user, pw, clean_start=True)
    connect(spoof)
    spoof.publish(f"smartpark/v1/{code}/e2/em1/telemetry", b'{"values": {"elec.power_kw": 1}}', qos=1)
    time.sleep(1.0)
    # Both clients log in as the gateway, whose client id is fixed: a spoof still connected would
    # reconnect and take the session over from the second client, so it leaves first.
    spoof.disconnect()
    spoof.loop_stop()
    own = _client(settings, user, pw, clean_start=True)
    connect(own)
    own.publish(f"smartpark/v1/{code}/e1/em1/telemetry", b'{"values": {"elec.power_kw": 2}}', qos=1).wait_for_publish(5)
    wait_until(lambda: len(got) >= 1, 10, "the allowed publication")
    time.sleep(0.5)
    assert [t for t, _ in got] == [f"smartpark/v1/{code}/e1/em1/telemetry"]
    for c in (own, sub):
        c.disconnect()
        c.loop_stop()


def test_wrong_password_and_anonymous_are_refused(settings, park):
    user, _ = gateway_credentials(park, "e1")
    with pytest.raises(ConnectRefused):
        connect(_client(settings, user, "wrong-password", clean_start=True))
    anon = make_client(
        "anon", target=BrokerTarget("127.0.0.1", settings.mqtt_port, None, None, False), clean_start=True
    )
    with pytest.raises(ConnectRefused):
        connect(anon)


def test_offline_persistent_session_keeps_more_than_a_default_queue(settings, park):
    """Mosquitto's default would drop all but 1000 queued messages of an offline subscriber."""
    code = park["parks"][0]["code"]
    client_id = f"test-persist-{uuid.uuid4().hex[:8]}"
    sub, _ = _collector(settings, f"smartpark/v1/{code}/#", client_id=client_id, clean_start=False)
    sub.disconnect()
    sub.loop_stop()
    user, pw = gateway_credentials(park, "e2")
    gw = _client(settings, user, pw, clean_start=True)
    connect(gw)
    n = 3000
    infos = [gw.publish(f"smartpark/v1/{code}/e2/em1/telemetry", str(i).encode(), qos=1) for i in range(n)]
    for info in infos:
        info.wait_for_publish(10)
    gw.disconnect()
    gw.loop_stop()
    got: list[bytes] = []
    again = make_client(client_id, url=mqtt_url(settings), clean_start=False)
    again.on_message = lambda c, u, m: got.append(m.payload)
    connect(again)
    wait_until(lambda: len(got) >= n, 30, f"{n} messages")
    assert sorted(int(p) for p in got) == list(range(n))
    again.disconnect()
    again.loop_stop()
    cleanup = make_client(client_id, url=mqtt_url(settings), clean_start=True, session_expiry=0)
    connect(cleanup)
    cleanup.disconnect()
    cleanup.loop_stop()
    assert mqtt.MQTT_ERR_SUCCESS == 0


def test_reloading_the_model_keeps_gateways_connected(settings, db, park, broker):
    """Re-provisioning an unchanged account must not disconnect it (the broker would)."""
    from smartpark.registry import load_model

    user, pw = gateway_credentials(park, "e1")
    gw = _client(settings, user, pw, clean_start=True)
    drops: list[object] = []
    gw.on_disconnect = lambda *a: drops.append(a)
    connect(gw)
    with db.transaction():
        load_model(db, park, broker=broker)
    time.sleep(1.0)
    assert drops == []
    gw.disconnect()
    gw.loop_stop()


def test_concurrent_admins_get_their_own_answers(settings, park):
    """The plugin answers every admin client; each must pick out its own responses."""
    from smartpark.broker_admin import BrokerAdmin

    errors: list[BaseException] = []

    def work(admin):
        try:
            for _ in range(20):
                assert user in admin.list_clients()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    user, _ = gateway_credentials(park, "e2")
    admins = [BrokerAdmin.of(settings) for _ in range(3)]
    threads = [threading.Thread(target=work, args=(a,)) for a in admins]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for a in admins:
        a.close()
    assert errors == []

"""The naive baseline of `smartpark bench ingest`: one INSERT per reading in autocommit,
messages acknowledged on receipt (paho's default), as a first attempt would do it.

Runs in its own process; stops ``seconds`` after the first message and reports what it stored.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any


def naive_consumer(
    db_url: str, mqtt_url: str, park: str, devices: dict[str, int], seconds: float, ready: Any, results: Any
) -> None:
    import psycopg

    from smartpark import mqtt as sp_mqtt
    from smartpark.catalogue import BY_CODE
    from smartpark.contract import Topic

    conn = psycopg.connect(db_url, autocommit=True)
    state = {"stored": 0, "first": 0.0}

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        if not state["first"]:
            state["first"] = time.time()
        topic = Topic.parse(msg.topic)
        for code, entries in json.loads(msg.payload).items():
            for entry in entries if isinstance(entries, list) else [entries]:
                for metric, value in entry["values"].items():
                    conn.execute(
                        "INSERT INTO telemetry (ts, device_id, metric_id, value)"
                        " VALUES (to_timestamp(%s / 1000.0), %s, %s, %s) ON CONFLICT DO NOTHING",
                        (entry["ts"], devices[f"{topic.enterprise}/{code}"], BY_CODE[metric].id, value),
                    )
                    state["stored"] += 1

    client = sp_mqtt.make_client(
        f"bench-naive-{secrets.token_hex(4)}", url=mqtt_url, clean_start=True, session_expiry=0
    )
    client.on_message = on_message
    client.on_connect = lambda c, *_a: c.subscribe(f"smartpark/v1/{park}/+/gateway/+/telemetry", 1)
    sp_mqtt.connect(client)
    time.sleep(1)
    ready.release()
    while not state["first"]:
        time.sleep(0.01)
    time.sleep(seconds)
    stored, elapsed = state["stored"], time.time() - state["first"]
    client.disconnect()
    client.loop_stop()
    results.put({"stored": stored, "seconds": elapsed, "readings_per_s": stored / elapsed})

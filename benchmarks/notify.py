"""`smartpark bench notify`: how fast a gas leak reaches people, how exactly escalation keeps
its deadlines, and how a storm is bounded.

Real services throughout: the alerting service in this process on a scratch database and the
shared broker, a gateway publishing over MQTT, a local SMTP server (aiosmtpd, STARTTLS and
AUTH) and local endpoints that check WeCom's key and DingTalk's and Feishu's signatures.

1. Latency: ``--injections`` gas leaks, one every ``--spacing`` s (within the robots' 20 a
   minute and the email budget of 10 a minute), each timed from its publish to the SMTP
   server accepting the mail and to each robot endpoint receiving its message.
2. Escalation: each of those alarms has a policy whose level 2 (another robot) is due 3 s after
   it fired; the lateness is the page's queueing time and its arrival time minus the deadline.
3. Outage (``--outage-s``, 0: skipped): the robot endpoints answer 503 for that long while
   ``--outage-alarms`` gas leaks fire; counted after they return: how long until each robot has
   every alarm, whether each arrived exactly once, and in the order the alarms fired.
4. Storm: ``--storm`` gas detectors leak within a minute; one person is paged by email on each
   alarm (escalation level 1); counted: the messages that person receives in any minute, and
   the alarms they carry (every one, in summaries).
Prints a table, then one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import InboxTap, ensure_accounts, remove_accounts, scratch_db
from benchmarks.paging_endpoints import PlatformServer, SmtpServer, self_signed


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--injections", type=int, default=10, help="gas leaks timed end to end")
    parser.add_argument("--spacing", type=float, default=4.0, help="seconds between two timed leaks")
    parser.add_argument("--storm", type=int, default=1000, help="alarms of the storm")
    parser.add_argument("--storm-seconds", type=float, default=50.0, help="the storm is published within this")
    parser.add_argument("--escalate-after-s", type=float, default=3.0, help="level 2's deadline after firing")
    parser.add_argument("--outage-s", type=float, default=0.0, help="robot endpoints down this long (0: no outage)")
    parser.add_argument("--outage-alarms", type=int, default=5, help="gas leaks fired while the robots are down")
    parser.add_argument("--max-backoff-s", type=float, default=300.0, help="the service's retry backoff cap")
    parser.set_defaults(func=run)


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs), q)) if xs else float("nan")


def _model(code: str, timed: int, storm: int, outage: int = 0) -> dict[str, Any]:
    devs = [{"code": f"t{i:04d}", "kind": "gas_detector", "zone": "T"} for i in range(timed)]
    devs += [{"code": f"o{i:04d}", "kind": "gas_detector", "zone": "O"} for i in range(outage)]
    devs += [{"code": f"s{i:04d}", "kind": "gas_detector", "zone": f"S{i % 10}"} for i in range(storm)]
    gw = {"code": "gw1", "username": f"{code}.e1.gw1", "password": secrets.token_urlsafe(12), "devices": devs}
    ent = {"code": "e1", "name": "bench chemicals", "gateways": [gw]}
    return {"parks": [{"code": code, "name": "bench park", "enterprises": [ent]}]}


def run(args: argparse.Namespace) -> int:
    import psycopg
    from prometheus_client import CollectorRegistry

    from alerting import paging_store, routing_store
    from alerting.metrics import AlertingMetrics
    from alerting.rules import default_rules
    from alerting.service import AlertingService
    from smartpark.broker_admin import gateway_client_id
    from smartpark.contract import gateway_topic
    from smartpark.mqtt import BrokerTarget, connect, make_client, mqtt_url
    from smartpark.registry import broker_accounts, load_model
    from smartpark.settings import NotifySettings, get_settings

    settings = get_settings()
    code = f"bench-{secrets.token_hex(3)}"
    model = _model(code, args.injections, args.storm, args.outage_alarms if args.outage_s > 0 else 0)
    tmp = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    cert = self_signed(tmp)
    smtp, people_smtp, robots = SmtpServer(*cert), SmtpServer(*cert), PlatformServer()
    c = robots.creds
    with scratch_db("smartpark_bench_notify", settings) as scratch:
        url = scratch.url
        conn = psycopg.connect(url, autocommit=True)
        with conn.transaction():
            load_model(conn, model)
        ensure_accounts(settings, broker_accounts(model))
        time.sleep(2.0)  # the broker persists its account file after changes
        pid = conn.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()[0]  # type: ignore[index]
        # routing: timed devices only (the storm is the person's, through escalation)
        common = {"park_id": pid, "categories": ["safety"], "group_by": ("alertname", "device"), "group_interval_s": 0}
        routing_store.create_receiver(
            conn, name="mail", channel="email", config=smtp.receiver_config(), secrets={"password": smtp.password},
            **common,
        )  # fmt: skip
        routing_store.create_receiver(
            conn, name="wecom", channel="wecom", url=f"{robots.base}/wecom/send", secrets={"key": c.wecom_key},
            **common,
        )  # fmt: skip
        routing_store.create_receiver(
            conn, name="dingtalk", channel="dingtalk", url=f"{robots.base}/dingtalk/send",
            secrets={"access_token": c.dingtalk_token, "secret": c.dingtalk_secret}, **common,
        )  # fmt: skip
        routing_store.create_receiver(
            conn, name="feishu-l2", channel="feishu", url=f"{robots.base}/feishu/hook",
            secrets={"hook_token": c.feishu_hook, "secret": c.feishu_secret}, **{**common, "categories": ["energy"]},
        )  # fmt: skip
        routing_store.create_receiver(
            conn, name="person-mail", channel="email", config=people_smtp.receiver_config(to=[]),
            secrets={"password": people_smtp.password}, **common,
        )  # fmt: skip
        paging_store.create_contact(conn, name="duty", park_id=pid, email="duty@park.example", phone=None)
        paging_store.save_policy(
            conn, name="timed", park_id=pid, matchers=[f"park={code}", "device=~t.*"],
            definition={"levels": [{"after_min": 0, "receivers": ["wecom"]},
                                   {"after_min": args.escalate_after_s / 60, "receivers": ["feishu-l2"]}]},
        )  # fmt: skip
        paging_store.save_policy(
            conn, name="storm", park_id=pid, matchers=[f"park={code}", "device=~s.*"],
            definition={"levels": [{"after_min": 0, "receivers": ["person-mail"], "contacts": ["duty"]}]},
        )  # fmt: skip
        rules = [replace(r, scope=replace(r.scope, parks=(code,))) for r in default_rules() if r.id == "lel-level1"]
        service = AlertingService(
            settings=settings.model_copy(
                update={
                    "alerting_share_group": f"alerting-{code}",
                    "webhook_allowed_networks": ["127.0.0.0/8"],  # the local endpoints
                    "notify": NotifySettings(ack_secret=secrets.token_hex(16), public_url="https://p.example"),
                }
            ),
            rules=rules,
            inhibit=[],
            metrics=AlertingMetrics.create(CollectorRegistry()),
            client_id=f"alerting-{code}",
            tick_s=0.2,
            session_expiry_s=60,
            max_backoff_s=args.max_backoff_s,
            parks=(code,),
            connect=lambda: psycopg.connect(url, autocommit=True),
        )
        received: dict[str, float] = {}  # device -> when its reading reached the service

        def note(msg: Any) -> None:
            for dev in json.loads(msg.payload):
                if dev.startswith("t"):
                    received.setdefault(dev, msg.received_ms / 1000)

        service.inbox = InboxTap(service.inbox, note)  # type: ignore[assignment]
        gw = model["parks"][0]["enterprises"][0]["gateways"][0]
        target = BrokerTarget.parse(mqtt_url(settings)).with_credentials(gw["username"], gw["password"])
        # a gateway's account admits its own client id only (smartpark.broker_admin)
        pub = make_client(gateway_client_id(gw["username"]), target=target, clean_start=True, session_expiry=0)
        topic = gateway_topic(code, "e1", "gw1")
        loop: threading.Thread | None = None
        try:
            service.start()
            if not service.ready.wait(15):
                raise SystemExit("the alerting service did not subscribe")
            loop = threading.Thread(target=service.run, daemon=True)
            loop.start()
            connect(pub)
            sent: dict[str, float] = {}
            # 1 and 2: timed leaks
            for i in range(args.injections):
                dev = f"t{i:04d}"
                sent[dev] = time.time()
                pub.publish(
                    topic, json.dumps({dev: [{"ts": int(sent[dev] * 1000), "values": {"safety.lel_pct": 30}}]}), qos=1
                )
                time.sleep(args.spacing)
            deadline = time.time() + 30 + args.escalate_after_s
            while time.time() < deadline and len(robots.of("feishu")) < args.injections:
                time.sleep(0.2)
            mail_lat = _latencies(sent, [(m.at, _plain(m.message)) for m in smtp.mails])
            robot_lat = {ch: _latencies(sent, [(r.at, r.text) for r in robots.of(ch)]) for ch in ("wecom", "dingtalk")}
            broker_lat = [received[d] - sent[d] for d in sent if d in received]
            svc_mail = _latencies(received, [(m.at, _plain(m.message)) for m in smtp.mails])
            svc_robots = [
                x for ch in ("wecom", "dingtalk") for x in _latencies(received, [(r.at, r.text) for r in robots.of(ch)])
            ]
            outbox = conn.execute(
                "SELECT n.payload->'alerts'->0->'labels'->>'device', extract(epoch FROM n.created_at)::float8,"
                " extract(epoch FROM n.delivered_at)::float8 FROM alert_notifications n"
                " JOIN alert_receivers r USING (receiver_id) WHERE r.name = 'mail'"
            ).fetchall()
            to_outbox = [c - sent[d] for d, c, _ in outbox if d in sent]
            outbox_to_sent = [dl - c for d, c, dl in outbox if d in sent and dl is not None]
            fired = {
                row[0]: row[1].timestamp()
                for row in conn.execute(
                    "SELECT labels->>'device', firing_at FROM alerts"
                    " WHERE park_id = %s AND labels->>'device' LIKE 't%%'",
                    (pid,),
                )
            }
            queued = {
                row[0]: row[1].timestamp()
                for row in conn.execute(
                    "SELECT n.payload->'alerts'->0->'labels'->>'device', n.created_at FROM alert_notifications n"
                    " JOIN alert_receivers r USING (receiver_id) WHERE r.name = 'feishu-l2'",
                )
            }
            esc_queue = [queued[d] - (fired[d] + args.escalate_after_s) for d in queued if d in fired]
            arrived = _arrivals([(r.at, r.text) for r in robots.of("feishu")], fired)
            esc_arrive = [arrived[d] - (fired[d] + args.escalate_after_s) for d in arrived]
            # 3: an outage of the robots
            outage = _outage(args, robots, lambda body: pub.publish(topic, json.dumps(body), qos=1))
            # 4: the storm
            storm_start = time.time()
            per = args.storm_seconds / max(1, args.storm)
            batch = max(1, args.storm // 100)
            for k in range(0, args.storm, batch):
                now_ms = int(time.time() * 1000)
                body = {
                    f"s{j:04d}": [{"ts": now_ms, "values": {"safety.lel_pct": 30}}]
                    for j in range(k, min(args.storm, k + batch))
                }
                pub.publish(topic, json.dumps(body), qos=1)
                time.sleep(per * batch)
            storm_published = time.time() - storm_start
            end = time.time() + 75
            while time.time() < end and _storm_alarms(people_smtp) < args.storm:
                time.sleep(0.5)
            times = sorted(m.at for m in people_smtp.mails)
            worst_minute = max((sum(1 for t in times if s <= t < s + 60) for s in times), default=0)
            storm_alarms = conn.execute(
                "SELECT count(*) FROM alerts WHERE park_id = %s AND labels->>'device' LIKE 's%%'", (pid,)
            ).fetchone()[0]  # type: ignore[index]
        finally:
            service.stop_event.set()
            if loop is not None:
                loop.join(timeout=10)
            service.stop()
            pub.disconnect()
            pub.loop_stop()
            conn.close()
            smtp.close()
            people_smtp.close()
            robots.close()
            remove_accounts(settings, broker_accounts(model))
    figures = {
        "injections": args.injections,
        "email_p50_s": _pct(mail_lat, 50),
        "email_p99_s": _pct(mail_lat, 99),
        "email_received": len(mail_lat),
        "email_max_s": max(mail_lat, default=float("nan")),
        "publish_to_service_p50_s": _pct(broker_lat, 50),
        "publish_to_service_p99_s": _pct(broker_lat, 99),
        "service_to_email_p99_s": _pct(svc_mail, 99),
        "service_to_robots_p99_s": _pct(svc_robots, 99),
        "publish_to_outbox_p50_s": _pct(to_outbox, 50),
        "publish_to_outbox_max_s": max(to_outbox, default=float("nan")),
        "outbox_to_email_sent_p50_s": _pct(outbox_to_sent, 50),
        "outbox_to_email_sent_max_s": max(outbox_to_sent, default=float("nan")),
        **{f"{ch}_p50_s": _pct(v, 50) for ch, v in robot_lat.items()},
        **{f"{ch}_p99_s": _pct(v, 99) for ch, v in robot_lat.items()},
        **{f"{ch}_received": len(v) for ch, v in robot_lat.items()},
        "escalation_queued_late_max_s": max(esc_queue, default=float("nan")),
        "escalation_arrived_late_p99_s": _pct(esc_arrive, 99),
        "escalation_early": sum(1 for x in esc_queue if x < 0),
        **outage,
        "storm_alarms": int(storm_alarms),
        "storm_published_s": round(storm_published, 1),
        "storm_messages_to_person": len(times),
        "storm_max_messages_in_a_minute": worst_minute,
        "storm_alarms_carried": _storm_alarms(people_smtp),
        "refused_signatures": len(robots.refused),
    }
    print(f"{'figure':40} value")
    for name, value in figures.items():
        print(f"{name:40} {value:.3f}" if isinstance(value, float) else f"{name:40} {value}")
    print(json.dumps(figures))
    return 0


def _outage(args: argparse.Namespace, robots: PlatformServer, publish: Any) -> dict[str, Any]:
    """Robots down for ``args.outage_s`` while leaks fire, then back: when, how often and in
    which order each alarm reached each robot."""
    if args.outage_s <= 0:
        return {}
    devices = [f"o{i:04d}" for i in range(args.outage_alarms)]
    robots.down = True
    down_at = time.time()
    for dev in devices:
        publish({dev: [{"ts": int(time.time() * 1000), "values": {"safety.lel_pct": 30}}]})
        time.sleep(args.spacing)
    time.sleep(max(0.0, down_at + args.outage_s - time.time()))
    robots.down = False
    back_at = time.time()
    # a retry is due at most the backoff cap (+25 % jitter) after the endpoints return
    give_up = back_at + args.max_backoff_s * 1.25 + 60
    channels = ("wecom", "dingtalk")
    while time.time() < give_up and not all(
        set(devices) <= {d for r in robots.of(ch) for d in re.findall(r"\bo\d{4}\b", r.text)} for ch in channels
    ):
        time.sleep(0.5)
    out: dict[str, Any] = {"outage_s": round(back_at - down_at, 1), "outage_alarms": len(devices)}
    for ch in channels:
        seen: list[str] = []  # each alarm as it arrived: by message, then as the message lists it
        for r in sorted(robots.of(ch), key=lambda r: r.at):
            listed = re.findall(r"\bo\d{4}\b", r.text)
            seen += sorted(set(listed), key=listed.index)
        first = {d: min(r.at for r in robots.of(ch) if d in r.text) for d in set(seen)}
        out[f"outage_{ch}_delivered"] = len(set(seen))
        out[f"outage_{ch}_duplicates"] = len(seen) - len(set(seen))
        out[f"outage_{ch}_in_order"] = seen == devices
        out[f"outage_{ch}_after_return_max_s"] = max((first[d] - back_at for d in first), default=float("nan"))
    return out


def _latencies(sent: dict[str, float], got: list[tuple[float, str]]) -> list[float]:
    first: dict[str, float] = {}
    for at, text in got:
        for dev in set(re.findall(r"\bt\d{4}\b", text)):
            first.setdefault(dev, at)
    return [first[d] - sent[d] for d in sent if d in first]


def _arrivals(got: list[tuple[float, str]], devices: dict[str, float]) -> dict[str, float]:
    first: dict[str, float] = {}
    for at, text in got:
        for dev in set(re.findall(r"\bt\d{4}\b", text)):
            if dev in devices:
                first.setdefault(dev, at)
    return first


def _plain(message: Any) -> str:
    part = message.get_body(("plain",))
    return "" if part is None else str(part.get_content())


def _storm_alarms(server: Any) -> int:
    """Alarms the person's mails carried: a summary says how many, a single mail one."""
    total = 0
    for m in server.mails:
        subject = str(m.message["Subject"])
        found = re.search(r"(\d+) 条告警", subject)
        total += int(found.group(1)) if found else 1
    return total

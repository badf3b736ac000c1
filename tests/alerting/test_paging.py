"""Paging channels through the alerting service, against real local servers: an SMTP server
(aiosmtpd, STARTTLS or implicit TLS, AUTH) and HTTP endpoints that check WeCom's key,
DingTalk's and Feishu's signatures and Tencent Cloud's TC3-HMAC-SHA256 as documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from alerting import ack_links, routing_store
from alerting.rules import Rule
from benchmarks.paging_endpoints import PlatformServer, SmtpServer, receivers_for
from smartpark.settings import NotifySettings, Settings
from tests.support.alerting import Gateway, running, scoped
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
ACK_SECRET = "ack-secret-for-tests-0123456789"


@pytest.fixture
def paging_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"notify": NotifySettings(ack_secret=ACK_SECRET, public_url="https://p.example")})


@pytest.fixture
def gw(park: dict[str, Any], db: psycopg.Connection[Any]) -> Iterator[Gateway]:
    gateway = Gateway(park)
    yield gateway
    gateway.close()
    db.execute(
        "UPDATE alert_receivers SET enabled = false WHERE park_id = (SELECT park_id FROM parks WHERE code = %s)",
        (park["parks"][0]["code"],),
    )


def park_id(db: psycopg.Connection[Any], code: str) -> int:
    row = db.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()
    assert row is not None
    return int(row[0])


def gas_rule(code: str) -> list[Rule]:
    return scoped(
        code,
        {
            "id": "t-gas",
            "summary": "可燃气体一级报警",
            "metric": "safety.lel_pct",
            "condition": {"op": ">=", "threshold": 25},
            "severity": "critical",
        },
    )


def add_receiver(
    db: psycopg.Connection[Any], pid: int, name: str, channel: str, url: str | None, config: Any, secrets: Any
) -> int:
    return routing_store.create_receiver(
        db,
        name=f"{name}-{pid}",
        park_id=pid,
        categories=["safety"],
        channel=channel,
        url=url,
        config=config,
        secrets=secrets,
    )


def test_a_gas_leak_reaches_every_channel(
    paging_settings: Settings,
    db: psycopg.Connection[Any],
    park: dict[str, Any],
    gw: Gateway,
    platforms: PlatformServer,
    cert: tuple[Path, Path],
) -> None:
    code = park["parks"][0]["code"]
    pid = park_id(db, code)
    smtp = SmtpServer(*cert, security="starttls")
    smtps = SmtpServer(*cert, security="tls")
    try:
        add_receiver(db, pid, "mail", "email", None, smtp.receiver_config(), {"password": smtp.password})
        add_receiver(
            db, pid, "mails", "email", None, smtps.receiver_config(["lead@park.example"]), {"password": smtps.password}
        )
        for i, (channel, url, config, secrets) in enumerate(receivers_for(platforms)):
            add_receiver(db, pid, f"{channel}{i}", channel, url, config, secrets)
        with running(paging_settings, gas_rule(code), parks=[code]):
            gw.send({"gd1": {"safety.lel_pct": 31.5}})
            wait_until(lambda: smtp.mails and smtps.mails, what="both mails accepted")
            for channel in ("wecom", "dingtalk", "feishu", "sms", "sms-gateway"):
                wait_until(lambda c=channel: platforms.of(c), what=f"a {channel} message")
        assert platforms.refused == []
    finally:
        smtp.close()
        smtps.close()

    # the email: authenticated over TLS, plain text and HTML in Chinese, every fact and the link
    for server, to in ((smtp, "duty@park.example"), (smtps, "lead@park.example")):
        mail = server.mails[0]
        assert mail.login == server.username and mail.rcpt_tos == [to]
        plain = mail.message.get_body(("plain",)).get_content()
        page = mail.message.get_body(("html",)).get_content()
        for fact in ("可燃气体一级报警", park["parks"][0]["name"], "gd1", "C1", "31.5 %LEL", "≥ 25 %LEL", "紧急"):
            assert fact in plain, fact
        assert "可燃气体一级报警" in page and "<table>" in page
        link = re.search(r"https://p\.example/a/([A-Za-z0-9_-]{20})", plain)
        assert link is not None
        alert_id = ack_links.read_token(ACK_SECRET, link.group(1), now_s=0).alert_id
        row = db.execute("SELECT rule_id, state FROM alerts WHERE alert_id = %s", (alert_id,)).fetchone()
        assert row == ("t-gas", "firing")

    # robots: their documented formats, with the facts and the link
    wecom = platforms.of("wecom")[0].body
    assert wecom["msgtype"] == "markdown" and "31.5 %LEL" in wecom["markdown"]["content"]
    ding = platforms.of("dingtalk")[0].body
    assert ding["msgtype"] == "markdown" and "https://p.example/a/" in ding["markdown"]["text"]
    feishu = platforms.of("feishu")[0].body
    assert feishu["msg_type"] == "text" and "≥ 25 %LEL" in feishu["content"]["text"]
    # SMS: one 70-character unit with the signature, the value against the limit and the link
    tencent = platforms.of("sms")[0]
    assert tencent.target == "+8613800000001"
    (text,) = tencent.body["TemplateParamSet"]
    assert len(f"【{tencent.body['SignName']}】{text}") <= 70
    assert "31.5%LEL(≥25)" in text and "https://p.example/a/" in text
    gateway = platforms.of("sms-gateway")[0]
    assert gateway.target == "13800000002" and len(gateway.body["text"]) <= 70

    # the log: one ok attempt per channel, with its latency
    log = db.execute(
        "SELECT channel, target, result FROM notify_attempts WHERE %s = ANY(alert_ids) ORDER BY attempt_id",
        (alert_id,),
    ).fetchall()
    assert sorted(c for c, _, r in log if r == "ok") == sorted(
        ["email", "email", "wecom", "dingtalk", "feishu", "sms", "sms"]
    )


def test_a_wrong_signing_secret_is_refused_and_retried(
    paging_settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway, platforms: PlatformServer
) -> None:
    """The endpoint's check is real: a robot signed with another secret is refused, the
    notification stays in the outbox, and the log says why."""
    code = park["parks"][0]["code"]
    pid = park_id(db, code)
    c = platforms.creds
    rid = add_receiver(
        db,
        pid,
        "ding-wrong",
        "dingtalk",
        f"{platforms.base}/dingtalk/send",
        {},
        {"access_token": c.dingtalk_token, "secret": "SECnot-the-robots-secret"},
    )
    with running(paging_settings, gas_rule(code), parks=[code]):
        gw.send({"gd1": {"safety.lel_pct": 40}})
        wait_until(lambda: platforms.refused, what="the endpoint refusing the signature")
        errors = wait_until(
            lambda: db.execute(
                "SELECT error FROM notify_attempts WHERE receiver_id = %s AND result = 'error'", (rid,)
            ).fetchall(),
            what="the failed attempt logged",
        )
    assert "sign not match" in errors[0][0]
    assert "SECnot-the-robots-secret" not in errors[0][0]
    pending = db.execute(
        "SELECT count(*) FROM alert_notifications WHERE receiver_id = %s AND delivered_at IS NULL", (rid,)
    ).fetchone()
    assert pending == (1,)

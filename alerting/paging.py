"""Delivery of the paging channels (email, WeCom, DingTalk, Feishu, SMS) from the outbox.

The outbox keeps its guarantees (a row is delivered once, in order per receiver, retried with
backoff, kept across restarts); what this adds is the rate budget. Each message counts against
a budget per minute: the robot's documented limit, or for a person (an escalation page names
one) PERSON_PER_MINUTE over every channel. What waits while a budget is spent is not dropped:
the next message carries every notification that waited, in order, as one summary. So a storm
of 1 000 alarms becomes at most the budget's messages per minute per person and per robot.

Every attempt is logged (notify_attempts: channel, target, result, latency) for the alarm's
detail. Secrets never reach the log: errors are scrubbed of the receiver's secret values.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from alerting import ack_links, email_channel, outbox_store, paging_store, robots, sms
from alerting.channels import PERSON_PER_MINUTE, per_minute, smtp_port
from alerting.delivery import DeliveryError, backoff_s, guarded_http
from alerting.messages import AlarmFacts, Message, language, limit_text, render
from alerting.metrics import AlertingMetrics
from alerting.routing import Receiver
from alerting.rules import Rule, rule_to_dict
from smartpark.catalogue import BY_CODE
from smartpark.settings import NotifySettings
from smartpark.webhook_targets import TargetPolicy, TargetRefused

log = logging.getLogger(__name__)
WINDOW_S = 60.0
CLAIM_LIMIT = 2000  # notifications one summary may carry; the rest wait for the next
WORKERS = 4  # receivers delivered side by side


@dataclass(frozen=True, slots=True)
class LinkSettings:
    secret: str | None  # None: messages carry no acknowledge link
    public_url: str
    ttl_s: float


def link_settings(settings: NotifySettings) -> LinkSettings:
    if not settings.ack_secret:
        log.warning("paging: SMARTPARK_NOTIFY_ACK_SECRET is not set; messages carry no acknowledge link")
    return LinkSettings(settings.ack_secret or None, settings.public_url, settings.ack_ttl_s)


def budget_key(receiver: Receiver, payload: Mapping[str, Any]) -> str:
    person = payload.get("person")
    if isinstance(person, Mapping) and person.get("id") is not None:
        return f"person:{person['id']}"
    return f"receiver:{receiver.receiver_id}"


def budget(receiver: Receiver, key: str) -> int:
    limit = per_minute(receiver.channel, receiver.config)
    return min(limit, PERSON_PER_MINUTE) if key.startswith("person:") else limit


def scrub(text: str, secrets: Mapping[str, str]) -> str:
    for value in secrets.values():
        if value:
            text = text.replace(value, "***")
    return text


class Pager:
    """Sends the paging channels' notifications; one call per receiver and delivery pass."""

    def __init__(
        self,
        *,
        links: LinkSettings,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        max_backoff_s: float = 300.0,
        rules: Callable[[], Sequence[Rule]] = tuple,  # the rules the service judges by
        window_s: float = WINDOW_S,  # the budgets' window (shortened by tests)
        connect: Callable[[], psycopg.Connection[Any]] | None = None,  # for deliver_all's workers
        workers: int = WORKERS,
        targets: TargetPolicy | None = None,  # where a page may go (default: public addresses)
    ) -> None:
        self.links = links
        # Every connection goes to an address this policy checked when connecting (robots and SMS
        # through the guarded HTTP client, SMTP through email_channel's pinned socket): a name is
        # resolved once per connection, so it cannot be rebound to 127.0.0.1 after the check.
        self.targets = targets or TargetPolicy()
        self._connect = connect
        self._local = threading.local()
        self._conns: list[psycopg.Connection[Any]] = []
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paging")
        self.window_s = window_s
        self.rules = rules
        self.http = http or guarded_http(self.targets, httpx.Timeout(5.0, connect=2.0))
        self.clock = clock
        self.max_backoff_s = max_backoff_s

    def deliver_all(self, receivers: Sequence[Receiver], metrics: AlertingMetrics) -> int:
        """Each receiver's pass in a worker of its own (with its own connection); returns the
        notifications delivered. A database error is raised for the caller to recover from."""
        futures = [self._pool.submit(self._deliver_on_own_connection, r, metrics) for r in receivers]
        return sum(f.result() for f in futures)

    def _deliver_on_own_connection(self, receiver: Receiver, metrics: AlertingMetrics) -> int:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            if self._connect is None:
                raise RuntimeError("a Pager without connect cannot deliver side by side")
            conn = self._local.conn = self._connect()
            self._conns.append(conn)
        try:
            return self.deliver(conn, receiver, metrics)
        except psycopg.Error:
            conn.close()
            raise

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for conn in self._conns:
            conn.close()

    def deliver(self, conn: psycopg.Connection[Any], receiver: Receiver, metrics: AlertingMetrics) -> int:
        """Send what is due for this receiver, one message per budget key; returns the number of
        notifications delivered."""
        delivered = 0
        with conn.transaction():
            rows = outbox_store.claim_receiver_queue(conn, receiver_id=receiver.receiver_id, limit=CLAIM_LIMIT)
            by_key: dict[str, list[outbox_store.Outgoing]] = {}
            for row in rows:
                by_key.setdefault(budget_key(receiver, row.payload), []).append(row)
            for key, batch in by_key.items():
                if batch[0].due:  # else the oldest waits for its retry, and the later ones with it
                    delivered += self._deliver_batch(conn, receiver, key, batch, metrics)
        return delivered

    def _deliver_batch(
        self,
        conn: psycopg.Connection[Any],
        receiver: Receiver,
        key: str,
        batch: Sequence[outbox_store.Outgoing],
        metrics: AlertingMetrics,
    ) -> int:
        ids = [r.notification_id for r in batch]
        sent, oldest = paging_store.sent_in_window(conn, budget_key=key, window_s=self.window_s)
        if sent >= budget(receiver, key):
            outbox_store.defer(conn, notification_ids=ids, until_s=(oldest or self.clock()) + self.window_s + 0.05)
            return 0
        alerts = _alerts_of(batch)
        facts_rows = paging_store.alarm_facts(conn, alert_ids=[int(a["alert_id"]) for a in alerts])
        lang = language(receiver.config.get("language") or _park_language(facts_rows))
        conditions = {r.id: rule_to_dict(r)["condition"] for r in self.rules()}
        facts = [self._facts(a, facts_rows.get(int(a["alert_id"])), lang, conditions) for a in alerts]
        message = render(facts, lang, sms_sign=str(receiver.config.get("sign_name", "")))
        targets = _targets(receiver, batch[0].payload)
        started = time.perf_counter()
        try:
            self.send(receiver, targets, message)
            error = None
        except DeliveryError as exc:
            error = scrub(str(exc), receiver.secrets)
        latency_ms = (time.perf_counter() - started) * 1000
        paging_store.log_attempt(
            conn,
            receiver_id=receiver.receiver_id,
            channel=receiver.channel,
            target=", ".join(targets) or (receiver.url or receiver.channel),
            budget_key=key,
            notification_ids=ids,
            alert_ids=[int(a["alert_id"]) for a in alerts],
            result="ok" if error is None else "error",
            error=error,
            latency_ms=latency_ms,
        )
        if error is not None:
            delay = backoff_s(batch[0].attempts, cap=self.max_backoff_s)
            for nid in ids:
                outbox_store.mark_failed(conn, notification_id=nid, error=error, retry_in_s=delay)
            metrics.notifications_failed.labels(receiver.channel).inc()
            log.warning("%s to %s failed (retry in %.1f s): %s", receiver.channel, receiver.name, delay, error)
            return 0
        for nid in ids:
            outbox_store.mark_delivered(conn, notification_id=nid)
        metrics.notifications_sent.labels(receiver.channel).inc(len(ids))
        return len(ids)

    def _facts(
        self,
        alert: Mapping[str, Any],
        row: Mapping[str, Any] | None,
        lang: str,
        conditions: Mapping[str, Mapping[str, Any]],
    ) -> AlarmFacts:
        labels = alert.get("labels") or {}
        condition = conditions.get(str(labels.get("alertname"))) or (row["condition"] if row else None)
        metric = str(labels.get("metric", row["metric"] if row else ""))
        unit = BY_CODE[metric].unit if metric in BY_CODE else ""
        aid = int(alert["alert_id"])
        url = None
        if self.links.secret and alert.get("status") == "firing":
            token = ack_links.make_token(
                self.links.secret, alert_id=aid, expires_s=int(self.clock() + self.links.ttl_s)
            )
            url = ack_links.link_url(self.links.public_url, token)
        return AlarmFacts(
            alert_id=aid,
            status=str(alert.get("status", "firing")),
            severity=str(labels.get("severity", row["severity"] if row else "")),
            what=str(alert.get("summary") or labels.get("alertname", "")),
            park=str(row["park_name"] if row else labels.get("park", "")),
            enterprise=str((row or {}).get("enterprise_name") or labels.get("enterprise", "")),
            device=str(labels.get("device", "")),
            zone=str(labels.get("zone", "")),
            value=alert.get("value"),
            unit=unit,
            limit=limit_text(condition, unit, lang),
            since_ms=int(alert.get("starts_at_ms") or 0),
            timezone=str(row["timezone"]) if row else "Asia/Shanghai",
            ack_url=url,
        )

    # -- one message out ------------------------------------------------------------------------
    def send(self, receiver: Receiver, targets: Sequence[str], message: Message) -> None:
        ch, now = receiver.channel, self.clock()
        if ch == "email":
            if not targets:
                raise DeliveryError(f"email receiver {receiver.name!r} has nobody to write to")
            try:
                addresses = self.targets.addresses(str(receiver.config["host"]), smtp_port(receiver.config))
                email_channel.send(receiver.config, receiver.secrets, targets, message, addresses=addresses)
            except TargetRefused as exc:
                raise DeliveryError(f"SMTP {receiver.config.get('host')}: {exc}") from exc
            except (OSError, smtplib.SMTPException) as exc:
                raise DeliveryError(f"SMTP {receiver.config.get('host')}: {type(exc).__name__}: {exc}") from exc
            return
        if ch == "sms":
            if not targets:
                raise DeliveryError(f"SMS receiver {receiver.name!r} has no number to send to")
            if receiver.config.get("provider") == "tencent":
                req = sms.tencent_request(
                    receiver.url or sms.TENCENT_URL, receiver.config, receiver.secrets, targets, message.sms, now
                )
                status, body = self._post(req)
                error = robots.answer_error("sms", status, body) if not 200 <= status < 300 else None
                error = error or sms.tencent_error(body, targets)
            else:
                error = None
                for req in sms.gateway_requests(
                    receiver.url or "", receiver.config, receiver.secrets, targets, message.sms, now
                ):
                    status, body = self._post(req)
                    if not 200 <= status < 300:
                        error = f"HTTP {status} {body[:200]!r}"
                        break
            if error:
                raise DeliveryError(error)
            return
        if ch == "wecom":
            req = robots.wecom_request(receiver.url or robots.WECOM_URL, receiver.secrets, message)
        elif ch == "dingtalk":
            req = robots.dingtalk_request(receiver.url or robots.DINGTALK_URL, receiver.secrets, message, now)
        elif ch == "feishu":
            req = robots.feishu_request(receiver.url or robots.FEISHU_URL, receiver.secrets, message, now)
        else:
            raise DeliveryError(f"channel {ch!r} is not a paging channel")
        status, body = self._post(req)
        error = robots.answer_error(ch, status, body)
        if error:
            raise DeliveryError(error)

    def _post(self, req: robots.HttpRequest) -> tuple[int, bytes]:
        """POST through the guarded client: the target is checked when connecting, on the
        address connected to (the same rule as webhooks)."""
        try:
            resp = self.http.post(req.url, content=req.body, headers=req.headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"POST: {type(exc).__name__}: {exc}") from exc
        return resp.status_code, resp.content


def _alerts_of(batch: Sequence[outbox_store.Outgoing]) -> list[Mapping[str, Any]]:
    """The alarms of these notifications in order, each once with its latest status."""
    out: dict[int, Mapping[str, Any]] = {}
    for row in batch:
        for a in row.payload.get("alerts", []):
            out.pop(int(a["alert_id"]), None)
            out[int(a["alert_id"])] = a
    return list(out.values())


def _targets(receiver: Receiver, payload: Mapping[str, Any]) -> list[str]:
    if receiver.channel not in ("email", "sms"):
        return []
    to = payload.get("to")
    if isinstance(to, list) and to:
        return [str(x) for x in to]
    return [str(x) for x in receiver.config.get("to", [])]


def _park_language(rows: Mapping[int, Mapping[str, Any]]) -> str | None:
    return next((str(r["language"]) for r in rows.values() if r.get("language")), None)

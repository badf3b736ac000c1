"""Report packs by email through the email receivers the alarm channels already configure
(``alert_receivers`` with channel ``email``): a park's pack goes to the enabled email receivers
of that park (or of every park) whose categories include ``energy`` (the packs are statistics).
Each pack is tried once: sent, or its error kept (``report_files.email_error``) and shown in the
list; enterprise packs are downloaded, not mailed (the receivers are the park's)."""

from __future__ import annotations

import html
import logging
import smtplib
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.rows import dict_row

from alerting import email_channel
from alerting.channels import smtp_port
from alerting.messages import Message
from reports import store
from smartpark.webhook_targets import TargetPolicy, TargetRefused

log = logging.getLogger(__name__)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Send = Callable[..., None]


def receivers(conn: psycopg.Connection[Any], *, park_id: int) -> list[dict[str, Any]]:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT receiver_id, name, config, secrets FROM alert_receivers"
            " WHERE channel = 'email' AND enabled AND (park_id IS NULL OR park_id = %s)"
            " AND 'energy' = ANY(categories) ORDER BY receiver_id",
            (park_id,),
        )
        .fetchall()
    )


def message(title: str) -> Message:
    text = f"{title}\n\n附件为本期报表（XLSX 与 PDF）。此邮件由 smartpark 自动发送。"
    body = f"<p>{html.escape(title)}</p><p>附件为本期报表（XLSX 与 PDF）。此邮件由 smartpark 自动发送。</p>"
    return Message(subject=title, text=text, html=body, markdown=text, sms=title)


def to_receivers(
    found: list[dict[str, Any]],
    msg: Message,
    attachments: list[tuple[str, str, bytes]],
    *,
    targets: TargetPolicy,
    send: Send,
    what: str,
) -> list[str]:
    """Send ``msg`` to each email receiver (rows of ``alert_receivers``); the errors, one per
    receiver that failed (others still get it)."""
    errors = []
    for r in found:
        config, secrets = r["config"], r["secrets"]
        try:
            addresses = targets.addresses(str(config["host"]), smtp_port(config))
            to = [str(x) for x in config.get("to", [])]
            send(config, secrets, to, msg, addresses=addresses, attachments=attachments)
        except (OSError, smtplib.SMTPException, TargetRefused, KeyError) as exc:
            errors.append(f"{r['name']}: {type(exc).__name__}: {exc}")
            log.warning("%s not mailed to %s: %s", what, r["name"], exc)
    return errors


def send_pending(
    conn: psycopg.Connection[Any],
    *,
    targets: TargetPolicy,
    send: Send = email_channel.send,
    limit: int = 20,
    park_ids: list[int] | None = None,
) -> dict[str, int]:
    """Mail the park packs not yet mailed; counts of sent, failed and without a receiver."""
    done = {"sent": 0, "failed": 0, "no_receiver": 0}
    for report_id, park_id, _kind, period, title in store.unsent(conn, limit=limit, park_ids=park_ids):
        found = receivers(conn, park_id=park_id)
        if not found:
            store.mark_emailed(conn, report_id=report_id, error="no email receiver configured")
            done["no_receiver"] += 1
            continue
        files = store.files(conn, report_id=report_id)
        assert files is not None
        stem = f"{title}".replace("/", "-").replace(" ", "_")
        attachments = [(f"{stem}.xlsx", XLSX_MIME, files[0]), (f"{stem}.pdf", "application/pdf", files[1])]
        what = f"report {report_id} ({period})"
        errors = to_receivers(found, message(title), attachments, targets=targets, send=send, what=what)
        store.mark_emailed(conn, report_id=report_id, error="; ".join(errors) or None)
        done["failed" if errors else "sent"] += 1
    return done

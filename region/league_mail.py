"""Sending a publication to each league/city (Article 22: the office reports the results to each
盟市): its parks' rows as an XLSX and a CSV, to the email receivers registered for the league
(``smartpark region league-receiver``), through the alerting email channel like the report packs.
Each league is tried once per publication; its error is kept (``region_publication_mail``)."""

from __future__ import annotations

import html
from typing import Any

import psycopg

from alerting import email_channel
from alerting.messages import Message
from region import published
from region.result_report import render
from reports.mail import XLSX_MIME, Send, to_receivers
from smartpark.webhook_targets import TargetPolicy


def attachments(rows: list[dict[str, Any]], *, year: int, league: str) -> list[tuple[str, str, bytes]]:
    stem = f"{year}年度评价结果-{league}"
    xlsx = render(rows, year=year, fmt="xlsx", subtitle=league)
    csv = render(rows, year=year, fmt="csv")
    return [(f"{stem}.xlsx", XLSX_MIME, xlsx), (f"{stem}.csv", "text/csv", csv)]


def message(year: int, league: str, count: int) -> Message:
    title = f"{year} 年度园区综合评价结果（{league}，{count} 个园区）"
    text = f"{title}\n\n附件为本盟市园区的评价结果（XLSX 与 CSV）。此邮件由 smartpark 自动发送。"
    body = f"<p>{html.escape(title)}</p><p>附件为本盟市园区的评价结果（XLSX 与 CSV）。此邮件由 smartpark 自动发送。</p>"
    return Message(subject=title, text=text, html=body, markdown=text, sms=title)


def send_publication(
    conn: psycopg.Connection[Any],
    *,
    publication: dict[str, Any],
    targets: TargetPolicy,
    send: Send = email_channel.send,
) -> dict[str, int]:
    """Mail each league not yet tried its parks' rows; counts of sent, failed, without a receiver."""
    done = {"sent": 0, "failed": 0, "no_receiver": 0}
    year = int(publication["year"])
    for league in published.unmailed_leagues(conn, publication=publication):
        rows = published.narrowed(publication, league=league, park_code=None)["results"]
        found = published.league_receivers(conn, league=league)
        pid = int(publication["publication_id"])
        if not found:
            published.mark_mailed(conn, publication_id=pid, league=league, error="no email receiver registered")
            done["no_receiver"] += 1
            continue
        files = attachments(rows, year=year, league=league)
        msg = message(year, league, len(rows))
        errors = to_receivers(found, msg, files, targets=targets, send=send, what=f"results {year} of {league}")
        published.mark_mailed(conn, publication_id=pid, league=league, error="; ".join(errors) or None)
        done["failed" if errors else "sent"] += 1
    return done

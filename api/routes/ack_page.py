"""Acknowledge from the phone: the link in a page opens this small form, no login.

The link is the credential (alerting/ack_links.py): one alarm, signed with the server's secret,
expiring, and used once (the store records its digest). The page shows the alarm and takes a
name and a comment; the acknowledgement is recorded like an operator's, by "<name> (link)".
Answers never let the page be framed or the link leak on (no-referrer, no-store).
"""

from __future__ import annotations

import html
import urllib.parse
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from psycopg.rows import dict_row, tuple_row

from alerting import ack_links, lifecycle, paging_store
from alerting.messages import local_time
from api.deps import Clock, DbConn
from api.queries.paging import alarm_for_link

router = APIRouter(tags=["paging"], include_in_schema=False)
MAX_FORM_BYTES = 16 * 1024
MAX_NAME = 100
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}
SEVERITY = {"critical": "紧急", "major": "严重", "minor": "一般", "warning": "提示"}


def _page(status: int, title: str, body: str) -> HTMLResponse:
    doc = (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:1em;max-width:32em}}"
        "input,textarea,button{font-size:1em;width:100%;margin:.3em 0}th{text-align:left;padding-right:1em}</style>"
        f"</head><body><h2>{html.escape(title)}</h2>{body}</body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=HEADERS)


def _link(request: Request, token: str, clock: Clock) -> ack_links.AckLink | HTMLResponse:
    secret = request.app.state.settings.notify.ack_secret
    if not secret:
        return _page(404, "链接无效", "<p>本系统未启用确认链接。</p>")
    try:
        return ack_links.read_token(secret, token, now_s=clock())
    except ack_links.InvalidLink as exc:
        if "expired" in str(exc):
            return _page(410, "链接已过期", "<p>此确认链接已过期,请登录平台处理。</p>")
        return _page(404, "链接无效", "<p>此链接无效。</p>")


def _facts(alarm: dict[str, Any]) -> str:
    labels = alarm["labels"] or {}
    rows = [
        ("告警", alarm["summary"] or labels.get("alertname", "")),
        ("级别", SEVERITY.get(alarm["severity"], alarm["severity"])),
        (
            "位置",
            " / ".join(
                str(x)
                for x in (alarm["park_name"], labels.get("enterprise"), labels.get("device"), labels.get("zone"))
                if x
            ),
        ),
        ("当前值", "–" if alarm["value"] is None else f"{alarm['value']:.6g}"),
        ("开始时间", local_time(round(alarm["started_at"].timestamp() * 1000), alarm["timezone"])),
        ("状态", alarm["state"]),
    ]
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows) + "</table>"


@router.get("/a/{token}", response_class=HTMLResponse)
def ack_form(token: str, request: Request, conn: DbConn, clock: Clock) -> HTMLResponse:
    link = _link(request, token, clock)
    if isinstance(link, HTMLResponse):
        return link
    if paging_store.ack_link_used(conn, digest=link.digest):
        return _page(410, "链接已使用", "<p>此确认链接已经用过。</p>")
    alarm = alarm_for_link(conn, alert_id=link.alert_id)
    if alarm is None:
        return _page(404, "链接无效", "<p>告警不存在。</p>")
    done = f"<p>已由 {html.escape(alarm['acknowledged_by'])} 确认。</p>" if alarm["acknowledged_at"] else ""
    form = (
        f"<form method='post' action='/a/{html.escape(token, quote=True)}'>"
        f"<label>姓名<input name='name' maxlength='{MAX_NAME}' required></label>"
        f"<label>处理说明<textarea name='comment' maxlength='{lifecycle.MAX_COMMENT}' rows='4'></textarea></label>"
        "<button type='submit'>确认处理</button></form>"
    )
    return _page(200, "确认告警", _facts(alarm) + done + form)


@router.post("/a/{token}", response_class=HTMLResponse)
async def ack_submit(token: str, request: Request, conn: DbConn, clock: Clock) -> HTMLResponse:
    link = _link(request, token, clock)
    if isinstance(link, HTMLResponse):
        return link
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return _page(413, "内容过长", "<p>处理说明过长。</p>")
    form = urllib.parse.parse_qs(raw.decode(errors="replace"), max_num_fields=10)
    name = (form.get("name") or [""])[0].strip()
    comment = (form.get("comment") or [""])[0]
    if not name or len(name) > MAX_NAME or len(comment) > lifecycle.MAX_COMMENT:
        return _page(400, "请填写姓名", f"<p>姓名必填(至多 {MAX_NAME} 字),说明至多 {lifecycle.MAX_COMMENT} 字。</p>")
    conn.row_factory = tuple_row  # alerting's functions read plain tuples
    try:
        with conn.transaction():
            if not paging_store.use_ack_link(conn, digest=link.digest, alert_id=link.alert_id, by=name):
                return _page(410, "链接已使用", "<p>此确认链接已经用过。</p>")
            lifecycle.acknowledge(conn, alert_id=link.alert_id, by=f"{name} (link)", comment=comment)
    except lifecycle.AlertNotFound:
        return _page(404, "链接无效", "<p>告警不存在。</p>")
    finally:
        conn.row_factory = dict_row
    request.app.state.answers.clear()
    return _page(200, "已确认", "<p>告警已确认,升级通知停止。谢谢。</p>")

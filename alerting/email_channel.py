"""Email over SMTP: STARTTLS (submission, port 587) or implicit TLS (port 465), with AUTH, a
plain-text and an HTML part (RFC 2046 multipart/alternative).

A password is only ever sent over TLS (the receiver's settings refuse "none" with a password),
the server's certificate is verified (a park's own CA may be named by ``ca_file``), and every
step has a timeout so a dead server holds back only its receiver's queue.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from alerting.messages import Message

TIMEOUT_S = 10.0


def build(message: Message, *, sender: str, to: Sequence[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a page
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


def _context(config: Mapping[str, Any]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.get("ca_file") or None)


def send(config: Mapping[str, Any], secrets: Mapping[str, str], to: Sequence[str], message: Message) -> None:
    """Hand the message to the SMTP server; raises OSError or smtplib.SMTPException on failure."""
    host, security = str(config["host"]), config.get("security", "starttls")
    port = int(config.get("port", 465 if security == "tls" else 587))
    mail = build(message, sender=str(config["from"]), to=to)
    smtp: smtplib.SMTP
    if security == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_S, context=_context(config))
    else:
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=_context(config))
        if config.get("username"):
            smtp.login(str(config["username"]), secrets["password"])
        refused = smtp.send_message(mail, to_addrs=list(to))
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)

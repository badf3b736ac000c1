"""Email over SMTP: STARTTLS (submission, port 587) or implicit TLS (port 465), with AUTH, a
plain-text and an HTML part (RFC 2046 multipart/alternative).

A password is only ever sent over TLS (the receiver's settings refuse "none" with a password),
the server's certificate is verified (a park's own CA may be named by ``ca_file``), and every
step has a timeout so a dead server holds back only its receiver's queue. The connection goes
to addresses the caller has already checked (``addresses``), never to a second resolution of
the host name, which names the server for TLS only.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from alerting.channels import smtp_port
from alerting.messages import Message

TIMEOUT_S = 10.0


Attachment = tuple[str, str, bytes]  # file name, MIME type ("application/pdf"), content


def build(message: Message, *, sender: str, to: Sequence[str], attachments: Sequence[Attachment] = ()) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a page
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    for filename, mime, content in attachments:  # report packs
        maintype, _, subtype = mime.partition("/")
        mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return mail


def _context(config: Mapping[str, Any]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.get("ca_file") or None)


def _connect(addresses: Sequence[str], port: int, timeout: float) -> socket.socket:
    """A TCP connection to the first of ``addresses`` that answers, as a resolver's list is tried."""
    failure: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            failure = exc
    raise failure


class _PinnedSMTP(smtplib.SMTP):
    def __init__(self, host: str, port: int, *, addresses: Sequence[str]) -> None:
        self.addresses = addresses
        super().__init__(host, port, timeout=TIMEOUT_S)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return _connect(self.addresses, port, timeout)


class _PinnedSMTPS(smtplib.SMTP_SSL):
    def __init__(self, host: str, port: int, *, addresses: Sequence[str], context: ssl.SSLContext) -> None:
        self.addresses, self.server_name = addresses, host
        super().__init__(host, port, timeout=TIMEOUT_S, context=context)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = _connect(self.addresses, port, timeout)
        return self.context.wrap_socket(sock, server_hostname=self.server_name)


def send(
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    to: Sequence[str],
    message: Message,
    *,
    addresses: Sequence[str],
    attachments: Sequence[Attachment] = (),
) -> None:
    """Hand the message to the SMTP server at ``addresses`` (the checked addresses of its host);
    raises OSError or smtplib.SMTPException on failure."""
    host, security = str(config["host"]), config.get("security", "starttls")
    mail = build(message, sender=str(config["from"]), to=to, attachments=attachments)
    smtp: smtplib.SMTP
    if security == "tls":
        smtp = _PinnedSMTPS(host, smtp_port(config), addresses=addresses, context=_context(config))
    else:
        smtp = _PinnedSMTP(host, smtp_port(config), addresses=addresses)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=_context(config))
        if config.get("username"):
            smtp.login(str(config["username"]), secrets["password"])
        refused = smtp.send_message(mail, to_addrs=list(to))
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)

"""Real local servers the paging channels deliver to (for the benchmark, the tests and trying
out a deployment), each checking the request as its platform documents it: an SMTP server
(aiosmtpd) with STARTTLS or implicit TLS and AUTH, and an HTTP server playing WeCom, DingTalk,
Feishu, Tencent Cloud SMS and a park's own SMS gateway.

The signature checks are written from the platforms' documents, independently of
alerting/robots.py and alerting/sms.py, so a wrong signer fails here the way the platform would
refuse it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import subprocess
import threading
import time
import urllib.parse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, Session

from alerting.delivery import verify as verify_webhook
from benchmarks.harness import free_port

ONE_HOUR_S = 3600


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (openssl)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


class _Session(Session):
    """aiosmtpd sets the deprecated ``login_data`` itself after a successful AUTH; its warning
    would be an error under the test run's warning filter."""

    @property
    def login_data(self) -> Any:
        return self._login_data

    @login_data.setter
    def login_data(self, value: Any) -> None:
        self._login_data = value


class _SMTP(SMTP):
    def _create_session(self) -> Session:
        return _Session(self.loop)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _SMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class Mail:
    at: float
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None


@dataclass
class SmtpServer:
    """aiosmtpd on 127.0.0.1: security "starttls" (AUTH only after STARTTLS) or "tls"."""

    cert: Path
    key: Path
    security: str = "starttls"
    username: str = "pager"
    password: str = "s3cret-smtp-password"
    mails: list[Mail] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    controller: Any = None
    _port: int = 0

    def __post_init__(self) -> None:
        self._port = free_port()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        server = self

        class Handler:
            async def handle_DATA(self, srv: Any, session: Any, envelope: Any) -> str:
                msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
                assert isinstance(msg, EmailMessage)
                login = server.logins[-1] if session.authenticated and server.logins else None
                server.mails.append(Mail(time.time(), envelope.mail_from, list(envelope.rcpt_tos), msg, login))
                return "250 OK"

        def authenticator(srv: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == self.username
                and data.password.decode() == self.password
            )
            if ok:
                self.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)

        kw: dict[str, Any] = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": True}
        if self.security == "tls":
            # the whole session is TLS, which aiosmtpd's auth_require_tls only knows of after STARTTLS
            # (its warning, raised per connection, is about plain-text sessions)
            kw["auth_require_tls"] = False
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            self.controller = _Controller(Handler(), hostname="127.0.0.1", port=self._port, ssl_context=ctx, **kw)
        else:
            self.controller = _Controller(
                Handler(), hostname="127.0.0.1", port=self._port, tls_context=ctx, require_starttls=True, **kw
            )
        self.controller.start()

    @property
    def port(self) -> int:
        return self._port

    def receiver_config(self, to: list[str] | None = None) -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "security": self.security,
            "username": self.username,
            "from": "alarms@park.example",
            "to": to if to is not None else ["duty@park.example"],
            "ca_file": str(self.cert),
        }

    def close(self) -> None:
        self.controller.stop()


@dataclass
class Received:
    at: float
    channel: str
    body: dict[str, Any]
    target: str = ""

    @property
    def text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False)


@dataclass
class Credentials:
    wecom_key: str = "wecom-key-0123456789"
    dingtalk_token: str = "dingtalk-token-0123456789"
    dingtalk_secret: str = "SECdingtalk0123456789abcdef"
    feishu_hook: str = "feishu-hook-0123456789"
    feishu_secret: str = "feishu-secret-0123456789"
    tencent_id: str = "AKIDtest0123456789"
    tencent_key: str = "tencent-secret-key-0123456789"
    gateway_hmac: str = "gateway-hmac-secret-0123456789"


class PlatformServer:
    """One HTTP server for every platform, by path; ``down`` answers 503 to all (an outage)."""

    def __init__(self, creds: Credentials | None = None) -> None:
        self.creds = creds or Credentials()
        self.received: list[Received] = []
        self.refused: list[tuple[str, str]] = []
        self.down = False
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.down:
                    self._answer(503, {"error": "down"})
                    return
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                try:
                    channel, target, reply = outer.check(url.path, query, dict(self.headers), body)
                except ValueError as exc:
                    with outer.lock:
                        outer.refused.append((url.path, str(exc)))
                    self._answer(200, {"errcode": 310000, "code": 19021, "errmsg": str(exc)})
                    return
                with outer.lock:
                    outer.received.append(Received(time.time(), channel, json.loads(body), target))
                self._answer(200, reply)

            def _answer(self, status: int, obj: Any) -> None:
                raw = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def of(self, channel: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.channel == channel]

    # -- what each platform checks ---------------------------------------------------------------
    def check(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[str, str, dict[str, Any]]:
        c = self.creds
        ok = {"errcode": 0, "errmsg": "ok"}
        if path == "/wecom/send":
            if query.get("key") != [c.wecom_key]:
                raise ValueError("invalid webhook key")
            return "wecom", "", ok
        if path == "/dingtalk/send":
            # DingTalk: timestamp (ms) within an hour; sign = Base64(HmacSHA256(secret,
            # timestamp + "\n" + secret)), URL-encoded in the query (decoded here by parse_qs).
            if query.get("access_token") != [c.dingtalk_token]:
                raise ValueError("token is not exist")
            ts = int(query["timestamp"][0])
            if abs(time.time() * 1000 - ts) > ONE_HOUR_S * 1000:
                raise ValueError("timestamp out of range")
            string_to_sign = f"{ts}\n{c.dingtalk_secret}".encode()
            want = base64.b64encode(hmac.new(c.dingtalk_secret.encode(), string_to_sign, hashlib.sha256).digest())
            if query.get("sign") != [want.decode()]:
                raise ValueError("sign not match")
            return "dingtalk", "", ok
        if path == f"/feishu/hook/{c.feishu_hook}":
            # Feishu: HmacSHA256 keyed with timestamp + "\n" + secret over an empty message, Base64;
            # the timestamp (s) within an hour.
            doc = json.loads(body)
            ts = int(doc["timestamp"])
            if abs(time.time() - ts) > ONE_HOUR_S:
                raise ValueError("timestamp out of range")
            key = f"{ts}\n{c.feishu_secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if doc.get("sign") != expected:
                raise ValueError("sign match fail or timestamp is not within one hour from current time")
            return "feishu", "", {"code": 0, "msg": "success", "data": {}}
        if path == "/sms/tencent":
            doc = json.loads(body)
            self._check_tc3(headers, body)
            statuses = [{"Code": "Ok", "PhoneNumber": p, "Message": "send success"} for p in doc["PhoneNumberSet"]]
            return "sms", ",".join(doc["PhoneNumberSet"]), {"Response": {"SendStatusSet": statuses, "RequestId": "r"}}
        if path == "/sms/gateway":
            if not verify_webhook(c.gateway_hmac, headers, body):
                raise ValueError("bad gateway signature")
            return "sms-gateway", str(json.loads(body).get("to")), {"ok": True}
        raise ValueError(f"no such endpoint {path}")

    def _check_tc3(self, headers: dict[str, str], body: bytes) -> None:
        """TencentCloud API signature v3 (TC3-HMAC-SHA256), step by step as documented."""
        c = self.creds
        h = {k.lower(): v for k, v in headers.items()}
        if h.get("x-tc-action") != "SendSms" or h.get("x-tc-version") != "2021-01-11":
            raise ValueError("InvalidAction")
        ts = int(h["x-tc-timestamp"])
        if abs(time.time() - ts) > 300:  # "AuthFailure.SignatureExpire": more than 5 minutes apart
            raise ValueError("AuthFailure.SignatureExpire")
        algorithm, rest = h["authorization"].split(" ", 1)
        parts = dict(p.strip().split("=", 1) for p in rest.split(","))
        secret_id, date, service, terminator = parts["Credential"].split("/")
        if algorithm != "TC3-HMAC-SHA256" or secret_id != c.tencent_id or terminator != "tc3_request":
            raise ValueError("AuthFailure.SecretIdNotFound")
        if date != time.strftime("%Y-%m-%d", time.gmtime(ts)) or service != "sms":
            raise ValueError("AuthFailure.InvalidAuthorization")
        signed = parts["SignedHeaders"].split(";")
        canonical_headers = "".join(f"{name}:{h[name].strip().lower()}\n" for name in signed)
        canonical_request = "\n".join(
            ["POST", "/", "", canonical_headers, parts["SignedHeaders"], hashlib.sha256(body).hexdigest()]
        )
        string_to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                str(ts),
                f"{date}/{service}/tc3_request",
                hashlib.sha256(canonical_request.encode()).hexdigest(),
            ]
        )

        def sign(key: bytes, msg: str) -> bytes:
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()

        secret_signing = sign(sign(sign(("TC3" + c.tencent_key).encode(), date), service), "tc3_request")
        want = hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if parts["Signature"] != want:
            raise ValueError("AuthFailure.SignatureFailure")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def receivers_for(server: PlatformServer) -> Iterator[tuple[str, str, dict[str, Any], dict[str, str]]]:
    """(channel, url, config, secrets) of a receiver per HTTP platform of ``server``."""
    c = server.creds
    yield "wecom", f"{server.base}/wecom/send", {}, {"key": c.wecom_key}
    yield (
        "dingtalk",
        f"{server.base}/dingtalk/send",
        {},
        {"access_token": c.dingtalk_token, "secret": c.dingtalk_secret},
    )
    yield "feishu", f"{server.base}/feishu/hook", {}, {"hook_token": c.feishu_hook, "secret": c.feishu_secret}
    yield (
        "sms",
        f"{server.base}/sms/tencent",
        {
            "provider": "tencent",
            "to": ["+8613800000001"],
            "sdk_app_id": "1400000000",
            "sign_name": "智慧园区",
            "template_id": "100001",
        },
        {"secret_id": c.tencent_id, "secret_key": c.tencent_key},
    )
    yield (
        "sms",
        f"{server.base}/sms/gateway",
        {"provider": "http", "to": ["13800000002"], "body": {"to": "{phone}", "text": "{text}"}},
        {"hmac": c.gateway_hmac},
    )

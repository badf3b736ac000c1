"""Group robots of the chat platforms parks use (pure: each builds the request, the sender posts).

- WeCom group robot: POST {url}?key=KEY, {"msgtype": "markdown", "markdown": {"content": …}};
  20 messages per minute per robot (developer.work.weixin.qq.com/document/path/91770).
- DingTalk custom robot with the "加签" security setting: POST
  {url}?access_token=TOKEN&timestamp=MS&sign=SIGN where SIGN = urlencode(base64(HMAC-SHA256(
  key=secret, msg=f"{MS}\\n{secret}"))), the timestamp in milliseconds and within an hour of the
  server's clock; 20 messages per minute per robot (open.dingtalk.com, 自定义机器人安全设置).
- Feishu custom bot with signature verification: POST {url}/{hook_token}, the JSON body carries
  "timestamp" (seconds) and "sign" = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")),
  within an hour; 100 messages per minute and 5 per second per bot (open.feishu.cn, 自定义机器人
  使用指南).

Each platform answers HTTP 200 with an error code in the body: errcode 0 (WeCom, DingTalk) or
code 0 (Feishu) is success, anything else is a failure to retry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alerting.messages import Message

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send"
FEISHU_URL = "https://open.feishu.cn/open-apis/bot/v2/hook"
MARKDOWN_MAX_BYTES = 4096  # WeCom's markdown content limit; DingTalk's is larger


@dataclass(frozen=True, slots=True)
class HttpRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def _json(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _clip(text: str, max_bytes: int = MARKDOWN_MAX_BYTES) -> str:
    raw = text.encode()
    if len(raw) <= max_bytes:
        return text
    return raw[: max_bytes - 3].decode(errors="ignore") + "…"


def _with_query(url: str, params: Mapping[str, str]) -> str:
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + sep + "&".join(f"{k}={v}" for k, v in params.items())


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature, already URL-encoded as it goes into the query string."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(mac).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def wecom_request(url: str, secrets: Mapping[str, str], message: Message) -> HttpRequest:
    body = {"msgtype": "markdown", "markdown": {"content": _clip(message.markdown)}}
    key = urllib.parse.quote(secrets["key"], safe="")
    return HttpRequest(_with_query(url, {"key": key}), {"Content-Type": "application/json"}, _json(body))


def dingtalk_request(url: str, secrets: Mapping[str, str], message: Message, now_s: float) -> HttpRequest:
    ts = int(now_s * 1000)
    params = {"access_token": urllib.parse.quote(secrets["access_token"], safe="")}
    if secrets.get("secret"):
        params |= {"timestamp": str(ts), "sign": dingtalk_sign(secrets["secret"], ts)}
    body = {"msgtype": "markdown", "markdown": {"title": message.subject[:64], "text": _clip(message.markdown)}}
    return HttpRequest(_with_query(url, params), {"Content-Type": "application/json"}, _json(body))


def feishu_request(url: str, secrets: Mapping[str, str], message: Message, now_s: float) -> HttpRequest:
    body: dict[str, Any] = {"msg_type": "text", "content": {"text": f"{message.subject}\n{message.text}"}}
    if secrets.get("secret"):
        ts = int(now_s)
        body = {"timestamp": str(ts), "sign": feishu_sign(secrets["secret"], ts), **body}
    hook = urllib.parse.quote(secrets["hook_token"], safe="")
    return HttpRequest(f"{url.rstrip('/')}/{hook}", {"Content-Type": "application/json"}, _json(body))


def answer_error(channel: str, status: int, body: bytes) -> str | None:
    """None when the platform accepted the message, else what it said."""
    if not 200 <= status < 300:
        return f"HTTP {status} {body[:200]!r}"
    try:
        answer = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:200]!r}"
    code = answer.get("code", answer.get("StatusCode")) if channel == "feishu" else answer.get("errcode")
    if code == 0:
        return None
    return f"{channel} refused: {json.dumps(answer, ensure_ascii=False)[:300]}"

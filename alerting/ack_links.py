"""Acknowledge links (pure): the link in a page is the credential to acknowledge one alarm.

A token names one alarm (5 bytes) and an expiry (3 bytes: minutes since 2020, to 2051) and
carries an HMAC-SHA256 of both under the server's secret (settings.notify.ack_secret),
truncated to 56 bits: 20 characters, short enough for an SMS, and an online guess among 2^56
is out of reach (each try is a request). Single use is kept by the store
(notify_ack_uses: the token's digest once used), not by the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

MAC_BYTES = 7
_ID_BYTES, _EXP_BYTES = 5, 3
EPOCH_S = 1_577_836_800  # 2020-01-01T00:00:00Z
TOKEN_CHARS = 20
_DOMAIN = b"smartpark-ack-v1"
MIN_SECRET_BYTES = 16


class InvalidLink(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class AckLink:
    alert_id: int
    expires_s: int
    digest: str  # what the store records once the link is used


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str) -> bytes:
    key = secret.encode()
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"the acknowledge-link secret must have at least {MIN_SECRET_BYTES} bytes")
    return key


def make_token(secret: str, *, alert_id: int, expires_s: int) -> str:
    """The expiry is rounded up to the minute."""
    minutes = -(-(expires_s - EPOCH_S) // 60)
    if not 0 < alert_id < 2 ** (8 * _ID_BYTES) or not 0 < minutes < 2 ** (8 * _EXP_BYTES):
        raise ValueError(f"alert {alert_id} or expiry {expires_s} out of range for a link")
    body = alert_id.to_bytes(_ID_BYTES, "big") + minutes.to_bytes(_EXP_BYTES, "big")
    mac = hmac.new(_key(secret), _DOMAIN + body, hashlib.sha256).digest()[:MAC_BYTES]
    return _b64(body + mac)


def read_token(secret: str, token: str, *, now_s: float) -> AckLink:
    """The link's alarm, or InvalidLink saying why (forged, malformed or expired)."""
    if not isinstance(token, str) or len(token) != TOKEN_CHARS or not token.replace("-", "").replace("_", "").isalnum():
        raise InvalidLink("malformed link")
    try:
        raw = _unb64(token)
    except ValueError:
        raise InvalidLink("malformed link") from None
    body, mac = raw[: _ID_BYTES + _EXP_BYTES], raw[_ID_BYTES + _EXP_BYTES :]
    want = hmac.new(_key(secret), _DOMAIN + body, hashlib.sha256).digest()[:MAC_BYTES]
    if not hmac.compare_digest(mac, want):
        raise InvalidLink("the link's signature does not match")
    alert_id = int.from_bytes(body[:_ID_BYTES], "big")
    expires_s = EPOCH_S + 60 * int.from_bytes(body[_ID_BYTES:], "big")
    if now_s >= expires_s:
        raise InvalidLink("the link has expired")
    return AckLink(alert_id, expires_s, hashlib.sha256(token.encode()).hexdigest())


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/a/{token}"

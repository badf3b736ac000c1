"""Which messages the platform itself published (the HJ 212 server's republished readings).

A device that reports over HJ 212 takes readings from its data logger only, yet its telemetry
topic is below its enterprise's prefix, where the enterprise's gateways may publish too. The
HJ 212 server therefore marks each message with an MQTT v5 user property holding an HMAC of the
topic and payload under a key derived from the platform account's credentials; a gateway cannot
compute it (nor copy one: gateways may not subscribe), and the ingester checks it.
"""

from __future__ import annotations

import hashlib
import hmac

from smartpark.mqtt import BrokerTarget

ORIGIN_PROPERTY = "smartpark-origin"


def origin_key(platform_url: str) -> bytes:
    target = BrokerTarget.parse(platform_url)
    secret = f"{target.username}:{target.password}".encode()
    return hmac.new(secret, b"smartpark message origin v1", hashlib.sha256).digest()


def sign(key: bytes, topic: str, payload: bytes) -> str:
    return hmac.new(key, topic.encode() + b"\n" + payload, hashlib.sha256).hexdigest()


def signed_by_platform(key: bytes, topic: str, payload: bytes, properties: object) -> bool:
    """True when a received message carries the platform's mark for exactly this topic and payload."""
    pairs = getattr(properties, "UserProperty", None) or []
    tags = [v for k, v in pairs if k == ORIGIN_PROPERTY]
    return len(tags) == 1 and hmac.compare_digest(tags[0], sign(key, topic, payload))

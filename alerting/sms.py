"""SMS through a provider adapter (pure: each builds the request, the sender posts).

- ``tencent``: Tencent Cloud SMS SendSms (API version 2021-01-11) signed with TencentCloud API
  signature v3, TC3-HMAC-SHA256 (tencentcloud.com/document/product/1084/39391, "Signature v3";
  the same for every product):
    CanonicalRequest = "POST\\n/\\n\\n" + "content-type:application/json; charset=utf-8\\nhost:HOST\\n"
                       + "\\ncontent-type;host\\n" + hex(sha256(payload))
    StringToSign     = "TC3-HMAC-SHA256\\n" + timestamp + "\\n" + f"{date}/sms/tc3_request" + "\\n"
                       + hex(sha256(CanonicalRequest))
    SecretSigning    = HMAC(HMAC(HMAC("TC3" + SecretKey, date), "sms"), "tc3_request")
    Signature        = hex(HMAC(SecretSigning, StringToSign))
  with date the UTC date of the timestamp. The message is the single parameter of a template
  whose text is "{1}" (the park registers it with the provider); success is a SendStatusSet
  entry with Code "Ok" per number.
- ``http``: a park's own gateway: a JSON body from a template whose strings may contain
  ``{phone}`` and ``{text}``, signed like smartpark's webhooks (X-Smartpark-Signature) when the
  receiver has a ``hmac`` secret; any 2xx is success.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from alerting.robots import HttpRequest

TENCENT_URL = "https://sms.tencentcloudapi.com"
TENCENT_VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
MAX_NUMBERS = 200  # SendSms takes at most 200 numbers a request


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tc3_authorization(
    *, secret_id: str, secret_key: str, host: str, payload: bytes, timestamp: int, service: str = "sms"
) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        (
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        )
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join((ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()))
    signing = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


def tencent_request(
    url: str, config: Mapping[str, Any], secrets: Mapping[str, str], phones: Sequence[str], text: str, now_s: float
) -> HttpRequest:
    payload = json.dumps(
        {
            "PhoneNumberSet": list(phones)[:MAX_NUMBERS],
            "SmsSdkAppId": str(config["sdk_app_id"]),
            "SignName": str(config["sign_name"]),
            "TemplateId": str(config["template_id"]),
            "TemplateParamSet": [text],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    host = urllib.parse.urlsplit(url).netloc
    ts = int(now_s)
    headers = {
        "Content-Type": CONTENT_TYPE,
        "Host": host,
        "X-TC-Action": "SendSms",
        "X-TC-Timestamp": str(ts),
        "X-TC-Version": TENCENT_VERSION,
        "X-TC-Region": str(config.get("region", "ap-guangzhou")),
        "Authorization": tc3_authorization(
            secret_id=secrets["secret_id"], secret_key=secrets["secret_key"], host=host, payload=payload, timestamp=ts
        ),
    }
    return HttpRequest(url, headers, payload)


def tencent_error(body: bytes, phones: Sequence[str]) -> str | None:
    try:
        answer = json.loads(body).get("Response", {})
    except (ValueError, AttributeError):
        return f"not JSON: {body[:200]!r}"
    if "Error" in answer:
        return f"tencent refused: {answer['Error'].get('Code')}: {answer['Error'].get('Message')}"
    failed = [s for s in answer.get("SendStatusSet", []) if s.get("Code") != "Ok"]
    if failed or len(answer.get("SendStatusSet", [])) != len(phones):
        return f"tencent refused {len(failed)} of {len(phones)} numbers: {json.dumps(failed, ensure_ascii=False)[:300]}"
    return None


def _fill(template: Any, values: Mapping[str, str]) -> Any:
    if isinstance(template, str):
        for k, v in values.items():
            template = template.replace("{" + k + "}", v)
        return template
    if isinstance(template, list):
        return [_fill(t, values) for t in template]
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    return template


def gateway_requests(
    url: str, config: Mapping[str, Any], secrets: Mapping[str, str], phones: Sequence[str], text: str, now_s: float
) -> list[HttpRequest]:
    """One request per number, the body filled from the receiver's template."""
    from alerting.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

    out = []
    for phone in phones:
        body = json.dumps(
            _fill(config.get("body", {"to": "{phone}", "text": "{text}"}), {"phone": phone, "text": text}),
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {"Content-Type": "application/json"}
        if secrets.get("hmac"):
            ts_ms = int(now_s * 1000)
            headers |= {TIMESTAMP_HEADER: str(ts_ms), SIGNATURE_HEADER: signature(secrets["hmac"], ts_ms, body)}
        out.append(HttpRequest(url, headers, body))
    return out

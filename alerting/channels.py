"""The paging channels' settings (pure): what each channel needs, checked before it is stored.

A receiver's ``config`` holds what is not secret, its ``secrets`` the named secrets, which are
written by the API and read by the delivery only (GET answers their names). Limits: at most
MAX_TARGETS addresses or numbers per receiver, each platform's documented rate limit as the
default budget per minute (a receiver may lower it, never raise it above the platform's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from alerting.rules import RuleError

PAGING_CHANNELS = ("email", "wecom", "dingtalk", "feishu", "sms")
# Messages per minute: the robots' documented limits; for people (email, SMS) the storm bound.
PER_MINUTE = {"wecom": 20, "dingtalk": 20, "feishu": 100, "email": 10, "sms": 10}
PERSON_PER_MINUTE = 10  # messages per person per minute over every channel
MAX_TARGETS = 50
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
PHONE = re.compile(r"^\+?[0-9]{5,20}$")
SECRETS = {
    "email": ({"password"}, set()),  # (allowed, required)
    "wecom": ({"key"}, {"key"}),
    "dingtalk": ({"access_token", "secret"}, {"access_token"}),
    "feishu": ({"hook_token", "secret"}, {"hook_token"}),
    "sms": ({"secret_id", "secret_key", "hmac"}, set()),
}
_CONFIG = {
    "email": {"host", "port", "security", "username", "from", "to", "ca_file", "language", "per_minute"},
    "wecom": {"language", "per_minute"},
    "dingtalk": {"language", "per_minute"},
    "feishu": {"language", "per_minute"},
    "sms": {"provider", "to", "sdk_app_id", "sign_name", "template_id", "region", "body", "language", "per_minute"},
}


def _targets(raw: Any, pattern: re.Pattern[str], what: str, name: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_TARGETS or not all(isinstance(x, str) for x in raw):
        raise RuleError(f"receiver {name!r}: {what} {raw!r} must be a list of at most {MAX_TARGETS} strings")
    bad = [x for x in raw if not pattern.match(x)]
    if bad:
        raise RuleError(f"receiver {name!r}: {what} {bad!r} are not valid")
    return list(raw)


def check(name: str, channel: str, url: str | None, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
    """Raise RuleError naming the first bad setting of a paging receiver."""
    if channel not in PAGING_CHANNELS:
        return
    unknown = set(config) - _CONFIG[channel]
    if unknown:
        raise RuleError(f"receiver {name!r}: unknown {channel} settings {sorted(unknown)}")
    allowed, required = SECRETS[channel]
    if set(secrets) - allowed or required - set(secrets):
        raise RuleError(
            f"receiver {name!r}: {channel} secrets must be within {sorted(allowed)}, with {sorted(required)}"
        )
    if not all(isinstance(v, str) and 0 < len(v) <= 500 for v in secrets.values()):
        raise RuleError(f"receiver {name!r}: each secret must be a non-empty string of at most 500 characters")
    per_minute = config.get("per_minute", PER_MINUTE[channel])
    if not isinstance(per_minute, int) or not 1 <= per_minute <= PER_MINUTE[channel]:
        raise RuleError(f"receiver {name!r}: per_minute {per_minute!r} is not within 1..{PER_MINUTE[channel]}")
    if config.get("language", "zh") not in ("zh", "en"):
        raise RuleError(f"receiver {name!r}: language {config.get('language')!r} is not zh or en")
    if channel == "email":
        _email(name, config, secrets)
    elif channel == "sms":
        _sms(name, url, config, secrets)
    elif url is not None and not url.startswith(("http://", "https://")):
        raise RuleError(f"receiver {name!r}: url {url!r} is not http(s)")


def _email(name: str, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
    host, port, security = config.get("host"), config.get("port", 587), config.get("security", "starttls")
    if not isinstance(host, str) or not host or len(host) > 255:
        raise RuleError(f"receiver {name!r}: email needs an SMTP host, not {host!r}")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise RuleError(f"receiver {name!r}: SMTP port {port!r} is not 1..65535")
    if security not in ("starttls", "tls", "none"):
        raise RuleError(f"receiver {name!r}: security {security!r} is not starttls, tls or none")
    if security == "none" and (config.get("username") or secrets.get("password")):
        raise RuleError(f"receiver {name!r}: a password is never sent without TLS (security 'none')")
    if bool(config.get("username")) != bool(secrets.get("password")):
        raise RuleError(f"receiver {name!r}: SMTP username and password go together")
    if not isinstance(config.get("from"), str) or not EMAIL.match(config["from"]):
        raise RuleError(f"receiver {name!r}: email needs a from address, not {config.get('from')!r}")
    _targets(config.get("to"), EMAIL, "to", name)


def _sms(name: str, url: str | None, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
    provider = config.get("provider")
    _targets(config.get("to"), PHONE, "to", name)
    if url is not None and not url.startswith(("http://", "https://")):
        raise RuleError(f"receiver {name!r}: url {url!r} is not http(s)")
    if provider == "tencent":
        missing = [k for k in ("sdk_app_id", "sign_name", "template_id") if not config.get(k)]
        if missing or not {"secret_id", "secret_key"} <= set(secrets):
            raise RuleError(f"receiver {name!r}: tencent SMS needs {missing or ''} secret_id and secret_key")
    elif provider == "http":
        if not url:
            raise RuleError(f"receiver {name!r}: an SMS gateway needs a url")
        if "body" in config and not isinstance(config["body"], dict):
            raise RuleError(f"receiver {name!r}: the gateway body template must be a JSON object")
    else:
        raise RuleError(f"receiver {name!r}: SMS provider {provider!r} is not tencent or http")


def smtp_port(config: Mapping[str, Any]) -> int:
    """The SMTP port: as set, else submission (587) for STARTTLS, 465 for implicit TLS."""
    return int(config.get("port", 465 if config.get("security", "starttls") == "tls" else 587))


def per_minute(channel: str, config: Mapping[str, Any]) -> int:
    return int(config.get("per_minute", PER_MINUTE[channel]))

"""Uvicorn's log lines without credentials: query-string secrets are redacted before formatting.

The live stream authenticates WebSockets with ``?token=`` (browsers cannot set headers on
them), and uvicorn logs every WebSocket with its full path, access log or not: each token used
to land in the API's log. A filter on uvicorn's handlers rewrites the values of credential-like
query parameters (in the message and in its arguments, which the access formatter reads).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

SECRET_PARAMS = ("token", "access_token", "key", "api_key", "apikey", "password", "secret", "signature")
_SECRET_VALUE = re.compile(r"([?&;](?:" + "|".join(SECRET_PARAMS) + r")=)[^&;#\s\"']*", re.IGNORECASE)
REDACTED = "***"


def redact_query(text: str) -> str:
    return _SECRET_VALUE.sub(lambda m: m.group(1) + REDACTED, text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in record.args)
        return True


def log_config() -> dict[str, Any]:
    """Uvicorn's default logging configuration with the filter on both of its handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_secrets": {"()": f"{__name__}.RedactSecrets"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_secrets"]
    return config

"""How the API shows a page's targets: enough to tell which person or endpoint it was, not
enough to harvest duty officers' numbers and addresses from an alarm's notification log.

- a phone number keeps its first and last four digits' frame: 13800000002 -> 138****0002,
  +8613800000001 -> +86138****0001 (the way Chinese services show numbers); shorter numbers keep
  their last two digits;
- an email address keeps its first character and its domain: duty@park.example -> d***@park.example;
- a URL keeps its scheme, host and port: a path or query may carry a token;
- anything else (a channel name) is shown as it is.

Errors name targets too (a provider refusing a number): each of the attempt's own targets is
replaced by its masked form there as well. Pure.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

PHONE = re.compile(r"^\+?[0-9]{5,20}$")
EMAIL = re.compile(r"^([^@\s])[^@\s]*@([^@\s]+)$")
SEPARATOR = ", "  # how the delivery joins several targets of one message


def mask_one(target: str) -> str:
    target = target.strip()
    if PHONE.match(target):
        if len(target) >= 11:
            return f"{target[:-8]}****{target[-4:]}"
        return "*" * (len(target) - 2) + target[-2:]
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        host = parts.hostname or ""
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            port = ""
        netloc = f"[{host}]" if ":" in host else host
        rest = "/…" if parts.path.strip("/") or parts.query else ""
        return f"{parts.scheme}://{netloc}{port}{rest}"
    email = EMAIL.match(target)
    if email:
        return f"{email.group(1)}***@{email.group(2)}"
    return target


def mask_targets(target: str) -> str:
    return SEPARATOR.join(mask_one(t) for t in target.split(SEPARATOR))


def mask_error(error: str | None, target: str) -> str | None:
    if error is None:
        return None
    for one in sorted(target.split(SEPARATOR), key=len, reverse=True):
        one = one.strip()
        if one and mask_one(one) != one:
            error = error.replace(one, mask_one(one))
    return error

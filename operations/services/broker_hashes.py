"""Stronger password hashes for the broker accounts whose passwords this machine holds.

Mosquitto 2.0's dynamic-security plugin hashes every password it is given with PBKDF2-HMAC-
SHA512 at a fixed 101 iterations (``PW_DEFAULT_ITERATIONS``); its control API takes no
iteration count. It does honour the ``iterations`` stored with each client in its file, which
it reads at start. So while the broker is stopped, the accounts whose passwords are in the
local credentials (the dynamic-security admin and the platform's account) are re-hashed here
at ``HASH_ITERATIONS``: 210 000, OWASP's figure for PBKDF2-HMAC-SHA512 (Password Storage Cheat
Sheet, "PBKDF2": "PBKDF2-HMAC-SHA512: 210,000 iterations").

Gateway accounts are created at run time through the control API and keep Mosquitto's 101
iterations: their passwords are 20 to 32 random characters (119 bits or more), beyond guessing
whatever the iteration count, and the file is readable by the broker's user only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from smartpark.private_files import replace_private

HASH_ITERATIONS = 210_000
SALT_BYTES = 12  # what Mosquitto itself uses


def pbkdf2_entry(password: str, iterations: int, salt: bytes | None = None) -> dict[str, Any]:
    """The ``password``, ``salt`` and ``iterations`` fields of a dynamic-security client."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return {
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": iterations,
    }


def weak_accounts(document: Mapping[str, Any], passwords: Mapping[str, str], iterations: int) -> list[str]:
    """Accounts among ``passwords`` hashed with fewer than ``iterations`` in a dynsec document."""
    return [
        c["username"]
        for c in document.get("clients", [])
        if c.get("username") in passwords and int(c.get("iterations", 0)) < iterations
    ]


def strengthen(document: dict[str, Any], passwords: Mapping[str, str], iterations: int) -> list[str]:
    """Re-hash the weak accounts of ``document`` in place; returns their names."""
    weak = set(weak_accounts(document, passwords, iterations))
    for client in document.get("clients", []):
        if client.get("username") in weak:
            client.update(pbkdf2_entry(passwords[client["username"]], iterations))
    return sorted(weak)


def strengthen_file(path: Path, passwords: Mapping[str, str], iterations: int = HASH_ITERATIONS) -> list[str]:
    """The same on the broker's file; only while the broker is stopped (it rewrites the file)."""
    if not path.exists():
        return []
    document = json.loads(path.read_text())
    changed = strengthen(document, passwords, iterations)
    if changed:
        replace_private(path, json.dumps(document, indent=2))
    return changed


def needs_strengthening(path: Path, passwords: Mapping[str, str], iterations: int = HASH_ITERATIONS) -> bool:
    return path.exists() and bool(weak_accounts(json.loads(path.read_text()), passwords, iterations))

"""Principals, API keys and short-lived signed tokens (pure code: no I/O).

An API key is ``spk_<prefix>_<secret>``: the prefix finds the row, sha256 of the whole key is
what is stored, so the table alone cannot be replayed. A key is exchanged for a token signed with
HMAC-SHA256 that carries the principal and the key it came from, and expires within minutes (never
after its key). A token is no credential for another token, and every request with one still
checks that its key is active and its user enabled (``api.standing``): revoking either ends access.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from smartpark.catalogue import Category

KEY_SCHEME = "spk"
TOKEN_SCHEME = "spt"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    ENTERPRISE = "enterprise"
    REGULATOR = "regulator"
    READONLY = "readonly"
    METRICS = "metrics"  # a Prometheus scraper: /metrics and nothing else


class Bureau(StrEnum):
    """A regulator's remit; each covers some metric (and alert) categories."""

    ENVIRONMENT = "environment"
    EMERGENCY = "emergency"


# Environment bureau: emissions and ambient air; emergency management: gas, fire, pressure.
BUREAU_CATEGORIES: dict[Bureau, frozenset[str]] = {
    Bureau.ENVIRONMENT: frozenset({Category.EMISSIONS.value, Category.ENVIRONMENT.value}),
    Bureau.EMERGENCY: frozenset({Category.SAFETY.value}),
}
ALL_CATEGORIES: frozenset[str] = frozenset(c.value for c in Category)


class AuthError(Exception):
    """Credentials missing, malformed, unknown, revoked or expired (answers 401)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, and the slice of the park tree they may see.

    ``park_id``/``enterprise_id`` None means "not restricted at that level"; every query takes
    these as parameters, so isolation holds in SQL, not only at the route.
    """

    user_id: int
    name: str
    role: Role
    park_id: int | None = None
    enterprise_id: int | None = None
    bureaus: tuple[Bureau, ...] = ()
    key_id: int | None = None
    categories: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        if self.role is Role.OPERATOR and self.park_id is None:
            raise ValueError(f"operator {self.name!r} has no park")
        if self.role is Role.ENTERPRISE and (self.enterprise_id is None or self.park_id is None):
            raise ValueError(f"enterprise user {self.name!r} has no enterprise")
        if self.role is Role.REGULATOR and (self.park_id is None or not self.bureaus):
            raise ValueError(f"regulator {self.name!r} needs a park and at least one bureau")
        cats: frozenset[str] = ALL_CATEGORIES
        if self.role is Role.REGULATOR:
            cats = frozenset().union(*(BUREAU_CATEGORIES[b] for b in self.bureaus))
        elif self.role is Role.METRICS:
            cats = frozenset()
        object.__setattr__(self, "categories", cats)

    @property
    def category_list(self) -> list[str]:
        """Sorted, for SQL ``= ANY(%s)`` parameters."""
        return sorted(self.categories)

    @property
    def can_write_registry(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_read_economic(self) -> bool:
        """Economic reports and every figure made from them (the one rule for economic data):
        the park's own people and each enterprise for itself, not the regulators' bureaus."""
        return self.role in (Role.ADMIN, Role.OPERATOR, Role.ENTERPRISE, Role.READONLY)

    @property
    def sees_logger_ids(self) -> bool:
        """Data-logger MNs identify a logger to the HJ 212 server (half of its credential): those
        who manage the registry and each enterprise for its own devices, nobody else."""
        return self.role in (Role.ADMIN, Role.OPERATOR, Role.ENTERPRISE)

    @property
    def can_operate(self) -> bool:
        """Acknowledge/resolve alarms, manage rules, silences and receivers, import reports."""
        return self.role in (Role.ADMIN, Role.OPERATOR)

    def claims(self) -> dict[str, object]:
        return {
            "uid": self.user_id,
            "name": self.name,
            "role": self.role.value,
            "park": self.park_id,
            "ent": self.enterprise_id,
            "bur": [b.value for b in self.bureaus],
            "kid": self.key_id,
        }

    @classmethod
    def from_claims(cls, claims: dict[str, object]) -> Principal:
        try:
            return cls(
                user_id=int(claims["uid"]),  # type: ignore[call-overload]
                name=str(claims["name"]),
                role=Role(str(claims["role"])),
                park_id=_opt_int(claims.get("park")),
                enterprise_id=_opt_int(claims.get("ent")),
                bureaus=tuple(Bureau(b) for b in claims.get("bur") or ()),  # type: ignore[attr-defined]
                key_id=_opt_int(claims.get("kid")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AuthError(f"token claims are invalid: {exc}") from exc


def _opt_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


# --- API keys -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: show ``key`` once, store ``prefix`` and ``digest``."""

    key: str
    prefix: str
    digest: bytes


def hash_key(key: str) -> bytes:
    # The secret part has 256 bits of entropy, so a plain sha256 is enough (no slow KDF needed).
    return hashlib.sha256(key.encode()).digest()


def new_key(token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> NewKey:
    prefix = base64.b32encode(token_bytes(5)).decode().lower().rstrip("=")
    secret = _b64(token_bytes(32))
    key = f"{KEY_SCHEME}_{prefix}_{secret}"
    return NewKey(key=key, prefix=prefix, digest=hash_key(key))


def key_prefix(key: str) -> str:
    """The lookup prefix of a presented key; AuthError if it does not look like one of ours."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or len(parts[1]) != 8 or len(parts[2]) < 32:
        raise AuthError("malformed API key (expected spk_<prefix>_<secret>)")
    return parts[1]


def key_matches(key: str, digest: bytes) -> bool:
    return hmac.compare_digest(hash_key(key), digest)


# --- tokens ---------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(
    principal: Principal,
    *,
    secret: bytes,
    ttl_s: float,
    clock: Callable[[], float] = time.time,
    not_after: float | None = None,
) -> tuple[str, int]:
    """A bearer token ``spt.<claims>.<hmac>`` and its expiry (epoch seconds), at the latest
    ``not_after`` (its key's expiry)."""
    if principal.key_id is None:
        raise AuthError("a token is issued for an API key only")
    exp = int(clock() + ttl_s)
    if not_after is not None:
        exp = min(exp, int(not_after))
    body = _b64(json.dumps({**principal.claims(), "exp": exp}, separators=(",", ":")).encode())
    sig = _b64(hmac.new(secret, f"{TOKEN_SCHEME}.{body}".encode(), hashlib.sha256).digest())
    return f"{TOKEN_SCHEME}.{body}.{sig}", exp


def verify_token(token: str, *, secret: bytes, clock: Callable[[], float] = time.time) -> Principal:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_SCHEME:
        raise AuthError("malformed token (expected spt.<claims>.<signature>)")
    expected = hmac.new(secret, f"{TOKEN_SCHEME}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(parts[2])
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise AuthError("malformed token") from exc
    if not hmac.compare_digest(expected, given):
        raise AuthError("token signature does not match")
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise AuthError("token has no expiry")
    if claims["exp"] <= clock():
        raise AuthError("token expired")
    principal = Principal.from_claims(claims)
    if principal.key_id is None:
        raise AuthError("token names no API key")
    return principal


def looks_like_token(credential: str) -> bool:
    return credential.startswith(TOKEN_SCHEME + ".")

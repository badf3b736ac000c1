"""The Article 21 package a park submits to its region: canonical JSON, signed with Ed25519.

A package names its park, period (``YYYY`` annual, ``YYYY-MM`` monthly), revision, creation time
and a random nonce, so that a signature covers exactly one submission: the region refuses it for
another park, twice under another revision, or changed under its own. The canonical form (sorted
keys, no spaces, UTF-8, no NaN) is what is signed, stored and sent; a receiver that re-encodes the
parsed JSON must get the same bytes, so no two encodings of one package exist. Pure code: no I/O
apart from reading and writing the key file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from smartpark.private_files import write_private

FORMAT = "smartpark-article21/1"
PERIOD_RE = re.compile(r"^20[0-9]{2}(-(0[1-9]|1[0-2]))?$")  # years 2000-2099
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
MAX_PACKAGE_BYTES = 256 * 1024  # a park's statistics of one period are a few kB
MAX_REVISION = 10_000
NONCE_BYTES = 16


class PackageError(ValueError):
    """A package that cannot be read as one (answers 422, naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value: what is signed."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise PackageError("package", f"not representable as JSON ({exc})") from exc
    return text.encode("utf-8")


def period_kind(period: str) -> str:
    if not PERIOD_RE.match(period):
        raise PackageError("period", f"{period!r} is neither YYYY (annual) nor YYYY-MM (monthly) of 2000-2099")
    return "annual" if len(period) == 4 else "monthly"


@dataclass(frozen=True, slots=True)
class Package:
    park: str
    period: str
    revision: int
    created: datetime
    nonce: str
    body: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not CODE_RE.match(self.park):
            raise PackageError("park", f"{self.park!r} is not a park code")
        period_kind(self.period)
        if not 1 <= self.revision <= MAX_REVISION:
            raise PackageError("revision", f"{self.revision} is not in 1..{MAX_REVISION}")
        if self.created.tzinfo is None:
            raise PackageError("created", f"{self.created.isoformat()} has no time zone")
        if not re.fullmatch(r"[0-9a-f]{32}", self.nonce):
            raise PackageError("nonce", "expected 32 hex digits")

    @property
    def kind(self) -> str:
        return period_kind(self.period)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "park": self.park,
            "period": self.period,
            "revision": self.revision,
            "created": self.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "nonce": self.nonce,
            "body": dict(self.body),
        }

    def encode(self) -> bytes:
        return canonical(self.to_json())


def new_package(
    *,
    park: str,
    period: str,
    revision: int,
    body: Mapping[str, Any],
    clock: Callable[[], float],
    nonce: Callable[[int], str] = secrets.token_hex,
) -> Package:
    return Package(park, period, revision, datetime.fromtimestamp(clock(), UTC), nonce(NONCE_BYTES), body)


def decode(raw: bytes) -> Package:
    """A package from its canonical bytes; PackageError naming what is wrong."""
    if len(raw) > MAX_PACKAGE_BYTES:
        raise PackageError("package", f"{len(raw)} bytes; at most {MAX_PACKAGE_BYTES}")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PackageError("package", f"not UTF-8 JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise PackageError("package", "not a JSON object")
    if value.get("format") != FORMAT:
        raise PackageError("format", f"{value.get('format')!r}; expected {FORMAT!r}")
    want = {"format", "park", "period", "revision", "created", "nonce", "body"}
    if set(value) != want:
        raise PackageError("package", f"fields {sorted(set(value) ^ want)} missing or unexpected")
    if canonical(value) != raw:
        raise PackageError("package", "not in canonical form (sorted keys, no spaces, UTF-8)")
    for name, kind in (("park", str), ("period", str), ("revision", int), ("created", str), ("nonce", str)):
        if not isinstance(value[name], kind) or isinstance(value[name], bool):
            raise PackageError(name, f"expected {kind.__name__}")
    if not isinstance(value["body"], dict):
        raise PackageError("body", "expected an object")
    try:
        created = datetime.fromisoformat(value["created"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise PackageError("created", f"{value['created']!r} is not an ISO 8601 time") from exc
    return Package(value["park"], value["period"], value["revision"], created, value["nonce"], value["body"])


# --- keys and signatures --------------------------------------------------------------------------


def key_id(public_raw: bytes) -> str:
    """The name of a public key in an envelope: the first 16 bytes of its sha256, hex."""
    return hashlib.sha256(public_raw).hexdigest()[:32]


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_text(text: str) -> bytes:
    """A public key as given to the region (base64 of the 32 raw bytes)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise PackageError("public_key", "not base64") from exc
    if len(raw) != 32:
        raise PackageError("public_key", f"{len(raw)} bytes; an Ed25519 public key has 32")
    return raw


def generate_key_file(path: Path) -> str:
    """A new private key written to ``path`` (mode 0600, refused if it exists); the public key in
    base64, to register at the region."""
    if path.exists():
        raise FileExistsError(f"{path} exists: a park's key is replaced only on purpose (remove it first)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_private(path, pem.decode("ascii"))
    return base64.b64encode(public_raw(key)).decode("ascii")


def load_key_file(path: Path) -> Ed25519PrivateKey:
    """The park's private key; refused when others may read the file (it signs for the park)."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(f"{path} has mode {mode:o}; the private key must be 0600")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds no Ed25519 private key")
    return key


@dataclass(frozen=True, slots=True)
class Envelope:
    """What travels: the package's canonical bytes, the key that signed them and the signature."""

    package: bytes
    key_id: str
    signature: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "package": self.package.decode("utf-8"),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    def encode(self) -> bytes:
        return canonical(self.to_json())

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Envelope:
        for name in ("package", "key_id", "signature"):
            if not isinstance(value.get(name), str):
                raise PackageError(name, "missing or not a string")
        try:
            signature = base64.b64decode(value["signature"], validate=True)
        except ValueError as exc:
            raise PackageError("signature", "not base64") from exc
        try:
            package = value["package"].encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate from a JSON escape
            raise PackageError("package", "not encodable as UTF-8") from exc
        return cls(package, value["key_id"], signature)


def sign(package: Package, key: Ed25519PrivateKey) -> Envelope:
    raw = package.encode()
    return Envelope(raw, key_id(public_raw(key)), key.sign(raw))


def verify(envelope: Envelope, public: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(envelope.signature, envelope.package)
    except (InvalidSignature, ValueError):
        return False
    return True


def digest(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()

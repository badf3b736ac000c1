"""Photos of an incident: size-limited, content checked, kept in a private directory.

The declared content type must be one of JPEG, PNG or WebP and the bytes must start as that
type does, so a page or a script cannot be stored as a photo. Files get a random name (never the
uploader's), mode 0600 in a 0700 directory (smartpark.private_files), and are served by the API
only to those who may see the incident.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from smartpark.private_files import write_private_bytes

MAX_BYTES = 4 * 1024 * 1024  # also bounded by the API's body limit (SMARTPARK_API_MAX_BODY_BYTES)
MAX_CAPTION = 200
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


class PhotoError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check(content_type: str, body: bytes, max_bytes: int = MAX_BYTES) -> str:
    """The checked content type (parameters dropped), or PhotoError naming what is wrong."""
    kind = content_type.split(";")[0].strip().lower()
    if kind not in SIGNATURES:
        raise PhotoError("content-type", f"content-type: {kind!r} is not one of {sorted(SIGNATURES)}")
    if not body:
        raise PhotoError("body", "body: the photo is empty")
    if len(body) > max_bytes:
        raise PhotoError("body", f"body: {len(body)} bytes; photos are limited to {max_bytes} bytes")
    if not body.startswith(SIGNATURES[kind]) or (kind == "image/webp" and body[8:12] != b"WEBP"):
        raise PhotoError("body", f"body: the bytes are not a {kind} image")
    return kind


def store(directory: Path, kind: str, body: bytes) -> tuple[str, str]:
    """Write the photo; (stored name, sha256)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    name = secrets.token_hex(16) + EXTENSIONS[kind]
    write_private_bytes(directory / name, body)
    return name, hashlib.sha256(body).hexdigest()


def path_of(directory: Path, stored_name: str) -> Path:
    if "/" in stored_name or stored_name.startswith("."):
        raise ValueError(f"stored name {stored_name!r} is not a plain file name")
    return directory / stored_name

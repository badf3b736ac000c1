"""Files that hold secrets (passwords, keys, the broker's password hashes) are their owner's only.

Created with mode 0600 from the start, never widened afterwards, so there is no moment at which
another local user could read them.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private(path: Path, text: str) -> None:
    """Replace ``path``'s content; the file is mode 0600 before any byte is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), PRIVATE_MODE)  # an existing file keeps its mode through O_CREAT
        out.write(text)


def replace_private(path: Path, text: str) -> None:
    """Replace ``path`` whole, atomically: a reader (a program starting) never sees half a file."""
    fresh = path.with_name(f".{path.name}.new")
    write_private(fresh, text)
    os.replace(fresh, path)


def make_private(path: Path) -> None:
    """Narrow an existing file (written by another program) to its owner."""
    if path.exists():
        path.chmod(PRIVATE_MODE)


def write_private_bytes(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) with ``data``; mode 0600 before any byte is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(data)

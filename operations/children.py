"""Running ``smartpark`` subcommands as child processes: their argv and the tail of their logs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def smartpark_argv(args: Sequence[str]) -> list[str]:
    # The same interpreter and CLI as this process, whatever PATH says.
    return [sys.executable, "-m", "smartpark.cli", *args]


def tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_bytes()[-8192:].decode(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])

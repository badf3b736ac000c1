"""Small process helpers shared by the local services."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def as_user(user: str, argv: Sequence[str]) -> list[str]:
    """Run as ``user`` when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0 and user != "root":
        return ["runuser", "-u", user, "--", *argv]
    return list(argv)


def run(argv: Sequence[str], *, check: bool = True, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed with exit {result.returncode}: {(result.stderr or result.stdout).strip()[-2000:]}"
        )
    return result


def chown_tree(path: Path, user: str) -> None:
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(user)
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, entry.pw_uid, entry.pw_gid)
        for name in filenames + dirnames:
            os.lchown(os.path.join(dirpath, name), entry.pw_uid, entry.pw_gid)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(file: Path) -> int | None:
    try:
        return int(file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None

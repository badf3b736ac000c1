"""Free local TCP ports for the servers the tests start."""

from __future__ import annotations

import socket


def free_port(span: int = 1) -> int:
    """A port P such that P .. P+span-1 are free now (e.g. for several workers' exporters)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + span < 65535 and all(_port_free(port + i) for i in range(span)):
            return port
    raise RuntimeError("no free port range found")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True

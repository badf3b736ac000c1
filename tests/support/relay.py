"""A TCP relay to a real server on a port of its own, opened when the test says: a broker that
is away at a service's start and comes back later, without touching the shared broker."""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpRelay:
    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        self.port, self.upstream = port, upstream
        self.server: socket.socket | None = None
        self.sockets: list[socket.socket] = []

    def open(self) -> None:
        """Start accepting on the port; until then a connection to it is refused."""
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for s in [*self.sockets, *([self.server] if self.server else [])]:
            with contextlib.suppress(OSError):
                s.close()

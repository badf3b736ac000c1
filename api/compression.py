"""Compressed answers and static files: brotli for clients that accept it, else gzip.

Brotli (RFC 7932) makes the page's JavaScript and JSON about a fifth smaller than gzip does. Every
compressible answer says ``Vary: Accept-Encoding``, compressed or not (a small one, or one to a
client that takes neither), so a shared cache never serves one client's encoding to another.
Static files (answers with an ETag) are compressed once per file version and kept, bounded, in
memory: first quickly, then again at a high quality in a background thread that replaces
the kept copy, so a cold page load costs no compression. Large bodies are compressed in a worker
thread, not on the event loop. Streamed answers are compressed as they stream. WebSocket scopes
pass through untouched.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from typing import Any

import brotli
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_BYTES = 1024  # smaller answers gain less than the header and the CPU cost
BROTLI_QUALITY = 4  # answers and a static file's first copy: as fast as gzip -6, a little smaller
STATIC_BROTLI_QUALITY = 10  # static files' kept copy, in the background: ECharts 275 KB in 1.5 s (11: 271 KB, 5.6 s)
THREAD_MIN_BYTES = 64 * 1024  # bodies at least this large are compressed off the event loop
GZIP_LEVEL = 6
STATIC_CACHE_BYTES = 32 * 1024 * 1024  # compressed static files kept, least recently used dropped
# Already compressed (XLSX is a zip too), or a stream whose every event must leave at once.
UNCOMPRESSIBLE = ("image/png", "image/jpeg", "image/gif", "image/webp", "font/woff2", "application/gzip",
                  "application/zip", "text/event-stream", "video/", "audio/mpeg", "audio/ogg",
                  "application/vnd.openxmlformats-officedocument")  # fmt: skip


def choose(accept_encoding: str) -> str | None:
    """The encoding to answer with: ``br`` if acceptable, else ``gzip``, else None.

    Accept-Encoding per RFC 9110 §12.5.3: codings with optional q-values; q=0 refuses a coding,
    ``*`` stands for any coding not named.
    """
    q: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weight = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip().lower() == "q":
                try:
                    weight = float(v)
                except ValueError:
                    weight = 0.0
        q[name] = weight
    star = q.get("*", 0.0)
    best = max(("br", "gzip"), key=lambda c: (q.get(c, star), c == "br"))
    return best if q.get(best, star) > 0 else None


def compress(body: bytes, encoding: str, *, best: bool = False) -> bytes:
    if encoding == "br":
        quality = STATIC_BROTLI_QUALITY if best else BROTLI_QUALITY
        return bytes(brotli.compress(body, mode=brotli.MODE_TEXT, quality=quality))
    return zlib.compress(body, 9 if best else GZIP_LEVEL, wbits=31)


class _Stream:
    """A streaming compressor: each chunk flushed so a streamed answer's parts leave as they come."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding == "br":
            self._br: Any = brotli.Compressor(mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY)
        else:
            self._gz = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)

    def chunk(self, data: bytes, last: bool) -> bytes:
        if self.encoding == "br":
            out = self._br.process(data)
            return bytes(out + (self._br.finish() if last else self._br.flush()))
        return self._gz.compress(data) + self._gz.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class StaticCache:
    """Compressed static files by (path, ETag, encoding), least recently used dropped past a bound."""

    def __init__(self, max_bytes: int = STATIC_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._lock = threading.RLock()
        self.improved = 0  # background passes done (for tests and metrics)

    def get(self, key: tuple[str, str, str]) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def improve(self, key: tuple[str, str, str], raw: bytes) -> None:
        """Compress ``raw`` again at a high quality in a thread and keep that instead."""

        def work() -> None:
            best = compress(raw, key[2], best=True)
            with self._lock:
                kept = self._items.get(key)
                if kept is not None and len(best) < len(kept):  # a higher quality is not always smaller
                    self.put(key, best)
                self.improved += 1

        threading.Thread(target=work, name="compress-static", daemon=True).start()

    def put(self, key: tuple[str, str, str], body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self.size -= len(old) if old is not None else 0
            self._items[key] = body
            self.size += len(body)
            while self.size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, *, minimum_size: int = MIN_BYTES, cache: StaticCache | None = None) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.cache = cache if cache is not None else StaticCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = choose(Headers(scope=scope).get("accept-encoding", ""))
        await _Responder(self, scope, encoding, send).run(receive)


class _Responder:
    def __init__(self, mw: CompressionMiddleware, scope: Scope, encoding: str | None, send: Send) -> None:
        self.mw, self.scope, self.encoding, self.send = mw, scope, encoding, send
        self.start: Message | None = None
        self.mode = ""  # "" undecided, "plain", "buffer" (static file), "stream"
        self.parts: list[bytes] = []
        self.stream: _Stream | None = None
        self.key: tuple[str, str, str] | None = None

    async def run(self, receive: Receive) -> None:
        await self.mw.app(self.scope, receive, self.on_send)

    async def on_send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body":
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if not self.mode:
            await self.decide(body, more)
        if self.mode == "plain":
            await self.send(message)
        elif self.mode == "buffer":
            self.parts.append(body)
            if not more:
                await self.finish_buffered()
        else:
            assert self.stream is not None
            await self.send(
                {"type": "http.response.body", "body": self.stream.chunk(body, not more), "more_body": more}
            )

    async def decide(self, body: bytes, more: bool) -> None:
        assert self.start is not None
        headers = MutableHeaders(raw=self.start["headers"])
        kind = headers.get("content-type", "")
        compressible = not headers.get("content-encoding") and not kind.startswith(UNCOMPRESSIBLE)
        if compressible:
            headers.add_vary_header("Accept-Encoding")
        small = not more and len(body) < self.mw.minimum_size
        if not compressible or small or self.encoding is None or self.start["status"] in (204, 304):
            self.mode = "plain"
            await self.send(self.start)
            return
        etag = headers.get("etag")
        if etag and self.scope.get("method") == "GET":
            self.mode = "buffer"
            self.key = (self.scope.get("path", ""), etag, self.encoding)
            return
        headers["content-encoding"] = self.encoding
        if more:
            self.mode = "stream"
            self.stream = _Stream(self.encoding)
            del headers["content-length"]
            await self.send(self.start)
            return
        self.mode = "buffer"  # one part, not cached

    async def finish_buffered(self) -> None:
        assert self.start is not None and self.encoding is not None
        headers = MutableHeaders(raw=self.start["headers"])
        body = self.mw.cache.get(self.key) if self.key else None
        if body is None:
            raw = b"".join(self.parts)
            if len(raw) >= THREAD_MIN_BYTES:
                body = await run_in_threadpool(compress, raw, self.encoding)
            else:
                body = compress(raw, self.encoding)
            if self.key:
                self.mw.cache.put(self.key, body)
                self.mw.cache.improve(self.key, raw)
        headers["content-encoding"] = self.encoding
        headers["content-length"] = str(len(body))
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": body, "more_body": False})

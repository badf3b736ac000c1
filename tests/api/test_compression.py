"""Brotli or gzip by the client's Accept-Encoding (api/compression.py), with Vary right on every
compressible answer; static files compressed once per version; streams compressed as they go."""

from __future__ import annotations

import gzip
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import brotli
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

from api.compression import MIN_BYTES, CompressionMiddleware, StaticCache, choose

TEXT = "智慧园区 park load 12345.6 kW\n" * 400  # about 14 KB, compressible


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br, zstd", "br"),  # what Chromium sends
        ("gzip, deflate", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.4", "gzip"),  # the client's preference wins
        ("br;q=0.5, gzip;q=0.5", "br"),  # a tie goes to the smaller
        ("*", "br"),
        ("*;q=0, gzip", "gzip"),
        ("identity", None),
        ("", None),
        ("br;q=oops", None),  # an unreadable weight refuses the coding
    ],
)
def test_choice_follows_accept_encoding(header: str, expected: str | None) -> None:
    assert choose(header) == expected


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, StaticCache, Path]]:
    (tmp_path / "big.js").write_text(TEXT)
    (tmp_path / "tiny.js").write_text("x")
    (tmp_path / "shot.png").write_bytes(b"\x89PNG" + bytes(4000))
    cache = StaticCache()
    a = FastAPI()

    @a.get("/answer")
    def answer() -> PlainTextResponse:
        return PlainTextResponse(TEXT)

    @a.get("/small")
    def small() -> PlainTextResponse:
        return PlainTextResponse("x" * (MIN_BYTES - 1))

    @a.get("/stream")
    def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[str]:
            for _ in range(3):
                yield TEXT

        return StreamingResponse(parts(), media_type="text/csv")

    a.mount("/", StaticFiles(directory=tmp_path))
    a.add_middleware(CompressionMiddleware, cache=cache)
    with TestClient(a) as c:
        yield c, cache, tmp_path


def _raw(c: TestClient, path: str, accept: str) -> tuple[int, dict[str, str], bytes]:
    with c.stream("GET", path, headers={"Accept-Encoding": accept}) as r:
        return r.status_code, dict(r.headers), b"".join(r.iter_raw())


def test_answers_in_brotli_or_gzip_always_varying(app: tuple[TestClient, StaticCache, Path]) -> None:
    c, _, _ = app
    status, h, body = _raw(c, "/answer", "gzip, deflate, br")
    assert status == 200 and h["content-encoding"] == "br" and h["vary"] == "Accept-Encoding"
    assert brotli.decompress(body).decode() == TEXT and int(h["content-length"]) == len(body)
    _, h, body = _raw(c, "/answer", "gzip")
    assert h["content-encoding"] == "gzip" and gzip.decompress(body).decode() == TEXT
    # Not compressed, but still a representation that depends on Accept-Encoding.
    _, h, body = _raw(c, "/answer", "identity")
    assert "content-encoding" not in h and h["vary"] == "Accept-Encoding" and body.decode() == TEXT
    _, h, body = _raw(c, "/small", "br")
    assert "content-encoding" not in h and h["vary"] == "Accept-Encoding" and len(body) == MIN_BYTES - 1


def test_a_stream_is_compressed_as_it_streams(app: tuple[TestClient, StaticCache, Path]) -> None:
    c, _, _ = app
    _, h, body = _raw(c, "/stream", "br")
    assert h["content-encoding"] == "br" and "content-length" not in h
    assert brotli.decompress(body).decode() == TEXT * 3
    _, h, body = _raw(c, "/stream", "gzip")
    assert gzip.decompress(body).decode() == TEXT * 3


def test_static_files_compressed_once_per_version(app: tuple[TestClient, StaticCache, Path]) -> None:
    c, cache, root = app
    _, h, first = _raw(c, "/big.js", "br")
    assert h["content-encoding"] == "br" and h["vary"] == "Accept-Encoding" and "etag" in h
    assert brotli.decompress(first).decode() == TEXT
    key = ("/big.js", h["etag"], "br")
    assert cache.get(key) is not None
    # the background pass replaces the quick copy with a smaller one; answers stay the file
    deadline = time.monotonic() + 30
    while not cache.improved and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.improved == 1
    _, _, again = _raw(c, "/big.js", "br")
    assert len(again) <= len(first) and brotli.decompress(again).decode() == TEXT
    # a new version of the file is a new entry, never the old body
    (root / "big.js").write_text(TEXT + "v2")
    _, h2, body = _raw(c, "/big.js", "br")
    assert h2["etag"] != h["etag"] and brotli.decompress(body).decode() == TEXT + "v2"
    # not compressed: already-compressed types and tiny files; an unchanged file is a 304
    _, h, _ = _raw(c, "/shot.png", "br")
    assert "content-encoding" not in h and "vary" not in h
    _, h, _ = _raw(c, "/tiny.js", "br")
    assert "content-encoding" not in h
    r = c.get("/big.js", headers={"Accept-Encoding": "br", "If-None-Match": h2["etag"]})
    assert r.status_code == 304 and r.content == b""


def test_static_cache_is_bounded() -> None:
    cache = StaticCache(max_bytes=100)
    cache.put(("/a", "1", "br"), b"a" * 60)
    cache.put(("/b", "1", "br"), b"b" * 60)  # over the bound: the least recently used goes
    assert cache.get(("/a", "1", "br")) is None and cache.get(("/b", "1", "br")) == b"b" * 60
    assert cache.size == 60
    cache.put(("/c", "1", "br"), b"c" * 101)  # larger than the whole cache: not kept
    assert cache.get(("/c", "1", "br")) is None and cache.size == 60

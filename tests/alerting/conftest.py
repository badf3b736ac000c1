"""The real local servers the paging channels are tested against (tests/support/paging_endpoints.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.paging_endpoints import PlatformServer, SmtpServer, self_signed


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that the SMTP servers present and the receivers trust."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def platforms() -> Iterator[PlatformServer]:
    server = PlatformServer()
    yield server
    server.close()


@pytest.fixture
def smtp(cert: tuple[Path, Path]) -> Iterator[SmtpServer]:
    server = SmtpServer(*cert)
    yield server
    server.close()

"""Fixtures of the forwarding tests: an upstream platform, and the HJ 212 park of the gateway
tests, whose data loggers are the outlets forwarded."""

from collections.abc import Iterator

import pytest

from tests.hj212.conftest import hj212_park  # noqa: F401  (a fixture)
from tests.support.hj212_upstream import Upstream
from tests.support.ports import free_port


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream(free_port())
    up.accept()
    yield up
    up.close()

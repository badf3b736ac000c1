"""The forwarder's links are woken by the HJ 212 server's notification, not only by their poll."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from forwarding import store
from forwarding.service import Forwarder
from smartpark.settings import Settings

pytestmark = pytest.mark.integration


class _Link:
    def __init__(self) -> None:
        self.woken = asyncio.Event()

    def wake(self) -> None:
        self.woken.set()


def test_an_announcement_wakes_every_link(settings: Settings) -> None:
    url = settings.database_url or ""

    def connect() -> Any:
        return psycopg.AsyncConnection.connect(url, autocommit=True)

    async def scenario() -> list[bool]:
        forwarder = Forwarder(connect)
        links = [_Link(), _Link()]
        forwarder.links = {i: (link, None, None) for i, link in enumerate(links)}  # type: ignore[misc]
        listening = asyncio.create_task(forwarder._listen())
        try:
            async with await connect() as conn:
                # until the listener is in, an announcement reaches nobody: announce until it is
                for _ in range(600):
                    await store.announce(conn)
                    if all(link.woken.is_set() for link in links):
                        break
                    await asyncio.sleep(0.05)
        finally:
            listening.cancel()
        return [link.woken.is_set() for link in links]

    assert asyncio.run(scenario()) == [True, True]

"""The scheduler's region jobs on a park instance: send the outbox, queue the periods that closed.

Scheduled only when ``SMARTPARK_REGION_URL`` is set (the outbox needs somewhere to go); the
hourly queueing also needs ``SMARTPARK_REGION_KEY_FILE``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from psycopg.rows import dict_row

from region.delivery import deliver_due, queue_closed
from region.my_result import fetch_published
from region.package import load_key_file
from smartpark.settings import RegionSettings

log = logging.getLogger("region.job")
QUEUE_EVERY_S = 3600.0

Connect = Callable[[], AbstractContextManager[Any]]


def deliver(connect: Connect, settings: RegionSettings) -> dict[str, int]:
    """Send what is due, then fetch the published results of the years the region acknowledged."""
    with connect() as conn:
        done = deliver_due(conn, settings=settings)
        fetched = fetch_published(conn, settings=settings)
    return {**done, "results_kept": fetched["kept"]}


def queue(connect: Connect, key_file: Path, park_codes: list[str] | None = None) -> dict[str, int]:
    with connect() as conn:
        conn.row_factory = dict_row  # the statistics queries read columns by name
        done = queue_closed(conn, key=load_key_file(key_file), park_codes=park_codes)
    if done["queued"]:
        log.info("region packages queued: %s", done)
    return done


def schedule(sched: Any, connect: Connect, settings: RegionSettings, common: dict[str, Any]) -> None:
    """Add the jobs to an APScheduler scheduler, if this instance submits to a region."""
    if not settings.url:
        return
    sched.add_job(deliver, "interval", args=(connect, settings), seconds=settings.retry_every_s, id="region_outbox",
                  **common)  # fmt: skip
    if settings.key_file is not None:
        sched.add_job(queue, "interval", args=(connect, settings.key_file), seconds=QUEUE_EVERY_S, id="region_queue",
                      **common)  # fmt: skip

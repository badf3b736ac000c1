"""`smartpark scheduler`: rollups, indicators and retention on a schedule (APScheduler 3).

Rollups run every 20 s by default so a stored reading is in its 15-minute rollup within a
minute; each job drains its queue in bounded batches and never runs twice at once. ``--once``
runs every job once and exits (tests, demos, cron).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry

from aggregation import indicator_job, job
from smartpark.heartbeat import STALE_AFTER_S, Heartbeat
from smartpark.settings import AggregationSettings, RegionSettings, StorageSettings, get_settings
from storage.coldfs import ColdStore

log = logging.getLogger("aggregation.scheduler")
REPORTS_EVERY_S = 600  # the report packs (reports/job.py): due once a day and once a month

Connect = Callable[[], AbstractContextManager[Any]]


class Jobs:
    """The scheduled jobs; each opens its own connection and reports what it did."""

    def __init__(
        self,
        settings: AggregationSettings,
        connect: Connect,
        clock: Callable[[], float] = time.perf_counter,
        heartbeat: Heartbeat | None = None,  # None: one of its own, not exported
        storage: StorageSettings | None = None,  # None: the defaults (no cold tier)
        region: RegionSettings | None = None,  # None: no submissions to a region
    ) -> None:
        self.region = region
        self.settings = settings
        self.storage = storage or StorageSettings()
        self.connect = connect
        self.clock = clock
        self.heartbeat = heartbeat or Heartbeat(
            "scheduler", stale_after_s=STALE_AFTER_S["scheduler"], registry=CollectorRegistry()
        )
        self.caught_up = time.time()  # every reading stored before this is in its rollups
        # recomputing a period moved to the cold tier reads its raw readings there
        self.cold = ColdStore.of(self.storage.cold_url) if self.storage.cold_url else None

    def rollups(self) -> dict[str, Any]:
        t0 = self.clock()
        began = time.time()
        # a second connection reads the next part of a big batch while the first writes
        with self.connect() as conn, self.connect() as reader:
            done = job.drain(
                conn,
                reader=reader,
                batch=self.settings.rollup_batch,
                default_interval_s=self.settings.default_interval_s,
                cold=self.cold,
            )
            out: dict[str, Any] = dict(job.totals(done))
            if len(done) < job.MAX_BATCHES:  # a whole pass: what was stored before it began is rolled up
                self.caught_up = began
            threshold = self.settings.analyze_after_rows
            if threshold and out["rows_15m"] >= threshold:
                conn.execute("ANALYZE rollup_15m, rollup_1h, rollup_1d")
                out["analyzed"] = True
        out["seconds"] = round(self.clock() - t0, 3)
        # lag: how long the rollups have been behind the stored readings (0 once drained)
        self.heartbeat.beat(time.time() - self.caught_up)
        if done:
            log.info("rollups: %s", out)
        return out

    def indicators(self) -> dict[str, Any]:
        t0 = self.clock()
        with self.connect() as conn:
            done = indicator_job.drain(
                conn,
                batch=self.settings.indicator_batch,
                gap_apportionment=self.settings.gap_apportionment,
                raw_from_ms=self.settings.raw_telemetry_from_ms(time.time()),
                cold=self.cold,
            )
        out = {
            "days": sum(s.days for s in done),
            "daily_rows": sum(s.daily_rows for s in done),
            "monthly_rows": sum(s.monthly_rows for s in done),
            "failed_days": sum(s.failed_days for s in done),
            "seconds": round(self.clock() - t0, 3),
        }
        self.heartbeat.beat()
        if done:
            log.info("indicators: %s", out)
        return out

    def retention(self) -> dict[str, Any]:
        """The storage package's retention pass (its one owner): cold tier, then drops."""
        from storage import job as storage_job

        with self.connect() as conn:
            done = storage_job.run(conn, storage=self.storage, hot_days=self.settings.telemetry_retention_days)
        if done.get("cold_chunks") or any(done["dropped"].values()):
            log.info("retention: %s", done)
        return done

    def reports(self) -> dict[str, Any]:
        """The report packs due (reports.job), then mailing the park packs (reports.mail)."""
        from reports import job as report_job
        from reports import mail
        from smartpark.webhook_targets import TargetPolicy

        with self.connect() as conn:
            done = report_job.run(conn, default_interval_s=self.settings.default_interval_s)
            targets = TargetPolicy.from_cidrs(get_settings().webhook_allowed_networks)
            done["mail"] = mail.send_pending(conn, targets=targets)
        self.heartbeat.beat()
        return done


def run_once(jobs: Jobs) -> dict[str, Any]:
    return {"rollups": jobs.rollups(), "indicators": jobs.indicators(), "retention": jobs.retention()}


def serve(jobs: Jobs) -> None:
    from apscheduler.schedulers.blocking import BlockingScheduler

    s = jobs.settings
    sched = BlockingScheduler(timezone=UTC)
    now = datetime.now(UTC)
    common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30, "next_run_time": now}
    sched.add_job(jobs.rollups, "interval", seconds=s.rollup_every_s, id="rollups", **common)
    sched.add_job(jobs.indicators, "interval", seconds=s.indicators_every_s, id="indicators", **common)
    sched.add_job(jobs.retention, "interval", hours=jobs.storage.retention_every_h, id="retention", **common)
    # Report packs first after one interval, not at start: rendering PDFs holds the interpreter
    # for seconds each, and a restarted scheduler owes its rollups first.
    later = {k: v for k, v in common.items() if k != "next_run_time"}  # the trigger's first time
    sched.add_job(jobs.reports, "interval", seconds=REPORTS_EVERY_S, id="reports", **later)
    if jobs.region is not None:  # a park submitting to its region: the outbox until acknowledged
        from region import job as region_job

        region_job.schedule(sched, jobs.connect, jobs.region, common)

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping", signum)
        sched.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started: rollups every %ss, indicators every %ss", s.rollup_every_s, s.indicators_every_s)
    sched.start()


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from smartpark.db import connect, database_url

    settings = get_settings()
    url = database_url(settings)
    heartbeat = Heartbeat("scheduler", stale_after_s=STALE_AFTER_S["scheduler"])
    jobs = Jobs(
        settings.aggregation,
        connect=lambda: connect(url, autocommit=True),
        heartbeat=heartbeat,
        storage=settings.storage,
        region=settings.region,
    )
    if not args.once:
        from smartpark.health_http import serve_health
        from smartpark.heartbeat import publish

        if settings.metrics_port:
            serve_health(settings.metrics_port, heartbeat, addr="0.0.0.0")
        publish(heartbeat, url)
    if args.once:
        try:
            print(json.dumps(run_once(jobs)))
        except Exception as exc:  # the operator sees what failed, with its cause
            log.exception("scheduler --once failed")
            print(f"smartpark scheduler: {exc}", file=sys.stderr)
            return 1
        return 0
    serve(jobs)
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="run every job once and exit")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    parser.set_defaults(func=run)

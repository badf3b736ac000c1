"""`smartpark ingest`: N ingest processes splitting the telemetry, by message on a shared
subscription or by enterprise on plain ones (``--partitioned``, see ingest/partition.py).

Worker i connects with the client id ``{prefix}-{i}``, the same after every restart, because
the broker keeps a persistent session's unacknowledged (and, for a shared subscription, its
share of new) messages for that client id: the next process with that id picks them up.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from ingest.partition import Partition
from smartpark.settings import get_settings
from smartpark.stacks import stacks_on_request

log = logging.getLogger("smartpark.ingest")

EXIT_TAKEN_OVER = 75  # another process took over the worker's client id: not restarted


def configure(parser: argparse.ArgumentParser) -> None:
    s = get_settings()
    parser.add_argument("--workers", type=int, default=1, help="ingest processes (default 1)")
    parser.add_argument("--park", default="+", help="ingest one park's telemetry only (default: every park)")
    parser.add_argument(
        "--group", default=s.ingest_share_group, help=f"shared-subscription group (default {s.ingest_share_group!r})"
    )
    parser.add_argument(
        "--exclusive",
        action="store_true",
        help="one ingester takes every message on a plain persistent subscription instead of a shared"
        " one; Mosquitto 2.0.11 restores plain subscriptions after a restart but not shared ones,"
        " so this mode, like --partitioned, loses nothing across broker restarts (see README, Ingest)",
    )
    parser.add_argument(
        "--partitioned",
        action="store_true",
        help="split the enterprises between the N workers (by a hash of their codes) on plain persistent"
        " subscriptions instead of sharing one subscription: like --exclusive, loses nothing across"
        " broker restarts, and scales out (see README, Ingest)",
    )
    parser.add_argument(
        "--partition",
        metavar="I/N",
        help="this ingester is partition I of N (from 0), for partitions run on several hosts; needs --workers 1",
    )
    parser.add_argument(
        "--client-id-prefix",
        default=None,
        help="MQTT client ids are PREFIX-0 .. PREFIX-(N-1) (default: ingest-HOST-GROUP-PARK)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=s.metrics_port,
        help="Prometheus exporter of worker 0; worker i uses PORT+i (0 = off)",
    )
    parser.add_argument("--batch-max-readings", type=int, default=s.ingest.batch_max_readings)
    parser.add_argument("--batch-max-ms", type=int, default=s.ingest.batch_max_ms)
    parser.add_argument(
        "--session-expiry",
        type=int,
        default=None,
        metavar="SECONDS",
        help="how long the broker keeps a stopped worker's session and messages",
    )
    parser.add_argument("--log-level", default="INFO")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
    )
    if args.workers < 1:
        log.error("--workers must be at least 1, not %d", args.workers)
        return 2
    if args.exclusive and args.workers != 1:
        log.error("--exclusive takes every message in one ingester: it needs --workers 1, not %d", args.workers)
        return 2
    if sum((args.exclusive, args.partitioned, args.partition is not None)) > 1:
        log.error("choose one of --exclusive, --partitioned and --partition")
        return 2
    options = vars(args).copy()
    options.pop("func", None)
    if args.partition is not None:
        if args.workers != 1:
            log.error("--partition I/N names one ingester: it needs --workers 1; use --partitioned for N here")
            return 2
        try:
            options["partition"] = Partition.parse(args.partition)
        except ValueError as exc:
            log.error("%s", exc)
            return 2
    if options["client_id_prefix"] is None:
        park = "all" if args.park == "+" else args.park
        part = options["partition"]
        if part is not None:
            # One session per partition, whichever host runs it: its queued messages follow it.
            options["client_id_prefix"] = f"ingest-{args.group}-{park}-p{part.index}of{part.count}"
        else:
            options["client_id_prefix"] = f"ingest-{socket.gethostname()}-{args.group}-{park}"
    if args.workers == 1:
        return run_worker(0, options)
    return supervise(args.workers, options)


def run_worker(index: int, options: dict[str, Any]) -> int:
    """One worker in this process until SIGTERM/SIGINT (flush, commit, ack, exit)."""
    from ingest import validate as v
    from ingest.metrics import IngestMetrics
    from ingest.quota import QuotaLimits
    from ingest.rejections import rejection_limits
    from ingest.worker import Ingester, WorkerConfig
    from smartpark.db import database_url
    from smartpark.health_http import serve_health
    from smartpark.heartbeat import FILE_ENV, STALE_AFTER_S, Heartbeat, publish
    from smartpark.mqtt import SESSION_EXPIRY_S, mqtt_url

    settings = get_settings()
    client_id = f"{options['client_id_prefix']}-{index}"
    lock = _claim(client_id)
    if lock is None:
        log.error("another ingester on this host runs as %s; not starting a second one", client_id)
        return EXIT_TAKEN_OVER
    config = WorkerConfig(
        client_id=client_id,
        group=options["group"],
        exclusive=options["exclusive"],
        partition=_partition(index, options),
        park=options["park"],
        root=settings.topic_root,
        batch_max_readings=options["batch_max_readings"],
        batch_max_ms=options["batch_max_ms"],
        window=v.Window.of(past_days=settings.ingest.accept_past_days, future_s=settings.ingest.accept_future_s),
        max_payload_bytes=settings.max_payload_bytes,
        session_expiry_s=options["session_expiry"] or SESSION_EXPIRY_S,
        rejection_limits=rejection_limits(settings.ingest),
        quota=QuotaLimits(
            settings.ingest.ingest_messages_per_s_per_enterprise, settings.ingest.ingest_message_burst_per_enterprise
        ),
    )
    metrics = IngestMetrics.create()
    beats = os.environ.get(FILE_ENV)  # one file per worker: a stuck one is seen beside a live one
    heartbeat = Heartbeat(
        "ingest", stale_after_s=STALE_AFTER_S["ingest"], path=Path(f"{beats}.{index}") if beats else None
    )
    if options["metrics_port"]:
        serve_health(options["metrics_port"] + index, heartbeat)
    publish(heartbeat, database_url(settings))
    ingester = Ingester(
        config, db_url=database_url(settings), mqtt_url=mqtt_url(settings), metrics=metrics, heartbeat=heartbeat
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: ingester.stop.set())
    part = config.partition
    log.info(
        "ingesting %s as %s",
        f"partition {part.index}/{part.count}" if part else config.subscriptions(),
        config.client_id,
    )
    ingester.run()
    return EXIT_TAKEN_OVER if ingester.taken_over else 0


def _partition(index: int, options: dict[str, Any]) -> Partition | None:
    if options["partition"] is not None:
        return options["partition"]  # parsed once, in run()
    return Partition(index, options["workers"]) if options["partitioned"] else None


def _claim(client_id: str) -> Any:
    """A host-wide lock on the client id (released by the kernel when the process dies).

    Two processes with one client id would take the broker session from each other forever;
    the broker only tells the one that loses (and not every broker says why)."""
    import fcntl
    import hashlib
    import tempfile
    from pathlib import Path

    name = hashlib.sha256(client_id.encode()).hexdigest()[:24]
    path = Path(tempfile.gettempdir()) / f"smartpark-ingest-{name}.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _child(index: int, options: dict[str, Any]) -> None:
    logging.basicConfig(
        level=options["log_level"].upper(), format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
    )
    die_with_parent()
    stacks_on_request()
    sys.exit(run_worker(index, options))


def die_with_parent() -> None:
    """Linux: get SIGTERM when the supervisor dies, so no worker is left orphaned."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def supervise(workers: int, options: dict[str, Any]) -> int:
    """Start the workers, restart any that dies, stop them all on SIGTERM/SIGINT."""
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    procs = {i: ctx.Process(target=_child, args=(i, options), name=f"ingest-{i}") for i in range(workers)}
    for p in procs.values():
        p.start()
    while not stopping:
        time.sleep(0.5)
        if all(p.exitcode == EXIT_TAKEN_OVER for p in procs.values()):
            log.error("every worker's client id is in use by another ingester; exiting")
            return EXIT_TAKEN_OVER
        for i, p in list(procs.items()):
            if not p.is_alive() and not stopping and p.exitcode != EXIT_TAKEN_OVER:
                log.warning("worker %d exited with %s; restarting it", i, p.exitcode)
                procs[i] = ctx.Process(target=_child, args=(i, options), name=f"ingest-{i}")
                procs[i].start()
    for p in procs.values():
        if p.is_alive() and p.pid is not None:
            p.terminate()  # SIGTERM: each worker flushes, commits and acknowledges
    for p in procs.values():
        p.join(timeout=60)
    return 0

"""What every benchmark needs around the code it measures: CPU meters, a free port, broker
accounts for a bench park, a scratch database and a `smartpark ingest` process.

CPU time read from ``/proc`` is the figure the benches lean on: on a machine shared with other
work it moves far less than wall time does. Everything here is for measuring and setting up;
nothing in the product imports it.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

# -- CPU ------------------------------------------------------------------------------------


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc); None when it cannot be read (gone,
    or a database server on another machine)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU seconds of the PostgreSQL backends connected to one database (optionally only those of
    one application); a backend that went away keeps its last reading, so a total never drops."""

    def __init__(self, db_url: str, *, dbname: str | None = None, application: str | None = None) -> None:
        self.db_url, self.dbname, self.application = db_url, dbname, application
        self.seen: dict[int, float] = {}

    def pids(self) -> list[int]:
        import psycopg

        sql = "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        sql += " AND datname = %s" if self.dbname else " AND datname = current_database()"
        params: list[str] = [self.dbname] if self.dbname else []
        if self.application:
            sql += " AND application_name = %s"
            params.append(self.application)
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return [int(r[0]) for r in conn.execute(sql, params).fetchall()]

    def total(self) -> float:
        for pid in self.pids():
            cpu = process_cpu_s(pid)
            if cpu is not None:
                self.seen[pid] = cpu
        return sum(self.seen.values())


def pids_cpu(pids: list[int]) -> Callable[[], float | None]:
    """CPU seconds of these processes together; None unless every one can be read."""

    def read() -> float | None:
        cpu = [process_cpu_s(p) for p in pids]
        return None if any(c is None for c in cpu) else sum(c for c in cpu if c is not None)

    return read


class CpuMeter:
    """CPU seconds spent since :meth:`start` by named sources (this process, other processes,
    database backends, a worker's Prometheus counter): each source reads a running total, or
    None when it cannot, and then its figure is None."""

    def __init__(self, sources: Mapping[str, Callable[[], float | None]]) -> None:
        self.sources = dict(sources)
        self._start: dict[str, float | None] = {}

    def start(self) -> CpuMeter:
        self._start = {name: read() for name, read in self.sources.items()}
        return self

    def spent(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for name, read in self.sources.items():
            now, then = read(), self._start.get(name)
            out[name] = None if now is None or then is None else now - then
        return out


# -- network and database -------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the caller binds it soon after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def scratch_db(prefix: str, settings: Any = None, *, migrated: bool = True) -> Iterator[Any]:
    """A scratch database on the configured server for one run, dropped afterwards
    (``.url``, ``.name``)."""
    from smartpark.db import database_url
    from smartpark.db.scratch import scratch_database

    with scratch_database(prefix, admin_url=database_url(settings), migrated=migrated) as scratch:
        yield scratch


# -- broker accounts ------------------------------------------------------------------------


def ensure_accounts(settings: Any, accounts: list[Any], *, attempts: int = 6, chunk: int = 10) -> int:
    """Create the broker accounts (and their enterprise roles) the broker lacks; returns how many
    were missing. The broker hashes each password slowly (~0.1 s), so existing ones are kept.

    Every admin connection hears every dynamic-security reply, so on a shared broker a reply can
    be someone else's, after which that connection's answers stay out of step: each attempt
    opens a fresh connection, and creating is idempotent.
    """
    from smartpark.broker_admin import BrokerAdmin, BrokerAdminError
    from smartpark.mqtt import admin_url

    missing_at_first: int | None = None
    for attempt in range(attempts):
        try:
            with BrokerAdmin(admin_url(settings), root=settings.topic_root, timeout=600) as admin:
                existing = set(admin.list_clients())
                missing = [a for a in accounts if a.username not in existing]
                if missing_at_first is None:
                    missing_at_first = len(missing)
                for i in range(0, len(missing), chunk):
                    admin.ensure_gateways(missing[i : i + chunk])
            return missing_at_first
        except (ValueError, BrokerAdminError) as exc:
            if attempt == attempts - 1:
                raise
            print(f"setting up the bench accounts failed ({exc}); retrying", file=sys.stderr)
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def remove_accounts(settings: Any, accounts: Iterable[Any]) -> None:
    """Leave a shared broker as found: every account and enterprise role of a bench park."""
    from smartpark.broker_admin import BrokerAdmin, BrokerAdminError, enterprise_role
    from smartpark.mqtt import admin_url

    accounts = list(accounts)
    roles = sorted({enterprise_role(a.park, a.enterprise) for a in accounts})
    commands = [{"command": "deleteClient", "username": a.username} for a in accounts]
    commands += [{"command": "deleteRole", "rolename": r} for r in roles]
    try:  # one request: the broker rewrites its security file once per request
        with BrokerAdmin(admin_url(settings), root=settings.topic_root, timeout=600) as admin:
            admin.execute(commands, tolerate=("not found", "Client", "Role"))
    except (ValueError, BrokerAdminError) as exc:
        print(f"note: bench broker accounts not all removed: {exc}", file=sys.stderr)


# -- the ingest service ---------------------------------------------------------------------


def ingest_command(
    park: str,
    *,
    workers: int,
    group: str,
    client_id_prefix: str,
    metrics_port: int,
    session_expiry_s: int,
    extra: Iterable[str] = (),
) -> list[str]:
    """`smartpark ingest` for one park with a group and client ids of its own, so a measured or
    tested ingester takes nothing from other runs sharing the broker."""
    return [
        sys.executable,
        "-m",
        "smartpark.cli",
        "ingest",
        "--workers",
        str(workers),
        "--park",
        park,
        "--group",
        group,
        "--client-id-prefix",
        client_id_prefix,
        "--session-expiry",
        str(session_expiry_s),
        "--metrics-port",
        str(metrics_port),
        *extra,
    ]


class IngestProcess:
    """`smartpark ingest` in its own process, as in production, for one park; returns once every
    worker has subscribed. Its Prometheus exporters (one port per worker) are what it is read by."""

    def __init__(
        self,
        *,
        db_url: str,
        park: str,
        workers: int = 1,
        mqtt_url: str | None = None,
        name: str = "bench",
        log_level: str = "WARNING",
        extra: Iterable[str] = (),
    ) -> None:
        from ingest.cli import die_with_parent

        self.port = free_port()
        self.workers = workers
        tag = secrets.token_hex(3)
        # no enterprise quota: a benchmark measures what an ingester can store
        env = dict(os.environ, SMARTPARK_DATABASE_URL=db_url, SMARTPARK_INGEST_MESSAGES_PER_S_PER_ENTERPRISE="0")
        if mqtt_url:
            env["SMARTPARK_MQTT_URL"] = mqtt_url
        self.proc = subprocess.Popen(
            ingest_command(
                park,
                workers=workers,
                group=f"{name}{tag}",
                client_id_prefix=f"{name}-ingest-{tag}",
                metrics_port=self.port,
                session_expiry_s=120,
                extra=("--log-level", log_level, *extra),
            ),
            env=env,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 90
        while self.metric("subscribed") < self.workers:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("the ingest workers did not subscribe within 90 s")
            time.sleep(0.2)

    def samples(self, name: str) -> list[float]:
        """One value per worker of a metric (full name) from the workers' exporters."""
        values = []
        for i in range(self.workers):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port + i}/metrics", timeout=5) as resp:
                    text = resp.read().decode()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith(f"{name} "):
                    values.append(float(line.split()[1]))
        return values

    def metric(self, name: str) -> float:
        return sum(self.samples(f"smartpark_ingest_{name}"))

    def cpu_s(self) -> float:
        """CPU seconds of the workers so far (their own process_cpu_seconds_total)."""
        return sum(self.samples("process_cpu_seconds_total"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


class InboxTap:
    """An alerting service's inbox that notes each message as it reaches the service, so a
    benchmark can tell what the shared broker took apart from what the service took."""

    def __init__(self, inner: Any, note: Callable[[Any], None]) -> None:
        self.inner = inner
        self.note = note

    def put(self, msg: Any) -> None:
        self.note(msg)
        self.inner.put(msg)

    def get(self, timeout: float | None = None) -> Any:
        return self.inner.get(timeout=timeout)

    def get_nowait(self) -> Any:
        return self.inner.get_nowait()

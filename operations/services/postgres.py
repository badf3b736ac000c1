"""The local TimescaleDB cluster: own data directory and port, started and stopped by smartpark.

Tuned for heavy ingest without giving up durability: fsync and synchronous commit stay on; a
large WAL and spread checkpoints absorb bursts of COPY.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from operations.services import local
from operations.services.process import as_user, chown_tree, pid_alive, port_open, run, wait_for
from smartpark.settings import Settings

OS_USER = "postgres"
INSTALLER = Path(__file__).resolve().parents[2] / "scripts" / "install-timescaledb.sh"


def server_bin_dir() -> Path:
    """The newest installed PostgreSQL server that has the TimescaleDB extension."""
    root = Path("/usr/lib/postgresql")
    versions = sorted((int(p.name) for p in root.glob("*") if p.name.isdigit()), reverse=True)
    for v in versions:
        if Path(f"/usr/share/postgresql/{v}/extension/timescaledb.control").exists():
            return root / str(v) / "bin"
    raise RuntimeError(
        f"no PostgreSQL server with the TimescaleDB extension is installed: run {INSTALLER} (make setup does)"
    )


def tuning(settings: Settings, socket_dir: Path) -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    shared = max(128, min(2048, int(mem_gb * 1024 / 16)))  # ~6 % of RAM: the machine is shared
    return "\n".join(
        [
            f"port = {settings.pg_port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{socket_dir}'",
            "shared_preload_libraries = 'timescaledb'",
            "timescaledb.telemetry_level = off",
            "max_connections = 200",
            f"shared_buffers = {shared}MB",
            "work_mem = 32MB",
            "maintenance_work_mem = 256MB",
            "wal_buffers = 64MB",
            "wal_compression = on",
            "max_wal_size = 4GB",
            "min_wal_size = 512MB",
            "checkpoint_timeout = 15min",
            "checkpoint_completion_target = 0.9",
            "synchronous_commit = on",
            "fsync = on",
            "full_page_writes = on",
            "effective_io_concurrency = 100",
            "random_page_cost = 1.1",
            "max_worker_processes = 40",
            "timescaledb.max_background_workers = 24",
            "max_locks_per_transaction = 256",
            "log_min_duration_statement = 2000",
            "",
        ]
    )


def _pg_ctl(bindir: Path, data: Path, *args: str) -> list[str]:
    return as_user(OS_USER, [str(bindir / "pg_ctl"), "-D", str(data), *args])


def initialised(settings: Settings) -> bool:
    return (local.paths(settings).pg_data / "PG_VERSION").exists()


def is_running(settings: Settings) -> bool:
    p = local.paths(settings)
    if not initialised(settings):
        return False
    bindir = server_bin_dir()
    status = subprocess.run(_pg_ctl(bindir, p.pg_data, "status"), capture_output=True, check=False)
    return status.returncode == 0 and port_open(settings.pg_port)


def init(settings: Settings) -> None:
    p = local.paths(settings)
    bindir = server_bin_dir()
    for d in (p.pg, p.pg_socket):
        d.mkdir(parents=True, exist_ok=True)
    chown_tree(p.pg, OS_USER)
    run(
        as_user(
            OS_USER,
            [
                str(bindir / "initdb"),
                "-D",
                str(p.pg_data),
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
            ],
        )
    )
    conf = p.pg_data / "postgresql.conf"
    with conf.open("a") as out:
        out.write("\ninclude_if_exists = 'smartpark.conf'\n")


def start(settings: Settings) -> None:
    p = local.paths(settings)
    bindir = server_bin_dir()
    if not initialised(settings):
        init(settings)
    p.pg_socket.mkdir(parents=True, exist_ok=True)
    (p.pg_data / "smartpark.conf").write_text(tuning(settings, p.pg_socket))
    chown_tree(p.pg, OS_USER)
    if is_running(settings):
        return
    master = postmaster_pid(settings)
    if master is None or not pid_alive(master):
        _kill_orphans(p.pg_data)
    try:
        run(_pg_ctl(bindir, p.pg_data, "-l", str(p.pg_log), "-w", "-t", "120", "start"))
    except RuntimeError:
        # Another process (a parallel test run, `smartpark up`) may have started it meanwhile.
        time.sleep(2)
        if not is_running(settings):
            raise
    wait_for(lambda: port_open(settings.pg_port), 60, "PostgreSQL to listen")
    _ensure_role_and_database(settings, bindir)


def _kill_orphans(data: Path) -> None:
    """Kill backends left behind by a postmaster that died (kill -9, OOM).

    They keep the shared memory attached and PostgreSQL refuses to start until they are gone;
    a backend busy in a long statement may not notice its postmaster's death for minutes. They
    are recognised by their working directory, the data directory.
    """
    target = data.resolve()
    killed = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if Path(os.readlink(proc / "cwd")) == target:
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(int(proc.name))
        except (OSError, ValueError):
            continue
    wait_for(lambda: not any(pid_alive(pid) for pid in killed), 30, "orphaned PostgreSQL backends to exit")


def _psql_as_postgres(settings: Settings, bindir: Path, sql: str, db: str = "postgres") -> str:
    p = local.paths(settings)
    argv = as_user(
        OS_USER,
        [
            str(bindir / "psql"),
            "-h",
            str(p.pg_socket),
            "-p",
            str(settings.pg_port),
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-tAq",
            "-c",
            sql,
        ],
    )
    return run(argv).stdout.strip()


def _ensure_role_and_database(settings: Settings, bindir: Path) -> None:
    password = local.credentials(settings, create=True)["pg_password"]
    exists = _psql_as_postgres(settings, bindir, f"SELECT 1 FROM pg_roles WHERE rolname = '{local.DB_USER}'")
    # The password is generated by us (url-safe base64), so it is safe inside a literal.
    verb = "ALTER" if exists == "1" else "CREATE"
    _psql_as_postgres(
        settings,
        bindir,
        f"{verb} ROLE {local.DB_USER} WITH LOGIN SUPERUSER PASSWORD '{password}'",
    )
    has_db = _psql_as_postgres(settings, bindir, f"SELECT 1 FROM pg_database WHERE datname = '{local.DB_NAME}'")
    if has_db != "1":
        _psql_as_postgres(settings, bindir, f"CREATE DATABASE {local.DB_NAME} OWNER {local.DB_USER}")


def stop(settings: Settings, *, mode: str = "fast") -> None:
    """Stop the cluster; ``mode="immediate"`` is a crash (recovery from WAL at the next start)."""
    if not initialised(settings):
        return
    p = local.paths(settings)
    bindir = server_bin_dir()
    subprocess.run(_pg_ctl(bindir, p.pg_data, "-m", mode, "-w", "stop"), capture_output=True, check=False)


def versions(settings: Settings) -> dict[str, str]:
    from smartpark.db import database_url

    with psycopg.connect(database_url(local.resolved(settings)), connect_timeout=5) as conn:
        server = conn.execute("SHOW server_version").fetchone()
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        available = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()
        license_ = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()
    return {
        "postgresql": str(server[0]) if server else "?",
        "timescaledb": str(row[0]) if row else (f"{available[0]} (available)" if available else "missing"),
        "edition": "timescale" if license_ and license_[0] == "timescale" else "apache",
    }


def destroy(settings: Settings) -> None:
    """Remove the cluster and its data (used by `smartpark services down --purge`)."""
    stop(settings, mode="fast")
    shutil.rmtree(local.paths(settings).pg, ignore_errors=True)


def postmaster_pid(settings: Settings) -> int | None:
    from operations.services.process import read_pid

    return read_pid(local.paths(settings).pg_data / "postmaster.pid")

"""What `smartpark up` does before it starts the components: services, schema, broker account,
rules, and with ``--demo`` a simulated park with a week of history and a demo login.

Each step is a ``smartpark`` subcommand run as a child process; steps already done (checked in
the database, not only in stamp files) are skipped on the next run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from operations.children import smartpark_argv, tail
from operations.plan import DEMO_PARK, DEMO_USER, Options, demo_steps, parse_key, redact_keys
from operations.services import local
from smartpark.private_files import write_private
from smartpark.settings import Settings


class StepFailed(Exception):
    pass


def run_step(
    name: str,
    argv: Sequence[str],
    *,
    log_dir: Path,
    say: Callable[[str], None],
    capture: bool = False,
    attempts: int = 1,
) -> str:
    """Run one ``smartpark`` command to completion; its output goes to the step's log.

    ``attempts`` > 1 only for idempotent steps that talk to a busy shared broker.
    """
    for attempt in range(1, attempts + 1):
        try:
            return _run_step_once(name, argv, log_dir=log_dir, say=say, capture=capture)
        except StepFailed as exc:
            if attempt == attempts:
                raise
            say(f"{name}: attempt {attempt} failed, retrying: {str(exc).splitlines()[0]}")
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def _run_step_once(name: str, argv: Sequence[str], *, log_dir: Path, say: Callable[[str], None], capture: bool) -> str:
    started = time.monotonic()
    say(f"{name}: smartpark {' '.join(argv)}")
    log_path = log_dir / f"step-{name}.log"
    log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    proc = subprocess.Popen(
        smartpark_argv(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate()
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        raise
    text = out.decode(errors="replace")
    write_private(log_path, redact_keys(text))  # a step's output may carry the key it made
    if proc.returncode != 0:
        raise StepFailed(f"{name} failed with exit code {proc.returncode} (log {log_path}):\n{tail(log_path)}")
    say(f"{name}: done in {time.monotonic() - started:.1f} s")
    return text if capture else ""


try:
    from psycopg import OperationalError as OSError_DB
except ImportError:  # pragma: no cover - psycopg is a dependency
    OSError_DB = OSError  # type: ignore[misc,assignment]


def _connect(settings: Settings) -> Any:
    from smartpark.db import connect, database_url

    return connect(database_url(settings), autocommit=True)


def demo_state(conn: Any, *, park: str = DEMO_PARK, days: float) -> dict[str, bool]:
    """Which demo steps the database shows as done."""
    row = conn.execute("SELECT park_id FROM parks WHERE code = %s", (park,)).fetchone()
    park_id = row[0] if row else None
    history = False
    if park_id is not None:
        # Readings near the start of the back-filled window mean the back-fill got that far.
        history = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM telemetry t JOIN devices d USING (device_id)"
            " JOIN enterprises e USING (enterprise_id) WHERE e.park_id = %s"
            " AND t.ts < now() - make_interval(secs => %s))",
            (park_id, max(days - 0.5, 0.25) * 86400),
        ).fetchone()[0]
    user = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM api_users WHERE name = %s AND disabled_at IS NULL)", (DEMO_USER,)
    ).fetchone()[0]
    rollups = (
        park_id is not None
        and conn.execute(
            "SELECT EXISTS (SELECT 1 FROM rollup_1d r JOIN devices d USING (device_id)"
            " JOIN enterprises e USING (enterprise_id) WHERE e.park_id = %s)",
            (park_id,),
        ).fetchone()[0]
    )
    return {"registry": park_id is not None, "backfill": bool(history), "user": bool(user), "rollups": bool(rollups)}


def ensure_platform_account(settings: Settings, say: Callable[[str], None]) -> None:
    """On an external broker, create the platform services' account named by SMARTPARK_MQTT_URL."""
    from urllib.parse import unquote, urlsplit

    from smartpark.broker_admin import BrokerAdmin
    from smartpark.mqtt import admin_url

    if not settings.mqtt_url:
        return  # the local broker creates it when it starts
    url = urlsplit(settings.mqtt_url)
    if not url.username or not url.password:
        raise StepFailed("SMARTPARK_MQTT_URL needs the platform account as mqtt://user:password@host:port")
    with BrokerAdmin(admin_url(settings), root=settings.topic_root) as admin:
        admin.ensure_platform_account(unquote(url.username), unquote(url.password))
    say(f"broker: platform account {unquote(url.username)!r} ready")


def services_ready(settings: Settings, *, state: Path, say: Callable[[str], None]) -> Settings:
    """External servers migrated and the platform account made, or the local services started;
    returns the settings with every server URL the components need filled in."""
    log_dir = state / "logs"
    if settings.database_url and settings.mqtt_url:
        run_step("migrate", ("db", "migrate"), log_dir=log_dir, say=say)
        ensure_platform_account(settings, say)
        return settings
    run_step("services", ("services", "up", "--migrate"), log_dir=log_dir, say=say)
    return local.resolved(settings)


def prepare(
    opts: Options, settings: Settings, *, state: Path, registry: Path | None, say: Callable[[str], None]
) -> None:
    """Alert rules and a registry file if given (on services made ready by :func:`services_ready`)."""
    log_dir = state / "logs"
    with _connect(settings) as conn:
        has_rules = conn.execute("SELECT EXISTS (SELECT 1 FROM alert_rules)").fetchone()[0]
    if not has_rules:
        run_step("rules", ("alerting", "load"), log_dir=log_dir, say=say)
    if registry is not None:
        run_step("registry", ("registry", "load", str(registry)), log_dir=log_dir, say=say, attempts=3)


def demo_model_and_login(opts: Options, settings: Settings, *, state: Path, say: Callable[[str], None]) -> str:
    """Model file, registry and demo admin key; returns the key (kept in the state dir)."""
    demo = state / "demo"
    demo.mkdir(parents=True, exist_ok=True)
    model = demo / "park.yaml"
    steps = demo_steps(opts, model=model)
    log_dir = state / "logs"
    if not model.exists():
        run_step("model", steps["model"], log_dir=log_dir, say=say)
    with _connect(settings) as conn:
        done = demo_state(conn, days=opts.days)
    if not done["registry"]:
        run_step("registry", steps["registry"], log_dir=log_dir, say=say, attempts=3)
    login = demo / "login.txt"
    key = login.read_text().strip() if login.exists() else ""
    if done["user"] and key:
        return key
    argv = steps["user"] if not done["user"] else ("users", "key", DEMO_USER, "--label", "demo")
    out = run_step("user", argv, log_dir=log_dir, say=say, capture=True)
    key = parse_key(out) or ""
    if not key:
        raise StepFailed(f"no API key in the output of smartpark {' '.join(argv)}")
    fd = os.open(login, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def wait_for_ingest(
    settings: Settings, say: Callable[[str], None], *, quiet_s: float = 6.0, timeout_s: float = 600.0
) -> None:
    """Until the ingesters have stored what the back-fill published (nothing new for quiet_s)."""
    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        try:
            with _connect(settings) as conn:
                n = conn.execute("SELECT count(*) FROM telemetry_touched").fetchone()[0]
        except OSError_DB as exc:  # the database restarting: wait for it rather than give up
            say(f"ingest: database not reachable ({exc}); retrying")
            time.sleep(2)
            continue
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(1)
    say(f"ingest: still storing the history after {timeout_s:g} s; going on")


def demo_history(opts: Options, settings: Settings, *, state: Path, say: Callable[[str], None]) -> None:
    """A week of history (published while ingest runs), then one scheduler pass for its rollups."""
    model = state / "demo" / "park.yaml"
    log_dir = state / "logs"
    with _connect(settings) as conn:
        done = demo_state(conn, days=opts.days)
    if not done["backfill"]:
        run_step("backfill", demo_steps(opts, model=model)["backfill"], log_dir=log_dir, say=say)
        wait_for_ingest(settings, say)
    if not (done["backfill"] and done["rollups"]):
        run_step("rollups", ("scheduler", "--once"), log_dir=log_dir, say=say)


def wait_for_api(url: str, say: Callable[[str], None], *, timeout_s: float = 60.0) -> bool:
    """Until the API answers its liveness check, so the printed URL works when it is printed."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2) as res:
                if res.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    say(f"api: no answer from {url}healthz after {timeout_s:g} s (see logs/api.log)")
    return False


def dashboard_url(settings: Settings) -> str:
    host = settings.api.host if settings.api.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{settings.api.port}/"

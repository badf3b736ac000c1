"""`smartpark up [--demo]`: every component of the platform as child processes, in the foreground.

The supervisor prepares what the components need (services, schema, broker account, rules; with
``--demo`` a simulated park with a week of history and a demo login), starts the components,
restarts a crashed one with exponential backoff, restarts one whose heartbeat stops (a file the
child touches each time its loop goes round, ``smartpark.heartbeat``: stuck is as bad as
crashed), and on Ctrl-C or SIGTERM stops them all. Each
step is a ``smartpark`` subcommand run as a child, so a missing component is named precisely
instead of failing somewhere inside. Steps already done (checked in the database, not only in
stamp files) are skipped on the next run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from operations.children import smartpark_argv, tail
from operations.plan import Component, Options, components, demo_steps
from operations.preparation import (
    StepFailed,
    dashboard_url,
    demo_history,
    demo_model_and_login,
    prepare,
    services_ready,
    wait_for_api,
)
from operations.services import local
from smartpark.heartbeat import FILE_ENV, STALE_AFTER_S, file_age_s
from smartpark.settings import get_settings

BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 60.0
HEALTHY_AFTER_S = 60.0  # a child that ran this long is healthy again: its backoff restarts
STOP_GRACE_S = 10.0
STARTUP_GRACE_S = 60.0  # a child's first beat may wait for its database and broker
STACKS_WAIT_S = 0.5  # for a stuck child to write its threads' stacks before it is killed


def check_command(argv: Sequence[str], commands: dict[str, tuple[str, str]] | None = None) -> str | None:
    """None if ``smartpark ARGV`` exists and parses; else a precise reason naming what is missing."""
    from smartpark.cli import COMMANDS

    commands = COMMANDS if commands is None else commands
    name, *rest = argv
    if name not in commands:
        return f"`smartpark {name}` is not a smartpark command"
    module = commands[name][0]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        return f"`smartpark {name}` is not available yet: module {module} is missing ({exc.name})"
    except Exception as exc:  # a component that does not import is as missing as an absent one
        return f"`smartpark {name}` cannot start: importing {module} failed: {exc!r}"
    configure = getattr(mod, "configure", None)
    if configure is None:
        return f"`smartpark {name}` is not available yet: {module} has no configure(parser)"
    parser = argparse.ArgumentParser(prog=f"smartpark {name}", exit_on_error=False, add_help=False)
    configure(parser)
    try:
        args, extra = parser.parse_known_args(list(rest))
    except (argparse.ArgumentError, SystemExit) as exc:
        return f"`smartpark {' '.join(argv)}` is not supported by {module}: {exc}"
    if extra:
        return f"`smartpark {' '.join(argv)}`: {module} does not accept {' '.join(extra)}"
    if getattr(args, "func", None) is None:
        return f"`smartpark {' '.join(argv)}` runs nothing in {module}"
    return None


def backoff_s(failures: int, *, start: float = BACKOFF_START_S, cap: float = BACKOFF_MAX_S) -> float:
    """Delay before restarting a child after ``failures`` consecutive crashes (1, 2, 4 … 60 s)."""
    if failures <= 0:
        return 0.0
    return float(min(cap, start * 2 ** (failures - 1)))


# --- running children (I/O) ---------------------------------------------------------------------


@dataclass(slots=True)
class Child:
    component: Component
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    started_wall: float = 0.0  # time.time() of the start, to tell this run's heartbeat files
    log: Any = field(default=None, repr=False)

    @property
    def heartbeat_path(self) -> Path:
        return self.log_path.with_suffix(".heartbeat")

    def heartbeat_age_s(self, now_wall: float) -> float | None:
        """Age of the stalest heartbeat file of the child (ingest: one per worker); None: none yet."""
        ages = [
            file_age_s(p, now_wall)
            for p in self.heartbeat_path.parent.glob(self.heartbeat_path.name + "*")
            if p.stat().st_mtime >= self.started_wall  # a file of an earlier run says nothing
        ]
        return max((a for a in ages if a is not None), default=None)

    def start(self, now: float, argv_for: Callable[[Sequence[str]], list[str]] = smartpark_argv) -> None:
        self.log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # the owner's only: a component's log may name what it was given
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        self.log = os.fdopen(fd, "ab")
        self.started_wall = time.time()
        # A session of its own, so Ctrl-C reaches only the supervisor, which then stops the whole
        # group (ingest's workers too) in order.
        self.proc = subprocess.Popen(
            argv_for(self.component.argv),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, FILE_ENV: str(self.heartbeat_path)},
        )
        self.started_at = now
        self.restart_at = None

    def signal_group(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None


class Supervisor:
    """Keeps the children running until stopped; restarts a crashed one after its backoff."""

    def __init__(
        self,
        comps: list[Component],
        *,
        log_dir: Path,
        out: TextIO = sys.stdout,
        clock: Callable[[], float] = time.monotonic,
        argv_for: Callable[[Sequence[str]], list[str]] = smartpark_argv,
        stale_after_s: Mapping[str, float] = STALE_AFTER_S,
        startup_grace_s: float = STARTUP_GRACE_S,
    ) -> None:
        self.children = [Child(c, log_dir / f"{c.name}.log") for c in comps]
        self.stale_after_s = dict(stale_after_s)  # by component name; others are not watched
        self.startup_grace_s = startup_grace_s
        self.out = out
        self.clock = clock
        self.argv_for = argv_for
        self.stopping = False
        self.stopped = False

    def say(self, text: str) -> None:
        print(f"[up] {text}", file=self.out, flush=True)

    def start_all(self, which: Callable[[Component], bool] = lambda c: True) -> None:
        for child in self.children:
            if child.proc is not None or not which(child.component):
                continue
            child.start(self.clock(), self.argv_for)
            self.say(
                f"started {child.component.name} (pid {child.proc.pid if child.proc else '?'}):"
                f" smartpark {' '.join(child.component.argv)}"
            )

    def poll_once(self) -> None:
        now = self.clock()
        for child in self.children:
            if child.proc is None:
                continue
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.close_log()
                    child.start(now, self.argv_for)
                    self.say(f"restarted {child.component.name} (pid {child.proc.pid})")
                continue
            code = child.proc.poll()
            if code is None and self._stuck(child, now):
                child.signal_group(signal.SIGUSR1)  # its processes' stacks into its log: where it hung
                time.sleep(STACKS_WAIT_S)
                child.signal_group(signal.SIGKILL)  # stuck: a SIGTERM may never be heard
                child.proc.wait()
                code = child.proc.returncode
            if code is None:
                if child.failures and now - child.started_at >= HEALTHY_AFTER_S:
                    child.failures = 0
                continue
            child.failures = child.failures + 1 if now - child.started_at < HEALTHY_AFTER_S else 1
            delay = backoff_s(child.failures)
            child.restart_at = now + delay
            self.say(
                f"{child.component.name} exited with {code}; restarting in {delay:g} s"
                f" (log {child.log_path}):\n{tail(child.log_path)}"
            )

    def _stuck(self, child: Child, now: float) -> bool:
        """The child's heartbeat is older than its service's stale time (after a start-up grace)."""
        stale_after = self.stale_after_s.get(child.component.name)
        if stale_after is None or now - child.started_at < stale_after + self.startup_grace_s:
            return False
        age = child.heartbeat_age_s(time.time())
        stuck = age is None or age > stale_after
        if stuck:
            what = "no heartbeat" if age is None else f"no heartbeat for {age:.0f} s"
            self.say(f"{child.component.name}: {what} (stale after {stale_after:g} s): killing it to restart")
        return stuck

    def stop_all(self, grace_s: float = STOP_GRACE_S) -> None:
        if self.stopped:
            return
        self.stopping = self.stopped = True
        # Reverse order: the simulator and API go first, ingest last, so queued readings land.
        for child in reversed(self.children):
            child.signal_group(signal.SIGTERM)
        deadline = self.clock() + grace_s
        for child in reversed(self.children):
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.0, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.component.name} did not stop in {grace_s:g} s: killed")
                child.signal_group(signal.SIGKILL)
                child.proc.wait()
            child.close_log()
        self.say("stopped")

    def run(self, *, poll_s: float = 0.5) -> int:
        """Supervise until stopped (the caller stops the children, whatever ended the loop)."""
        while not self.stopping:
            self.poll_once()
            time.sleep(poll_s)
        return 0


class Stop(Exception):
    """SIGTERM or Ctrl-C while preparing or running."""


def _on_signal(signum: int, frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def missing(comps: list[Component], extra: list[tuple[str, ...]]) -> list[str]:
    problems = []
    for argv in [c.argv for c in comps] + extra:
        reason = check_command(argv)
        if reason:
            problems.append(reason)
    return problems


def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        opts = Options(
            demo=args.demo,
            ingest_workers=args.ingest_workers,
            hj212=not args.no_hj212,
            enterprises=args.enterprises,
            seed=args.seed,
            days=args.days,
            backfill_interval_s=args.backfill_interval,
            sim_interval_s=args.sim_interval,
            hj212_server=settings.hj212.server,
        )
    except ValueError as exc:
        print(f"smartpark up: {exc}", file=sys.stderr)
        return 2
    state = Path(settings.state_dir)
    registry = args.registry or settings.registry_file
    if registry is not None and not registry.is_file():
        print(f"smartpark up: registry file {str(registry)!r} does not exist", file=sys.stderr)
        return 2
    model = state / "demo" / "park.yaml"
    comps = [] if args.init_only else components(opts, model=model)
    one_shots: list[tuple[str, ...]] = [("db", "migrate"), ("alerting", "load"), ("scheduler", "--once")]
    if opts.demo:
        one_shots += list(demo_steps(opts, model=model).values())
    problems = missing(comps, one_shots)
    if problems:
        print("smartpark up: cannot start, missing component(s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 3

    started = time.monotonic()
    sup = Supervisor(comps, log_dir=state / "logs")
    say = sup.say
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        settings = services_ready(settings, state=state, say=say)
        # Every child from here on (steps and components) gets the servers' URLs: the runtime
        # never reads the local services' credentials itself.
        os.environ.update(local.runtime_env(settings))
        prepare(opts, settings, state=state, registry=registry, say=say)
        key = demo_model_and_login(opts, settings, state=state, say=say) if opts.demo else None
        if args.init_only and opts.demo:
            # Containers: the ingest replicas already run, so the history can be published now.
            demo_history(opts, settings, state=state, say=say)
        if args.init_only:
            say(f"initialised in {time.monotonic() - started:.0f} s")
            if key:
                say(f"demo login (API key): {key}")
            return 0
        say(f"logs in {state / 'logs'}")
        # With --demo the back-fill needs ingest running, and the one-off scheduler pass must
        # not race the scheduler service: start those two (and the live simulator) after it.
        later = {"scheduler", "simulator"} if opts.demo else set()
        sup.start_all(lambda c: c.name not in later)
        if opts.demo:
            demo_history(opts, settings, state=state, say=say)
            sup.start_all(lambda c: c.name in later)
        wait_for_api(dashboard_url(settings), say)
        say(f"ready in {time.monotonic() - started:.0f} s")
        say(f"dashboard: {dashboard_url(settings)}")
        if key:
            say(f"demo login (API key): {key}")
            say(f"  (kept in {state / 'demo' / 'login.txt'})")
        say("Ctrl-C stops everything")
        return sup.run()
    except Stop as exc:
        say(f"{exc}: stopping")
        return 0
    except StepFailed as exc:
        print(f"smartpark up: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"smartpark up: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        sup.stop_all()  # never leave a child behind, whatever went wrong
        for s, handler in previous.items():
            signal.signal(s, handler)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo",
        action="store_true",
        help="with a simulated park: model, registry, a week of history, live data, a demo admin key",
    )
    parser.add_argument(
        "--init-only", action="store_true", help="prepare (schema, broker account, rules, registry, demo data) and exit"
    )
    parser.add_argument("--registry", type=Path, help="park model file to load (smartpark registry load)")
    parser.add_argument("--ingest-workers", type=int, default=2, help="ingest processes (default 2)")
    parser.add_argument("--no-hj212", action="store_true", help="do not run the HJ 212 server")
    demo = parser.add_argument_group("demo")
    demo.add_argument("--enterprises", type=int, default=40)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--days", type=float, default=7.0, help="days of back-filled history")
    demo.add_argument(
        "--backfill-interval",
        type=int,
        default=900,
        help="seconds between back-filled readings (default 900: one per 15-minute rollup)",
    )
    demo.add_argument("--sim-interval", type=float, default=10.0, help="seconds between live readings (default 10)")
    parser.set_defaults(func=_run)

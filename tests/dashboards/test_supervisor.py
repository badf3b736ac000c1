"""`smartpark up`: what it runs, how it names a missing component, restarts and clean stops.
The child processes here are small Python programs, so no services are needed."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from operations.plan import Component, Options, components, demo_steps, parse_key
from operations.supervisor import Supervisor, backoff_s, check_command


def test_components_of_the_platform_and_the_demo() -> None:
    plain = components(Options(), model=Path("m.yaml"))
    assert [c.name for c in plain] == ["ingest", "alerting", "scheduler", "api", "emergency", "hj212", "hj212-forward"]
    assert plain[0].argv == ("ingest", "--workers", "2", "--partitioned")
    demo = components(Options(demo=True, sim_interval_s=5), model=Path("/s/park.yaml"))
    assert demo[-1] == Component(
        "simulator", ("sim", "run", "--model", "/s/park.yaml", "--interval", "5", "--hj212", "127.0.0.1:8212")
    )
    without = [c.name for c in components(Options(hj212=False), model=Path("m"))]
    assert "hj212" not in without and "hj212-forward" not in without


def test_demo_steps_are_the_documented_commands() -> None:
    steps = demo_steps(Options(demo=True), model=Path("/s/park.yaml"))
    assert steps["model"] == (
        "sim",
        "init",
        "--enterprises",
        "40",
        "--seed",
        "7",
        "--park",
        "demo",
        "-o",
        "/s/park.yaml",
    )
    assert steps["backfill"][:5] == ("sim", "backfill", "--model", "/s/park.yaml", "--days")
    assert steps["registry"] == ("registry", "load", "/s/park.yaml")


def test_every_command_up_runs_exists_in_the_cli() -> None:
    opts = Options(demo=True)
    for comp in components(opts, model=Path("m.yaml")):
        assert check_command(comp.argv) is None, check_command(comp.argv)
    for argv in demo_steps(opts, model=Path("m.yaml")).values():
        assert check_command(argv) is None, check_command(argv)


def test_a_missing_component_is_named_precisely() -> None:
    reason = check_command(("scheduler",), {"scheduler": ("aggregation.no_such_cli", "")})
    assert reason is not None and "aggregation.no_such_cli" in reason and "smartpark scheduler" in reason
    reason = check_command(("sim", "fly"))
    assert reason is not None and "smartpark sim fly" in reason
    reason = check_command(("ingest", "--no-such-flag"))
    assert reason is not None and "--no-such-flag" in reason
    assert check_command(("teleport",)) == "`smartpark teleport` is not a smartpark command"


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff_s(n) for n in range(0, 9)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]


def test_parse_key_finds_the_printed_key() -> None:
    key = "spk_abcdefgh_" + "A" * 43
    assert parse_key(f"user demo-admin (id 1, role admin)\nkey 3: {key}\n") == key
    assert parse_key("no key here") is None


@pytest.mark.parametrize(
    "kwargs",
    [{"ingest_workers": 0}, {"days": 40}, {"backfill_interval_s": 1}, {"enterprises": 0}, {"sim_interval_s": 0}],
)
def test_options_reject_bad_values_by_name(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs)).split("_")[0]):
        Options(**kwargs)  # type: ignore[arg-type]


PROGRAMS = {
    # Crashes at once, then (second run) stays up: a flag file says which run this is.
    "flaky": "import pathlib,sys,time; p=pathlib.Path(sys.argv[1]);"
    " first=not p.exists(); p.touch(); print('run', 'first' if first else 'again', flush=True);"
    " sys.exit(3) if first else time.sleep(60)",
    # Runs until SIGTERM, and reports that it got it.
    # Beats (touches its heartbeat file) for a while, then hangs without exiting: stuck.
    # as smartpark.cli does: SIGUSR1 writes the threads' stacks
    "stuck": "import faulthandler,os,pathlib,signal,time; faulthandler.register(signal.SIGUSR1, all_threads=True);"
    " hb=pathlib.Path(os.environ['SMARTPARK_HEARTBEAT_FILE']);"
    " [(hb.touch(), time.sleep(0.1)) for _ in range(5)]; print('hung', flush=True); time.sleep(600)",
    "steady": "import signal,sys,time; signal.signal(signal.SIGTERM, lambda *a: (print('got SIGTERM',"
    " flush=True), sys.exit(0))); print('up', flush=True); time.sleep(60)",
}


def _programs(tmp: Path) -> object:
    def argv_for(argv: Sequence[str]) -> list[str]:
        return [sys.executable, "-c", PROGRAMS[argv[0]], str(tmp / "flag")]

    return argv_for


def test_crashed_child_is_restarted_and_everything_stops_cleanly(tmp_path: Path) -> None:
    out = io.StringIO()
    sup = Supervisor(
        [Component("flaky", ("flaky",)), Component("steady", ("steady",))],
        log_dir=tmp_path / "logs",
        out=out,
        argv_for=_programs(tmp_path),
    )  # type: ignore[arg-type]
    sup.start_all()
    deadline = time.monotonic() + 20
    flaky = sup.children[0]
    while time.monotonic() < deadline and "restarted flaky" not in out.getvalue():
        sup.poll_once()
        time.sleep(0.1)
    assert "flaky exited with 3; restarting in 1 s" in out.getvalue()
    assert "restarted flaky" in out.getvalue()
    assert flaky.failures == 1
    time.sleep(0.5)
    sup.stop_all(grace_s=10)
    for child in sup.children:
        assert child.proc is not None and child.proc.poll() is not None
    assert "got SIGTERM" in (tmp_path / "logs" / "steady.log").read_text()
    assert (tmp_path / "logs" / "flaky.log").read_text().splitlines()[:2] == ["run first", "run again"]
    assert out.getvalue().rstrip().endswith("[up] stopped")


def test_a_stuck_child_whose_heartbeat_stops_is_restarted(tmp_path: Path) -> None:
    out = io.StringIO()
    sup = Supervisor(
        [Component("stuck", ("stuck",)), Component("steady", ("steady",))],
        log_dir=tmp_path / "logs",
        out=out,
        argv_for=_programs(tmp_path),  # type: ignore[arg-type]
        stale_after_s={"stuck": 1.0},  # steady has no heartbeat and is not watched
        startup_grace_s=0.5,
    )
    sup.start_all()
    stuck, steady = sup.children
    first_pid = stuck.proc.pid if stuck.proc else None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "restarted stuck" not in out.getvalue():
        sup.poll_once()
        time.sleep(0.1)
    said = out.getvalue()
    assert "stuck: no heartbeat for" in said and "killing it to restart" in said, said
    assert "restarted stuck" in said
    assert stuck.proc is not None and stuck.proc.pid != first_pid
    assert steady.proc is not None and steady.proc.poll() is None  # the live one was left alone
    assert (tmp_path / "logs" / "stuck.log").read_text().count("hung") >= 1
    # before the kill, the stuck child was asked where it hung: its stack is in its log and in
    # what the supervisor said
    assert "most recent call first" in said and 'File "<string>"' in said, said
    sup.stop_all(grace_s=10)

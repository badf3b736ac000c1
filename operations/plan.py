"""What `smartpark up` runs: its components, the demo's one-shot commands and their options.

Pure data, shared by the supervisor (which runs the components) and the preparation (which runs
the one-shot steps), so neither has to import the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEMO_PARK = "demo"
DEMO_USER = "demo-admin"


@dataclass(frozen=True, slots=True)
class Component:
    """A long-running child: a name for the operator and the smartpark argv that runs it."""

    name: str
    argv: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Options:
    demo: bool = False
    ingest_workers: int = 2
    hj212: bool = True
    enterprises: int = 40
    seed: int = 7
    days: float = 7.0
    backfill_interval_s: int = 900
    sim_interval_s: float = 10.0
    hj212_server: str = "127.0.0.1:8212"  # where the simulated data loggers upload

    def __post_init__(self) -> None:
        if not 1 <= self.ingest_workers <= 32:
            raise ValueError(f"--ingest-workers {self.ingest_workers} outside 1..32")
        if not 1 <= self.enterprises <= 1000:
            raise ValueError(f"--enterprises {self.enterprises} outside 1..1000")
        if not 0 < self.days <= 30:
            raise ValueError(f"--days {self.days} outside (0, 30]")
        if not 10 <= self.backfill_interval_s <= 3600:
            raise ValueError(f"--backfill-interval {self.backfill_interval_s} outside 10..3600 s")
        if not 1 <= self.sim_interval_s <= 3600:
            raise ValueError(f"--sim-interval {self.sim_interval_s} outside 1..3600 s")


def components(opts: Options, *, model: Path) -> list[Component]:
    """The long-running children, in start order (ingest first: the simulator publishes to it)."""
    out = [
        Component("ingest", ("ingest", "--workers", str(opts.ingest_workers), "--partitioned")),
        Component("alerting", ("alerting",)),
        Component("scheduler", ("scheduler",)),
        Component("api", ("api",)),
        Component("emergency", ("emergency", "watch")),  # the rule that opens incidents by itself
    ]
    if opts.hj212:
        out.append(Component("hj212", ("hj212", "serve")))
        out.append(Component("hj212-forward", ("hj212", "forward")))
    if opts.demo:
        live = ("sim", "run", "--model", str(model), "--interval", f"{opts.sim_interval_s:g}")
        out.append(Component("simulator", live + _loggers_over_hj212(opts)))
    return out


def _loggers_over_hj212(opts: Options) -> tuple[str, ...]:
    """The simulated data loggers upload to the HJ 212 server when it runs: the ingester takes a
    logger's readings from there only, never from a gateway."""
    return ("--hj212", opts.hj212_server) if opts.hj212 else ()


def demo_steps(opts: Options, *, model: Path) -> dict[str, tuple[str, ...]]:
    """The one-shot commands of the demo, by step name."""
    return {
        "model": (
            "sim",
            "init",
            "--enterprises",
            str(opts.enterprises),
            "--seed",
            str(opts.seed),
            "--park",
            DEMO_PARK,
            "-o",
            str(model),
        ),
        "registry": ("registry", "load", str(model)),
        "backfill": (
            "sim",
            "backfill",
            "--model",
            str(model),
            "--days",
            f"{opts.days:g}",
            "--interval",
            str(opts.backfill_interval_s),
            *_loggers_over_hj212(opts),
        ),
        "user": ("users", "add", DEMO_USER, "--role", "admin", "--label", "demo"),
    }


KEY_RE = re.compile(r"\bspk_[a-z2-7]{8}_[A-Za-z0-9_-]{32,}")


def parse_key(output: str) -> str | None:
    """The API key printed by `smartpark users add|key`."""
    m = KEY_RE.search(output)
    return m.group(0) if m else None


def redact_keys(text: str) -> str:
    """``text`` with every API key cut to its public prefix (``spk_<id>_``), for logs."""
    return KEY_RE.sub(lambda m: m.group(0)[:13] + "***", text)

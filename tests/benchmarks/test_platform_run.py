"""`smartpark bench platform` end to end at a small size: the whole platform under its
disturbances (a 10 000-entry rule saved, 1 000 devices registered, an ingest worker killed with
SIGKILL) stores every reading once and raises the injected gas alarms. Its latencies are the
benchmark's to print, not this test's to judge: the machine is shared."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from smartpark.settings import Settings
from tests.support.ingest import ROOT

pytestmark = pytest.mark.integration


def test_the_platform_benchmark_loses_and_doubles_nothing_across_its_disturbances(settings: Settings) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "smartpark.cli", "bench", "platform", "--devices", "300", "--minutes", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    figures = json.loads(next(line for line in reversed(out.stdout.splitlines()) if line.startswith('{"bench"')))
    assert figures["published"] > 0 and figures["lost"] == 0 and figures["doubled"] == 0, figures
    assert figures["alarms"] > 0  # the injected leaks raised alarms through the running service
    assert figures["leaks_missed"] == 0, figures["events"]  # and every one of them did
    events = " ".join(what for _, what in figures["events"])
    for disturbance in ("10 000-entry scope saved (HTTP 201)", "1 000 devices registered", "killed"):
        assert disturbance in events, figures["events"]

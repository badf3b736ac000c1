"""The committed bundles and ECharts build are what dashboards/build makes of the sources: a
change to a module that was not rebuilt (`make web`) would ship the old page."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "dashboards" / "build"
WEB = ROOT / "dashboards" / "web"
OUTPUTS = ("bundle/page.js", "bundle/screen.js", "bundle/incident.js", "vendor/echarts/echarts.min.js")


def test_the_committed_bundles_are_what_the_sources_build(tmp_path: Path) -> None:
    rollup = BUILD / "node_modules" / ".bin" / "rollup"
    assert rollup.exists(), "the page's build tools are not installed: run make setup (npm ci in dashboards/build)"
    env = {**os.environ, "SMARTPARK_WEB_OUT": str(tmp_path)}
    done = subprocess.run([str(rollup), "-c", "--silent"], cwd=BUILD, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for out in OUTPUTS:
        fresh, committed = (tmp_path / out).read_bytes(), (WEB / out).read_bytes()
        assert fresh == committed, f"{out} is not what the sources build: run make web and commit it"


def test_echarts_build_has_what_the_page_draws_with_and_no_development_code() -> None:
    text = (WEB / "vendor" / "echarts" / "echarts.min.js").read_text()
    # the series types and components the page's options name (js/charts.js, js/plan.js)
    for name in ('"line"', '"bar"', '"pie"', '"scatter"', '"effectScatter"', '"geo"', '"dataZoom"', '"legend"',
                 '"tooltip"', '"title"'):  # fmt: skip
        assert name in text, name
    assert "process.env" not in text
    assert len(text) < 700_000  # the full build is 1 MB

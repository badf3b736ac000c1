"""`smartpark bench NAME` reaches the benchmarks from outside the source tree's directory too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_smartpark_bench_runs_the_pure_hj212_benchmark_and_prints_its_figures(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "smartpark.cli", "bench", "hj212", "--pure-only", "--packets", "200"],
        cwd=tmp_path,  # not the checkout: the command finds the benchmarks beside its package
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["packets"] == 200
    assert {"decode_packets_per_s", "crc_table_per_s", "crc_standard_loop_per_s", "crc_speedup"} <= figures.keys()

"""The simulator benchmark's park: the size asked for, whole enterprises, the same every run
(apart from its credentials, which come from secrets)."""

from __future__ import annotations

from benchmarks.sim import bench_model
from device_sim.model import sim_parks
from tests.device_sim.test_model import without_credentials


def test_benchmark_park_reaches_the_requested_devices_in_whole_enterprises() -> None:
    model = bench_model(600, seed=7)
    (park,) = sim_parks(model)
    assert 600 <= len(park.devices) < 600 + 80
    assert park.code == "simbench"
    assert without_credentials(bench_model(600, seed=7)) == without_credentials(model)

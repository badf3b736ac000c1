"""The benchmarks' harness: CPU meters report what was spent, or None when they cannot read."""

from __future__ import annotations

import os
import socket

from benchmarks.harness import CpuMeter, free_port, pids_cpu, process_cpu_s

NO_SUCH_PID = 2**22 + 1  # above the largest pid_max Linux allows


def test_cpu_meter_reports_what_each_source_spent_since_start() -> None:
    totals = {"a": 10.0, "b": 3.0}
    meter = CpuMeter({"a": lambda: totals["a"], "b": lambda: totals["b"]}).start()
    totals["a"], totals["b"] = 12.5, 3.25
    assert meter.spent() == {"a": 2.5, "b": 0.25}
    meter.start()
    totals["a"] = 13.0
    assert meter.spent() == {"a": 0.5, "b": 0.0}


def test_a_source_that_cannot_be_read_at_either_end_gives_none() -> None:
    readings = iter([None, 5.0])
    meter = CpuMeter({"gone": lambda: next(readings)}).start()
    assert meter.spent() == {"gone": None}
    readings = iter([1.0, None])
    assert CpuMeter({"gone": lambda: next(readings)}).start().spent() == {"gone": None}


def test_process_cpu_reads_this_process_and_not_a_missing_one() -> None:
    sum(i * i for i in range(200_000))  # spend some CPU
    own = process_cpu_s(os.getpid())
    assert own is not None and own > 0
    assert process_cpu_s(NO_SUCH_PID) is None
    assert pids_cpu([os.getpid(), NO_SUCH_PID])() is None
    both = pids_cpu([os.getpid()])()
    assert both is not None and both >= own


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        assert s.getsockname()[1] == port

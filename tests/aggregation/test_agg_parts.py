"""How the rollup job splits a big batch into parts (pure)."""

from __future__ import annotations

import itertools

import numpy as np

from aggregation.job import MAX_PARTS, parts
from smartpark.series_key import device_of, pack


def test_parts_cut_between_devices_and_cover_every_window() -> None:
    dev = np.repeat(np.arange(1, 41), 2)
    ws = pack(dev, np.tile([1, 3], 40))  # two series per device
    lo = np.zeros(ws.size, np.int64)
    hi = np.full(ws.size, 3_600_000)  # 60 readings per window at 1 per minute
    cut = parts(ws, lo, hi, np.full(ws.size, 60_000.0), size=600)
    assert len(cut) == 8
    assert cut[0].start == 0 and cut[-1].stop == ws.size
    assert all(a.stop == b.start for a, b in itertools.pairwise(cut))
    assert all(device_of(ws[p.start]) != device_of(ws[p.start - 1]) for p in cut[1:])  # whole devices
    assert len(parts(ws, lo, hi, np.full(ws.size, 60_000.0), size=1)) == MAX_PARTS
    assert parts(ws, lo, hi, np.full(ws.size, 60_000.0), size=10**9) == [slice(0, ws.size)]
    assert parts(ws[:1], lo[:1], hi[:1], np.full(1, 60.0), size=1) == [slice(0, 1)]

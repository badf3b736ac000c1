"""Per-series windows: merging, membership, scan-or-probe choice."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregation.windows import MIN_WINDOWS_FOR_SCAN, Windows

A = np.asarray


def test_merge_overlapping_and_adjacent_per_series() -> None:
    w = Windows.merged(A([2, 1, 1, 1, 2]), A([0, 10, 0, 25, 5]), A([5, 20, 10, 30, 9]))
    assert w.series.tolist() == [1, 1, 2]
    assert w.lo.tolist() == [0, 25, 0]
    assert w.hi.tolist() == [20, 30, 9]


def test_contains() -> None:
    w = Windows.merged(A([1, 1, 3]), A([0, 100, 50]), A([10, 110, 60]))
    inside = w.contains(A([1, 1, 1, 1, 2, 3, 3]), A([0, 10, 105, -5, 5, 59, 60]))
    assert inside.tolist() == [True, False, True, False, False, True, False]


def test_scan_only_for_many_dense_windows() -> None:
    n = MIN_WINDOWS_FOR_SCAN
    live = Windows.merged(np.arange(n), np.full(n, 1000), np.full(n, 1900))
    assert live.scan_is_cheaper()
    # as many windows, spread so that a time-range scan would read mostly other series
    spread = Windows.merged(np.arange(n), np.arange(n) * 10_000, np.arange(n) * 10_000 + 900)
    assert not spread.scan_is_cheaper()
    assert not Windows.merged(A([1]), A([0]), A([10])).scan_is_cheaper()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 200), st.integers(1, 50)), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 5), st.integers(-10, 260)), max_size=50),
)
def test_merged_windows_contain_exactly_the_union(
    spans: list[tuple[int, int, int]], points: list[tuple[int, int]]
) -> None:
    s = A([x[0] for x in spans])
    lo = A([x[1] for x in spans])
    hi = lo + A([x[2] for x in spans])
    w = Windows.merged(s, lo, hi)
    ps = A([p[0] for p in points], dtype=np.int64)
    pt = A([p[1] for p in points], dtype=np.int64)
    expected = [any(si == a and l0 <= b < h0 for si, l0, h0 in zip(s, lo, hi, strict=True)) for a, b in points]
    assert w.contains(ps, pt).tolist() == expected
    order = np.lexsort((pt, ps))  # the job's reads come sorted: edges searched among the points
    assert w.contains_sorted(ps[order], pt[order]).tolist() == A(expected, dtype=bool)[order].tolist()
    assert (w.lo[1:] > w.hi[:-1])[w.series[1:] == w.series[:-1]].all()  # disjoint, not adjacent

"""Per-series time windows: merging, membership, and whether one time-range scan beats many
per-series index lookups (pure, vectorised).

The live case touches the latest bucket of nearly every series: one scan of the last minutes of
all readings is far cheaper than ten thousand index probes. A backfill of one gateway touches a
few series over days: probes win. The choice is the share of the (series × time) rectangle of a
time-range scan that the windows actually cover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from aggregation import arrays

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

DENSE_ENOUGH = 0.25  # windows cover at least this share of the scanned rectangle
MIN_WINDOWS_FOR_SCAN = 64  # below this, probes are cheap whatever the shape
_TS_BITS = 41  # ms offsets up to ~69 years


@dataclass(frozen=True, slots=True)
class Windows:
    """Disjoint [lo, hi) per series, sorted by (series, lo)."""

    series: I64
    lo: I64
    hi: I64

    def __len__(self) -> int:
        return int(self.series.size)

    @classmethod
    def merged(cls, series: I64, lo: I64, hi: I64) -> Windows:
        """Union of possibly overlapping or adjacent windows, per series."""
        if series.size == 0:
            return cls(series, lo, hi)
        order = np.lexsort((lo, series))
        s, a, b = series[order], lo[order], hi[order]
        # running maximum of hi within each series (series are contiguous after the sort)
        dense = np.concatenate([[0], np.cumsum(s[1:] != s[:-1])])
        base = int(a.min())
        run_hi = np.maximum.accumulate((dense << _TS_BITS) + (b - base))
        prev_hi = np.concatenate([[-1], run_hi[:-1]])
        start = np.ones(s.size, bool)
        start[1:] = (s[1:] != s[:-1]) | (((dense[1:] << _TS_BITS) + (a[1:] - base)) > prev_hi[1:])
        first = np.flatnonzero(start)
        last = np.append(first[1:], s.size) - 1
        return cls(s[first], a[first], (run_hi[last] - (dense[last] << _TS_BITS)) + base)

    def time_ranges(self) -> tuple[I64, I64]:
        """Union of the windows' time spans across series (for range scans)."""
        if len(self) == 0:
            return self.lo, self.hi
        one = Windows.merged(np.zeros(len(self), np.int64), self.lo, self.hi)
        return one.lo, one.hi

    def scan_is_cheaper(self) -> bool:
        if len(self) < MIN_WINDOWS_FOR_SCAN:
            return False
        a, b = self.time_ranges()
        rectangle = float((b - a).sum()) * arrays.unique(self.series).size
        return float((self.hi - self.lo).sum()) >= DENSE_ENOUGH * rectangle

    def contains(self, series: I64, ts: I64) -> Mask:
        """Which (series, ts) points fall inside a window of their series."""
        if len(self) == 0 or series.size == 0:
            return np.zeros(series.size, bool)
        useries = arrays.unique(self.series)
        di = np.searchsorted(useries, series).clip(0, useries.size - 1)
        known = useries[di] == series
        base = int(self.lo.min())
        wkey = (np.searchsorted(useries, self.series) << _TS_BITS) + (self.lo - base)
        rkey = (di << _TS_BITS) + np.clip(ts - base, 0, (1 << _TS_BITS) - 1)
        j = np.searchsorted(wkey, rkey, side="right") - 1
        jj = j.clip(0)
        return known & (j >= 0) & (self.series[jj] == series) & (ts >= base) & (ts < self.hi[jj])

    def contains_sorted(self, series: I64, ts: I64) -> Mask:
        """:meth:`contains` for points sorted by (series, ts), as the job reads them: the windows'
        edges are searched among the points (few searches) instead of every point among the
        windows, and the mask is painted from the edges."""
        n = series.size
        if len(self) == 0 or n == 0:
            return np.zeros(n, bool)
        starts = np.flatnonzero(np.concatenate([[True], series[1:] != series[:-1]]))
        present = series[starts]  # sorted, distinct
        di = np.searchsorted(present, self.series).clip(0, present.size - 1)
        known = present[di] == self.series
        base = min(int(ts.min()), int(self.lo.min()))
        dense = np.zeros(n, np.int64)
        dense[starts[1:]] = 1
        key = (np.cumsum(dense) << _TS_BITS) + (ts - base)
        a = np.searchsorted(key, (di << _TS_BITS) + (self.lo - base))[known]
        b = np.searchsorted(key, (di << _TS_BITS) + (self.hi - base))[known]
        edges = np.bincount(a, minlength=n + 1) - np.bincount(b, minlength=n + 1)
        return np.cumsum(edges[:n]) > 0

"""Sorting set operations on int64 keys agree with numpy's own (pure)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregation import arrays

keys = st.lists(st.integers(-(2**62), 2**62) | st.integers(0, 20), max_size=60)


@settings(max_examples=200, deadline=None)
@given(keys, keys, st.booleans())
def test_unique_and_isin_match_numpy(a: list[int], of: list[int], presorted: bool) -> None:
    x = np.asarray(sorted(a) if presorted else a, dtype=np.int64)
    y = np.asarray(of, dtype=np.int64)
    assert arrays.unique(x).tolist() == np.unique(x).tolist()
    assert arrays.isin(x, y).tolist() == np.isin(x, y).tolist()
    assert arrays.isin(x, np.sort(y)).tolist() == np.isin(x, y).tolist()

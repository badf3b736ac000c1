"""The series key: one int64 per (device_id, metric_id), ``device_id << 16 | metric_id``.

Ingest sorts and de-duplicates readings by it, the rollup job keys every array by it, and the
database builds it in SQL for the touched-bucket queue: one packing, here, so that a key made in
one place unpacks in another. Sorting keys sorts by device, then metric (metric ids are
smallints, below 2**16; device ids are int4).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

METRIC_BITS = 16
METRIC_MASK = (1 << METRIC_BITS) - 1

I64 = npt.NDArray[np.int64]


def pack(device_id: npt.ArrayLike, metric_id: npt.ArrayLike) -> I64:
    """One int64 series key per (device, metric)."""
    return (np.asarray(device_id, dtype=np.int64) << METRIC_BITS) | np.asarray(metric_id, dtype=np.int64)


def unpack(series: I64) -> tuple[I64, I64]:
    """(device ids, metric ids) of series keys."""
    return series >> METRIC_BITS, series & METRIC_MASK


def device_of(series: I64) -> I64:
    return series >> METRIC_BITS


def pack_sql(device_id: str, metric_id: str) -> str:
    """The same packing as a SQL expression of two column names (int8)."""
    return f"(({device_id})::int8 << {METRIC_BITS}) | ({metric_id})"

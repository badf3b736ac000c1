"""Per-series parameters of the rollups, from the registry: whether a series is a counter, its
reporting interval, its register's wrap and step, the largest plausible rate, its park and time
zone. Aligned with the sorted unique series keys; the rollup job and the consumption moves of the
daily figures read them."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from aggregation import coefficients as co
from aggregation import store
from smartpark.catalogue import BY_ID, MetricKind

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
DEFAULT_INTERVAL_S = 60.0


@dataclass(frozen=True, slots=True)
class SeriesParams:
    """Per-series parameters, aligned with the sorted unique ``series``."""

    series: I64
    known: npt.NDArray[np.bool_]
    counter: npt.NDArray[np.bool_]
    interval_ms: F64
    register_max: F64
    register_step: F64
    max_rate_per_s: F64
    park_id: I64
    timezone: list[str]

    def index(self, series: I64) -> I64:
        return np.searchsorted(self.series, series)


def _num(attrs: dict[str, Any], key: str) -> float | None:
    v = attrs.get(key)
    try:
        f = float(v) if v is not None else math.nan
    except (TypeError, ValueError):
        log.warning("device attribute %s=%r is not a number; ignored", key, v)
        return None
    return f if math.isfinite(f) and f > 0 else None


def series_params(series: I64, devices: dict[int, store.Device], *, default_interval_s: float) -> SeriesParams:
    dev, met = store.unpack(series)
    n = series.size
    out: dict[str, Any] = {
        "known": np.zeros(n, bool),
        "counter": np.zeros(n, bool),
        "interval_ms": np.full(n, default_interval_s * 1000.0),
        "register_max": np.full(n, np.nan),
        "register_step": np.full(n, np.nan),
        "max_rate_per_s": np.full(n, np.nan),
        "park_id": np.zeros(n, np.int64),
    }
    tzs: list[str] = []
    # A loop over series (thousands), never over readings (millions).
    for i, (d, m) in enumerate(zip(dev.tolist(), met.tolist(), strict=True)):
        device, metric = devices.get(d), BY_ID.get(m)
        if device is None or metric is None:
            tzs.append("UTC")
            continue
        a = device.attributes or {}
        out["known"][i] = True
        out["park_id"][i] = device.park_id
        tzs.append(device.timezone)
        out["interval_ms"][i] = (_num(a, "interval_s") or default_interval_s) * 1000.0
        if metric.kind is MetricKind.COUNTER:
            out["counter"][i] = True
            out["register_max"][i] = _num(a, "register_max") or np.nan
            out["register_step"][i] = _num(a, "register_step") or np.nan  # else from register_max's decimals
            rated = _num(a, "rated_per_h") or _num(a, "rated_kw")
            rate = _num(a, "max_rate_per_h") or (rated * 3 if rated else None)
            out["max_rate_per_s"][i] = (rate or co.COUNTER_MAX_RATE_PER_H.get(metric.code, math.inf)) / 3600
    return SeriesParams(series=series, timezone=tzs, **out)

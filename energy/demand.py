"""Maximum 15-minute demand per meter and month against the contracted capacity (pure code).

The demand of a quarter hour is its kWh × 4 (the mean kW over the quarter hour, as a demand
meter integrates it); the month's demand is the largest. Two ways of paying for it (发改办价格
〔2016〕1583号, **verify** against the original and the grid's current rules):

- ``actual``: the demand price × the month's maximum demand;
- ``contract``: the demand price × the contracted demand, and the part above 105 % of it
  charged twice;
- ``capacity``: the capacity price × the transformer capacity (kVA) whatever the demand.

The alarm levels (approaching at 90 % of the contract, exceeded at 100 %) are the platform's
choice, not a regulation's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Method = Literal["actual", "contract", "capacity"]
APPROACHING = 0.9  # share of the contract at which the month's demand raises the alarm
CONTRACT_TOLERANCE = 1.05  # 1583号: up to 105 % of the contract is paid at the contract


@dataclass(frozen=True, slots=True)
class Demand:
    max_kw: F64  # (series, months); 0 without data
    at_ms: I64  # start of the quarter hour of the maximum; -1 without data


def monthly_max(*, series: I64, bucket_ms: I64, kwh: F64, month: I64, n_series: int, n_months: int) -> Demand:
    """The largest quarter-hour demand per (series, month); ``month`` indexes each row's month
    (-1: outside the range)."""
    ok = np.asarray(month) >= 0
    key = np.asarray(series)[ok] * n_months + np.asarray(month)[ok]
    kw = np.asarray(kwh, dtype=np.float64)[ok] * 4.0
    at = np.asarray(bucket_ms, dtype=np.int64)[ok]
    order = np.lexsort((kw, key))  # by key, then demand: the last of each key is its maximum
    max_kw = np.zeros(n_series * n_months)
    at_ms = np.full(n_series * n_months, -1, dtype=np.int64)
    if order.size:
        k = key[order]
        last = np.flatnonzero(np.append(k[1:] != k[:-1], True))
        max_kw[k[last]] = kw[order][last]
        at_ms[k[last]] = at[order][last]
    return Demand(max_kw.reshape(n_series, n_months), at_ms.reshape(n_series, n_months))


def level(max_kw: npt.ArrayLike, contracted_kw: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """``ok``, ``approaching`` (≥ 90 % of the contract) or ``exceeded`` (≥ 100 %); ``none``
    without a contract."""
    d, c = np.asarray(max_kw, dtype=np.float64), np.asarray(contracted_kw, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(c > 0, d / c, np.nan)
    out = np.where(share >= 1.0, "exceeded", np.where(share >= APPROACHING, "approaching", "ok"))
    return np.where(np.isnan(share), "none", out)


def charge(
    max_kw: npt.ArrayLike,
    contracted_kw: npt.ArrayLike,
    price_kw_month: float,
    method: Method,
    capacity_kva: float = 0.0,
) -> F64:
    """The month's demand (or capacity) charge, yuan."""
    d, c = np.asarray(max_kw, dtype=np.float64), np.asarray(contracted_kw, dtype=np.float64)
    if method == "actual":
        return d * price_kw_month
    if method == "contract":
        excess = np.maximum(d - CONTRACT_TOLERANCE * c, 0.0)
        return (c + 2.0 * excess) * price_kw_month
    if method == "capacity":
        return np.broadcast_to(np.float64(capacity_kva * price_kw_month), d.shape).astype(np.float64)
    raise ValueError(f"demand method {method!r} is not 'actual', 'contract' or 'capacity'")

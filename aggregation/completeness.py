"""Data completeness as the regulators judge it: transmission, validity and effective transmission.

Per series (device × metric) and local day:
  expected  = whole intervals of the device's declared reading spacing (attribute interval_s)
              in the part of the day that has passed
  received  = readings stored, valid or flagged
  valid     = readings with data flag N (HJ 212-2017 data flags; stored flag 0)
  transmission rate (传输率)            = received / expected (at most 1)
  validity rate (有效率)                = valid / received
  effective transmission rate (有效传输率) = transmission rate × validity rate
The product is the rule of the ecology bureaus' assessment of online monitoring data
(《国家重点监控企业污染源自动监测数据有效性审核办法》, 环发〔2009〕88号, and the provincial
assessment rules built on it; HJ 75-2017 defines which CEMS data are valid): verify the edition
your bureau applies, and its threshold (commonly 90 %). Energy meters (重点用能单位能耗在线监测)
are judged by the same three rates here: verify against the energy authority's rule.

Groups (enterprise, park, category, month) add expected, received and valid first and take the
rates of the sums, so a device with more readings weighs more, as in the bureau's figures.
Pure numpy; the database read is api/queries/completeness.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def expected_readings(seconds: F, interval_s: F) -> F:
    """Readings a device owes over ``seconds`` at one reading every ``interval_s`` (broadcast)."""
    if np.any(interval_s <= 0):
        raise ValueError(f"interval_s {interval_s[interval_s <= 0][:3].tolist()} must be positive")
    return np.floor(np.maximum(seconds, 0.0) / interval_s)


@dataclass(frozen=True, slots=True)
class Rates:
    expected: F
    received: F
    valid: F
    transmission: F  # NaN where nothing was expected
    validity: F  # NaN where nothing was received
    effective: F  # NaN where nothing was expected

    def row(self, i: int) -> dict[str, float | None]:
        def num(a: F) -> float | None:
            v = float(a[i])
            return None if np.isnan(v) else v

        return {
            "expected": float(self.expected[i]),
            "received": float(self.received[i]),
            "valid": float(self.valid[i]),
            "transmission_rate": num(self.transmission),
            "validity_rate": num(self.validity),
            "effective_rate": num(self.effective),
        }


def rates(expected: F, received: F, valid: F) -> Rates:
    if np.any(valid > received):
        raise ValueError("valid readings exceed received readings")
    with np.errstate(divide="ignore", invalid="ignore"):
        transmission = np.where(expected > 0, np.minimum(received / expected, 1.0), np.nan)
        validity = np.where(received > 0, valid / received, np.nan)
    # nothing received of what was expected: transmission 0, and so effective 0
    effective = np.where(expected > 0, transmission * np.nan_to_num(validity, nan=0.0), np.nan)
    return Rates(expected, received, valid, transmission, validity, effective)


def grouped(keys: Ints, expected: F, received: F, valid: F) -> tuple[Ints, Rates]:
    """Sum per key (any integer code: device, enterprise, park, category, month…), then rates.

    Received is capped at expected per cell before summing, so surplus readings of one series
    (a logger sending twice as often as declared) cannot hide another's gap.
    """
    uniq, inverse = np.unique(keys, return_inverse=True)
    capped = np.minimum(received, expected)
    scale = np.divide(capped, received, out=np.zeros_like(received), where=received > 0)
    n = len(uniq)
    e = np.bincount(inverse, weights=expected, minlength=n).astype(np.float64)
    r = np.bincount(inverse, weights=capped, minlength=n).astype(np.float64)
    v = np.bincount(inverse, weights=valid * scale, minlength=n).astype(np.float64)
    return uniq, rates(e, r, v)

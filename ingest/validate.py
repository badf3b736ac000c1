"""Checks of decoded readings against the registry, over a whole batch at once (pure).

Each reading gets one reason code (0 = valid); the first failing check in the order below wins,
so a reading is explained by its most basic fault.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.registry_index import RegistryIndex

# Stable reason codes of the ingester (the decoder's own are in smartpark.contract).
UNKNOWN_PARK = "unknown_park"
UNKNOWN_ENTERPRISE = "unknown_enterprise"
UNKNOWN_GATEWAY = "unknown_gateway"
UNKNOWN_DEVICE = "unknown_device"
FOREIGN_DEVICE = "foreign_device"  # the code is another enterprise's device: a spoofing attempt
UNKNOWN_METRIC = "unknown_metric"
METRIC_NOT_ALLOWED = "metric_not_allowed"
OUT_OF_RANGE = "out_of_range"
TS_TOO_OLD = "ts_too_old"
TS_IN_FUTURE = "ts_in_future"
NOT_TELEMETRY = "not_telemetry"
DECODE_FAILED = "decode_failed"
STORE_FAILED = "store_failed"  # the database refused a message that passed every check
# the device reports over HJ 212: readings for it from anyone but the HJ 212 server are refused
HJ212_DEVICE = "hj212_device"
RETAINED = "retained"  # telemetry published as a retained message (the broker would replay it)
QUOTA_EXCEEDED = "quota_exceeded"  # the topic's enterprise sent more than its quota

# Per-reading reason codes in check order; index = value of the reason array.
READING_REASONS: tuple[str, ...] = (
    "",
    UNKNOWN_DEVICE,
    UNKNOWN_METRIC,
    METRIC_NOT_ALLOWED,
    OUT_OF_RANGE,
    TS_TOO_OLD,
    TS_IN_FUTURE,
    HJ212_DEVICE,
)


@dataclass(frozen=True, slots=True)
class Window:
    """Accepted reading times relative to the receiving clock."""

    past_ms: int
    future_ms: int

    def __post_init__(self) -> None:
        if self.past_ms < 0 or self.future_ms < 0:
            raise ValueError(f"time window must not be negative: {self.past_ms}, {self.future_ms}")

    @classmethod
    def of(cls, *, past_days: float, future_s: float) -> Window:
        return cls(round(past_days * 86_400_000), round(future_s * 1000))


@dataclass(frozen=True, slots=True)
class Checked:
    """Readings resolved to ids, with a reason code per reading (0 = store it)."""

    reason: np.ndarray  # int8 index into READING_REASONS
    device_idx: np.ndarray  # int64 dense registry index, -1 if unknown
    metric_id: np.ndarray  # int64, 0 if unknown

    @property
    def valid(self) -> np.ndarray:
        return self.reason == 0


def check_readings(
    index: RegistryIndex,
    *,
    device_idx: np.ndarray,
    metric_id: np.ndarray,
    value: np.ndarray,
    ts_ms: np.ndarray,
    now_ms: int,
    window: Window,
    from_logger: np.ndarray | None = None,
) -> Checked:
    """Reason per reading; inputs are parallel arrays (ts_ms as float64 so any JSON number fits).

    ``from_logger`` tells, per reading, whether the HJ 212 server published it (None: none did).
    """
    known_device = device_idx >= 0
    known_metric = metric_id > 0
    allowed = np.zeros(len(device_idx), dtype=bool)
    both = known_device & known_metric
    if both.any():
        allowed[both] = index.allowed[device_idx[both], metric_id[both]]
    # Unknown metric ids index the empty range (lo = inf), so they never count as in range.
    in_range = (value >= index.metric_lo[metric_id]) & (value <= index.metric_hi[metric_id])
    logger_only = np.zeros(len(device_idx), dtype=bool)
    if known_device.any():
        logger_only[known_device] = index.device_hj212[device_idx[known_device]]
    if from_logger is not None:
        logger_only &= ~from_logger
    conditions = [
        (UNKNOWN_DEVICE, ~known_device),
        (HJ212_DEVICE, logger_only),
        (UNKNOWN_METRIC, ~known_metric),
        (METRIC_NOT_ALLOWED, ~allowed),
        (OUT_OF_RANGE, ~in_range),
        (TS_TOO_OLD, ts_ms < now_ms - window.past_ms),
        (TS_IN_FUTURE, ts_ms > now_ms + window.future_ms),
    ]
    reason = np.select(
        [c for _, c in conditions],
        np.array([READING_REASONS.index(code) for code, _ in conditions], dtype=np.int8),
        default=0,
    ).astype(np.int8)
    return Checked(reason, device_idx, metric_id)

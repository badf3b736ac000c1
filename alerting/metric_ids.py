"""The metric id a rule watches: a catalogue metric's own id, or a pseudo id for a figure the
platform derives itself (a device being online, the real-time AQI, today's effective-data rate,
the month's demand against the contract, the hour's balance loss) and for "any metric" (no-data
rules that any reading satisfies)."""

from __future__ import annotations

from alerting.rules import (
    AIR_AQI,
    ANY_METRIC,
    BALANCE_LOSS_HOUR,
    DEMAND_RATIO_MONTH,
    DEVICE_ONLINE,
    EFFECTIVE_RATE_TODAY,
)
from smartpark.catalogue import BY_CODE

DEVICE_ONLINE_ID = 1001
AIR_AQI_ID = 1002
EFFECTIVE_RATE_ID = 1003
DEMAND_RATIO_ID = 1004
BALANCE_LOSS_ID = 1005
# the figures the service computes itself: no sign of a device's life
PERIODIC_IDS = (EFFECTIVE_RATE_ID, DEMAND_RATIO_ID, BALANCE_LOSS_ID)
ANY_METRIC_ID = -1


def metric_id(code: str) -> int:
    if code == DEVICE_ONLINE:
        return DEVICE_ONLINE_ID
    if code == AIR_AQI:
        return AIR_AQI_ID
    if code == EFFECTIVE_RATE_TODAY:
        return EFFECTIVE_RATE_ID
    if code == DEMAND_RATIO_MONTH:
        return DEMAND_RATIO_ID
    if code == BALANCE_LOSS_HOUR:
        return BALANCE_LOSS_ID
    if code == ANY_METRIC:
        return ANY_METRIC_ID
    return BY_CODE[code].id

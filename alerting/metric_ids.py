"""The metric id a rule watches: a catalogue metric's own id, or a pseudo id for a figure the
platform derives itself (a device being online, the real-time AQI, today's effective-data rate)
and for "any metric" (no-data rules that any reading satisfies)."""

from __future__ import annotations

from alerting.rules import AIR_AQI, ANY_METRIC, DEVICE_ONLINE, EFFECTIVE_RATE_TODAY
from smartpark.catalogue import BY_CODE

DEVICE_ONLINE_ID = 1001
AIR_AQI_ID = 1002
EFFECTIVE_RATE_ID = 1003
ANY_METRIC_ID = -1


def metric_id(code: str) -> int:
    if code == DEVICE_ONLINE:
        return DEVICE_ONLINE_ID
    if code == AIR_AQI:
        return AIR_AQI_ID
    if code == EFFECTIVE_RATE_TODAY:
        return EFFECTIVE_RATE_ID
    if code == ANY_METRIC:
        return ANY_METRIC_ID
    return BY_CODE[code].id

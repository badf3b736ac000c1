"""When a device counts as online: its newest reading is no older than a few of its reading
intervals (a missed reading or two is jitter, not an outage). Pure; the online rate of the page
and the plan's device colours both come from here."""

from __future__ import annotations

MISSED_INTERVALS = 3  # readings a device may miss before it shows offline
MIN_WINDOW_S = 300.0  # but never offline sooner than 5 minutes after its last reading


def online(last_seen_s: float | None, interval_s: float, now_s: float) -> bool:
    if last_seen_s is None:
        return False
    return now_s - last_seen_s <= max(MISSED_INTERVALS * interval_s, MIN_WINDOW_S)

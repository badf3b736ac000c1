"""When a device counts as online (api/online.py): within three of its intervals, never under
five minutes; a device that never sent is offline."""

from __future__ import annotations

from api.online import online


def test_three_intervals_or_five_minutes_whichever_is_longer() -> None:
    now = 10_000.0
    assert online(now - 900, 300, now) and not online(now - 901, 300, now)  # 3 × 300 s
    assert online(now - 300, 2, now) and not online(now - 301, 2, now)  # 3 × 2 s < 5 min
    assert not online(None, 60, now)

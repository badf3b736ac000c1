"""The retention pass the scheduler runs (and `smartpark storage tier`): old raw chunks to the cold
tier, expired cold files deleted, other tables' old chunks dropped, in that order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from smartpark.settings import StorageSettings
from storage import compaction, retention, tiering
from storage.coldfs import ColdStore


def run(
    conn: Any,
    *,
    storage: StorageSettings,
    hot_days: int,
    now: datetime | None = None,
    pause: tiering.Pause = tiering._no_pause,
    limit: int | None = None,
    window: tuple[datetime | None, datetime | None] = (None, None),
) -> dict[str, Any]:
    at = now or datetime.now(UTC)
    policy = retention.Policy.of(storage, hot_days=hot_days)
    out: dict[str, Any] = {}
    if storage.cold_url:
        store = ColdStore.of(storage.cold_url)
        moved = tiering.move_old(
            conn,
            store,
            hot_days=hot_days,
            zstd_level=storage.zstd_level,
            now=at,
            pause=pause,
            limit=limit,
            window=window,
        )
        out["cold_chunks"] = len(moved)
        out["cold_readings"] = sum(m.rows for m in moved)
        with tiering.one_pass(conn) as alone:
            if alone:
                out["cold_files_expired"] = tiering.expire_cold(conn, store, policy=policy, today=at.date())
                out["cold_files_compacted"] = compaction.compact(
                    conn, store, before=(at - timedelta(days=hot_days)).date(), zstd_level=storage.zstd_level
                )
    out["dropped"] = retention.apply(conn, policy=policy)
    return out

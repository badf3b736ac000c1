"""Keep the metrics table equal to the catalogue in code (the catalogue is the one source)."""

from __future__ import annotations

from typing import Any

import psycopg

from smartpark.catalogue import METRICS


def sync_catalogue(conn: psycopg.Connection[Any]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO metrics (metric_id, code, unit, kind, category, min_value, max_value,"
            " carrier, description) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (metric_id) DO UPDATE SET code = excluded.code, unit = excluded.unit,"
            " kind = excluded.kind, category = excluded.category,"
            " min_value = excluded.min_value, max_value = excluded.max_value,"
            " carrier = excluded.carrier, description = excluded.description",
            [
                (
                    m.id,
                    m.code,
                    m.unit,
                    m.kind.value,
                    m.category.value,
                    m.min_value,
                    m.max_value,
                    m.carrier,
                    m.description,
                )
                for m in METRICS
            ],
        )

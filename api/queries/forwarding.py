"""Forwarding status (the forwarder's tables): per upstream target, connected, backlog, oldest
unsent, last reply. A park-scoped principal sees the targets its park's devices go to, with the
backlog of those devices only."""

from __future__ import annotations

from typing import Any

import psycopg

_SQL = """
SELECT t.target_id, t.name, t.host, t.port, t.version, t.enabled,
       coalesce(s.connected, false) AS connected, s.last_connect, s.last_reply, s.last_error,
       coalesce(s.sent, 0) AS sent, coalesce(s.delivered, 0) AS delivered, coalesce(s.resent, 0) AS resent,
       s.updated_at AS status_at, o.outlets, q.backlog, q.oldest_unsent
FROM hj212_forward_targets t
LEFT JOIN hj212_forward_status s USING (target_id)
CROSS JOIN LATERAL (
    SELECT count(*) AS outlets FROM hj212_forward_outlets fo
    JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id)
    WHERE fo.target_id = t.target_id AND (%(park)s::int IS NULL OR e.park_id = %(park)s)
) o
CROSS JOIN LATERAL (
    SELECT count(*) AS backlog, min(p.received_at) AS oldest_unsent
    FROM hj212_forward_outbox b JOIN hj212_packets p USING (packet_id)
    JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id)
    WHERE b.target_id = t.target_id AND (%(park)s::int IS NULL OR e.park_id = %(park)s)
) q
WHERE %(park)s::int IS NULL OR o.outlets > 0
ORDER BY t.name
"""


def target_status(conn: psycopg.Connection[Any], *, park_id: int | None) -> list[dict[str, Any]]:
    return conn.execute(_SQL, {"park": park_id}).fetchall()

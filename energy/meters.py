"""The meter tree in the database: the one writer of ``energy_meters``.

A park's tree is replaced as a whole (the list an admin sends or loads): rows are upserted by
code, meters no longer listed are deleted, parents set last so any order loads. Meters name
enterprises and devices by their codes, as the registry model does. The caller owns the
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from aggregation import store
from energy.tree import Meter, Tree, TreeError

Conn = psycopg.Connection[Any]


def resolve(conn: Conn, *, park_id: int, spec: Sequence[Mapping[str, Any]]) -> Tree:
    """The tree of a list of meters naming enterprises and devices by code, checked."""
    with conn.cursor(row_factory=tuple_row) as cur:
        codes = cur.execute("SELECT code, enterprise_id FROM enterprises WHERE park_id = %s", (park_id,)).fetchall()
        ents: dict[str, int] = {code: ent for code, ent in codes}
        devs = {
            (e, d): (i, eid)
            for e, d, i, eid in cur.execute(
                "SELECT e.code, d.code, d.device_id, e.enterprise_id FROM devices d"
                " JOIN enterprises e USING (enterprise_id) WHERE e.park_id = %s",
                (park_id,),
            ).fetchall()
        }
    meters = []
    for i, s in enumerate(spec):
        where = f"meters[{i}]"
        ent_code = s.get("enterprise")
        if ent_code is not None and ent_code not in ents:
            raise TreeError(f"{where}.enterprise: no enterprise {ent_code!r} in the park")
        device = None
        if s.get("device") is not None:
            # a park meter's device belongs to some enterprise of the park (the operator's own)
            owner = s.get("device_enterprise") or ent_code
            found = devs.get((owner, s["device"]))
            if found is None:
                raise TreeError(f"{where}.device: no device {s['device']!r} in enterprise {owner!r}")
            device = found[0]
        meters.append(
            Meter(
                code=str(s.get("code")),
                carrier=str(s.get("carrier")),
                role=s.get("role"),  # type: ignore[arg-type]  # checked by Tree.of
                enterprise=ents[ent_code] if ent_code is not None else None,
                parent=s.get("parent"),
                device=device,
                formula=s.get("formula"),
                name=str(s.get("name") or ""),
                tariff=s.get("tariff"),
                contracted_kw=s.get("contracted_kw"),
                attributes=dict(s.get("attributes") or {}),
            )
        )
    return Tree.of(meters)


def replace_tree(conn: Conn, *, park_id: int, tree: Tree) -> int:
    """The park's tree becomes ``tree``; returns the number of meters."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            "DELETE FROM energy_meters WHERE park_id = %s AND NOT (code = ANY(%s))",
            (park_id, [m.code for m in tree.meters]),
        )
        cur.execute("UPDATE energy_meters SET parent_id = NULL WHERE park_id = %s", (park_id,))
        ids: dict[str, int] = {}
        for m in tree.meters:
            cur.execute(
                "INSERT INTO energy_meters (park_id, enterprise_id, code, name, carrier, role, device_id,"
                " formula, tariff, contracted_kw, attributes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (park_id, code) DO UPDATE SET enterprise_id = excluded.enterprise_id,"
                " name = excluded.name, carrier = excluded.carrier, role = excluded.role,"
                " device_id = excluded.device_id, formula = excluded.formula, tariff = excluded.tariff,"
                " contracted_kw = excluded.contracted_kw, attributes = excluded.attributes RETURNING meter_id",
                (
                    park_id,
                    m.enterprise,
                    m.code,
                    m.name,
                    m.carrier,
                    m.role,
                    m.device,
                    m.formula,
                    m.tariff,
                    m.contracted_kw,
                    Jsonb(dict(m.attributes)),
                ),
            )
            row = cur.fetchone()
            assert row is not None
            ids[m.code] = int(row[0])
        parents = [(ids[m.parent], ids[m.code]) for m in tree.meters if m.parent is not None]
        cur.executemany("UPDATE energy_meters SET parent_id = %s WHERE meter_id = %s", parents)
    return len(tree.meters)


def fetch_tree(conn: Conn, *, park_id: int) -> Tree:
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT m.code, m.carrier, m.role, m.enterprise_id, p.code, m.device_id, m.formula, m.name,"
            " m.tariff, m.contracted_kw, m.attributes FROM energy_meters m"
            " LEFT JOIN energy_meters p ON p.meter_id = m.parent_id WHERE m.park_id = %s ORDER BY m.meter_id",
            (park_id,),
        ).fetchall()
    return Tree.of(
        Meter(
            r[0],
            r[1],
            r[2],
            r[3],
            parent=r[4],
            device=r[5],
            formula=r[6],
            name=r[7],
            tariff=r[8],
            contracted_kw=r[9],
            attributes=r[10] or {},
        )
        for r in rows
    )


def load(conn: Conn, *, park_id: int, spec: Sequence[Mapping[str, Any]], recompute: Sequence[date]) -> int:
    """Check ``spec`` (meters, their prices and schedules), make it the park's tree and queue the
    park's indicators of the days ``recompute``, in one transaction; TreeError names what is wrong."""
    from energy.report import prices_of

    with conn.transaction():
        tree = resolve(conn, park_id=park_id, spec=spec)
        for m in tree.meters:
            prices_of(m)  # a price or schedule that cannot be read is refused now, not at the first cost
        n = replace_tree(conn, park_id=park_id, tree=tree)
        store.mark_dirty_park_days(conn, park_days=[(park_id, d) for d in recompute])
    return n

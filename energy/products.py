"""Product output and unit energy consumption: kgce per unit of product against its limit.

The one writer of ``energy_product_output``. A month's unit consumption of a product is the
enterprise's comprehensive energy of the month (``indicator_monthly.tce_equivalent``, which
counts each energy once through the meter tree) × the product's energy share × 1000 / its
output. Shares are the enterprise's own split of its energy between its products (1 for a
single product); they may not add up to more than 1. Limits are the quota standard an
enterprise is held to, entered with the output; none is built in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from energy.reads import dict_rows


class OutputError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Output:
    product: str
    unit: str
    quantity: float
    energy_share: float = 1.0
    limit_kgce: float | None = None


def check(outputs: Sequence[Output]) -> None:
    seen: set[str] = set()
    for i, o in enumerate(outputs):
        if o.product in seen:
            raise OutputError(f"outputs[{i}].product: {o.product!r} given twice")
        seen.add(o.product)
    total = sum(o.energy_share for o in outputs)
    if total > 1.0 + 1e-9:
        raise OutputError(f"outputs: energy shares add up to {total:g}, more than 1")


def replace_month(
    conn: psycopg.Connection[Any], *, enterprise_id: int, month: date, outputs: Sequence[Output], by: str
) -> int:
    """The enterprise's output of ``month`` becomes ``outputs``."""
    check(outputs)
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("DELETE FROM energy_product_output WHERE enterprise_id = %s AND month = %s", (enterprise_id, month))
        cur.executemany(
            "INSERT INTO energy_product_output (enterprise_id, month, product, unit, quantity, energy_share,"
            " limit_kgce, entered_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(enterprise_id, month, o.product, o.unit, o.quantity, o.energy_share, o.limit_kgce, by) for o in outputs],
        )
    return len(outputs)


def unit_consumption(tce: float | None, o: Output) -> dict[str, Any]:
    """kgce per unit of the product, and whether it is above its limit."""
    kgce = None if tce is None else tce * 1000.0 * o.energy_share / o.quantity
    over = None if kgce is None or o.limit_kgce is None else kgce > o.limit_kgce
    return {
        "product": o.product,
        "unit": o.unit,
        "quantity": o.quantity,
        "energy_share": o.energy_share,
        "kgce_per_unit": kgce,
        "limit_kgce": o.limit_kgce,
        "above_limit": over,
    }


def month_report(conn: psycopg.Connection[Any], *, enterprise_id: int, month: date) -> dict[str, Any]:
    rows = dict_rows(
        conn,
        "SELECT product, unit, quantity, energy_share, limit_kgce, entered_by, entered_at FROM energy_product_output"
        " WHERE enterprise_id = %s AND month = %s ORDER BY product",
        (enterprise_id, month),
    )
    energy = dict_rows(
        conn,
        "SELECT tce_equivalent FROM indicator_monthly WHERE enterprise_id = %s AND month = %s",
        (enterprise_id, month),
    )
    tce = energy[0]["tce_equivalent"] if energy else None
    products = [
        {
            **unit_consumption(tce, Output(r["product"], r["unit"], r["quantity"], r["energy_share"], r["limit_kgce"])),
            "entered_by": r["entered_by"],
            "entered_at": r["entered_at"],
        }
        for r in rows
    ]
    return {"enterprise_id": enterprise_id, "month": month.isoformat(), "tce_equivalent": tce, "products": products}

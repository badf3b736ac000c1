"""WHERE-clause building with the principal's scope, so isolation lives in each query.

Clauses are fixed strings written here and in the query modules; values are always bound as
parameters, never formatted into the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.auth import ALL_CATEGORIES, Principal


@dataclass(slots=True)
class Where:
    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, clause: str, **params: Any) -> Where:
        self.clauses.append(clause)
        self.params.update(params)
        return self

    def when(self, value: Any, clause: str, name: str) -> Where:
        """Add ``clause`` binding ``value`` as ``name`` unless value is None (an absent filter)."""
        if value is not None:
            self.add(clause, **{name: value})
        return self

    def during(self, column: str, since: Any, until: Any) -> Where:
        """``since <= column < until``; a bound left at None leaves that side open."""
        self.when(since, f"{column} >= %(since)s", "since")
        return self.when(until, f"{column} < %(until)s", "until")

    @property
    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) if self.clauses else "TRUE"


def tenant(
    where: Where,
    p: Principal,
    *,
    park: str | None = None,
    enterprise: str | None = None,
    category: str | None = None,
    device: str | None = None,
) -> Where:
    """Restrict to what ``p`` may see; each argument names the column (with its alias).

    ``device`` restricts a regulator to devices that measure a metric of its categories.
    """
    if p.park_id is not None:
        if park is None:
            raise ValueError("a park-scoped principal needs the query's park column")
        where.add(f"{park} = %(s_park)s", s_park=p.park_id)
    if p.enterprise_id is not None:
        if enterprise is None:
            raise ValueError("an enterprise principal needs the query's enterprise column")
        where.add(f"{enterprise} = %(s_ent)s", s_ent=p.enterprise_id)
    if p.categories != ALL_CATEGORIES:
        if category is not None:
            where.add(f"{category} = ANY(%(s_cats)s)", s_cats=p.category_list)
        if device is not None:
            where.add(
                "EXISTS (SELECT 1 FROM device_metrics sdm JOIN metrics sm USING (metric_id)"
                f" WHERE sdm.device_id = {device} AND sm.category = ANY(%(s_cats)s))",
                s_cats=p.category_list,
            )
    return where


def page(where: Where, limit: int, offset: int) -> str:
    """LIMIT/OFFSET of one page plus one row, so the caller knows whether a next page exists."""
    where.params.update(_limit=limit + 1, _offset=offset)
    return " LIMIT %(_limit)s OFFSET %(_offset)s"


def required(row: Any) -> Any:
    """The row an INSERT … RETURNING or an aggregate always yields."""
    if row is None:
        raise RuntimeError("the statement returned no row")
    return row

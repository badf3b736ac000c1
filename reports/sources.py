"""What a report pack reads, through the API's own scoped reads with the principal the pack is
for: a park's pack sees what the park's people see, an enterprise's pack what that enterprise
sees (the same rule as its downloads, held in the same SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from aggregation.indicator_columns import EMISSION_COLUMNS, ENERGY_COLUMNS
from api.auth import Principal, Role
from api.queries import alarms as alarm_q
from api.queries import statistics as stats_q
from api.queries.completeness import completeness
from api.routes.statistics import _stats

SYSTEM_USER = 0
MAX_ALARMS = 500  # alarms listed one by one in a pack; the counts cover them all


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom a pack is about: a park (enterprise None) or one of its enterprises."""

    park: dict[str, Any]  # park_id, code, name, timezone, land_area_mu
    enterprise: dict[str, Any] | None = None  # enterprise_id, code, name
    viewer: Principal | None = None  # a narrower reader (a regulator): its pack is made for it

    @property
    def principal(self) -> Principal:
        if self.viewer is not None:
            return self.viewer
        if self.enterprise is None:
            return Principal(SYSTEM_USER, "report", Role.READONLY, park_id=self.park["park_id"])
        return Principal(
            SYSTEM_USER,
            "report",
            Role.ENTERPRISE,
            park_id=self.park["park_id"],
            enterprise_id=self.enterprise["enterprise_id"],
        )

    @property
    def name(self) -> str:
        return self.enterprise["name"] if self.enterprise else self.park["name"]

    @property
    def enterprise_id(self) -> int | None:
        return self.enterprise["enterprise_id"] if self.enterprise else None


def subjects(conn: psycopg.Connection[Any], *, park_id: int) -> list[Subject]:
    """The park and each of its enterprises (dict rows)."""
    park = conn.execute(
        "SELECT park_id, code, name, timezone, land_area_mu FROM parks WHERE park_id = %s", (park_id,)
    ).fetchone()
    if park is None:
        raise LookupError(f"no park {park_id}")
    ents = conn.execute(
        "SELECT enterprise_id, code, name FROM enterprises WHERE park_id = %s ORDER BY code", (park_id,)
    ).fetchall()
    return [Subject(park), *(Subject(park, e) for e in ents)]


Rows = list[dict[str, Any]]


def statistics(conn: psycopg.Connection[Any], s: Subject, *, period: str, start: date, end: date) -> Rows:
    """The subject's shaped statistics rows (as ``GET /statistics/…`` answers them)."""
    return _stats(
        conn,
        s.principal,
        period=period,  # type: ignore[arg-type]
        start=start,
        end=end,
        park_id=None if s.enterprise else s.park["park_id"],
        enterprise_id=s.enterprise_id,
        park=s.park,
    )


def by_enterprise(conn: psycopg.Connection[Any], s: Subject, *, period: str, start: date, end: date) -> Rows:
    """Each enterprise's sums over the range (a park's pack only: an enterprise sees its own),
    the figures of categories the reader may not see left out."""
    if s.enterprise is not None:
        return []
    rows = stats_q.by_enterprise(conn, park_id=s.park["park_id"], period=period, start=start, end=end)
    hidden = [k for group, keys in HIDDEN_UNLESS.items() if group not in s.principal.categories for k in keys]
    return [{k: v for k, v in r.items() if k not in hidden} for r in rows]


HIDDEN_UNLESS = {"energy": ENERGY_COLUMNS, "emissions": EMISSION_COLUMNS}


def local_range(s: Subject, start: date, end: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(s.park["timezone"])
    return (
        datetime.combine(start, time(), tz).astimezone(UTC),
        datetime.combine(end, time(), tz).astimezone(UTC),
    )


def alarms(conn: psycopg.Connection[Any], s: Subject, *, start: date, end: date) -> list[dict[str, Any]]:
    since, until = local_range(s, start, end)
    return alarm_q.list_alarms(
        conn,
        s.principal,
        limit=MAX_ALARMS,
        park_id=s.park["park_id"],
        enterprise_id=s.enterprise_id,
        since=since,
        until=until,
    )[:MAX_ALARMS]


def alarm_counts(conn: psycopg.Connection[Any], s: Subject, *, start: date, end: date) -> list[dict[str, Any]]:
    """Per severity and category: started, acknowledged, resolved, and the median minutes to
    acknowledge, of the alarms started in the range."""
    since, until = local_range(s, start, end)
    params: dict[str, Any] = {"pid": s.park["park_id"], "since": since, "until": until}
    where = "a.park_id = %(pid)s AND a.started_at >= %(since)s AND a.started_at < %(until)s"
    if s.enterprise_id is not None:
        where += " AND a.enterprise_id = %(eid)s"
        params["eid"] = s.enterprise_id
    where += " AND a.category = ANY(%(cats)s)"
    params["cats"] = s.principal.category_list
    return conn.execute(
        "SELECT a.severity, a.category, count(*) AS started,"
        " count(*) FILTER (WHERE a.acknowledged_at IS NOT NULL) AS acknowledged,"
        " count(*) FILTER (WHERE a.resolved_at IS NOT NULL) AS resolved,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - a.started_at) / 60)"
        " AS ack_minutes"
        f" FROM alerts a WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    ).fetchall()


def completeness_rows(
    conn: psycopg.Connection[Any], s: Subject, *, first: date, last: date, default_interval_s: float
) -> list[dict[str, Any]]:
    """Completeness over [first, last] (both included): by enterprise for a park, by device for
    an enterprise, one row each for the whole range."""
    return completeness(
        conn,
        s.principal,
        first=first,
        last=last,
        by="device" if s.enterprise else "enterprise",
        period="range",
        default_interval_s=default_interval_s,
        park_id=s.park["park_id"],
        enterprise_id=s.enterprise_id,
        now=datetime.now(UTC),
    )


def hourly_load(conn: psycopg.Connection[Any], s: Subject, *, day: date) -> list[tuple[str, float | None]]:
    """The park's electric load per local hour of a day (sum of the meters' hourly means, kW)."""
    if "energy" not in s.principal.categories:
        return []
    since, until = local_range(s, day, day + timedelta(days=1))
    params: dict[str, Any] = {"pid": s.park["park_id"], "since": since, "until": until, "tz": s.park["timezone"]}
    ent = ""
    if s.enterprise_id is not None:
        ent, params["eid"] = " AND d.enterprise_id = %(eid)s", s.enterprise_id
    rows = conn.execute(
        "SELECT to_char(x.bucket AT TIME ZONE %(tz)s, 'HH24') AS hour, sum(x.mean) AS kw FROM rollup_1h x"
        " JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id)"
        " JOIN metrics m ON m.metric_id = x.metric_id"
        f" WHERE e.park_id = %(pid)s AND m.code = 'elec.power_kw'{ent}"
        " AND x.bucket >= %(since)s AND x.bucket < %(until)s GROUP BY 1 ORDER BY 1",
        params,
    ).fetchall()
    return [(r["hour"], r["kw"]) for r in rows]

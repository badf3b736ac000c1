"""Grafana provisioning: dashboards are well-formed (uids, titles, units, descriptions) and every
panel's SQL runs against the real schema with Grafana's macros substituted."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

GRAFANA = Path(__file__).resolve().parents[2] / "dashboards" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
FROM, TO = "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z"


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in board["panels"]:
        out.append(p)
        out.extend(p.get("panels", []))  # panels inside collapsed rows
    return out


def _datasource_uid() -> str:
    prov = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "timescaledb.yaml").read_text())
    (ds,) = prov["datasources"]
    assert ds["type"] == "grafana-postgresql-datasource"
    assert ds["jsonData"]["timescaledb"] is True
    return str(ds["uid"])


def substitute_macros(sql: str, *, park_id: int) -> str:
    """Grafana's PostgreSQL macros and the dashboards' variables, as Grafana would expand them."""
    sql = re.sub(
        r"\$__timeFilter\(([^)]+)\)",
        lambda m: f"{m.group(1)} BETWEEN '{FROM}'::timestamptz AND '{TO}'::timestamptz",
        sql,
    )
    sql = sql.replace("$__timeFrom()", f"'{FROM}'::timestamptz").replace("$__timeTo()", f"'{TO}'::timestamptz")
    sql = re.sub(r"\$park\b", str(park_id), sql)
    assert "$" not in sql, f"unsubstituted macro or variable in: {sql}"
    return sql


def test_there_is_a_dashboard_per_area() -> None:
    uids = {_load(p)["uid"] for p in DASHBOARDS}
    assert {"smartpark-energy", "smartpark-environment", "smartpark-safety"} <= uids


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_well_formed(path: Path) -> None:
    board = _load(path)
    assert board["uid"] == path.stem, "file name must be the dashboard uid"
    assert len(board["uid"]) <= 40 and re.fullmatch(r"[a-z0-9-]+", board["uid"])
    assert board["title"] and board["description"]
    uid = _datasource_uid()
    panels = _panels(board)
    assert panels
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    for p in panels:
        where = f"{path.name} panel {p.get('id')}"
        assert p.get("title", "").strip(), f"{where}: no title"
        assert p.get("description", "").strip(), f"{where}: no description"
        assert p["fieldConfig"]["defaults"].get("unit"), f"{where}: no unit"
        assert p["datasource"]["uid"] == uid, f"{where}: not the provisioned datasource"
        assert p["targets"], f"{where}: no query"
        for t in p["targets"]:
            assert t["rawSql"].strip() and t["format"] in ("time_series", "table"), where
            if t["format"] == "time_series":
                assert re.search(r"\bAS time\b", t["rawSql"]), f"{where}: time series without a time column"


def test_provisioning_points_at_the_dashboards() -> None:
    prov = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "smartpark.yaml").read_text())
    (provider,) = prov["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/var/lib/grafana/dashboards")


def test_macro_substitution() -> None:
    sql = substitute_macros("WHERE $__timeFilter(r.bucket) AND d < $__timeTo() AND p = $park", park_id=3)
    assert sql == (
        f"WHERE r.bucket BETWEEN '{FROM}'::timestamptz AND '{TO}'::timestamptz AND d < '{TO}'::timestamptz AND p = 3"
    )


@pytest.mark.integration
@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_query_runs_against_the_schema(path: Path, db: Any, park: dict[str, Any]) -> None:
    park_id = db.execute("SELECT park_id FROM parks WHERE code = %s", (park["parks"][0]["code"],)).fetchone()[0]
    board = _load(path)
    queries = [(f"variable {v['name']}", v["query"]) for v in board["templating"]["list"] if v["type"] == "query"]
    queries += [(f"panel {p['title']}", t["rawSql"]) for p in _panels(board) for t in p["targets"]]
    for what, sql in queries:
        try:
            with db.transaction():
                cur = db.execute(substitute_macros(sql, park_id=park_id))  # type: ignore[arg-type]
                cur.fetchall()
        except Exception as exc:
            raise AssertionError(f"{path.name} {what}: {exc}") from exc
        assert cur.description is not None, f"{path.name} {what} returned no columns"
        names = [c.name for c in cur.description]
        if "AS time" in sql:
            assert names[0] == "time", f"{path.name} {what}: first column {names[0]!r}"


def test_dashboards_show_the_park_time_zone_not_the_browser_s() -> None:
    """A viewer in another zone must read the park's hours (issue: "today" ran 16:00-16:00)."""
    from smartpark.settings import Settings

    zone = Settings().timezone
    for path in DASHBOARDS:
        assert _load(path)["timezone"] == zone, f"{path.name}: timezone is not the park's {zone}"

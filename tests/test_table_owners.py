"""One owner module per table: every INSERT, UPDATE, DELETE, COPY FROM or TRUNCATE of a table in
the product's SQL is in that table's owner module, and docs/architecture.md lists the same owners.

The SQL is read from the string literals of every product module (docstrings and comments are
prose, not SQL); benchmarks and tests set up their own data and are not scanned. Retention's
drop_chunks deletes by age across hypertables and is allowed in storage/retention.py only.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OWNERS = {
    "schema_migrations": "smartpark/db/migrate.py",
    "metrics": "smartpark/db/seed.py",
    "parks": "smartpark/registry.py",
    "enterprises": "smartpark/registry.py",
    "gateways": "smartpark/registry.py",
    "devices": "smartpark/registry.py",
    "device_metrics": "smartpark/registry.py",
    "telemetry": "ingest/store.py",
    "telemetry_latest": "ingest/store.py",
    "rejected_messages": "ingest/rejections.py",
    "telemetry_touched": "smartpark/db/touched.py",
    "rollup_15m": "aggregation/store.py",
    "rollup_1h": "aggregation/store.py",
    "rollup_1d": "aggregation/store.py",
    "aggregation_dirty_days": "aggregation/store.py",
    "indicator_daily": "aggregation/indicator_store.py",
    "indicator_monthly": "aggregation/indicator_store.py",
    "consumption_moves": "aggregation/consumption_moves.py",
    "economic_monthly": "aggregation/economic.py",
    "alert_rules": "alerting/rule_store.py",
    "alerts": "alerting/alarm_store.py",
    "alert_events": "alerting/alarm_store.py",
    "alert_silences": "alerting/routing_store.py",
    "alert_receivers": "alerting/routing_store.py",
    "alert_notifications": "alerting/outbox_store.py",
    "alert_notified": "alerting/outbox_store.py",
    "alerting_coverage": "alerting/coverage.py",
    "notify_contacts": "alerting/paging_store.py",
    "notify_rosters": "alerting/paging_store.py",
    "notify_policies": "alerting/paging_store.py",
    "notify_escalations": "alerting/paging_store.py",
    "notify_attempts": "alerting/paging_store.py",
    "notify_ack_uses": "alerting/paging_store.py",
    "api_users": "api/queries/users.py",
    "api_keys": "api/queries/users.py",
    "api_token_secret": "api/queries/users.py",
    "aggregation_failures": "aggregation/failures.py",
    "rollup_held": "smartpark/db/touched.py",
    "rollup_claimed": "smartpark/db/touched.py",
    "service_heartbeats": "smartpark/heartbeat.py",
    "hj212_packets": "forwarding/store.py",
    "hj212_forward_targets": "forwarding/store.py",
    "hj212_forward_outlets": "forwarding/store.py",
    "hj212_forward_outbox": "forwarding/store.py",
    "hj212_forward_status": "forwarding/store.py",
    "hj212_logger_clock": "ingest/hj212/clock_store.py",
    "storage_cold_chunks": "storage/manifest.py",
    "storage_cold_files": "storage/manifest.py",
    "region_parks": "region/store.py",
    "region_submissions": "region/store.py",
    "region_viewers": "region/store.py",
    "region_outbox": "region/outbox.py",
    "region_publications": "region/published.py",
    "region_league_receivers": "region/published.py",
    "region_publication_mail": "region/published.py",
    "region_my_results": "region/my_result.py",
    "emergency_hazards": "emergency/registry_store.py",
    "emergency_hazard_devices": "emergency/registry_store.py",
    "emergency_plans": "emergency/registry_store.py",
    "emergency_resources": "emergency/registry_store.py",
    "emergency_incidents": "emergency/incident_store.py",
    "emergency_incident_alarms": "emergency/incident_store.py",
    "emergency_incident_events": "emergency/incident_store.py",
    "emergency_incident_steps": "emergency/incident_store.py",
    "emergency_incident_photos": "emergency/incident_store.py",
    "energy_meters": "energy/meters.py",
    "energy_meter_changes": "energy/changes.py",
    "energy_manual_readings": "energy/manual.py",
    "energy_product_output": "energy/products.py",
    "report_files": "reports/store.py",
}
# Session-local temporary tables: not in the migrations, written by the module that creates them.
TEMPORARY = {"ingest_stage": "ingest/store.py"}
RETENTION = "storage/retention.py"

# A table name, or "{}" where an f-string computes it (then the module must own tables).
_NAME = r"([a-z_][a-z0-9_]*|\{\})"
WRITE = re.compile(
    rf"\bINSERT\s+INTO\s+{_NAME}"
    rf"|\bUPDATE\s+{_NAME}(?:\s+\w+)?\s+SET\b"
    rf"|\bDELETE\s+FROM\s+{_NAME}"
    rf"|\bCOPY\s+{_NAME}\s*(?:\([^)]*\))?\s*FROM\b"
    rf"|\bTRUNCATE\s+(?:TABLE\s+)?{_NAME}"
)
CREATE = re.compile(r"\bCREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", re.IGNORECASE)


def _product_modules() -> list[Path]:
    skip = {"tests", "benchmarks", ".venv", "node_modules"}
    return [
        p
        for p in sorted(ROOT.rglob("*.py"))
        if not skip & set(p.relative_to(ROOT).parts)
        and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
        and not p.name.startswith("bench")
    ]


def _sql_strings(tree: ast.AST) -> list[str]:
    """String literals, f-strings with "{}" for their computed parts; docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    inside_fstring = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.append("".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and id(node) not in inside_fstring
        ):
            out.append(node.value)
    return out


def _writes() -> dict[str, set[str]]:
    """Table (or "{}") -> the modules whose SQL writes it."""
    found: dict[str, set[str]] = {}
    for path in _product_modules():
        module = path.relative_to(ROOT).as_posix()
        for sql in _sql_strings(ast.parse(path.read_text(encoding="utf-8"))):
            for match in WRITE.finditer(sql):
                table = next(g for g in match.groups() if g)
                found.setdefault(table, set()).add(module)
    return found


def test_every_table_of_the_migrations_has_one_owner() -> None:
    created = {
        name.lower()
        for sql in (ROOT / "smartpark/db/migrations").glob("*.sql")
        for name in CREATE.findall(sql.read_text(encoding="utf-8"))
    }
    created.add("schema_migrations")  # made by smartpark/db/migrate.py before any migration
    assert created == set(OWNERS), f"tables without an owner: {created - set(OWNERS)}; gone: {set(OWNERS) - created}"
    assert all((ROOT / module).is_file() for module in OWNERS.values())


def test_each_table_is_written_by_its_owner_only() -> None:
    owners = OWNERS | TEMPORARY
    writes = _writes()
    for table, modules in writes.items():
        if table == "{}":
            # a computed table name: only a module that owns tables may compute one
            assert modules <= set(owners.values()), f"writes to a computed table in {modules - set(owners.values())}"
            continue
        assert table in owners, f"{sorted(modules)} write {table!r}, which no migration creates"
        assert modules == {owners[table]}, f"{table!r} is written by {sorted(modules)}; its owner is {owners[table]}"
    # the scan sees the writes it is meant to see
    assert {"telemetry", "alert_silences", "economic_monthly", "parks", "telemetry_touched"} <= set(writes)


def test_only_retention_drops_chunks() -> None:
    dropping = {
        path.relative_to(ROOT).as_posix()
        for path in _product_modules()
        if any("drop_chunks" in s for s in _sql_strings(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert dropping == {RETENTION}


def test_the_architecture_page_lists_the_same_owners() -> None:
    page = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([a-z_0-9]+)` \| `([a-z_/0-9]+\.py)` \|", page, re.MULTILINE))
    assert listed == OWNERS

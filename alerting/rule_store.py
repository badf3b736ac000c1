"""SQL of alarm rules: the rules loaded from files, and those people create, replace, enable and
delete through the CLI and the API.

The one module that writes ``alert_rules``. Keyword-only functions; the caller owns the
transaction. The table's shape is documented at the top of smartpark/db/migrations/0300_alerting.sql.
"""

from __future__ import annotations

from collections.abc import Iterable

from psycopg.types.json import Jsonb

from alerting.rules import Rule, RuleError, rule_from_dict, rule_to_dict
from alerting.store_sql import Conn


def save_rules(conn: Conn, *, rules: Iterable[Rule], by: str) -> int:
    n = 0
    for r in rules:
        conn.execute(
            "INSERT INTO alert_rules (rule_id, definition, metric, severity, category, enabled, updated_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (rule_id) DO UPDATE SET"
            " definition = excluded.definition, metric = excluded.metric, severity = excluded.severity,"
            " category = excluded.category, enabled = excluded.enabled, updated_at = now(),"
            " updated_by = excluded.updated_by",
            (r.id, Jsonb(rule_to_dict(r)), r.metric, r.severity, r.category, r.enabled, by),
        )
        n += 1
    return n


def set_rule_enabled(conn: Conn, *, rule_id: str, enabled: bool, by: str) -> bool:
    row = conn.execute(
        "UPDATE alert_rules SET enabled = %s, updated_at = now(), updated_by = %s WHERE rule_id = %s RETURNING rule_id",
        (enabled, by, rule_id),
    ).fetchone()
    return row is not None


def create_rule(conn: Conn, *, rule: Rule, by: str) -> bool:
    """Store a new rule; False when one with its id exists (nothing is changed then)."""
    cur = conn.execute(
        "INSERT INTO alert_rules (rule_id, definition, metric, severity, category, enabled, updated_by)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (rule_id) DO NOTHING",
        (rule.id, Jsonb(rule_to_dict(rule)), rule.metric, rule.severity, rule.category, rule.enabled, by),
    )
    return cur.rowcount > 0


def replace_rule(conn: Conn, *, rule: Rule, by: str) -> bool:
    """Replace a stored rule's definition; False when there is no rule with its id."""
    cur = conn.execute(
        "UPDATE alert_rules SET definition = %s, metric = %s, severity = %s, category = %s, enabled = %s,"
        " updated_by = %s, updated_at = now() WHERE rule_id = %s",
        (Jsonb(rule_to_dict(rule)), rule.metric, rule.severity, rule.category, rule.enabled, by, rule.id),
    )
    return cur.rowcount > 0


def delete_rule(conn: Conn, *, rule_id: str) -> bool:
    return conn.execute("DELETE FROM alert_rules WHERE rule_id = %s", (rule_id,)).rowcount > 0


def fetch_rules(conn: Conn) -> tuple[list[Rule], list[str]]:
    """The stored rules, and an error per stored definition that no longer validates."""
    rules, errors = [], []
    for rule_id, definition, enabled in conn.execute(
        "SELECT rule_id, definition, enabled FROM alert_rules ORDER BY rule_id"
    ):
        try:
            rules.append(rule_from_dict({**definition, "id": rule_id, "enabled": enabled}, "alert_rules"))
        except RuleError as exc:
            errors.append(str(exc))
    return rules, errors

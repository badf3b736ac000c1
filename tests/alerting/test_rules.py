"""Rule loading and validation: each bad field is named in the error."""

from __future__ import annotations

import pytest

from alerting.rules import (
    RuleError,
    default_document,
    default_rules,
    load_rules,
    parse_duration,
    rule_from_dict,
    rule_to_dict,
)
from smartpark.gas_setpoints import LEL_LEVELS_PCT, toxic_levels

GOOD = {
    "id": "lel-high",
    "metric": "safety.lel_pct",
    "condition": {"op": ">=", "threshold": 25},
    "severity": "major",
    "category": "safety",
}


def test_duration_units() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("5m") == 300
    assert parse_duration("1h") == 3600
    assert parse_duration("250ms") == 0.25
    assert parse_duration(12) == 12


@pytest.mark.parametrize("raw", ["5 minutes", -1, True, "9d"])
def test_bad_durations_are_named(raw: object) -> None:
    with pytest.raises(RuleError, match="for"):
        parse_duration(raw, "for")


def test_round_trip_through_dict() -> None:
    rule = rule_from_dict({**GOOD, "for": "30s", "hysteresis": 2, "scope": {"kinds": "gas_detector"}})
    again = rule_from_dict(rule_to_dict(rule))
    assert again == rule
    assert rule.for_s == 30 and rule.scope.kinds == ("gas_detector",)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"metric": "safety.lel"}, "unknown metric 'safety.lel'"),
        ({"severity": "fatal"}, "severity 'fatal'"),
        ({"category": "traffic"}, "category 'traffic'"),
        ({"condition": {"op": "=>", "threshold": 1}}, "operator '=>'"),
        ({"condition": {"op": ">"}}, "needs a threshold"),
        ({"condition": {"op": ">", "threshold": "high"}}, "threshold 'high' is not a number"),
        ({"condition": {"band": [9, 6]}}, "band [9.0, 6.0] is empty"),
        ({"condition": {"type": "avg", "op": ">", "threshold": 1}}, "needs a window"),
        ({"condition": {"type": "median", "threshold": 1}}, "condition type 'median'"),
        ({"scope": {"kinds": ["toaster"]}}, "unknown device kind 'toaster'"),
        ({"scope": {"rooms": ["a"]}}, "unknown field(s) 'rooms'"),
        ({"hysteresis": -1}, "hysteresis -1.0"),
        ({"transform": "o2_reference"}, "o2_reference applies to stack"),
        ({"labels": {"bad key": "x"}}, "label 'bad key'"),
        ({"id": "Bad Id"}, "rule id 'Bad Id'"),
        ({"colour": "red"}, "unknown field(s) 'colour'"),
    ],
)
def test_specific_validation_errors(patch: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError) as exc:
        rule_from_dict({**GOOD, **patch}, "rules[0]")
    assert message in str(exc.value)
    assert "rules[0]" in str(exc.value)


TAIL = "condition: {threshold: 1}, severity: minor, category: energy"


def test_file_errors_name_the_position_and_duplicates() -> None:
    with pytest.raises(RuleError, match=r"f.yaml: rules\[1\] \(b\): unknown metric 'nope'"):
        load_rules(f"rules:\n- {{id: a, metric: elec.pf, {TAIL}}}\n- {{id: b, metric: nope, {TAIL}}}\n", "f.yaml")
    with pytest.raises(RuleError, match="duplicate rule id 'a'"):
        load_rules("rules:\n" + f"- {{id: a, metric: elec.pf, {TAIL}}}\n" * 2)
    with pytest.raises(RuleError, match="not valid YAML"):
        load_rules("rules: [")
    with pytest.raises(RuleError, match="'rules' list"):
        load_rules("- 1")


def test_nodata_any_metric_only_for_nodata() -> None:
    rule_from_dict({**GOOD, "metric": "*", "condition": {"type": "nodata", "window": "2m"}})
    with pytest.raises(RuleError, match=r"unknown metric '\*'"):
        rule_from_dict({**GOOD, "metric": "*"})


def test_default_rules_cover_the_standards() -> None:
    rules = {r.id: r for r in default_rules()}
    assert rules["lel-level1"].condition.threshold == 25
    assert rules["lel-level2"].condition.threshold == 50
    assert rules["o2-low"].condition.threshold == 19.5 and rules["o2-low"].condition.op == "<"
    assert rules["o2-high"].condition.threshold == 23.5
    # stacks and wastewater outlets are judged against each outlet's own limit (smartpark.limits)
    per_outlet = {r.metric for r in rules.values() if r.condition.outlet_limit}
    assert per_outlet == {"stack.so2_mgm3", "stack.nox_mgm3", "stack.dust_mgm3", "ww.cod_mgl", "ww.nh3n_mgl"}
    assert all(r.transform == "o2_reference" for r in rules.values() if r.metric.startswith("stack."))
    assert {
        "ww.cod_mgl",
        "ww.nh3n_mgl",
        "air.aqi",
        "device.online",
        "safety.fire_alarm",
        "safety.h2s_ppm",
        "safety.co_ppm",
    } <= {r.metric for r in rules.values()}
    assert all(
        r.source
        for r in rules.values()
        if r.category in ("safety", "emissions") and r.metric != "*" and r.metric != "device.online"
    )
    assert len(default_document()["inhibit"]) >= 2


def test_gas_setpoints_round_toward_safety() -> None:
    """Issue 16 item 18. GB/T 50493-2019 5.5.2: first level at most 100 % OEL, second at most
    200 %. CO PC-TWA 20 mg/m³ (GBZ 2.1, verify) × 24.04 / 28.01 = 17.165 ppm -> 17.1 (not 17.2);
    40 mg/m³ -> 34.331 -> 34.3. H2S MAC 10 mg/m³ × 24.04 / 34.08 = 7.054 -> 7.0; 20 -> 14.108 -> 14.1."""
    assert toxic_levels("safety.co_ppm") == (17.1, 34.3)
    assert toxic_levels("safety.h2s_ppm") == (7.0, 14.1)
    rules = {r.id: r.condition.threshold for r in default_rules()}
    assert (rules["co-level1"], rules["co-level2"]) == toxic_levels("safety.co_ppm")
    assert (rules["h2s-level1"], rules["h2s-level2"]) == toxic_levels("safety.h2s_ppm")
    assert (rules["lel-level1"], rules["lel-level2"]) == LEL_LEVELS_PCT


def test_outlet_limit_threshold_round_trips_and_is_validated() -> None:
    r = rule_from_dict(
        {
            **GOOD,
            "metric": "stack.so2_mgm3",
            "category": "emissions",
            "transform": "o2_reference",
            "condition": {"type": "avg", "window": "1h", "op": ">", "threshold": "outlet_limit"},
        }
    )
    assert r.condition.outlet_limit and rule_from_dict(rule_to_dict(r)) == r
    with pytest.raises(RuleError, match="outlet_limit needs op"):
        rule_from_dict({**GOOD, "condition": {"op": "<", "threshold": "outlet_limit"}})

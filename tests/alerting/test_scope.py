"""Rule scopes compiled once: the same answers as shell-style matching, literal names as a set,
wildcards as one matcher, each distinct name judged once, and the documented limits refused."""

from __future__ import annotations

import fnmatch

import pytest

from alerting.evaluate import Entity, Evaluator
from alerting.rules import ScopeTooLarge, Selector, rule_from_dict
from alerting.scope import (
    MAX_PATTERN_CHARS,
    MAX_SCOPE_ENTRIES,
    MAX_SCOPE_WILDCARDS,
    CompiledScope,
    ScopeCache,
    ScopeLimitError,
    check_limits,
)

ENTITIES = [
    Entity(f"d:{i}", park, ent, f"{kind[:2]}{i:03d}", kind, zone=f"Z{i % 3}")
    for i, (park, ent, kind) in enumerate(
        (p, e, k)
        for p in ("p1", "p2")
        for e in ("e1", "e2", "chem-a")
        for k in ("gas_detector", "stack_cems", "electricity_meter")
    )
]


def brute_force(scope: Selector, e: Entity) -> bool:
    """The definition: every non-empty field has a pattern matching one of the entity's names."""

    def any_match(patterns: tuple[str, ...], names: tuple[str, ...]) -> bool:
        return not patterns or any(fnmatch.fnmatchcase(n, p) for p in patterns for n in names)

    return (
        any_match(scope.parks, (e.park,))
        and any_match(scope.enterprises, (e.enterprise, f"{e.park}/{e.enterprise}"))
        and any_match(scope.devices, (e.code, f"{e.enterprise}/{e.code}"))
        and any_match(scope.kinds, (e.kind,))
        and any_match(scope.zones, (e.zone,))
    )


@pytest.mark.parametrize(
    "scope",
    [
        Selector(),
        Selector(parks=("p1",)),
        Selector(parks=("p*",), kinds=("gas_*", "stack_cems")),
        Selector(enterprises=("p2/chem-*", "e1")),
        Selector(devices=("e1/ga000", "ga01[0-9]", "st0?4", "chem-a/*")),
        Selector(devices=tuple(f"e2/el{i:03d}" for i in range(60)), zones=("Z[12]",)),
        Selector(kinds=("[!g]*",)),
    ],
)
def test_compiled_scope_agrees_with_shell_style_matching(scope: Selector) -> None:
    got = CompiledScope.compile(scope).mask(ENTITIES).tolist()
    assert got == [brute_force(scope, e) for e in ENTITIES]
    assert any(got)  # every case selects something


def test_each_distinct_name_is_judged_once_and_remembered_across_rebuilds() -> None:
    scope = Selector(devices=tuple(f"e1/ga{i:03d}" for i in range(10_000)))
    cache = ScopeCache()
    Evaluator([rule_from_dict(_rule(scope))], ENTITIES, now_ms=0, scopes=cache)
    memo = cache.get(scope).fields["devices"].memo
    assert len(memo) == len({(e.code, f"{e.enterprise}/{e.code}") for e in ENTITIES})
    added = Entity("d:999", "p1", "e1", "ga999", "gas_detector")
    ev = Evaluator([rule_from_dict(_rule(scope))], [*ENTITIES, added], now_ms=0, scopes=cache)
    assert len(memo) == len(ENTITIES) + 1  # only the new device was matched
    assert ev.applies[0, -1] and ev.applies[0].sum() == 1 + sum(brute_force(scope, e) for e in ENTITIES)


def _rule(scope: Selector) -> dict[str, object]:
    fields = {k: list(getattr(scope, k)) for k in ("parks", "enterprises", "devices", "kinds", "zones")}
    return {
        "id": "big",
        "metric": "safety.lel_pct",
        "severity": "major",
        "category": "safety",
        "condition": {"op": ">=", "threshold": 25},
        "scope": {k: v for k, v in fields.items() if v},
    }


def test_limits_at_and_beyond_each_boundary() -> None:
    check_limits(Selector(devices=tuple(f"d{i}" for i in range(MAX_SCOPE_ENTRIES))))
    with pytest.raises(ScopeLimitError, match=f"{MAX_SCOPE_ENTRIES + 1} entries"):
        check_limits(Selector(devices=tuple(f"d{i}" for i in range(MAX_SCOPE_ENTRIES)), parks=("p1",)))
    check_limits(Selector(devices=tuple(f"d{i}*" for i in range(MAX_SCOPE_WILDCARDS))))
    with pytest.raises(ScopeLimitError, match=f"{MAX_SCOPE_WILDCARDS + 1} wildcard"):
        check_limits(Selector(devices=tuple(f"d{i}*" for i in range(MAX_SCOPE_WILDCARDS + 1))))
    check_limits(Selector(zones=("z" * MAX_PATTERN_CHARS,)))
    with pytest.raises(ScopeLimitError, match=f"{MAX_PATTERN_CHARS + 1} characters"):
        check_limits(Selector(zones=("z" * (MAX_PATTERN_CHARS + 1),)))


def test_a_rule_beyond_the_limits_is_refused_as_such() -> None:
    too_many = Selector(devices=tuple(f"d{i}" for i in range(MAX_SCOPE_ENTRIES + 1)))
    with pytest.raises(ScopeTooLarge, match=r"rule \(big\): scope has 20001 entries"):
        rule_from_dict(_rule(too_many))

"""The page context's pure parts: which park a caller gets, answers in columns, cache keys."""

from __future__ import annotations

from api.auth import Bureau, Principal, Role
from api.queries.page import columns
from api.routes.page import choose_park, scope_key

PARKS = [{"park_id": 3, "code": "north"}, {"park_id": 7, "code": "south"}]


def test_a_park_bound_user_gets_its_park_whatever_it_asks_for() -> None:
    op = Principal(user_id=1, name="op", role=Role.OPERATOR, park_id=7)
    assert choose_park(PARKS, op, "north") == PARKS[1]
    assert choose_park(PARKS[:1], op, None) is None  # its park is not there: nothing, not another


def test_anyone_else_gets_the_park_asked_for_else_the_first() -> None:
    admin = Principal(user_id=1, name="root", role=Role.ADMIN)
    assert choose_park(PARKS, admin, "south") == PARKS[1]
    assert choose_park(PARKS, admin, "gone") == PARKS[0]
    assert choose_park([], admin, "south") is None


def test_rows_become_columns() -> None:
    rows = [{"a": 1, "b": "x", "c": 0}, {"a": 2, "b": "y", "c": 0}]
    assert columns(rows, ("a", "b")) == {"a": [1, 2], "b": ["x", "y"]}
    assert columns([], ("a",)) == {"a": []}


def test_answers_are_shared_within_a_scope_only() -> None:
    env = Principal(user_id=1, name="env", role=Role.REGULATOR, park_id=3, bureaus=(Bureau.ENVIRONMENT,))
    env2 = Principal(user_id=2, name="env2", role=Role.REGULATOR, park_id=3, bureaus=(Bureau.ENVIRONMENT,))
    emg = Principal(user_id=3, name="emg", role=Role.REGULATOR, park_id=3, bureaus=(Bureau.EMERGENCY,))
    op = Principal(user_id=4, name="op", role=Role.OPERATOR, park_id=3)
    assert scope_key(env, "plan", 3) == scope_key(env2, "plan", 3)
    assert len({scope_key(p, "plan", 3) for p in (env, emg, op)}) == 3
    assert scope_key(op, "plan", 3) != scope_key(op, "plan", 4)

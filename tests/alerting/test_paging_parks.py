"""Escalation pages only the alarm's park's people: contacts, rosters and receivers are named by
their names, which are unique across parks, so a policy (or a roster) that names another park's
(saved before the API refused them, or by an admin's hand) resolves them to nobody; and a park's
policy starts only on its park's alarms, whatever its matchers say. Through the real service,
database, broker and a local SMTP server."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from alerting import alarm_store, paging_store, routing_store
from benchmarks.paging_endpoints import SmtpServer
from smartpark.db.migrate import available
from smartpark.registry import broker_accounts, load_model
from smartpark.settings import Settings
from tests.alerting.test_escalation import escalation_row, gw  # noqa: F401  (gw: a fixture)
from tests.alerting.test_paging import gas_rule, park_id
from tests.api.conftest import device_id
from tests.support.alerting import Gateway, running
from tests.support.factories import small_model, unique_code
from tests.support.paging import forget_platform_wide
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def other_park(db: psycopg.Connection[Any]) -> Iterator[str]:
    model = small_model(unique_code())
    with db.transaction():
        load_model(db, model, broker=None)
    code = model["parks"][0]["code"]
    yield code
    pid = park_id(db, code)
    db.execute("UPDATE alert_receivers SET enabled = false WHERE park_id = %s", (pid,))


def _mail(db: psycopg.Connection[Any], name: str, pid: int | None, smtp: SmtpServer) -> str:
    """A mail receiver that routing leaves alone (energy alarms): only escalation names it."""
    routing_store.create_receiver(
        db, name=name, park_id=pid, categories=["energy"], channel="email", config=smtp.receiver_config(to=[]),
        secrets={"password": smtp.password},
    )  # fmt: skip
    return name


def _pages(db: psycopg.Connection[Any], receivers: list[str]) -> list[tuple[str, str, bool]]:
    """The escalation's pages queued for these receivers: (receiver, person, delivered)."""
    rows = db.execute(
        "SELECT r.name, n.payload->'person'->>'name', n.delivered_at IS NOT NULL FROM alert_notifications n"
        " JOIN alert_receivers r USING (receiver_id) WHERE r.name = ANY(%s) AND n.payload ? 'person'"
        " ORDER BY 2",
        (receivers,),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_a_policy_naming_another_parks_people_pages_only_its_own_and_platform_wide_ones(
    settings: Settings,
    db: psycopg.Connection[Any],
    gw: Gateway,  # noqa: F811  (the escalation tests' fixture: it disables the park's receivers and policies after)
    other_park: str,
    smtp: SmtpServer,
    request: pytest.FixtureRequest,
) -> None:
    code = gw.park
    pid, other = park_id(db, code), park_id(db, other_park)
    mine, theirs = _mail(db, f"mail-a-{pid}", pid, smtp), _mail(db, f"mail-b-{other}", other, smtp)
    duty, lead, everyone = f"duty-{pid}", f"lead-{other}", f"everyone-{pid}"
    for name, owner in ((duty, pid), (lead, other), (everyone, None)):
        paging_store.create_contact(db, name=name, park_id=owner, email=f"{name}@park.example", phone=None)
    request.addfinalizer(lambda: forget_platform_wide(db, contacts=[everyone]))
    # a roster of the other park, and one of this park that names the other park's lead
    paging_store.save_roster(
        db, name=f"their-roster-{other}", park_id=other, definition={"start": "2026-01-01", "members": [lead]}
    )
    paging_store.save_roster(
        db, name=f"our-roster-{pid}", park_id=pid, definition={"start": "2026-01-01", "members": [lead]}
    )
    paging_store.save_policy(
        db,
        name=f"gas-parks-{pid}",
        park_id=pid,
        matchers=[f"park={code}", "alertname=t-gas"],
        definition={
            "levels": [
                {
                    "after_min": 0,
                    "receivers": [mine, theirs],
                    "contacts": [duty, lead, everyone],
                    "rosters": [f"their-roster-{other}", f"our-roster-{pid}"],
                }
            ]
        },
    )
    with running(settings, gas_rule(code), parks=[code, other_park]):
        gw.send({"gd1": {"safety.lel_pct": 30}})
        wait_until(lambda: escalation_row(db, pid) == (1, "last level paged"), what="the level paged")
        # every page of the level was queued in the transaction that recorded it paged
        wait_until(lambda: all(p[2] for p in _pages(db, [mine, theirs])), what="the pages delivered")
    assert _pages(db, [mine, theirs]) == [(mine, duty, True), (mine, everyone, True)]
    assert sorted(r for m in smtp.mails for r in m.rcpt_tos) == [f"{duty}@park.example", f"{everyone}@park.example"]


@pytest.fixture
def other_gw(db: psycopg.Connection[Any], broker: Any) -> Iterator[Gateway]:
    """A second park with broker accounts, and its gateway."""
    model = small_model(unique_code())
    with db.transaction():
        load_model(db, model, broker=broker)
    gateway = Gateway(model)
    yield gateway
    gateway.close()
    db.execute("UPDATE alert_receivers SET enabled = false WHERE park_id = %s", (park_id(db, gateway.park),))
    for account in broker_accounts(model):  # the broker is shared by every run on the machine
        broker.delete_client(account.username)


@pytest.fixture
def platform_wide_policies(db: psycopg.Connection[Any]) -> Iterator[list[str]]:
    """The names of the platform-wide policies a test makes: deleted after it, as they would
    start on the alarms of the tests that follow and be listed to every park's operators."""
    names: list[str] = []
    yield names
    db.execute("DELETE FROM notify_policies WHERE park_id IS NULL AND name = ANY(%s)", (names,))


def _escalations(db: psycopg.Connection[Any], policy: str, parks: list[str]) -> dict[str, str | None]:
    """The alarm's park code -> how the policy's escalation of it ended, for these parks' alarms
    (the earlier tests' are looked at by a platform-wide policy too)."""
    rows = db.execute(
        "SELECT pk.code, e.done_why FROM notify_escalations e JOIN notify_policies p USING (policy_id)"
        " JOIN alerts a USING (alert_id) JOIN parks pk ON pk.park_id = a.park_id WHERE p.name = %s"
        " AND pk.code = ANY(%s)",
        (policy, parks),
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def test_a_parks_policy_starts_only_on_its_parks_alarms_whatever_its_matchers_say(
    settings: Settings,
    db: psycopg.Connection[Any],
    gw: Gateway,  # noqa: F811  (disables the park's receivers and policies after)
    other_gw: Gateway,
    platform_wide_policies: list[str],
    smtp: SmtpServer,
    request: pytest.FixtureRequest,
) -> None:
    """Park A's policy without a park matcher pages A's alarm and does not start on B's: it names
    B's mail receiver (saved by hand) and a platform-wide contact, which B's alarm would have
    reached. A platform-wide policy still starts on B's alarm."""
    code, other = gw.park, other_gw.park
    both = [code, other]
    pid, other_id = park_id(db, code), park_id(db, other)
    mine, theirs = _mail(db, f"mail-a-{pid}", pid, smtp), _mail(db, f"mail-b-{other_id}", other_id, smtp)
    ours, everyone, wide = f"ours-{pid}", f"everyone-{pid}", f"wide-{pid}"
    for name, owner in ((ours, pid), (everyone, None), (wide, None)):
        paging_store.create_contact(db, name=name, park_id=owner, email=f"{name}@park.example", phone=None)
    request.addfinalizer(lambda: forget_platform_wide(db, contacts=[everyone, wide]))
    policy, all_parks = f"gas-any-{pid}", f"gas-all-{pid}"
    platform_wide_policies.append(all_parks)
    paging_store.save_policy(
        db, name=policy, park_id=pid, matchers=["alertname=t-gas"],  # no park=: every park's gas alarms match
        definition={"levels": [{"after_min": 0, "receivers": [mine, theirs], "contacts": [ours, everyone]}]},
    )  # fmt: skip
    paging_store.save_policy(
        db, name=all_parks, park_id=None, matchers=[f"park={other}", "alertname=t-gas"],
        definition={"levels": [{"after_min": 0, "receivers": [theirs], "contacts": [wide]}]},
    )  # fmt: skip
    rules = [dataclasses.replace(r, scope=dataclasses.replace(r.scope, parks=(code, other))) for r in gas_rule(code)]
    with running(settings, rules, parks=[code, other]):
        other_gw.send({"gd1": {"safety.lel_pct": 30}})
        wait_until(lambda: _escalations(db, all_parks, both).get(other) == "last level paged", what="B's alarm paged")
        gw.send({"gd1": {"safety.lel_pct": 30}})
        wait_until(lambda: _escalations(db, policy, both).get(code) == "last level paged", what="A's alarm paged")
        pages = lambda: _pages(db, [mine, theirs])  # noqa: E731
        wait_until(lambda: len(pages()) >= 3 and all(p[2] for p in pages()), what="the pages delivered")
    # B's alarm was looked at by A's policy and left: never started, nobody paged for it
    assert _escalations(db, policy, both) == {code: "last level paged", other: "not matched"}
    assert _escalations(db, all_parks, both) == {code: "not matched", other: "last level paged"}
    assert _pages(db, [mine, theirs]) == [(mine, everyone, True), (mine, ours, True), (theirs, wide, True)]
    mailed = sorted(r for m in smtp.mails for r in m.rcpt_tos)
    assert mailed == sorted(f"{n}@park.example" for n in (ours, everyone, wide))


def _alarm(db: psycopg.Connection[Any], code: str) -> int:
    """A firing gas alarm of the park's device gd1, as the evaluator opens one."""
    pid = park_id(db, code)
    eid = db.execute("SELECT enterprise_id FROM enterprises WHERE park_id = %s AND code = 'e1'", (pid,)).fetchone()
    assert eid is not None
    did, rule = device_id(db, eid[0], "gd1"), gas_rule(code)[0]
    aid = alarm_store.open_alert(
        db, rule=rule, series_key=f"d:{did}", ids=alarm_store.SeriesIds(pid, eid[0], did, None),
        state="firing", at_ms=int(time.time() * 1000), value=30.0,
        labels={"alertname": rule.id, "severity": rule.severity, "park": code, "device": "gd1"},
    )  # fmt: skip
    assert aid is not None
    return aid


def test_the_escalations_a_parks_policy_started_on_other_parks_alarms_are_stopped_by_the_migration(
    db: psycopg.Connection[Any], park: dict[str, Any], other_park: str, platform_wide_policies: list[str]
) -> None:
    """Escalations started before the rule (as the escalator then did) of park A's policy on B's
    alarm are stopped; A's policy on A's alarm and a platform-wide policy on B's run on."""
    code = park["parks"][0]["code"]
    pid = park_id(db, code)
    level = {"levels": [{"after_min": 0, "receivers": ["mail"]}], "repeat_min": 15}
    ours = paging_store.save_policy(db, name=f"old-gas-{pid}", park_id=pid, matchers=["alertname=t-gas"],
                                    definition=level, enabled=False)  # fmt: skip
    wide = paging_store.save_policy(db, name=f"old-all-{pid}", park_id=None, matchers=["alertname=t-gas"],
                                    definition=level, enabled=False)  # fmt: skip
    platform_wide_policies.append(f"old-all-{pid}")
    mine, theirs = _alarm(db, code), _alarm(db, other_park)
    now = datetime.now(UTC)
    paging_store.start_escalations(db, rows=[(mine, ours, now), (theirs, ours, now), (theirs, wide, now)])
    migration = next(m for m in available() if m.version == "0890")
    db.execute(migration.sql)
    rows = db.execute(
        "SELECT alert_id, policy_id, done_at IS NOT NULL, done_why FROM notify_escalations"
        " WHERE policy_id = ANY(%s) ORDER BY alert_id, policy_id",
        ([ours, wide],),
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        (mine, ours, False, None),
        (theirs, ours, True, "policy of another park"),
        (theirs, wide, False, None),
    ]

"""A park instance and its region instance on one machine (two databases, two API ports): the park
submits its signed Article 21 packages, the region ranks, forged and replayed packages are refused,
a region that was down is caught up with exactly one stored revision, and each caller sees its scope."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from region.delivery import deliver_due
from region.package import Envelope, Package, new_package, sign
from region.park_package import closed_periods
from smartpark.settings import Settings
from tests.region.conftest import TwoInstances, monthly_rows, register

pytestmark = pytest.mark.integration

SUBMIT = "/api/v1/region/submissions"


def _count(db_url: str, code: str, period: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM region_submissions WHERE park_code = %s AND period = %s", (code, period)
        ).fetchone()
    return int(row[0]) if row else 0


def _deliver(t: TwoInstances, clock: Any = time.time) -> dict[str, int]:
    with psycopg.connect(t.park_db, autocommit=True) as conn:
        return deliver_due(conn, settings=t.park_settings.region, clock=clock)


def _post(t: TwoInstances, envelope: Envelope | dict[str, Any]) -> httpx.Response:
    body = envelope.to_json() if isinstance(envelope, Envelope) else envelope
    return httpx.post(t.region.url + SUBMIT, json=body, timeout=30)


def _other_package(code: str, output: float, *, revision: int = 1, period: str = "2025") -> Package:
    # the park instance's own figures but output and tax (tax: 5 % of output, as in monthly_rows)
    same = {"employees": 1200, "enterprises": 2, "exceedance_minutes": 360}
    body = {"figures": {"output_value": output, "tax": output / 20, **same}, "kind": "annual"}
    return new_package(park=code, period=period, revision=revision, body=body, clock=time.time)


def test_a_park_submits_and_the_region_ranks(two: TwoInstances, db: psycopg.Connection[Any]) -> None:
    t = two
    monthly_rows(db, t.park_id, 2025, output=10_000.0)  # 12 × 1亿 = 12亿 yuan: class 2 (Article 12: ≥ 10亿)
    queued = httpx.post(
        t.park.url + "/api/v1/region/outbox",
        json={"park_id": t.park_id, "period": "2025"},
        headers=t.headers("park_operator"),
        timeout=30,
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["revision"] == 1 and queued.json()["new"] is True
    again = httpx.post(
        t.park.url + "/api/v1/region/outbox",
        json={"park_id": t.park_id, "period": "2025"},
        headers=t.headers("park_admin"),
        timeout=30,
    )
    assert again.json()["revision"] == 1 and again.json()["new"] is False  # unchanged figures: no revision
    assert _deliver(t) == {"acknowledged": 1, "refused": 0, "deferred": 0}
    # two more parks of the region: one of the same league (class 1), one of another (class 2)
    for code, league, output in (("bt-b", "baotou", 1_600_000.0), ("od-a", "ordos", 200_000.0)):
        key = register(t.region_db, code, league)
        assert _post(t, sign(_other_package(code, output), key)).status_code == 201
    got = httpx.get(t.region.url + "/api/v1/region/results", params={"year": 2025}, headers=t.headers("admin"))
    assert got.status_code == 200, got.text
    by_code = {r["code"]: r for r in got.json()}
    mine = by_code[t.park_code]
    assert mine["figures"]["output_value"] == 120_000.0 and mine["park_class"] == 2 and mine["revision"] == 1
    # the parks differ in output and tax only (the criteria they share): highest output first
    assert [by_code[c]["rank"] for c in ("bt-b", "od-a", t.park_code)] == [1, 2, 3]
    assert mine["ranked_parks"] == 3 and mine["rewarded"] and not mine["penalised"]
    assert mine["method"]["assumption"] is True and [y["year"] for y in mine["trend"]] == list(range(2021, 2026))
    assert "2025-01" in mine["missing"]["monthly"] and mine["missing"]["annual"][:1] == ["2021"]
    # the park sees its acknowledged outbox entry
    box = httpx.get(t.park.url + "/api/v1/region/outbox", headers=t.headers("park_operator")).json()
    assert box[0]["acknowledged_at"] is not None and box[0]["period"] == "2025"


def test_the_scheduler_jobs_queue_the_closed_periods_and_deliver_them(
    two: TwoInstances, db: psycopg.Connection[Any]
) -> None:
    from region import job

    t = two
    monthly_rows(db, t.park_id, 2025, output=10_000.0)
    key_file = t.park_settings.region.key_file
    assert key_file is not None

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(t.park_db, autocommit=True)

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the park's calendar (small_model)
    done = job.queue(connect, key_file, park_codes=[t.park_code])
    # the closed months of the last twelve with figures (2025's only) and the closed year 2025
    with_figures = [p for p in closed_periods(today) if p.startswith("2025")]
    assert done == {"queued": len(with_figures), "unchanged": 0, "empty": 13 - len(with_figures)}
    assert job.queue(connect, key_file, park_codes=[t.park_code])["unchanged"] == len(with_figures)
    assert job.deliver(connect, t.park_settings.region)["acknowledged"] == len(with_figures)
    assert _count(t.region_db, t.park_code, "2025") == 1


def test_each_caller_sees_its_scope(two: TwoInstances, settings: Settings) -> None:
    t = two
    register(t.region_db, "bt-c", "baotou")
    register(t.region_db, "od-b", "ordos")

    def codes(who: str) -> set[str]:
        got = httpx.get(t.region.url + "/api/v1/region/results", params={"year": 2025}, headers=t.headers(who))
        assert got.status_code == 200, got.text
        return {r["code"] for r in got.json()}

    assert codes("admin") == {t.park_code, "bt-c", "od-b"}
    assert codes("league") == {t.park_code, "bt-c"}  # 包头: its parks
    assert codes("other_league") == {"od-b"}
    assert codes("own_park") == {t.park_code}  # a park: its own result
    url = t.region.url + "/api/v1/region/results"
    assert httpx.get(url, params={"year": 2025}).status_code == 401
    assert httpx.get(url, params={"year": 2025}, headers=t.headers("region_operator_like")).status_code == 403
    assert httpx.get(url, params={"year": 1999}, headers=t.headers("admin")).status_code == 422
    subs = httpx.get(t.region.url + SUBMIT, params={"park": "od-b"}, headers=t.headers("league"))
    assert subs.status_code == 200 and subs.json() == []  # another league's park: nothing
    # the park's own outbox: operators and admins of the park, not its enterprises
    box = t.park.url + "/api/v1/region/outbox"
    assert httpx.get(box, headers=t.headers("park_enterprise")).status_code == 403
    assert httpx.get(box).status_code == 401
    queued = httpx.post(box, json={"park_id": t.park_id, "period": "2025"}, headers=t.headers("park_enterprise"))
    assert queued.status_code == 403
    bad = httpx.post(box, json={"park_id": t.park_id, "period": "2025-13"}, headers=t.headers("park_admin"))
    assert bad.status_code == 422 and "period" in bad.text
    unended = httpx.post(box, json={"park_id": t.park_id, "period": "2099"}, headers=t.headers("park_admin"))
    assert unended.status_code == 422 and "has not ended" in unended.text
    # an instance without a key file cannot sign: it says so instead of queueing
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.region.conftest import LIMITS

    unsigned = create_app(settings, limits=LIMITS, database_url=t.park_db, static_dir=None)
    with TestClient(unsigned) as c:
        got = c.post(
            "/api/v1/region/outbox", json={"park_id": t.park_id, "period": "2025"}, headers=t.headers("park_admin")
        )
    assert got.status_code == 409 and "SMARTPARK_REGION_KEY_FILE" in got.text


def test_forged_replayed_and_edited_packages_are_refused(two: TwoInstances) -> None:
    t = two
    own = register(t.region_db, "fg-a", "baotou")
    other = register(t.region_db, "fg-b", "ordos")
    first = sign(_other_package("fg-a", 200_000.0), own)
    assert _post(t, first).status_code == 201
    # a retry of the same bytes (its answer lost): acknowledged, not stored again
    retry = _post(t, first)
    assert retry.status_code == 200 and retry.json()["status"] == "already stored"
    assert _count(t.region_db, "fg-a", "2025") == 1
    # bad signature: the bytes changed after signing
    forged = Envelope(first.package.replace(b"200000.0", b"900000.0"), first.key_id, first.signature)
    assert _post(t, forged).status_code == 403
    # signed by a stranger under the park's key id
    stranger = Ed25519PrivateKey.generate()
    pkg = _other_package("fg-a", 1.0, revision=2)
    assert _post(t, Envelope(pkg.encode(), first.key_id, stranger.sign(pkg.encode()))).status_code == 403
    # a key the region does not know
    assert _post(t, sign(pkg, stranger)).status_code == 403
    # another park's valid key signing a package for this park
    refused = _post(t, sign(_other_package("fg-a", 5.0, revision=2), other))
    assert refused.status_code == 403 and "fg-b" in refused.json()["detail"]
    # changed content under the stored revision (a late edit without a revision)
    edited = _post(t, sign(_other_package("fg-a", 250_000.0, revision=1), own))
    assert edited.status_code == 409 and "new revision" in edited.json()["detail"]
    # a replayed nonce under another revision
    replay = Package("fg-a", "2025", 2, datetime.now(UTC), json.loads(first.package)["nonce"], {"x": 1})
    assert _post(t, sign(replay, own)).status_code == 409
    # a proper revision 2 is stored beside revision 1; revision 1 again (new nonce) is refused
    assert _post(t, sign(_other_package("fg-a", 250_000.0, revision=2), own)).status_code == 201
    assert _post(t, sign(_other_package("fg-a", 260_000.0, revision=1), own)).status_code == 409
    assert _count(t.region_db, "fg-a", "2025") == 2
    # unreadable: the field named
    bad = _post(t, {**first.to_json(), "key_id": "nothex"})
    assert bad.status_code == 422 and "key_id" in bad.text
    spaced = json.dumps(json.loads(first.package), indent=1).encode()
    assert _post(t, Envelope(spaced, first.key_id, own.sign(spaced))).status_code == 422
    future = Package("fg-a", "2025", 3, datetime(2100, 1, 1, tzinfo=UTC), "a" * 32, {})
    too_early = _post(t, sign(future, own))
    assert too_early.status_code == 422 and too_early.json()["field"] == "created"
    subs = httpx.get(t.region.url + SUBMIT, params={"park": "fg-a"}, headers=t.headers("admin")).json()
    assert [s["revision"] for s in subs] == [2, 1]


def test_a_region_that_was_down_is_caught_up_with_one_revision(
    two: TwoInstances, db: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    from psycopg.rows import dict_row

    from region.delivery import submit

    t = two
    caplog.set_level(logging.DEBUG)
    monthly_rows(db, t.park_id, 2025, output=10_000.0)
    t.region.stop()
    with psycopg.connect(t.park_db, autocommit=True, row_factory=dict_row) as conn:
        row, new = submit(conn, park_code=t.park_code, period="2025-11", key=t.key)
        assert new and row["revision"] == 1
    assert _deliver(t) == {"acknowledged": 0, "refused": 0, "deferred": 1}
    assert _deliver(t) == {"acknowledged": 0, "refused": 0, "deferred": 0}  # not due again yet
    t.region.start()
    later = time.time() + 3600
    assert _deliver(t, clock=lambda: later) == {"acknowledged": 1, "refused": 0, "deferred": 0}
    assert _deliver(t, clock=lambda: later + 3600) == {"acknowledged": 0, "refused": 0, "deferred": 0}
    assert _count(t.region_db, t.park_code, "2025-11") == 1
    with psycopg.connect(t.park_db, row_factory=dict_row) as conn:
        entry = conn.execute(
            "SELECT attempts, acknowledged_at, envelope FROM region_outbox WHERE park_code = %s AND period = '2025-11'",
            (t.park_code,),
        ).fetchone()
    assert entry is not None and entry["attempts"] == 2 and entry["acknowledged_at"] is not None
    # the answer lost and the same bytes sent again: still one revision
    assert _post(t, Envelope.from_json(json.loads(bytes(entry["envelope"])))).status_code == 200
    assert _count(t.region_db, t.park_code, "2025-11") == 1
    # late data changes November: a new revision, delivered, both kept
    db.execute(
        "UPDATE indicator_monthly SET output_value = 11000 WHERE park_id = %s AND month = '2025-11-01'"
        " AND enterprise_id IS NULL",
        (t.park_id,),
    )
    with psycopg.connect(t.park_db, autocommit=True, row_factory=dict_row) as conn:
        row, new = submit(conn, park_code=t.park_code, period="2025-11", key=t.key)
    assert new and row["revision"] == 2
    assert _deliver(t)["acknowledged"] == 1 and _count(t.region_db, t.park_code, "2025-11") == 2
    # the private key is never in the log
    secret = t.park_settings.region.key_file.read_text()  # type: ignore[union-attr]
    body = "".join(secret.splitlines()[1:-1])
    assert caplog.records and body not in caplog.text and "PRIVATE" not in caplog.text


def test_a_refused_package_is_not_retried(two: TwoInstances, db: psycopg.Connection[Any]) -> None:
    """The region refuses (4xx) for good: the outbox keeps the reason and stops sending it."""
    from psycopg.rows import dict_row

    from region.delivery import submit

    t = two
    monthly_rows(db, t.park_id, 2024, output=10_000.0)
    with psycopg.connect(t.region_db, autocommit=True) as conn:  # the region forgets the park
        conn.execute("DELETE FROM region_parks WHERE park_code = %s", (t.park_code,))
    with psycopg.connect(t.park_db, autocommit=True, row_factory=dict_row) as conn:
        submit(conn, park_code=t.park_code, period="2024-06", key=t.key)
    assert _deliver(t) == {"acknowledged": 0, "refused": 1, "deferred": 0}
    assert _deliver(t, clock=lambda: time.time() + 86_400) == {"acknowledged": 0, "refused": 0, "deferred": 0}
    box = httpx.get(t.park.url + "/api/v1/region/outbox", headers=t.headers("park_admin")).json()
    entry = next(b for b in box if b["period"] == "2024-06")
    assert entry["refused_at"] is not None and "unknown park key" in entry["last_error"]

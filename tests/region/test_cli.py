"""`smartpark region …` on both instances: register and grant at the region, submit from the park."""

from __future__ import annotations

import base64
import json
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.auth import Role
from api.queries import users as uq
from region.package import public_raw
from smartpark.cli import main
from smartpark.settings import get_settings
from tests.region.conftest import TwoInstances, monthly_rows
from tests.support.factories import unique_code

pytestmark = pytest.mark.integration


def _on(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()


def test_register_grant_submit_and_results_from_the_command_line(
    two: TwoInstances,
    db: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    t = two
    request.addfinalizer(get_settings.cache_clear)  # no settings of this test outlive it
    monkeypatch.setattr("sys.argv", ["smartpark"])  # main() rewrites it; restored after the test
    # the region: a second park, a league user, results
    _on(monkeypatch, SMARTPARK_DATABASE_URL=t.region_db)
    public = base64.b64encode(public_raw(Ed25519PrivateKey.generate())).decode()
    assert main(["region", "park", "add", "cli-a", "--name", "赤峰某园区", "--league", "chifeng",
                 "--public-key", public, "--class", "1"]) == 0  # fmt: skip
    assert main(["region", "park", "add", "cli-b", "--name", "x", "--league", "chifeng", "--public-key", public]) == 1
    assert "another park" in capsys.readouterr().err
    assert main(["region", "park", "add", "cli-c", "--name", "x", "--league", "l", "--public-key", "AAAA"]) == 2
    name, operator = unique_code("chifeng"), unique_code("op")
    with psycopg.connect(t.region_db, autocommit=True) as conn:
        uq.create_user(conn, name=name, role=Role.READONLY)
        uq.create_user(conn, name=operator, role=Role.ADMIN)
    assert main(["region", "grant", name, "--league", "chifeng"]) == 0
    assert main(["region", "grant", operator, "--league", "chifeng"]) == 1  # not a readonly user
    assert main(["region", "grant", name, "--park", "nowhere"]) == 1
    capsys.readouterr()
    # the park: submit November 2025 to the region named by the settings
    _on(
        monkeypatch,
        SMARTPARK_DATABASE_URL=t.park_db,
        SMARTPARK_REGION_URL=t.region.url,
        SMARTPARK_REGION_KEY_FILE=str(t.park_settings.region.key_file),
    )
    monthly_rows(db, t.park_id, 2025, output=10_000.0)
    assert main(["region", "submit", "2025-11", "--park", t.park_code]) == 0
    out = capsys.readouterr().out
    assert "revision 1 queued" in out and '"acknowledged": 1' in out
    assert main(["region", "submit", "2025-11", "--park", t.park_code, "--no-send"]) == 0
    assert "revision 1 unchanged" in capsys.readouterr().out
    assert main(["region", "submit", "2031-01", "--park", t.park_code]) == 1  # not ended
    assert main(["region", "outbox", "--park", t.park_code]) == 0
    assert json.loads(capsys.readouterr().out)[0]["acknowledged_at"] is not None
    # the park reads its own result from the region, with its key there
    assert main(["region", "result", "--year", "2025"]) == 2  # no key at the region set
    capsys.readouterr()
    _on(monkeypatch, SMARTPARK_REGION_API_KEY=t.keys["own_park"])
    assert main(["region", "result", "--year", "2025", "--years", "1"]) == 0
    own = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in own] == [t.park_code] and own[0]["trend"][0]["year"] == 2025
    # the region's results as JSON
    _on(monkeypatch, SMARTPARK_DATABASE_URL=t.region_db)
    assert main(["region", "results", "--year", "2025", "--league", "chifeng"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in rows] == ["cli-a"] and rows[0]["designated_class"] == 1
    assert rows[0]["missing"]["annual"][-1] == "2025"  # nothing submitted by cli-a


def test_publish_and_league_receiver_from_the_command_line(
    two: TwoInstances,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    from alerting import routing_store

    t = two
    request.addfinalizer(get_settings.cache_clear)
    monkeypatch.setattr("sys.argv", ["smartpark"])
    _on(monkeypatch, SMARTPARK_DATABASE_URL=t.region_db)
    receiver = unique_code("mail")
    with psycopg.connect(t.region_db, autocommit=True) as conn:
        # a mail server nobody listens on: the league's mail fails and says why
        config = {
            "host": "127.0.0.1",
            "port": 9,
            "security": "none",
            "from": "r@region.example",
            "to": ["o@bt.example"],
        }
        routing_store.create_receiver(
            conn, name=receiver, park_id=None, categories=["energy"], channel="email", config=config, secrets={}
        )
    assert main(["region", "league-receiver", "baotou", "--receiver", "nobody"]) == 1
    assert "no email receiver" in capsys.readouterr().err
    assert main(["region", "league-receiver", "baotou", "--receiver", receiver]) == 0
    _on(monkeypatch, SMARTPARK_DATABASE_URL=t.region_db, SMARTPARK_WEBHOOK_ALLOWED_NETWORKS='["127.0.0.0/8"]')
    capsys.readouterr()
    assert main(["region", "publish", "--year", "2025"]) == 0
    out = capsys.readouterr().out
    assert "published 2025" in out and json.loads(out[out.index("{") :]) == {
        "mail": {"sent": 0, "failed": 1, "no_receiver": 0}
    }
    with psycopg.connect(t.region_db) as conn:
        row = conn.execute("SELECT league, error FROM region_publication_mail").fetchone()
    assert row is not None and row[0] == "baotou" and receiver in row[1]

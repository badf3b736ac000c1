"""The region sends its results (Article 22: "reports the results to each league/city"): a park
instance and its region on one machine, a real local SMTP server for the league's mail. The
region publishes a year frozen (a later revision does not change what was sent), each league/city
gets its parks' rows by email, and the park's outbox job fetches its own published result, which
its API then shows to the park's people only."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import psycopg
import pytest

from alerting import routing_store
from benchmarks.paging_endpoints import SmtpServer, self_signed
from region import job, my_result, published
from region.package import new_package, sign
from tests.region.conftest import TwoInstances, monthly_rows, queue_annual, register
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

PUBLISHED = "/api/v1/region/published"
MY_RESULT = "/api/v1/region/my-result"
SUBMIT = "/api/v1/region/submissions"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(*self_signed(tmp_path), security="starttls")
    yield server
    server.close()


def _other(t: TwoInstances, code: str, key: Any, output: float, revision: int = 1) -> None:
    same = {"employees": 1200, "enterprises": 2, "exceedance_minutes": 360}
    body = {"figures": {"output_value": output, "tax": output / 20, **same}, "kind": "annual"}
    package = new_package(park=code, period="2025", revision=revision, body=body, clock=time.time)
    got = httpx.post(t.region.url + SUBMIT, json=sign(package, key).to_json(), timeout=30)
    assert got.status_code == 201, got.text


def _outbox_job(t: TwoInstances) -> dict[str, int]:
    settings = t.park_settings.region.model_copy(update={"api_key": t.keys["own_park"]})

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(t.park_db, autocommit=True)

    return job.deliver(connect, settings)


def _league_receiver(t: TwoInstances, smtp: SmtpServer, league: str, to: str) -> None:
    with psycopg.connect(t.region_db, autocommit=True) as conn:
        r = routing_store.create_receiver(
            conn,
            name=f"league-{league}",
            park_id=None,
            categories=["energy"],
            channel="email",
            config=smtp.receiver_config([to]),
            secrets={"password": smtp.password},
        )
        published.add_league_receiver(conn, league=league, receiver_id=r)


def test_the_region_publishes_mails_each_league_and_the_park_fetches_its_own(
    two: TwoInstances, db: psycopg.Connection[Any], smtp: SmtpServer
) -> None:
    t = two
    monthly_rows(db, t.park_id, 2025, output=10_000.0)  # 12亿 yuan: class 2 (Article 12: ≥ 10亿)
    assert queue_annual(t, "park_operator").status_code == 202
    bt_b = register(t.region_db, "bt-b", "baotou")
    _other(t, "bt-b", bt_b, 1_600_000.0)
    _other(t, "od-a", register(t.region_db, "od-a", "ordos"), 200_000.0)
    _league_receiver(t, smtp, "baotou", "office@baotou.example")
    # acknowledged, but nothing published yet: the park keeps nothing, and waits before asking again
    assert _outbox_job(t) == {"acknowledged": 1, "refused": 0, "deferred": 0, "results_kept": 0}
    with psycopg.connect(t.park_db, autocommit=True) as conn:
        assert my_result.years_to_fetch(conn, now=datetime.now(UTC)) == []
        conn.execute("UPDATE region_my_results SET fetched_at = fetched_at - interval '2 hours'")  # an hour later

    made = httpx.post(t.region.url + PUBLISHED, json={"year": 2025}, headers=t.headers("admin"), timeout=60)
    assert made.status_code == 201, made.text
    pub = made.json()
    assert pub["mail"] == {"sent": 1, "failed": 0, "no_receiver": 1}  # 鄂尔多斯 has no receiver registered
    assert [r["code"] for r in sorted(pub["results"], key=lambda r: r["rank"])] == ["bt-b", "od-a", t.park_code]
    assert pub["method"]["assumption"] is True and sum(c["weight"] for c in pub["method"]["criteria"].values()) > 0
    assert {r["code"]: r["revision"] for r in pub["results"]} == {"bt-b": 1, "od-a": 1, t.park_code: 1}

    # 包头's office gets its two parks (ranked among all three), as XLSX and CSV
    mail = wait_until(lambda: smtp.mails, timeout=10, what="the league's mail")[0]
    assert mail.rcpt_tos == ["office@baotou.example"] and "2025" in mail.message["Subject"]
    files = {p.get_filename(): p.get_payload(decode=True) for p in mail.message.iter_attachments()}
    assert sorted(name.rsplit(".", 1)[1] for name in files) == ["csv", "xlsx"]
    text = next(v for k, v in files.items() if k.endswith(".csv"))
    assert text.startswith(b"\xef\xbb\xbf")  # the byte-order mark: Excel reads the Chinese headers
    text = text.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["园区编码"], r["排名"], r["盟市"]) for r in rows] == [
        ("bt-b", "1", "baotou"),
        (t.park_code, "3", "baotou"),
    ]
    assert rows[0]["奖励"] == "是"  # top 10 (Article 22)

    # frozen: a later revision changes the live ranking, not what was published
    _other(t, "bt-b", bt_b, 110_000.0, revision=2)  # still class 2, now below the park
    live = httpx.get(t.region.url + "/api/v1/region/results", params={"year": 2025}, headers=t.headers("admin"))
    assert {r["code"]: r["rank"] for r in live.json()}["bt-b"] == 3
    again = httpx.get(t.region.url + PUBLISHED, params={"year": 2025}, headers=t.headers("admin")).json()
    assert {r["code"]: r["rank"] for r in again["results"]}["bt-b"] == 1
    assert again["publication_id"] == pub["publication_id"]

    # the park's outbox job fetches its own result; its page/API shows it
    assert _outbox_job(t)["results_kept"] == 1
    mine = httpx.get(t.park.url + MY_RESULT, params={"park_id": t.park_id}, headers=t.headers("park_operator"))
    assert mine.status_code == 200, mine.text
    [row] = mine.json()
    assert row["year"] == 2025 and row["publication_id"] == pub["publication_id"]
    assert row["result"]["rank"] == 3 and row["result"]["code"] == t.park_code
    assert row["result"]["method_published"]["criteria"] == pub["method"]["criteria"]
    assert _outbox_job(t)["results_kept"] == 0  # fetched: not asked again within the hour


def test_publication_scope_and_refusals(two: TwoInstances, db: psycopg.Connection[Any]) -> None:
    t = two
    register(t.region_db, "bt-c", "baotou")
    register(t.region_db, "od-b", "ordos")
    url = t.region.url + PUBLISHED
    assert httpx.get(url, params={"year": 2025}, headers=t.headers("admin")).status_code == 404  # not published
    assert httpx.post(url, json={"year": 2025}, headers=t.headers("league")).status_code == 403
    assert httpx.post(url, json={"year": 2025}).status_code == 401
    bad = httpx.post(url, json={"year": 1999}, headers=t.headers("admin"))
    assert bad.status_code == 422 and "year" in bad.text
    made = httpx.post(url, json={"year": 2025}, headers=t.headers("admin"), timeout=60)
    assert made.status_code == 201 and made.json()["mail"] == {"sent": 0, "failed": 0, "no_receiver": 2}

    def codes(who: str) -> set[str]:
        got = httpx.get(url, params={"year": 2025}, headers=t.headers(who))
        assert got.status_code == 200, got.text
        return {r["code"] for r in got.json()["results"]}

    assert codes("admin") == {t.park_code, "bt-c", "od-b"}
    assert codes("league") == {t.park_code, "bt-c"}
    assert codes("other_league") == {"od-b"}
    assert codes("own_park") == {t.park_code}
    assert httpx.get(url, params={"year": 2025}, headers=t.headers("region_operator_like")).status_code == 403
    assert httpx.get(url, params={"year": 2025}).status_code == 401
    # the park instance: its people read its result; enterprises may not; another park is not there
    mine = t.park.url + MY_RESULT
    ok = httpx.get(mine, params={"park_id": t.park_id}, headers=t.headers("park_operator"))
    assert ok.status_code == 200 and ok.json() == []  # nothing fetched yet
    assert httpx.get(mine, params={"park_id": t.park_id}, headers=t.headers("park_enterprise")).status_code == 403
    assert httpx.get(mine, params={"park_id": t.park_id}).status_code == 401
    other = httpx.get(mine, params={"park_id": t.park_id + 1000}, headers=t.headers("park_operator"))
    assert other.status_code == 404
    wrong = httpx.get(mine, params={"park_id": t.park_id, "year": 1999}, headers=t.headers("park_operator"))
    assert wrong.status_code == 422 and "year" in wrong.text


def test_the_region_view_exports_as_xlsx_and_csv_within_scope(two: TwoInstances) -> None:
    t = two
    for code, league, output in (("bt-x", "baotou", 1_600_000.0), ("od-x", "ordos", 200_000.0)):
        _other(t, code, register(t.region_db, code, league), output)
    url = t.region.url + "/api/v1/region/results/export"
    xlsx = httpx.get(url, params={"year": 2025}, headers=t.headers("league"), timeout=60)
    assert xlsx.status_code == 200, xlsx.text
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''2025" in xlsx.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    values = [[c.value for c in line] for line in sheet.iter_rows()]
    header = next(v for v in values if v and v[0] == "园区编码")
    assert {"排名", "当年类别", "奖励", "历年排名", "缺报年报"} <= set(header)
    body = values[values.index(header) + 1 :]
    assert [(v[0], v[header.index("排名")]) for v in body if v[0]] == [("bt-x", 1), (t.park_code, None)]
    got = httpx.get(url, params={"year": 2025, "format": "csv"}, headers=t.headers("other_league"), timeout=60)
    assert got.status_code == 200 and got.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert [(r["园区编码"], r["排名"], r["当年类别"]) for r in rows] == [("od-x", "2", "2")]  # ranked among all
    assert httpx.get(url, params={"year": 2025}).status_code == 401
    assert httpx.get(url, params={"year": 2025}, headers=t.headers("region_operator_like")).status_code == 403
    bad = httpx.get(url, params={"year": 2025, "format": "pdf"}, headers=t.headers("admin"))
    assert bad.status_code == 422 and "format" in bad.text

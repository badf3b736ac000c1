"""What the ops-centre page needs from the API's serving: compression, vendored docs, names."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from smartpark.catalogue import METRICS, NAMES
from smartpark.settings import ApiSettings, Settings
from tests.api.conftest import Tenancy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(settings: Settings, db_url: str, api_limits: ApiSettings) -> Iterator[TestClient]:
    """The app with the page's static files, as `smartpark api` serves it."""
    from api.app import create_app

    with TestClient(create_app(settings, limits=api_limits, database_url=db_url)) as c:
        yield c


def test_every_metric_has_a_chinese_and_an_english_name() -> None:
    assert {m.code for m in METRICS} == set(NAMES)
    for zh, en in NAMES.values():
        assert zh and en and not any("a" <= c.lower() <= "z" for c in zh.replace("pH", "")), zh


def test_metrics_carry_both_names(client: TestClient, tenancy: Tenancy) -> None:
    r = client.get("/api/v1/metrics", headers={"X-API-Key": tenancy.keys["operator"]})
    assert r.status_code == 200
    coal = next(m for m in r.json() if m["code"] == "coal.mass_t")
    assert (coal["name_zh"], coal["name_en"], coal["unit"]) == ("原煤用量", "Raw coal mass", "t")


def test_static_files_and_answers_are_gzipped(site: TestClient, tenancy: Tenancy) -> None:
    r = site.get("/vendor/echarts/echarts.min.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    # httpx decodes; the wire size is what the raw stream carried.
    wire = int(r.headers.get("content-length") or 0) or len(gzip.compress(r.content))
    assert wire < len(r.content) / 2
    api = site.get("/api/v1/metrics", headers={"X-API-Key": tenancy.keys["operator"], "Accept-Encoding": "gzip"})
    assert api.headers["content-encoding"] == "gzip"
    plain = site.get("/api/v1/metrics", headers={"X-API-Key": tenancy.keys["operator"], "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == api.json()
    assert plain.headers["vary"] == api.headers["vary"] == "Accept-Encoding"


def test_browsers_get_brotli(site: TestClient, tenancy: Tenancy) -> None:
    chromium = "gzip, deflate, br, zstd"
    js = site.get("/vendor/echarts/echarts.min.js", headers={"Accept-Encoding": chromium})
    assert js.headers["content-encoding"] == "br" and js.headers["vary"] == "Accept-Encoding"
    gz = site.get("/vendor/echarts/echarts.min.js", headers={"Accept-Encoding": "gzip"})
    assert js.content == gz.content  # httpx decoded both: the same file

    def sizes() -> tuple[int, int]:
        return tuple(  # type: ignore[return-value]
            int(site.get("/vendor/echarts/echarts.min.js", headers={"Accept-Encoding": a}).headers["content-length"])
            for a in (chromium, "gzip")
        )

    # once the kept copies are made (a background pass), brotli's is the smaller
    wait_until(lambda: (lambda br, gz: br < gz * 0.9)(*sizes()), timeout=60, what="brotli copy of ECharts")
    api = site.get("/api/v1/metrics", headers={"X-API-Key": tenancy.keys["operator"], "Accept-Encoding": chromium})
    assert api.headers["content-encoding"] == "br" and api.headers["vary"] == "Accept-Encoding"


def test_api_docs_are_served_from_vendored_files(site: TestClient) -> None:
    page = site.get("/docs/")
    assert page.status_code == 200
    assert "../vendor/swagger-ui/swagger-ui-bundle.js" in page.text and "cdn" not in page.text.lower()
    assert "<script>" not in page.text  # no inline script: a strict CSP (script-src 'self') holds
    assert site.get("/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert site.get("/vendor/swagger-ui/LICENSE").status_code == 200
    moved = site.get("/api/v1/docs", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/docs/"

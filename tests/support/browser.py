"""The ops-centre page's browser tests' shared parts: the running platform (as `smartpark up`
runs it, with a park of its own and forty days of history), and helpers to drive and measure the
page in headless Chromium. The fixtures are in tests/dashboards/conftest.py.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from benchmarks.page import CHROMIUM as CHROMIUM  # the browser every page test and benchmark drives
from benchmarks.page import SIGN_IN
from operations.plan import Component, parse_key
from operations.preparation import run_step, wait_for_ingest
from operations.supervisor import Supervisor
from smartpark.settings import Settings
from tests.support.factories import small_model, unique_code
from tests.support.ports import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SHOTS = ARTIFACTS / "screenshots"
DOC_SHOTS = ROOT / "docs" / "screenshots"
VIEWPORTS = ((1366, 768), (1920, 1080))
BROWSER_ZONE = "Europe/London"  # not the park's zone, on purpose
MAX_VIEW_CALLS = 8
MAX_COLD_BYTES = 500 * 1024
# The page's sign-in: the token exchange and the park context, the same for every view (the
# page benchmark counts it apart from each view's own calls).
SIGN_IN_CALLS = SIGN_IN
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HISTORY_DAYS = 40
VIEWS = ("overview", "plan", "energy", "environment", "safety", "enterprise", "regulator")


@contextmanager
def checked_page(browser: Any, **context: Any) -> Iterator[Any]:
    """A page in a context of its own (``context``: Playwright's new_context options) that fails
    the test on a JavaScript error or anything the API's Content-Security-Policy blocks."""
    ctx = browser.new_context(**context)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _indicators_of_the_history(settings: Settings, park_id: int, zone: str, logs: Path) -> None:
    """Scheduler passes until every whole day of the history has the park's indicators (a loaded
    broker may still be delivering the back-fill when ingest first looks quiet, and a day missing
    from the window the page compares would read as an incomplete month)."""
    from zoneinfo import ZoneInfo

    days = 0
    for attempt in range(12):
        run_step("rollups", ("scheduler", "--once"), log_dir=logs, say=_log)
        today = datetime.now(ZoneInfo(zone)).date()
        with psycopg.connect(settings.database_url or "") as conn:
            row = conn.execute(
                "SELECT count(*) FROM indicator_daily WHERE park_id = %s AND enterprise_id IS NULL"
                " AND readings > 0 AND day >= %s AND day < %s",
                (park_id, today - timedelta(days=HISTORY_DAYS - 1), today),
            ).fetchone()
        days = row[0] if row else 0
        if days == HISTORY_DAYS - 1:
            return
        _log(f"history: {days} whole days with indicators after pass {attempt + 1}; waiting for ingest")
        time.sleep(5)
    raise AssertionError(f"only {days} of {HISTORY_DAYS - 1} whole days of history have indicators")


@dataclass(frozen=True, slots=True)
class Platform:
    url: str
    park_code: str
    park_id: int
    enterprise_ids: dict[str, int]
    admin_key: str
    enterprise_key: str  # user of enterprise e2
    regulator_key: str  # environment bureau of the park
    model_path: Path
    model: dict[str, Any]


def _wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as res:
                if res.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {timeout_s} s")
        time.sleep(0.5)


def _log(text: str) -> None:
    print(f"[platform] {text}", flush=True)


def add_user(step: str, user: str, role: str, *scope: str, logs: Path) -> str:
    """A user added with `smartpark users add`, as an admin adds one; its API key."""
    out = run_step(step, ("users", "add", user, "--role", role, *scope), log_dir=logs, say=_log, capture=True)
    key = parse_key(out)
    assert key, f"no API key for {user}"
    return key


@contextmanager
def api_alone(log_dir: Path) -> Iterator[str]:
    """The API alone (a supervisor child, as `smartpark up` runs it) on a free port, over the
    run's database: its URL, once it answers."""
    port = free_port()
    saved = os.environ.get("SMARTPARK_API_PORT")
    os.environ["SMARTPARK_API_PORT"] = str(port)
    sup = Supervisor([Component("api", ("api",))], log_dir=log_dir)
    sup.start_all()
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_http(url + "healthz", 60)
        yield url
    finally:
        sup.stop_all()
        if saved is None:
            os.environ.pop("SMARTPARK_API_PORT", None)
        else:
            os.environ["SMARTPARK_API_PORT"] = saved


def run_platform(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    code = unique_code("ui")
    model = small_model(code)
    tmp = tmp_path_factory.mktemp("platform")
    model_path = tmp / "park.yaml"
    model_path.write_text(yaml.safe_dump(model, allow_unicode=True))
    logs = ARTIFACTS / "logs" / code
    # Groups of their own, so this platform's ingest and alerting take nothing from other runs
    # sharing the broker.
    env = {
        "SMARTPARK_API_PORT": str(free_port()),
        "SMARTPARK_INGEST_SHARE_GROUP": f"ingest-{code}",
        "SMARTPARK_ALERTING_SHARE_GROUP": f"alerting-{code}",
        # Forty days of history (below): last month complete enough for a month-over-month.
        "SMARTPARK_ACCEPT_PAST_DAYS": "45",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    run_step("registry", ("registry", "load", str(model_path)), log_dir=logs, say=_log, attempts=3)
    run_step("rules", ("alerting", "load"), log_dir=logs, say=_log)
    admin = add_user("admin", f"{code}-admin", "admin", logs=logs)
    ent = add_user("enterprise", f"{code}-e2", "enterprise", "--park", code, "--enterprise", "e2", logs=logs)
    reg = add_user("regulator", f"{code}-env", "regulator", "--park", code, "--bureau", "environment", logs=logs)
    with psycopg.connect(settings.database_url or "") as conn:
        park_id = conn.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()[0]
        ents = dict(
            conn.execute("SELECT code, enterprise_id FROM enterprises WHERE park_id = %s", (park_id,)).fetchall()
        )
    sup = Supervisor(
        [
            Component("ingest", ("ingest", "--workers", "1", "--park", code)),
            Component("alerting", ("alerting", "--client-id", f"alerting-{code}")),
            Component("scheduler", ("scheduler",)),
            Component("api", ("api",)),
        ],
        log_dir=logs,
    )
    # Live data of e2 once its history is in (the back-fill publishes as the same gateways, and
    # the broker allows one connection per gateway); e1 (gas detector) is driven by the leak test.
    live = Supervisor(
        [Component("simulator", ("sim", "run", "--model", str(model_path), "--enterprise", "e2", "--interval", "2"))],
        log_dir=logs,
    )
    sup.start_all()
    try:
        url = f"http://127.0.0.1:{env['SMARTPARK_API_PORT']}/"
        _wait_http(url + "healthz", 60)
        # Forty days of history at 15-minute readings, so last month is complete and every panel
        # has something to show; then one scheduler pass for its rollups and indicators.
        run_step(
            "history",
            ("sim", "backfill", "--model", str(model_path), "--days", str(HISTORY_DAYS), "--interval", "900"),
            log_dir=logs,
            say=_log,
        )
        wait_for_ingest(settings, _log)
        _indicators_of_the_history(settings, park_id, model["parks"][0]["timezone"], logs)
        live.start_all()
        yield Platform(
            url=url,
            park_code=code,
            park_id=park_id,
            enterprise_ids=ents,
            admin_key=admin,
            enterprise_key=ent,
            regulator_key=reg,
            model_path=model_path,
            model=model,
        )
    finally:
        live.stop_all()
        sup.stop_all()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, for a fixture to share."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def wait_js(page: Any, expression: str, timeout_s: float) -> Any:
    """What page.wait_for_function does, from outside: it would compile its predicate in the page
    (an eval, which the page's CSP forbids); page.evaluate goes through the DevTools protocol."""
    return wait_until(lambda: page.evaluate(expression), timeout=timeout_s, what=expression, poll=0.2)


def login(page: Any, platform: Platform, key: str) -> None:
    page.goto(f"{platform.url}?park={platform.park_code}")  # an admin sees every park of the database
    page.fill("#api-key", key)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#view[data-ready='1']", timeout=60_000)


def show(page: Any, platform: Platform, view: str) -> None:
    page.goto(f"{platform.url}#/{view}")
    page.wait_for_selector(f"#view[data-view='{view}'][data-ready='1']", timeout=60_000)


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def api(platform: Platform, key: str, path: str) -> tuple[int, Any]:
    req = urllib.request.Request(platform.url + "api/v1" + path, headers={"X-API-Key": key})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _number(text: str) -> float:
    m = re.search(r"-?[\d,]+(?:\.\d+)?", text)
    assert m, f"no number in {text!r}"
    return float(m.group(0).replace(",", ""))


FILLED = """() => {
  const v = document.querySelector('#view');
  if (v.dataset.ready !== '1' || v.querySelector('.empty:not([data-empty])')) return false;
  if (v.textContent.includes('加载中') || v.textContent.includes('Loading')) return false;
  return [...v.querySelectorAll('.chart')].every((c) => c.dataset.empty === '0' || c.dataset.empty === '1');
}"""

OVERFLOW = """() => {
  const bad = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '');
  if (document.documentElement.scrollWidth > innerWidth + 1) bad.push('page is wider than the window');
  for (const panel of document.querySelectorAll('#view .panel, header.top, footer.bottom')) {
    const p = panel.getBoundingClientRect();
    if (panel.scrollWidth > panel.clientWidth + 1) bad.push(name(panel) + ' scrolls sideways');
    for (const el of panel.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      if (r.left < p.left - 1 || r.right > p.right + 1) {
        bad.push(name(el) + ' outside ' + name(panel) + ': ' + el.textContent.slice(0, 40));
      }
      const cs = getComputedStyle(el);
      const clips = ['auto', 'hidden', 'scroll'].includes(cs.overflowX) && !el.closest('.chart');
      if (clips && el.scrollWidth > el.clientWidth + 1) {
        bad.push(name(el) + ' hides content sideways: ' + el.textContent.slice(0, 40));
      }
    }
  }
  // A control whose label wraps ("Sign/out") is broken, not just tight.
  for (const el of document.querySelectorAll('header.top button, header.top a, header.top h1, .kpi .sub > span')) {
    if (!el.offsetParent) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (lines.size > 1) bad.push(name(el) + ' wraps: ' + el.textContent.trim());
  }
  return bad;
}"""


def _latin_words(text: str, allowed: set[str]) -> list[str]:
    """Words in Latin letters (two or more) that are not units: English or codes on a Chinese page."""
    return sorted({w for w in re.findall(r"[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9]", text) if not _allowed(w, allowed)})


def _allowed(word: str, allowed: set[str]) -> bool:
    letters = re.findall(r"[A-Za-z]+", word)
    return all(part in allowed or len(part) < 2 for part in letters)


def _units(platform: Platform) -> set[str]:
    status, metrics = api(platform, platform.admin_key, "/metrics")
    assert status == 200
    words = {w for m in metrics for w in re.findall(r"[A-Za-z]+", m["unit"])}
    # International symbols a Chinese page writes as they are; UTC labels the time zone.
    return words | {"UTC", "kW", "EN"}


@dataclass
class Traffic:
    calls: list[str]
    bytes: int

    def reset(self) -> None:
        self.calls.clear()
        self.bytes = 0


def _watch(page: Any) -> Traffic:
    traffic = Traffic([], 0)

    def done(request: Any) -> None:
        try:
            sizes = request.sizes()
        except Exception:  # a request torn down with its page
            return
        traffic.bytes += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if "/api/v1/" in request.url and request.resource_type in ("fetch", "xhr"):
            traffic.calls.append(request.url.split("/api/v1", 1)[1].split("?")[0])

    page.on("requestfinished", done)
    return traffic


def _park_now(platform: Platform) -> datetime:
    from zoneinfo import ZoneInfo

    zone = platform.model["parks"][0]["timezone"]
    return datetime.now(ZoneInfo(zone))


def _cold_page(browser: Any, platform: Platform, width: int, height: int, lang: str) -> tuple[Any, Any, list[str]]:
    """A new browser context (empty cache) in London, signed in through the tab's stored key."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, timezone_id=BROWSER_ZONE, locale="en-GB")
    ctx.add_init_script(
        f"localStorage.setItem('smartpark.lang', '{lang}');"
        f"sessionStorage.setItem('smartpark.apiKey', '{platform.admin_key}');"
        f"localStorage.setItem('smartpark.park', '{platform.park_code}');"
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return ctx, page, errors


def _display_key(platform: Platform, name: str) -> str:
    """A read-only display key bound to the park, issued as an admin does it."""
    park = platform.park_code
    return add_user(name, f"{park}-{name}", "readonly", "--park", park, logs=ARTIFACTS / "logs" / park)

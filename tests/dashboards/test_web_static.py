"""The ops-centre page as files: what it loads exists, every label has both languages, the chart
library is vendored with its licence (so the page works with no internet). That the modules run
is checked in Chromium by test_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "dashboards" / "web"
JS = sorted([*(WEB / "js").rglob("*.js"), *(WEB / "screen").glob("*.js")])


def _dictionaries() -> dict[str, dict[str, str]]:
    """The label dictionaries of i18n.js and of the modules adding to them (addLabels): one
    `lang: { "key": "text", ... }` block per language."""
    out: dict[str, dict[str, str]] = {}
    more = [(p.name, "addLabels({", "\n});") for p in sorted((WEB / "js").glob("i18n-*.js"))]
    for name, start, end in (("i18n.js", "const DICT = {", "\n};"), *more):
        source = (WEB / "js" / name).read_text()
        body = source[source.index(start) : source.index(end)]
        for lang, block in re.findall(r"^  (\w+): \{(.*?)^  \},", body, re.M | re.S):
            out.setdefault(lang, {}).update(re.findall(r'"([a-z_.]+)": "((?:[^"\\]|\\.)*)"', block))
    return out


def test_index_references_exist() -> None:
    for page in (WEB / "index.html", WEB / "screen" / "index.html", WEB / "incident" / "index.html",
                 WEB / "docs" / "index.html"):  # fmt: skip
        html = page.read_text()
        refs = [r for r in re.findall(r'(?:src|href)="([^"#]+)"', html) if not r.startswith("data:")]
        assert refs, f"{page.name} references nothing"
        for ref in refs:
            target = (page.parent / ref).resolve()
            assert target.is_file() or (target / "index.html").is_file(), f"{page} references missing {ref!r}"


def test_module_imports_resolve() -> None:
    for path in JS:
        for spec in re.findall(r'(?:from|import\()\s*"(\.{1,2}/[^"]+)"', path.read_text()):
            assert (path.parent / spec).resolve().is_file(), f"{path.name} imports missing {spec!r}"


def test_echarts_vendored_with_licence_and_pinned_version() -> None:
    vendor = WEB / "vendor" / "echarts"
    assert "Apache License" in (vendor / "LICENSE").read_text()
    assert (vendor / "NOTICE").is_file()
    version = (vendor / "VERSION").read_text()
    assert re.search(r"echarts \d+\.\d+\.\d+", version), version
    pinned = re.search(r"\d+\.\d+\.\d+", version)
    assert pinned is not None
    head = (vendor / "echarts.min.js").read_text(errors="replace")
    assert f'"{pinned.group(0)}"' in head, "echarts.min.js is not the version VERSION names"


def test_every_label_in_both_languages() -> None:
    dicts = _dictionaries()
    assert set(dicts) == {"zh", "en"}
    assert set(dicts["zh"]) == set(dicts["en"]), set(dicts["zh"]) ^ set(dicts["en"])
    used: set[str] = set()
    for path in [*JS, WEB / "index.html"]:
        text = path.read_text()
        used |= set(re.findall(r'\bt\("([a-z_]+\.[a-z_]+)"\)', text))
        used |= set(re.findall(r'data-i18n(?:-title)?="([^"]+)"', text))
    missing = sorted(k for k in used if k not in dicts["zh"])
    assert not missing, f"labels used but not defined: {missing}"
    # Chinese is the default language and its labels are Chinese.
    assert re.search(r"[\u4e00-\u9fff]", dicts["zh"]["app.title"])


def test_no_inline_script_or_style_so_a_strict_csp_holds() -> None:
    """script-src 'self' and style-src 'self' (no 'unsafe-inline'): every script and style is a file."""
    pages = [WEB / "index.html", WEB / "docs" / "index.html", WEB / "screen" / "index.html"]
    for path in pages:
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"{path.name}: inline <script>"
        assert "<style" not in html and " style=" not in html, f"{path.name}: inline style"
        assert not re.search(r"\son[a-z]+=", html), f"{path.name}: inline event handler"
        assert "http://" not in html and "https://" not in html, f"{path.name}: loads from elsewhere"
    for path in JS:
        text = path.read_text()
        assert "style=" not in text, f"{path.name} writes a style attribute into HTML"
        assert not re.search(r"\beval\(|new Function\(", text), f"{path.name} evaluates strings"


def test_swagger_ui_vendored_with_its_licence() -> None:
    vendor = WEB / "vendor" / "swagger-ui"
    assert "Apache License" in (vendor / "LICENSE").read_text()
    version = (vendor / "VERSION").read_text()
    pinned = re.search(r"swagger-ui-dist (\d+\.\d+\.\d+)", version)
    assert pinned, version
    assert (vendor / "swagger-ui-bundle.js").stat().st_size > 100_000
    assert (WEB / "docs" / "docs.js").is_file()


def test_each_page_loads_its_bundle_and_no_module_one_by_one() -> None:
    """A cold load fetches one script, not the forty modules import by import (each round trip on
    a loaded server cost the cold load tens of ms: docs/benchmarks.md); test_web_build.py checks
    the bundles are what the modules build."""
    for page, bundle in (("index.html", "bundle/page.js"), ("screen/index.html", "../bundle/screen.js"),
                         ("incident/index.html", "../bundle/incident.js")):  # fmt: skip
        html = (WEB / page).read_text()
        scripts = re.findall(r'<script type="module" src="([^"]+)"></script>', html)
        assert scripts == [bundle], (page, scripts)
        assert "modulepreload" not in html, page


def test_a_view_says_it_draws_charts_exactly_when_it_makes_one() -> None:
    """main.js fetches ECharts beside sign-in for a view that says so: a view that draws charts
    without saying it waits for the bytes after its answers; one that says it wrongly costs a
    view without charts 200 KB."""
    for path in sorted((WEB / "js" / "views").glob("*.js")):
        text = path.read_text()
        draws = bool(re.search(r"\bchart\(|\bdrawPlan\(", text))
        says = "export const drawsCharts = true;" in text
        assert draws == says, f"{path.name}: draws charts {draws}, says so {says}"

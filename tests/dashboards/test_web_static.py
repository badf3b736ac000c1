"""The ops-centre page as files: what it loads exists, every label has both languages, the chart
library is vendored with its licence (so the page works with no internet). That the modules run
is checked in Chromium by test_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "dashboards" / "web"
JS = sorted((WEB / "js").rglob("*.js"))


def _dictionaries() -> dict[str, dict[str, str]]:
    """The label dictionaries of i18n.js: one `lang: { "key": "text", ... }` block per language."""
    source = (WEB / "js" / "i18n.js").read_text()
    body = source[source.index("const DICT = {") : source.index("\n};")]
    out: dict[str, dict[str, str]] = {}
    for lang, block in re.findall(r"^  (\w+): \{(.*?)^  \},", body, re.M | re.S):
        out[lang] = dict(re.findall(r'"([a-z_.]+)": "((?:[^"\\]|\\.)*)"', block))
    return out


def test_index_references_exist() -> None:
    html = (WEB / "index.html").read_text()
    refs = [r for r in re.findall(r'(?:src|href)="([^"#]+)"', html) if not r.startswith("data:")]
    assert refs, "index.html references nothing"
    for ref in refs:
        assert (WEB / ref).is_file(), f"index.html references missing {ref!r}"


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

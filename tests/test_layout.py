"""Package boundaries that the layout promises, read from the import statements.

No product package imports the benchmarks (they are not in the wheel); the HJ 212 protocol
package does no I/O and depends on nothing of the platform; the simulator does not reach into
the ingest service.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = (
    "smartpark", "hj212", "ingest", "forwarding", "aggregation", "alerting", "api", "device_sim", "dashboards",
    "storage", "region", "emergency", "energy", "reports",
)  # fmt: skip
# Modules that would give the protocol package I/O or a platform dependency.
NOT_IN_HJ212 = {
    "socket", "asyncio", "selectors", "ssl", "subprocess", "threading", "multiprocessing", "os", "io",
    "pathlib", "shutil", "urllib", "http", "psycopg", "psycopg_pool", "paho", "httpx", "logging",
    "smartpark", "ingest", "forwarding", "aggregation", "alerting", "api", "device_sim", "dashboards", "benchmarks",
    "storage",
}  # fmt: skip


def imported_roots(package: str) -> dict[str, set[str]]:
    """file -> the top-level names it imports (absolute imports; relative ones stay inside)."""
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        roots: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = roots
    return out


@pytest.mark.parametrize("package", PRODUCT)
def test_no_product_package_imports_the_benchmarks(package: str) -> None:
    offenders = {f for f, roots in imported_roots(package).items() if "benchmarks" in roots}
    assert not offenders


def test_the_hj212_package_does_no_io_and_needs_nothing_of_the_platform() -> None:
    found = {f: roots & NOT_IN_HJ212 for f, roots in imported_roots("hj212").items()}
    assert len(found) >= 8  # the protocol modules are there
    assert {f: r for f, r in found.items() if r} == {}


def test_the_simulator_does_not_import_the_ingest_service() -> None:
    offenders = {f for f, roots in imported_roots("device_sim").items() if "ingest" in roots}
    assert not offenders


def test_alerting_does_not_depend_on_the_simulator() -> None:
    offenders = {f for f, roots in imported_roots("alerting").items() if "device_sim" in roots}
    assert not offenders


def test_the_product_packages_no_longer_hold_benchmark_modules() -> None:
    stray = [str(p.relative_to(ROOT)) for pkg in PRODUCT for p in (ROOT / pkg).rglob("bench*.py")]
    stray += [str(p.relative_to(ROOT)) for p in (ROOT / "alerting").glob("sink.py")]
    assert stray == []

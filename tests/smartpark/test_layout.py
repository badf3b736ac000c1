"""The package layout holds: no import circle among the project's modules or packages, and the
runtime never imports the operations package (local services, supervisor, demo preparation).

Read from the source (the AST of every module, imports inside functions included), so nothing is
imported and a lazy import cannot hide a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "smartpark",
    "hj212",
    "operations",
    "ingest",
    "aggregation",
    "alerting",
    "api",
    "device_sim",
    "dashboards",
    "benchmarks",
)
RUNTIME = ("smartpark", "ingest", "aggregation", "alerting", "api", "device_sim", "hj212")


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            parts = list(file.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = file
    return modules


def imports_of(module: str, file: Path, modules: Mapping[str, Path]) -> set[str]:
    """The project modules that ``module`` imports anywhere in its body."""
    found: set[str] = set()
    package = module.split(".") if file.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    found.add(f"{base}.{alias.name}")
                elif base in modules:
                    found.add(base)
    found.discard(module)
    return found


def circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one node (Tarjan), each one import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            part = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                part.append(member)
                if member == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _module_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, file, modules) for name, file in modules.items()}


def test_the_circle_finder_finds_a_circle_and_only_that() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_relative_and_lazy_imports_are_seen(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "one.py").write_text("def f():\n    from . import two\n    from pkg.three import x\n")
    modules = {"pkg": pkg / "__init__.py", "pkg.one": pkg / "one.py", "pkg.two": pkg, "pkg.three": pkg}
    assert imports_of("pkg.one", pkg / "one.py", modules) == {"pkg.two", "pkg.three"}


def test_no_import_circle_among_modules() -> None:
    graph = _module_graph()
    assert len(graph) > 100  # every package was read
    assert circles(graph) == []


def test_no_import_circle_among_packages() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in _module_graph().items():
        top = module.split(".")[0]
        packages.setdefault(top, set()).update(t.split(".")[0] for t in targets if t.split(".")[0] != top)
    assert circles(packages) == []


def test_the_runtime_never_imports_operations() -> None:
    offenders = sorted(
        f"{module} imports {target}"
        for module, targets in _module_graph().items()
        if module.split(".")[0] in RUNTIME
        for target in targets
        if target.split(".")[0] == "operations"
    )
    assert offenders == []

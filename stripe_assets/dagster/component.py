"""`StripeAssetsComponent`: the dataflows as a Dagster component, for `dg scaffold defs`.

    type: stripe_assets.StripeAssetsComponent
    attributes:
      dataflows_file: dataflows.yaml      # beside this defs.yaml; or `dataflows:` (and `channels:`...) inline
      api_key_env: STRIPE_API_KEY
      warehouse_path: data/stripe.duckdb  # relative to the project root

Neither `dataflows_file` nor inline dataflows: the file `$STRIPE_ASSETS_DATAFLOWS` names, else
`dataflows.yaml` in the project home, else the built-in defaults (one dataflow per resource).
"""

# No `from __future__ import annotations`: Dagster reads the attributes' annotations at runtime.

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster.components.scaffold.scaffold import Scaffolder, ScaffoldRequest, scaffold_with

from stripe_assets.dagster.factory import StripeDefinitions, StripeParts, build_stripe_definitions
from stripe_assets.dagster.resources import environment_resources
from stripe_assets.dagster.scope import component_scope
from stripe_assets.dagster.translator import StripeAssetsTranslator
from stripe_assets.dataflows.config import (
    DataflowConfigError,
    load_dataflows,
    strict_yaml_documents,
    validate_dataflows,
)
from stripe_assets.settings import API_KEY_ENV

# The dataflows file's own top-level keys, accepted inline as the component's attributes.
INLINE_KEYS = ("dataflows", "channels", "ui_base_url", "history", "api")

SCAFFOLD = """\
type: {type_name}
attributes:
  # The dataflows (schedules, validation, columns, alerts): a file beside this one, as
  # `stripe-assets dataflows --validate --file FILE` checks it; or write `dataflows:` (and
  # `channels:`, `api:`, `history:`, `ui_base_url:`) here instead. Unset: one daily
  # dataflow per Stripe resource.
  # dataflows_file: dataflows.yaml
  # The environment variable holding the Stripe secret or restricted key (never logged).
  api_key_env: {api_key_env}
  # Base URL of the Stripe API; unset for Stripe itself (or $STRIPE_API_BASE).
  # api_base: http://127.0.0.1:12111
  # The DuckDB file the assets land in, relative to the project root.
  warehouse_path: data/stripe.duckdb
  # Opt-in parts: the run alerts sensor, the rollback job and dead-run sensor, and a
  # code-location-wide executor running every asset of a run at once.
  alerts: false
  operations: false
  executor: false
  # The balance transactions checked against Stripe's balance summary report and balance
  # (`reconciles_with_stripe`; the key needs the Reporting API), and the models
  # `stripe_models/*` (daily and customer overviews, MRR, enriched transactions, payouts).
  reconciliation: false
  models: false
"""


class StripeAssetsScaffolder(Scaffolder):
    def scaffold(self, request: ScaffoldRequest) -> None:
        request.target_path.mkdir(parents=True, exist_ok=True)
        (request.target_path / "defs.yaml").write_text(
            SCAFFOLD.format(type_name=request.type_name, api_key_env=API_KEY_ENV), encoding="utf-8"
        )


@scaffold_with(StripeAssetsScaffolder)
@dataclass
class StripeAssetsComponent(dg.Component, dg.Resolvable):
    """Stripe data as validated, time-partitioned assets in DuckDB: one asset
    `stripe/<resource>` with its `schema_validation` check and one schedule per dataflow.

    Resources `stripe_api` (the key from `api_key_env`) and `stripe_warehouse` (`warehouse_path`);
    one of several Stripe components in a project ends them, and its job, schedule and sensor
    names, in `_<folder>` (see `stripe_assets.dagster.scope`).
    Override `get_translator` in a subclass to change how the assets show (see
    `StripeAssetsTranslator`).
    """

    dataflows_file: str | None = None
    dataflows: list[dict[str, Any]] | None = None
    channels: dict[str, dict[str, Any]] | None = None
    ui_base_url: str | None = None
    history: dict[str, Any] | None = None
    api: dict[str, Any] | None = None
    api_key_env: str = API_KEY_ENV
    api_base: str | None = None
    warehouse_path: str | None = None
    alerts: bool = False
    operations: bool = False
    executor: bool = False
    reconciliation: bool = False
    models: bool = False

    def get_translator(self) -> StripeAssetsTranslator:
        return StripeAssetsTranslator()

    def dataflows_path(self, folder: Path) -> Path | None:
        """The dataflows file it names (relative to `folder`, its defs.yaml's), or None."""
        if self.dataflows_file is None:
            return None
        path = Path(self.dataflows_file).expanduser()
        return path if path.is_absolute() else folder / path

    def inline_dataflows(self) -> bool:
        return any(getattr(self, k) is not None for k in INLINE_KEYS)

    def warehouse_file(self, project_root: Path) -> Path | None:
        """The DuckDB file `warehouse_path` names (relative to the project root, whatever the
        working directory); None: the environment's."""
        if self.warehouse_path is None:
            return None
        path = Path(self.warehouse_path).expanduser()
        return path if path.is_absolute() else project_root / path

    def dataflows_loader(self, folder: Path):
        """Reads the dataflows: the named file (re-read when it changes), the inline ones, or the default."""
        inline = {k: getattr(self, k) for k in INLINE_KEYS if getattr(self, k) is not None}
        path = self.dataflows_path(folder)
        if path is not None:
            if inline:
                raise DataflowConfigError(
                    f"StripeAssetsComponent in {folder}: set dataflows_file or {', '.join(inline)} inline, not both"
                )
            return lambda: load_dataflows(path)
        if inline:
            # The same strict reading and one-line errors as a dataflows file.
            source = folder / "defs.yaml"
            config = validate_dataflows(self._as_written(source) or inline, str(source))
            return lambda: config
        return load_dataflows

    def _as_written(self, source: Path) -> dict[str, Any] | None:
        """The inline dataflows as the defs.yaml spells them, read by the dataflows file's rules:
        the component YAML's own reading (YAML 1.1) turns the alerts' `on:` key into `true`."""
        if not source.is_file():
            return None  # built in Python, not from a defs.yaml
        name = type(self).__name__
        found = [
            doc["attributes"]
            for doc in strict_yaml_documents(source.read_text(encoding="utf-8"))
            if isinstance(doc, dict)
            and str(doc.get("type", "")).endswith(name)
            and isinstance(doc.get("attributes"), dict)
        ]
        if len(found) != 1:
            return None
        return {k: found[0][k] for k in INLINE_KEYS if k in found[0]}

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        reload = self.dataflows_loader(context.path)
        path = self.warehouse_file(context.project_root)
        scope = component_scope(context)
        resources = environment_resources(
            self.api_key_env,
            api_base=self.api_base,
            duckdb_path=str(path) if path is not None else None,
            keys=(scope.api_key, scope.warehouse_key),
        )
        return build_stripe_definitions(
            StripeDefinitions(
                reload=reload,
                translator=self.get_translator(),
                resources=resources,
                scope=scope,
                parts=StripeParts(
                    alerts=self.alerts,
                    operations=self.operations,
                    executor=self.executor,
                    reconciliation=self.reconciliation,
                    models=self.models,
                ),
            )
        )

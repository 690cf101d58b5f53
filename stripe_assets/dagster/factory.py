"""Everything the dataflows make in Dagster, built in one place: assets with their checks and
schedules always; the alerts sensor, the operations (rollback job, dead-run sensor) and the
step executor when asked for. The component and this project's own code location both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from stripe_assets.alerts.routes import ASSET_KEY_PREFIX, routes_from_dataflows
from stripe_assets.catalog import get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.dagster.accounts_asset import build_accounts_asset, reads_connected
from stripe_assets.dagster.alerts import SENSOR_NAME, build_alerts_sensor
from stripe_assets.dagster.assets import asset_tags, build_stripe_asset
from stripe_assets.dagster.dead_runs import dead_runs_sensor
from stripe_assets.dagster.executor import step_processes
from stripe_assets.dagster.models import build_model_assets
from stripe_assets.dagster.reconciliation import build_reconciliation_check
from stripe_assets.dagster.resources import environment_resources
from stripe_assets.dagster.rollback import build_rollback_job
from stripe_assets.dagster.schedules import build_schedule
from stripe_assets.dagster.scope import ALONE, Scope
from stripe_assets.dagster.translator import StripeAssetData, StripeAssetsTranslator
from stripe_assets.dataflows.config import Dataflow, DataflowConfigError, DataflowsConfig, load_dataflows


@dataclass(frozen=True)
class StripeParts:
    """The opt-in parts. Off, a project keeps its own executor and its sensors stay its own."""

    alerts: bool = False  # the run alerts sensor (`stripe_run_alerts`), sending to the dataflows' channels
    operations: bool = False  # `rollback_job` and the sensor failing runs whose process died
    executor: bool = False  # one process per asset, started warm (a code-location-wide executor)
    reconciliation: bool = False  # `reconciles_with_stripe` on balance transactions (Reporting API access)
    models: bool = False  # the `stripe_models/*` assets built on the Stripe tables


@dataclass(frozen=True)
class StripeDefinitions:
    """What `build_stripe_definitions` needs: where the dataflows come from and how assets show."""

    reload: Callable[[], DataflowsConfig] = load_dataflows  # read afresh by schedules, sensors, jobs
    translator: StripeAssetsTranslator = field(default_factory=StripeAssetsTranslator)
    resources: Mapping[str, Any] | None = None  # None: `environment_resources()` under the scope's keys
    parts: StripeParts = StripeParts()
    scope: Scope = ALONE  # the resource keys and names (one of several components: its own)


def build_dataflow_asset(
    dataflow: Dataflow,
    config: DataflowsConfig,
    translator: StripeAssetsTranslator | None = None,
    parent_key: dg.AssetKey | None = None,
    scope: Scope = ALONE,
) -> dg.AssetsDefinition:
    """The dataflow's asset and `schema_validation` check, with the translator's spec. A child
    list waits for its parent's asset in a run loading both: `parent_key`, or else the key the
    translator gives the first dataflow of the parent's resource."""
    if parent_key is None:
        parent_key = _parent_key(dataflow, config, translator)
    asset = build_stripe_asset(dataflow, config.history, config.api, parent_key=parent_key, scope=scope)
    if translator is None:
        return asset
    spec = translator.get_asset_spec(
        StripeAssetData(dataflow=dataflow, resource=dataflow.declaration, spec=asset.specs_by_key[asset.key])
    )
    # The operations (`stripe-assets status`, `runs`, `rollback`) find the asset of a resource by these.
    spec = spec.merge_attributes(tags=asset_tags(dataflow))
    if spec.key != asset.key:  # the body logs materializations and checks under its key: build it anew
        asset = build_stripe_asset(
            dataflow, config.history, config.api, key=spec.key, parent_key=parent_key, scope=scope
        )
    return asset.map_asset_specs(lambda _: spec)


def _parent_key(
    dataflow: Dataflow, config: DataflowsConfig, translator: StripeAssetsTranslator | None
) -> dg.AssetKey | None:
    """The asset key of a child list's parent, as the translator gives it; None for a top-level
    list, or a child whose parent has no dataflow (its catalog key then)."""
    child = child_of(dataflow.declaration)
    if child is None:
        return None
    parent = next((d for d in config.dataflows if d.resource == child.parent), None)
    return build_dataflow_asset(parent, config, translator).key if parent is not None else None


def _depth(resource: str) -> int:
    """How many parents above `resource` (0 for a top-level list)."""
    child = child_of(get_resource(resource))
    return 0 if child is None else 1 + _depth(child.parent)


def _build_assets(
    config: DataflowsConfig, translator: StripeAssetsTranslator, scope: Scope
) -> list[dg.AssetsDefinition]:
    """Every dataflow's asset, in the dataflows' order, built parents first: each child gets the
    final key of its parent (the first dataflow of the parent's resource) to wait for."""
    built: dict[int, dg.AssetsDefinition] = {}
    by_resource: dict[str, dg.AssetKey] = {}
    for i in sorted(range(len(config.dataflows)), key=lambda i: _depth(config.dataflows[i].resource)):
        dataflow = config.dataflows[i]
        child = child_of(dataflow.declaration)
        parent_key = by_resource.get(child.parent) if child is not None else None
        built[i] = build_dataflow_asset(dataflow, config, translator, parent_key=parent_key, scope=scope)
        by_resource.setdefault(dataflow.resource, built[i].key)
    return [built[i] for i in range(len(config.dataflows))]


def build_stripe_definitions(options: StripeDefinitions | None = None) -> dg.Definitions:
    """Assets, checks, schedules and resources of every dataflow, plus the parts asked for."""
    options = options or StripeDefinitions()
    config = options.reload()
    scope = options.scope
    assets = _build_assets(config, options.translator, scope)
    keys = {d.name: a.key for d, a in zip(config.dataflows, assets, strict=True)}
    # A Connect platform: its connected accounts as an asset too.
    connect = [build_accounts_asset(config, scope)] if reads_connected(config) else []
    parts = options.parts
    if parts.alerts:
        moved = sorted(name for name, key in keys.items() if key.path[0] != ASSET_KEY_PREFIX or len(key.path) != 2)
        if moved:
            raise DataflowConfigError(
                f"alerts find a run's dataflows by their asset keys {ASSET_KEY_PREFIX}/<resource>; the translator "
                f"changed the key of {', '.join(moved)}: keep those keys or turn alerts off"
            )
    schedules = [
        build_schedule(d, config.api.partitions_per_run, options.reload, keys[d.name], scope.suffix)
        for d in config.dataflows
    ]
    by_resource: dict[str, dg.AssetKey] = {}
    for d, a in zip(config.dataflows, assets, strict=True):
        by_resource.setdefault(d.resource, a.key)
    checks: list[dg.AssetChecksDefinition] = []
    if parts.reconciliation and "balance_transactions" in by_resource:
        checks.append(build_reconciliation_check(by_resource["balance_transactions"], scope))
    models = build_model_assets(by_resource, scope) if parts.models else []
    sensors: list[dg.SensorDefinition] = []
    jobs: list[dg.JobDefinition] = []
    if parts.alerts:
        reload = options.reload
        sensors.append(build_alerts_sensor(lambda: routes_from_dataflows(reload()), name=scope.name(SENSOR_NAME)))
    if parts.operations:
        if scope.instance_sensors:  # it watches the whole instance: one of several components adds it
            sensors.append(dead_runs_sensor)
        jobs.append(build_rollback_job(options.reload, by_resource, scope))
    return dg.Definitions(
        assets=[*assets, *connect, *models],
        asset_checks=checks,
        schedules=schedules,
        sensors=sensors,
        jobs=jobs,
        resources=dict(options.resources)
        if options.resources is not None
        else environment_resources(keys=(scope.api_key, scope.warehouse_key)),
        executor=step_processes(max(len(config.dataflows), 1)) if parts.executor else None,
    )

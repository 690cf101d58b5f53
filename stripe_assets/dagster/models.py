"""The models (`stripe_assets.models`) as Dagster assets `stripe_models/<name>` downstream of the
Stripe assets they read, refreshed when those change (automation condition eager), each with
its checks and its columns described in the UI."""

# No `from __future__ import annotations`: Dagster reads the context's annotation at runtime.

from collections.abc import Iterator, Mapping

import dagster as dg

from stripe_assets.dagster.scope import ALONE, Scope
from stripe_assets.models import MODELS, SCHEMA, MissingInputs, Model, build_model, column_types, run_checks

GROUP = "stripe_models"
KEY_PREFIX = "stripe_models"


# Eager, except that it does not wait for every upstream partition: the Stripe assets' partitions
# reach back to their history start, and a model is worth refreshing over the ones loaded.
REFRESH = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


def model_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([KEY_PREFIX, name])


def build_model_asset(
    model: Model, stripe_keys: Mapping[str, dg.AssetKey], scope: Scope = ALONE
) -> dg.AssetsDefinition:
    key = model_key(model.name)
    deps = [stripe_keys[r] for r in model.inputs] + [model_key(m) for m in model.models]
    check_specs = [dg.AssetCheckSpec(check.name, asset=key, description=check.description) for check in model.checks]

    @dg.asset(
        key=key,
        deps=deps,
        group_name=GROUP,
        description=model.description,
        kinds={"sql", "duckdb"},
        automation_condition=REFRESH,
        check_specs=check_specs,
        required_resource_keys={scope.warehouse_key},
        output_required=False,
        metadata={
            "dagster/table_name": f"{SCHEMA}.{model.name}",
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name, description=text) for name, text in model.columns.items()]
            ),
        },
    )
    def _model(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        try:
            with scope.warehouse(context).warehouse().connect() as conn:
                rows = build_model(conn, model)
                types = column_types(conn, model)
                outcomes = run_checks(conn, model)
        except MissingInputs as exc:
            # Not an error of the model: nothing to build from yet. Said, and nothing materialized.
            context.log.warning(str(exc))
            return
        # The columns with the types the SQL gave them (the definition can only name them).
        schema = dg.TableSchema(
            columns=[
                dg.TableColumn(name, types.get(name, "unknown"), description=text)
                for name, text in model.columns.items()
            ]
        )
        yield dg.MaterializeResult(metadata={"dagster/row_count": rows, "dagster/column_schema": schema})
        for outcome in outcomes:
            yield dg.AssetCheckResult(
                check_name=outcome.check.name,
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.WARN
                if outcome.check.severity == "WARN"
                else dg.AssetCheckSeverity.ERROR,
                description=outcome.check.description
                if outcome.passed
                else f"{outcome.violations} rows break it: {outcome.check.description}",
                metadata={"rows_breaking": outcome.violations, "sample": dg.MetadataValue.json(outcome.sample)},
            )

    return _model


def build_model_assets(stripe_keys: Mapping[str, dg.AssetKey], scope: Scope = ALONE) -> list[dg.AssetsDefinition]:
    """The models whose inputs are all among the dataflows' assets (resource -> key)."""
    built: list[dg.AssetsDefinition] = []
    names: set[str] = set()
    for model in MODELS:
        if all(r in stripe_keys for r in model.inputs) and all(m in names for m in model.models):
            built.append(build_model_asset(model, stripe_keys, scope))
            names.add(model.name)
    return built

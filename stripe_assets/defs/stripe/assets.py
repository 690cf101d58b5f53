"""The Stripe assets, one per dataflow (a resource each), with their `schema_validation` checks.

Per partition, a load logs its own materialization (accepted partitions only) and its own check
evaluation, so the UI shows pass/fail per partition also for ranged runs (single-run backfills,
catch-up ticks); they are logged oldest partition first, so "latest" is the newest partition.
A ranged run adds one summary check result for the whole range, with the run's totals.
(No `from __future__ import annotations` here: Dagster inspects the context annotation.)
"""

import traceback
from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb

from stripe_assets.catalog import get_resource
from stripe_assets.dataflows.api_settings import ApiSettings
from stripe_assets.dataflows.config import Dataflow, load_dataflows
from stripe_assets.dataflows.freshness import freshness_windows
from stripe_assets.dataflows.keys import asset_key
from stripe_assets.dataflows.partitions import time_model
from stripe_assets.defs.stripe.changes import extra_windows, plan_for, report_changes
from stripe_assets.defs.stripe.metadata import column_schema, partition_metadata, run_metadata
from stripe_assets.defs.stripe.resources import StripeApiResource, WarehouseResource
from stripe_assets.ingest.changes.sync import contiguous
from stripe_assets.ingest.client import StripeReadError
from stripe_assets.ingest.load import LoadReport, PartitionOutcome, Window, load_partitions, merge_reports
from stripe_assets.ingest.redact import redact
from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.report import check_description, check_metadata, check_severity
from stripe_assets.ingest.warehouse import WarehouseError
from stripe_assets.ingest.warehouse.history import HistoryRetention
from stripe_assets.ingest.warehouse.loads import count_rows
from stripe_assets.operations.run_workers import guard_step

CHECK_NAME = "schema_validation"
# Partitions whose fetch a run set aside because a newer run wrote them meanwhile -> that run.
LEFT_TO_KEY = "partitions_left_to_newer_runs"


def build_stripe_asset(
    dataflow: Dataflow, retention: HistoryRetention = HistoryRetention(), api: ApiSettings | None = None
) -> dg.AssetsDefinition:
    reading = api or ApiSettings()
    resource = get_resource(dataflow.resource)
    key = asset_key(resource.name)
    time = time_model(dataflow)
    partitions_def = time.partitions_def
    columns = dataflow.columns()
    settings = dataflow.validation
    freshness = freshness_windows(dataflow)

    @dg.asset(
        key=key,
        group_name="stripe",
        description=(
            f"Stripe {resource.name} created in each partition window, landed in DuckDB table "
            f"`{resource.table}` (invalid records in `{resource.quarantine_table}`). "
            f"Dataflow `{dataflow.name}`."
        ),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"stripe", "duckdb"},
        metadata={
            "dagster/column_schema": column_schema(columns),
            "dagster/table_name": resource.table,
            "dataflow": dataflow.name,
        },
        tags={"stripe_assets/dataflow": dataflow.name},
        output_required=False,  # materializations are logged per accepted partition
        # Evaluated by the daemon from the newest materialization (no op in the asset's runs).
        freshness_policy=(
            dg.FreshnessPolicy.time_window(fail_window=freshness.fail_after, warn_window=freshness.warn_after)
            if freshness
            else None
        ),
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                blocking=True,
                partitions_def=partitions_def,
                description=(
                    f"Every record against Stripe's schema (API {API_VERSION}); "
                    f"fails the partition above {settings.threshold_pct:g}% invalid records"
                    + ("" if settings.partial_ingestion else " or on any invalid record (partial ingestion off)")
                ),
            )
        ],
    )
    def _asset(context: dg.AssetExecutionContext, stripe: StripeApiResource, warehouse: WarehouseResource):
        guard_step(context.instance, context.run.run_id)  # a step never outlives its run process
        windows = [Window(k, *time.window(k)) for k in context.partition_keys]
        ranged = len(windows) > 1
        own = {w.key for w in windows}
        note: list[str] = []  # why loaded partitions are re-read (events could not be used)

        def describe(outcome: PartitionOutcome) -> dg.AssetCheckResult:
            return dg.AssetCheckResult(
                check_name=CHECK_NAME,
                passed=outcome.accepted,
                severity=check_severity(outcome.result, outcome.decision),
                description=check_description(outcome.result, outcome.decision),
                metadata=_with_note(note, check_metadata(outcome.result, outcome.decision, settings)),
            )

        landed: dict[str, PartitionOutcome] = {}  # by partition key: a window fetched again replaces its outcome

        def report_partition(outcome: PartitionOutcome, report: LoadReport) -> None:
            landed[outcome.window.key] = outcome

        def log_landed(report: LoadReport | None) -> None:
            # Windows land newest first (Stripe lists newest first); they are logged oldest
            # first, so the asset's latest materialization is its newest partition. Logged
            # also when the load fails later, so the UI shows every window that did land.
            table_rows = None
            if landed:  # counted by the load's last write, or else read now
                counted = report.table_rows if report is not None else None
                table_rows = counted if counted is not None else _table_rows(warehouse, resource.table)
            for outcome in sorted(landed.values(), key=lambda o: o.window.start):
                if outcome.accepted and outcome.left_to is None:  # set aside: the newer run's materialization
                    metadata = partition_metadata(outcome, columns, table_rows)
                    if report is not None and not ranged:  # the run is this partition
                        metadata.update(run_metadata(report))
                    context.log_event(
                        dg.AssetMaterialization(asset_key=key, partition=outcome.window.key, metadata=metadata)
                    )
                if ranged or outcome.window.key not in own:
                    check = outcome.details
                    assert isinstance(check, dg.AssetCheckResult), "describe() made it"
                    context.log_event(
                        dg.AssetCheckEvaluation(
                            asset_key=key, check_name=CHECK_NAME, passed=check.passed, partition=outcome.window.key,
                            severity=check.severity, description=check.description,
                            metadata=_with_left_to(check.metadata, outcome),
                        )
                    )
            landed.clear()

        report = None
        reports: list[LoadReport] = []
        plan = None
        try:
            with stripe.reader(reading) as reader:
                reader.warn = context.log.warning
                store = warehouse.warehouse()
                # Changes since the previous load first, landed with the first windows.
                plan = plan_for(dataflow, reader, store, context.run.run_id)
                if plan is not None and plan.note:
                    note.append(plan.note)
                    context.log.warning(plan.note)
                for i, group in enumerate(contiguous(windows + extra_windows(dataflow, plan))):
                    reports.append(
                        load_partitions(
                            reader,
                            store,
                            resource.name,
                            group,
                            columns=columns,
                            settings=settings,
                            run_id=context.run.run_id,
                            describe=describe,
                            on_partition=report_partition,
                            retention=retention,
                            concurrency=reading.concurrency,
                            log=context.log.info,
                            progress_seconds=reading.progress_seconds,
                            before_first_write=plan.write if plan is not None and i == 0 else None,
                        )
                    )
                if plan is not None and not any(r.failures for r in reports):
                    plan.finish(store)  # a rejected re-read partition: the next load re-reads again
            report = merge_reports(reports) if len(reports) > 1 else reports[0]
        except (StripeReadError, WarehouseError) as exc:
            raise dg.Failure(description=redact(f"{resource.name}: {exc}"), allow_retries=False) from None
        except Exception as exc:
            # Any library's error may quote the key (requests quotes header values): what reaches
            # the event log, the run list and alerts is redacted, the traceback kept as metadata.
            raise dg.Failure(
                description=redact(f"{resource.name}: {type(exc).__name__}: {exc}"),
                metadata={"traceback": dg.MetadataValue.text(redact(traceback.format_exc()))},
                allow_retries=False,
            ) from None
        finally:
            log_landed(report)
            if plan is not None:  # also when a window failed later: the changes had landed
                report_changes(context, key, plan, set(partitions_def.get_partition_keys()))

        if report.prune_error:
            context.log.warning(f"old versions of {resource.name} were not pruned: {report.prune_error}")
        served = report.stats.api_version
        if served and served != API_VERSION:
            context.log.warning(
                f"the API answered with version {served}, the schema is for {API_VERSION}: fields added "
                "or changed between them can show as drift or as invalid records"
            )
        yield (
            _range_summary(report, settings, note)
            if ranged
            else _single_result(next(o for o in report.outcomes if o.window.key in own))
        )
        if report.failures:
            raise dg.Failure(
                description=report.failure_message,
                metadata={  # the run's totals: its failed partitions have no materialization
                    "records_loaded": report.records_loaded,
                    "records_rejected": report.records_rejected,
                    "error_rate_pct": round(report.error_rate_pct, 4),
                    "threshold_pct": settings.threshold_pct,
                },
                allow_retries=False,
            )

    return _asset


def _table_rows(warehouse: WarehouseResource, table: str) -> int | None:
    """Rows in the table now; None when it cannot be read (the load's own figures still show)."""
    try:
        with warehouse.warehouse().connect(read_only=True) as conn:
            return count_rows(conn, table)
    except (WarehouseError, duckdb.Error):
        return None


def _range_summary(report: LoadReport, settings: ValidationSettings, note: list[str]) -> dg.AssetCheckResult:
    rows = ["| partition | fetched | loaded | rejected | error rate | status |", "|---|---|---|---|---|---|"]
    for o in sorted(report.outcomes, key=lambda o: o.window.start):
        rows.append(
            f"| {o.window.key} | {o.records_total} | {o.records_loaded} | {o.records_rejected} "
            f"| {100 * o.error_rate:.2f}% | {'passed' if o.accepted else 'FAILED'}"
            + (f", left to run {o.left_to} |" if o.left_to else " |")
        )
    failed = len(report.failures)
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(report.outcomes)} partitions: {len(report.outcomes) - failed} passed, {failed} failed; "
            f"{report.records_rejected} of {report.records_fetched} records invalid"
        ),
        metadata=_with_note(
            note,
            {
                "partitions": len(report.outcomes),
                "partitions_failed": failed,
                "records_fetched": report.records_fetched,
                "records_loaded": report.records_loaded,
                "records_rejected": report.records_rejected,
                "error_rate_pct": round(report.error_rate_pct, 4),
                "threshold_pct": settings.threshold_pct,
                "per_partition": dg.MetadataValue.md("\n".join(rows)),
                **run_metadata(report),
                **_left_to_metadata(report.left_to),
            },
        ),
    )


def _left_to_metadata(left_to: Mapping[str, str]) -> dict[str, Any]:
    """Which partitions the run set aside to which newer run (absent when none)."""
    if not left_to:
        return {}
    return {LEFT_TO_KEY: dg.MetadataValue.json(dict(sorted(left_to.items())))}


def _with_left_to(metadata: Mapping[str, Any], outcome: PartitionOutcome) -> dict[str, Any]:
    return {**metadata, **_left_to_metadata({outcome.window.key: outcome.left_to} if outcome.left_to else {})}


def _single_result(outcome: PartitionOutcome) -> dg.AssetCheckResult:
    check = outcome.details
    assert isinstance(check, dg.AssetCheckResult), "describe() made it"
    if outcome.left_to is None:
        return check
    return dg.AssetCheckResult(
        check_name=check.check_name,
        passed=check.passed,
        severity=check.severity,
        description=check.description,
        metadata=_with_left_to(check.metadata, outcome),
    )


def _with_note(note: list[str], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Check metadata, plus why loaded partitions were re-read (when they were)."""
    return {**metadata, "changes_fallback": note[0]} if note else dict(metadata)


@dg.definitions
def defs() -> dg.Definitions:
    config = load_dataflows()
    return dg.Definitions(assets=[build_stripe_asset(d, config.history, config.api) for d in config.dataflows])

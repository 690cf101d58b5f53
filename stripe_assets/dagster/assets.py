"""The Stripe assets, one per dataflow (a resource each), with their `schema_validation` checks.

Per partition, a load records its own materialization (accepted partitions only) and its own check
evaluation aimed at it, so the UI shows pass/fail per partition also for ranged runs (single-run
backfills, catch-up ticks) and after changes from events; they are recorded oldest partition
first, so "latest" is the newest partition (`record.py`). A ranged run adds one summary check
result for the whole range, with the run's totals.
(No `from __future__ import annotations` here: Dagster inspects the context annotation.)
"""

import traceback
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import dagster as dg
import duckdb

from stripe_assets.catalog import StripeResource, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.dagster.accounts import accounts_failed_text, choose_accounts, history_windows, seen_accounts
from stripe_assets.dagster.changes import (
    change_records,
    extra_windows,
    plan_for,
    report_change_figures,
    report_settling,
    settle_for,
)
from stripe_assets.dagster.checks import check_result
from stripe_assets.dagster.children import CHILD_PRIORITY, wait_for_parent
from stripe_assets.dagster.keys import asset_key
from stripe_assets.dagster.metadata import column_schema, partition_metadata, run_metadata
from stripe_assets.dagster.partitions import time_model
from stripe_assets.dagster.record import PartitionRecord, record_partitions, restate_newest
from stripe_assets.dagster.resources import StripeApiResource, WarehouseResource
from stripe_assets.dataflows.api_settings import ApiSettings
from stripe_assets.dataflows.config import Dataflow
from stripe_assets.dataflows.freshness import freshness_windows
from stripe_assets.dataflows.partitions import PartitionKeyError, TimeModel
from stripe_assets.dataflows.schedules import RESOURCE_TAG
from stripe_assets.ingest.accounts import AccountsToRead
from stripe_assets.ingest.changes.settle import SettlePlan
from stripe_assets.ingest.changes.sync import ChangePlan, contiguous, warehouse_states
from stripe_assets.ingest.children import load_children, stale_partitions
from stripe_assets.ingest.client import StripeReader, StripeReadError
from stripe_assets.ingest.connected import load_connected
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import LoadReport, PartitionOutcome, Window, merge_reports
from stripe_assets.ingest.redact import redact
from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.report import CheckReport, check_report
from stripe_assets.ingest.warehouse import Warehouse, WarehouseError
from stripe_assets.ingest.warehouse.history import HistoryRetention
from stripe_assets.ingest.warehouse.loads import count_rows
from stripe_assets.operations.dagster_record import partition_rows
from stripe_assets.operations.run_workers import guard_step

CHECK_NAME = "schema_validation"
# Partitions whose fetch a run set aside because a newer run wrote them meanwhile -> that run.
LEFT_TO_KEY = "partitions_left_to_newer_runs"


def asset_tags(dataflow: Dataflow) -> dict[str, str]:
    """The tags of a dataflow's asset that name it and its resource (kept over a translator's spec)."""
    return {"stripe_assets/dataflow": dataflow.name, RESOURCE_TAG: dataflow.resource}


def build_stripe_asset(
    dataflow: Dataflow,
    retention: HistoryRetention = HistoryRetention(),
    api: ApiSettings | None = None,
    key: dg.AssetKey | None = None,
    parent_key: dg.AssetKey | None = None,
) -> dg.AssetsDefinition:
    """The dataflow's asset with its check; `key` replaces `stripe/<resource>` (see the translator).
    A child list's `parent_key` is its parent's asset as the project keys it (default
    `stripe/<parent>`): in a run loading both, the child waits for that asset's step."""
    reading = api or ApiSettings()
    resource = get_resource(dataflow.resource)
    key = key or asset_key(resource.name)
    time = time_model(dataflow)
    partitions_def = time.partitions_def
    columns = dataflow.columns()
    settings = dataflow.validation
    freshness = freshness_windows(dataflow)
    child = child_of(resource)
    parent = (parent_key or asset_key(child.parent)) if child is not None else None

    @dg.asset(
        key=key,
        group_name=resource.group,
        description=(
            f"Stripe {resource.name} created in each partition window, landed in DuckDB table "
            f"`{resource.table}` (invalid records in `{resource.quarantine_table}`). "
            f"Dataflow `{dataflow.name}`."
        ),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"stripe", "duckdb"},
        op_tags={"dagster/priority": CHILD_PRIORITY} if child is not None else None,
        metadata={
            "dagster/column_schema": column_schema(columns),
            "dagster/table_name": resource.table,
            "dataflow": dataflow.name,
            **(
                {"parent": f"{parent.to_user_string()}, column {child.parent_column}"}
                if child is not None and parent is not None
                else {}
            ),
            # The UI rounds the policy's windows to whole days; the exact ones, as `dataflows` says.
            **({"freshness": freshness.describe()} if freshness else {}),
        },
        tags=asset_tags(dataflow),
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
    def _asset(context: dg.AssetExecutionContext, stripe_api: StripeApiResource, stripe_warehouse: WarehouseResource):
        guard_step(context.instance, context.run.run_id)  # a step never outlives its run process
        if parent is not None:
            wait_for_parent(context, parent)
        windows = _run_windows(context, dataflow.name, time)
        ranged = len(windows) > 1
        own = {w.key for w in windows}
        note: list[str] = []  # why loaded partitions are re-read (events could not be used)

        def describe(outcome: PartitionOutcome) -> CheckReport:
            report = check_report(outcome.result, outcome.decision, settings)
            return replace(report, metadata=_with_note(note, report.metadata))

        landed: dict[str, PartitionOutcome] = {}  # by partition key: a window fetched again replaces its outcome

        def report_partition(outcome: PartitionOutcome, report: LoadReport) -> None:
            landed[outcome.window.key] = outcome

        options = LoadOptions(
            columns=columns, settings=settings, run_id=context.run.run_id, describe=describe,
            on_partition=report_partition, retention=retention, concurrency=reading.concurrency,
            log=context.log.info, progress_seconds=reading.progress_seconds,
        )  # fmt: skip

        def load_account(
            reader: StripeReader,
            store: Warehouse,
            platform: str | None,
            account_windows: list[Window],
            settle: SettlePlan | None,
        ) -> ChangePlan | None:
            """The key's own account: its changes since its cursor, then its windows (and those to re-read)."""
            plan = plan_for(dataflow, reader, store, context.run.run_id, owner=platform)
            if plan is not None and plan.note:
                note.append(plan.note)
                context.log.warning(plan.note)
            for i, group in enumerate(contiguous(account_windows + extra_windows(dataflow, plan, settle))):
                reports.append(
                    load_partitions(
                        reader,
                        store,
                        resource,
                        group,
                        options,
                        before_first_write=plan.write if plan is not None and i == 0 else None,
                        account=platform,
                        platform=platform,
                    )
                )
            if plan is not None and not any(r.failures for r in reports):
                plan.finish(store)  # a rejected re-read partition: the next load re-reads again
            return plan

        def load_accounts(
            reader: StripeReader,
            store: Warehouse,
            platform: str,
            accounts: list[str],
            first: bool,
            settle: SettlePlan | None,
            failed: dict[str, str],
        ) -> None:
            """Connected accounts, landed together: each one's changes since its own cursor, then
            the windows (from the history start for accounts read the first time)."""
            states = warehouse_states(store, resource.name, accounts) if dataflow.changes.mode == "events" else {}

            def plan_of(account: str) -> ChangePlan | None:
                try:
                    return plan_for(
                        dataflow, reader.for_account(account), store, context.run.run_id,
                        account=account, new_account=first, owner=account, state=states.get(account),
                    )  # fmt: skip
                except StripeReadError as exc:
                    failed[account] = redact(str(exc))
                    return None

            # Several accounts' events at once: each request waits on the API, not on the others.
            with ThreadPoolExecutor(reading.concurrency, thread_name_prefix="account-changes") as pool:
                account_plans = [p for p in pool.map(plan_of, accounts) if p is not None]
            for plan in account_plans:
                if plan.note:
                    note.append(plan.note)
                    context.log.warning(plan.note)
            plans.extend(account_plans)
            readable = [a for a in accounts if a not in failed]
            extra = {w.key: w for w in extra_windows(dataflow, None, settle)}
            for plan in account_plans:
                extra |= {w.key: w for w in extra_windows(dataflow, plan, settle)}
            account_windows = history_windows(time, windows) if first else windows
            for i, group in enumerate(contiguous(account_windows + list(extra.values()))):
                if not readable:
                    break
                done = load_connected(
                    reader, store, resource, group, readable, options, platform=platform,
                    account_writes={p.account: p.write for p in account_plans if p.account} if i == 0 else None,
                )  # fmt: skip
                reports.append(done.report)
                failed.update(done.failed)
                readable = [a for a in readable if a not in done.failed]
            if not any(r.failures for r in reports):
                for plan in account_plans:
                    if plan.account not in failed:  # a failed account's cursor stays as it was
                        plan.finish(store)

        def load_child(reader: StripeReader, store: Warehouse, who: AccountsToRead, failed: dict[str, str]) -> None:
            """The children of the run's windows, and of windows whose parents changed since they
            were read, for the parents of the accounts the dataflow reads (each with its account's
            `Stripe-Account`); an account that fails keeps its children's rows."""
            assert child is not None
            reread = [
                w for w in _stale_windows(reader, store, resource, time, context.log.warning) if w.key not in own
            ]
            if reread:
                context.log.info(
                    f"{resource.name}: their {child.parent} changed since they were read: "
                    f"re-reading partitions {', '.join(w.key for w in reread)}"
                )
            # A connected account without children read yet: from the history start, as its parents.
            seen = seen_accounts(store, resource, who.platform)
            new = [a for a in who.connected() if a not in seen]
            for accounts, account_windows in (
                ([a for a in who.accounts if a not in new], sorted(windows + reread, key=lambda w: w.start)),
                (new, history_windows(time, windows)),
            ):
                if not accounts:
                    continue
                done = load_children(
                    reader, store, resource, account_windows, options,
                    platform=who.platform or None, accounts=accounts,
                )
                reports.append(done)
                failed.update(done.accounts_failed)

        def log_landed(report: LoadReport | None, plans: list[ChangePlan]) -> None:
            # Windows land newest first (Stripe lists newest first); they are recorded oldest
            # first with the partitions changed from events, so the asset's latest
            # materialization is its newest partition. Recorded also when the load fails later,
            # so the UI shows every window that did land.
            changed = sorted({p for plan in plans if plan.written is not None for p in plan.written.partitions})
            table_rows = None
            if landed or changed:  # counted by the load's last write, or else read now
                counted = report.table_rows if report is not None else None
                table_rows = counted if counted is not None else _table_rows(stripe_warehouse, resource.table)
            records = []
            for outcome in landed.values():
                materialization = None
                if outcome.accepted and outcome.left_to is None:  # set aside: the newer run's materialization
                    metadata = partition_metadata(outcome, columns, table_rows)
                    if report is not None and not ranged:  # the run is this partition
                        metadata.update(run_metadata(report))
                    materialization = dg.AssetMaterialization(
                        asset_key=key, partition=outcome.window.key, metadata=metadata
                    )
                # A one-partition run yields its own partition's result; Dagster aims it. A fetch
                # set aside leaves the partition's check to the newer run that wrote it.
                check = None
                if (ranged or outcome.window.key not in own) and outcome.left_to is None:
                    check = _check_of(outcome)
                records.append(PartitionRecord(outcome.window.key, outcome.window.start, False, materialization, check))
            for plan in plans:  # also when a window failed later: the changes had landed
                valid = set(partitions_def.get_partition_keys())
                rows = _partition_rows(stripe_warehouse, resource.name, changed) if changed else None
                records += change_records(key, plan, lambda k: time.window(k)[0], valid, table_rows, rows)
            logged.extend(record_partitions(context, key, CHECK_NAME, records))
            landed.clear()

        report = None
        logged: list = []  # the partitions' evaluations, as recorded
        reports: list[LoadReport] = []
        plans: list[ChangePlan] = []
        failed: dict[str, str] = {}  # connected account -> why it was not read (the rest lands)
        try:
            with stripe_api.reader(reading) as reader:
                reader.warn = context.log.warning
                store = stripe_warehouse.warehouse()
                # Rows due to settle (a pending balance transaction now available) as the run starts.
                settle = settle_for(dataflow, store)
                if settle is not None:
                    report_settling(context, key, settle)
                who = choose_accounts(reader, dataflow.reads(reading))
                if child is not None:  # the children of the chosen accounts' parents in the warehouse
                    load_child(reader, store, who, failed)
                else:
                    if who.platform in who.accounts:
                        plan = load_account(reader.for_account(None), store, who.platform or None, windows, settle)
                        if plan is not None:
                            plans.append(plan)
                    seen = seen_accounts(store, resource, who.platform)
                    connected = who.connected()
                    # An account read for the first time is read from the dataflow's history start.
                    for accounts, first in (
                        ([a for a in connected if a in seen], False),
                        ([a for a in connected if a not in seen], True),
                    ):
                        if accounts:
                            load_accounts(reader, store, who.platform, accounts, first, settle, failed)
                for account, why in failed.items():
                    context.log.warning(f"{resource.name}: account {account} not read: {why}")
            if not reports:
                raise StripeReadError(f"no account was read ({accounts_failed_text(failed) or 'none listed'})")
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
            log_landed(report, plans)
            for plan in plans:  # a connected account's only when something changed or was re-read
                if plan.account is None or plan.note or (plan.scan is not None and plan.scan.events_read):
                    report_change_figures(context, key, plan)

        if report.prune_error:
            context.log.warning(f"old versions of {resource.name} were not pruned: {report.prune_error}")
        served = report.stats.api_version
        if served and served != API_VERSION:
            context.log.warning(
                f"the API answered with version {served}, the schema is for {API_VERSION}: fields added "
                "or changed between them can show as drift or as invalid records"
            )
        if ranged:
            yield _range_summary(report, settings, note)
        else:
            [window] = windows
            result = _check_of(next(o for o in report.outcomes if o.window.key in own))
            yield result
            restate_newest(
                context, key, CHECK_NAME, PartitionRecord(window.key, window.start, False, None, None), result, logged
            )
        if failed:  # the rest landed; the next run reads these accounts again
            raise dg.Failure(
                description=f"{resource.name}: {accounts_failed_text(failed)}",
                metadata={"accounts_failed": dg.MetadataValue.json(failed)},
                allow_retries=False,
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


def _run_windows(context: dg.AssetExecutionContext, dataflow: str, time: TimeModel) -> list[Window]:
    """The run's partitions as windows of the dataflow as it is now. The dataflows file may
    have changed since the run was queued (another frequency or start): then the run's keys
    name no window, and the step fails with one line saying so, not Dagster's parse error."""
    try:
        return [Window(k, *time.window(k)) for k in context.partition_keys]
    except ValueError:
        tags = context.run.tags
        asked = tags.get("dagster/partition") or tags.get("dagster/asset_partition_range_start") or "?"
        try:
            time.window(asked)
            problem = f"its partitions {_asked_keys(tags)} are not all partitions of the dataflow now"
        except PartitionKeyError as exc:
            problem = str(exc)
        raise dg.Failure(
            description=f"dataflow {dataflow} changed after this run was queued: {problem}; "
            "launch the run again for the dataflow's current partitions"
        ) from None


def _stale_windows(reader, store, resource: StripeResource, time: TimeModel, warn) -> list[Window]:
    """The loaded partitions of a child list whose parents changed since they were read."""
    windows = []
    for key in stale_partitions(reader, store, resource, warn=warn):
        try:
            windows.append(Window(key, *time.window(key)))
        except ValueError:  # a partition of an earlier dataflow setting: not this one's to re-read
            continue
    return windows


def _asked_keys(tags: Mapping[str, str]) -> str:
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    return f"{tags.get('dagster/asset_partition_range_start')}...{tags.get('dagster/asset_partition_range_end')}"


def _table_rows(warehouse: WarehouseResource, table: str) -> int | None:
    """Rows in the table now; None when it cannot be read (the load's own figures still show)."""
    try:
        with warehouse.warehouse().connect(read_only=True) as conn:
            return count_rows(conn, table)
    except (WarehouseError, duckdb.Error):
        return None


def _partition_rows(warehouse: WarehouseResource, resource: str, partitions: list[str]) -> dict[str, int] | None:
    """Rows the partitions hold now; None when they cannot be read (the change's figures still show)."""
    try:
        found = partition_rows(warehouse.warehouse(), resource, partitions)
    except (WarehouseError, duckdb.Error):
        return None
    return {p: n for p, n in found.items() if p is not None}


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


def _check_of(outcome: PartitionOutcome) -> dg.AssetCheckResult:
    """The partition's check result, saying which newer run its fetch was left to (if it was)."""
    assert outcome.details is not None, "describe() made it"
    check = check_result(CHECK_NAME, outcome.details)
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

"""One run of a dataflow's asset: the changes since its cursor, then its windows (and those to
re-read), for the platform and the connected accounts the dataflow reads, or a child list's
children; each landed partition recorded as it lands, then the run's check result.

Per partition, a load records its own materialization (accepted partitions only) and its own check
evaluation aimed at it, so the UI shows pass/fail per partition also for ranged runs (single-run
backfills, catch-up ticks) and after changes from events; they are recorded oldest partition
first, so "latest" is the newest partition (`record.py`). A ranged run adds one summary check
result for the whole range, with the run's totals.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import dagster as dg

from stripe_assets.catalog import StripeResource
from stripe_assets.catalog.child import ChildOf
from stripe_assets.dagster.accounts import accounts_failed_text, choose_accounts, history_windows, seen_accounts
from stripe_assets.dagster.changes import (
    change_records,
    extra_windows,
    plan_for,
    report_change_figures,
    report_settling,
    settle_for,
)
from stripe_assets.dagster.metadata import partition_metadata, run_metadata
from stripe_assets.dagster.outcomes import (
    CHECK_NAME,
    check_of,
    range_summary,
    rows_of_partitions,
    table_rows,
    with_note,
)
from stripe_assets.dagster.partitions import PartitionedTimeModel
from stripe_assets.dagster.record import PartitionRecord, record_partitions, restate_newest
from stripe_assets.dagster.resources import StripeApiResource, WarehouseResource
from stripe_assets.dagster.windows import run_windows, stale_windows
from stripe_assets.dataflows.api_settings import ApiSettings
from stripe_assets.dataflows.config import Dataflow
from stripe_assets.ingest.accounts import AccountsToRead
from stripe_assets.ingest.changes.settle import SettlePlan
from stripe_assets.ingest.changes.sync import ChangePlan, contiguous, warehouse_states
from stripe_assets.ingest.children import load_children
from stripe_assets.ingest.children.read import ParentNotLoadedError
from stripe_assets.ingest.client import StripeReader, StripeReadError
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.connected import load_connected
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import LoadReport, PartitionOutcome, Window, merge_reports
from stripe_assets.ingest.redact import redact
from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets.ingest.validation.report import CheckReport, check_report
from stripe_assets.ingest.warehouse import Warehouse, WarehouseError
from stripe_assets.ingest.warehouse.history import HistoryRetention


@dataclass(frozen=True)
class AssetSetup:
    """What every run of a dataflow's asset loads with: fixed when the asset is built."""

    dataflow: Dataflow
    resource: StripeResource
    key: dg.AssetKey
    time: PartitionedTimeModel
    columns: Sequence[ColumnSpec]
    retention: HistoryRetention
    reading: ApiSettings
    child: ChildOf | None
    parent: dg.AssetKey | None = None  # a child list's parent's asset, as the project keys it


def run_asset(
    setup: AssetSetup,
    context: dg.AssetExecutionContext,
    stripe_api: StripeApiResource,
    stripe_warehouse: WarehouseResource,
) -> Iterator[dg.AssetCheckResult]:
    """Load the run's partitions; yield its check result (raise `dg.Failure` when a part failed)."""
    yield from _AssetRun(setup, context, stripe_warehouse).run(stripe_api)


class _AssetRun:
    """The state of one run: the reports of its loads, its change plans, what landed and what
    is recorded so far."""

    def __init__(self, setup: AssetSetup, context: dg.AssetExecutionContext, stripe_warehouse: WarehouseResource):
        self.setup = setup
        self.context = context
        self.stripe_warehouse = stripe_warehouse
        self.windows = run_windows(context, setup.dataflow.name, setup.time)
        self.ranged = len(self.windows) > 1
        self.own = {w.key for w in self.windows}
        self.note: list[str] = []  # why loaded partitions are re-read (events could not be used)
        self.landed: dict[str, PartitionOutcome] = {}  # by partition key: a window fetched again replaces its outcome
        self.logged: list = []  # the partitions' evaluations, as recorded
        self.reports: list[LoadReport] = []
        self.plans: list[ChangePlan] = []
        self.failed: dict[str, str] = {}  # connected account -> why it was not read (the rest lands)
        reading = setup.reading
        self.options = LoadOptions(
            columns=setup.columns, settings=setup.dataflow.validation, run_id=context.run.run_id,
            describe=self.describe, on_partition=self.report_partition, retention=setup.retention,
            concurrency=reading.concurrency, log=context.log.info, progress_seconds=reading.progress_seconds,
        )  # fmt: skip

    def describe(self, outcome: PartitionOutcome) -> CheckReport:
        report = check_report(outcome.result, outcome.decision, self.setup.dataflow.validation)
        return replace(report, metadata=with_note(self.note, report.metadata))

    def report_partition(self, outcome: PartitionOutcome, report: LoadReport) -> None:
        self.landed[outcome.window.key] = outcome

    def load_account(
        self,
        reader: StripeReader,
        store: Warehouse,
        platform: str | None,
        account_windows: list[Window],
        settle: SettlePlan | None,
    ) -> ChangePlan | None:
        """The key's own account: its changes since its cursor, then its windows (and those to re-read)."""
        dataflow, context, reports = self.setup.dataflow, self.context, self.reports
        plan = plan_for(dataflow, reader, store, context.run.run_id, owner=platform)
        if plan is not None and plan.note:
            self.note.append(plan.note)
            context.log.warning(plan.note)
        for i, group in enumerate(contiguous(account_windows + extra_windows(dataflow, plan, settle))):
            reports.append(
                load_partitions(
                    reader,
                    store,
                    self.setup.resource,
                    group,
                    self.options,
                    before_first_write=plan.write if plan is not None and i == 0 else None,
                    account=platform,
                    platform=platform,
                )
            )
        if plan is not None and not any(r.failures for r in reports):
            plan.finish(store)  # a rejected re-read partition: the next load re-reads again
        return plan

    def load_accounts(
        self,
        reader: StripeReader,
        store: Warehouse,
        platform: str,
        accounts: list[str],
        first: bool,
        settle: SettlePlan | None,
    ) -> None:
        """Connected accounts, landed together: each one's changes since its own cursor, then
        the windows (from the history start for accounts read the first time)."""
        dataflow, resource, context, failed = self.setup.dataflow, self.setup.resource, self.context, self.failed
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
        with ThreadPoolExecutor(self.setup.reading.concurrency, thread_name_prefix="account-changes") as pool:
            account_plans = [p for p in pool.map(plan_of, accounts) if p is not None]
        for plan in account_plans:
            if plan.note:
                self.note.append(plan.note)
                context.log.warning(plan.note)
        self.plans.extend(account_plans)
        readable = [a for a in accounts if a not in failed]
        extra = {w.key: w for w in extra_windows(dataflow, None, settle)}
        for plan in account_plans:
            extra |= {w.key: w for w in extra_windows(dataflow, plan, settle)}
        account_windows = history_windows(self.setup.time, self.windows) if first else self.windows
        for i, group in enumerate(contiguous(account_windows + list(extra.values()))):
            if not readable:
                break
            done = load_connected(
                reader, store, resource, group, readable, self.options, platform=platform,
                account_writes={p.account: p.write for p in account_plans if p.account} if i == 0 else None,
            )  # fmt: skip
            self.reports.append(done.report)
            failed.update(done.failed)
            readable = [a for a in readable if a not in done.failed]
        if not any(r.failures for r in self.reports):
            for plan in account_plans:
                if plan.account not in failed:  # a failed account's cursor stays as it was
                    plan.finish(store)

    def load_child(self, reader: StripeReader, store: Warehouse, who: AccountsToRead) -> None:
        """The children of the run's windows, and of windows whose parents changed since they
        were read, for the parents of the accounts the dataflow reads (each with its account's
        `Stripe-Account`); an account that fails keeps its children's rows."""
        child, resource, time, context = self.setup.child, self.setup.resource, self.setup.time, self.context
        assert child is not None
        reread = [
            w for w in stale_windows(reader, store, resource, time, context.log.warning) if w.key not in self.own
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
            ([a for a in who.accounts if a not in new], sorted(self.windows + reread, key=lambda w: w.start)),
            (new, history_windows(time, self.windows)),
        ):
            if not accounts:
                continue
            done = load_children(
                reader, store, resource, account_windows, self.options,
                platform=who.platform or None, accounts=accounts,
            )  # fmt: skip
            self.reports.append(done)
            self.failed.update(done.accounts_failed)

    def load_own(self, reader: StripeReader, store: Warehouse, who: AccountsToRead, settle: SettlePlan | None) -> None:
        """A top-level list: the platform's own account, then the connected accounts (an account
        read for the first time is read from the dataflow's history start)."""
        if who.platform in who.accounts:
            plan = self.load_account(reader.for_account(None), store, who.platform or None, self.windows, settle)
            if plan is not None:
                self.plans.append(plan)
        seen = seen_accounts(store, self.setup.resource, who.platform)
        connected = who.connected()
        for accounts, first in (
            ([a for a in connected if a in seen], False),
            ([a for a in connected if a not in seen], True),
        ):
            if accounts:
                self.load_accounts(reader, store, who.platform, accounts, first, settle)

    def log_landed(self, report: LoadReport | None) -> None:
        # Windows land newest first (Stripe lists newest first); they are recorded oldest
        # first with the partitions changed from events, so the asset's latest
        # materialization is its newest partition. Recorded also when the load fails later,
        # so the UI shows every window that did land.
        key, time, plans, landed = self.setup.key, self.setup.time, self.plans, self.landed
        changed = sorted({p for plan in plans if plan.written is not None for p in plan.written.partitions})
        rows_now = None
        if landed or changed:  # counted by the load's last write, or else read now
            counted = report.table_rows if report is not None else None
            rows_now = counted if counted is not None else table_rows(self.stripe_warehouse, self.setup.resource.table)
        records = []
        for outcome in landed.values():
            materialization = None
            if outcome.accepted and outcome.left_to is None:  # set aside: the newer run's materialization
                metadata = partition_metadata(outcome, self.options.columns, rows_now)
                if report is not None and not self.ranged:  # the run is this partition
                    metadata.update(run_metadata(report))
                materialization = dg.AssetMaterialization(
                    asset_key=key, partition=outcome.window.key, metadata=metadata
                )
            # A one-partition run yields its own partition's result; Dagster aims it. A fetch
            # set aside leaves the partition's check to the newer run that wrote it.
            check = None
            if (self.ranged or outcome.window.key not in self.own) and outcome.left_to is None:
                check = check_of(outcome)
            records.append(PartitionRecord(outcome.window.key, outcome.window.start, False, materialization, check))
        for plan in plans:  # also when a window failed later: the changes had landed
            valid = set(time.partitions_def.get_partition_keys())
            rows = rows_of_partitions(self.stripe_warehouse, self.setup.resource.name, changed) if changed else None
            records += change_records(key, plan, lambda k: time.window(k)[0], valid, rows_now, rows)
        self.logged.extend(record_partitions(self.context, key, CHECK_NAME, records))
        landed.clear()

    def run(self, stripe_api: StripeApiResource) -> Iterator[dg.AssetCheckResult]:
        resource, context, key = self.setup.resource, self.context, self.setup.key
        settings = self.setup.dataflow.validation
        report = None
        try:
            with stripe_api.reader(self.setup.reading) as reader:
                reader.warn = context.log.warning
                store = self.stripe_warehouse.warehouse()
                # Rows due to settle (a pending balance transaction now available) as the run starts.
                settle = settle_for(self.setup.dataflow, store)
                if settle is not None:
                    report_settling(context, key, settle)
                who = choose_accounts(reader, self.setup.dataflow.reads(self.setup.reading))
                if self.setup.child is not None:  # the children of the chosen accounts' parents in the warehouse
                    self.load_child(reader, store, who)
                else:
                    self.load_own(reader, store, who, settle)
                for account, why in self.failed.items():
                    context.log.warning(f"{resource.name}: account {account} not read: {why}")
            if not self.reports:
                raise StripeReadError(f"no account was read ({accounts_failed_text(self.failed) or 'none listed'})")
            report = merge_reports(self.reports) if len(self.reports) > 1 else self.reports[0]
        except (StripeReadError, WarehouseError) as exc:
            if isinstance(exc, ParentNotLoadedError) and self.setup.parent is not None:
                exc = exc.naming(self.setup.parent.to_user_string())  # the asset to materialize, as keyed here
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
            self.log_landed(report)
            for plan in self.plans:  # a connected account's only when something changed or was re-read
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
        if self.ranged:
            yield range_summary(report, settings, self.note)
        else:
            [window] = self.windows
            result = check_of(next(o for o in report.outcomes if o.window.key in self.own))
            yield result
            restate_newest(
                context, key, CHECK_NAME, PartitionRecord(window.key, window.start, False, None, None), result,
                self.logged,
            )  # fmt: skip
        if self.failed:  # the rest landed; the next run reads these accounts again
            raise dg.Failure(
                description=f"{resource.name}: {accounts_failed_text(self.failed)}",
                metadata={"accounts_failed": dg.MetadataValue.json(self.failed)},
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

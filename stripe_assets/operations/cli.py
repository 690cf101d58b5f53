"""`stripe-assets preview | status | runs | rollback | delete`: operating dataflows.

Every problem is one line on stderr: exit 2 for an unknown resource, dataflow, run or partition
(or a confirmation that cannot be asked), exit 1 when the request could not be carried out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from stripe_assets.operations.errors import FAILED, OperationError

if TYPE_CHECKING:
    from stripe_assets.operations.project import Project

ENV_HINT = (
    "the warehouse of the Dagster project's StripeAssetsComponent, else STRIPE_ASSETS_DUCKDB_PATH; "
    "DAGSTER_HOME (the Dagster instance)"
)


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add preview, status, runs, rollback and delete."""
    for add in (_add_preview, _add_status, _add_runs, _add_rollback, _add_delete):
        add(subparsers)


def _resources() -> str:
    from stripe_assets.catalog import RESOURCE_NAMES

    return ", ".join(RESOURCE_NAMES)


def _add_preview(subparsers: argparse._SubParsersAction) -> None:
    preview = subparsers.add_parser(
        "preview",
        help="show a resource's newest objects as the columns they would become (writes nothing)",
        description="Fetch the newest objects of a resource from the API (STRIPE_API_KEY, "
        "STRIPE_API_BASE, or the project's Stripe component's api_key_env and api_base) and print "
        "them as the table columns its dataflow maps them to, with the "
        "column types, schema drift and the records validation would quarantine. Nothing is written.",
    )
    preview.add_argument("resource", metavar="RESOURCE", help=f"one of: {_resources()}")
    preview.add_argument("--limit", type=_bounded(1, 100), default=10, help="objects to fetch (1-100, default 10)")
    preview.add_argument("--json", action="store_true", help="print JSON instead of text")
    preview.set_defaults(func=_guarded("preview", _preview))


def _add_status(subparsers: argparse._SubParsersAction) -> None:
    status = subparsers.add_parser(
        "status",
        help="each dataflow's schedule, last run, last refresh, rows, error rate and next run",
        description=f"One line per dataflow, from the warehouse and the Dagster instance ({ENV_HINT}).",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.set_defaults(func=_guarded("status", _status))


def _add_runs(subparsers: argparse._SubParsersAction) -> None:
    runs = subparsers.add_parser(
        "runs",
        help="a dataflow's run history with the error of each failed run",
        description="Runs of a dataflow's asset, newest first: start, duration, status, partitions, "
        f"records loaded and rejected, load rate, errors, and rollbacks ({ENV_HINT}).",
    )
    runs.add_argument("dataflow", metavar="DATAFLOW", help="a dataflow name (or its resource)")
    runs.add_argument("--limit", type=_bounded(1, 1000), default=20, help="entries to show (default 20)")
    runs.add_argument("--json", action="store_true", help="print JSON instead of text")
    runs.set_defaults(func=_guarded("runs", _runs))


def _add_rollback(subparsers: argparse._SubParsersAction) -> None:
    rollback = subparsers.add_parser(
        "rollback",
        help="return a table and its quarantine to their state before a load",
        description="Undo the newest load(s) of a resource, or a given run's loads and everything "
        "loaded after them in the same partitions, in one transaction. Undone loads are recorded "
        "in stripe_meta.loads as rolled_back.",
    )
    rollback.add_argument("resource", metavar="RESOURCE", help=f"one of: {_resources()}")
    target = rollback.add_mutually_exclusive_group()
    target.add_argument("--run", metavar="RUN_ID", help="undo this run's loads (a unique prefix works)")
    target.add_argument("--steps", type=_bounded(1, 1000), help="undo the newest N runs' loads (default 1)")
    rollback.add_argument("--partition", metavar="KEY", help="only this partition")
    rollback.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rollback.set_defaults(func=_guarded("rollback", _rollback))


def _add_delete(subparsers: argparse._SubParsersAction) -> None:
    delete = subparsers.add_parser(
        "delete",
        help="disable a dataflow and optionally drop its data",
        description="Set `enabled: false` for the dataflow in the dataflows file (comments and layout "
        "kept). With --drop-data also drop its table, quarantine and history tables and its load log "
        "rows, and wipe its asset's history in the Dagster instance at DAGSTER_HOME.",
    )
    delete.add_argument("dataflow", metavar="DATAFLOW", help="a dataflow name (or its resource)")
    delete.add_argument("--drop-data", action="store_true", help="also drop its data and Dagster history")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(func=_guarded("delete", _delete))


def _guarded(command: str, handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Report every expected failure as one line instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        import duckdb

        from stripe_assets.dataflows.config import DataflowConfigError
        from stripe_assets.ingest.client import StripeReadError
        from stripe_assets.ingest.warehouse import WarehouseError

        try:
            return handler(args)
        except OperationError as exc:
            print(f"stripe-assets {command}: {exc}", file=sys.stderr)
            return exc.exit_code
        except (DataflowConfigError, WarehouseError, StripeReadError) as exc:
            print(f"stripe-assets {command}: {exc}", file=sys.stderr)
            return FAILED
        except duckdb.Error as exc:  # every change runs in one transaction, rolled back on error
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(
                f"stripe-assets {command}: DuckDB {type(exc).__name__}: {first} (nothing was changed)", file=sys.stderr
            )
            return FAILED

    return run


def _project(keys: bool = True):
    """The project the command runs in: its component's settings and, with `keys`, the asset
    keys of its definitions (built once)."""
    from stripe_assets.operations.project import load_project

    return load_project(keys=keys)


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=str))


# --- handlers ------------------------------------------------------------------------------


def _preview(args: argparse.Namespace) -> int:
    from stripe_assets.ingest.columns import default_columns
    from stripe_assets.ingest.validation.policy import ValidationSettings
    from stripe_assets.operations.instance import budget_database
    from stripe_assets.operations.preview import build_preview, fetch_newest, render_preview
    from stripe_assets.operations.targets import dataflow_of, resource_named

    declaration = resource_named(args.resource)
    resource = declaration.name
    project = _project(keys=False)
    config = project.dataflows()
    flow = dataflow_of(config, resource)
    env = project.settings()
    # The `api:` section's timeouts, retries and budget, as the loads read.
    with config.api.reader(project.api_key(), env.api_base, budget_database=budget_database()) as reader:
        records = fetch_newest(reader, resource, args.limit)
    preview = build_preview(
        resource,
        records,
        flow.columns() if flow else default_columns(declaration),
        flow.validation if flow else ValidationSettings(),
        dataflow=flow.name if flow else None,
        api_base=reader.api_base,
    )
    if args.json:
        _print_json(preview.as_json())
    else:
        sys.stdout.write(render_preview(preview))
    return 0


def _status(args: argparse.Namespace) -> int:
    from stripe_assets.operations.instance import dagster_instance, first_line
    from stripe_assets.operations.status import collect_status, render_status

    project = _project()
    config = project.dataflows()
    with dagster_instance() as (instance, problem):
        try:
            statuses, notes = collect_status(config, project.warehouse(), instance, datetime.now(UTC), project.keys)
        except Exception as exc:  # the instance's storage failed a query: show the warehouse's side
            if instance is None:
                raise
            problem = f"Dagster run history unreadable: {first_line(exc)}"
            statuses, notes = collect_status(config, project.warehouse(), None, datetime.now(UTC))
    notes += [note for note in (problem, project.problem) if note]
    if args.json:
        _print_json({"dataflows": [s.as_json() for s in statuses], "notes": notes})
    else:
        sys.stdout.write(render_status(statuses, notes))
    return 0


def _runs(args: argparse.Namespace) -> int:
    from stripe_assets.operations.instance import dagster_instance
    from stripe_assets.operations.runs import collect_runs, render_runs
    from stripe_assets.operations.targets import dataflow_named

    project = _project()
    flow = dataflow_named(project.dataflows(), args.dataflow)
    with dagster_instance() as (instance, problem):
        entries, notes = collect_runs(flow, project.warehouse(), instance, args.limit, project.keys)
    notes += [note for note in (problem, project.problem) if note]
    key = project.keys(flow.resource)
    if args.json:
        runs = [e.as_json() for e in entries]
        _print_json({"dataflow": flow.name, "asset": key.to_user_string(), "runs": runs, "notes": notes})
    else:
        sys.stdout.write(render_runs(flow, entries, notes, key))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from stripe_assets.dataflows.config import DataflowConfigError
    from stripe_assets.operations.confirm import confirmed
    from stripe_assets.operations.dagster_record import record_rollback
    from stripe_assets.operations.instance import dagster_instance
    from stripe_assets.operations.rollback import RollbackPlan, RollbackRequest, run_rollback
    from stripe_assets.operations.targets import dataflow_of, resource_named

    resource = resource_named(args.resource).name
    request = RollbackRequest(resource, run_id=args.run, steps=args.steps, partition=args.partition)
    project = _project()
    if project.problem:  # said before anything changes: which warehouse this is
        print(f"note: {project.problem}")
    try:
        flow = dataflow_of(project.dataflows(), resource)
    except DataflowConfigError as exc:  # a broken config must not stand in the way of a rollback
        print(f"stripe-assets rollback: warning: {exc}; partition keys are not checked", file=sys.stderr)
        flow = None

    def ask(plan: RollbackPlan) -> bool:
        print(plan.describe())
        return confirmed("Roll back?", assume_yes=args.yes, action=f"roll back {resource}")

    warehouse = project.warehouse()
    result = run_rollback(warehouse, request, dataflow=flow, confirm=ask)
    if result is None:
        print("Nothing was changed.")
        return FAILED
    print(result.summary())
    with dagster_instance() as (instance, problem):
        if instance is None:
            print(f"note: not recorded in Dagster: {problem}")
        else:
            key = project.keys(resource)
            reported = record_rollback(instance, result, warehouse, key)
            print(
                f"Recorded in Dagster: {reported} materialization(s) of {resource} "
                f"(asset {key.to_user_string()}) with rolled_back_to."
            )
    return 0


def _delete(args: argparse.Namespace) -> int:

    from stripe_assets.operations.confirm import confirmed
    from stripe_assets.operations.dagster_record import record_delete
    from stripe_assets.operations.dataflows_file import plan_disable
    from stripe_assets.operations.delete import drop_resource_data, read_footprint
    from stripe_assets.operations.instance import dagster_instance
    from stripe_assets.operations.targets import dataflow_named, removed_resource

    project = _project()
    config = project.dataflows()
    try:
        flow = dataflow_named(config, args.dataflow)
    except OperationError as unknown:
        orphan = removed_resource(config, args.dataflow)
        if orphan is None:
            raise
        return _delete_removed(args, project, orphan.name, unknown)
    source = project.dataflows_file()
    if source is None:
        raise OperationError(
            "no dataflows file: the built-in defaults are in use; create dataflows.yaml "
            "(or point STRIPE_ASSETS_DATAFLOWS at one) to disable a dataflow"
        )
    edit = plan_disable(source, flow.name)
    warehouse = project.warehouse()
    keys = project.keys
    key = keys(flow.resource)
    lines = [f"Delete dataflow {flow.name} (resource {flow.resource}):"]
    lines.append(
        f"  - set `enabled: false` in {source} (its schedule starts stopped once the code location reloads)"
        if edit.after is not None
        else f"  - already disabled in {source}"
    )
    if args.drop_data:
        footprint = read_footprint(warehouse, flow.resource)
        lines += [f"  - {line}" for line in footprint.describe()] or [f"  - no data in {warehouse}"]
        with dagster_instance() as (_, problem):
            lines.append(
                f"  - wipe the Dagster history of asset {key.to_user_string()}" if not problem else f"  - {problem}"
            )
        lines += [f"  - note: {project.problem}"] if project.problem else []
    else:
        lines.append("  - keep its data (--drop-data drops its tables, quarantine, history and Dagster history)")
    print("\n".join(lines))
    if not confirmed("Delete?", assume_yes=args.yes, action=f"delete dataflow {flow.name}"):
        print("Nothing was changed.")
        return FAILED

    # Disable first: if dropping then fails, the dataflow is off and its data intact, and
    # running the command again finishes the job.
    done = [
        f"dataflow {flow.name} disabled in {source}" if edit.apply() else f"dataflow {flow.name} was already disabled"
    ]
    if args.drop_data:
        dropped = drop_resource_data(warehouse, flow.resource)
        if not dropped.empty:
            done.append(f"dropped {', '.join(dropped.tables)} and {dropped.load_log_rows:,} load log rows")
    with dagster_instance() as (instance, _):
        if instance is not None:
            if args.drop_data:
                instance.wipe_assets([key])
                done.append(f"wiped the Dagster history of {key.to_user_string()}")
            record_delete(instance, key, flow.name, dropped=args.drop_data)
    print("Done: " + "; ".join(done) + ".")
    return 0


def _delete_removed(args: argparse.Namespace, project: Project, resource: str, unknown: OperationError) -> int:
    """`delete` of a resource whose dataflow was removed from the file while its data stayed:
    there is nothing to disable, and --drop-data still reaches its data and asset history."""
    from stripe_assets.operations.confirm import confirmed
    from stripe_assets.operations.dagster_record import record_delete
    from stripe_assets.operations.delete import drop_resource_data, read_footprint
    from stripe_assets.operations.instance import dagster_instance

    warehouse = project.warehouse()
    footprint = read_footprint(warehouse, resource)
    if footprint.empty:
        raise unknown
    if not args.drop_data:
        raise OperationError(
            f"{unknown}; the dataflow of {resource} was removed but its data is still in {warehouse}: "
            f"`stripe-assets delete {resource} --drop-data` drops it"
        )
    keys = project.keys
    key = keys(resource)
    lines = [f"Delete the data of {resource} (no dataflow loads it any more):"]
    lines += [f"  - {line}" for line in footprint.describe()]
    lines.append(f"  - wipe the Dagster history of asset {key.to_user_string()}")
    lines += [f"  - note: {project.problem}"] if project.problem else []
    print("\n".join(lines))
    if not confirmed("Delete?", assume_yes=args.yes, action=f"delete the data of {resource}"):
        print("Nothing was changed.")
        return FAILED
    dropped = drop_resource_data(warehouse, resource)
    done = [f"dropped {', '.join(dropped.tables)} and {dropped.load_log_rows:,} load log rows"]
    with dagster_instance() as (instance, _):
        if instance is not None:
            instance.wipe_assets([key])
            done.append(f"wiped the Dagster history of {key.to_user_string()}")
            record_delete(instance, key, f"stripe_{resource}", dropped=True)
    print("Done: " + "; ".join(done) + ".")
    return 0

"""`stripe-assets summary`: what the warehouse holds, per table."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass

from stripe_assets.catalog import RESOURCES
from stripe_assets.catalog.child import child_of
from stripe_assets.dataflows.config import DataflowConfigError, DataflowsConfig, load_dataflows
from stripe_assets.dataflows.partitions import PartitionKeyError, time_model
from stripe_assets.ingest.columns import PARENT_CREATED
from stripe_assets.ingest.warehouse import Warehouse, WarehouseError
from stripe_assets.ingest.warehouse.loads import CHANGED, count, partition_loads, table_exists


@dataclass
class TableSummary:
    resource: str
    group: str  # the resource's asset group (its domain)
    rows: int
    first_created: str
    last_created: str
    quarantined: int
    partitions_loaded: int
    partitions_rejected: int
    partitions_with_rows: int = 0
    partitions_spanned: int | None = None  # windows from the first to the last partition with rows

    @property
    def partitions_cell(self) -> str:
        """`4 of 6`: partitions holding rows of the windows between the first and the last."""
        if self.partitions_spanned is None:
            return str(self.partitions_with_rows)
        return f"{self.partitions_with_rows} of {self.partitions_spanned}"


def _spanned(config: DataflowsConfig | None, resource: str, first: str, last: str) -> int | None:
    flow = next((f for f in config.dataflows if f.resource == resource), None) if config else None
    if flow is None:
        return None
    model = time_model(flow)
    try:
        start, end = model.window(first)[0], model.window(last)[0]
    except PartitionKeyError:  # keys of another partitioning than the dataflow's now
        return None
    return (end - start) // model.length + 1


def configured(load: Callable[[], DataflowsConfig] = load_dataflows) -> DataflowsConfig | None:
    """The dataflows, for the partitions each spans; None when the file is broken (the summary
    reads the warehouse, the file only adds the span)."""
    try:
        return load()
    except DataflowConfigError:
        return None


def summarize(warehouse: Warehouse, config: DataflowsConfig | None = None) -> list[TableSummary]:
    out = []
    with warehouse.connect(read_only=True) as conn:
        for resource in RESOURCES.values():
            if not table_exists(conn, resource.table):
                continue
            # A child's rows are placed by their parent's `created` (some children have none).
            created = PARENT_CREATED if child_of(resource) is not None else "created"
            rows, first, last = conn.execute(
                f"SELECT count(*), min({created}), max({created}) FROM {resource.table}"
            ).fetchall()[0]
            quarantined = (
                count(conn, f"SELECT count(DISTINCT id) FROM {resource.quarantine_table}")
                if table_exists(conn, resource.quarantine_table)
                else 0
            )
            # The newest load of each partition that was not rolled back decides its status.
            latest: dict[str, str] = {}
            for load in partition_loads(conn, resource.name):  # newest first
                if load.active and load.status != CHANGED:  # updates from events are not checks
                    latest.setdefault(load.partition, load.status)
            loaded = sum(status == "loaded" for status in latest.values())
            rejected = sum(status == "rejected" for status in latest.values())
            keys = sorted(p for (p,) in conn.execute(f"SELECT DISTINCT _partition FROM {resource.table}").fetchall())
            out.append(
                TableSummary(
                    resource.name,
                    resource.group,
                    rows,
                    first.strftime("%Y-%m-%d %H:%M:%S") if first else "-",
                    last.strftime("%Y-%m-%d %H:%M:%S") if last else "-",
                    quarantined,
                    loaded,
                    rejected,
                    len(keys),
                    _spanned(config, resource.name, keys[0], keys[-1]) if keys else None,
                )
            )
    return out


def render(summaries: list[TableSummary]) -> str:
    header = (
        "table",
        "group",
        "rows",
        "first created (UTC)",
        "last created (UTC)",
        "partitions",
        "quarantined",
        "checks passed",
        "checks failed",
    )
    body = [
        (
            f"stripe.{s.resource}",
            s.group,
            str(s.rows),
            s.first_created,
            s.last_created,
            s.partitions_cell,
            str(s.quarantined),
            str(s.partitions_loaded),
            str(s.partitions_rejected),
        )
        for s in summaries
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from stripe_assets.operations.errors import OperationError
    from stripe_assets.operations.project import load_project  # loads Dagster in a Dagster project only

    try:
        project = load_project(keys=False)  # the warehouse and dataflows of the project's component
    except OperationError as exc:
        print(f"stripe-assets summary: {exc}", file=sys.stderr)
        return exc.exit_code
    warehouse = Warehouse(args.duckdb_path) if args.duckdb_path else project.warehouse()
    where = str(warehouse)
    try:
        summaries = summarize(warehouse, configured(project.dataflows)) if warehouse.exists() else []
    except WarehouseError as exc:  # a lake whose catalog cannot be reached, a damaged file
        print(f"stripe-assets summary: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"warehouse": where, "tables": [asdict(s) for s in summaries]}, indent=2))
        return 0 if summaries else 1
    if not summaries:
        print(f"{where}: no Stripe tables yet")
        return 1
    print(f"Warehouse {where}")
    print(render(summaries))
    if any(s.partitions_spanned and s.partitions_with_rows < s.partitions_spanned for s in summaries):
        print("partitions: those holding rows, of the windows from the first to the last (gaps were never loaded)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("summary", help="print rows, time window and check results per table")
    parser.add_argument(
        "--duckdb-path",
        default=None,
        help="the warehouse file (default: the Dagster project's component's warehouse_path, else "
        "the environment's warehouse: $STRIPE_ASSETS_WAREHOUSE, else $STRIPE_ASSETS_DUCKDB_PATH or data/stripe.duckdb)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)

"""`stripe-assets summary`: what the warehouse holds, per table."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from stripe_assets.catalog import RESOURCES
from stripe_assets.ingest.warehouse import Warehouse, WarehouseError
from stripe_assets.ingest.warehouse.loads import CHANGED, count, partition_loads, table_exists
from stripe_assets.settings import open_warehouse


@dataclass
class TableSummary:
    resource: str
    rows: int
    first_created: str
    last_created: str
    quarantined: int
    partitions_loaded: int
    partitions_rejected: int


def summarize(warehouse: Warehouse) -> list[TableSummary]:
    out = []
    with warehouse.connect(read_only=True) as conn:
        for resource in RESOURCES.values():
            if not table_exists(conn, resource.table):
                continue
            rows, first, last = conn.execute(
                f"SELECT count(*), min(created), max(created) FROM {resource.table}"
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
            out.append(
                TableSummary(
                    resource.name,
                    rows,
                    first.strftime("%Y-%m-%d %H:%M:%S") if first else "-",
                    last.strftime("%Y-%m-%d %H:%M:%S") if last else "-",
                    quarantined,
                    loaded,
                    rejected,
                )
            )
    return out


def render(summaries: list[TableSummary]) -> str:
    header = (
        "table",
        "rows",
        "first created (UTC)",
        "last created (UTC)",
        "quarantined",
        "checks passed",
        "checks failed",
    )
    body = [
        (
            f"stripe.{s.resource}",
            str(s.rows),
            s.first_created,
            s.last_created,
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
    warehouse = Warehouse(args.duckdb_path) if args.duckdb_path else open_warehouse()
    where = str(warehouse)
    try:
        summaries = summarize(warehouse) if warehouse.exists() else []
    except WarehouseError as exc:  # a lake whose catalog cannot be reached, a damaged file
        print(f"stripe-assets summary: {exc}", file=sys.stderr)
        return 1
    if not summaries:
        print(f"{where}: no Stripe tables yet")
        return 1
    print(f"Warehouse {where}")
    print(render(summaries))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("summary", help="print rows, time window and check results per table")
    parser.add_argument(
        "--duckdb-path",
        default=None,
        help="the warehouse file (default: the environment's warehouse: $STRIPE_ASSETS_WAREHOUSE, "
        "else $STRIPE_ASSETS_DUCKDB_PATH or data/stripe.duckdb)",
    )
    parser.set_defaults(func=run)

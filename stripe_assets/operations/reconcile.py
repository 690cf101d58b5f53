"""`stripe-assets reconcile`: the loaded balance transactions against Stripe's own totals, now.

The same comparison as the `reconciles_with_stripe` check (`stripe_assets.ingest.reconcile`),
from a terminal: exit 0 when it matches, 1 when it differs or cannot be made.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reconcile",
        help="compare the loaded balance transactions with Stripe's balance summary report and balance",
        description="Per currency, the warehouse's activity and payouts against Stripe's balance summary "
        "report (balance.summary.1) over the loaded days, and with complete history Σ net against "
        "/v1/balance (STRIPE_API_KEY, STRIPE_API_BASE, or the project's Stripe component's api_key_env "
        "and api_base). Exit 1 when they differ, naming the days.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=_reconcile)


def _reconcile(args: argparse.Namespace) -> int:
    from stripe_assets.ingest.reconcile import ReportsClient, ReportsError, reconcile
    from stripe_assets.ingest.reconcile.summary import SummaryError
    from stripe_assets.ingest.warehouse import WarehouseError
    from stripe_assets.operations.errors import OperationError
    from stripe_assets.operations.project import load_project
    from stripe_assets.settings import open_warehouse

    try:
        project = load_project(keys=False)
        env = project.settings()  # the key, API and warehouse of the project's component
        api_key = project.api_key()
    except OperationError as exc:
        print(f"stripe-assets reconcile: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        report = reconcile(ReportsClient(api_key or "", env.api_base), open_warehouse(env))
    except (ReportsError, SummaryError, WarehouseError) as exc:
        print(f"stripe-assets reconcile: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"passed": report.passed, "description": report.description, **report.metadata}, indent=2))
        return 0 if report.passed else 1
    print(report.description)
    currencies = report.metadata.get("currencies", {})
    if currencies:
        names = sorted({name for figures in currencies.values() for name in figures})
        header = ["currency", *names]
        lines = [header] + [[c, *(figures.get(n, "") for n in names)] for c, figures in currencies.items()]
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        for line in lines:
            print("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    for note in report.metadata.get("notes", []):
        print(f"note: {note}")
    return 0 if report.passed else 1

"""`stripe-assets dataflows`: review (or only validate) the dataflows config."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stripe_assets.dataflows.review import DagsterNames

from stripe_assets.dataflows.config import (
    BUILT_IN,
    DATAFLOWS_ENV,
    DataflowConfigError,
    DataflowsConfig,
    config_source,
    load_dataflows,
)


def _utc_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 time (e.g. 2026-01-01T02:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (append Z)")
    return moment.astimezone(UTC)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dataflows",
        help="review the dataflows config (schedules, partitions, validation, alerts, mapping)",
        description=(
            "Print each dataflow as it will run: schedule in words, next run times, partition range, "
            f"backfill, validation, alerts and column mapping. Reads --file, else the dataflows of the "
            f"Dagster project's StripeAssetsComponent, else ${DATAFLOWS_ENV}, else dataflows.yaml in "
            "the project home, else the built-in defaults."
        ),
    )
    parser.add_argument("--file", metavar="PATH", help="the dataflows config to review")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="only check the config; exit 1 with the problem if it is invalid",
    )
    parser.add_argument(
        "--now", type=_utc_time, metavar="TIME", help="review as of this UTC time (default: the current time)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = config_source(args.file)
    return show(args, str(source) if source is not None else BUILT_IN, lambda: load_dataflows(args.file))


def show(
    args: argparse.Namespace, name: str, load: Callable[[], DataflowsConfig], names: DagsterNames | None = None
) -> int:
    """Validate or review the dataflows `load` reads, naming them `name` (and their Dagster parts
    as `names` says: a project's translated keys and suffixed schedules)."""
    try:
        config = load()
    except DataflowConfigError as exc:
        print(f"stripe-assets dataflows: {exc}", file=sys.stderr)
        return 1
    if args.validate:
        print(f"{name}: OK ({len(config.dataflows)} dataflows)")
        return 0
    # Loads Dagster; --validate does not.
    from stripe_assets.dataflows.review import DagsterNames, review, review_json

    now = args.now or datetime.now(UTC)
    names = names or DagsterNames()
    if args.json:
        print(json.dumps(review_json(config, name, now, names), indent=2))
    else:
        sys.stdout.write(review(config, name, now, names))
    return 0

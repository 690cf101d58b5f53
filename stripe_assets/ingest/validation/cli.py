"""`stripe-assets schema`: show the generated validation schema of one or every resource."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.ingest.validation.schemas import describe_schema, schema_markdown


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="show the validation schema generated from Stripe's API version",
        description="Print the schema every record is validated against: per column its type, "
        "nullability, enum values and rules, generated from the installed stripe package.",
    )
    parser.add_argument("resources", nargs="*", metavar="RESOURCE",
                        help=f"one or more of: {', '.join(RESOURCE_NAMES)} (default: all)")
    parser.add_argument("--strict-enums", action="store_true",
                        help="show the schema with unknown enum values rejected instead of reported as drift")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown tables")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        resources = [get_resource(name) for name in args.resources or RESOURCE_NAMES]
    except ValueError as exc:
        print(f"stripe-assets schema: {exc}", file=sys.stderr)
        return 2
    if args.json:
        described = {r.name: [asdict(row) for row in describe_schema(r, args.strict_enums)] for r in resources}
        print(json.dumps(described, indent=2))
    else:
        print("\n\n".join(schema_markdown(r, args.strict_enums) for r in resources))
    return 0

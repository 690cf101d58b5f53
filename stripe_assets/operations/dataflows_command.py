"""`stripe-assets dataflows` (see `stripe_assets.dataflows.cli`) reading, when no --file is given,
the dataflows of the Dagster project's `StripeAssetsComponent`: its file, or those written inline
in its defs.yaml."""

from __future__ import annotations

import argparse
import sys

from stripe_assets.dataflows import cli
from stripe_assets.dataflows.config import BUILT_IN
from stripe_assets.operations.errors import OperationError


def register(subparsers: argparse._SubParsersAction) -> None:
    cli.register(subparsers)
    subparsers.choices["dataflows"].set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.file is not None:
        return cli.run(args)
    from stripe_assets.operations.project import load_project  # loads Dagster in a Dagster project only

    try:
        # The definitions are loaded for the asset keys only when a component's translator may move them.
        project = load_project()
    except OperationError as exc:
        print(f"stripe-assets dataflows: {exc}", file=sys.stderr)
        return exc.exit_code
    if project.component is None:
        return cli.run(args)
    if project.inline:
        name = f"{project.component / 'defs.yaml'} (inline)"
    else:
        source = project.dataflows_file()
        name = str(source) if source is not None else BUILT_IN
    from stripe_assets.dataflows.review import DagsterNames

    if project.problem:  # the keys are the catalog's: said on stderr, --json stays parseable
        print(f"note: {project.problem}", file=sys.stderr)

    keys = {resource: key.to_user_string() for resource, key in project.keys.by_resource.items()}
    return cli.show(args, name, project.dataflows, DagsterNames(project.name_suffix, keys))

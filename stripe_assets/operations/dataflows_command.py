"""`stripe-assets dataflows` (see `stripe_assets.dataflows.cli`) reading, when no --file is given,
the dataflows of the Dagster project's `StripeAssetsComponent`: its file, or those written inline
in its defs.yaml."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from stripe_assets.dataflows import cli
from stripe_assets.dataflows.config import BUILT_IN
from stripe_assets.dataflows.errors import DataflowConfigError
from stripe_assets.operations.errors import OperationError

if TYPE_CHECKING:
    from stripe_assets.operations.project import Project


def register(subparsers: argparse._SubParsersAction) -> None:
    cli.register(subparsers)
    subparsers.choices["dataflows"].set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.file is not None:
        return cli.run(args)
    from stripe_assets.operations.project import load_project  # loads Dagster in a Dagster project only

    try:
        project = load_project(keys=False)
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

    names = DagsterNames(project.name_suffix)
    if not args.validate and _loads(project):
        # The review names each asset: the keys the component's translator gave them, read from
        # its definitions (built only for a valid dataflows file, which they need).
        keyed = load_project()
        if keyed.problem:  # the keys are the catalog's: said on stderr, --json stays parseable
            print(f"note: {keyed.problem}", file=sys.stderr)
        keys = {resource: key.to_user_string() for resource, key in keyed.keys.by_resource.items()}
        names = DagsterNames(project.name_suffix, keys)
    return cli.show(args, name, project.dataflows, names)


def _loads(project: Project) -> bool:
    """Whether the component's dataflows are valid (an invalid file is said by `cli.show`)."""
    try:
        project.dataflows()
    except DataflowConfigError:
        return False
    return True

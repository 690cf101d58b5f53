"""`stripe-assets alerts`: the alerts' own command, reading in a Dagster project the dataflows
of its Stripe component (the channels its alerts sensor sends to), as the other commands do:
`--file`, else the component's dataflows, else the environment's file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stripe_assets.alerts.routes import AlertRoutes


def register(subparsers: argparse._SubParsersAction) -> None:
    from stripe_assets.alerts import cli  # its sending parts load Dagster: only for this command

    cli.register(subparsers, default_routes=project_routes)


def project_routes() -> AlertRoutes:
    from stripe_assets.alerts.routes import routes_from_dataflows
    from stripe_assets.operations.errors import OperationError
    from stripe_assets.operations.project import load_project

    try:
        return routes_from_dataflows(load_project(keys=False).dataflows())
    except OperationError as exc:  # e.g. several components and none chosen: the same one line
        raise ValueError(str(exc)) from None

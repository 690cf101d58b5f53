"""`stripe-assets alerts test <dataflow>`: send a sample alert through each of its channels."""

from __future__ import annotations

import argparse
import functools
import logging
import sys
import time
from collections.abc import Callable

from pydantic import ValidationError

from stripe_assets.alerts.alert import render_text, sample_alert
from stripe_assets.alerts.channels import make_senders
from stripe_assets.alerts.dispatch import Job, dispatch
from stripe_assets.alerts.routes import AlertRoutes, load_routes
from stripe_assets.alerts.tick import delivery_recorder

# Generous, but bounded: a channel that hangs is reported instead of blocking the command.
TEST_BUDGET_SECONDS = 60.0


def register(subparsers: argparse._SubParsersAction, default_routes: Callable[[], AlertRoutes] = load_routes) -> None:
    """`default_routes`: the channels without `--file` (`stripe_assets.operations.alerts_command`
    gives a Dagster project's component's)."""
    parser = subparsers.add_parser("alerts", help="Run alerts (start / success / failure).")
    actions = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    test = actions.add_parser(
        "test",
        help="Send a sample alert through every channel of a dataflow and report each result.",
    )
    test.add_argument("dataflow", metavar="DATAFLOW", help="a dataflow name (or its resource), as in dataflows.yaml")
    test.add_argument(
        "--file",
        default=None,
        help="Dataflows file (default: the Dagster project's Stripe component's, else $STRIPE_ASSETS_DATAFLOWS, "
        "else dataflows.yaml in the project home).",
    )
    test.set_defaults(func=functools.partial(run_test, default_routes=default_routes))


def run_test(args: argparse.Namespace, default_routes: Callable[[], AlertRoutes] = load_routes) -> int:
    try:
        routes = load_routes(args.file) if args.file is not None else default_routes()
        flow = routes.dataflow(args.dataflow)
    except (ValidationError, ValueError, OSError) as exc:
        print(f"stripe-assets alerts test: {_one_line(exc)}", file=sys.stderr)
        return 2
    if not flow.alerts.channels:
        print(f"stripe-assets alerts test: dataflow {flow.name} has no alert channels configured", file=sys.stderr)
        return 1
    alert = sample_alert(flow.name, flow.resource, routes.ui_base_url)
    print(f"Sending a test alert for dataflow {flow.name} to: {', '.join(flow.alerts.channels)}\n")
    print("\n".join("  " + line for line in render_text(alert).splitlines()) + "\n")

    quiet = logging.getLogger("stripe_assets.alerts.test")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False  # the text is printed above once, not again per log channel
    senders = make_senders({name: routes.all_channels[name] for name in flow.alerts.channels}, quiet)
    result = dispatch(
        [Job("test", alert, tuple(flow.alerts.channels))],
        senders,
        time.monotonic() + TEST_BUDGET_SECONDS,
        on_delivery=delivery_recorder(routes, quiet),
    )

    by_channel = {d.channel: d for d in result.deliveries}
    failed = 0
    for name in flow.alerts.channels:
        d = by_channel.get(name)
        kind = senders[name].kind
        if d is None:
            failed += 1
            print(f"FAILED  {name} ({kind}): not attempted within {TEST_BUDGET_SECONDS:g} s")
        elif d.delivered:
            print(f"ok      {name} ({kind}): delivered in {d.seconds:.2f} s ({d.attempts} attempt(s))")
        else:
            failed += 1
            print(f"FAILED  {name} ({kind}): {d.error}")
    return 1 if failed else 0


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return f"{where}: {err['msg']}" if where else err["msg"]
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

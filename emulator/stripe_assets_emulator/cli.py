"""`stripe-assets emulator`: serve a synthetic Stripe account on a local port."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from pydantic import ValidationError

from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets_emulator.api import EmulatorApi
from stripe_assets_emulator.changes import ChangeRequestError, parse_changes
from stripe_assets_emulator.config import (
    DEFAULT_API_KEY,
    DEFAULT_DAYS,
    DEFAULT_PER_DAY,
    DISPUTE_RATE,
    INVALID_KINDS,
    RATE_LIMIT_PRESETS,
    ConnectConfig,
    EmulatorConfig,
    FaultConfig,
    RateLimit,
    counted_resources,
    default_start,
    parse_per_day,
)
from stripe_assets_emulator.dataset import Dataset
from stripe_assets_emulator.generators import Generator, generator_classes
from stripe_assets_emulator.lifecycles import CHANGE_KINDS
from stripe_assets_emulator.server import EmulatorHTTPServer, serve_until_stopped

DEFAULT_PORT = 12111


def _argument(parse):
    """Wraps a parser so argparse reports its ValueError message as a usage error."""

    def wrapped(text: str):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    wrapped.__name__ = parse.__name__
    return wrapped


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is nothing to show (off switches, unset options)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _words(resource: str) -> str:
    return resource.replace("_", " ")


def _listed(resources: tuple[str, ...]) -> str:
    words = [_words(r) for r in resources]
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


def _followers() -> list[tuple[str, type[Generator]]]:
    return [(name, g) for name, g in generator_classes().items() if g.follows is not None]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="serve a synthetic, deterministic Stripe account over HTTP (read-only API)",
        description=(
            f"Serve a synthetic Stripe account on a local port: {_listed(RESOURCE_NAMES)}, "
            "listed and retrieved like Stripe's API. "
            "Point the project at it with STRIPE_API_BASE=<printed URL> and STRIPE_API_KEY=<key>."
        ),
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on (0: any free port)")
    parser.add_argument("--seed", type=int, default=42, help="same seed, same data, byte for byte")
    parser.add_argument(
        "--start",
        type=_argument(date.fromisoformat),
        default=None,
        help="first UTC day with objects, YYYY-MM-DD (default: 30 days before today)",
    )
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="number of UTC days with objects")
    parser.add_argument(
        "--per-day",
        type=_argument(parse_per_day),
        default=DEFAULT_PER_DAY,
        help="objects created per day: one number for every resource, or e.g. "
        f"'charges=500,customers=50' (others keep the default); resources: {', '.join(counted_resources())}. "
        + " ".join(f"{_words(name).capitalize()} follow {g.follows}." for name, g in _followers()),
    )
    parser.add_argument(
        "--dispute-rate",
        type=float,
        default=DISPUTE_RATE,
        help="share (0..1) of a day's settled charges disputed later, at least one a day "
        f"(default {DISPUTE_RATE}); more makes disputes in volume",
    )
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the secret key clients must send")
    parser.add_argument(
        "--advance-days",
        type=float,
        default=0.0,
        help="before serving, move the clock this many days past the generated window, making "
        "--changes on the way (POST /_emulator/advance moves it later)",
    )
    parser.add_argument(
        "--changes",
        type=_argument(parse_changes),
        default=0,
        help="changes made while the clock moves: a total spread over every kind, or e.g. "
        f"'charge_refunded=500,customer_deleted=20'; kinds: {', '.join(CHANGE_KINDS)}",
    )
    parser.add_argument(
        "--old-api-version-share",
        type=float,
        default=0.0,
        help="share (0..1) of those changes' events rendered at an older API version",
    )
    parser.add_argument("--log-requests", action="store_true", help="print one line per request to stderr")
    parser.add_argument(
        "--connected-accounts",
        type=int,
        default=0,
        help="make the account a Connect platform with this many connected accounts "
        "(read with the Stripe-Account header; every 5th has no objects)",
    )
    parser.add_argument(
        "--connected-per-day", type=int, default=2, help="objects per resource and day in a connected account"
    )

    faults = parser.add_argument_group("fault injection (all off by default)")
    faults.add_argument(
        "--invalid-fraction",
        type=float,
        default=0.0,
        help="share (0..1) of each resource's objects served in breach of Stripe's schema; "
        "GET /_emulator/invalid?resource=charges lists them with the field and reason",
    )
    faults.add_argument(
        "--invalid-kinds",
        default=",".join(INVALID_KINDS),
        help="comma-separated ways to break objects: " + ", ".join(INVALID_KINDS),
    )
    faults.add_argument(
        "--rate-limit",
        type=_argument(RateLimit.parse),
        default=None,
        help="answer 429 (with Retry-After: 1 and Stripe-Should-Retry: true) above this rate: "
        f"{' or '.join(RATE_LIMIT_PRESETS)} (Stripe's test/live limits: 25 or 100 requests/s "
        "overall, 25/s per endpoint) or a number of requests per second",
    )
    faults.add_argument(
        "--error-every", type=int, default=None, help="answer every Nth API request with a 500 (api_error)"
    )
    faults.add_argument(
        "--empty-pages", action="store_true",
        help="answer list pages after the first (with starting_after) with has_more=true and no objects",
    )
    faults.add_argument(
        "--outside-window-every", type=int, default=None,
        help="list every Nth object with a created outside the requested range (year 9999, negative, its end)",
    )
    faults.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request")
    faults.add_argument(
        "--latency-jitter-ms",
        type=float,
        default=0.0,
        help="random extra delay per request, up to this (seeded)",
    )
    parser.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        seed=args.seed,
        start=args.start or default_start(),
        days=args.days,
        per_day=args.per_day,
        dispute_rate=args.dispute_rate,
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        faults=FaultConfig(
            invalid_fraction=args.invalid_fraction,
            invalid_kinds=args.invalid_kinds,
            rate_limit=args.rate_limit,
            error_every=args.error_every,
            empty_pages=args.empty_pages,
            outside_window_every=args.outside_window_every,
            latency_ms=args.latency_ms,
            latency_jitter_ms=args.latency_jitter_ms,
        ),
        connect=ConnectConfig(accounts=args.connected_accounts, per_day=args.connected_per_day),
    )


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "config"
    return f"{where}: {error['msg'].removeprefix('Value error, ')}"


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ValidationError as exc:
        print(f"stripe-assets emulator: error: {_first_error(exc)}", file=sys.stderr)
        return 2
    api = EmulatorApi(Dataset(config), prefetch=True)
    done = None
    if args.advance_days or args.changes:
        try:
            done = api.advance(
                int(args.advance_days * 86400), args.changes, old_api_version_share=args.old_api_version_share
            )
        except ChangeRequestError as exc:
            api.close()
            print(f"stripe-assets emulator: error: {exc}", file=sys.stderr)
            return 2
    try:
        server = EmulatorHTTPServer((config.host, config.port), api, args.log_requests)
    except OSError as exc:
        api.close()
        print(
            f"stripe-assets emulator: error: cannot listen on {config.host}:{config.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    last_day = date.fromordinal(config.start.toordinal() + config.days - 1)
    print(
        f"Stripe emulator serving {config.start}..{last_day} (seed {config.seed}) at {server.url} "
        f"with API key {config.api_key}",
        flush=True,
    )
    if done is not None:
        print(
            f"Clock moved {args.advance_days:g} days past the window: "
            f"{sum(done.changes.values())} changes, {done.events} events",
            flush=True,
        )
    serve_until_stopped(server)
    return 0

"""`stripe-assets`: the project's command line.

Each area registers its own subcommands (`register(subparsers)` in its `cli` module), so this file
only lists them; imports stay lazy so `stripe-assets emulator` starts without loading Dagster.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

# (subcommand, module providing `register(subparsers)`)
COMMANDS: tuple[tuple[str, str], ...] = (
    ("emulator", "stripe_assets_emulator.cli"),
    ("summary", "stripe_assets.operations.summary"),
    ("schema", "stripe_assets.ingest.validation.cli"),
    ("dataflows", "stripe_assets.operations.dataflows_command"),
    ("alerts", "stripe_assets.operations.alerts_command"),
    ("preview", "stripe_assets.operations.cli"),
    ("status", "stripe_assets.operations.cli"),
    ("runs", "stripe_assets.operations.cli"),
    ("rollback", "stripe_assets.operations.cli"),
    ("delete", "stripe_assets.operations.cli"),
    ("reconcile", "stripe_assets.operations.reconcile"),
)


# Subcommands whose module ships in another distribution: what to install when it is absent.
INSTALL_HINTS = {
    "stripe_assets_emulator.cli": "the emulator is a separate package: pip install stripe-assets-emulator "
    "(in a checkout: pip install -e ./emulator, which `make install` does)",
}


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stripe-assets",
        description="Stripe data as validated, time-partitioned Dagster assets in DuckDB.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = argv[0] if argv and not argv[0].startswith("-") else None
    wanted_module = dict(COMMANDS).get(wanted) if wanted else None
    names_of: dict[str, list[str]] = {}
    for name, module in COMMANDS:
        names_of.setdefault(module, []).append(name)
    for module, names in names_of.items():
        if not _exists(module):
            for name in names if module in INSTALL_HINTS else ():  # listed; `main` says how to install it
                subparsers.add_parser(name, help="not installed: " + INSTALL_HINTS[module])
            continue
        if wanted_module in (None, module):
            # A module may register several subcommands: import it once, let it add them all.
            importlib.import_module(module).register(subparsers)
        else:  # listed in --help without importing the module
            for name in names:
                subparsers.add_parser(name, help=f"see `stripe-assets {name} --help`")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    module = dict(COMMANDS).get(argv[0]) if argv else None
    if module in INSTALL_HINTS and not _exists(module):
        print(f"stripe-assets {argv[0]}: {INSTALL_HINTS[module]}", file=sys.stderr)
        return 2
    args = build_parser(argv).parse_args(argv)
    if args.command != "emulator":  # the emulator prints its own test key for the user to copy
        from stripe_assets.ingest.redact import redact_standard_streams

        redact_standard_streams()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so a closed pipe is caught below and not at exit
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`stripe-assets schema | head`): stop quietly, as Unix tools do.
        # Anything still buffered goes to /dev/null so the exit flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE


if __name__ == "__main__":
    sys.exit(main())

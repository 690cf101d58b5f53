"""Dagster's one-shot commands on our inputs end in our one line, not in 40-70 lines of stack.

`dagster definitions validate` and `dagster asset materialize` load the code location in their
own process: a bad `dataflows.yaml` (or environment) found while loading, a partition key that
names no window, or a partitioned selection without a key is printed as one line on stderr and
the command exits 2 (usage) or 1 (bad config). Code servers (`dagster dev`, `dagster
code-server`) keep raising, so the UI shows the error, but with the line first and no chain.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets.dataflows.errors import DataflowConfigError
from stripe_assets.dataflows.models import DataflowsConfig
from stripe_assets.dataflows.partitions import PartitionKeyError, time_model

PROG = "stripe-assets"
# Dagster 1.13 marks these `dagster` commands superseded by `dg launch`, `dg check defs` and `dg
# dev`: calling one prints a SupersessionWarning (a FutureWarning) before any project code loads,
# so only the process's environment can filter it. Our wrappers that run them on purpose (`make
# demo`) filter exactly these messages; a user typing them sees Dagster's advice.
SUPERSEDED_COMMANDS = ("asset_materialize_command", "definitions_validate_command", "dev_command")
# (program, sub-command) pairs whose process ends when the command does
ONE_SHOT = {("dagster", ("definitions", "validate")), ("dagster", ("asset", "materialize"))}


def without_supersession_warnings(env: dict[str, str]) -> dict[str, str]:
    """`env` with PYTHONWARNINGS extended to ignore the SupersessionWarning of the commands above
    (and nothing else: other FutureWarnings still show)."""
    ours = [f"ignore:Function `{name}` is superseded:FutureWarning" for name in SUPERSEDED_COMMANDS]
    kept = [w for w in env.get("PYTHONWARNINGS", "").split(",") if w]
    return {**env, "PYTHONWARNINGS": ",".join([*kept, *ours])}


def one_shot_command(argv: Sequence[str] | None = None) -> tuple[str, ...] | None:
    """The Dagster one-shot command this process runs (`("asset", "materialize")`), or None."""
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return None
    program = os.path.basename(argv[0])
    words = tuple(a for a in argv[1:] if not a.startswith("-"))[:2]
    return words if (program, words) in ONE_SHOT else None


def _ours(exc: BaseException) -> DataflowConfigError | None:
    """Our config error anywhere in the chain Dagster wrapped it in."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DataflowConfigError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _exit(message: str, code: int) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()
    # Not SystemExit: Dagster's loader catches broad exceptions and would print its stack again.
    os._exit(code)


@contextmanager
def our_errors_in_one_line(argv: Sequence[str] | None = None) -> Iterator[None]:
    """Around loading the definitions: our config errors as one line (see the module doc)."""
    try:
        yield
    except Exception as exc:
        found = _ours(exc)
        if found is None:
            raise
        if one_shot_command(argv) is not None:
            _exit(str(found), 1)
        raise DataflowConfigError(str(found)) from None


def check_materialize_arguments(config: DataflowsConfig, argv: Sequence[str] | None = None) -> None:
    """`dagster asset materialize`: a partition key (or range) each selected dataflow knows, as one line."""
    argv = list(sys.argv if argv is None else argv)
    if one_shot_command(argv) != ("asset", "materialize"):
        return
    selection = _option(argv, "--select")
    _check_no_removed_asset(config, selection)
    flows = [f for f in config.dataflows if _selected(selection, f"stripe/{f.resource}")]
    if not flows:
        return
    key, span = _option(argv, "--partition"), _option(argv, "--partition-range")
    if key is None and span is None:
        model = time_model(flows[0])
        example = model.key(model.window_start(datetime.now(UTC)))
        _exit(
            f"the selected assets are partitioned: add --partition KEY (e.g. {example}) "
            "or --partition-range FIRST...LAST",
            2,
        )
    keys = [key] if key is not None else (span or "").split("...")
    if len(keys) != 2 and key is None:
        _exit(f"--partition-range {span!r} is not FIRST...LAST (e.g. 2026-10-01...2026-10-07)", 2)
    for flow in flows:
        model = time_model(flow)
        for k in keys:
            try:
                start, _ = model.window(k)
            except PartitionKeyError as exc:
                _exit(f"partition {k!r} {exc.problem} of dataflow {flow.name!r} ({exc.shape})", 2)
            if start < model.first:
                _exit(
                    f"partition {k!r} is before the first partition {model.key(model.first)!r} of dataflow "
                    f"{flow.name!r} (its history_start)",
                    2,
                )
            current = model.window_start(datetime.now(UTC))
            if start > current:
                _exit(
                    f"partition {k!r} of dataflow {flow.name!r} has not begun: the newest is {model.key(current)!r}",
                    2,
                )


def _check_no_removed_asset(config: DataflowsConfig, selection: str | None) -> None:
    """A selection naming `stripe/<resource>` of a declared resource that no dataflow loads (its
    dataflow removed from the file): Dagster would only say "none of the assets are partitioned"."""
    loaded = {f.resource for f in config.dataflows}
    for part in (selection or "").split(","):
        name = part.strip().strip("'\"").removeprefix("key:").removeprefix("stripe/")
        if name in RESOURCE_NAMES and name not in loaded:
            _exit(
                f"asset stripe/{name} is not defined: no dataflow in the dataflows file loads {name} "
                f"(removed?); add one back to load it, or `stripe-assets delete {name} --drop-data` drops "
                "the data it left",
                2,
            )


def _option(argv: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _selected(selection: str | None, key: str) -> bool:
    """Whether a simple `--select` (`key:stripe/*`, `stripe/charges`, commas) names `key`; an
    expression this does not read selects everything (Dagster then decides)."""
    if not selection:
        return True
    for part in selection.split(","):
        pattern = part.strip().strip("'\"")
        pattern = pattern.removeprefix("key:")
        if any(c in pattern for c in " ()") or pattern.startswith(("group:", "tag:", "kind:", "owner:")):
            return True
        if fnmatch.fnmatchcase(key, pattern):
            return True
    return False

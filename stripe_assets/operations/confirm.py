"""Asking before a command changes data: a y/N prompt on a terminal, `--yes` elsewhere."""

from __future__ import annotations

import sys

from stripe_assets.operations.errors import OperationError


def confirmed(question: str, *, assume_yes: bool, action: str) -> bool:
    """True to go ahead. Without a terminal to ask on and without --yes, refuse (never assume)."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise OperationError(f"refusing to {action} without confirmation: pass --yes (no terminal to ask on)")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")

"""The one error type commands report as a single line."""

from __future__ import annotations

USAGE = 2  # unknown names, refused confirmations: the command line asked for something impossible
FAILED = 1  # the request was fine but could not be carried out


class OperationError(Exception):
    """A problem to show as one line; `exit_code` is what the command exits with."""

    def __init__(self, message: str, *, exit_code: int = USAGE):
        super().__init__(message)
        self.exit_code = exit_code

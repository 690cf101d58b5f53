"""Whose data a dataflow reads (`accounts:`): the key's own account, its connected accounts, both,
or a list of connected accounts by id.

`self` (the default) is what the project read before Connect: the account the key belongs to.
`connected` discovers the platform's connected accounts on every run (`GET /v1/accounts`);
`all` is the platform and every connected account; a list names `acct_` ids.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

AccountsMode = Literal["self", "connected", "all", "list"]
CHOICES = ("self", "connected", "all")
_ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]{1,64}$")


class Accounts(BaseModel):
    """The parsed setting: a mode and, for `list`, the account ids."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: AccountsMode = "self"
    ids: tuple[str, ...] = ()

    @property
    def reads_own(self) -> bool:
        return self.mode in ("self", "all")

    @property
    def discovers(self) -> bool:
        """Whether the connected accounts come from `GET /v1/accounts` on each run."""
        return self.mode in ("connected", "all")

    @property
    def is_connect(self) -> bool:
        return self.mode != "self"

    def __str__(self) -> str:
        return ", ".join(self.ids) if self.mode == "list" else self.mode


def _error(message: str) -> PydanticCustomError:
    # The same error kind as every other dataflows-file problem: one line naming field and value.
    return PydanticCustomError("dataflow_config", "{message}", {"message": message, "field": None})


def parse_accounts(value: Any) -> Accounts:
    """`self`, `connected`, `all` or a list of `acct_` ids, as written in the dataflows file."""
    if isinstance(value, Accounts):
        return value
    if value is None:
        return Accounts()
    allowed = "self, connected, all or a list of acct_ ids"
    if isinstance(value, str):
        text = value.strip()
        if text in CHOICES:
            return Accounts(mode=text)  # type: ignore[arg-type]
        if _ACCOUNT_ID.match(text):
            return Accounts(mode="list", ids=(text,))
        raise _error(f"{value!r} is not an accounts choice (allowed: {allowed})")
    if isinstance(value, (list, tuple)):
        if not value:
            raise _error(f"an empty list reads no account (allowed: {allowed})")
        ids: list[str] = []
        for item in value:
            if not isinstance(item, str) or not _ACCOUNT_ID.match(item.strip()):
                raise _error(f"{item!r} is not a connected account id (acct_ followed by letters and digits)")
            if item.strip() not in ids:
                ids.append(item.strip())
        return Accounts(mode="list", ids=tuple(ids))
    raise _error(f"{value!r} is not an accounts choice (allowed: {allowed})")

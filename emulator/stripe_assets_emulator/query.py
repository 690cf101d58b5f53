"""Reading list and retrieve parameters the way Stripe does, with Stripe's error messages.

Stripe takes GET parameters form-encoded in the query string, with brackets for nested values:
`created[gte]=1700000000`, `expand[]=data.customer` or `expand[0]=data.customer` (the SDKs'
spelling). Unknown parameters are rejected, not ignored.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from stripe_assets_emulator.errors import invalid, unknown_parameter

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
_INTEGER = re.compile(r"-?[0-9]+")
_EXPAND = re.compile(r"expand\[[0-9]*\]")
_CREATED_OPS = ("gt", "gte", "lt", "lte")
NO_UPPER_BOUND = 2**62

@dataclass
class ListQuery:
    limit: int = DEFAULT_LIMIT
    starting_after: str | None = None
    ending_before: str | None = None
    created_from: int = -NO_UPPER_BOUND  # inclusive
    created_until: int = NO_UPPER_BOUND  # exclusive
    filters: dict[str, str] = field(default_factory=dict)
    expand: list[str] = field(default_factory=list)


def parse_integer(name: str, value: str) -> int:
    if not _INTEGER.fullmatch(value.strip()):
        raise invalid(f"Invalid integer: {value}", param=name)
    return int(value)


Pairs = Iterable[tuple[str, str]]


def query_pairs(query: str) -> list[tuple[str, str]]:
    """A query string as (name, value) pairs, brackets kept in the names."""
    return parse_qsl(query, keep_blank_values=True)


def parse_retrieve(pairs: Pairs) -> list[str]:
    """The `expand` paths of a retrieve request (its only parameter)."""
    expand: list[str] = []
    for name, value in pairs:
        if _EXPAND.fullmatch(name) or name == "expand":
            expand.append(value)
        else:
            raise unknown_parameter(name)
    return expand


def parse_list(allowed: Collection[str], pairs: Pairs) -> ListQuery:
    """A list request's parameters; `allowed`: the filters the resource's list accepts."""
    q = ListQuery()
    for name, value in pairs:
        if name == "limit":
            q.limit = parse_integer(name, value)
            if q.limit < 1:
                raise invalid("This value must be greater than or equal to 1.", param="limit")
            if q.limit > MAX_LIMIT:
                raise invalid(f"This value must be less than or equal to {MAX_LIMIT}.", param="limit")
        elif name in ("starting_after", "ending_before"):
            setattr(q, name, value or None)  # an empty cursor is no cursor
        elif name == "created" or name.startswith("created["):
            _narrow(q, *parse_created(name, value))
        elif _EXPAND.fullmatch(name) or name == "expand":
            q.expand.append(value)
        elif name in allowed:
            q.filters[name] = value
        else:
            raise unknown_parameter(name)
    if q.starting_after and q.ending_before:
        raise invalid("You may only specify one of these parameters: ending_before, starting_after.")
    return q


def parse_created(name: str, value: str) -> tuple[int, int]:
    """`created=T` or `created[gt|gte|lt|lte]=T` as a window [from, until)."""
    if name == "created":
        at = parse_integer(name, value)
        return at, at + 1
    op = name[len("created[") : -1] if name.endswith("]") else ""
    if op not in _CREATED_OPS:
        raise unknown_parameter(name)
    at = parse_integer(name, value)
    if op == "gt":
        return at + 1, NO_UPPER_BOUND
    if op == "gte":
        return at, NO_UPPER_BOUND
    if op == "lt":
        return -NO_UPPER_BOUND, at
    return -NO_UPPER_BOUND, at + 1


def _narrow(q: ListQuery, low: int, high: int) -> None:
    q.created_from = max(q.created_from, low)
    q.created_until = min(q.created_until, high)


def parse_boolean(name: str, value: str) -> bool:
    if value == "true":
        return True
    if value == "false":
        return False
    raise invalid(f"Invalid boolean: {value}", param=name)


def parse_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        listed = ", ".join(choices[:-1]) + f", or {choices[-1]}" if len(choices) > 1 else choices[0]
        raise invalid(f"Invalid {name}: must be one of {listed}", param=name)
    return value

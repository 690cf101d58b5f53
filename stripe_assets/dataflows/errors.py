"""One readable line per config problem, instead of pydantic's multi-line dump.

The line names the file, the dataflow (or channel), the field, the bad value and what is allowed:
`dataflows.yaml: dataflow 'stripe_charges', field 'interval': 10 is below the minimum of 15 ...`.
"""

from __future__ import annotations

import reprlib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from stripe_assets.dataflows.models import DataflowsConfig
from stripe_assets.dataflows.values import show


class DataflowConfigError(ValueError):
    """`dataflows.yaml` (or the built-in defaults) cannot be used; the message says why."""


def first_problem(exc: ValidationError, source: str, raw: Any) -> DataflowConfigError:
    """The first of pydantic's errors as a DataflowConfigError; `raw` is the parsed YAML."""
    error = exc.errors(include_url=False)[0]
    return DataflowConfigError(f"{source}: {describe(error, raw)}")


def describe(error: ErrorDetails, raw: Any) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        where = _where(loc[:-1], raw)
        allowed = ", ".join(_fields_at(loc[:-1]))
        detail = f"unknown key {show(loc[-1])} (allowed: {allowed})"
        return (
            f"{where}: {detail}" if where else f"unknown top-level key {show(loc[-1])} (allowed: {allowed})"
        )
    if kind == "dataflow_config":
        if ctx.get("field"):
            loc = loc + tuple(str(ctx["field"]).split("."))
        where = _where(loc, raw)
        return f"{where}: {ctx['message']}" if where else str(ctx["message"])
    where = _where(loc, raw) or "file"
    if kind == "missing":
        return f"{where}: required but missing"
    if kind == "union_tag_invalid":
        tags = ctx.get("expected_tags")
        return f"{where}: type {show(ctx.get('tag'))} is not a channel type (allowed: {tags})"
    if kind == "union_tag_not_found":
        return f"{where}: missing key 'type' (allowed: {_channel_types()})"
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in ("value_error", "assertion_error"):
        return f"{where}: {message}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{where}: {_shown_input(error.get('input'))} is not a boolean (allowed: true, false)"
    message = message.replace("a valid tuple", "a list")
    return f"{where}: {_shown_input(error.get('input'))} is not valid: {message[:1].lower()}{message[1:]}"


# Bounded: a value can be huge (a long string, a deeply shared structure) and `repr` of it whole
# would take as long as it is big.
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxset = 2, 4, 4, 4, 4
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 60, 60, 40


def _shown_input(value: Any) -> str:
    if isinstance(value, (dict, list, tuple, set)):
        text = _SHORT.repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, str) and len(value) > 60:
        return _SHORT.repr(value)
    return show(value)


def _where(loc: tuple[Any, ...], raw: Any) -> str:
    """`dataflow 'x', field 'a.b'` / `channel 'y', field 'url'` / `field 'ui_base_url'`."""
    if not loc:
        return ""
    head, rest = loc[0], loc[1:]
    owner = ""
    if head == "dataflows" and rest and isinstance(rest[0], int):
        owner = f"dataflow {_dataflow_label(raw, rest[0])}"
        rest = rest[1:]
    elif head == "channels" and rest:
        owner = f"channel {rest[0]!r}"
        channel = raw.get("channels", {}).get(rest[0]) if isinstance(raw, dict) else None
        rest = rest[1:]
        # pydantic puts the channel's `type` into the location of discriminated-union errors
        if rest and isinstance(channel, dict) and rest[0] == channel.get("type"):
            rest = rest[1:]
    else:
        rest = loc
    field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in rest).replace(".[", "[")
    if owner and field:
        return f"{owner}, field {field!r}"
    return owner or f"field {field!r}"


def _dataflow_label(raw: Any, index: int) -> str:
    try:
        name = raw["dataflows"][index]["name"]
    except (KeyError, IndexError, TypeError):
        name = None
    return repr(name) if isinstance(name, str) else f"#{index + 1}"


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Allowed keys of the model at `loc` (for unknown-key messages)."""
    current: Any = DataflowsConfig
    parts = list(loc)
    while True:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not parts:
                return list(current.model_fields)
            field = current.model_fields.get(str(parts.pop(0)))
            if field is None:
                return []
            current = field.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is typing.Annotated:
            current = args[0]
        elif origin in (list, tuple, dict) and parts:
            parts.pop(0)  # an index or a key
            current = args[0] if origin in (list, tuple) else args[-1]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in args if a is not type(None)]
            tagged = [m for m in members if _type_tag(m) is not None]
            if tagged and parts:
                tag = parts.pop(0)
                current = next((m for m in tagged if _type_tag(m) == tag), None)
            elif len(members) == 1:
                current = members[0]
            else:
                return []
        else:
            return []


def _type_tag(model: Any) -> str | None:
    if isinstance(model, type) and issubclass(model, BaseModel) and "type" in model.model_fields:
        args = typing.get_args(model.model_fields["type"].annotation)
        return args[0] if args else None
    return None


def _channel_types() -> str:
    annotation = DataflowsConfig.model_fields["channels"].annotation
    union = typing.get_args(typing.get_args(annotation)[-1])[0]
    return ", ".join(t for t in (_type_tag(m) for m in typing.get_args(union)) if t)

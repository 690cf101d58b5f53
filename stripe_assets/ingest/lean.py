"""Embedded lists nobody reads past their type, left unbuilt while a load parses.

An invoice carries its `lines` (a list object of up to 10 line items, ~250 Python objects once
parsed), yet no invoices column reads it and its only check is its type (a list object); the
invoice line items are read from the stored `raw`. Such a field's value is replaced, in the text
the page sent for the object, by the smallest value its checks see alike (`{"object":"list"}`)
before orjson parses it; `raw` keeps
the full text. Which fields: derived from Stripe's schema and the resource's declaration (a
top-level list object with no column reading it, no rule, no check beyond `required` and
`type`), never listed by hand. A value that is not what its kind expects (null,
another type, a list object whose `object` is not "list") is kept as sent, so the checks see it
as they always did.

A record that does not pass the part's checks at once gets its fields back (`restore`), from the
same text, before anything explains or quarantines it: quarantine rows, reasons and rules'
explanations never see a placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.validation import schemas

# The placeholder of each kind left out, as JSON text and as parsed, and the first byte a value of
# the kind has. Only embedded list objects (many objects each): other embedded objects and arrays
# are small, and cutting them out cost more than building them (charges and subscriptions, whose
# unread fields are such, parsed 5-15 µs an object slower).
_PLACEHOLDERS: dict[str, tuple[bytes, object, int]] = {
    "list_object": (b'{"object":"list"}', {"object": "list"}, ord("{")),
}
# A value shorter than this is parsed as it is: finding and cutting it costs more than building it.
MIN_BYTES = 512
# An object shorter than this is parsed as it is: finding its fields costs a scan of its text (a
# page of credit notes of 1.3 kB, their lines too short to cut, cost 7.9 µs an object, not 5.1).
MIN_OBJECT_BYTES = 2_048
HEAD_BYTES = 32_768  # what `LeanPlan.may_hold` searches of a page: a few objects
_LIST_HEAD = b'{"object":"list",'  # a list object's text as Stripe starts it
_FIND_BYTES = 64  # of a value's text, searched for behind its key


class _ListHead(msgspec.Struct):
    """A list object's `object` field (the one its check reads); the rest is skipped, not built."""

    kind: Any = msgspec.field(default=None, name="object")


_list_head = msgspec.json.Decoder(_ListHead)


@dataclass(frozen=True)
class LeanPlan:
    """The fields of one resource left unbuilt, and how to find their values in an object's text."""

    names: tuple[str, ...]
    kinds: Mapping[str, str]
    decoder: msgspec.json.Decoder
    names_quoted: tuple[bytes, ...]  # each field's name as a JSON text holds it (`"lines"`)

    def may_hold(self, body: bytes) -> bool:
        """Whether a page's objects look like holding one of the fields: a byte search over its
        first `HEAD_BYTES` (a search of the whole body cost charges, which hold none, ~1 µs an
        object). Only the cost hangs on it: either way every object parses to the same record."""
        return any(body.find(name, 0, HEAD_BYTES) >= 0 for name in self.names_quoted)


def lean_plan(resource: StripeResource, columns: Sequence[ColumnSpec], strict_enums: bool = False) -> LeanPlan | None:
    """The resource's fields no column, rule or check reads past their type (None: there are none)."""
    schema = schemas.resource_schema(resource, strict_enums)
    read = {c.path[0] for c in columns if c.path}
    read.update(name for rule in schema.rules.values() for name in rule.reads)
    only_type = {schemas.REQUIRED, schemas.TYPE}
    kinds = {
        name: spec.kind
        for name, spec in schema.fields.items()
        if spec.kind in _PLACEHOLDERS
        and name not in read
        and name not in schema.drift_enums
        and {check.name for check in schema.checks[name]} <= only_type
    }
    if not kinds:
        return None
    # Each field's value as the text holds it (UNSET: absent), every other field skipped.
    struct = msgspec.defstruct(
        f"{resource.name}_lean",
        [(name, msgspec.Raw | msgspec.UnsetType, msgspec.UNSET) for name in kinds],
    )
    quoted = tuple(b'"' + name.encode() + b'"' for name in kinds)
    return LeanPlan(tuple(kinds), kinds, msgspec.json.Decoder(struct), quoted)


def lean_object(plan: LeanPlan, text: bytes) -> dict | None:
    """The object of `text` with the plan's fields holding placeholders; None when no field was
    left out (the caller parses the text as it is)."""
    found = plan.decoder.decode(text)
    cuts: list[tuple[int, int, bytes, str]] = []
    for name, kind in plan.kinds.items():
        raw = getattr(found, name)
        if raw is msgspec.UNSET or len(raw) < MIN_BYTES:
            continue
        value = memoryview(raw)  # the value where the text holds it: no copy of it
        placeholder, _, first = _PLACEHOLDERS[kind]
        if value[0] != first:
            continue  # null or another type: the checks must see it
        # Its type check reads `object`: kept as sent unless it is "list". Stripe writes it
        # first, which a look at the value's head settles without scanning the rest.
        if kind == "list_object" and value[: len(_LIST_HEAD)] != _LIST_HEAD and _list_head.decode(value).kind != "list":
            continue
        key = b'"' + name.encode() + b'":'
        # Found by its key and head, then compared whole where found: a search for the whole
        # value would copy it and search with it (~8 µs an invoice).
        at = text.find(key + value[:_FIND_BYTES])
        start = at + len(key)
        if at < 0 or not text.startswith(value, start):
            return None
        cuts.append((start, start + len(value), placeholder, name))
    if not cuts:
        return None
    cuts.sort()
    pieces, last = [], 0
    for start, end, placeholder, _ in cuts:
        if start < last:
            return None  # overlapping finds: not top-level values
        pieces += [text[last:start], placeholder]
        last = end
    pieces.append(text[last:])
    record = orjson.loads(b"".join(pieces))
    # The top-level field must hold the placeholder now: a find that hit the same text nested
    # elsewhere leaves it holding its value, and the object is then parsed in full.
    if not isinstance(record, dict) or any(record.get(name) != _PLACEHOLDERS[plan.kinds[name]][1] for *_, name in cuts):
        return None
    return record


def lean_objects(plan: LeanPlan, texts: Sequence[bytes]) -> list[dict]:
    """Each text's object, its unread fields left out where they can be (`lean_object`)."""
    loads = orjson.loads
    return [
        record if len(text) >= MIN_OBJECT_BYTES and (record := lean_object(plan, text)) is not None else loads(text)
        for text in texts
    ]


def restore(records: Sequence[object], texts: Mapping[int, tuple[dict, bytes]], names: Sequence[str]) -> None:
    """Give records their left-out fields back, in place, from the texts they were parsed from
    (`texts`: by the record's identity, as `OpenWindow.texts`): the same dicts, every key in its
    place, every value as a parse of the whole object gives it."""
    if not names:
        return
    for record in records:
        entry = texts.get(id(record))
        if entry is None or entry[0] is not record:
            continue
        full = orjson.loads(entry[1])
        for name in names:
            if name in full:
                record[name] = full[name]


def restore_page(records: Sequence[object]) -> None:
    """`restore` for the records of one page (`pages.PageObjects`), from its own texts."""
    names = getattr(records, "lean", ())
    texts = getattr(records, "texts", None)
    if names and texts is not None:
        restore(records, {id(r): (r, t) for r, t in zip(records, texts, strict=True)}, names)  # type: ignore[misc]

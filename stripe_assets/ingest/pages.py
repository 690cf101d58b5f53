"""Stripe list pages: the request's form encoding, the body's parsing, and reading a page's
objects and the cursor of the next one; how new an answer is on Stripe's clock."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import msgspec
import orjson

from stripe_assets.ingest.lean import LeanPlan, lean_objects
from stripe_assets.ingest.rejected import without_lone_surrogates
from stripe_assets.ingest.stripe_errors import StripeReadError, header_value

PAGE_LIMIT = 100  # Stripe's maximum page size


def unix(value: datetime | int) -> int:
    if isinstance(value, int):
        return value
    if value.tzinfo is None:  # .timestamp() would silently read it as the machine's local time
        raise ValueError(f"{value!r} has no time zone; Stripe's created filters are in UTC")
    return int(value.timestamp())


def form_pairs(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding of GET parameters: `created[gte]=1`, `expand[0]=data.customer`."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs += form_pairs(value, name)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                pairs += form_pairs({str(i): item}, name)
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif value is not None:
            pairs.append((name, str(value)))
    return pairs


def parse(body: object) -> object:
    """The JSON body, or None. orjson refuses a lone surrogate escape (`\\ud800`), which the
    JSON grammar allows: such a body is read again by the standard library, and only the
    objects holding one are rejected (see `rejected`), never the page."""
    try:
        return orjson.loads(body)  # type: ignore[arg-type]
    except orjson.JSONDecodeError:
        pass
    try:
        page = json.loads(body, parse_constant=_not_json)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None
    return without_lone_surrogates(page)


class PageObjects(list):
    """A list page's objects, each also as the JSON text the page sent for it (`texts`, in the
    same order): its `raw` column without writing every parsed object out again."""

    __slots__ = ("lean", "texts")

    def __init__(self, objects: list, texts: list[bytes], lean: tuple[str, ...] = ()) -> None:
        super().__init__(objects)
        self.texts = texts
        self.lean = lean  # fields that may hold placeholders (`lean`): restored from `texts`


class _ObjectTexts(msgspec.Struct):
    data: list[msgspec.Raw]  # each object's text as it is in the body, not parsed


_object_texts = msgspec.json.Decoder(_ObjectTexts)


class _LeanPage(msgspec.Struct, forbid_unknown_fields=True):
    """A list page as Stripe sends it, its objects' texts cut out and not parsed."""

    kind: str = msgspec.field(name="object")
    data: list[msgspec.Raw] = msgspec.field(default_factory=list)
    has_more: bool = False
    url: str | msgspec.UnsetType = msgspec.UNSET


_lean_page = msgspec.json.Decoder(_LeanPage)


def parse_page(body: bytes, lean: LeanPlan | None = None, texts: bool = True) -> object:
    """`parse`, and a list page's objects with their texts (`with_object_texts`) when orjson read
    the body: objects the standard library read may have lost a lone surrogate, and differ from
    their text. `lean`: the fields of its objects to leave unbuilt (see `lean`). Without `texts`
    (a page whose objects are not written as they are: events, child lists, accounts) neither is
    done: cutting a page costs ~2 µs an object, ~6 on Stripe's indented pages."""
    if not texts:
        return parse(body)
    if lean is not None and lean.may_hold(body):  # a page without them: parsed as one, cheaper
        page = _lean_parse(body, lean)
        if page is not None:
            return page
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError:
        return parse(body)
    return with_object_texts(page, body)


def with_object_texts(page: object, body: bytes) -> object:
    """`page` (orjson's parse of `body`) with its `data` as `PageObjects` when it is a list page.

    Each object's text is cut from the body by msgspec, which scans it without building anything
    (~1.3 µs of CPU a charge, while the body is still in the cache; writing the parsed objects out
    again for `raw` costs several times that). The texts are compact JSON: a pretty-printed body
    (Stripe's: a field a line, a space after each colon; or spaced like the first object's text)
    is compacted. Escapes and numbers
    stay as sent (`\\u00fc` for `ü`, `1.50`): the same values as orjson's text, not always the same
    text. A body msgspec cannot cut, or cuts into another count of objects, keeps a plain list:
    its `raw` is then written from the parsed objects."""
    if not isinstance(page, dict) or page.get("object") != "list":
        return page
    data = page.get("data")
    if not isinstance(data, list) or not data:
        return page
    try:
        _, texts = _cut_texts(body, _object_texts)
    except (msgspec.DecodeError, ValueError):
        return page
    if len(texts) == len(data):
        page["data"] = PageObjects(data, texts)
    return page


def _cut_texts(body: bytes, decoder: msgspec.json.Decoder) -> tuple[Any, list[bytes]]:
    """The page as `decoder` reads it (its `data` cut as `msgspec.Raw`) and each object's text,
    compact whatever the body's spacing."""
    if b"\n" in body:  # one field a line (a search for a byte: nearly free)
        body = msgspec.json.format(body, indent=-1)
    page = decoder.decode(body)
    texts = list(map(bytes, page.data))
    if texts and b'": ' in texts[0]:  # on one line, spaced (`{"id": "ch_1", "amount": 100}`)
        page = decoder.decode(msgspec.json.format(body, indent=-1))
        texts = list(map(bytes, page.data))
    return page, texts


def _lean_parse(body: bytes, plan: LeanPlan) -> dict | None:
    """A list page with its objects parsed by `lean.lean_objects`; None: parse it in full (not
    a list page of Stripe's form, or a text orjson refuses)."""
    try:
        page, texts = _cut_texts(body, _lean_page)
        if page.kind != "list" or not texts:
            return None
        objects = lean_objects(plan, texts)
    except (msgspec.DecodeError, msgspec.ValidationError, orjson.JSONDecodeError, ValueError):
        return None
    found: dict[str, object] = {"object": page.kind, "data": PageObjects(objects, texts, plan.names)}
    found["has_more"] = page.has_more
    if page.url is not msgspec.UNSET:
        found["url"] = page.url
    return found


def _not_json(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def read_page(path: str, page: dict, cursor: str | None) -> tuple[list[dict], str | None]:
    """A list page's objects and the cursor of the page after it (None: the list ended).

    Fails with one line when the API does not page: `starting_after` ignored (the page holds
    the cursor's object, or ends where the previous one did) would otherwise loop forever.
    """
    data = page.get("data")
    if page.get("object") != "list" or not isinstance(data, list):
        raise StripeReadError(f"{path} did not return a list object")
    if not page.get("has_more"):
        return data, None
    if not data:  # `get_list_page` asked again already: the list cannot go on, nor may it end here
        raise StripeReadError(
            f"{path} answered {cursor_text({'starting_after': cursor})} with has_more=true and no objects"
        )
    last = data[-1].get("id") if isinstance(data[-1], dict) else None
    if not isinstance(last, str) or not last:
        raise StripeReadError(f"{path}: the last object of a page has no id, so the next page cannot be asked for")
    if cursor is not None and (last == cursor or any(isinstance(o, dict) and o.get("id") == cursor for o in data)):
        raise StripeReadError(
            f"{path}: the API answered starting_after={cursor} with the same objects again "
            "(its cursor does not advance), so the listing would never end"
        )
    return data, last


def empty_with_more(page: dict) -> bool:
    return page.get("object") == "list" and page.get("data") == [] and bool(page.get("has_more"))


def cursor_text(params: Mapping[str, Any]) -> str:
    cursor = params.get("starting_after")
    return f"starting_after={cursor}" if cursor else "the first page"


def answered_since(headers: Mapping[str, str] | None, sent: float, received: float) -> float:
    """The time on Stripe's clock the answer is at least as new as: its `Date` (whole seconds, taken
    as it answered) less the round trip, down to the second, so never after the request reached
    Stripe. Event times are on that clock too, in whole seconds, so states listed and states from
    events compare whatever the local clock says. Without a readable `Date`: the local time the
    request was sent."""
    date = header_value(headers, "date")
    try:
        answered = parsedate_to_datetime(date).timestamp() if date else None
    except (TypeError, ValueError):
        answered = None
    return sent if answered is None else float(math.floor(answered - max(received - sent, 0.0)))

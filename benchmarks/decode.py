"""Decoding one listed object: what a load pays today against a decode typed by Stripe's schema.

A load parses every object's text into Python objects (orjson), and the checks then read each
top-level value's type in Python. A decoder typed by the resource's schema (msgspec) checks the
top-level types while it decodes, refuses unknown fields, and leaves nested objects, arrays and
maps as their text (`msgspec.Raw`): a JSON column or `raw` can take that text as it is. This
measures the two side by side on one page of each resource from the emulator, hot cache, the
garbage collector off as during a load, each object freed again inside the measure.

A second table: what a whole page costs parsed with its objects' texts cut out (a top-level
list, whose `raw` is the text the page sent; and with the embedded lists nobody reads left
unbuilt, `lean`, as a load parses it) and parsed alone (events, child lists, accounts,
whose pages are read without), on the emulator's compact page and on the same page indented as
Stripe's API sends it.

    python benchmarks/decode.py [--resources charges,subscriptions,invoices] [--rounds 30]
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
import urllib.request
from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec
import orjson
from rate_limit import KEY

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.lean import LeanPlan, lean_plan
from stripe_assets.ingest.pages import parse_page
from stripe_assets.ingest.validation import schemas
from stripe_assets_emulator import EmulatorConfig, start_emulator

DAY = date(2026, 10, 1)


class _ListHead(msgspec.Struct):
    """An embedded list object: its `object` (the one field its check reads); the rest skipped."""

    object: str


_SCALARS: dict[str, Any] = {"integer": int, "string": str, "boolean": bool, "number": float, "list_object": _ListHead}


def typed_decoder(resource: str) -> msgspec.json.Decoder:
    """A decoder refusing what the schema's type and required checks refuse (the enums and rules
    are left to run on its values)."""
    schema = schemas.resource_schema(get_resource(resource), False)
    required = {name for name, checks in schema.checks.items() if any(c.name == schemas.REQUIRED for c in checks)}
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for name, spec in schema.fields.items():
        kind = _SCALARS.get(spec.kind, msgspec.Raw)  # Raw takes any value, null included
        if spec.nullable and kind is not msgspec.Raw:
            kind = kind | None
        fields.append((name, kind) if name in required else (name, kind | msgspec.UnsetType, msgspec.UNSET))
    fields.sort(key=len)  # required fields (no default) first
    struct = msgspec.defstruct(f"{resource}_typed", fields, forbid_unknown_fields=True, gc=False)
    return msgspec.json.Decoder(struct)


def page_body(url: str, resource: str) -> bytes:
    """The first page of `resource`'s list (its newest 100 objects), as the emulator sent it."""
    path = get_resource(resource).path
    request = urllib.request.Request(f"{url}{path}?limit=100", headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request) as answer:
        return answer.read()


def object_texts(body: bytes) -> list[bytes]:
    """Each object's text of a list page, as a load cuts them."""
    return list(parse_page(body)["data"].texts)  # type: ignore[index]


def page_texts(url: str, resource: str) -> list[bytes]:
    """Each object's text of the first page of `resource`'s list."""
    return object_texts(page_body(url, resource))


def per_object(texts: list[bytes], decode: Callable[[bytes], object], rounds: int) -> float:
    """Median µs an object over `rounds` passes over the page, decoded and freed."""
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        decoded = list(map(decode, texts))
        del decoded
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1e6 / len(texts)


def page_cost(body: bytes, texts: bool, count: int, rounds: int, lean: LeanPlan | None = None) -> float:
    """Median µs an object of parsing the whole page, with or without cutting its objects' texts
    (`lean`: leaving the fields nobody reads unbuilt, as a load does)."""
    return per_object([body], lambda page: parse_page(page, lean, texts), rounds) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", default="charges,subscriptions,invoices,payment_intents,customers")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    resources = args.resources.split(",")
    print(f"python {platform.python_version()}, msgspec {msgspec.__version__}, orjson {orjson.__version__}")
    config = EmulatorConfig(seed=11, start=DAY, days=14, per_day=2_000, api_key=KEY)  # credit notes come days later
    with start_emulator(config) as emu:
        bodies = {resource: page_body(emu.url, resource) for resource in resources}
    pages = {resource: object_texts(body) for resource, body in bodies.items()}
    gc.disable()
    print(f"{'resource':<18}{'bytes/object':>13}{'orjson µs':>11}{'typed µs':>10}{'ratio':>7}  refused")
    for resource, texts in pages.items():
        decoder = typed_decoder(resource)
        refused = 0
        for text in texts:
            try:
                decoder.decode(text)
            except msgspec.ValidationError:
                refused += 1
        loads = per_object(texts, orjson.loads, args.rounds)
        typed = per_object(texts, decoder.decode, args.rounds) if not refused else float("nan")
        size = sum(map(len, texts)) // len(texts)
        print(f"{resource:<18}{size:>13,}{loads:>11.1f}{typed:>10.1f}{loads / typed:>6.1f}x  {refused} of {len(texts)}")
    heads = (("compact", 9), ("+ texts", 9), ("+ lean", 8), ("indented", 10), ("+ texts", 9), ("+ lean", 8))
    print(f"\n{'a page, µs an object':<22}" + "".join(f"{head:>{width}}" for head, width in heads))
    for resource, body in bodies.items():
        count, indented = len(pages[resource]), msgspec.json.format(body, indent=2)
        plan = lean_plan(get_resource(resource), default_columns(get_resource(resource)))
        costs = [
            page_cost(page, texts, count, args.rounds, lean)
            for page in (body, indented)
            for texts, lean in ((False, None), (True, None), (True, plan))
        ]
        widths = tuple(width for _, width in heads)
        print(f"{resource:<22}" + "".join(f"{cost:>{width}.1f}" for cost, width in zip(costs, widths, strict=True)))
    gc.enable()


if __name__ == "__main__":
    main()

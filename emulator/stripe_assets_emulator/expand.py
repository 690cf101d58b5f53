"""`expand[]`: replacing ids by the objects they name, as far as the emulator serves them.

Paths are checked against Stripe's schema: every segment must be an expandable field (else 400,
as Stripe answers). An id of an object the emulator does not serve (a payment intent, an
invoice) stays an id.
"""

from __future__ import annotations

from typing import Any

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import fields_of_class
from stripe_assets_emulator.children import CHILDREN, children
from stripe_assets_emulator.dataset import Dataset
from stripe_assets_emulator.errors import invalid

MAX_DEPTH = 4  # Stripe refuses deeper expansions
# How many children an included list shows (Stripe: "the first handful"); `has_more` says
# whether the child endpoint holds more.
INCLUDED_CHILDREN = 10


def _cannot(path: str) -> Exception:
    return invalid(f"This property cannot be expanded ({path}).", param="expand")


def check_list_paths(paths: list[str]) -> list[str]:
    """List expansions apply to each object of `data`: `data.customer` -> `customer`."""
    inner = []
    for path in paths:
        if not path.startswith("data.") or len(path) == len("data."):
            raise _cannot(path)
        inner.append(path[len("data.") :])
    return inner


def expand(
    ds: Dataset, resource: str, obj: dict[str, Any], paths: list[str], shown: list[str] | None = None
) -> None:
    """Expands each dotted path in `obj` in place; `shown` are the paths as the client wrote them."""
    for path, original in zip(paths, shown or paths, strict=True):
        segments = path.split(".")
        if len(segments) > MAX_DEPTH:
            raise invalid(
                f"You cannot expand more than {MAX_DEPTH} levels of a property ({original}).",
                param="expand",
            )
        if _include(ds, resource, obj, segments[0]):
            continue  # (its children are served whole: nothing deeper to expand)
        _expand_path(ds, get_resource(resource).stripe_class, obj, segments, original)


def _include(ds: Dataset, resource: str, obj: dict[str, Any], name: str) -> bool:
    """A list field Stripe shows only when asked for (a Checkout Session's `line_items`): its
    first children as a list object with `has_more` and the child endpoint's `url`."""
    for child, spec in CHILDREN.items():
        if spec.parent == resource and spec.expanded == name:
            found = ds.locate(resource, obj["id"])
            if found is None:
                return False
            every = children(ds, child, *found)
            obj[name] = {
                "object": "list",
                "data": every[:INCLUDED_CHILDREN],
                "has_more": len(every) > INCLUDED_CHILDREN,
                "url": spec.endpoint(obj["id"])[0],
            }
            return True
    return False


def _expand_path(ds: Dataset, cls: type, obj: dict[str, Any], segments: list[str], original: str) -> None:
    name, rest = segments[0], segments[1:]
    spec = fields_of_class(cls).get(name)
    if spec is None or spec.kind != "expandable":
        raise _cannot(original)
    value = obj.get(name)
    if isinstance(value, str):
        found = ds.find(value)
        if found is None:
            return  # an object the emulator does not serve: left as its id
        target, day, slot = found
        value = ds.served(target, day, slot)
        obj[name] = value
    if rest and isinstance(value, dict) and "id" in value:
        target_found = ds.find(value["id"])
        if target_found is not None:
            _expand_path(ds, get_resource(target_found[0]).stripe_class, value, rest, original)

"""Stripe's own description of each field, read from the `stripe` SDK.

The SDK is generated from Stripe's OpenAPI spec, and every typed attribute carries the spec's
field description as a docstring (`amount: int` followed by `\"\"\"Amount intended to be
collected...\"\"\"`). Python keeps no attribute docstrings at run time, so the class's module
source is parsed once. Upgrading the package upgrades the descriptions, as it does the schema.
"""

from __future__ import annotations

import ast
import functools
import re
import sys

from stripe._stripe_object import StripeObject

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.stripe_schema import fields_of_class

MAX_CHARS = 300  # the UI shows column descriptions in a table: the first sentences are enough
_UNIX_TIME = re.compile(r"\s*Measured in seconds since the Unix epoch\.?", re.IGNORECASE)
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")  # [text](url) -> text


@functools.cache
def _module_docs(path: str) -> dict[str, dict[str, str]]:
    """Attribute docstrings of every class in a module file, by the class's qualified name."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError):
        return {}
    found: dict[str, dict[str, str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if not isinstance(node, ast.ClassDef):
                continue
            qualname = f"{prefix}{node.name}"
            docs = found.setdefault(qualname, {})
            for stmt, following in zip(node.body, node.body[1:], strict=False):
                if (
                    isinstance(stmt, ast.AnnAssign)
                    and isinstance(stmt.target, ast.Name)
                    and isinstance(following, ast.Expr)
                    and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)
                ):
                    docs[stmt.target.id] = following.value.value
            visit(node.body, qualname + ".")

    visit(tree.body, "")
    return found


def _class_docs(cls: type) -> dict[str, str]:
    """Docstrings of a class's attributes, its Stripe base classes' included."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not issubclass(klass, StripeObject) or klass is StripeObject:
            continue
        module = sys.modules.get(klass.__module__)
        path = getattr(module, "__file__", None)
        if path:
            docs.update(_module_docs(path).get(klass.__qualname__, {}))
    return docs


def _tidy(text: str, *, unix_time: bool) -> str:
    text = _LINK.sub(r"\1", " ".join(text.split()))
    if unix_time:  # the column holds a UTC time, not the integer Stripe sends
        text = _UNIX_TIME.sub("", text)
    if len(text) <= MAX_CHARS:
        return text
    cut = text.rfind(". ", 0, MAX_CHARS)
    return text[: cut + 1] if cut > 0 else text[: MAX_CHARS - 1].rstrip() + "…"


def field_description(resource: StripeResource, path: str, *, unix_time: bool = False) -> str | None:
    """Stripe's description of the field at a dotted path, or None when the SDK has none
    (free-form keys under `metadata`, polymorphic objects)."""
    return class_field_description(resource.stripe_class, path, unix_time=unix_time)


def class_field_description(cls: type | None, path: str, *, unix_time: bool = False) -> str | None:
    """`field_description` of a field of the SDK's class `cls`."""
    parts = path.split(".")
    for part in parts[:-1]:
        spec = fields_of_class(cls).get(part) if cls is not None else None
        cls = spec.nested if spec is not None else None
        if cls is None:
            return None
    text = _class_docs(cls).get(parts[-1]) if cls is not None else None
    return _tidy(text, unix_time=unix_time) if text else None

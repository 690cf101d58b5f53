"""Which table columns each Stripe resource becomes, as data.

A column is a name, a path into the Stripe object and a DuckDB type. Each resource's default
columns are part of its declaration (`catalog/<resource>.py`); their types come from Stripe's
schema (`stripe_schema`), so only Unix timestamps need saying (the declaration's
`timestamp_fields`). Dataflows can add, rename or drop columns on top (`apply_mapping`). The
full object is always kept in `raw`, so nothing is lost.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import orjson

from stripe_assets.catalog import StripeResource
from stripe_assets.catalog.child import StripeChild
from stripe_assets.ingest.stripe_docs import class_field_description
from stripe_assets.ingest.stripe_schema import FieldSpec, describe_kind, resolve_path

DuckType = Literal["VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMPTZ", "DECIMAL(38,12)", "JSON"]
DUCK_TYPES: tuple[str, ...] = get_args(DuckType)

# Columns every table keeps whatever the mapping says: the row key and the partitioning field.
REQUIRED_COLUMNS = ("id", "created")

# Bookkeeping columns added to every table after the mapped ones.
SYSTEM_COLUMNS: dict[str, str] = {
    "raw": "JSON",
    "_partition": "VARCHAR",
    "_run_id": "VARCHAR",
    "_loaded_at": "TIMESTAMPTZ",
    "_deleted_at": "TIMESTAMPTZ",  # null unless Stripe deleted the object (the row is kept)
    # How new the row's state is: the event's `created` for a state from Events, the moment the
    # request was sent for one listed or retrieved. A write never replaces a newer state (null:
    # a row written before this was kept, older than anything).
    "_observed_at": "TIMESTAMPTZ",
}

SdkClass = type  # (`ColumnSpec.type` is the column's DuckDB type)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    path: tuple[str, ...]
    type: str  # a DuckDB type from DUCK_TYPES
    note: str | None = None  # the column's description; None: Stripe's own words (`description`)
    kind: str = "any"  # the field's kind in Stripe's schema (`stripe_schema.Kind`): how values coerce
    # The SDK class whose field the path reads, which describes it (None: no description).
    stripe_class: SdkClass | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def dotted_path(self) -> str:
        return ".".join(self.path)

    @functools.cached_property
    def description(self) -> str:
        """What the column holds, for people (Dagster's column schema): read from the SDK's
        source when first asked for, not by every load (parsing it costs a fresh process ~30 ms)."""
        if self.note is not None:
            return self.note
        path = self.dotted_path
        source = f"Stripe `{path}`" + (", as a UTC time" if self.type == "TIMESTAMPTZ" else "")
        if self.stripe_class is None:
            return source
        # Stripe's own words for the field (the SDK's docstrings), then where it comes from.
        unix_time = self.type == "TIMESTAMPTZ" and self.kind == "integer"
        described = class_field_description(self.stripe_class, path, unix_time=unix_time)
        return f"{described} ({source})" if described else source


def duck_type_for(field: FieldSpec, leaf: str, timestamp_fields: Collection[str]) -> str:
    """The DuckDB type a field of Stripe's schema lands as (`leaf`: the field's own name)."""
    if field.kind == "integer":
        return "TIMESTAMPTZ" if leaf in timestamp_fields else "BIGINT"
    return {
        "string": "VARCHAR",
        "number": "DOUBLE",
        "boolean": "BOOLEAN",
        "decimal_string": "DECIMAL(38,12)",
        "expandable": "VARCHAR",  # the id, also when the API returned the object expanded
    }.get(field.kind, "JSON")


_TEXT_KINDS = ("string", "expandable")
_OBJECT_KINDS = ("object", "map", "array", "list_object")
# The column types each kind of Stripe field can land in without losing its values (what
# `_coerce` turns them into); integers become TIMESTAMPTZ only when they are Unix times.
_FITS: dict[str, tuple[str, ...]] = {
    "string": ("VARCHAR", "JSON"),
    "expandable": ("VARCHAR", "JSON"),
    "integer": ("BIGINT", "DOUBLE", "DECIMAL(38,12)", "VARCHAR", "JSON"),
    "timestamp": ("TIMESTAMPTZ", "BIGINT", "DOUBLE", "VARCHAR", "JSON"),
    "number": ("DOUBLE", "DECIMAL(38,12)", "VARCHAR", "JSON"),
    "boolean": ("BOOLEAN", "VARCHAR", "JSON"),
    "decimal_string": ("DECIMAL(38,12)", "VARCHAR", "JSON"),
    **dict.fromkeys(_OBJECT_KINDS, ("JSON", "VARCHAR")),
    "any": DUCK_TYPES,  # free-form (metadata values, polymorphic objects): Stripe does not say
}


def fitting_types(field: FieldSpec, leaf: str, timestamp_fields: Collection[str]) -> tuple[str, ...]:
    """The column types that can hold the field's values."""
    if field.kind == "integer" and leaf in timestamp_fields:
        return _FITS["timestamp"]
    return _FITS[field.kind]


def column(resource: StripeResource, name: str, path: str, type_: str | None = None) -> ColumnSpec:
    """A column reading `path`; its type comes from Stripe's schema unless given.

    Raises ValueError naming the path or type when either is not valid for the resource, or
    when the type cannot hold the field's values (a string path as BIGINT would land NULL).
    """
    field = resolve_path(resource, path)
    leaf = path.rsplit(".", 1)[-1]
    timestamps = resource.timestamp_fields
    if type_ is None:
        type_ = duck_type_for(field, leaf, timestamps)
    elif type_.upper() not in DUCK_TYPES:
        raise ValueError(f"unknown type {type_!r} (allowed: {', '.join(DUCK_TYPES)})")
    type_ = type_.upper()
    fits = fitting_types(field, leaf, timestamps)
    if type_ not in fits:
        kind = "a Unix time" if fits is _FITS["timestamp"] else describe_kind(field)
        raise ValueError(
            f"type {type_} cannot hold {path!r}, {kind} in Stripe's schema "
            f"(allowed: {', '.join(fits)})"
        )
    return ColumnSpec(name, tuple(path.split(".")), type_, kind=field.kind, stripe_class=resource.stripe_class)


def _parse_declaration(entry: str) -> tuple[str, str]:
    name, _, path = entry.partition(":")
    return name.strip(), (path.strip() or name.strip())


def default_columns(resource: StripeResource) -> list[ColumnSpec]:
    declared = [column(resource, *_parse_declaration(e)) for e in resource.columns]
    return declared[:1] + parent_columns(resource) + declared[1:]


# A child's row holds the `created` of its parent: the partition window it belongs to.
PARENT_CREATED = "_parent_created"


def parent_columns(resource: StripeResource) -> list[ColumnSpec]:
    """A child's columns naming its parent (filled by the child load, not from the object):
    the parent's id, and the parent's `created` (the partition its row belongs to)."""
    if not isinstance(resource, StripeChild):
        return []
    child, parent = resource.child_of, resource.parent
    return [
        ColumnSpec(
            child.parent_column, ("<parent>", "id"), "VARCHAR",
            note=f"The {parent.object} this was listed under (`{parent.table}`)", kind="string",
        ),
        ColumnSpec(
            PARENT_CREATED, ("<parent>", "created"), "TIMESTAMPTZ",
            note=f"When the {parent.object} was created: the partition the row belongs to", kind="integer",
        ),
    ]


@dataclass(frozen=True)
class AddedColumn:
    path: str
    type: str | None = None


def apply_mapping(
    resource: StripeResource,
    *,
    add: Mapping[str, AddedColumn] | None = None,
    rename: Mapping[str, str] | None = None,
    drop: Sequence[str] = (),
) -> list[ColumnSpec]:
    """The default columns of `resource` with a dataflow's mapping applied: drop, rename, then add.

    Every problem raises ValueError with a message naming the column and what is allowed.
    """
    columns = {c.name: c for c in default_columns(resource)}
    for name in drop:
        if name in REQUIRED_COLUMNS:
            raise ValueError(f"drop: column {name!r} cannot be dropped (required: {', '.join(REQUIRED_COLUMNS)})")
        if name not in columns:
            raise ValueError(f"drop: {resource.name} has no column {name!r} (columns: {', '.join(columns)})")
        del columns[name]
    for old, new in (rename or {}).items():
        if old not in columns:
            raise ValueError(f"rename: {resource.name} has no column {old!r} (columns: {', '.join(columns)})")
        if old in REQUIRED_COLUMNS:
            raise ValueError(f"rename: column {old!r} cannot be renamed (required: {', '.join(REQUIRED_COLUMNS)})")
        _check_new_name("rename", new, columns)
        columns = {
            (new if k == old else k): (dataclasses.replace(c, name=new) if k == old else c)
            for k, c in columns.items()
        }
    for name, added in (add or {}).items():
        _check_new_name("add", name, columns)
        try:
            columns[name] = column(resource, name, added.path, added.type)
        except ValueError as exc:
            raise ValueError(f"add: column {name!r}: {exc}") from None
    return list(columns.values())


def _check_new_name(action: str, name: str, columns: Mapping[str, ColumnSpec]) -> None:
    if not name.isidentifier() or name.lower() != name:
        raise ValueError(f"{action}: column name {name!r} must be lower_snake_case")
    if name.startswith("_"):
        # The warehouse's own columns (`_partition`, `_run_id`, `_deleted_at`, history's
        # `_replaced_by_run`, ...) start with an underscore: a mapped one would clash with them.
        raise ValueError(
            f"{action}: column name {name!r} is reserved (names starting with '_' are the warehouse's own columns)"
        )
    if name in columns or name in SYSTEM_COLUMNS:
        raise ValueError(f"{action}: column {name!r} already exists")


# --- extracting rows -------------------------------------------------------------------------

Getter = Callable[[dict], object]


def _getter(path: tuple[str, ...]) -> Getter:
    if len(path) == 1:
        key = path[0]
        return lambda record: record.get(key)

    def get(record: dict) -> object:
        value: object = record
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return get


BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1  # JSON integers can be larger


def _expanded_id(value: object) -> str | None:
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def _text(kind: str) -> Callable[[object], object]:
    """A VARCHAR column of a field that is not text: numbers and booleans as JSON writes them,
    objects and arrays as JSON text."""
    if kind in ("integer", "number"):
        return lambda v: str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    if kind == "boolean":
        return lambda v: ("true" if v else "false") if isinstance(v, bool) else None
    return lambda v: orjson.dumps(v).decode() if isinstance(v, (dict, list)) else None


def _coerce(type_: str, kind: str = "any") -> Callable[[object], object]:
    """Turn a JSON value into what the staging column of `type_` holds (None when it cannot)."""
    if type_ == "VARCHAR" and kind not in (*_TEXT_KINDS, "any", "decimal_string"):
        return _text(kind)
    if type_ in ("BIGINT", "TIMESTAMPTZ"):
        return lambda v: v if isinstance(v, int) and not isinstance(v, bool) and BIGINT_MIN <= v <= BIGINT_MAX else None
    if type_ == "DOUBLE":
        return lambda v: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    if type_ == "BOOLEAN":
        return lambda v: v if isinstance(v, bool) else None
    if type_ == "VARCHAR":
        # Expandable references arrive as objects when expanded: keep their id.
        return lambda v: v if isinstance(v, str) else _expanded_id(v)
    if type_ == "DECIMAL(38,12)":
        return lambda v: str(v) if isinstance(v, (str, int, float)) and not isinstance(v, bool) else None
    return lambda v: v  # JSON: serialized by the caller


def column_extractors(columns: Sequence[ColumnSpec]) -> list[tuple[ColumnSpec, Getter, Callable]]:
    return [(c, _getter(c.path), _coerce(c.type, c.kind)) for c in columns]

"""Which table columns each Stripe resource becomes, as data.

A column is a name, a path into the Stripe object and a DuckDB type. The default columns per
resource are declared below as plain lists; their types come from Stripe's schema
(`stripe_schema`), so only Unix timestamps need saying. Dataflows can add, rename or drop
columns on top (`apply_mapping`). The full object is always kept in `raw`, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import FieldSpec, resolve_path

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
}

# Integer fields that hold Unix timestamps (Stripe's spec marks them `format: unix-time`; the SDK
# annotations only say `int`).
TIMESTAMP_FIELDS = frozenset(
    {
        "created",
        "available_on",
        "billing_cycle_anchor",
        "cancel_at",
        "canceled_at",
        "current_period_end",
        "current_period_start",
        "ended_at",
        "start_date",
        "trial_end",
        "trial_start",
    }
)

# The default columns of each resource: a field name, or `name: dotted.path` for nested values.
DEFAULT_COLUMNS: Mapping[str, Sequence[str]] = {
    "charges": [
        "id", "created", "amount", "amount_captured", "amount_refunded", "currency", "status",
        "paid", "captured", "refunded", "disputed", "livemode", "customer", "balance_transaction",
        "payment_intent", "payment_method", "description", "failure_code",
        "failure_message", "receipt_email", "statement_descriptor",
        "card_brand: payment_method_details.card.brand",
        "card_country: payment_method_details.card.country",
        "outcome_type: outcome.type", "risk_level: outcome.risk_level", "metadata",
    ],
    "subscriptions": [
        "id", "created", "customer", "status", "collection_method", "currency",
        "cancel_at_period_end", "cancel_at", "canceled_at", "ended_at", "start_date",
        "billing_cycle_anchor", "trial_start", "trial_end", "days_until_due", "description",
        "latest_invoice", "default_payment_method", "livemode", "items", "metadata",
    ],
    "refunds": [
        "id", "created", "amount", "currency", "status", "reason", "charge", "payment_intent",
        "balance_transaction", "failure_reason", "description", "receipt_number", "metadata",
    ],
    "balance_transactions": [
        "id", "created", "available_on", "amount", "fee", "net", "currency", "exchange_rate",
        "type", "reporting_category", "status", "source", "description", "fee_details",
    ],
    "customers": [
        "id", "created", "email", "name", "phone", "description", "currency", "balance",
        "delinquent", "invoice_prefix", "tax_exempt", "livemode",
        "address_country: address.country", "address_city: address.city", "metadata",
    ],
    "prices": [
        "id", "created", "product", "active", "currency", "unit_amount", "unit_amount_decimal",
        "type", "billing_scheme", "nickname", "lookup_key", "tax_behavior",
        "recurring_interval: recurring.interval", "recurring_interval_count: recurring.interval_count",
        "recurring_usage_type: recurring.usage_type", "livemode", "metadata",
    ],
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    path: tuple[str, ...]
    type: str  # a DuckDB type from DUCK_TYPES
    description: str = ""

    @property
    def dotted_path(self) -> str:
        return ".".join(self.path)


def duck_type_for(field: FieldSpec, leaf: str) -> str:
    """The DuckDB type a field of Stripe's schema lands as."""
    if field.kind == "integer":
        return "TIMESTAMPTZ" if leaf in TIMESTAMP_FIELDS else "BIGINT"
    return {
        "string": "VARCHAR",
        "number": "DOUBLE",
        "boolean": "BOOLEAN",
        "decimal_string": "DECIMAL(38,12)",
        "expandable": "VARCHAR",  # the id, also when the API returned the object expanded
    }.get(field.kind, "JSON")


def column(resource: str, name: str, path: str, type_: str | None = None) -> ColumnSpec:
    """A column reading `path`; its type comes from Stripe's schema unless given.

    Raises ValueError naming the path or type when either is not valid for the resource.
    """
    field = resolve_path(resource, path)
    if type_ is None:
        type_ = duck_type_for(field, path.rsplit(".", 1)[-1])
    elif type_.upper() not in DUCK_TYPES:
        raise ValueError(f"unknown type {type_!r} (allowed: {', '.join(DUCK_TYPES)})")
    return ColumnSpec(name, tuple(path.split(".")), type_.upper(), description=f"Stripe `{path}`")


def _parse_declaration(entry: str) -> tuple[str, str]:
    name, _, path = entry.partition(":")
    return name.strip(), (path.strip() or name.strip())


def default_columns(resource: str) -> list[ColumnSpec]:
    get_resource(resource)  # a clear error for an unknown resource
    return [column(resource, *_parse_declaration(e)) for e in DEFAULT_COLUMNS[resource]]


@dataclass(frozen=True)
class AddedColumn:
    path: str
    type: str | None = None


def apply_mapping(
    resource: str,
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
            raise ValueError(f"drop: {resource} has no column {name!r} (columns: {', '.join(columns)})")
        del columns[name]
    for old, new in (rename or {}).items():
        if old not in columns:
            raise ValueError(f"rename: {resource} has no column {old!r} (columns: {', '.join(columns)})")
        if old in REQUIRED_COLUMNS:
            raise ValueError(f"rename: column {old!r} cannot be renamed (required: {', '.join(REQUIRED_COLUMNS)})")
        _check_new_name("rename", new, columns)
        columns = {
            (new if k == old else k): (ColumnSpec(new, c.path, c.type, c.description) if k == old else c)
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


def _coerce(type_: str) -> Callable[[object], object]:
    """Turn a JSON value into what the staging column of `type_` holds (None when it cannot)."""
    if type_ in ("BIGINT", "TIMESTAMPTZ"):
        return lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None
    if type_ == "DOUBLE":
        return lambda v: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    if type_ == "BOOLEAN":
        return lambda v: v if isinstance(v, bool) else None
    if type_ == "VARCHAR":
        # Expandable references arrive as objects when expanded: keep their id.
        return lambda v: v if isinstance(v, str) else (v.get("id") if isinstance(v, dict) else None)
    if type_ == "DECIMAL(38,12)":
        return lambda v: str(v) if isinstance(v, (str, int, float)) and not isinstance(v, bool) else None
    return lambda v: v  # JSON: serialized by the caller


def column_extractors(columns: Sequence[ColumnSpec]) -> list[tuple[ColumnSpec, Getter, Callable]]:
    return [(c, _getter(c.path), _coerce(c.type)) for c in columns]

"""Short human explanations of one failed check on one record, and how its value is shown."""

from __future__ import annotations

import orjson

from stripe_assets.ingest.stripe_schema import describe_kind
from stripe_assets.ingest.validation import schemas
from stripe_assets.ingest.validation.frame import ABSENT
from stripe_assets.ingest.validation.schemas import ResourceSchema

VALUE_CHARS = 200  # longest value shown in a failure (quarantine keeps the whole record in `raw`)


def record_id(record: object, index: int) -> str:
    """The record's id, or a placeholder naming its position when the id is unusable."""
    value = record.get("id") if isinstance(record, dict) else None
    return value if isinstance(value, str) and value else f"<record {index}>"


def show_value(value: object) -> str | None:
    """The value as compact JSON, truncated; None when the field is absent."""
    if value is ABSENT:
        return None
    try:
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=repr).decode()
    except (TypeError, orjson.JSONEncodeError):
        text = repr(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 3] + "..."


def _type_reason(schema: ResourceSchema, column: str, value: object) -> str:
    spec = schema.fields[column]
    if spec.kind == "decimal_string" and isinstance(value, str):
        return f"{show_value(value)} is not a decimal number"
    if spec.kind == "list_object" and isinstance(value, dict):
        return "expected a list object (object: \"list\"), got another object"
    if spec.kind == "expandable" and isinstance(value, dict):
        return "expanded object has no string id"
    return f"expected {describe_kind(spec)}, got {type(value).__name__}"


def reason(schema: ResourceSchema, check: str, column: str, value: object, record: dict) -> str:
    """Why `record` fails `check` on `column` (whose value is `value`)."""
    if check == schemas.REQUIRED:
        return "required field is missing"
    if check == schemas.NOT_NULLABLE:
        return "null in a non-nullable field"
    if check == schemas.TYPE:
        return _type_reason(schema, column, value)
    if check == schemas.ENUM:
        enum = schema.fields[column].enum or ()
        return f"{value!r} is not one of {schemas.list_values(enum)}"
    if check == schemas.ID_FORMAT:
        return f"{value!r} does not match {schema.id_pattern}"
    if check == schemas.UNIQUE:
        return f"duplicate id {value!r}: an earlier record in the batch has it"
    if check == schemas.CURRENCY_FORMAT:
        return f"{value!r} is not a three-letter lowercase currency code"
    rule = schema.rules.get(check)
    if rule is not None:
        return rule.explain(record)
    return f"failed {check}"


def summary(schema: ResourceSchema, check: str, column: str, why: str) -> str:
    """The reason without record-specific numbers, to count failures of one kind together."""
    rule = schema.rules.get(check)
    if rule is not None:
        return f"{column}: {rule.description} violated"
    if check == schemas.UNIQUE:
        return f"{column}: duplicate id"
    return f"{column}: {why}"


def shown_value(schema: ResourceSchema, check: str, column: str, record: dict) -> str | None:
    """What a failure shows as its value: the cell, or every field a cross-field rule read."""
    rule = schema.rules.get(check)
    if rule is not None and not rule.single_column:
        return show_value({c: record[c] for c in rule.reads if c in record})
    return show_value(record.get(column, ABSENT))

"""The pandera schemas are generated from the stripe SDK's classes and read back as a table."""

from __future__ import annotations

import pytest

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.ingest.stripe_schema import API_VERSION, resource_fields
from stripe_assets.ingest.validation.schemas import describe_schema, resource_schema, schema_markdown


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_every_field_of_the_pinned_api_version_is_a_column_with_its_nullability(resource):
    fields = resource_fields(get_resource(resource))
    schema = resource_schema(get_resource(resource)).schema
    assert list(schema.columns) == list(fields)
    assert {n: c.nullable for n, c in schema.columns.items()} == {n: s.nullable for n, s in fields.items()}


def test_open_enums_are_enforced_only_when_strict():
    lenient = {row.column: row for row in describe_schema(get_resource("subscriptions"))}
    strict = {row.column: row for row in describe_schema(get_resource("subscriptions"), strict_enums=True)}
    assert lenient["status"].enum.endswith("(open: new values are drift)")
    assert strict["status"].enum.endswith("(open, enforced)")
    assert lenient["object"].enum == "subscription (closed)"
    subscriptions = get_resource("subscriptions")
    assert "enum" not in [c.name for c in resource_schema(subscriptions).schema.columns["status"].checks]
    assert "enum" in [c.name for c in resource_schema(subscriptions, True).schema.columns["status"].checks]


def test_the_description_shows_types_nullability_enums_and_rules():
    rows = {row.column: row for row in describe_schema(get_resource("charges"))}
    assert (rows["amount"].type, rows["amount"].nullable) == ("integer", False)
    assert (rows["customer"].type, rows["customer"].nullable) == ("id or an expanded object", True)
    assert rows["status"].enum.startswith("failed, pending, succeeded")
    assert rows["id"].rules == ("id_format: matches ^(ch_|py_)[A-Za-z0-9]+$", "unique: unique in the batch")
    assert (
        "amount_refunded_within_charge: amount_refunded <= max(amount, amount_captured)"
        in rows["amount_refunded"].rules
    )


def test_long_enums_are_abbreviated_with_their_size():
    rows = {row.column: row for row in describe_schema(get_resource("balance_transactions"))}
    assert "... (" in rows["type"].enum and " values)" in rows["type"].enum


def test_the_markdown_names_the_api_version_and_has_one_row_per_field():
    text = schema_markdown(get_resource("refunds"))
    assert text.startswith(f"### refunds: Stripe refund objects, API {API_VERSION}")
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| column")]
    assert len(rows) == len(resource_fields(get_resource("refunds")))
    assert "| amount | integer | no |  | amount_positive: amount > 0 |" in rows
    assert "re_\\|pyr_" in text  # pipes inside cells are escaped

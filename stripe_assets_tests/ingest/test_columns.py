import pytest

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.ingest.columns import AddedColumn, apply_mapping, default_columns


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_default_columns_are_typed_from_stripes_schema(resource):
    columns = {c.name: c.type for c in default_columns(get_resource(resource))}
    assert columns["id"] == "VARCHAR"
    # A child's rows are placed by their parent's `created` (an invoice line has none of its own).
    assert columns.get("created", columns.get("_parent_created")) == "TIMESTAMPTZ"
    assert all(
        t in {"VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMPTZ", "DECIMAL(38,12)", "JSON"}
        for t in columns.values()
    )


def test_amounts_are_bigint_references_are_ids_and_objects_are_json():
    charges = {c.name: c.type for c in default_columns(get_resource("charges"))}
    assert charges["amount"] == "BIGINT"
    assert charges["customer"] == "VARCHAR"  # expandable: stored as the id
    assert charges["paid"] == "BOOLEAN"
    assert charges["metadata"] == "JSON"
    assert charges["card_brand"] == "VARCHAR"


def test_mapping_adds_renames_and_drops_in_place():
    columns = apply_mapping(
        get_resource("charges"),
        add={"card_funding": AddedColumn("payment_method_details.card.funding")},
        rename={"amount": "amount_minor"},
        drop=["metadata"],
    )
    names = [c.name for c in columns]
    assert "metadata" not in names
    assert names.index("amount_minor") == 2  # the renamed column keeps its place
    added = columns[-1]
    assert (added.name, added.dotted_path, added.type) == (
        "card_funding",
        "payment_method_details.card.funding",
        "VARCHAR",
    )


@pytest.mark.parametrize(
    "mapping, message",
    [
        (dict(drop=["id"]), "drop: column 'id' cannot be dropped"),
        (dict(drop=["nope"]), "drop: charges has no column 'nope'"),
        (dict(rename={"nope": "x"}), "rename: charges has no column 'nope'"),
        (dict(rename={"amount": "currency"}), "rename: column 'currency' already exists"),
        (
            dict(add={"x": AddedColumn("payment_method_details.kard.brand")}),
            "payment_method_details has no field 'kard'",
        ),
        (dict(add={"x": AddedColumn("amount", "INTEGER")}), "unknown type 'INTEGER'"),
        (dict(add={"Bad Name": AddedColumn("amount")}), "must be lower_snake_case"),
    ],
)
def test_bad_mappings_name_the_problem(mapping, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        apply_mapping(get_resource("charges"), **mapping)


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_every_default_column_is_described_in_stripes_words(resource):
    for column in default_columns(get_resource(resource)):
        if column.path[0] == "<parent>":  # a child's parent: its id and `created`, named in our words
            assert column.description.startswith(("The ", "When the ")), column
            continue
        text, _, source = column.description.rpartition(" (Stripe `")
        assert text and source.startswith(column.dotted_path + "`"), column
        assert "Unix epoch" not in text or column.type != "TIMESTAMPTZ", column


def test_descriptions_are_stripes_own_also_for_nested_and_mapped_fields():
    columns = {c.name: c.description for c in apply_mapping(
        get_resource("charges"), add={"card_funding": AddedColumn("payment_method_details.card.funding")}
    )}
    assert columns["amount"].startswith("Amount intended to be collected by this payment.")
    assert columns["created"] == "Time at which the object was created. (Stripe `created`, as a UTC time)"
    assert columns["card_brand"].startswith("Card brand. Can be `amex`")
    assert columns["card_funding"] == (
        "Card funding type. Can be `credit`, `debit`, `prepaid`, or `unknown`. "
        "(Stripe `payment_method_details.card.funding`)"
    )
    # free-form keys have no description of their own: where they come from is said
    order = AddedColumn("metadata.order_id", "VARCHAR")
    (metadata_key,) = apply_mapping(get_resource("charges"), add={"order": order})[-1:]
    assert metadata_key.description == "Stripe `metadata.order_id`"


@pytest.mark.parametrize(
    "path, type_, kind, allowed",
    [
        ("description", "BIGINT", "a string", "VARCHAR, JSON"),
        ("currency", "DOUBLE", "a string", "VARCHAR, JSON"),
        ("customer", "BOOLEAN", "an id or an expanded object", "VARCHAR, JSON"),
        ("outcome", "BOOLEAN", "an object", "JSON, VARCHAR"),
        ("metadata", "BIGINT", "an object", "JSON, VARCHAR"),
        ("paid", "BIGINT", "a boolean", "BOOLEAN, VARCHAR, JSON"),
        ("amount", "BOOLEAN", "an integer", "BIGINT, DOUBLE, DECIMAL(38,12), VARCHAR, JSON"),
        ("amount", "TIMESTAMPTZ", "an integer", "BIGINT, DOUBLE, DECIMAL(38,12), VARCHAR, JSON"),
        ("created", "BOOLEAN", "a Unix time", "TIMESTAMPTZ, BIGINT, DOUBLE, VARCHAR, JSON"),
        ("payment_method_details.card.exp_year", "TIMESTAMPTZ", "an integer", "BIGINT, DOUBLE"),
    ],
)
def test_a_type_that_cannot_hold_the_field_is_refused(path, type_, kind, allowed):
    with pytest.raises(ValueError) as caught:
        apply_mapping(get_resource("charges"), add={"x": AddedColumn(path, type_)})
    message = str(caught.value)
    assert message.startswith(f"add: column 'x': type {type_} cannot hold {path!r}, {kind} in Stripe's schema")
    assert f"(allowed: {allowed}" in message


@pytest.mark.parametrize(
    "path, type_",
    [
        ("amount", "VARCHAR"), ("amount", "DOUBLE"), ("created", "BIGINT"), ("paid", "VARCHAR"),
        ("outcome", "VARCHAR"), ("customer", "JSON"), ("metadata.order_id", "BIGINT"),
        ("payment_method_details.card.exp_year", "VARCHAR"),
    ],
)
def test_a_type_that_holds_the_field_is_accepted(path, type_):
    (added,) = apply_mapping(get_resource("charges"), add={"x": AddedColumn(path, type_)})[-1:]
    assert (added.dotted_path, added.type) == (path, type_)

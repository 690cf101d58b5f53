from datetime import UTC, datetime

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.records import to_arrow


def test_records_become_typed_columns_with_the_raw_object_kept():
    record = {
        "id": "ch_1", "object": "charge", "created": 1_760_000_000, "amount": 1999,
        "amount_captured": 1999, "amount_refunded": 0, "currency": "usd", "status": "succeeded",
        "paid": True, "captured": True, "refunded": False, "disputed": False, "livemode": False,
        "customer": {"id": "cus_9", "object": "customer"},  # expanded reference
        "payment_method_details": {"card": {"brand": "visa", "country": "US"}},
        "metadata": {"order": "42"}, "a_field_stripe_added_later": 1,
    }
    loaded_at = datetime(2026, 11, 1, tzinfo=UTC)
    columns = default_columns(get_resource("charges"))
    table = to_arrow([record], columns, partition_of=lambda r: "2025-10-09", run_id="r1", loaded_at=loaded_at)
    row = table.to_pylist()[0]
    assert row["customer"] == "cus_9"
    assert row["card_brand"] == "visa"
    assert row["created"] == datetime.fromtimestamp(1_760_000_000, UTC)
    assert row["amount"] == 1999 and row["paid"] is True
    assert row["metadata"] == '{"order":"42"}'
    assert '"a_field_stripe_added_later":1' in row["raw"]
    assert (row["_partition"], row["_run_id"], row["_loaded_at"]) == ("2025-10-09", "r1", loaded_at)
    assert row["failure_code"] is None


def test_decimal_columns_keep_38_digits_and_turn_non_numbers_into_null():
    from stripe_assets.ingest.columns import column

    prices = get_resource("prices")
    columns = [column(prices, "id", "id"), column(prices, "exact", "unit_amount_decimal")]
    records = [
        {"id": "price_1", "unit_amount_decimal": "12345678901234567890.125"},
        {"id": "price_2", "unit_amount_decimal": "NaN"},
    ]
    table = to_arrow(records, columns, partition_of=lambda r: "p", run_id="r", loaded_at=datetime.now(UTC))
    exact = table.column("exact").to_pylist()
    assert str(exact[0]) == "12345678901234567890.125000000000" and exact[1] is None


def _one_by_one(record: dict, spec) -> object:
    """What a column holds for one record, computed on its own: the path followed while it
    leads through objects, then the column's coercion (the reference for the column-wise build)."""
    import decimal

    import orjson

    value: object = record
    for key in spec.path:
        value = value.get(key) if isinstance(value, dict) else None
    if spec.type in ("BIGINT", "TIMESTAMPTZ"):
        if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
            value = None
        elif spec.type == "TIMESTAMPTZ":
            value = datetime.fromtimestamp(value, UTC)
    elif spec.type == "DOUBLE":
        value = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    elif spec.type == "BOOLEAN":
        value = value if isinstance(value, bool) else None
    elif spec.type == "VARCHAR":
        if isinstance(value, dict):
            value = value.get("id")
        value = value if isinstance(value, str) else None
    elif spec.type == "JSON":
        value = None if value is None else orjson.dumps(value).decode()
    elif spec.type == "DECIMAL(38,12)":
        try:
            number = decimal.Context(prec=38).create_decimal(str(value)) if value is not None else None
            value = number.quantize(decimal.Decimal("1e-12")) if number is not None and number.is_finite() else None
        except decimal.InvalidOperation:
            value = None
    return value


def test_columns_built_a_column_at_a_time_hold_what_each_record_gives_on_its_own():
    import orjson

    from stripe_assets.ingest.columns import column

    columns = [
        *default_columns(get_resource("charges")),
        column(get_resource("charges"), "fee_rate", "amount", "DOUBLE"),
        column(get_resource("charges"), "details", "payment_method_details", "JSON"),
        column(get_resource("charges"), "fraud", "fraud_details", "JSON"),
    ]
    records = [
        {"id": "ch_1", "created": 1_760_000_000, "amount": 1999, "customer": "cus_1",
         "payment_method_details": {"card": {"brand": "visa", "country": "US"}}, "metadata": {"a": "1"}},
        {"id": "ch_2", "created": 1_760_000_001, "amount": True, "customer": {"id": "cus_2"}, "paid": 1,
         "payment_method_details": {"card": None}, "outcome": ["not", "an", "object"], "metadata": None},
        {"id": "ch_3", "created": 1_760_000_002, "amount": 12.5, "customer": {"object": "customer"},
         "payment_method_details": "card", "outcome": {"type": 7, "risk_level": "normal"},
         "fraud_details": {"nested": [1, 2.5, {"é": None}]}},
        {"id": "ch_4", "created": 1_760_000_003, "amount": "1000", "currency": 5, "captured": "yes",
         "payment_method_details": {"card": {"brand": {"id": "visa"}}}, "description": "ünïcode ✓"},
        {"id": "ch_5", "created": 1_760_000_004},  # nearly everything absent
        {"id": "ch_6", "created": 1_760_000_005, "amount": 2**64 - 1, "amount_refunded": 1e3, "customer": {"id": 5},
         "amount_captured": -(2**63), "paid": None, "payment_method_details": {"card": [{"brand": "visa"}]},
         "status": "", "currency": "\u0000\"'\\", "description": "x" * 100_000},
    ]
    loaded_at = datetime(2026, 11, 1, tzinfo=UTC)
    table = to_arrow(records, columns, partition_of=lambda r: f"p{r['id']}", run_id="r1", loaded_at=loaded_at)
    rows = table.to_pylist()
    system = ["raw", "_partition", "_run_id", "_loaded_at", "_deleted_at", "_observed_at"]
    assert table.column_names == [c.name for c in columns] + system
    for record, row in zip(records, rows, strict=True):
        assert {c.name: row[c.name] for c in columns} == {c.name: _one_by_one(record, c) for c in columns}
        assert orjson.loads(row["raw"]) == record and row["raw"] == orjson.dumps(record).decode()
        assert (row["_partition"], row["_run_id"], row["_loaded_at"], row["_deleted_at"]) == (
            f"p{record['id']}", "r1", loaded_at, None,
        )


def test_json_columns_hold_the_texts_given_nulls_and_an_empty_batch_included():
    from stripe_assets.ingest.records import JSON_TYPE, json_array

    texts = [b'{"a":1}', b'"\xc3\xa9"', b"[]", b"null"]
    assert json_array(texts).to_pylist() == ['{"a":1}', '"é"', "[]", "null"]
    assert json_array([b"{}", None, b"1"]).to_pylist() == ["{}", None, "1"]
    assert json_array([]).to_pylist() == [] and json_array([]).type == JSON_TYPE


def test_records_holding_every_field_read_in_one_pass_hold_what_each_gives_on_its_own(emulator):
    """The emulator's objects of every resource (each holding every top-level field its columns
    read, so the columns are read in one pass over the records), and the same objects with odd
    values in those fields: each row is what the record gives on its own, `raw` included."""
    import copy

    import orjson

    from stripe_assets.ingest.records import top_level_values
    from stripe_assets_emulator.generators import GENERATED

    odd: list[object] = [None, True, 1.5, -123_456_789, "x", [], {"id": 7}, {"card": None}]
    for resource in GENERATED:
        columns = default_columns(get_resource(resource))
        records = orjson.loads(orjson.dumps(emulator.objects(resource, include_hidden=False)))[:20]
        tops = {c.path[0] for c in columns}
        assert records, resource
        for record in records:  # a field Stripe leaves out at times, present as null
            for key in sorted(tops - record.keys()):
                record[key] = None
        for n, record in enumerate(copy.deepcopy(records)):
            for i, key in enumerate(sorted(tops - {"id", "created"})):
                record[key] = odd[(n + i) % len(odd)]
            records.append(record)
        assert top_level_values(records, columns) is not None, resource
        at = datetime(2026, 11, 1, tzinfo=UTC)
        table = to_arrow(records, columns, partition_of=lambda _: "p", run_id="r", loaded_at=at)
        for record, row in zip(records, table.to_pylist(), strict=True):
            assert {c.name: row[c.name] for c in columns} == {c.name: _one_by_one(record, c) for c in columns}, resource
            assert row["raw"] == orjson.dumps(record).decode()


def test_a_record_without_a_field_has_the_columns_read_one_at_a_time():
    from stripe_assets.ingest.records import top_level_values

    columns = default_columns(get_resource("charges"))
    full = {c.path[0]: None for c in columns} | {"id": "ch_1", "created": 1}
    assert top_level_values([full, full], columns) is not None
    assert top_level_values([full, {"id": "ch_2", "created": 2}], columns) is None

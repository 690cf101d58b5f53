from datetime import UTC, datetime

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
    table = to_arrow(
        [record], default_columns("charges"), partition_of=lambda r: "2025-10-09", run_id="r1", loaded_at=loaded_at
    )
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

    columns = [column("prices", "id", "id"), column("prices", "exact", "unit_amount_decimal")]
    records = [
        {"id": "price_1", "unit_amount_decimal": "12345678901234567890.125"},
        {"id": "price_2", "unit_amount_decimal": "NaN"},
    ]
    table = to_arrow(records, columns, partition_of=lambda r: "p", run_id="r", loaded_at=datetime.now(UTC))
    exact = table.column("exact").to_pylist()
    assert str(exact[0]) == "12345678901234567890.125000000000" and exact[1] is None

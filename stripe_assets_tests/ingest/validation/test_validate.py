"""validate_records on realistic batches of each resource: what passes, what fails and why."""

from __future__ import annotations

import pytest

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.ingest.stripe_schema import deep_errors, resource_fields
from stripe_assets.ingest.validation.quarantine import quarantine_rows
from stripe_assets.ingest.validation.validate import validate_records
from stripe_assets_tests.ingest.validation.samples import batch

# (field broken, how) per resource, for each fault kind.
WRONG_TYPE = {
    "charges": "amount", "subscriptions": "start_date", "refunds": "amount",
    "balance_transactions": "amount", "customers": "balance", "prices": "unit_amount",
    "invoices": "amount_due", "payment_intents": "amount_received", "products": "updated",
    "payouts": "arrival_date", "disputes": "amount", "coupons": "times_redeemed", "setup_intents": "created",
    "transfers": "amount_reversed", "application_fees": "amount_refunded", "credit_notes": "total",
    "checkout_sessions": "amount_total", "early_fraud_warnings": "created",
    "tax_rates": "created", "promotion_codes": "times_redeemed", "invoice_items": "amount",
    "invoice_line_items": "amount", "subscription_items": "created", "payout_balance_transactions": "net",
    "payment_methods": "created", "credit_note_line_items": "amount", "checkout_session_line_items": "amount_total",
}
REQUIRED = {
    "charges": "currency", "subscriptions": "customer", "refunds": "created",
    "balance_transactions": "fee", "customers": "livemode", "prices": "product",
    "invoices": "total", "payment_intents": "capture_method", "products": "name",
    "payouts": "currency", "disputes": "charge", "coupons": "valid", "setup_intents": "usage",
    "transfers": "reversed", "application_fees": "charge", "credit_notes": "invoice",
    "checkout_sessions": "mode", "early_fraud_warnings": "fraud_type",
    "tax_rates": "display_name", "promotion_codes": "code", "invoice_items": "currency",
    "invoice_line_items": "currency", "subscription_items": "subscription", "payout_balance_transactions": "fee",
    "payment_methods": "type", "credit_note_line_items": "type", "checkout_session_line_items": "currency",
}
OPEN_ENUM = {
    "charges": ("status", "on_hold"), "subscriptions": ("status", "on_hold"),
    "refunds": ("reason", "chargeback"), "balance_transactions": ("type", "bank_adjustment"),
    "customers": ("tax_exempt", "partial"), "prices": ("billing_scheme", "package"),
    "invoices": ("billing_reason", "renewal"), "payment_intents": ("status", "requires_review"),
    "products": ("type", "subscription"), "payouts": ("reconciliation_status", "partial"),
    "disputes": ("status", "pending"), "coupons": ("duration", "lifetime"),
    "setup_intents": ("status", "requires_review"), "credit_notes": ("type", "mixed_payment"),
    "checkout_sessions": ("mode", "donation"),
    "tax_rates": ("tax_type", "carbon_tax"),
    "payout_balance_transactions": ("type", "bank_adjustment"), "payment_methods": ("type", "smoke_signal"),
    "credit_note_line_items": ("type", "shipping_line_item"),
}


def only(result):
    assert len(result.failures) == 1, result.failures
    return result.failures[0]


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_realistic_valid_records_pass_untouched_and_in_order(resource):
    records = batch(resource, 30)
    assert all(deep_errors(get_resource(resource).stripe_class, r) == [] for r in records)
    result = validate_records(get_resource(resource), records)
    assert result.failures == [] and result.invalid == [] and not result.drift
    assert result.valid == records and all(a is b for a, b in zip(result.valid, records, strict=True))
    assert (result.records_total, result.error_rate) == (30, 0.0)


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_a_wrong_type_fails_that_record_only(resource):
    records = batch(resource, 10)
    field = WRONG_TYPE[resource]
    records[4][field] = str(records[4][field])
    result = validate_records(get_resource(resource), records)
    failure = only(result)
    assert (failure.id, failure.index, failure.column, failure.check) == (records[4]["id"], 4, field, "type")
    assert failure.reason == "expected an integer, got str"
    assert failure.value == f'"{records[4][field]}"'
    assert result.invalid == [records[4]] and len(result.valid) == 9 and result.error_rate == 0.1


def test_booleans_are_not_integers_and_integers_are_not_booleans():
    records = batch("charges", 3)
    records[0]["amount"], records[1]["paid"] = True, 1
    reasons = {(f.column, f.reason) for f in validate_records(get_resource("charges"), records).failures}
    assert reasons == {("amount", "expected an integer, got bool"), ("paid", "expected a boolean, got int")}


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_a_missing_required_field_is_not_the_same_as_null(resource):
    records = batch(resource, 6)
    field = REQUIRED[resource]
    del records[1][field]
    records[3][field] = None
    failures = validate_records(get_resource(resource), records).failures
    assert [(f.index, f.column, f.check, f.reason, f.value) for f in failures] == [
        (1, field, "required", "required field is missing", None),
        (3, field, "not_nullable", "null in a non-nullable field", "null"),
    ]


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_a_missing_or_null_optional_field_is_fine(resource):
    records = batch(resource, 2)
    optional = {
        "prices": "nickname", "disputes": "network_reason_code", "coupons": "redeem_by",
        "application_fees": "originating_transaction", "credit_notes": "memo",
        "checkout_sessions": "client_reference_id", "early_fraud_warnings": "payment_intent",
        "promotion_codes": "expires_at",
        "subscription_items": "tax_rates", "payment_methods": "allow_redisplay",
    }.get(resource, "description")
    del records[0][optional]
    records[1][optional] = None
    assert validate_records(get_resource(resource), records).failures == []


@pytest.mark.parametrize("resource", list(OPEN_ENUM))  # invoice lines and subscription items have none
def test_an_unknown_value_of_an_open_enum_is_drift_by_default_and_an_error_when_strict(resource):
    records = batch(resource, 8)
    if resource not in OPEN_ENUM:  # early fraud warnings: no enum but `object`
        assert not [f for f in resource_fields(get_resource(resource)).values() if f.enum_open], resource
        return
    column, value = OPEN_ENUM[resource]
    records[2][column] = value
    records[5][column] = value

    lenient = validate_records(get_resource(resource), records)
    assert lenient.failures == [] and lenient.valid == records
    assert lenient.drift.unknown_enum_values == {column: {value: 2}}

    strict = validate_records(get_resource(resource), records, strict_enums=True)
    assert [(f.index, f.column, f.check) for f in strict.failures] == [(2, column, "enum"), (5, column, "enum")]
    assert strict.failures[0].reason.startswith(f"{value!r} is not one of ")
    assert strict.drift.unknown_enum_values == {}


def test_enum_reasons_list_the_known_values():
    records = batch("charges", 1)
    records[0]["status"] = "on_hold"
    failure = only(validate_records(get_resource("charges"), records, strict_enums=True))
    assert failure.reason == "'on_hold' is not one of failed, pending, succeeded"


def test_closed_enums_are_enforced_without_strict_enums():
    records = batch("refunds", 2)
    records[1]["object"] = "charge"
    failure = only(validate_records(get_resource("refunds"), records))
    assert (failure.column, failure.check, failure.reason) == ("object", "enum", "'charge' is not one of refund")


@pytest.mark.parametrize("resource", [r for r in RESOURCE_NAMES if not get_resource(r).custom_ids])
def test_an_id_with_another_objects_prefix_is_caught(resource):
    records = batch(resource, 3)
    records[2]["id"] = "src_3MtwBwLkdIwHu7ix28a3tqPa"
    failure = only(validate_records(get_resource(resource), records))
    prefixes = "|".join(get_resource(resource).id_prefixes)
    assert (failure.id, failure.column, failure.check) == ("src_3MtwBwLkdIwHu7ix28a3tqPa", "id", "id_format")
    assert failure.reason == f"'src_3MtwBwLkdIwHu7ix28a3tqPa' does not match ^({prefixes})[A-Za-z0-9]+$"


def test_prices_accept_the_custom_ids_of_legacy_plans_but_not_blanks():
    records = batch("prices", 3)
    records[0]["id"] = "gold-monthly_2019"
    records[1]["id"] = "gold monthly"
    failures = validate_records(get_resource("prices"), records).failures
    assert [(f.index, f.column, f.check) for f in failures] == [(1, "id", "id_format")]


def test_every_catalog_prefix_is_accepted_and_a_trailing_newline_is_not():
    records = batch("charges", 3)
    records[1]["id"] = "py_1NXWPmLkdIwHu7ixfZgjOmyL"
    records[2]["id"] = "ch_1NXWPmLkdIwHu7ixfZgjOmyL\n"
    assert [f.index for f in validate_records(get_resource("charges"), records).failures] == [2]


def test_a_broken_id_is_replaced_by_a_placeholder_naming_the_position():
    records = batch("customers", 4)
    records[3]["id"] = 42
    failure = only(validate_records(get_resource("customers"), records))
    assert (failure.id, failure.index, failure.check, failure.value) == ("<record 3>", 3, "type", "42")


def test_a_repeated_id_keeps_the_first_record():
    records = batch("prices", 3)
    records[2]["id"] = records[0]["id"]
    result = validate_records(get_resource("prices"), records)
    failure = only(result)
    assert (failure.index, failure.check) == (2, "unique")
    assert result.valid == records[:2]


@pytest.mark.parametrize(
    ("resource", "index", "change", "column", "check", "reason"),
    [
        ("charges", 1, {"amount_refunded": 1200, "amount": 1000, "amount_captured": 1000},
         "amount_refunded", "amount_refunded_within_charge", "amount_refunded (1200) > amount (1000)"),
        ("charges", 0, {"amount": -5}, "amount", "amount_non_negative", "amount (-5) is negative"),
        ("refunds", 2, {"amount": 0}, "amount", "amount_positive", "amount (0) is not positive"),
        ("balance_transactions", 1, {"amount": 2000, "fee": 88, "net": 2000},
         "net", "net_is_amount_minus_fee", "net (2000) != amount (2000) - fee (88)"),
        ("prices", 0, {"unit_amount": -100}, "unit_amount", "unit_amount_non_negative",
         "unit_amount (-100) is negative"),
        ("prices", 1, {"recurring": None}, "recurring", "recurring_matches_type",
         "type is 'recurring' but recurring is not set"),
        ("invoices", 1, {"amount_due": 2900, "amount_paid": 0, "amount_remaining": 5800},
         "amount_remaining", "amount_remaining_within_due", "amount_remaining (5800) > amount_due (2900)"),
        ("invoices", 2, {"amount_paid": -1}, "amount_paid", "amount_paid_non_negative",
         "amount_paid (-1) is negative"),
        ("payment_intents", 1, {"amount": 0}, "amount", "amount_positive", "amount (0) is not positive"),
        ("payouts", 2, {"amount": -500}, "amount", "amount_positive", "amount (-500) is not positive"),
        ("disputes", 0, {"amount": 0}, "amount", "amount_positive", "amount (0) is not positive"),
        ("coupons", 1, {"amount_off": 500, "currency": "usd"}, "percent_off", "one_discount",
         "both amount_off (500) and percent_off (25.0) are set"),
        ("coupons", 0, {"amount_off": None}, "percent_off", "one_discount",
         "neither amount_off nor percent_off is set"),
        ("coupons", 2, {"percent_off": 150.0}, "percent_off", "percent_off_in_range",
         "percent_off (150.0) is not within (0, 100]"),
        ("checkout_sessions", 0, {"subscription": "sub_1"}, "mode", "mode_objects",
         "subscription set on a session in payment mode"),
    ],
)
def test_cross_field_rules_name_the_values_involved(resource, index, change, column, check, reason):
    records = batch(resource, 3)
    records[index].update(change)
    failure = only(validate_records(get_resource(resource), records))
    assert (failure.index, failure.column, failure.check, failure.reason) == (index, column, check, reason)


def test_refunds_beyond_the_amount_are_fine_up_to_an_overcaptured_amount():
    records = batch("charges", 3)
    # Released authorization: nothing captured, the full amount shows as refunded.
    records[0].update(amount=1000, amount_captured=0, amount_refunded=1000, captured=False, refunded=True)
    # Overcapture: more captured than authorized, all of it refunded.
    records[1].update(amount=1000, amount_captured=1150, amount_refunded=1150, refunded=True)
    records[2].update(amount=1000, amount_captured=1150, amount_refunded=1200)
    failure = only(validate_records(get_resource("charges"), records))
    assert (failure.index, failure.reason) == (2, "amount_refunded (1200) > amount_captured (1150)")
    assert failure.value == '{"amount_refunded":1200,"amount":1000,"amount_captured":1150}'


def test_a_rule_does_not_double_report_a_type_fault():
    records = batch("balance_transactions", 2)
    records[0]["fee"] = "88"
    failure = only(validate_records(get_resource("balance_transactions"), records))
    assert (failure.column, failure.check) == ("fee", "type")


def test_a_rule_judges_no_record_whose_fields_it_reads_have_the_wrong_type():
    # amount arrives as a string: the refund (800 of 1000) is fine, and the record is quarantined
    # once, for the type alone, not also for a rule judged against a partial capture of 500.
    records = batch("charges", 2)
    records[0].update(amount="1000", amount_captured=500, amount_refunded=800)
    result = validate_records(get_resource("charges"), records)
    rows = quarantine_rows(result, partition_key="2026-10-03", run_id="run-1")
    assert [(r["id"], r["check_name"], r["column_name"], r["reason"]) for r in rows] == [
        (records[0]["id"], "type", "amount", "expected an integer, got str"),
    ]
    assert result.valid == [records[1]]


@pytest.mark.parametrize("mode", [{"mode": "payment"}, ["payment"], 7])
def test_a_rule_never_meets_a_value_of_the_wrong_type(mode):
    # The checkout-session mode rule looks `mode` up among the known modes: an object or a list
    # there must not reach it (it cannot be looked up), only the type check.
    records = batch("checkout_sessions", 2)
    records[0].update(mode=mode, subscription="sub_1")
    failure = only(validate_records(get_resource("checkout_sessions"), records))
    assert (failure.index, failure.column, failure.check) == (0, "mode", "type")


def test_a_rule_over_several_fields_still_judges_the_records_typed_throughout():
    records = batch("charges", 3)
    records[0]["amount"] = "1000"
    records[2].update(amount=1000, amount_captured=1000, amount_refunded=1200)
    result = validate_records(get_resource("charges"), records)
    assert [(f.index, f.column, f.check) for f in result.failures] == [
        (0, "amount", "type"),
        (2, "amount_refunded", "amount_refunded_within_charge"),
    ]


def test_currency_codes_are_three_lowercase_letters():
    records = batch("refunds", 3)
    records[1]["currency"] = "USD"
    failure = only(validate_records(get_resource("refunds"), records))
    assert (failure.column, failure.check, failure.reason) == (
        "currency", "currency_format", "'USD' is not a three-letter lowercase currency code",
    )


def test_validation_is_lazy_every_failure_of_every_record_is_reported():
    records = batch("charges", 50)
    records[3]["amount"] = "1000"
    records[3]["status"] = None
    del records[17]["currency"]
    records[40]["id"] = "ch_bad id"
    records[41]["amount_refunded"] = 10**6
    result = validate_records(get_resource("charges"), records)
    assert [(f.index, f.column, f.check) for f in result.failures] == [
        (3, "amount", "type"),
        (3, "status", "not_nullable"),
        (17, "currency", "required"),
        (40, "id", "id_format"),
        (41, "amount_refunded", "amount_refunded_within_charge"),
    ]
    # A record with two failures counts once in the rate.
    assert [r["id"] for r in result.invalid] == [records[i]["id"] for i in (3, 17, 40, 41)]
    assert result.error_rate == 4 / 50
    assert len(result.valid) == 46 and records[3] not in result.valid


def test_fields_stripe_added_later_are_drift_not_errors():
    records = batch("customers", 5)
    for r in records[:3]:
        r["loyalty_tier"] = "gold"
    records[0]["entity_type"] = None
    result = validate_records(get_resource("customers"), records)
    assert result.failures == [] and result.valid == records
    assert result.drift.unknown_fields == {"entity_type": 1, "loyalty_tier": 3}


def test_list_items_that_are_not_objects_fail_on_their_own():
    records = batch("refunds", 2)
    result = validate_records(get_resource("refunds"), [records[0], "re_123", records[1]])
    failure = only(result)
    assert (failure.index, failure.id, failure.column, failure.reason) == (
        1, "<record 1>", "<record>", "expected an object, got str",
    )
    assert result.valid == records


def test_long_values_are_truncated_in_the_failure():
    records = batch("charges", 1)
    records[0]["description"] = {"text": "x" * 1000}
    failure = only(validate_records(get_resource("charges"), records))
    assert failure.reason == "expected a string, got dict" and len(failure.value) == 200
    assert failure.value.endswith("...")


def test_expandable_fields_take_an_id_or_an_expanded_object():
    records = batch("refunds", 3)
    records[0]["charge"] = {"id": "ch_1", "object": "charge", "amount": 100}
    records[1]["charge"] = {"object": "charge"}
    records[2]["charge"] = 17
    failures = validate_records(get_resource("refunds"), records).failures
    assert [(f.index, f.reason) for f in failures] == [
        (1, "expanded object has no string id"),
        (2, "expected an id or an expanded object, got int"),
    ]


def test_an_empty_batch_is_valid_with_rate_zero():
    result = validate_records(get_resource("charges"), [])
    assert (result.records_total, result.valid, result.failures, result.error_rate) == (0, [], [], 0.0)


def test_an_unknown_resource_names_the_declared_ones_and_where_to_declare_it():
    with pytest.raises(ValueError) as caught:
        validate_records(get_resource("tax_codes"), [])
    assert str(caught.value) == (
        f"unknown Stripe resource 'tax_codes' (declared: {', '.join(RESOURCE_NAMES)}); "
        "to add it, declare it in stripe_assets/catalog/tax_codes.py"
    )


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf", "12,5"])
def test_a_decimal_string_is_a_finite_number_for_validation_and_the_schema_alike(text):
    records = batch("prices", 2)
    records[1]["unit_amount_decimal"] = text
    failure = only(validate_records(get_resource("prices"), records))
    assert (failure.column, failure.check) == ("unit_amount_decimal", "type")
    assert deep_errors(get_resource("prices").stripe_class, records[1]) == [
        "unit_amount_decimal: expected a decimal string, got str"
    ]

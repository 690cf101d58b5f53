"""Partial ingestion: accept below the threshold, reject above it, with a message that says why."""

from __future__ import annotations

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.validation.decision import decide, format_pct
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.validate import validate_records
from stripe_assets_tests.ingest.validation.samples import batch


def charges_with_invalid(total: int, invalid: int, *, enum_faults: int = 0):
    records = batch("charges", total)
    for r in records[:invalid]:
        r["amount"] = str(r["amount"])
    for r in records[invalid:invalid + enum_faults]:
        r["status"] = "on_hold"
    return validate_records(get_resource("charges"), records, strict_enums=True)


@pytest.mark.parametrize(
    ("invalid", "threshold", "accept"),
    [(0, 0.0, True), (1, 0.0, False), (5, 5.0, True), (6, 5.0, False), (100, 100.0, True), (7, 7.0, True)],
)
def test_the_error_rate_is_compared_exactly_with_the_threshold(invalid, threshold, accept):
    result = charges_with_invalid(100, invalid)
    decision = decide(result, ValidationSettings(threshold_pct=threshold))
    assert decision.accept is accept
    assert decision.error_rate == invalid / 100


def test_a_tenth_of_a_percent_threshold_is_exact_too():
    result = charges_with_invalid(1000, 1)
    assert decide(result, ValidationSettings(threshold_pct=0.1)).accept
    assert not decide(charges_with_invalid(1000, 2), ValidationSettings(threshold_pct=0.1)).accept


def test_at_100_percent_everything_loads_even_if_every_record_is_invalid():
    result = charges_with_invalid(20, 20)
    decision = decide(result, ValidationSettings(threshold_pct=100))
    assert decision.accept and result.valid == [] and len(result.invalid) == 20


def test_without_partial_ingestion_any_invalid_record_fails_the_batch():
    off = ValidationSettings(partial_ingestion=False, threshold_pct=50)
    assert decide(charges_with_invalid(100, 0), off).accept
    decision = decide(charges_with_invalid(100, 1), off)
    assert not decision.accept
    assert "partial ingestion is off" in decision.message


def test_an_empty_batch_is_accepted_with_rate_zero():
    decision = decide(validate_records(get_resource("charges"), []), ValidationSettings(threshold_pct=0))
    assert decision.accept and decision.error_rate == 0.0


def test_a_rejection_message_states_rate_threshold_and_top_reasons():
    result = charges_with_invalid(400, 18, enum_faults=12)
    decision = decide(result, ValidationSettings(), label="charges 2026-10-03")
    assert not decision.accept
    assert decision.message == (
        "charges 2026-10-03: 7.5% of 400 records invalid (30), above the 5.0% threshold; "
        "top reasons: amount: expected an integer, got str (18); "
        "status: 'on_hold' is not one of failed, pending, succeeded (12)"
    )


def test_an_accepted_batch_with_rejections_says_how_many_were_quarantined():
    decision = decide(charges_with_invalid(200, 3), ValidationSettings())
    assert decision.accept
    assert decision.message == (
        "charges: 1.5% of 200 records invalid (3), within the 5.0% threshold; 3 quarantined; "
        "top reasons: amount: expected an integer, got str (3)"
    )


def test_cross_field_failures_group_under_the_rule_not_the_numbers():
    records = batch("charges", 10)
    for i, r in enumerate(records[:4]):
        r["amount_refunded"] = r["amount"] + i + 1
    decision = decide(validate_records(get_resource("charges"), records), ValidationSettings())
    assert decision.message.endswith(
        "top reasons: amount_refunded: amount_refunded <= max(amount, amount_captured) violated (4)"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [(7.5, "7.5%"), (5, "5.0%"), (0.25, "0.25%"), (100, "100.0%"), (0.001, "<0.01%"), (0, "0.0%")],
)
def test_percentages_read_naturally(value, text):
    assert format_pct(value) == text

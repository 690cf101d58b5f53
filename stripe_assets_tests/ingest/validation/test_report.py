"""What the schema_validation check shows: counts always, details with diagnostics on; plain data
from the data path, shown through Dagster's metadata types."""

from __future__ import annotations

import dagster as dg

from stripe_assets.catalog import get_resource
from stripe_assets.dagster import checks
from stripe_assets.ingest.validation import report
from stripe_assets.ingest.validation.decision import decide
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.report import check_description, check_report, check_severity
from stripe_assets.ingest.validation.validate import validate_records
from stripe_assets_tests.ingest.validation.samples import batch


def check_metadata(result, decision, settings) -> dict[str, dg.MetadataValue]:
    """The metadata as the asset check shows it."""
    return checks.check_metadata(report.check_metadata(result, decision, settings))


def result_with_faults(total=40):
    records = batch("charges", total)
    records[2]["amount"] = "1000"
    records[2]["paid"] = "yes"
    records[9]["amount"] = "2000"
    records[11]["status"] = "on_hold"  # drift, not an error
    records[12]["new_field"] = 1
    records[12]["description"] = "a | b"
    records[13]["description"] = ["a | b"]
    return records, validate_records(get_resource("charges"), records)


def test_diagnostics_show_counts_groups_sample_and_drift():
    records, result = result_with_faults()
    settings = ValidationSettings(threshold_pct=10)
    decision = decide(result, settings)
    meta = check_metadata(result, decision, settings)
    assert {k: meta[k].value for k in ("records_fetched", "records_loaded", "records_rejected", "failures")} == {
        "records_fetched": 40, "records_loaded": 37, "records_rejected": 3, "failures": 4,
    }
    assert (meta["error_rate_pct"].value, meta["threshold_pct"].value) == (7.5, 10.0)
    assert meta["drift_unknown_fields"].value == {"new_field": 1}
    assert meta["drift_unknown_enum_values"].value == {"status": {"on_hold": 1}}
    groups = meta["failures_by_check"].value.splitlines()
    assert groups[:3] == ["| column | check | failures | records |", "|---|---|---|---|", "| amount | type | 2 | 2 |"]
    sample = meta["failures_sample"].value
    assert f"| {records[2]['id']} | paid | type | \"yes\" | expected a boolean, got str |" in sample
    assert '[\"a \\| b\"]' in sample  # pipes escaped so the table keeps its columns


def test_diagnostics_off_keeps_only_the_counts():
    _, result = result_with_faults()
    settings = ValidationSettings(diagnostics=False)
    meta = check_metadata(result, decide(result, settings), settings)
    assert all(isinstance(v, (dg.IntMetadataValue, dg.FloatMetadataValue)) for v in meta.values())
    assert meta["records_rejected"].value == 3 and meta["unknown_fields"].value == 1


def test_the_sample_lists_at_most_twenty_failures():
    records = batch("charges", 30)
    for r in records:
        r["amount"] = str(r["amount"])
    result = validate_records(get_resource("charges"), records)
    settings = ValidationSettings(threshold_pct=100)
    sample = check_metadata(result, decide(result, settings), settings)["failures_sample"].value
    assert len(sample.splitlines()) == 2 + 20


def test_a_rejected_batch_is_an_error_and_loads_nothing():
    _, result = result_with_faults()
    settings = ValidationSettings(threshold_pct=5)
    decision = decide(result, settings, label="charges 2026-10-03")
    assert not decision.accept
    assert check_severity(result, decision) == "ERROR"
    assert check_metadata(result, decision, settings)["records_loaded"].value == 0
    assert check_description(result, decision) == decision.message


def test_an_accepted_batch_warns_and_describes_quarantine_and_drift():
    _, result = result_with_faults()
    decision = decide(result, ValidationSettings(threshold_pct=10))
    assert decision.accept and check_severity(result, decision) == "WARN"
    assert check_description(result, decision) == (
        "40 records: 37 valid, 3 quarantined (7.5%, within the 10.0% threshold); "
        "schema drift: unknown fields new_field; unknown enum values status=on_hold"
    )


def test_a_clean_batch_reads_as_such():
    result = validate_records(get_resource("prices"), batch("prices", 5))
    assert check_description(result, decide(result, ValidationSettings())) == "5 records: 5 valid"


def test_the_metadata_is_accepted_by_a_real_check_result():
    _, result = result_with_faults()
    settings = ValidationSettings()
    decision = decide(result, settings)

    @dg.asset(check_specs=[dg.AssetCheckSpec("schema_validation", asset="charges")])
    def charges():
        yield dg.Output(None)
        yield checks.check_result("schema_validation", check_report(result, decision, settings))

    outcome = dg.materialize([charges])
    evaluation = outcome.get_asset_check_evaluations()[0]
    assert not evaluation.passed and evaluation.metadata["records_rejected"].value == 3


def test_the_report_is_plain_data():
    """The data path hands the Dagster layer counts, markdown tables and JSON, not Dagster types."""
    _, result = result_with_faults()
    settings = ValidationSettings(threshold_pct=10)
    plain = check_report(result, decide(result, settings), settings)
    assert (plain.passed, plain.severity) == (True, "WARN")
    assert plain.metadata["records_rejected"] == 3 and plain.metadata["error_rate_pct"] == 7.5
    assert isinstance(plain.metadata["failures_sample"], report.Markdown)
    assert plain.metadata["drift_unknown_fields"] == {"new_field": 1}
    assert not any(type(v).__module__.startswith("dagster") for v in plain.metadata.values())

"""Quarantine rows: one per failure, with the full raw record, landing in a real DuckDB table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.validation.quarantine import QUARANTINE_COLUMNS, quarantine_rows, quarantine_table
from stripe_assets.ingest.validation.validate import validate_records
from stripe_assets_tests.ingest.validation.samples import batch


def broken_charges():
    records = batch("charges", 6)
    records[1]["amount"] = "1000"
    records[1]["status"] = None
    del records[4]["currency"]
    return records, validate_records(get_resource("charges"), records)


def test_one_row_per_failure_carrying_the_reason_and_the_whole_raw_record():
    records, result = broken_charges()
    before = datetime.now(UTC)
    rows = quarantine_rows(result, partition_key="2026-10-03", run_id="run-7")
    assert [(r["id"], r["check_name"], r["column_name"], r["value"]) for r in rows] == [
        (records[1]["id"], "type", "amount", '"1000"'),
        (records[1]["id"], "not_nullable", "status", "null"),
        (records[4]["id"], "required", "currency", None),
    ]
    assert [json.loads(r["raw"]) for r in rows] == [records[1], records[1], records[4]]
    assert {(r["_partition"], r["_run_id"]) for r in rows} == {("2026-10-03", "run-7")}
    stamp = rows[0]["_quarantined_at"]
    assert stamp.tzinfo is not None and before - timedelta(seconds=1) <= stamp <= datetime.now(UTC)
    assert all(set(r) == set(QUARANTINE_COLUMNS) for r in rows)


def test_partition_of_places_each_record_and_falls_back_when_it_cannot():
    records, result = broken_charges()
    records[4]["created"] = "yesterday"
    result = validate_records(get_resource("charges"), records)

    def by_day(record: dict) -> str:
        return datetime.fromtimestamp(record["created"], UTC).strftime("%Y-%m-%d")

    rows = quarantine_rows(result, partition_key="2026-10-01", run_id="r", partition_of=by_day)
    assert {r["id"]: r["_partition"] for r in rows} == {records[1]["id"]: "2026-10-03", records[4]["id"]: "2026-10-01"}


def test_the_table_lands_in_duckdb_with_queryable_raw_json(tmp_path):
    records, result = broken_charges()
    table = quarantine_table(result, partition_key="2026-10-03", run_id="run-7")
    with duckdb.connect(str(tmp_path / "q.duckdb")) as conn:
        conn.execute("CREATE SCHEMA stripe_quarantine")
        body = ", ".join(f'"{name}" {type_}' for name, type_ in QUARANTINE_COLUMNS.items())
        conn.execute(f"CREATE TABLE stripe_quarantine.charges ({body})")
        conn.register("batch", table)
        conn.execute("INSERT INTO stripe_quarantine.charges BY NAME SELECT * FROM batch")
        rows = conn.execute(
            "SELECT id, column_name, raw->>'$.id', (raw->'$.billing_details'->>'$.name'), typeof(_quarantined_at) "
            "FROM stripe_quarantine.charges ORDER BY id, column_name"
        ).fetchall()
    assert sorted(rows) == sorted(
        [
            (records[1]["id"], "amount", records[1]["id"], "Ana Silva", "TIMESTAMP WITH TIME ZONE"),
            (records[1]["id"], "status", records[1]["id"], "Ana Silva", "TIMESTAMP WITH TIME ZONE"),
            (records[4]["id"], "currency", records[4]["id"], "Ana Silva", "TIMESTAMP WITH TIME ZONE"),
        ]
    )


def test_a_clean_batch_gives_an_empty_table_with_the_columns():
    result = validate_records(get_resource("refunds"), batch("refunds", 3))
    table = quarantine_table(result, partition_key="2026-10-03", run_id="r")
    assert table.num_rows == 0 and table.column_names == list(QUARANTINE_COLUMNS)

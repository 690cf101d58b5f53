"""The bad-record corpus: every field of every resource broken in every way the checks know, and
the quarantine rows validation gives for it.

`python -m stripe_assets_tests.ingest.validation.bad_records` writes the rows to
`quarantine_frozen.json`, which `test_quarantine_frozen` compares with what the code gives now:
whatever runs the checks, a broken record must be quarantined with the same column, check,
reason, value and raw.
"""

from __future__ import annotations

import copy
import hashlib
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.validation.quarantine import quarantine_rows
from stripe_assets.ingest.validation.schemas import resource_schema
from stripe_assets.ingest.validation.validate import validate_records
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import EmulatorConfig, FaultConfig, start_emulator
from stripe_assets_emulator.generators import GENERATED
from stripe_assets_tests.ingest.validation.samples import BUILDERS, batch

FROZEN = Path(__file__).with_name("quarantine_frozen.json")
ABSENT = object()

# Wrong values per kind of field: each replaces the field's value in one record.
_WRONG: dict[str, tuple[object, ...]] = {
    "string": (7, True, {"id": "x"}, ["a"]),
    "expandable": (7, ["a"], {"no_id": 1}),
    # As orjson reads JSON: integers beyond 64 bits arrive as floats.
    "integer": ("1000", 1.5, True, 2**63, -(2**63) - 1.0, {"a": 1}),
    "number": ("1.5", False, [1]),
    "boolean": ("true", 1, None),
    "decimal_string": (12, "abc", "1e400", True),
    "object": ("x", 3, ["a"]),
    "map": ("x", 3, ["a"]),
    "array": ({"a": 1}, "x", 3),
    "list_object": ("x", [1], 3),
    "any": (),
}


def corpus(resource: str) -> list[Any]:
    """Valid records and, for every field, records with the field missing, null and of each
    wrong type; then records broken as a whole (not objects, duplicate ids, bad ids)."""
    fields = resource_schema(get_resource(resource)).fields
    good = batch(resource, 4)
    records: list[object] = [copy.deepcopy(r) for r in good]
    n = 0
    for name, spec in fields.items():
        wrongs: list[object] = [ABSENT, None, *_WRONG.get(spec.kind, ())]
        if spec.enum:
            wrongs += ["zz_not_a_value", spec.enum[0].upper()]
        for wrong in wrongs:
            record = copy.deepcopy(BUILDERS[resource](1000 + n))
            n += 1
            if wrong is ABSENT:
                record.pop(name, None)
            else:
                record[name] = wrong
            records.append(record)
    hostile = copy.deepcopy(BUILDERS[resource](5000))
    hostile["id"] = "xx_" + hostile["id"].split("_", 1)[-1]
    records += [
        "not an object", None, 42, ["a"],
        copy.deepcopy(good[0]),  # a duplicate id
        hostile,
        {"id": hostile["id"] + "é\u2028", "object": "?"},
        {**copy.deepcopy(BUILDERS[resource](5001)), "currency": "USD", "brand_new_field": {"a": 1}},
    ]
    return records


def _row(id_: str, check: str, column: str, reason: str, value: str | None, raw: str) -> list[str | None]:
    return [id_, check, column, reason, value, hashlib.sha1(raw.encode()).hexdigest()]


def loaded_rows(resources: list[str] | None = None) -> dict[str, list[list[str | None]]]:
    """Per resource, the quarantine rows of a load of the emulator's invalid objects (every kind
    it knows, a third of each list), read back from the warehouse: pages parsed by the client,
    validated in the load, written by DuckDB."""
    faults = FaultConfig(invalid_fraction=0.34)
    config = EmulatorConfig(seed=5, start=date(2026, 10, 1), days=2, per_day=30, faults=faults)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    windows = [
        Window(f"2026-10-0{d + 1}", start + timedelta(days=d), start + timedelta(days=d + 1)) for d in range(2)
    ]
    out = {}
    with (
        start_emulator(config) as emu,
        tempfile.TemporaryDirectory() as tmp,
        StripeReader(emu.api_key, emu.url) as reader,
    ):
        warehouse = Warehouse(Path(tmp) / "bad.duckdb")
        for resource in resources or sorted(GENERATED):  # child lists come from their parents
            load_partitions(
                reader, warehouse, get_resource(resource), windows,
                LoadOptions(
                    columns=default_columns(get_resource(resource)),
                    settings=ValidationSettings(threshold_pct=100.0),
                    run_id="frozen",
                ),
            )
            with warehouse.connect(read_only=True) as conn:
                found = conn.execute(
                    "SELECT id, check_name, column_name, reason, value, raw::VARCHAR"
                    f" FROM stripe_quarantine.{resource} ORDER BY _partition, id, column_name, check_name"
                ).fetchall()
            out[resource] = [_row(*r) for r in found]
    return out


def frozen_rows() -> dict[str, list[list[str | None]]]:
    """Per resource, its quarantine rows: id, check, column, reason, value and the sha1 of raw;
    `loaded:<resource>` for the rows of `loaded_rows`."""
    out = {f"loaded:{k}": v for k, v in loaded_rows().items()}
    for resource in sorted(RESOURCE_NAMES):
        if resource in BUILDERS:
            out[resource] = frozen_rows_of(resource)
    return out


def frozen_rows_of(resource: str) -> list[list[str | None]]:
    result = validate_records(get_resource(resource), corpus(resource), columns=default_columns(get_resource(resource)))
    rows = quarantine_rows(result, partition_key="2026-10-03", run_id="frozen")
    return [_row(r["id"], r["check_name"], r["column_name"], r["reason"], r["value"], r["raw"]) for r in rows]


if __name__ == "__main__":
    FROZEN.write_bytes(orjson.dumps(frozen_rows(), option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {FROZEN}")

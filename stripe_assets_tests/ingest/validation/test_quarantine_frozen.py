"""Broken records are quarantined with the same rows, whatever runs the checks.

`quarantine_frozen.json` holds the rows the bad-record corpus (`bad_records`) gave when it was
written; resources declared since then are not in it and are not compared.
"""

from __future__ import annotations

import orjson
import pytest

from stripe_assets_tests.ingest.validation import bad_records

FROZEN = orjson.loads(bad_records.FROZEN.read_bytes())


def _compare(resource: str, frozen: list, now: list) -> None:
    assert len(now) == len(frozen), f"{resource}: {len(now)} quarantine rows, {len(frozen)} before"
    for before, after in zip(frozen, now, strict=True):
        assert after == before, f"{resource}: row changed"


@pytest.mark.parametrize("resource", sorted(k for k in FROZEN if ":" not in k))
def test_every_broken_field_gives_the_frozen_quarantine_rows(resource):
    """id, check, column, reason, value and raw of every row, in order, for every field of the
    resource missing, null and of each wrong type, and for records broken as a whole."""
    now = bad_records.frozen_rows_of(resource)
    _compare(resource, FROZEN[resource], now)


def test_a_load_of_the_emulators_invalid_objects_gives_the_frozen_quarantine_rows():
    """The same through the client's page parsing, the load and DuckDB, for every resource."""
    loaded = bad_records.loaded_rows(sorted(k.split(":", 1)[1] for k in FROZEN if k.startswith("loaded:")))
    for resource, rows in loaded.items():
        _compare(resource, FROZEN[f"loaded:{resource}"], rows)

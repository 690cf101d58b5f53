"""A part the fast verdict vouches for hands the top-level values it read to the part's rows
(`validate_part(..., reads=...)`, `to_arrow(..., tops=...)`): the rows are the ones reading the
records again gives, and a part the verdict cannot vouch for hands nothing on (its valid records
are then a subset of the part, which the values read would not line up with)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.validation.part import validate_part
from stripe_assets_tests.ingest.validation import bad_records
from stripe_assets_tests.ingest.validation.samples import BUILDERS, batch

AT = datetime(2026, 10, 3, tzinfo=UTC)


def _rows(records: list, resource: str, tops: dict | None = None):
    columns = default_columns(get_resource(resource))
    return to_arrow(records, columns, partition_of=lambda _: "p", run_id="r", loaded_at=AT, tops=tops)


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_a_valid_part_hands_its_reads_to_rows_equal_to_reading_again(resource):
    spec = get_resource(resource)
    records = batch(resource, 6)
    reads: dict[str, list] = {}
    result = validate_part(spec, records, columns=default_columns(spec), reads=reads)
    assert result.valid == records and not result.failures
    tops = {c.path[0] for c in default_columns(spec)}
    if len({tuple(r) for r in records}) == 1 and tops <= records[0].keys():  # read in one pass
        assert tops <= reads.keys(), f"{resource}: the verdict's values were not handed on"
    assert _rows(result.valid, resource, reads or None).equals(_rows(records, resource))


@pytest.mark.parametrize("resource", sorted(BUILDERS))
def test_a_part_with_a_bad_record_hands_nothing_on(resource):
    spec = get_resource(resource)
    good = batch(resource, 3)
    for bad in bad_records.corpus(resource):
        if not isinstance(bad, dict) or bad.keys() != good[0].keys():
            continue  # a part of one key shape is the one read in one pass
        reads: dict[str, list] = {}
        result = validate_part(spec, [*copy.deepcopy(good), bad], columns=default_columns(spec), reads=reads)
        if result.failures:
            assert reads == {}, f"{resource}: values of a refused part were handed on"
            assert _rows(result.valid, resource).equals(_rows(good, resource))
            return
    pytest.fail(f"{resource}: no bad record of the full key shape in the corpus")


def test_a_part_lacking_a_columns_field_is_read_column_by_column():
    """Every record lacks `description` (a column of charges): no one-pass read to hand on, and
    the rows hold NULL there as before."""
    records = [{k: v for k, v in BUILDERS["charges"](n).items() if k != "description"} for n in range(3)]
    reads: dict[str, list] = {}
    spec = get_resource("charges")
    validate_part(spec, records, columns=default_columns(spec), reads=reads)
    assert reads == {}
    assert _rows(records, "charges").column("description").null_count == 3

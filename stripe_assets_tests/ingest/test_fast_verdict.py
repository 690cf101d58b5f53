"""The fast path of a part gives exactly what pandera's path gives, and never passes a bad record.

`validate_part` skips pandera only when `verdict` vouches for every record of the part; these
tests hold it to that: the same result and the same Arrow rows as `validate_records` over the
emulator's objects of every resource, and no pass for any part holding a record that
`validate_records` fails (the bad-record corpus, and every field of valid records absent, null,
of each wrong type and of the look-alikes JSON decoding produces).
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pytest

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.validation import schemas
from stripe_assets.ingest.validation import verdict as verdict_module
from stripe_assets.ingest.validation.part import validate_part
from stripe_assets.ingest.validation.schemas import resource_schema
from stripe_assets.ingest.validation.validate import ValidationResult, validate_records
from stripe_assets.ingest.validation.verdict import verdict
from stripe_assets_emulator.generators import GENERATED
from stripe_assets_tests.ingest.validation import bad_records
from stripe_assets_tests.ingest.validation.samples import BUILDERS, batch

AT = datetime(2026, 10, 3, tzinfo=UTC)

# Values JSON decoding gives that look like the right kind and are not (bool is an int in
# Python; 1.0 is not an integer; 2**64 does not fit BIGINT; an expanded object without an id).
_LOOK_ALIKES: dict[str, tuple[object, ...]] = {
    "string": (b"x", 1.0, ""),
    "expandable": ({"object": "customer"}, {"id": 7}, True),
    "integer": (1.0, False, 2**64, -(2**64), math.nan),
    "number": (True, math.nan, "NaN"),
    "boolean": (0, 1.0, "false"),
    "decimal_string": ("NaN", "Infinity", "", 1.5),
    "object": (True, 1.0, ""),
    "map": (True, []),
    "array": ((), True, {"data": []}),
    "list_object": ({"object": "search_result"}, {"data": []}, []),
    "any": (),
}


def _same(fast: ValidationResult, slow: ValidationResult) -> None:
    assert fast.valid == slow.valid
    assert fast.invalid == slow.invalid
    assert fast.failures == slow.failures
    assert fast.drift == slow.drift
    assert (fast.records_total, fast.strict_enums) == (slow.records_total, slow.strict_enums)


def _rows(result: ValidationResult, resource: str) -> pa.Table:
    columns = default_columns(get_resource(resource))
    return to_arrow(result.valid, columns, partition_of=lambda _: "2026-10-03", run_id="r", loaded_at=AT)


def _check_part(resource: str, records: list, strict_enums: bool = False) -> bool:
    """Both paths agree on `records`; whether the fast verdict vouched for them."""
    columns = default_columns(get_resource(resource))
    slow = validate_records(get_resource(resource), copy.deepcopy(records), strict_enums=strict_enums, columns=columns)
    passed = verdict(resource_schema(get_resource(resource), strict_enums), records, columns) is not None
    assert not (passed and slow.failures), f"{resource}: the fast verdict passed a part with {slow.failures[0]}"
    _same(validate_part(get_resource(resource), records, strict_enums=strict_enums, columns=columns), slow)
    return passed


@pytest.mark.parametrize("strict_enums", [False, True])
def test_the_emulators_objects_of_every_resource_give_the_same_result_and_rows(make_emulator, strict_enums):
    """Every top-level resource as a list call returns it, valid and with a fifth broken."""
    for invalid in (0.0, 0.2):
        emu = make_emulator(per_day=40, days=5, seed=7, invalid_fraction=invalid)
        for resource in GENERATED:
            records = orjson.loads(orjson.dumps(emu.objects(resource, include_hidden=False)))
            assert records, resource
            passed = _check_part(resource, records, strict_enums)
            if invalid == 0.0:
                assert passed, f"{resource}: valid objects took the slow path"
            spec = get_resource(resource)
            result = validate_part(spec, records, strict_enums=strict_enums, columns=default_columns(spec))
            slow = validate_records(spec, records, strict_enums=strict_enums, columns=default_columns(spec))
            assert _rows(result, resource).equals(_rows(slow, resource)), resource


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_valid_samples_of_every_resource_take_the_fast_path(resource):
    """Child lists included: their samples are what their parents embed or Stripe lists."""
    records = batch(resource, 6)
    assert _check_part(resource, records), resource
    result = validate_part(get_resource(resource), records, columns=default_columns(get_resource(resource)))
    assert _rows(result, resource).equals(_rows(validate_records(get_resource(resource), records), resource))


def _never_passes_what_pandera_fails(resource: str, records: list, strict_enums: bool = False) -> None:
    """One pandera run over `records`; then each failing record, alone and beside valid ones,
    must be refused by the verdict (a repeated id fails only beside its first occurrence)."""
    columns = default_columns(get_resource(resource))
    schema = resource_schema(get_resource(resource), strict_enums)
    slow = validate_records(get_resource(resource), copy.deepcopy(records), strict_enums=strict_enums, columns=columns)
    alone = {f.index for f in slow.failures if f.check != "unique"}
    good = batch(resource, 2)
    for index in sorted(alone):
        record = records[index]
        assert verdict(schema, [record], columns) is None, f"{resource}: passed {slow.failures}"
        assert verdict(schema, [*copy.deepcopy(good), record], columns) is None, resource
    if slow.failures:
        assert verdict(schema, records, columns) is None, resource
    # What pandera passes gives pandera's result on the fast path: checked as one part (a pass of
    # the verdict over a part is one over each of its records: its checks are per value, its type
    # sets only grow), and one record at a time when the verdict cannot vouch for them together.
    passing = [
        records[index]
        for index in sorted(set(range(len(records))) - {f.index for f in slow.failures})
        if isinstance(records[index], dict)
    ]
    if passing and not _check_part(resource, passing, strict_enums):
        for record in passing:
            _check_part(resource, [record], strict_enums)


@pytest.mark.parametrize("resource", sorted(BUILDERS))
def test_no_record_of_the_bad_record_corpus_passes_the_fast_verdict(resource):
    corpus = bad_records.corpus(resource)
    for strict_enums in (False, True):
        _never_passes_what_pandera_fails(resource, corpus, strict_enums)


@pytest.mark.parametrize("resource", sorted(BUILDERS))
def test_every_field_absent_null_or_mistyped_never_passes_what_pandera_fails(resource):
    """Every field of a valid record absent, null, of each wrong type and each look-alike."""
    records: list = []
    for name, spec in resource_schema(get_resource(resource)).fields.items():
        wrongs: list[object] = [bad_records.ABSENT, None, *bad_records._WRONG.get(spec.kind, ())]
        wrongs += _LOOK_ALIKES[spec.kind]
        if spec.enum:
            wrongs += ["zz_not_a_value", spec.enum[0].upper()]
        for wrong in wrongs:
            record = copy.deepcopy(BUILDERS[resource](2000 + len(records)))
            if wrong is bad_records.ABSENT:
                record.pop(name, None)
            else:
                record[name] = wrong
            records.append(record)
    for strict_enums in (False, True):
        _never_passes_what_pandera_fails(resource, records, strict_enums)


def test_a_part_the_verdict_cannot_vouch_for_is_judged_by_pandera():
    good = batch("charges", 3)
    duplicate = [*copy.deepcopy(good), copy.deepcopy(good[0])]
    subclass = [*copy.deepcopy(good[:2]), type("Sdk", (dict,), {})(good[2])]
    drifted = [*copy.deepcopy(good[:2]), {**copy.deepcopy(good[2]), "brand_new_field": 1, "status": "zz_new"}]
    assert not _check_part("charges", duplicate)
    assert not _check_part("charges", subclass)
    assert _check_part("charges", drifted)  # drift is counted, not rejected
    result = validate_part(get_resource("charges"), drifted)
    assert result.drift.unknown_fields == {"brand_new_field": 1}
    assert result.drift.unknown_enum_values == {"status": {"zz_new": 1}}
    assert not _check_part("charges", drifted, strict_enums=True)


def test_a_defect_inside_the_verdict_fails_the_part_instead_of_falling_back(monkeypatch):
    """A doubt is the verdict's None; an exception is a bug that must surface, not a silent
    detour through pandera that would hide it (and the fast path's loss) behind a right result."""

    def broken(*args):
        raise TypeError("a defect")

    monkeypatch.setattr(verdict_module, "_field_counts", broken)
    with pytest.raises(TypeError, match="a defect"):
        validate_part(get_resource("charges"), batch("charges", 3))


def test_pandera_assembles_a_schema_only_for_a_part_the_verdict_cannot_vouch_for(monkeypatch):
    """Assembling it costs milliseconds a resource and process (pandera deep-copies every
    column): a load whose parts are all valid does without it."""
    monkeypatch.setattr(schemas, "_BUILT", {})  # as in a fresh process
    charges = get_resource("charges")
    good = batch("charges", 3)
    validate_part(charges, good, columns=default_columns(charges))
    assert "schema" not in vars(resource_schema(charges))
    bad = [*copy.deepcopy(good[:2]), {**copy.deepcopy(good[2]), "amount": "1000"}]
    result = validate_part(charges, bad, columns=default_columns(charges))
    assert [(f.column, f.check) for f in result.failures] == [("amount", "type")]
    assert "schema" in vars(resource_schema(charges))

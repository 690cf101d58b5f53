"""The validator and the emulator's fault injection agree record by record."""

from __future__ import annotations

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.validation.validate import validate_records
from stripe_assets_emulator.generators import GENERATED as RESOURCE_NAMES


def test_every_record_the_emulator_breaks_is_caught_on_the_field_it_broke(make_emulator):
    # 5 days: payouts too; a share that breaks some of the fewest (disputes, credit notes)
    emu = make_emulator(per_day=60, days=5, seed=5, invalid_fraction=0.2)
    for resource in RESOURCE_NAMES:
        records = emu.objects(resource, include_hidden=False)  # what a list call returns
        served = {r["id"] for r in records}
        broken = {i: b for i, b in emu.invalid_records(resource).items() if i in served}
        assert broken, f"the emulator broke some {resource}"

        strict = validate_records(get_resource(resource), records, strict_enums=True)
        assert {f.id: f.column for f in strict.failures} == {i: b.field for i, b in broken.items()}, resource

        lenient = validate_records(get_resource(resource), records)
        drifted = {b.field for b in broken.values() if b.kind == "unknown_enum"}
        assert {f.id for f in lenient.failures} == {i for i, b in broken.items() if b.kind != "unknown_enum"}
        assert set(lenient.drift.unknown_enum_values) == drifted, resource

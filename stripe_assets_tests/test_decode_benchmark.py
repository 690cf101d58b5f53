"""`benchmarks/decode.py` compares orjson with a decoder typed by Stripe's schema: the typed one
must refuse what the type and required checks refuse, or its figure would be of less work
(enums and rules would still run on its values)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import orjson
import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.validation.validate import validate_records
from stripe_assets_emulator import EmulatorConfig, start_emulator

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_the_typed_decoder_refuses_what_the_type_and_required_checks_quarantine(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as `python benchmarks/decode.py` imports its neighbours
    import decode

    config = EmulatorConfig(seed=11, start=decode.DAY, days=1, per_day=20, api_key=decode.KEY)
    with start_emulator(config) as emu:
        texts = decode.page_texts(emu.url, "invoices")
    decoder = decode.typed_decoder("invoices")
    good = orjson.loads(texts[0])
    assert validate_records(get_resource("invoices"), [good]).invalid == []
    decoder.decode(texts[0])  # Stripe's objects pass as they are
    broken = {
        "a string for an integer": {**good, "amount_due": str(good["amount_due"])},
        "a required field missing": {k: v for k, v in good.items() if k != "currency"},
        "a null where none is allowed": {**good, "livemode": None},
        "an embedded list of another kind": {**good, "lines": {**good["lines"], "object": 5}},
    }
    for case, record in broken.items():
        assert validate_records(get_resource("invoices"), [record]).invalid, case
        with pytest.raises(msgspec.ValidationError):
            decoder.decode(orjson.dumps(record))
    with pytest.raises(msgspec.ValidationError):  # a field the schema does not know: drift, for the full path to report
        decoder.decode(orjson.dumps({**good, "brand_new_field": 1}))

"""Embedded objects and lists nobody reads past their type (an invoice's `lines`) are left unbuilt
while a load parses its pages (`lean`): the rows and quarantine rows it lands are those of parsing
every object in full, every column included, `raw` as text; a value the checks must see (null,
another type, absent, a list object that is not one) is kept as sent."""

from __future__ import annotations

import json
import urllib.request
from types import SimpleNamespace

import orjson
import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest import lean, pages
from stripe_assets.ingest import load as load_module
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets_emulator.generators import GENERATED
from stripe_assets_tests.faults.servers import ScriptedApi
from stripe_assets_tests.ingest.test_load import load
from stripe_assets_tests.ingest.test_one_pass_rows import _rows, bad_emulator  # noqa: F401 (a fixture)

_LENIENT = ValidationSettings(threshold_pct=100.0)  # invalid records quarantined, the rest landed
_LEANED = [r for r in GENERATED if lean.lean_plan(get_resource(r), default_columns(get_resource(r))) is not None]


def _spy_lean(patch) -> list[bool]:
    """Records, for each object of a page holding a field to leave out, whether one was."""
    seen: list[bool] = []
    parse = lean.lean_object

    def spied(plan, text):
        record = parse(plan, text)
        seen.append(record is not None)
        return record

    patch.setattr(lean, "lean_object", spied)
    return seen


def _same_tables(tmp_path, resource: str) -> None:
    for table in (f"stripe.{resource}", f"stripe_quarantine.{resource}"):
        rows, reference = _rows(tmp_path / "lean.duckdb", table), _rows(tmp_path / "full.duckdb", table)
        for row, same in zip(rows, reference, strict=False):  # every column, `raw` as text
            assert row == same, [(a, b) for a, b in zip(row, same, strict=True) if a != b]
        assert len(rows) == len(reference), table


def _load_both(source, tmp_path, monkeypatch, resource: str) -> list[bool]:
    with monkeypatch.context() as patch:
        seen = _spy_lean(patch)
        load(source, tmp_path / "lean.duckdb", resource, "2026-10-03", "2026-10-04", settings=_LENIENT)
    with monkeypatch.context() as patch:
        patch.setattr(load_module, "lean_plan", lambda *args, **kwargs: None)
        load(source, tmp_path / "full.duckdb", resource, "2026-10-03", "2026-10-04", settings=_LENIENT)
    return seen


@pytest.mark.parametrize("resource", _LEANED)
def test_a_load_leaving_unread_fields_unbuilt_lands_the_rows_and_quarantine_of_full_objects(
    bad_emulator,  # noqa: F811
    tmp_path,
    monkeypatch,
    resource,
):
    seen = _load_both(bad_emulator, tmp_path, monkeypatch, resource)
    if resource == "invoices":
        assert any(seen), "no invoice's lines were left unbuilt"
    _same_tables(tmp_path, resource)
    assert _rows(tmp_path / "lean.duckdb", f"stripe.{resource}"), f"{resource}: nothing loaded"


def _odd_lines(upstream: str) -> ScriptedApi:
    """Invoices whose `lines` is null, a string, absent, or an object that is not a list object,
    between invoices as the emulator writes them."""

    def forward(path: str, headers: dict[str, str]) -> tuple[int, dict]:
        with urllib.request.urlopen(urllib.request.Request(upstream + path, headers=headers)) as answer:
            body = json.loads(answer.read())
        for i, invoice in enumerate(body.get("data", [])):
            match i % 5:
                case 0:
                    invoice["lines"] = None
                case 1:
                    invoice["lines"] = "in_lines " * 100
                case 2:
                    del invoice["lines"]
                case 3:
                    invoice["lines"]["object"] = "line_items"
        return answer.status, body

    return ScriptedApi(forward, write=orjson.dumps)


def test_lines_null_a_string_absent_or_not_a_list_object_are_checked_and_quarantined_as_sent(
    bad_emulator,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    proxy = _odd_lines(bad_emulator.url)
    try:
        via = SimpleNamespace(api_key=bad_emulator.api_key, url=proxy.url)
        seen = _load_both(via, tmp_path, monkeypatch, "invoices")
    finally:
        proxy.stop()
    assert any(seen)  # the untouched fifth
    _same_tables(tmp_path, "invoices")
    quarantined = {
        reason
        for column, reason in (row[4:6] for row in _rows(tmp_path / "lean.duckdb", "stripe_quarantine.invoices"))
        if column == "lines"
    }
    assert quarantined == {
        "null in a non-nullable field",
        "expected a list object, got str",
        "required field is missing",
        'expected a list object (object: "list"), got another object',
    }


def test_a_page_parsed_lean_holds_placeholders_only_where_a_value_of_its_kind_was_sent():
    plan = lean.lean_plan(get_resource("invoices"), default_columns(get_resource("invoices")))
    assert plan is not None and "lines" in plan.names
    items = {"object": "list", "data": [{"id": f"il_{i}", "amount": i} for i in range(100)], "has_more": False}
    invoices = [
        {"id": "in_1", "lines": items, "total": 1},
        {"id": "in_2", "lines": None, "total": 2},
        {"id": "in_3", "total": 3},
        {"id": "in_4", "lines": {**items, "object": "other"}, "total": 4},
        {"id": "in_5", "lines": {"object": "list", "data": []}, "total": 5},  # small: parsed as sent
        {"id": "in_6", "description": '"lines":' + orjson.dumps(items).decode(), "lines": items},
    ]
    body = orjson.dumps({"object": "list", "data": invoices, "has_more": False, "url": "/v1/invoices"})
    page = pages.parse_page(body, plan)
    assert isinstance(page, dict) and page["has_more"] is False and page["url"] == "/v1/invoices"
    data = page["data"]
    assert [r.get("lines", "absent") for r in data] == [
        {"object": "list"}, None, "absent", {**items, "object": "other"}, {"object": "list", "data": []},
        {"object": "list"},
    ]  # fmt: skip
    assert data[5]["description"] == invoices[5]["description"]  # the same text in a string is left alone
    assert [orjson.loads(t) for t in data.texts] == invoices  # `raw` keeps every field
    lean.restore_page(data)
    assert list(data) == invoices and [list(r) for r in data] == [list(r) for r in invoices]  # keys in place


def test_a_page_not_in_stripes_list_form_is_parsed_in_full():
    plan = lean.lean_plan(get_resource("invoices"), default_columns(get_resource("invoices")))
    assert plan is not None
    big = {"object": "list", "data": [{"id": f"il_{i}"} for i in range(60)]}
    for body in (
        orjson.dumps({"object": "list", "data": [{"id": "in_1", "lines": big}], "has_more": False, "extra": 1}),
        orjson.dumps({"error": {"message": "no such invoice"}}),
        orjson.dumps({"object": "list", "data": ["in_1"], "has_more": False}),
    ):
        page = pages.parse_page(body, plan)
        assert page == orjson.loads(body)
        assert not getattr(page.get("data"), "lean", ())


def test_a_page_routed_record_by_record_holds_whole_objects():
    # A page whose records do not all go one way (here: one listed outside the span asked for,
    # quarantined with its `raw` written from the record) gets its left-out fields back first.
    from datetime import UTC, datetime

    from stripe_assets.ingest.outcomes import LoadReport, Window
    from stripe_assets.ingest.rejected import RejectedRecord
    from stripe_assets.ingest.routing import OpenWindows

    plan = lean.lean_plan(get_resource("invoices"), default_columns(get_resource("invoices")))
    assert plan is not None
    items = {"object": "list", "data": [{"id": f"il_{i}", "amount": i} for i in range(100)], "has_more": False}
    day = Window("2026-10-03", datetime(2026, 10, 3, tzinfo=UTC), datetime(2026, 10, 4, tzinfo=UTC))
    inside, outside = int(day.start.timestamp()) + 60, int(day.end.timestamp()) + 60
    invoices = [{"id": "in_1", "created": inside, "lines": items}, {"id": "in_2", "created": outside, "lines": items}]
    body = orjson.dumps({"object": "list", "data": invoices, "has_more": False})
    records = pages.parse_page(body, plan)["data"]
    assert [r["lines"] for r in records] == [{"object": "list"}] * 2
    route = OpenWindows([day], "created", LoadReport("invoices", [day]), stage=lambda index: None)
    route.route_page(records, (int(day.start.timestamp()), int(day.end.timestamp())))
    held = route.open[0].records
    assert held[0] == invoices[0]
    assert isinstance(held[1], RejectedRecord) and dict(held[1]) == invoices[1]


def test_invoices_from_indented_escaped_pages_land_as_when_parsed_in_full(bad_emulator, tmp_path, monkeypatch):  # noqa: F811
    from stripe_assets_tests.ingest.test_page_texts import _reformatting

    proxy = _reformatting(bad_emulator.url)  # Stripe's form: a field a line
    try:
        via = SimpleNamespace(api_key=bad_emulator.api_key, url=proxy.url)
        seen = _load_both(via, tmp_path, monkeypatch, "invoices")
    finally:
        proxy.stop()
    assert any(seen)
    _same_tables(tmp_path, "invoices")


def test_a_list_object_is_recognised_by_its_object_field_wherever_it_stands_and_found_only_whole():
    plan = lean.lean_plan(get_resource("invoices"), default_columns(get_resource("invoices")))
    assert plan is not None
    data = [{"id": f"il_{i}", "amount": i} for i in range(100)]
    head_last = {"data": data, "has_more": False, "object": "list"}  # `object` not first
    listing = {"object": "listing", "data": data}  # starts like a list object's text, is not one
    # Another field holds the same key and head as `lines`, then differs: the find lands there
    # first, and the object is parsed in full rather than cut in the wrong place.
    decoy = {"object": "list", "data": data[:99]}
    invoices = [
        {"id": "in_1", "lines": head_last},
        {"id": "in_2", "lines": listing},
        {"id": "in_3", "note": {"lines": decoy}, "lines": {"object": "list", "data": data}},
    ]
    body = orjson.dumps({"object": "list", "data": invoices, "has_more": False})
    records = pages.parse_page(body, plan)["data"]
    assert [r["lines"] for r in records] == [{"object": "list"}, listing, invoices[2]["lines"]]
    assert records[2]["note"] == invoices[2]["note"]
    lean.restore_page(records)
    assert list(records) == invoices

"""A list page's objects keep the JSON text the page sent for them (`pages.with_object_texts`),
which becomes their `raw` column instead of each parsed object written out again: the rows and
quarantine rows a load lands are those of writing the objects out, every column included, for
every resource; a pretty-printed or escaped page lands compact `raw` texts of the same objects."""

from __future__ import annotations

import json
import urllib.request

import orjson
import pytest

from stripe_assets.ingest import pages, records
from stripe_assets.ingest.prepare import texts_of
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets_emulator.generators import GENERATED
from stripe_assets_tests.faults.servers import ScriptedApi
from stripe_assets_tests.ingest.test_load import load
from stripe_assets_tests.ingest.test_one_pass_rows import _rows, bad_emulator  # noqa: F401 (a fixture)

_LENIENT = ValidationSettings(threshold_pct=100.0)  # invalid records quarantined, the rest landed


def _spy_texts(monkeypatch) -> list[bool]:
    """Records, for each `raw` column built, whether every record had its page's text."""
    given: list[bool] = []
    build = records.raw_texts

    def spied(objects, texts=None):
        given.append(texts is not None and None not in texts)
        return build(objects, texts)

    monkeypatch.setattr(records, "raw_texts", spied)
    return given


@pytest.mark.parametrize("resource", GENERATED)
def test_rows_from_the_pages_texts_equal_the_rows_of_writing_each_object_out(
    bad_emulator,  # noqa: F811
    tmp_path,
    monkeypatch,
    resource,
):
    with monkeypatch.context() as patch:
        given = _spy_texts(patch)
        load(bad_emulator, tmp_path / "texts.duckdb", resource, "2026-10-03", "2026-10-04", settings=_LENIENT)
    assert given and all(given), f"{resource}: a part's `raw` was written out again"
    with monkeypatch.context() as patch:
        patch.setattr(pages, "with_object_texts", lambda page, body: page)
        load(bad_emulator, tmp_path / "dumps.duckdb", resource, "2026-10-03", "2026-10-04", settings=_LENIENT)
    for table in (f"stripe.{resource}", f"stripe_quarantine.{resource}"):
        rows, reference = _rows(tmp_path / "texts.duckdb", table), _rows(tmp_path / "dumps.duckdb", table)
        for row, same in zip(rows, reference, strict=False):  # every column, `raw` as text
            assert row == same, [(a, b) for a, b in zip(row, same, strict=True) if a != b]
        assert len(rows) == len(reference), table
    assert _rows(tmp_path / "texts.duckdb", f"stripe.{resource}"), f"{resource}: nothing loaded"


def _reformatting(upstream: str) -> ScriptedApi:
    """Serves the emulator's answers as another server might write them: indented, a space after
    each separator, every non-ASCII character escaped (`\\u00fc`), `/` escaped as `\\/`."""

    def forward(path: str, headers: dict[str, str]) -> tuple[int, dict]:
        with urllib.request.urlopen(urllib.request.Request(upstream + path, headers=headers)) as answer:
            return answer.status, json.loads(answer.read())

    return ScriptedApi(forward, write=lambda body: json.dumps(body, indent=2).replace("/", "\\/").encode())


def test_a_pretty_printed_escaped_page_lands_compact_raw_texts_of_the_same_objects(emulator, tmp_path, monkeypatch):
    from types import SimpleNamespace

    proxy = _reformatting(emulator.url)
    try:
        given = _spy_texts(monkeypatch)
        via = SimpleNamespace(api_key=emulator.api_key, url=proxy.url)
        load(via, tmp_path / "pretty.duckdb", "charges", "2026-10-03")
    finally:
        proxy.stop()
    assert given and all(given)
    load(emulator, tmp_path / "plain.duckdb", "charges", "2026-10-03")
    pretty = _rows(tmp_path / "pretty.duckdb", "stripe.charges")
    plain = _rows(tmp_path / "plain.duckdb", "stripe.charges")
    assert len(pretty) == len(plain) > 0
    raw = _column_names(tmp_path / "plain.duckdb").index("raw")
    texts = [row[raw] for row in pretty]
    assert not [t for t in texts if "\n" in t or '": ' in t or '", ' in t]  # compact
    assert any("\\u00" in t for t in texts) and any("\\/" in t for t in texts)  # escapes as sent
    for row, same in zip(pretty, plain, strict=True):
        assert row[:raw] + row[raw + 1 :] == same[:raw] + same[raw + 1 :]  # every other column
        assert json.loads(row[raw]) == json.loads(same[raw])  # the same object


def _column_names(path) -> list[str]:
    from stripe_assets.ingest.warehouse import Warehouse

    with Warehouse(path).connect(read_only=True) as conn:
        names = [r[0] for r in conn.execute("DESCRIBE stripe.charges").fetchall()]
    return [n for n in names if n not in ("_loaded_at", "_observed_at")]


def test_a_page_the_standard_library_read_keeps_no_texts():
    # orjson refuses a lone surrogate: the page is read again, the object holding it rejected,
    # and its neighbours' parsed values are no longer the page's text.
    body = b'{"object": "list", "has_more": false, "data": [{"id": "ch_1", "d": "\\ud800"}, {"id": "ch_2"}]}'
    page = pages.parse_page(body)
    assert isinstance(page, dict) and type(page["data"]) is list


def test_texts_of_a_list_page_are_its_objects_compact_and_only_list_pages_get_them():
    objects = [{"id": "ch_1", "amount": 1.50, "description": "Müller / 10 €"}, {"id": "ch_2", "metadata": {}}]
    for body in (
        orjson.dumps({"object": "list", "data": objects, "has_more": False}),
        json.dumps({"object": "list", "data": objects, "has_more": False}, indent=2).encode(),
        json.dumps({"object": "list", "data": objects, "has_more": False}).encode(),
    ):
        page = pages.parse_page(body)
        assert isinstance(page, dict) and page["data"] == objects
        texts = page["data"].texts
        assert [json.loads(t) for t in texts] == objects
        assert not [t for t in texts if b"\n" in t or b'": ' in t or b'", ' in t]
    assert pages.parse_page(orjson.dumps({"object": "charge", "data": [1]})) == {"object": "charge", "data": [1]}


def test_a_text_is_taken_only_for_the_object_it_was_cut_for():
    page = pages.parse_page(orjson.dumps({"object": "list", "data": [{"id": "ch_1"}, {"id": "ch_2"}]}))
    held = dict(zip(map(id, page["data"]), zip(page["data"], page["data"].texts, strict=True), strict=True))
    other = {"id": "ch_2", "description": "changed"}
    assert texts_of([page["data"][0], other], held) == [b'{"id":"ch_1"}', None]
    assert records.raw_texts([page["data"][0], other], [b'{"id":"ch_1"}', None]) == [
        b'{"id":"ch_1"}',
        orjson.dumps(other),
    ]


@pytest.mark.parametrize("resource", ["charges", "invoices", "subscriptions"])
def test_stripes_indented_answers_land_the_rows_and_compact_raw_of_compact_answers(tmp_path, monkeypatch, resource):
    # Stripe's API indents its JSON (a field a line); the emulator does too when asked.
    from datetime import date

    from stripe_assets.ingest.warehouse import Warehouse
    from stripe_assets_emulator import EmulatorConfig, start_emulator

    landed = {}
    for pretty in (True, False):
        config = EmulatorConfig(seed=5, start=date(2026, 10, 1), days=4, per_day=40, pretty=pretty)
        with start_emulator(config) as emu:
            if pretty:
                asked = urllib.request.Request(
                    f"{emu.url}/v1/{resource}?limit=2", headers={"Authorization": f"Bearer {emu.api_key}"}
                )
                with urllib.request.urlopen(asked) as answer:
                    body = answer.read()
                assert body.startswith(b'{\n  "') and b'\n    {\n      "id": ' in body
            path = tmp_path / f"{pretty}.duckdb"
            with monkeypatch.context() as patch:
                given = _spy_texts(patch)
                load(emu, path, resource, "2026-10-02", "2026-10-03")
            assert given and all(given), "raw cut from the pages' texts"
        with Warehouse(path).connect(read_only=True) as conn:
            landed[pretty] = conn.execute(
                f"SELECT * EXCLUDE (_loaded_at, _observed_at) FROM stripe.{resource} ORDER BY id"
            ).fetchall()
    assert landed[True] and landed[True] == landed[False]  # every column, `raw` as text

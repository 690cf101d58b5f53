"""A Checkout Session's lines read from the sessions listed again with `expand[]=data.line_items`:
the same rows as reading each session's lines endpoint, with a request per page of sessions,
and the same rows when the API ignores the expansion or a session has more lines than it shows."""

import json
import urllib.request

import orjson

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.children.load import load_children
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import expand as emulator_expand
from stripe_assets_tests.ingest.test_load import load, windows

DAYS = ("2026-10-01", "2026-10-02")
LINES = "/v1/checkout/sessions/{id}/line_items"


def _get(emu, path: str) -> dict:
    request = urllib.request.Request(f"{emu.url}{path}", headers={"Authorization": f"Bearer {emu.api_key}"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def _all(emu, path: str) -> list[dict]:
    found: list[dict] = []
    after = ""
    while True:
        page = _get(emu, f"{path}?limit=100{after}")
        found += page["data"]
        if not page["has_more"]:
            return found
        after = f"&starting_after={page['data'][-1]['id']}"


def _served(emu) -> dict[str, int]:
    with urllib.request.urlopen(f"{emu.url}/_emulator/health") as response:
        return json.loads(response.read())["requests_by_endpoint"]


def _expected(emu) -> dict[str, tuple[str, dict]]:
    """line id -> (session id, line), each session's lines read from its own endpoint."""
    return {
        line["id"]: (session["id"], line)
        for session in _all(emu, "/v1/checkout/sessions")
        for line in _all(emu, f"/v1/checkout/sessions/{session['id']}/line_items")
    }


def _load_lines(emu, tmp_path) -> tuple[dict[str, tuple[str, dict]], int]:
    """The lines as loaded, and the requests of the lines endpoint the load made."""
    path = tmp_path / "w.duckdb"
    load(emu, path, "checkout_sessions", *DAYS)
    spec = get_resource("checkout_session_line_items")
    before = _served(emu).get(LINES, 0)
    report = load_children(
        StripeReader(emu.api_key, emu.url), Warehouse(path), spec, windows(*DAYS),
        LoadOptions(columns=default_columns(spec), settings=ValidationSettings(), run_id="c"),
    )  # fmt: skip
    assert report.records_rejected == 0
    requests = _served(emu).get(LINES, 0) - before
    with Warehouse(path).connect(read_only=True) as conn:
        rows = conn.execute("SELECT id, checkout_session, raw FROM stripe.checkout_session_line_items").fetchall()
        sessions = conn.execute("SELECT raw FROM stripe.checkout_sessions").fetchall()
    # The sessions' own rows stay Stripe's default object: their load never expands.
    assert sessions and all("line_items" not in orjson.loads(raw) for (raw,) in sessions)
    return {i: (s, orjson.loads(raw)) for i, s, raw in rows}, requests


def test_session_lines_come_from_the_expanded_listing_without_a_request_per_session(make_emulator, tmp_path):
    emu = make_emulator(per_day=40, days=2)
    loaded, requests = _load_lines(emu, tmp_path)
    assert loaded and loaded == _expected(emu)
    assert requests == 0


def test_an_api_that_ignores_the_expansion_gives_the_same_rows_a_request_per_session(
    make_emulator, tmp_path, monkeypatch
):
    monkeypatch.setattr(emulator_expand, "_include", lambda ds, resource, obj, name: True)  # shown without it
    emu = make_emulator(per_day=40, days=2)
    loaded, requests = _load_lines(emu, tmp_path)
    monkeypatch.undo()
    assert loaded and loaded == _expected(emu)
    assert requests == len(_all(emu, "/v1/checkout/sessions"))


def test_a_session_with_more_lines_than_the_listing_shows_reads_them_from_its_endpoint(
    make_emulator, tmp_path, monkeypatch
):
    # The emulator's sessions have one line or none: a listing that shows none of them says
    # `has_more` for every session with a line (past embedded lines: the invoices' test).
    shown = 0
    monkeypatch.setattr(emulator_expand, "INCLUDED_CHILDREN", shown)
    emu = make_emulator(per_day=40, days=2)
    loaded, requests = _load_lines(emu, tmp_path)
    monkeypatch.undo()
    expected = _expected(emu)
    assert loaded and loaded == expected
    per_session: dict[str, int] = {}
    for session, _ in expected.values():
        per_session[session] = per_session.get(session, 0) + 1
    longer = [s for s, n in per_session.items() if n > shown]
    assert longer and requests == len(longer)

"""Child lists over HTTP: every child table equals what the emulator lists under each parent,
rows attached to the right parent, and complete embedded lists cost no request."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from datetime import date

import dagster as dg
import orjson
import pytest

from stripe_assets.catalog import RESOURCES, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_tests.test_assets import materialize

START = date(2026, 10, 1)
DAYS = ["2026-10-01", "2026-10-02", "2026-10-03"]
CHILDREN = [name for name, r in RESOURCES.items() if child_of(r) is not None]
# The child lists and their parents: nothing else is needed to read them.
FAMILIES = sorted({*CHILDREN, *(child_of(RESOURCES[name]).parent for name in CHILDREN)})  # type: ignore[union-attr]


@pytest.fixture
def live(monkeypatch, tmp_path):
    with start_emulator(EmulatorConfig(seed=5, start=START, days=3, per_day=25)) as emu:
        monkeypatch.setenv("STRIPE_API_KEY", emu.api_key)
        monkeypatch.setenv("STRIPE_API_BASE", emu.url)
        monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(tmp_path / "stripe.duckdb"))
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
        yield emu


def _get(emu, path: str, params: dict | None = None) -> dict:
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    request = urllib.request.Request(f"{emu.url}{path}?{query}", headers={"Authorization": f"Bearer {emu.api_key}"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def _list(emu, path: str, params: dict | None = None) -> list[dict]:
    found, params = [], {"limit": 100, **(params or {})}
    while True:
        page = _get(emu, path, params)
        found += page["data"]
        if not page["has_more"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]


def _expected(emu, name: str) -> dict[str, tuple[str, dict]]:
    """child id -> (parent id, object), listed over HTTP parent by parent as Stripe lists them."""
    child = child_of(get_resource(name))
    assert child is not None
    parents = _list(emu, get_resource(child.parent).path, dict(get_resource(child.parent).list_params))
    expected = {}
    for parent in parents:
        if parent.get("deleted") or not child.reads(parent):
            continue
        path, params = child.endpoint(parent["id"])
        for obj in _list(emu, path, params):
            expected[obj["id"]] = (parent["id"], obj)
    return expected


def _health(emu) -> dict:
    with urllib.request.urlopen(f"{emu.url}/_emulator/health") as response:
        return json.loads(response.read())


def _load_all(instance) -> None:
    """The child lists and their parents, a run per day: the children start once their parents have loaded."""
    for day in DAYS:
        result = materialize(instance, selection=[f"stripe/{name}" for name in FAMILIES], partition_key=day)
        assert result.success, day


def _table(name: str, tmp_path) -> dict[str, tuple[str, dict, object]]:
    spec = get_resource(name)
    column = child_of(spec).parent_column  # type: ignore[union-attr]
    with Warehouse(tmp_path / "stripe.duckdb").connect(read_only=True) as conn:
        rows = conn.execute(f"SELECT id, {column}, raw, _deleted_at FROM {spec.table}").fetchall()
    return {i: (p, orjson.loads(r), d) for i, p, r, d in rows}


@pytest.mark.slow  # the child lists over three days: its module runs first
def test_children_load_equal_to_the_emulator_with_no_request_for_complete_embedded_lists(live, tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        _load_all(instance)
    served = _health(live)["requests_by_endpoint"]
    for name in CHILDREN:
        expected = _expected(live, name)
        table = _table(name, tmp_path)
        assert expected, f"{name}: the emulator lists none"
        assert {i: (p, o) for i, (p, o, _) in table.items()} == expected, name
        assert all(d is None for _, _, d in table.values()), name
    # Invoices embed their first 10 lines: only those with more cost a request; subscriptions
    # embed all their items: none does.
    invoices = _list(live, "/v1/invoices")
    longer = [i for i in invoices if i["lines"]["has_more"]]
    assert longer and len(longer) < len(invoices)
    assert served.get("/v1/invoices/{id}/lines", 0) == len(longer)
    assert served.get("/v1/subscription_items", 0) == 0
    assert served.get("/v1/credit_notes/{id}/lines", 0) == 0
    # Checkout sessions show their lines when listed with `expand[]=data.line_items`.
    assert served.get("/v1/checkout/sessions/{id}/line_items", 0) == 0


def test_a_child_partition_needs_its_parent_partition_loaded_first(live, tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = materialize(instance, selection=["stripe/invoice_line_items"], partition_key=DAYS[0])
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failures[0].step_failure_data.user_failure_data.description
    assert "partition 2026-10-01 of invoices is not loaded" in message
    assert "materialize stripe/invoices" in message


def _run_both(instance, day: str):
    """Invoices and their lines in one run whose asset selection names both (as the UI's and the
    CLI's runs do), so the child's step follows its parent's."""
    from stripe_assets.definitions import defs as load_defs

    definitions = load_defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    keys = [dg.AssetKey(["stripe", "invoices"]), dg.AssetKey(["stripe", "invoice_line_items"])]
    return job.execute_in_process(
        instance=instance, asset_selection=keys, partition_key=day, raise_on_error=False
    )


def _child_says(instance, result) -> list[str]:
    """What the child's step logged in the run (as the run's page shows it)."""
    logs = instance.all_logs(result.run_id)
    return [e.user_message for e in logs if e.step_key == "stripe__invoice_line_items" and e.user_message]


def test_a_child_run_with_its_parent_says_whether_the_parent_loaded_in_this_run(live, tmp_path, monkeypatch):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = _run_both(instance, DAYS[0])
        assert result.success
        said = _child_says(instance, result)
        assert "waiting for stripe/invoices to load first in this run" in said
        assert "stripe/invoices loaded in this run; reading its rows now" in said
        # Every invoice served invalid: the parent's step fails, and the child says so rather than
        # reading the parents an earlier run left as if this run had landed them.
        config = EmulatorConfig(seed=5, start=START, days=3, per_day=25)
        broken = config.model_copy(update={"faults": config.faults.model_copy(update={"invalid_fraction": 1.0})})
        with start_emulator(broken) as emu:
            monkeypatch.setenv("STRIPE_API_BASE", emu.url)
            result = _run_both(instance, DAYS[1])
        assert not result.success
        assert (
            "stripe/invoices failed in this run; reading its rows in the warehouse (an earlier run's, for the "
            "partitions this run did not land)" in _child_says(instance, result)
        )


def _advance(emu, query: str) -> dict:
    request = urllib.request.Request(f"{emu.url}/_emulator/advance?{query}", method="POST")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


@pytest.mark.slow  # the child lists over three days: its module runs first
def test_cards_attached_or_detached_are_read_from_their_events_though_no_customer_changed(live, tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        _load_all(instance)
        before = _table("payment_methods", tmp_path)
        moved = _advance(live, "hours=6&changes[payment_method_attached]=4&changes[payment_method_detached]=3")
        assert moved["event_types"] == {"payment_method.attached": 4, "payment_method.detached": 3}
        # Only the newest day is asked for; the customers of the other days did not change.
        result = materialize(instance, selection=["stripe/payment_methods"], partition_key=DAYS[-1])
        assert result.success
    table = _table("payment_methods", tmp_path)
    expected = _expected(live, "payment_methods")
    assert {i: (p, o) for i, (p, o, d) in table.items() if d is None} == expected
    assert len(set(table) - set(before)) == 4
    assert sum(1 for i, (_, _, d) in table.items() if d is not None and i in before) == 3


def test_a_key_that_may_not_read_events_still_loads_the_cards_and_says_why_it_reads_fewer(
    live, tmp_path, monkeypatch
):
    from stripe_assets_tests.changes.conftest import _NoEventsKey

    handler = type("Handler", (_NoEventsKey,), {"upstream": live.url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{server.server_address[1]}")
        selection = ["stripe/customers", "stripe/payment_methods"]
        with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
            assert materialize(instance, selection=selection, partition_key=DAYS[0]).success
            _advance(live, "hours=1&changes[payment_method_attached]=1")
            result = materialize(instance, selection=["stripe/payment_methods"], partition_key=DAYS[0])
            assert result.success
            warnings = [
                e.message for e in instance.all_logs(result.run_id) if "its events cannot be read" in (e.message or "")
            ]
        assert warnings and "only partitions whose customers changed are read again" in warnings[0]
    finally:
        server.shutdown()
        server.server_close()

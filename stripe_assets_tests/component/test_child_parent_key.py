"""A child list in a project whose translator moves the keys: in a run loading it with its parent
it waits for the parent's asset under the parent's translated key, so it reads the parents this
run lands (steps run at once under Dagster's default multiprocess executor)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from stripe_assets.dagster.factory import build_dataflow_asset
from stripe_assets.dataflows.config import parse_dataflows
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.component.test_component import FinanceComponent, FinanceTranslator, loaded
from stripe_assets_tests.component.test_operations_keys import make_project
from stripe_assets_tests.conftest import day_window

DAY = "2026-10-02"
# The child first: the factory still builds its parent before it.
DATAFLOWS = """\
dataflows:
  - name: stripe_invoice_line_items
    resource: invoice_line_items
    start_time: 2026-10-01T00:40:00Z
    history_start: 2026-10-01T00:00:00Z
  - name: stripe_invoices
    resource: invoices
    start_time: 2026-10-01T00:10:00Z
    history_start: 2026-10-01T00:00:00Z
"""
PARENT = dg.AssetKey(["finance", "stripe", "invoices"])
CHILD = dg.AssetKey(["finance", "stripe", "invoice_line_items"])


def test_a_child_names_and_follows_its_parent_under_the_translated_key():
    with loaded(DATAFLOWS, component_cls=FinanceComponent) as (_, defs, _root, _path):
        key = dg.AssetKey(["finance", "invoice_line_items"])
        assert defs.resolve_assets_def(key).specs_by_key[key].metadata["parent"] == "finance/invoices, column invoice"
    # Built alone, the child finds its parent's key through the translator too.
    config = parse_dataflows(DATAFLOWS)
    asset = build_dataflow_asset(config.dataflows[0], config, FinanceTranslator())
    assert asset.specs_by_key[asset.key].metadata["parent"] == "finance/invoices, column invoice"
    # Without a translator, the catalog's key.
    asset = build_dataflow_asset(config.dataflows[0], config)
    assert asset.specs_by_key[asset.key].metadata["parent"] == "stripe/invoices, column invoice"


def test_a_child_without_its_parent_partition_names_the_parents_asset_as_the_project_keys_it(
    emulator, monkeypatch
):
    monkeypatch.setenv("MY_STRIPE_KEY", emulator.api_key)
    settings = f"api_key_env: MY_STRIPE_KEY\napi_base: {emulator.url}\nwarehouse_path: data/stripe.duckdb\n"
    with (
        loaded(DATAFLOWS + settings, component_cls=FinanceComponent) as (_, defs, _root, _path),
        dg.instance_for_test() as instance,
    ):
        asset = defs.resolve_assets_def(dg.AssetKey(["finance", "invoice_line_items"]))
        result = dg.materialize([asset], instance=instance, partition_key=DAY, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.user_failure_data.description
    assert f"partition {DAY} of invoices is not loaded: materialize finance/invoices for {DAY} first" in message


def _lines(emulator, invoice: str) -> set[str]:
    """The invoice's lines, listed page by page as Stripe lists them."""
    found: set[str] = set()
    params = "limit=100"
    while True:
        request = urllib.request.Request(
            f"{emulator.url}/v1/invoices/{invoice}/lines?{params}",
            headers={"Authorization": f"Bearer {emulator.api_key}"},
        )
        with urllib.request.urlopen(request) as response:
            page = json.loads(response.read())
        found |= {line["id"] for line in page["data"]}
        if not page["has_more"]:
            return found
        params = f"limit=100&starting_after={page['data'][-1]['id']}"


@pytest.mark.slow  # `dg launch` as a subprocess, its steps in processes of their own
def test_a_run_of_parent_and_child_lands_every_child_of_the_parents_it_lands(tmp_path, make_emulator):
    # Slow answers keep the parent's step loading while the child's step starts beside it.
    emulator = make_emulator(latency_ms=500)
    root = tmp_path / "finance"
    env = {**os.environ, **make_project(root, emulator, DATAFLOWS), "DAGSTER_DG_UPDATE_CHECK_ENABLED": "0"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "launch", "--assets", f"{PARENT.to_user_string()},"
         f"{CHILD.to_user_string()}", "--partition", DAY],
        cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    truth = make_emulator()  # the same objects (same seed), answered without the delay
    invoices = [i["id"] for i in truth.objects("invoices", *day_window(DAY), include_hidden=False)]
    expected = {(invoice, line) for invoice in invoices for line in _lines(truth, invoice)}
    with Warehouse(root / "data" / "stripe.duckdb").connect(read_only=True) as conn:
        landed = set(conn.execute("SELECT invoice, id FROM stripe.invoice_line_items").fetchall())
        quarantined = {r[0] for r in conn.execute("SELECT id FROM stripe_quarantine.invoice_line_items").fetchall()}
    assert invoices and expected
    assert landed <= expected  # each under its own invoice
    assert {line for _, line in landed} | quarantined == {line for _, line in expected}

    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        [run] = instance.get_runs()
        said = [
            e.user_message
            for e in instance.all_logs(run.run_id)
            if e.step_key == CHILD.to_python_identifier() and e.user_message
        ]
    assert f"waiting for {PARENT.to_user_string()} to load first in this run" in said

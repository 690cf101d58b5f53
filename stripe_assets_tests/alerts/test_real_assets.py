"""Alerts for runs of the project's own Stripe assets against the emulator."""

from __future__ import annotations

import logging

import dagster as dg

from stripe_assets.alerts.routes import AlertRoutes, routes_from_dataflows
from stripe_assets.alerts.tick import run_alert_tick
from stripe_assets.dataflows.config import DataflowsConfig
from stripe_assets.definitions import defs as load_defs
from stripe_assets.ingest.warehouse import Warehouse


def routes(alert_log, url) -> AlertRoutes:
    channels = {"log": {"type": "log", "path": str(alert_log)}, "ops": {"type": "webhook", "url": url}}
    flows = [
        {"name": "stripe_charges", "resource": "charges", "alerts": {"channels": ["log", "ops"]}},
        {"name": "stripe_prices", "resource": "prices", "alerts": {"send": ["failure"], "channels": ["ops"]}},
    ]
    return routes_from_dataflows(DataflowsConfig.model_validate({"dataflows": flows, "channels": channels}))


def run(instance, selection, partition):
    definitions = load_defs()
    return dg.materialize(
        [a for a in definitions.assets if isinstance(a, dg.AssetsDefinition)], instance=instance,
        resources=definitions.resources, selection=selection, partition_key=partition, raise_on_error=False,
    )


def test_a_threshold_failure_alerts_with_rate_threshold_and_figures(monkeypatch, make_emulator, tmp_path, make_webhook):
    broken = make_emulator(per_day=100, days=4, invalid_fraction=0.25, invalid_kinds="wrong_type")
    monkeypatch.setenv("STRIPE_API_KEY", broken.api_key)
    monkeypatch.setenv("STRIPE_API_BASE", broken.url)
    monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    hook = make_webhook()
    with dg.instance_for_test() as instance:
        assert not run(instance, [dg.AssetKey(["stripe", "prices"])], "2026-10-02").success
        assert not run(instance, [dg.AssetKey(["stripe", "charges"])], "2026-10-03").success
        outcome = run_alert_tick(
            instance, None, routes(tmp_path / "alerts.jsonl", hook.url), logger=logging.getLogger("t")
        )
    by_status = {(a.dataflows[0], a.status): a for a in outcome.alerts}
    # prices only asked for failures; charges asked for all three.
    assert set(by_status) == {("stripe_charges", "start"), ("stripe_charges", "failure"), ("stripe_prices", "failure")}
    failure = by_status[("stripe_charges", "failure")]
    assert failure.partition == "2026-10-03" and failure.failed_step == "stripe__charges"
    assert failure.error.startswith("charges 2026-10-03: ") and "above the 5.0% threshold" in failure.error
    texts = [b["text"] for b in hook.delivered]
    assert len(texts) == 3 and sum("above the 5.0% threshold" in t for t in texts) == 2
    # The counts the load log holds for the rejected partition: nothing loaded, the invalid ones rejected.
    with Warehouse(tmp_path / "w.duckdb").connect(read_only=True) as conn:
        logged = conn.execute(
            "SELECT records_loaded, records_rejected, error_rate_pct FROM stripe_meta.loads "
            "WHERE resource = 'charges' AND partition = '2026-10-03'"
        ).fetchone()
    assert logged[0] == 0 and logged[1] > 0
    assert (failure.records_loaded, failure.records_rejected) == (logged[0], logged[1])
    assert failure.error_rate_pct == round(logged[2], 4)
    (text,) = [b["text"] for b in hook.delivered if b["status"] == "failure" and b["dataflows"] == ["stripe_charges"]]
    assert f"Records: 0 loaded, {logged[1]} rejected" in text

"""The assets as Dagster runs them, one per declared resource: definitions, partitions, checks, metadata, errors."""

from __future__ import annotations

import dagster as dg
import pytest
import stripe

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.definitions import defs as load_defs
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.conftest import day_window

KEYS = [dg.AssetKey(["stripe", r]) for r in RESOURCE_NAMES]


def materialize(instance, selection=None, **kwargs) -> dg.ExecuteInProcessResult:
    definitions = load_defs()
    assets = [a for a in definitions.assets or () if isinstance(a, dg.AssetsDefinition)]
    return dg.materialize(
        assets, instance=instance, resources=definitions.resources, selection=selection,
        raise_on_error=False, **kwargs,
    )


def checks(instance, key, limit=20):
    return instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(key, "schema_validation"), limit=limit
    )


def step_failure(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the run failed in a step"
    data = failures[0].step_failure_data
    # What the UI and run history show for a dg.Failure: its description.
    return (data.user_failure_data.description if data.user_failure_data else data.error.message).strip()


def test_definitions_have_an_asset_and_a_check_per_declared_resource(stripe_env):
    definitions = load_defs()
    stripe_keys = {k for k in definitions.resolve_all_asset_keys() if k.path[0] == "stripe"}
    assert stripe_keys == set(KEYS)  # and the models downstream of them (stripe_assets_tests/models)
    graph = definitions.resolve_asset_graph()
    for key in KEYS:
        assert dg.AssetCheckKey(key, "schema_validation") in graph.asset_check_keys
        node = graph.get(key)
        assert node.group_name == get_resource(key.path[-1]).group
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
        assert (
            node.partitions_def.get_partition_key_for_timestamp(day_window("2026-10-03")[0].timestamp()) == "2026-10-03"
        )
        schema = node.metadata["dagster/column_schema"]
        assert {"id", "raw", "_partition"} <= {c.name for c in schema.columns}
        # A child's rows are placed by their parent's `created` (an invoice line has none of its own).
        assert {"created", "_parent_created"} & {c.name for c in schema.columns}
        described = {c.name: c.description for c in schema.columns}
        assert described["id"].startswith("Unique identifier for the object.")  # Stripe's words, in the UI
    # The exact freshness windows, as `stripe-assets dataflows` words them (the UI rounds to days).
    assert graph.get(KEYS[0]).metadata["freshness"] == "warns after 1 d 6 h without a load, fails after 2 d 6 h"
    amounts = {c.name: c.description for c in graph.get(KEYS[0]).metadata["dagster/column_schema"].columns}
    assert amounts["amount"].startswith("Amount intended to be collected by this payment.")


def test_a_partition_run_loads_every_asset_and_records_its_check_per_partition(stripe_env, duckdb_path):
    with dg.instance_for_test() as instance:
        result = materialize(instance, partition_key="2026-10-03")
        assert result.success
        for key, resource in zip(KEYS, RESOURCE_NAMES, strict=True):
            [mat] = result.asset_materializations_for_node("stripe__" + resource)
            assert mat.partition == "2026-10-03"
            if child_of(get_resource(resource)) is not None:  # compared parent by parent: test_children.py
                expected = _child_rows(duckdb_path, resource)
            else:
                expected = stripe_env.listable_ids(resource, *day_window("2026-10-03"))
                assert mat.metadata["api_version"].value == stripe.api_version  # pinned, and echoed
            assert expected
            assert mat.metadata["records_loaded"].value == len(expected)
            assert mat.metadata["dagster/partition_row_count"].value == len(expected)
            assert mat.metadata["dagster/row_count"].value == len(expected)  # the table: this one partition
            [check] = checks(instance, key)
            assert (check.partition, check.status.value) == ("2026-10-03", "SUCCEEDED")
            evaluation = check.event.dagster_event.event_specific_data
            assert evaluation.metadata["records_rejected"].value == 0
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        assert conn.execute("SELECT count(DISTINCT _run_id) FROM stripe.charges").fetchone()[0] == 1


def _child_rows(duckdb_path, resource: str) -> list[str]:
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        return [r[0] for r in conn.execute(f"SELECT id FROM {get_resource(resource).table}").fetchall()]


def test_a_ranged_run_is_one_fetch_with_a_check_result_per_partition(stripe_env):
    days = ["2026-10-02", "2026-10-03", "2026-10-04"]
    with dg.instance_for_test() as instance:
        requests_before = stripe_env.requests_by_endpoint.get("/v1/charges", 0)
        result = materialize(
            instance,
            selection=[KEYS[0]],
            tags={"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]},
        )
        assert result.success
        assert sorted(instance.get_materialized_partitions(KEYS[0])) == days
        per_partition = {c.partition: c.status.value for c in checks(instance, KEYS[0]) if c.partition}
        assert per_partition == dict.fromkeys(days, "SUCCEEDED")
        n = len(stripe_env.listable_ids("charges", day_window(days[0])[0], day_window(days[-1])[1]))
        # One read of the range (besides reading events): full pages, plus at most one partial page
        # per concurrent slice.
        listed = stripe_env.requests_by_endpoint["/v1/charges"] - requests_before
        assert -(-n // 100) <= listed <= n // 100 + len(days)


def test_after_a_ranged_run_the_latest_materialization_is_the_newest_partition_with_its_own_figures(stripe_env):
    days = ["2026-10-02", "2026-10-03", "2026-10-04"]
    with dg.instance_for_test() as instance:
        result = materialize(
            instance, selection=[KEYS[0]],
            tags={"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]},
        )
        assert result.success
        latest = instance.get_latest_materialization_event(KEYS[0])
        assert latest is not None and latest.asset_materialization.partition == days[-1]
        # Every partition's materialization describes that partition, not the run so far.
        total = len(stripe_env.listable_ids("charges", day_window(days[0])[0], day_window(days[-1])[1]))
        by_partition = {
            r.asset_materialization.partition: r.asset_materialization.metadata
            for r in instance.fetch_materializations(KEYS[0], limit=10).records
        }
        assert sorted(by_partition) == days
        for day in days:
            n = len(stripe_env.listable_ids("charges", *day_window(day)))
            assert by_partition[day]["records_fetched"].value == n
            assert by_partition[day]["dagster/partition_row_count"].value == n
            assert by_partition[day]["dagster/row_count"].value == total  # the table's rows
            assert "run_records_fetched" not in by_partition[day]
            preview = by_partition[day]["preview"].value.splitlines()
            assert preview[0].startswith("| id | created |")
            assert all(row.split(" | ")[1].startswith(day) and row.endswith("|") for row in preview[2:])  # a time
        # The run's totals are on the range's summary check result.
        [summary] = [c for c in checks(instance, KEYS[0]) if c.partition is None]
        evaluation = summary.event.dagster_event.event_specific_data
        totals = evaluation.metadata
        assert totals["run_records_fetched"].value == total
        # Shown as the check's latest execution without a partition: it names the range it checked.
        assert evaluation.description.startswith(f"{days[0]}...{days[-1]}: 3 partitions, 3 passed, 0 failed; ")
        assert totals["partition_range"].value == f"{days[0]}...{days[-1]}"
        assert totals["records_per_second"].value > 0


def test_a_threshold_failure_fails_the_run_with_rate_threshold_and_reasons(monkeypatch, make_emulator, duckdb_path):
    broken = make_emulator(per_day=100, days=4, invalid_fraction=0.4, invalid_kinds="null_required")
    monkeypatch.setenv("STRIPE_API_KEY", broken.api_key)
    monkeypatch.setenv("STRIPE_API_BASE", broken.url)
    monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(duckdb_path))
    with dg.instance_for_test() as instance:
        result = materialize(instance, selection=[KEYS[0]], partition_key="2026-10-03")
        assert not result.success
        message = step_failure(result)
        assert message.startswith("charges 2026-10-03: ") and "above the 5.0% threshold; top reasons: " in message
        [check] = checks(instance, KEYS[0])
        assert (check.partition, check.status.value) == ("2026-10-03", "FAILED")
        evaluation = check.event.dagster_event.event_specific_data
        assert evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert "null in a non-nullable field" in evaluation.metadata["failures_sample"].value
        assert instance.get_materialized_partitions(KEYS[0]) == set()  # nothing landed


@pytest.mark.parametrize(
    "env, message",
    [
        ({"STRIPE_API_KEY": None}, "charges: STRIPE_API_KEY is not set"),
        (
            {"STRIPE_API_KEY": "sk_test_wrong0000000000000000"},
            "charges: Stripe rejected the API key sk_test_****0000 (HTTP 401)",
        ),
        (
            {"STRIPE_API_BASE": "http://127.0.0.1:9"},
            "charges: cannot reach the Stripe API at http://127.0.0.1:9 (STRIPE_API_BASE)",
        ),
        (
            {"STRIPE_ASSETS_DUCKDB_PATH": "/dev/null/stripe.duckdb"},
            "charges: cannot create the directory of the DuckDB file /dev/null/stripe.duckdb",
        ),
    ],
)
def test_bad_input_fails_with_one_clear_line(stripe_env, monkeypatch, env, message):
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    run_config = None
    if "STRIPE_API_BASE" in env:  # no retries of the refused connection (the SDK backs off between them)
        stripe_config = {"api_key": {"env": "STRIPE_API_KEY"}, "api_base": {"env": "STRIPE_API_BASE"}}
        run_config = {"resources": {"stripe_api": {"config": {**stripe_config, "max_network_retries": 0}}}}
    with dg.instance_for_test() as instance:
        result = materialize(instance, selection=[KEYS[0]], partition_key="2026-10-03", run_config=run_config)
    assert not result.success
    error = step_failure(result)
    assert error.startswith(message) and "\n" not in error
    assert "wrong0000000000000000" not in error


def test_a_load_reports_its_progress_and_request_rate_in_the_run(stripe_env):
    with dg.instance_for_test() as instance:
        tags = {"dagster/asset_partition_range_start": "2026-10-02", "dagster/asset_partition_range_end": "2026-10-03"}
        result = materialize(instance, selection=[KEYS[0]], tags=tags)
        assert result.success
        logs = instance.all_logs(result.run_id)
        messages = [e.user_message for e in logs if e.user_message]
        assert any(m.startswith("charges: 2/2 windows done, ") and "objects/s" in m for m in messages)
        [summary] = [c for c in checks(instance, KEYS[0]) if not c.partition]
        metadata = summary.event.dagster_event.event_specific_data.metadata
        assert metadata["api_requests"].value >= 1 and metadata["api_rate_limited"].value == 0
        assert metadata["api_requests_per_second"].value > 0


@pytest.mark.parametrize(
    "key, message",
    [
        (None, "charges: SHOP_STRIPE_KEY is not set"),
        ("sk_test_wrong0000000000000000", "charges: Stripe rejected the API key sk_test_****0000 (HTTP 401)"),
    ],
)
def test_a_key_read_from_another_variable_is_named_in_the_error(stripe_env, monkeypatch, key, message):
    # A component's `api_key_env` (a second Stripe account's key): the run's one line names that
    # variable, not STRIPE_API_KEY, which may well be set and right for the other account.
    from stripe_assets.dagster.resources import environment_resources

    if key is None:
        monkeypatch.delenv("SHOP_STRIPE_KEY", raising=False)
    else:
        monkeypatch.setenv("SHOP_STRIPE_KEY", key)
    resources = environment_resources("SHOP_STRIPE_KEY")
    assets = [a for a in load_defs().assets or () if isinstance(a, dg.AssetsDefinition)]
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            assets, instance=instance, resources=resources, selection=[KEYS[0]], partition_key="2026-10-03",
            raise_on_error=False,
        )  # fmt: skip
    assert not result.success
    error = step_failure(result)
    assert error.startswith(message) and "SHOP_STRIPE_KEY" in error and "STRIPE_API_KEY" not in error

"""`StripeAssetsComponent` as a Dagster project loads it: scaffolded, from a `defs.yaml`, with its
dataflows inline or in a file beside it, a translator, the opt-in parts, and a real load."""

from __future__ import annotations

import textwrap
from contextlib import contextmanager

import dagster as dg
import pytest
from dagster.components.testing import create_defs_folder_sandbox

from stripe_assets import StripeAssetData, StripeAssetsComponent, StripeAssetsTranslator
from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets.dataflows.config import DATAFLOWS_ENV
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.conftest import day_window

TYPE = "stripe_assets.StripeAssetsComponent"
DATAFLOWS = """\
dataflows:
  - name: stripe_charges
    resource: charges
    start_time: 2026-10-01T00:10:00Z
    history_start: 2026-10-01T00:00:00Z
    alerts:
      send: [failure]
      channels: [log]
  - name: stripe_refunds
    resource: refunds
    frequency: week
    start_time: 2026-10-05T06:00:00Z
    enabled: false
"""


@pytest.fixture(autouse=True)
def _no_dataflows_file_from_the_environment(monkeypatch):
    monkeypatch.delenv(DATAFLOWS_ENV, raising=False)


@contextmanager
def loaded(attributes: str | None = None, component_cls=StripeAssetsComponent, files: dict[str, str] | None = None):
    """Scaffold the component, optionally replace its attributes with YAML text, and load it."""
    with create_defs_folder_sandbox() as sandbox:
        path = sandbox.scaffold_component(component_cls=component_cls, defs_path="stripe")
        if attributes is not None:
            own = f"{component_cls.__module__}.{component_cls.__name__}"
            type_name = TYPE if component_cls is StripeAssetsComponent else own
            (path / "defs.yaml").write_text(f"type: {type_name}\nattributes:\n{textwrap.indent(attributes, '  ')}")
        for name, text in (files or {}).items():
            (path / name).write_text(text)
        with sandbox.load_component_and_build_defs(defs_path=path) as (component, defs):
            yield component, defs, sandbox.project_root, path


def failure_of(attributes: str, **kwargs) -> str:
    """The one line loading fails with (Dagster wraps it in its component tree error)."""
    with pytest.raises(Exception) as failure, loaded(attributes, **kwargs):
        pass
    cause: BaseException = failure.value
    while cause.__cause__ is not None:
        cause = cause.__cause__
    return str(cause)


def asset_keys(defs: dg.Definitions) -> set[str]:
    return {k.to_user_string() for k in defs.resolve_all_asset_keys()}


def test_the_scaffolded_defs_yaml_loads_an_asset_check_and_schedule_per_resource_and_nothing_else(tmp_path):
    with loaded() as (component, defs, _, _path):
        assert isinstance(component, StripeAssetsComponent)
        assert asset_keys(defs) == {f"stripe/{r}" for r in RESOURCE_NAMES}
        checks = defs.resolve_asset_graph().asset_check_keys
        assert dg.AssetCheckKey(dg.AssetKey(["stripe", "charges"]), "schema_validation") in checks
        assert {s.name for s in defs.schedules or ()} == {f"stripe_{r}_schedule" for r in RESOURCE_NAMES}
        # Namespaced resource keys; the executor, sensors and jobs are a project's own unless asked for.
        assert set(defs.resources or {}) == {"stripe_api", "stripe_warehouse"}
        assert (defs.executor, list(defs.sensors or ()), list(defs.jobs or ())) == (None, [], [])


def test_the_opt_in_parts_are_added_when_asked_for():
    with loaded("alerts: true\noperations: true\nexecutor: true\n") as (_, defs, _root, _path):
        assert {s.name for s in defs.sensors or ()} == {"stripe_run_alerts", "stripe_dead_runs"}
        assert [j.name for j in defs.jobs or ()] == ["rollback_job"]
        assert defs.executor is not None


@pytest.mark.parametrize("key", ["send", "on"])
def test_inline_dataflows_are_read_as_strictly_as_a_dataflows_file(key):
    """YAML 1.1 would read the old key `on:` as true and the times as datetimes; the file's rules apply."""
    with loaded(DATAFLOWS.replace("send: [failure]", f"{key}: [failure]")) as (component, defs, _, path):
        assert asset_keys(defs) == {"stripe/charges", "stripe/refunds"}
        schedules = {s.name: s for s in defs.schedules or ()}
        assert schedules["stripe_refunds_schedule"].default_status == dg.DefaultScheduleStatus.STOPPED
        assert schedules["stripe_charges_schedule"].cron_schedule == "10 0 * * *"
        config = component.dataflows_loader(path)()
        assert list(config.dataflows[0].alerts.send) == ["failure"]


def test_a_dataflows_file_beside_the_defs_yaml():
    with loaded("dataflows_file: flows.yaml\n", files={"flows.yaml": DATAFLOWS}) as (_, defs, _root, _path):
        assert asset_keys(defs) == {"stripe/charges", "stripe/refunds"}


def test_a_bad_inline_value_fails_loading_with_one_line_naming_it():
    message = failure_of(DATAFLOWS.replace("frequency: week", "frequency: fortnight"))
    assert "defs.yaml: dataflow 'stripe_refunds', field 'frequency'" in message and "'fortnight'" in message
    assert "\n" not in message


def test_a_file_and_inline_dataflows_together_are_refused():
    message = failure_of("dataflows_file: flows.yaml\n" + DATAFLOWS, files={"flows.yaml": DATAFLOWS})
    assert message.endswith("set dataflows_file or dataflows inline, not both")


class FinanceTranslator(StripeAssetsTranslator):
    def get_asset_spec(self, data: StripeAssetData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(
            key=dg.AssetKey(["finance", data.resource.name]), group_name="finance", owners=["team:finance"]
        )


class FinanceComponent(StripeAssetsComponent):
    def get_translator(self) -> StripeAssetsTranslator:
        return FinanceTranslator()


def test_a_translator_changes_keys_groups_and_owners_and_the_schedules_follow():
    with loaded(DATAFLOWS, component_cls=FinanceComponent) as (_, defs, _root, _path):
        assert asset_keys(defs) == {"finance/charges", "finance/refunds"}
        key = dg.AssetKey(["finance", "charges"])
        spec = defs.resolve_assets_def(key).specs_by_key[key]
        assert (spec.group_name, spec.owners) == ("finance", ["team:finance"])
        assert spec.metadata["dataflow"] == "stripe_charges"  # the factory's metadata is kept
        assert dg.AssetCheckKey(key, "schema_validation") in defs.resolve_asset_graph().asset_check_keys
        repository = defs.get_repository_def()
        job = repository.get_job(repository.get_schedule_def("stripe_charges_schedule").job_name)
        assert set(job.asset_layer.selected_asset_keys) == {key}  # the translated asset


def test_alerts_refuse_a_translator_that_moves_the_keys():
    message = failure_of(DATAFLOWS + "alerts: true\n", component_cls=FinanceComponent)
    assert message.startswith("alerts find a run's dataflows by their asset keys stripe/<resource>")
    assert "stripe_charges, stripe_refunds" in message


def test_the_component_loads_a_partition_from_stripe_into_its_warehouse(emulator, monkeypatch):
    """The key from the variable the defs.yaml names, the warehouse relative to the project root."""
    monkeypatch.setenv("MY_STRIPE_KEY", emulator.api_key)
    settings = f"api_key_env: MY_STRIPE_KEY\napi_base: {emulator.url}\nwarehouse_path: data/stripe.duckdb\n"
    with (
        loaded(DATAFLOWS + settings, component_cls=FinanceComponent) as (_, defs, root, _path),
        dg.instance_for_test() as instance,
    ):
        asset = defs.resolve_assets_def(dg.AssetKey(["finance", "charges"]))  # bound to its resources
        result = dg.materialize(
            [asset], instance=instance, partition_key="2026-10-02", raise_on_error=False
        )
        assert result.success
        with Warehouse(root / "data" / "stripe.duckdb").connect(read_only=True) as conn:
            loaded_ids = {r[0] for r in conn.execute("SELECT id FROM stripe.charges").fetchall()}
            quarantined = {r[0] for r in conn.execute("SELECT DISTINCT id FROM stripe_quarantine.charges").fetchall()}
        truth = {o["id"] for o in emulator.objects("charges", *day_window("2026-10-02"))}
        assert truth and loaded_ids | quarantined == truth
        evaluation = result.get_asset_check_evaluations()[0]
        assert evaluation.asset_key == dg.AssetKey(["finance", "charges"])
        assert instance.get_materialized_partitions(dg.AssetKey(["finance", "charges"])) == {"2026-10-02"}

"""Every declared resource gets the whole product from its declaration alone: an asset with its
check, a schedule, a table and a quarantine table, and data in the emulator."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg

import stripe_assets.catalog
from stripe_assets.catalog import RESOURCE_NAMES, RESOURCES, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.catalog.declaration import GROUPS
from stripe_assets.dataflows.config import load_dataflows
from stripe_assets.dataflows.schedules import next_tick, schedule_name
from stripe_assets.definitions import defs as load_defs
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.loads import table_exists
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.test_assets import materialize

DAY = "2026-10-03"


def declared_in_files() -> list[str]:
    """The resources the catalog's modules declare, read from the files themselves."""
    folder = Path(stripe_assets.catalog.__file__).parent
    declarations = ("\nRESOURCE = StripeResource(", "\nRESOURCE = StripeChild(")
    return sorted(p.stem for p in folder.glob("*.py") if any(d in p.read_text() for d in declarations))


def test_the_catalog_lists_every_declaration_module_and_nothing_else():
    assert sorted(RESOURCE_NAMES) == declared_in_files()


def test_each_declared_resource_has_an_asset_a_check_a_schedule_a_quarantine_table_and_emulator_data(
    stripe_env, duckdb_path
):
    definitions = load_defs()
    graph = definitions.resolve_asset_graph()
    dataflows = load_dataflows()
    with dg.instance_for_test() as instance:
        for name in RESOURCE_NAMES:
            key = dg.AssetKey(get_resource(name).asset_path)
            assert key in graph.get_all_asset_keys(), name
            assert dg.AssetCheckKey(key, "schema_validation") in graph.asset_check_keys, name
            # Its schedule's tick asks for exactly this asset.
            flow = dataflows.for_resource(name)
            tick = next_tick(flow, datetime.fromisoformat(f"{DAY}T12:00:00+00:00"))
            assert tick is not None
            [schedule] = [s for s in definitions.schedules or () if s.name == schedule_name(flow)]
            context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
            requests = schedule.evaluate_tick(context).run_requests or []
            assert requests and all(r.asset_selection == [key] for r in requests), name

        # One run: child lists start once their parents have loaded.
        result = materialize(instance, partition_key=DAY)
        assert result.success
    start, end = day_window(DAY)
    with Warehouse(duckdb_path).connect(read_only=True) as conn:
        for name in RESOURCE_NAMES:
            resource = get_resource(name)
            if child_of(resource) is not None:  # compared parent by parent in test_children.py
                assert conn.execute(f"SELECT count(*) FROM {resource.table}").fetchone()[0], name
                assert table_exists(conn, resource.quarantine_table), name
                continue
            served = set(stripe_env.listable_ids(name, start, end))
            assert served, f"the emulator serves no {name} on {DAY}"
            loaded = {row[0] for row in conn.execute(f"SELECT id FROM {resource.table}").fetchall()}
            assert loaded == served, name
            assert table_exists(conn, resource.quarantine_table), name


def resources_table() -> str:
    """The README's table of resources, as the declarations say it."""
    rows = ["| resource | group | what it holds | after creation |", "|---|---|---|---|"]
    for resource in RESOURCES.values():
        after = resource.settles.describe() if resource.settles else "never changes"
        summary = resource.summary
        child = child_of(resource)
        if child is not None:
            summary += f" (child of `{child.parent}`, column `{child.parent_column}`)"
            after = f"re-read when its {get_resource(child.parent).object} changes"
            after += " or its own events name it" if getattr(resource, "child_events", ()) else ""
            after += "; marked deleted when gone from it"
        if resource.events:
            after = f"changes ({len(resource.events)} event types)"
            after += "; can be deleted" if resource.deletion_events else ""
        rows.append(f"| `{resource.name}` | `{resource.group}` | {summary} | {after} |")
    return "\n".join(rows) + "\n"


def test_the_readme_table_of_resources_is_the_declarations():
    readme = (Path(stripe_assets.catalog.__file__).parents[2] / "README.md").read_text()
    assert resources_table() in readme


def test_each_asset_sits_in_the_group_of_its_resources_domain(stripe_env):
    graph = load_defs().resolve_asset_graph()
    by_group: dict[str, set[str]] = {}
    for name in RESOURCE_NAMES:
        resource = get_resource(name)
        assert resource.group in GROUPS, name
        assert graph.get(dg.AssetKey(resource.asset_path)).group_name == resource.group, name
        by_group.setdefault(resource.group, set()).add(name)
    assert set(by_group) == set(GROUPS)  # no domain left empty
    assert {"charges", "payment_intents", "refunds", "disputes"} <= by_group["stripe_payments"]
    assert {"subscriptions", "invoices", "coupons"} <= by_group["stripe_billing"]
    assert {"balance_transactions", "payouts"} <= by_group["stripe_balance"]
    assert by_group["stripe_customers"] == {"customers", "payment_methods"}
    assert {"products", "prices"} <= by_group["stripe_products"]
    # A group is a selection of its own, as `--select 'group:stripe_billing'` makes it.
    billing = dg.AssetSelection.groups("stripe_billing").resolve(graph)
    assert billing == {dg.AssetKey(get_resource(n).asset_path) for n in by_group["stripe_billing"]}

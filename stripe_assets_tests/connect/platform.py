"""What the Connect tests compare: each account's objects as the emulator serves them, and the
warehouse's rows per account; child lists listed parent by parent with `Stripe-Account`."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

from stripe_assets.catalog import get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.conftest import UNPACED_API


def dataflows_text(resources: list[str], start: date, accounts: str = "all") -> str:
    flows = "\n".join(
        f"  - {{name: stripe_{r}, resource: {r}, history_start: '{start}T00:00:00Z', "
        f"start_time: '{start}T00:10:00Z'}}"
        for r in resources
    )
    return f"{UNPACED_API}  accounts: {accounts}\ndataflows:\n{flows}\n"


def rows(warehouse: Path, resource: str) -> set[tuple[str, str]]:
    with Warehouse(warehouse).connect(read_only=True) as conn:
        return set(conn.execute(f"SELECT account_id, id FROM {get_resource(resource).table}").fetchall())


def child_rows(warehouse: Path, resource: str) -> set[tuple[str, str, str]]:
    """(account_id, parent id, id) of a child table's rows not marked deleted."""
    spec = get_resource(resource)
    column = child_of(spec).parent_column  # type: ignore[union-attr]
    with Warehouse(warehouse).connect(read_only=True) as conn:
        found = conn.execute(f"SELECT account_id, {column}, id FROM {spec.table} WHERE _deleted_at IS NULL")
        return set(found.fetchall())


def expected(emu, resource: str, account: str, since: date) -> set:
    """What the account's `resource` is in the emulator: (account, id), or for a child list
    (account, parent id, id), listed over HTTP as Stripe lists it."""
    child = child_of(get_resource(resource))
    if child is None:
        window = (datetime(since.year, since.month, since.day, tzinfo=UTC), emu.now)
        return {(account, i) for i in emu.listable_ids(resource, *window, account=account)}
    parent = get_resource(child.parent)
    header = None if account == emu.platform_account else account
    found = set()
    for obj in _list(emu, parent.path, dict(parent.list_params), header):
        if obj.get("deleted") or not child.reads(obj):
            continue
        path, params = child.endpoint(obj["id"])
        found |= {(account, obj["id"], c["id"]) for c in _list(emu, path, params, header)}
    return found


def _list(emu, path: str, params: dict, account: str | None) -> list[dict]:
    found, params = [], {"limit": 100, **params}
    headers = {"Authorization": f"Bearer {emu.api_key}"} | ({"Stripe-Account": account} if account else {})
    while True:
        request = urllib.request.Request(f"{emu.url}{path}?{urlencode(params)}", headers=headers)
        with urllib.request.urlopen(request) as response:
            page = json.loads(response.read())
        found += page["data"]
        if not page["has_more"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]


def table_rows(warehouse: Path, resource: str) -> set:
    return child_rows(warehouse, resource) if child_of(get_resource(resource)) else rows(warehouse, resource)

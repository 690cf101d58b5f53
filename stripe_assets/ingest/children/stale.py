"""Which loaded child partitions are out of date: their parents changed since they were read
(a load or Events rewrote parent rows of the partition), or the child's own events since its
last load name one of their parents (a payment method attached to a customer)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from stripe_assets.catalog import StripeResource
from stripe_assets.catalog.child import StripeChild
from stripe_assets.ingest.client import FetchStats, StripePermissionError, StripeReader
from stripe_assets.ingest.pages import PAGE_LIMIT, read_page
from stripe_assets.ingest.warehouse import LOADS_TABLE, Warehouse
from stripe_assets.ingest.warehouse.loads import table_exists

EVENTS_PATH = "/v1/events"
# Events are read from this long before the child's last read began: clocks and event
# delivery are not exact, and reading a parent's children again is harmless.
EVENT_MARGIN_SECONDS = 300


def stale_partitions(
    reader: StripeReader,
    warehouse: Warehouse,
    spec: StripeResource,
    stats: FetchStats | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[str]:
    """The loaded partitions of the child list `spec` declares to read again, oldest first. A
    key that may not read events (HTTP 403) leaves only the parents' changes to go by: `warn`
    says so."""
    resource = spec.name
    assert isinstance(spec, StripeChild), resource
    parent = spec.parent
    if not warehouse.exists():
        return []
    with warehouse.connect(read_only=True) as conn:
        if not table_exists(conn, LOADS_TABLE) or not table_exists(conn, spec.table):
            return []
        rows = conn.execute(
            f"""WITH child AS (SELECT partition, max(loaded_at) AS at FROM {LOADS_TABLE}
                               WHERE resource = ? AND status IN ('loaded', 'rejected') GROUP BY partition),
                     parent AS (SELECT partition, max(loaded_at) AS at FROM {LOADS_TABLE}
                                WHERE resource = ? AND status IN ('loaded', 'changed') GROUP BY partition)
                SELECT child.partition FROM child JOIN parent USING (partition) WHERE parent.at > child.at""",
            [spec.name, parent.name],
        ).fetchall()
        stale = {r[0] for r in rows}
        if spec.child_events:
            since = conn.execute(
                f"SELECT max(observed_at) FROM {LOADS_TABLE} WHERE resource = ? AND status = 'loaded'", [spec.name]
            ).fetchone()
            try:
                named = _parents_named(reader, spec, since[0] if since else None, stats or FetchStats())
            except StripePermissionError as exc:
                named = set()
                if warn is not None:
                    warn(
                        f"{resource}: its events cannot be read ({exc}); only partitions whose "
                        f"{parent.name} changed are read again"
                    )
            if named:
                found = conn.execute(
                    f"""SELECT DISTINCT p._partition FROM {parent.table} p
                        WHERE p.id IN (SELECT unnest(?::VARCHAR[]))
                          AND p._partition IN (SELECT partition FROM {LOADS_TABLE} WHERE resource = ?)""",
                    [sorted(named), spec.name],
                ).fetchall()
                stale |= {r[0] for r in found}
    return sorted(stale)


def _parents_named(reader: StripeReader, spec: StripeChild, since: datetime | None, stats: FetchStats) -> set[str]:
    """The parents the child's events since `since` name (before and after the change)."""
    if since is None:
        return set()
    column = spec.child_of.parent_column
    params: dict = {
        "limit": PAGE_LIMIT,
        "types": list(spec.child_events),
        "created": {"gte": int(since.timestamp()) - EVENT_MARGIN_SECONDS},
    }
    named: set[str] = set()
    while True:
        page = reader.get_list_page(EVENTS_PATH, params, stats)
        data, cursor = read_page(EVENTS_PATH, page, params.get("starting_after"))
        for event in data:
            body = event.get("data") or {}
            for state in (body.get("object"), body.get("previous_attributes")):
                value = state.get(column) if isinstance(state, dict) else None
                value = value.get("id") if isinstance(value, dict) else value
                if isinstance(value, str):
                    named.add(value)
        if cursor is None:
            return named
        params["starting_after"] = cursor

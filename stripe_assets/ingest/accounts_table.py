"""`stripe.accounts`: the platform's connected accounts, one row per account, kept when they leave.

Each refresh writes every account `GET /v1/accounts` lists (type, country, capabilities, whether
charges and payouts are enabled, created) in one transaction. An account no longer listed
deauthorized the platform: its row stays, marked with `deauthorized_at` (the time of its
`account.application.deauthorized` event when the key may read events, else when it was first
found missing); an account listed again is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import pyarrow as pa

from stripe_assets.ingest.accounts import connected_accounts
from stripe_assets.ingest.client import FetchStats, StripePermissionError, StripeReader
from stripe_assets.ingest.warehouse import Warehouse

ACCOUNTS_TABLE = "stripe.accounts"
DEAUTHORIZED = "account.application.deauthorized"
_COLUMNS = {
    "id": "VARCHAR",
    "type": "VARCHAR",
    "country": "VARCHAR",
    "capabilities": "JSON",
    "charges_enabled": "BOOLEAN",
    "payouts_enabled": "BOOLEAN",
    "created": "TIMESTAMPTZ",
    "deauthorized_at": "TIMESTAMPTZ",
    "raw": "JSON",
    "_loaded_at": "TIMESTAMPTZ",
}


@dataclass
class AccountsRefresh:
    listed: int
    deauthorized: list[str]  # newly marked by this refresh
    requests: int


def deauthorizations(reader: StripeReader, stats: FetchStats) -> dict[str, int]:
    """Account -> when it deauthorized the platform, from the platform's events (last 30 days)."""
    found: dict[str, int] = {}
    params: dict[str, object] = {"type": DEAUTHORIZED, "limit": 100}
    try:
        while True:
            page = reader.get_list_page("/v1/events", params, stats)
            data = page.get("data") or []
            for event in data:
                if isinstance(event.get("account"), str):
                    found.setdefault(event["account"], int(event["created"]))
            if not page.get("has_more") or not data:
                return found
            params["starting_after"] = data[-1]["id"]
    except StripePermissionError:  # the key may not read events: marked when found missing
        return found


def refresh_accounts(reader: StripeReader, warehouse: Warehouse) -> AccountsRefresh:
    stats = FetchStats()
    platform = reader.for_account(None)
    listed = list(connected_accounts(platform, stats))
    gone = deauthorizations(platform, stats)
    now = datetime.now(UTC)
    rows = pa.table(
        {
            "id": pa.array([a["id"] for a in listed], pa.string()),
            "type": pa.array([a.get("type") for a in listed], pa.string()),
            "country": pa.array([a.get("country") for a in listed], pa.string()),
            "capabilities": pa.array([orjson.dumps(a.get("capabilities") or {}).decode() for a in listed]),
            "charges_enabled": pa.array([a.get("charges_enabled") for a in listed], pa.bool_()),
            "payouts_enabled": pa.array([a.get("payouts_enabled") for a in listed], pa.bool_()),
            "created": pa.array([a.get("created") for a in listed], pa.int64()).cast(pa.timestamp("s", tz="UTC")),
            "raw": pa.array([orjson.dumps(a).decode() for a in listed]),
        }
    )
    marks = pa.table(
        {
            "id": pa.array(list(gone), pa.string()),
            "gone_at": pa.array(list(gone.values()), pa.int64()).cast(pa.timestamp("s", tz="UTC")),
        }
    )
    with warehouse.connect() as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS stripe")
        body = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())
        conn.execute(f"CREATE TABLE IF NOT EXISTS {ACCOUNTS_TABLE} ({body})")
        conn.execute("BEGIN TRANSACTION")
        conn.register("_listed", rows)
        conn.register("_gone", marks)
        try:
            newly = conn.execute(
                f"""SELECT id FROM {ACCOUNTS_TABLE}
                    WHERE deauthorized_at IS NULL AND id NOT IN (SELECT id FROM _listed) ORDER BY id"""
            ).fetchall()
            conn.execute(
                f"""UPDATE {ACCOUNTS_TABLE} SET deauthorized_at = coalesce(
                        (SELECT gone_at FROM _gone g WHERE g.id = {ACCOUNTS_TABLE}.id), ?::TIMESTAMPTZ)
                    WHERE deauthorized_at IS NULL AND id NOT IN (SELECT id FROM _listed)""",
                [now],
            )
            conn.execute(f"DELETE FROM {ACCOUNTS_TABLE} WHERE id IN (SELECT id FROM _listed)")
            conn.execute(
                f"""INSERT INTO {ACCOUNTS_TABLE} BY NAME
                    SELECT *, NULL::TIMESTAMPTZ AS deauthorized_at, ?::TIMESTAMPTZ AS _loaded_at FROM _listed""",
                [now],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.unregister("_listed")
            conn.unregister("_gone")
    return AccountsRefresh(len(listed), [str(r[0]) for r in newly], stats.requests)

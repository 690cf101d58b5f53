"""Whose objects a load reads: the key's own account and the platform's connected accounts.

The key's own account id comes from `GET /v1/account` (once per reader and the readers made
from it for accounts, i.e. once per run: a process may meet another server at the same address
and key, such as a restarted Stripe double, and rows must carry the account that answered); connected
accounts from `GET /v1/accounts` (every page, on every run, so a newly connected account is
read at once and a deauthorized one is no longer listed). An account is read with the
`Stripe-Account` header by a reader sharing the key's connections and budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.changes.cursor import CURSORS_TABLE
from stripe_assets.ingest.client import FetchStats, StripePermissionError, StripeReader
from stripe_assets.ingest.keys import ACCOUNT_COLUMN
from stripe_assets.ingest.pages import read_page
from stripe_assets.ingest.warehouse.loads import table_exists
from stripe_assets.ingest.warehouse.tables import LOADS_TABLE, table_columns

ACCOUNTS_PATH = "/v1/accounts"
ACCOUNTS_PAGE = 100

def platform_account(reader: StripeReader, stats: FetchStats | None = None) -> str:
    """The id of the account the key belongs to (asked once per reader and its account readers)."""
    known = reader.own_account
    if known.value is not None:
        return known.value
    with known.lock:
        if known.value is None:
            own = reader.for_account(None).get_page("/v1/account", {}, stats or FetchStats())
            account_id = own.get("id")
            if not isinstance(account_id, str) or not account_id.startswith("acct_"):
                raise ValueError(f"GET /v1/account answered without an account id: {account_id!r}")
            known.value = account_id
        return known.value


def connected_accounts(reader: StripeReader, stats: FetchStats | None = None) -> Iterator[dict]:
    """Every connected account `GET /v1/accounts` lists now, newest first."""
    stats = stats if stats is not None else FetchStats()
    platform_reader = reader.for_account(None)
    params: dict[str, object] = {"limit": ACCOUNTS_PAGE}
    while True:
        page = platform_reader.get_list_page(ACCOUNTS_PATH, params, stats)
        data, cursor = read_page(ACCOUNTS_PATH, page, params.get("starting_after"))  # type: ignore[arg-type]
        stats.count_page(len(data))
        yield from data
        if cursor is None:
            return
        params["starting_after"] = cursor


@dataclass
class AccountsToRead:
    """The accounts one run reads, in order: the key's own first (when read), then connected ones."""

    platform: str
    accounts: list[str] = field(default_factory=list)

    def connected(self) -> list[str]:
        return [a for a in self.accounts if a != self.platform]


def accounts_to_read(
    reader: StripeReader, *, own: bool, discover: bool, listed: tuple[str, ...] = (), stats: FetchStats | None = None
) -> AccountsToRead:
    """`own`: the key's account; `discover`: every connected account listed now; `listed`: these ids.

    Reading only the key's own account with a key that may not read it (`GET /v1/account`, 403)
    works as before Connect: its rows keep `account_id` null (`platform` is empty)."""
    try:
        platform = platform_account(reader, stats)
    except StripePermissionError:
        if discover or listed:
            raise
        return AccountsToRead("", [""])
    chosen = [platform] if own else []
    if discover:
        chosen += [a["id"] for a in connected_accounts(reader, stats) if isinstance(a.get("id"), str)]
    chosen += [a for a in listed if a not in chosen]
    return AccountsToRead(platform, list(dict.fromkeys(chosen)))


def loaded_accounts(conn: duckdb.DuckDBPyConnection, spec: StripeResource, platform: str) -> set[str]:
    """The accounts the resource `spec` declares was read for before: a landed load (loads from
    before accounts: the platform's), a change cursor, or rows. Connected accounts land together
    in one write per window, so their change cursors and rows say which of them were read."""
    resource = spec.name
    if not table_exists(conn, LOADS_TABLE):
        return set()
    if ACCOUNT_COLUMN not in table_columns(conn, LOADS_TABLE):
        rows = conn.execute(f"SELECT 1 FROM {LOADS_TABLE} WHERE resource = ? AND status = 'loaded' LIMIT 1", [resource])
        return {platform} if rows.fetchone() else set()
    found = conn.execute(
        f"SELECT DISTINCT coalesce({ACCOUNT_COLUMN}, ?) FROM {LOADS_TABLE} WHERE resource = ? AND status = 'loaded'",
        [platform, resource],
    ).fetchall()
    seen = {str(row[0]) for row in found}
    if table_exists(conn, CURSORS_TABLE) and ACCOUNT_COLUMN in table_columns(conn, CURSORS_TABLE):
        cursors = conn.execute(
            f"SELECT DISTINCT {ACCOUNT_COLUMN} FROM {CURSORS_TABLE} "
            f"WHERE resource = ? AND {ACCOUNT_COLUMN} IS NOT NULL",
            [resource],
        ).fetchall()
        seen |= {str(row[0]) for row in cursors}
    table = spec.table
    if table_exists(conn, table) and ACCOUNT_COLUMN in table_columns(conn, table):
        rows = conn.execute(f"SELECT DISTINCT {ACCOUNT_COLUMN} FROM {table} WHERE {ACCOUNT_COLUMN} IS NOT NULL")
        seen |= {str(row[0]) for row in rows.fetchall()}
    return seen

"""The one place that knows what identifies a row: the Stripe account it belongs to and its id.

Every table (rows, quarantine, history) holds one row per (account_id, id); a load or change
replaces rows of one account only. `account_id` is the account the object was read for: a
connected account's id (`Stripe-Account`), or the platform's own id for its own objects.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

ACCOUNT_COLUMN = "account_id"
KEY_COLUMNS = (ACCOUNT_COLUMN, "id")
# Added to every table of every declared resource, whatever its declaration or mapping says.
ACCOUNT_COLUMNS: dict[str, str] = {ACCOUNT_COLUMN: "VARCHAR"}


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def account_filter(accounts: str | Sequence[str] | None, alias: str | None = None) -> str:
    """SQL selecting the rows of one account or several (`true` for None: every row)."""
    if accounts is None:
        return "true"
    column = f"{alias}.{ACCOUNT_COLUMN}" if alias else ACCOUNT_COLUMN
    if isinstance(accounts, str):
        return f"{column} = {sql_text(accounts)}"
    if not accounts:
        return "false"
    return f"{column} IN ({', '.join(map(sql_text, accounts))})"


def with_account(rows: pa.Table, account: str | None) -> pa.Table:
    """`rows` with their `account_id` (null for None: the key's own, adopted by its next load)."""
    if ACCOUNT_COLUMN in rows.column_names:
        return rows
    return rows.append_column(ACCOUNT_COLUMN, pa.repeat(pa.scalar(account, pa.string()), rows.num_rows))

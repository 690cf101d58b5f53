"""The warehouse's side: its balance transactions summed per currency, and which time it covers.

Payouts (reporting categories `payout` and `payout_reversal`) are summed apart from the rest of
the activity, as the balance summary report does. Only the `payments` balance counts: the other
balance types (issuing, prefunding) are not part of `/v1/balance` available and pending.
Only the platform's own transactions count (`account_id` its own, or null: loaded before accounts
were tracked): a connected account's balance is its own, not the platform's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from stripe_assets.ingest.keys import sql_text

TABLE = "stripe.balance_transactions"
RESOURCE = "balance_transactions"
PAYOUT_CATEGORIES = ("payout", "payout_reversal")
_PAYMENTS = "coalesce(json_extract_string(raw, '$.balance_type'), 'payments') = 'payments'"


def own_rows(platform: str | None) -> str:
    """SQL selecting the platform's own rows (every row when its id is unknown)."""
    if platform is None:
        return "true"
    return f"coalesce(account_id, {sql_text(platform)}) = {sql_text(platform)}"


@dataclass(frozen=True)
class Totals:
    activity: int = 0
    payouts: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.activity + other.activity, self.payouts + other.payouts)


def interval_totals(
    conn: duckdb.DuckDBPyConnection, start: int, end: int, platform: str | None = None
) -> dict[str, Totals]:
    """Currency -> activity and payouts of the transactions created in [start, end)."""
    rows = conn.execute(
        f"""
        SELECT currency,
               coalesce(sum(net) FILTER (WHERE reporting_category NOT IN {PAYOUT_CATEGORIES}), 0),
               coalesce(sum(net) FILTER (WHERE reporting_category IN {PAYOUT_CATEGORIES}), 0)
        FROM {TABLE}
        WHERE created >= to_timestamp(?) AND created < to_timestamp(?) AND _deleted_at IS NULL AND {_PAYMENTS}
          AND {own_rows(platform)}
        GROUP BY currency
        """,
        [start, end],
    ).fetchall()
    return {currency: Totals(int(activity), int(payouts)) for currency, activity, payouts in rows}


def net_totals(conn: duckdb.DuckDBPyConnection, platform: str | None = None) -> dict[str, int]:
    """Currency -> Σ net of every loaded transaction: the balance, when the history is complete."""
    rows = conn.execute(
        f"SELECT currency, sum(net) FROM {TABLE} WHERE _deleted_at IS NULL AND {_PAYMENTS} "
        f"AND {own_rows(platform)} GROUP BY currency"
    ).fetchall()
    totals: dict[str, int] = defaultdict(int)
    for currency, net in rows:
        totals[currency] += int(net)
    return dict(totals)


def other_accounts_rows(conn: duckdb.DuckDBPyConnection, platform: str | None) -> int:
    """How many loaded transactions belong to connected accounts (left out of the comparison)."""
    if platform is None:
        return 0
    found = conn.execute(f"SELECT count(*) FROM {TABLE} WHERE NOT ({own_rows(platform)})").fetchone()
    return int(found[0]) if found else 0


def loaded_segments(conn: duckdb.DuckDBPyConnection) -> list[tuple[int, int]]:
    """The time the loads cover, as contiguous [start, end) spans in Unix seconds, oldest first."""
    rows = conn.execute(
        """
        SELECT DISTINCT epoch(window_start)::BIGINT, epoch(window_end)::BIGINT FROM stripe_meta.loads
        WHERE resource = ? AND status = 'loaded' ORDER BY 1
        """,
        [RESOURCE],
    ).fetchall()
    segments: list[tuple[int, int]] = []
    for start, end in rows:
        if segments and start <= segments[-1][1]:
            segments[-1] = (segments[-1][0], max(segments[-1][1], end))
        else:
            segments.append((start, end))
    return segments


def has_table(conn: duckdb.DuckDBPyConnection) -> bool:
    found = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'stripe' AND table_name = ?",
        [RESOURCE],
    ).fetchone()
    loads = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'stripe_meta' AND table_name = 'loads'"
    ).fetchone()
    return bool(found and found[0]) and bool(loads and loads[0])


def day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()

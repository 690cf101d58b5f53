"""The models computed in plain Python from the emulator's objects, read over HTTP."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import requests

from stripe_assets_emulator import RunningEmulator

PAYOUTS = ("payout", "payout_reversal")
MONTHLY = {"day": (365, 12), "week": (52, 12), "month": (1, 1), "year": (1, 12)}


def fetch(emu: RunningEmulator, path: str, **params: Any) -> list[dict]:
    """Every object of a list endpoint, paged as Stripe's lists are."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.api_key}"
    found: list[dict] = []
    while True:
        page = session.get(emu.url + path, params={"limit": 100, **params}, timeout=30).json()
        found += page["data"]
        if not page["has_more"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]


def objects(emu: RunningEmulator) -> dict[str, list[dict]]:
    return {
        "balance_transactions": fetch(emu, "/v1/balance_transactions"),
        "charges": fetch(emu, "/v1/charges"),
        "refunds": fetch(emu, "/v1/refunds"),
        "disputes": fetch(emu, "/v1/disputes"),
        "payouts": fetch(emu, "/v1/payouts"),
        "customers": fetch(emu, "/v1/customers"),
        "subscriptions": fetch(emu, "/v1/subscriptions", status="all"),
        "transfers": fetch(emu, "/v1/transfers"),
        "application_fees": fetch(emu, "/v1/application_fees"),
        # What each automatic payout paid out, as Stripe answers `payout=` (automatic payouts only).
        "paid_out": [
            {"payout": p["id"], "balance_transaction": t["id"]}
            for p in fetch(emu, "/v1/payouts") if p["automatic"]
            for t in fetch(emu, "/v1/balance_transactions", payout=p["id"])
        ],
    }


def utc_day(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


def daily_overview(o: dict[str, list[dict]]) -> dict[tuple, dict[str, int]]:
    names = ("charges_succeeded", "charges_failed", "gross_charges", "refunds", "disputes", "other_activity",
             "fees", "net_activity", "payouts", "balance_transactions")
    rows: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(names, 0))
    for t in o["balance_transactions"]:
        row = rows[(utc_day(t["created"]), t["currency"])]
        row["balance_transactions"] += 1
        category = t["reporting_category"]
        if category in PAYOUTS:
            row["payouts"] -= t["net"]
            continue
        column = {"charge": "gross_charges", "refund": "refunds", "dispute": "disputes"}.get(category, "other_activity")
        row[column] += t["amount"] if column in ("gross_charges", "other_activity") else -t["amount"]
        row["fees"] += t["fee"]
        row["net_activity"] += t["net"]
    for c in o["charges"]:
        row = rows[(utc_day(c["created"]), c["currency"])]
        if c["status"] in ("succeeded", "failed"):
            row[f"charges_{c['status']}"] += 1
    return dict(rows)


def customer_overview(o: dict[str, list[dict]]) -> dict[tuple, dict[str, Any]]:
    paid: dict[tuple, dict[str, Any]] = {}
    for c in o["charges"]:
        if not c["customer"]:
            continue
        row = paid.setdefault((c["customer"], c["currency"]), {
            "charges_succeeded": 0, "charges_failed": 0, "amount_paid": 0, "amount_refunded": 0,
            "first_payment_at": None, "last_payment_at": None,
        })
        if c["status"] == "failed":
            row["charges_failed"] += 1
        if c["status"] != "succeeded":
            continue
        row["charges_succeeded"] += 1
        row["amount_paid"] += c["amount_captured"]
        row["amount_refunded"] += c["amount_refunded"]
        row["first_payment_at"] = min(filter(None, (row["first_payment_at"], c["created"])))
        row["last_payment_at"] = max(filter(None, (row["last_payment_at"], c["created"])))
    subscriptions: dict[str, list[str]] = defaultdict(list)
    for s in o["subscriptions"]:
        subscriptions[s["customer"]].append(s["status"])
    rows: dict[tuple, dict[str, Any]] = {}
    for customer in o["customers"]:
        mine: list[tuple[str | None, dict[str, Any] | None]] = [
            (currency, found) for (cid, currency), found in paid.items() if cid == customer["id"]
        ] or [(None, None)]
        statuses = subscriptions.get(customer["id"], [])
        for currency, paid_row in mine:
            figures = paid_row or {"charges_succeeded": 0, "charges_failed": 0, "amount_paid": 0, "amount_refunded": 0,
                              "first_payment_at": None, "last_payment_at": None}
            rows[(customer["id"], currency)] = {
                "email": customer["email"],
                "name": customer["name"],
                "created": customer["created"],
                "deleted": False,
                **figures,
                "net_paid": figures["amount_paid"] - figures["amount_refunded"],
                "subscriptions": len(statuses),
                "active_subscriptions": sum(s in ("active", "trialing", "past_due") for s in statuses),
            }
    return rows


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def _next_month(month: datetime) -> datetime:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def subscription_item_mrr(o: dict[str, list[dict]], as_of: int) -> dict[tuple, dict[str, Any]]:
    """MRR at each month's end (or `as_of`, the newest subscription state, for the last month)."""
    items = []
    for s in o["subscriptions"]:
        if s["status"] in ("incomplete", "incomplete_expired"):
            continue
        paying_from = max(s["start_date"], s["trial_end"] or s["start_date"])
        for item in s["items"]["data"]:
            price = item["price"]
            if price["unit_amount"] is None:
                continue
            numerator, denominator = MONTHLY[price["recurring"]["interval"]]
            count = price["recurring"]["interval_count"] or 1
            quantity = item["quantity"] if item["quantity"] is not None else 1
            # Half up, in integers, as a currency's minor unit is rounded.
            mrr = (2 * price["unit_amount"] * quantity * numerator + denominator * count) // (2 * denominator * count)
            items.append((item, s, price, paying_from, mrr))
    rows: dict[tuple, dict[str, Any]] = {}
    last = _month_start(utc_day(as_of))
    for item, s, price, paying_from, item_mrr in items:
        month, previous, best = _month_start(utc_day(paying_from)), 0, 0
        while month <= last:
            snapshot = min(_next_month(month).timestamp(), as_of)
            ended = s["ended_at"]
            mrr = item_mrr if paying_from <= snapshot and (ended is None or ended > snapshot) else 0
            if mrr or previous:
                if previous == 0 and mrr > 0:
                    movement = "new" if best == 0 else "reactivation"
                elif previous > 0 and mrr == 0:
                    movement = "churn"
                else:
                    movement = "expansion" if mrr > previous else "contraction" if mrr < previous else "unchanged"
                rows[(month.date(), item["id"])] = {
                    "subscription_id": s["id"], "customer_id": s["customer"], "price_id": price["id"],
                    "product_id": price["product"], "currency": price["currency"], "mrr": mrr,
                    "previous_mrr": previous, "mrr_change": mrr - previous, "movement": movement,
                }
            best = max(best, mrr)
            previous = mrr
            month = _next_month(month)
    return rows


def balance_transactions_enriched(o: dict[str, list[dict]]) -> dict[str, dict[str, Any]]:
    charges = {c["id"]: c for c in o["charges"]}
    refunds = {r["id"]: r for r in o["refunds"]}
    disputes = {d["id"]: d for d in o["disputes"]}
    payouts = {p["id"]: p for p in o["payouts"]}
    paid_by = {link["balance_transaction"]: link["payout"] for link in o["paid_out"]}
    # Money moved to or from connected accounts: transfers and their reversals, application fees
    # and their refunds (the reversals and refunds are embedded in their transfer or fee).
    moved_by: dict[str, str] = {}
    for tr in o["transfers"]:
        moved_by[tr["id"]] = "transfer"
        moved_by.update({r["id"]: "transfer_reversal" for r in tr["reversals"]["data"]})
    for fee in o["application_fees"]:
        moved_by[fee["id"]] = "application_fee"
        moved_by.update({r["id"]: "application_fee_refund" for r in fee["refunds"]["data"]})
    rows = {}
    for t in o["balance_transactions"]:
        source = t["source"]
        kind = ("charge" if source in charges else "refund" if source in refunds
                else "dispute" if source in disputes else "payout" if source in payouts
                else moved_by.get(source))
        charge_id = source if kind == "charge" else refunds[source]["charge"] if kind == "refund" else (
            disputes[source]["charge"] if kind == "dispute" else None)
        charge = charges.get(charge_id) if charge_id else None
        payout_id = source if kind == "payout" else paid_by.get(t["id"])
        payout = payouts.get(payout_id) if payout_id else None
        rows[t["id"]] = {
            "created": t["created"], "available_on": t["available_on"], "currency": t["currency"],
            "type": t["type"], "reporting_category": t["reporting_category"], "status": t["status"],
            "amount": t["amount"], "fee": t["fee"], "net": t["net"], "source_id": source, "source_object": kind,
            "charge_id": charge_id, "payment_intent_id": charge["payment_intent"] if charge else None,
            "customer_id": charge["customer"] if charge else None, "payout_id": payout_id,
            "payout_status": payout["status"] if payout else None,
            "payout_arrival_date": payout["arrival_date"] if payout else None,
        }
    return rows


def payout_reconciliation(o: dict[str, list[dict]], enriched: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    rows = {}
    for p in o["payouts"]:
        mine = [t for t in enriched.values() if t["payout_id"] == p["id"] and t["reporting_category"] not in PAYOUTS]
        net = sum(t["net"] for t in mine)
        by: dict[str, int] = defaultdict(int)
        for t in mine:
            by[t["reporting_category"]] += t["amount"]
        rows[p["id"]] = {
            "created": p["created"], "arrival_date": p["arrival_date"], "currency": p["currency"],
            "status": p["status"], "automatic": p["automatic"], "amount": p["amount"],
            "balance_transactions": len(mine), "gross_charges": by.pop("charge", 0), "refunds": -by.pop("refund", 0),
            "disputes": -by.pop("dispute", 0), "other_activity": sum(by.values()),
            "fees": sum(t["fee"] for t in mine), "net": net, "unexplained": p["amount"] - net,
        }
    return rows

"""The balance summary report's CSV (`balance.summary.1`) as amounts in minor units.

Columns `category, description, net_amount, currency`; categories `starting_balance`,
`activity`, `payouts`, `ending_balance`, amounts in major units of the currency (dollars, yen).
Payouts come out negative (what they took from the balance), whichever sign the report shows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Stripe's zero-decimal and three-decimal currencies; every other has two decimals.
ZERO_DECIMAL = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
CATEGORIES = ("starting_balance", "activity", "payouts", "ending_balance")


class SummaryError(ValueError):
    pass


@dataclass(frozen=True)
class BalanceSummary:
    currency: str
    starting_balance: int
    activity: int
    payouts: int
    ending_balance: int


def exponent(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2


def minor_units(value: str, currency: str) -> int:
    try:
        amount = Decimal(value.strip()).scaleb(exponent(currency))
    except InvalidOperation:
        raise SummaryError(f"net_amount {value!r} of {currency} is not a number") from None
    if amount != amount.to_integral_value():
        raise SummaryError(f"net_amount {value!r} of {currency} has more decimals than the currency")
    return int(amount)


def major_units(amount: int, currency: str) -> str:
    places = exponent(currency)
    return f"{Decimal(amount).scaleb(-places):.{places}f}"


def parse_summary(data: bytes) -> dict[str, BalanceSummary]:
    """Currency -> its four figures. A currency missing a category has it as zero."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    missing = {"category", "net_amount", "currency"} - set(reader.fieldnames or ())
    if missing:
        raise SummaryError(f"the balance summary has no column {', '.join(sorted(missing))}")
    figures: dict[str, dict[str, int]] = {}
    for row in reader:
        currency = row["currency"].strip().lower()
        category = row["category"].strip()
        if category not in CATEGORIES:
            continue  # a category Stripe adds later: not part of the comparison
        per = figures.setdefault(currency, dict.fromkeys(CATEGORIES, 0))
        per[category] += minor_units(row["net_amount"], currency)
    for per in figures.values():
        # Payouts as the balance moved (negative, as their balance transactions' net), also when
        # a report shows them as the positive amount subtracted ("Less payouts"): the ending
        # balance tells which.
        start, moved, paid, end = (per[c] for c in CATEGORIES)
        if paid and start + moved - paid == end != start + moved + paid:
            per["payouts"] = -paid
    return {currency: BalanceSummary(currency, **per) for currency, per in figures.items()}

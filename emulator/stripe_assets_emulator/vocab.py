"""Value pools the synthetic objects draw from: currencies, cards, people, places, products."""

from __future__ import annotations

import unicodedata
from typing import NamedTuple


class Currency(NamedTuple):
    code: str
    exponent: int  # digits after the decimal point: amounts are in 10**-exponent units
    per_usd: float  # rough exchange rate, so amounts look plausible in each currency
    country: str
    weight: int
    fee_percent: float  # Stripe's card processing fee: a percentage ...
    fee_fixed: int  # ... plus a fixed amount in minor units


# JPY is zero-decimal: ¥1,500 is `amount: 1500`, while $15.00 is `amount: 1500` cents.
CURRENCIES: tuple[Currency, ...] = (
    Currency("usd", 2, 1.0, "US", 55, 2.9, 30),
    Currency("eur", 2, 0.92, "DE", 18, 1.5, 25),
    Currency("gbp", 2, 0.79, "GB", 10, 1.5, 20),
    Currency("cad", 2, 1.37, "CA", 5, 2.9, 30),
    Currency("aud", 2, 1.52, "AU", 4, 1.75, 30),
    Currency("jpy", 0, 150.0, "JP", 8, 3.6, 0),
)
CURRENCY_WEIGHTS = tuple(c.weight for c in CURRENCIES)

# Prices in US dollars that products are commonly sold at.
PRICE_POINTS_USD = (5, 9, 9.99, 12, 15, 19, 19.99, 25, 29, 39, 49, 49.99, 79, 99, 129, 199, 249, 499)


def processing_fee(amount: int, currency: Currency) -> int:
    return round(amount * currency.fee_percent / 100) + currency.fee_fixed


def minor_units(usd: float, currency: Currency) -> int:
    """A US-dollar price point as an amount in the currency's smallest unit, rounded nicely."""
    major = usd * currency.per_usd
    if currency.exponent == 0:
        return max(50, round(major / 10.0) * 10)  # ¥1,490 rather than ¥1,487
    cents = round(major * 100)
    return max(50, cents if usd != int(usd) else round(major) * 100)


class Card(NamedTuple):
    brand: str
    last4: str
    funding: str
    weight: int


# Stripe's test card numbers, by brand.
CARDS: tuple[Card, ...] = (
    Card("visa", "4242", "credit", 40),
    Card("visa", "5556", "debit", 12),
    Card("mastercard", "4444", "credit", 20),
    Card("mastercard", "8210", "debit", 6),
    Card("amex", "8431", "credit", 10),
    Card("discover", "1117", "credit", 4),
    Card("jcb", "0505", "credit", 3),
    Card("unionpay", "0005", "debit", 2),
    Card("visa", "5100", "prepaid", 3),
)
CARD_WEIGHTS = tuple(c.weight for c in CARDS)


class Decline(NamedTuple):
    failure_code: str
    failure_message: str
    outcome_reason: str
    network_status: str
    outcome_type: str
    seller_message: str


DECLINES: tuple[Decline, ...] = (
    Decline(
        "card_declined",
        "Your card was declined.",
        "generic_decline",
        "declined_by_network",
        "issuer_declined",
        "The bank did not return any further details with this decline.",
    ),
    Decline(
        "card_declined",
        "Your card has insufficient funds.",
        "insufficient_funds",
        "declined_by_network",
        "issuer_declined",
        "The bank returned the decline code `insufficient_funds`.",
    ),
    Decline(
        "expired_card",
        "Your card has expired.",
        "expired_card",
        "declined_by_network",
        "issuer_declined",
        "The bank returned the decline code `expired_card`.",
    ),
    Decline(
        "incorrect_cvc",
        "Your card's security code is incorrect.",
        "incorrect_cvc",
        "declined_by_network",
        "issuer_declined",
        "The bank returned the decline code `incorrect_cvc`.",
    ),
    Decline(
        "card_declined",
        "Your card was declined.",
        "highest_risk_level",
        "not_sent_to_network",
        "blocked",
        "Stripe blocked this payment as too risky.",
    ),
)

FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "Oliver",
    "Sophia",
    "Elijah",
    "Mia",
    "Lucas",
    "Isabella",
    "Mateo",
    "Ava",
    "Hiro",
    "Yuki",
    "Chloe",
    "Lena",
    "Jonas",
    "Marie",
    "Pierre",
    "Aisha",
    "Omar",
    "Priya",
    "Arjun",
    "Sofia",
    "Diego",
    "Grace",
    "Ethan",
    "Zoe",
    "Felix",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martin",
    "Müller",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Tanaka",
    "Sato",
    "Kim",
    "Nguyen",
    "Patel",
    "Singh",
    "Silva",
    "Santos",
    "Lee",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Lopez",
    "Hill",
    "Scott",
)


def ascii_name(name: str) -> str:
    """`Müller` -> `muller`, for email addresses."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


EMAIL_FIRST = {name: ascii_name(name) for name in FIRST_NAMES}
EMAIL_LAST = {name: ascii_name(name) for name in LAST_NAMES}
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example.com")


class Place(NamedTuple):
    city: str
    state: str | None
    postal_code: str
    country: str


PLACES: dict[str, tuple[Place, ...]] = {
    "US": (
        Place("San Francisco", "CA", "94107", "US"),
        Place("New York", "NY", "10001", "US"),
        Place("Austin", "TX", "78701", "US"),
        Place("Seattle", "WA", "98101", "US"),
        Place("Chicago", "IL", "60601", "US"),
    ),
    "DE": (Place("Berlin", None, "10115", "DE"), Place("München", None, "80331", "DE")),
    "GB": (Place("London", None, "EC1A 1BB", "GB"), Place("Manchester", None, "M1 1AE", "GB")),
    "CA": (Place("Toronto", "ON", "M5H 2N2", "CA"), Place("Vancouver", "BC", "V6B 1A1", "CA")),
    "AU": (Place("Sydney", "NSW", "2000", "AU"), Place("Melbourne", "VIC", "3000", "AU")),
    "JP": (Place("Tokyo", None, "100-0001", "JP"), Place("Osaka", None, "530-0001", "JP")),
}
STREETS = ("Main St", "Market St", "Oak Ave", "High St", "King St", "Station Rd", "Park Ln")

PRODUCT_NAMES = (
    "Starter",
    "Basic",
    "Pro",
    "Team",
    "Business",
    "Enterprise",
    "Premium",
    "Plus",
    "Support",
    "Storage add-on",
    "Seats",
    "Onboarding",
    "API credits",
    "Analytics",
    "Priority support",
)

CHARGE_DESCRIPTIONS = (
    "Subscription creation",
    "Subscription update",
    "Payment for Invoice",
    None,
    None,
    "Order payment",
    "One-time purchase",
)

"""Valid records of checkout sessions, early fraud warnings, tax rates, promotion codes and invoice items."""

from __future__ import annotations

from stripe_assets_emulator.generators.checkout_sessions import new_session
from stripe_assets_tests.ingest.validation.samples import CREATED, _suffix


def checkout_session(n: int = 0) -> dict:
    """Completed sessions of each mode in turn, every fourth one still open."""
    mode = ("payment", "subscription", "setup")[n % 3]
    amount = None if mode == "setup" else 1000 + n
    session = new_session(f"cs_test_{_suffix(n, 58)}", mode, CREATED + n, amount, None if amount is None else "usd")
    if n % 4 == 3:
        return session
    field, prefix = {"payment": ("payment_intent", "pi_"), "subscription": ("subscription", "sub_"),
                     "setup": ("setup_intent", "seti_")}[mode]
    session.update(
        status="complete",
        url=None,
        customer=f"cus_{_suffix(n + 2)}",
        customer_details={
            "address": {"city": "Berlin", "country": "DE", "line1": "Hauptstr. 1", "line2": None,
                        "postal_code": "10115", "state": None},
            "business_name": None, "email": f"buyer{n}@example.com", "individual_name": None,
            "name": "Erika Mustermann", "phone": None, "tax_exempt": "none", "tax_ids": [],
        },
        payment_status="no_payment_required" if mode == "setup" else "paid",
        **{field: f"{prefix}{_suffix(n + 1)}"},
    )
    if mode == "subscription":
        session["invoice"] = f"in_{_suffix(n + 3)}"
    return session


def early_fraud_warning(n: int = 0) -> dict:
    return {
        "id": f"issfr_{_suffix(n)}",
        "object": "radar.early_fraud_warning",
        "actionable": n % 3 != 2,
        "charge": f"ch_{_suffix(n + 1)}",
        "created": CREATED + n,
        "fraud_type": ("unauthorized_use_of_card", "made_with_stolen_card", "misc")[n % 3],
        "livemode": False,
        "payment_intent": f"pi_{_suffix(n + 2)}",
    }


def tax_rate(n: int = 0) -> dict:
    country, state, percentage, kind = (("DE", None, 19.0, "vat"), ("US", "NY", 4.0, "sales_tax"))[n % 2]
    return {
        "id": f"txr_{_suffix(n)}",
        "object": "tax_rate",
        "active": n % 5 != 4,
        "country": country,
        "created": CREATED + n,
        "description": f"{kind} {country}",
        "display_name": "VAT" if kind == "vat" else "Sales Tax",
        "effective_percentage": None,
        "flat_amount": None,
        "inclusive": kind == "vat",
        "jurisdiction": f"{country} - {state}" if state else country,
        "jurisdiction_level": None,
        "livemode": False,
        "metadata": {},
        "percentage": percentage,
        "rate_type": None,
        "state": state,
        "tax_type": kind,
    }


def promotion_code(n: int = 0) -> dict:
    limited = n % 3 == 0
    return {
        "id": f"promo_{_suffix(n)}",
        "object": "promotion_code",
        "active": n % 4 != 3,
        "code": f"SPRING{n:02d}",
        "created": CREATED + n,
        "customer": None,
        "customer_account": None,
        "expires_at": CREATED + n + 30 * 86400 if limited else None,
        "livemode": False,
        "max_redemptions": 50 if limited else None,
        "metadata": {},
        "promotion": {"coupon": _suffix(n + 1, 8), "type": "coupon"},
        "restrictions": {"currency_options": {}, "first_time_transaction": n % 2 == 0, "minimum_amount": None,
                         "minimum_amount_currency": None},
        "times_redeemed": n % 7,
    }


def invoice_item(n: int = 0) -> dict:
    """Pending items, every third one on an invoice already; the creation time is `date`."""
    quantity = 1 + n % 4
    return {
        "id": f"ii_{_suffix(n)}",
        "object": "invoiceitem",
        "amount": 1500 * quantity,
        "currency": "usd",
        "customer": f"cus_{_suffix(n + 1)}",
        "customer_account": None,
        "date": CREATED + n,
        "description": "Setup fee",
        "discountable": True,
        "discounts": [],
        "invoice": f"in_{_suffix(n + 2)}" if n % 3 == 2 else None,
        "livemode": False,
        "metadata": {},
        "net_amount": 1500 * quantity,
        "parent": None,
        "period": {"end": CREATED + n, "start": CREATED + n},
        "pricing": {
            "price_details": {"price": f"price_{_suffix(n + 3)}", "product": f"prod_{_suffix(n + 4)}"},
            "type": "price_details",
            "unit_amount_decimal": "1500",
        },
        "proration": False,
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "tax_rates": [],
        "test_clock": None,
    }

"""Realistic child list objects: an invoice's line, a subscription's item, a payout's balance
transaction and a customer's card, each as its parent's sample embeds or Stripe lists it."""

from __future__ import annotations

import copy

from stripe_assets_tests.ingest.validation import samples


def invoice_line_item(n: int = 0) -> dict:
    return copy.deepcopy(samples.invoice(n)["lines"]["data"][0])


def credit_note_line_item(n: int = 0) -> dict:
    from stripe_assets_tests.ingest.validation import samples_more

    return copy.deepcopy(samples_more.credit_note(n)["lines"]["data"][0])


def subscription_item(n: int = 0) -> dict:
    return copy.deepcopy(samples.subscription(n)["items"]["data"][0])


def payout_balance_transaction(n: int = 0) -> dict:
    return samples.balance_transaction(n)


def payment_method(n: int = 0) -> dict:
    return {
        "id": f"pm_{samples._suffix(n + 40)}",
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {
                "city": "Lisbon", "country": "PT", "line1": "Rua Augusta 12", "line2": None,
                "postal_code": "1100-053", "state": None,
            },
            "email": f"customer{n}@example.com", "name": "Ana Silva", "phone": None, "tax_id": None,
        },
        "card": {
            "brand": "visa",
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "PT",
            "display_brand": "visa",
            "exp_month": 1 + n % 12,
            "exp_year": 2028,
            "fingerprint": samples._suffix(n + 41, 16),
            "funding": "credit",
            "generated_from": None,
            "last4": f"{4242 + n:04d}"[-4:],
            "networks": {"available": ["visa"], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": samples.CREATED + n,
        "customer": f"cus_{samples._suffix(n + 2)}",
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def checkout_session_line_item(n: int = 0) -> dict:
    price = samples.BUILDERS["prices"](n)
    quantity = 1 + n % 3
    return {
        "id": f"li_{samples._suffix(n + 50)}",
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": price["unit_amount"] * quantity,
        "amount_tax": 0,
        "amount_total": price["unit_amount"] * quantity,
        "currency": price["currency"],
        "description": "Pro plan",
        "metadata": {},
        "price": price,
        "quantity": quantity,
    }


BUILDERS = {
    "invoice_line_items": invoice_line_item,
    "credit_note_line_items": credit_note_line_item,
    "checkout_session_line_items": checkout_session_line_item,
    "subscription_items": subscription_item,
    "payout_balance_transactions": payout_balance_transaction,
    "payment_methods": payment_method,
}

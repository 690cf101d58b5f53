"""Realistic Stripe objects of each resource, shaped like the API's responses at the pinned
version (every one passes `stripe_schema.deep_errors`), for building valid and broken batches."""

from __future__ import annotations

import copy
import random
import string
from collections.abc import Callable

CREATED = 1_790_985_600  # 2026-10-03T00:00:00Z


def _suffix(n: int, width: int = 24) -> str:
    rng = random.Random(n)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(width))


def charge(n: int = 0) -> dict:
    amount = 1000 + 25 * (n % 40)
    return {
        "id": f"ch_{_suffix(n)}",
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": f"txn_{_suffix(n + 1)}",
        "billing_details": {
            "address": {
                "city": "Lisbon", "country": "PT", "line1": "Rua Augusta 12", "line2": None,
                "postal_code": "1100-053", "state": None,
            },
            "email": f"customer{n}@example.com",
            "name": "Ana Silva",
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "EXAMPLE SAAS",
        "captured": True,
        "created": CREATED + n,
        "currency": "eur",
        "customer": f"cus_{_suffix(n + 2)}",
        "description": "Subscription update",
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": {"order_id": str(6735 + n)},
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None, "network_advice_code": None, "network_decline_code": None,
            "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
            "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized",
        },
        "paid": True,
        "payment_intent": f"pi_{_suffix(n + 3)}",
        "payment_method": f"pm_{_suffix(n + 4)}",
        "payment_method_details": {
            "card": {
                "amount_authorized": amount, "brand": "visa", "country": "PT", "exp_month": 8,
                "exp_year": 2029, "fingerprint": "Xt5EWLLDS7FJjR1c", "funding": "credit",
                "last4": "4242", "network": "visa", "three_d_secure": None, "wallet": None,
            },
            "type": "card",
        },
        "radar_options": {},
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": "https://pay.stripe.com/receipts/payment/CAcaFwoVYWNjdF8x",
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def subscription(n: int = 0) -> dict:
    sub_id = f"sub_{_suffix(n)}"
    start = CREATED + n
    item = {
        "id": f"si_{_suffix(n + 1)}", "object": "subscription_item", "created": start,
        "current_period_start": start, "current_period_end": start + 30 * 86400, "discounts": [],
        "metadata": {}, "plan": {"id": "price_1MowQULkdIwHu7ixraBm864M", "object": "plan"},
        "price": {"id": "price_1MowQULkdIwHu7ixraBm864M", "object": "price"}, "quantity": 1,
        "subscription": sub_id, "tax_rates": [],
    }
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": start,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": start,
        "currency": "usd",
        "customer": f"cus_{_suffix(n + 2)}",
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {"object": "list", "data": [item], "has_more": False,
                  "url": f"/v1/subscription_items?subscription={sub_id}"},
        "latest_invoice": f"in_{_suffix(n + 3)}",
        "livemode": False,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": None,
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": start,
        "status": "active",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def refund(n: int = 0) -> dict:
    return {
        "id": f"re_{_suffix(n)}",
        "object": "refund",
        "amount": 500 + n % 7,
        "balance_transaction": f"txn_{_suffix(n + 1)}",
        "charge": f"ch_{_suffix(n + 2)}",
        "created": CREATED + n,
        "currency": "usd",
        "description": None,
        "destination_details": None,
        "metadata": {},
        "payment_intent": f"pi_{_suffix(n + 3)}",
        "reason": "requested_by_customer",
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def balance_transaction(n: int = 0) -> dict:
    amount, fee = 2000 + n, 88
    return {
        "id": f"txn_{_suffix(n)}",
        "object": "balance_transaction",
        "amount": amount,
        "available_on": CREATED + 2 * 86400,
        "balance_type": "payments",
        "created": CREATED + n,
        "currency": "usd",
        "description": "Payment for invoice",
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [{"amount": fee, "application": None, "currency": "usd",
                         "description": "Stripe processing fees", "type": "stripe_fee"}],
        "net": amount - fee,
        "reporting_category": "charge",
        "source": f"ch_{_suffix(n + 1)}",
        "status": "pending",
        "type": "charge",
    }


def customer(n: int = 0) -> dict:
    return {
        "id": f"cus_{_suffix(n)}",
        "object": "customer",
        "address": {"city": "Berlin", "country": "DE", "line1": "Unter den Linden 5", "line2": None,
                    "postal_code": "10117", "state": None},
        "balance": 0,
        "created": CREATED + n,
        "currency": "eur",
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": f"jonas{n}@example.com",
        "invoice_prefix": "0759376C",
        "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                             "rendering_options": None},
        "livemode": False,
        "metadata": {},
        "name": "Jonas Weber",
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": ["de"],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def price(n: int = 0) -> dict:
    return {
        "id": f"price_{_suffix(n)}",
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": CREATED + n,
        "currency": "usd",
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": f"prod_{_suffix(n + 1)}",
        "recurring": {"interval": "month", "interval_count": 1, "meter": None,
                      "trial_period_days": None, "usage_type": "licensed"},
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": 1200,
        "unit_amount_decimal": "1200",
    }


def invoice(n: int = 0) -> dict:
    created = CREATED + n
    invoice_id, sub_id = f"in_{_suffix(n)}", f"sub_{_suffix(n + 1)}"
    paid = n % 5 != 4
    amount = 2900 * (1 + n % 3)
    line = {
        "id": f"il_{_suffix(n + 2)}", "object": "line_item", "amount": amount, "currency": "usd",
        "description": "1 × Pro (at $29.00 / month)", "discount_amounts": [], "discountable": True,
        "discounts": [], "invoice": invoice_id, "livemode": False, "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None, "proration": False, "proration_details": None,
                "subscription": sub_id, "subscription_item": f"si_{_suffix(n + 3)}",
            },
            "type": "subscription_item_details",
        },
        "period": {"end": created + 30 * 86400, "start": created},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": "price_1MowQULkdIwHu7ixraBm864M", "product": "prod_NWjs8kKbJWmuuc"},
            "type": "price_details", "unit_amount_decimal": "2900",
        },
        "quantity": 1 + n % 3, "subscription": sub_id, "subtotal": amount, "taxes": [],
    }
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Example SaaS",
        "account_tax_ids": None,
        "amount_due": amount,
        "amount_overpaid": 0,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 1,
        "attempted": True,
        "auto_advance": not paid,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None, "provider": None,
                          "status": None},
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": created,
        "currency": "usd",
        "customer": f"cus_{_suffix(n + 4)}",
        "customer_email": f"customer{n}@example.com",
        "customer_name": "Ana Silva",
        "customer_tax_exempt": "none",
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": created,
        "ending_balance": 0,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_1Example/test_{_suffix(n + 5, 40)}",
        "issuer": {"type": "self"},
        "lines": {"object": "list", "data": [line], "has_more": False, "total_count": 1,
                  "url": f"/v1/invoices/{invoice_id}/lines"},
        "livemode": False,
        "metadata": {},
        "number": f"A1B2C3D4-{n + 1:04d}",
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": sub_id, "subscription_proration_date": None},
            "type": "subscription_details",
        },
        "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        "period_end": created,
        "period_start": created - 30 * 86400,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "starting_balance": 0,
        "status": "paid" if paid else "open",
        "status_transitions": {"finalized_at": created + 3600, "marked_uncollectible_at": None,
                               "paid_at": created + 3601 if paid else None, "voided_at": None},
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "total": amount,
        "total_discount_amounts": [],
        "total_excluding_tax": amount,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": created,
    }


BUILDERS: dict[str, Callable[[int], dict]] = {
    "charges": charge,
    "subscriptions": subscription,
    "refunds": refund,
    "balance_transactions": balance_transaction,
    "customers": customer,
    "prices": price,
    "invoices": invoice,
}


def _more() -> None:
    from stripe_assets_tests.ingest.validation import samples_added, samples_more

    BUILDERS.update({"payment_intents": samples_more.payment_intent, "products": samples_more.product,
                     "payouts": samples_more.payout, "disputes": samples_more.dispute,
                     "coupons": samples_more.coupon, "setup_intents": samples_more.setup_intent,
                     "transfers": samples_more.transfer, "application_fees": samples_more.application_fee,
                     "credit_notes": samples_more.credit_note,
                     "checkout_sessions": samples_added.checkout_session,
                     "early_fraud_warnings": samples_added.early_fraud_warning, "tax_rates": samples_added.tax_rate,
                     "promotion_codes": samples_added.promotion_code,
                     "invoice_items": samples_added.invoice_item})
    from stripe_assets_tests.ingest.validation import samples_children

    BUILDERS.update(samples_children.BUILDERS)


_more()


def batch(resource: str, size: int, start: int = 0) -> list[dict]:
    """`size` distinct valid records of `resource` (independent copies, safe to break)."""
    return [copy.deepcopy(BUILDERS[resource](start + i)) for i in range(size)]

"""Realistic objects of the resources added after the first seven (see `samples.py`)."""

from __future__ import annotations

from stripe_assets_tests.ingest.validation.samples import CREATED, _suffix


def payment_intent(n: int = 0) -> dict:
    amount = 2000 + 50 * (n % 30)
    pi_id = f"pi_{_suffix(n)}"
    succeeded = n % 5 != 4
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": amount if succeeded else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{pi_id}_secret_{_suffix(n + 9, 25)}",
        "confirmation_method": "automatic",
        "created": CREATED + n,
        "currency": "usd",
        "customer": f"cus_{_suffix(n + 2)}",
        "customer_account": None,
        "description": "Subscription creation",
        "excluded_payment_method_types": None,
        "last_payment_error": None if succeeded else {
            "charge": f"ch_{_suffix(n + 1)}", "code": "card_declined", "decline_code": "insufficient_funds",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": "Your card has insufficient funds.", "payment_method_type": "card", "type": "card_error",
        },
        "latest_charge": f"ch_{_suffix(n + 1)}",
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": f"pm_{_suffix(n + 4)}" if succeeded else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {"installments": None, "mandate_options": None, "network": None,
                     "request_three_d_secure": "automatic"},
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if succeeded else "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def product(n: int = 0) -> dict:
    return {
        "id": f"prod_{_suffix(n, 14)}",
        "object": "product",
        "active": n % 7 != 3,
        "created": CREATED + n,
        "default_price": f"price_{_suffix(n + 1)}" if n % 2 else None,
        "description": "Advanced features for growing teams." if n % 3 else None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": "Pro",
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": CREATED + n + 60,
        "url": None,
    }


def payout(n: int = 0) -> dict:
    paid = n % 4 != 1
    return {
        "id": f"po_{_suffix(n)}",
        "object": "payout",
        "amount": 150_000 + 731 * n,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": CREATED + 2 * 86400,
        "automatic": True,
        "balance_transaction": f"txn_{_suffix(n + 1)}",
        "created": CREATED + n,
        "currency": "usd",
        "description": "STRIPE PAYOUT",
        "destination": f"ba_{_suffix(7)}",
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "payout_method": None,
        "reconciliation_status": "completed" if paid else "in_progress",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": "paid" if paid else "in_transit",
        "trace_id": {"status": "supported" if paid else "pending", "value": "T8H2KXQ4LMN0P1R" if paid else None},
        "type": "bank_account",
    }


EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation",
    "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
    "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date",
    "service_documentation", "shipping_address", "shipping_carrier", "shipping_date",
    "shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
)


def dispute(n: int = 0) -> dict:
    amount = 4900 + 100 * (n % 10)
    du_id = f"du_{_suffix(n)}"
    return {
        "id": du_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [{
            "id": f"txn_{_suffix(n + 1)}", "object": "balance_transaction", "amount": -amount,
            "available_on": CREATED + n, "balance_type": "payments", "created": CREATED + n, "currency": "usd",
            "description": f"Chargeback withdrawal for ch_{_suffix(n + 2)}", "exchange_rate": None, "fee": 1500,
            "fee_details": [{"amount": 1500, "application": None, "currency": "usd", "description": "Dispute fee",
                             "type": "stripe_fee"}],
            "net": -amount - 1500, "reporting_category": "dispute", "source": du_id, "status": "available",
            "type": "adjustment",
        }],
        "charge": f"ch_{_suffix(n + 2)}",
        "created": CREATED + n,
        "currency": "usd",
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": CREATED + n + 21 * 86400, "enhanced_eligibility": {}, "has_evidence": False,
            "past_due": False, "submission_count": 0, "submission_method": "not_submitted",
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "network_reason_code": None,
        "payment_intent": f"pi_{_suffix(n + 3)}",
        "payment_method_details": {
            "card": {"brand": "visa", "case_type": "chargeback", "network": "visa", "network_reason_code": None},
            "type": "card",
        },
        "reason": "fraudulent",
        "status": "needs_response" if n % 3 else "under_review",
    }


def coupon(n: int = 0) -> dict:
    percent = n % 3 != 0
    return {
        "id": f"{_suffix(n, 8).upper()}",
        "object": "coupon",
        "amount_off": None if percent else 1000,
        "created": CREATED + n,
        "currency": None if percent else "usd",
        "duration": "repeating" if n % 2 else "once",
        "duration_in_months": 3 if n % 2 else None,
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "name": "25% off" if percent else "$10 off",
        "percent_off": 25.0 if percent else None,
        "redeem_by": None,
        "times_redeemed": n % 7,
        "valid": True,
    }


def setup_intent(n: int = 0) -> dict:
    seti_id = f"seti_{_suffix(n)}"
    succeeded = n % 4 != 3
    return {
        "id": seti_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": f"{seti_id}_secret_{_suffix(n + 9, 25)}",
        "created": CREATED + n,
        "customer": f"cus_{_suffix(n + 2)}",
        "description": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": f"setatt_{_suffix(n + 3)}" if succeeded else None,
        "livemode": False,
        "mandate": None,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": f"pm_{_suffix(n + 4)}" if succeeded else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
        },
        "payment_method_types": ["card"],
        "single_use_mandate": None,
        "status": "succeeded" if succeeded else "requires_payment_method",
        "usage": "off_session",
    }


def transfer(n: int = 0) -> dict:
    tr_id = f"tr_{_suffix(n)}"
    amount = 5000 + 100 * (n % 40)
    reversed_part = amount // 2 if n % 6 == 5 else 0
    reversals = [
        {"id": f"trr_{_suffix(n + 3)}", "object": "transfer_reversal", "amount": reversed_part,
         "balance_transaction": f"txn_{_suffix(n + 4)}", "created": CREATED + n + 60, "currency": "usd",
         "destination_payment_refund": None, "metadata": {}, "source_refund": None, "transfer": tr_id}
    ] if reversed_part else []
    return {
        "id": tr_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": reversed_part,
        "balance_transaction": f"txn_{_suffix(n + 1)}",
        "created": CREATED + n,
        "currency": "usd",
        "description": None,
        "destination": f"acct_{_suffix(n % 3, 16)}",
        "destination_payment": f"py_{_suffix(n + 2)}",
        "livemode": False,
        "metadata": {},
        "reversals": {
            "object": "list",
            "data": reversals,
            "has_more": False,
            "total_count": len(reversals),
            "url": f"/v1/transfers/{tr_id}/reversals",
        },
        "reversed": False,
        "source_transaction": None,
        "source_type": "card",
        "transfer_group": None,
    }


def application_fee(n: int = 0) -> dict:
    fee_id = f"fee_{_suffix(n)}"
    charge = f"ch_{_suffix(n + 1)}"
    amount = 200 + 10 * (n % 30)
    refunds = [
        {"id": f"fr_{_suffix(n + 3)}", "object": "fee_refund", "amount": amount,
         "balance_transaction": f"txn_{_suffix(n + 4)}", "created": CREATED + n + 60, "currency": "usd",
         "fee": fee_id, "metadata": {}}
    ] if n % 7 == 6 else []
    return {
        "id": fee_id,
        "object": "application_fee",
        "account": f"acct_{_suffix(n % 3, 16)}",
        "amount": amount,
        "amount_refunded": amount if refunds else 0,
        "application": f"ca_{_suffix(5, 32)}",
        "balance_transaction": f"txn_{_suffix(n + 2)}",
        "charge": charge,
        "created": CREATED + n,
        "currency": "usd",
        "fee_source": {"charge": charge, "type": "charge"},
        "livemode": False,
        "originating_transaction": None,
        "refunded": bool(refunds),
        "refunds": {
            "object": "list",
            "data": refunds,
            "has_more": False,
            "total_count": len(refunds),
            "url": f"/v1/application_fees/{fee_id}/refunds",
        },
    }


def credit_note(n: int = 0) -> dict:
    cn_id = f"cn_{_suffix(n)}"
    amount = 1500 + 100 * (n % 20)
    void = n % 9 == 8
    return {
        "id": cn_id,
        "object": "credit_note",
        "amount": amount,
        "amount_shipping": 0,
        "created": CREATED + n,
        "currency": "usd",
        "customer": f"cus_{_suffix(n + 1)}",
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": CREATED + n,
        "invoice": f"in_{_suffix(n + 2)}",
        "lines": {
            "object": "list",
            "data": [{
                "id": f"cnli_{_suffix(n + 3)}", "object": "credit_note_line_item", "amount": amount,
                "description": "1 × Pro plan", "discount_amount": 0, "discount_amounts": [],
                "invoice_line_item": f"il_{_suffix(n + 4)}", "livemode": False, "metadata": {},
                "pretax_credit_amounts": [], "quantity": 1, "tax_rates": [], "taxes": [],
                "type": "invoice_line_item", "unit_amount": None, "unit_amount_decimal": None,
            }],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/credit_notes/{cn_id}/lines",
        },
        "livemode": False,
        "memo": None,
        "metadata": {},
        "number": f"ABC{n:05d}-0001-CN-01",
        "out_of_band_amount": amount,
        "pdf": f"https://pay.stripe.com/credit_notes/acct_1/test_{_suffix(n + 5, 40)}/pdf",
        "post_payment_amount": amount,
        "pre_payment_amount": 0,
        "pretax_credit_amounts": [],
        "reason": "order_change" if n % 2 else None,
        "refunds": [],
        "shipping_cost": None,
        "status": "void" if void else "issued",
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "total": amount,
        "total_excluding_tax": amount,
        "total_taxes": [],
        "type": "post_payment",
        "voided_at": CREATED + n + 3600 if void else None,
    }

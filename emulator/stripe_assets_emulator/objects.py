"""Builds each object's JSON exactly as Stripe sends it, from its day plan and its own seed.

Objects carry every field Stripe returns for them at the pinned API version, with `null` where
Stripe sends null, keys in Stripe's order (`id`, `object`, then alphabetical), and fields that
are only returned when expanded or included (a charge's `refunds`, a customer's `sources`) left
out. Cross-references use the ids of the referenced objects, so joins work.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from stripe_assets.catalog import get_resource
from stripe_assets_emulator import ids
from stripe_assets_emulator.connect import application_id, fee_amount
from stripe_assets_emulator.periods import current_period
from stripe_assets_emulator.plans import (
    CANCELED,
    DAY_SECONDS,
    FROM_CHARGE,
    INTERVALS,
    PENDING,
    SETTLED,
    SUBSCRIPTION_STATUSES,
    TAGS,
    UNCAPTURED,
    Plans,
    unref,
)
from stripe_assets_emulator.rng import Draws, Purpose, mix
from stripe_assets_emulator.vocab import (
    CARD_WEIGHTS,
    CARDS,
    CHARGE_DESCRIPTIONS,
    CURRENCIES,
    DECLINES,
    EMAIL_DOMAINS,
    EMAIL_FIRST,
    EMAIL_LAST,
    FIRST_NAMES,
    LAST_NAMES,
    PLACES,
    PRODUCT_NAMES,
    STREETS,
    Decline,
    processing_fee,
)

STATEMENT_DESCRIPTOR = "EXAMPLE SAAS"
SETTLE_DAYS = 4  # the longest a generated balance transaction stays pending (Japanese cards)

# Discriminators for ids of related objects the emulator does not serve.
_INVOICE, _ITEM, _RECEIPT = 2, 3, 5


class Identity(NamedTuple):
    """Who pays: a customer, or the guest behind a charge without one, and their card."""

    name: str
    email: str
    phone: str | None
    address: dict[str, Any]
    country: str
    payment_method: str
    brand: str
    last4: str
    funding: str
    exp_month: int
    exp_year: int
    fingerprint: str


class ObjectBuilder:
    """Stripe objects of the resources drawn in the day plans, for one configuration (each
    resource's generator, `generators/<resource>.py`, says which method builds its objects)."""

    def __init__(self, plans: Plans):
        self.plans = plans
        self.seed = plans.seed
        self.identity = functools.lru_cache(maxsize=16384)(self._identity)
        # Subscription items embed their price and its legacy plan; shared, so never modified.
        self.price_and_plan = functools.lru_cache(maxsize=4096)(self._price_and_plan)
        self.pending_refunds = functools.lru_cache(maxsize=512)(self._pending_refunds)
        self._prefix = {name: get_resource(name).id_prefixes[0] for name in TAGS}

    # ids ---------------------------------------------------------------------------------------

    def object_id(self, resource: str, day: int, slot: int) -> str:
        return ids.object_id(self._prefix[resource], self.seed, TAGS[resource], day, slot)

    def _related(self, prefix: str, length: int, resource: str, day: int, slot: int, kind: int) -> str:
        return ids.related_id(prefix, length, self.seed, TAGS[resource], day, slot, kind)

    def product_id(self, product: int) -> str:
        """The id of a product, by its ref()."""
        return self.object_id("products", *unref(product))

    def product_name(self, day: int, slot: int) -> str:
        # A draw of its own: prices name their product without building it.
        return PRODUCT_NAMES[mix(self.seed, TAGS["products"], day, slot, Purpose.DESCRIPTION) % len(PRODUCT_NAMES)]

    def payment_intent_id(self, charge_day: int, charge_slot: int) -> str:
        """Each charge's payment intent sits at the charge's position."""
        return self.object_id("payment_intents", charge_day, charge_slot)

    # people and cards ------------------------------------------------------------------------

    def _identity(self, resource: str, day: int, slot: int, currency: int) -> Identity:
        r = Draws(self.seed, TAGS[resource], day, slot, Purpose.PERSON)
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        country = CURRENCIES[currency].country
        place = r.choice(PLACES[country])
        card = r.weighted(CARDS, CARD_WEIGHTS)
        start_year = self.plans.config.start.year
        chars = ids.random_chars(40, self.seed, TAGS[resource], day, slot, Purpose.CARD)
        return Identity(
            name=f"{first} {last}",
            email=f"{EMAIL_FIRST[first]}.{EMAIL_LAST[last]}{r.randrange(100)}@{r.choice(EMAIL_DOMAINS)}",
            phone=f"+1415555{r.randrange(10000):04d}" if country == "US" and r.random() < 0.5 else None,
            address={
                "city": place.city,
                "country": place.country,
                "line1": f"{r.randint(1, 999)} {r.choice(STREETS)}",
                "line2": None,
                "postal_code": place.postal_code,
                "state": place.state,
            },
            country=country,
            payment_method="pm_" + chars[:24],
            brand=card.brand,
            last4=card.last4,
            funding=card.funding,
            exp_month=r.randint(1, 12),
            exp_year=r.randint(start_year + 1, start_year + 6),
            fingerprint=chars[24:],
        )

    # customers -------------------------------------------------------------------------------

    def customer(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.customers(day)
        currency = plan.currency[slot]
        person = self.identity("customers", day, slot, currency)
        r = Draws(self.seed, TAGS["customers"], day, slot, Purpose.OBJECT)
        has_card = r.random() < 0.8
        return {
            "id": self.object_id("customers", day, slot),
            "object": "customer",
            "address": person.address if r.random() < 0.6 else None,
            "balance": 0,
            "created": plan.created[slot],
            "currency": CURRENCIES[currency].code,
            "default_source": None,
            "delinquent": r.random() < 0.03,
            "description": None,
            "discount": None,
            "email": person.email,
            "invoice_prefix": ids.random_chars(8, r.word()).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": person.payment_method if has_card else None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": {"signup_source": r.choice(("web", "mobile", "sales"))} if r.random() < 0.3 else {},
            "name": person.name,
            "next_invoice_sequence": r.randint(1, 12),
            "phone": person.phone,
            "preferred_locales": [] if r.random() < 0.7 else ["en"],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }

    def deleted_stub(self, resource: str, day: int, slot: int) -> dict[str, Any]:
        """What Stripe returns for a deleted object (a customer, a product)."""
        return {"id": self.object_id(resource, day, slot), "object": get_resource(resource).object, "deleted": True}

    # prices ----------------------------------------------------------------------------------

    def price(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.prices(day)
        r = Draws(self.seed, TAGS["prices"], day, slot, Purpose.OBJECT)
        recurring = bool(plan.recurring[slot])
        interval = INTERVALS[plan.interval[slot]]
        product = plan.product[slot]
        name = self.product_name(*unref(product))
        unit_amount = plan.unit_amount[slot]
        return {
            "id": self.object_id("prices", day, slot),
            "object": "price",
            "active": bool(plan.active[slot]),
            "billing_scheme": "per_unit",
            "created": plan.created[slot],
            "currency": CURRENCIES[plan.currency[slot]].code,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": (f"{name} ({interval}ly)" if recurring else name) if r.random() < 0.6 else None,
            "product": self.product_id(product),
            "recurring": {
                "interval": interval,
                "interval_count": plan.interval_count[slot],
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            }
            if recurring
            else None,
            "tax_behavior": r.choice(("unspecified", "unspecified", "exclusive", "inclusive")),
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }

    def _price_and_plan(self, day: int, slot: int) -> tuple[dict[str, Any], dict[str, Any]]:
        price = self.price(day, slot)
        return price, self.plan_of(price)

    @staticmethod
    def plan_of(price: dict[str, Any]) -> dict[str, Any]:
        """The legacy `plan` view of a recurring price, as subscription items still carry it."""
        recurring = price["recurring"]
        return {
            "id": price["id"],
            "object": "plan",
            "active": price["active"],
            "amount": price["unit_amount"],
            "amount_decimal": price["unit_amount_decimal"],
            "billing_scheme": price["billing_scheme"],
            "created": price["created"],
            "currency": price["currency"],
            "interval": recurring["interval"],
            "interval_count": recurring["interval_count"],
            "livemode": False,
            "metadata": {},
            "meter": None,
            "nickname": price["nickname"],
            "product": price["product"],
            "tiers_mode": None,
            "transform_usage": None,
            "trial_period_days": None,
            "usage_type": recurring["usage_type"],
        }

    # charges ---------------------------------------------------------------------------------

    def charge(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.charges(day)
        r = Draws(self.seed, TAGS["charges"], day, slot, Purpose.OBJECT)
        state = plan.state[slot]
        amount = plan.amount[slot]
        currency = CURRENCIES[plan.currency[slot]]
        customer = plan.customer[slot]
        if customer >= 0:
            cus_day, cus_slot = unref(customer)
            owner = ("customers", cus_day, cus_slot)
            customer_id: str | None = self.object_id("customers", cus_day, cus_slot)
        else:
            owner = ("charges", day, slot)
            customer_id = None
        payer = self.identity(*owner, plan.currency[slot])
        succeeded = state in (SETTLED, UNCAPTURED)
        captured = state == SETTLED
        refunded = sum(self.plans.refund_amounts(day, slot)) if captured else 0
        decline = r.choice(DECLINES) if not succeeded and state != PENDING else None
        txn = self.plans.balance_transactions(day).charge_txn[slot] if captured else -1
        fee = self.plans.application_fees(day).of_charge[slot] if captured else -1
        receipt = self._related("", 63, "charges", day, slot, _RECEIPT)  # and the network's id
        return {
            "id": self.object_id("charges", day, slot),
            "object": "charge",
            "amount": amount,
            "amount_captured": amount if captured else 0,
            "amount_refunded": refunded,
            # A charge the platform took a fee from names its application and the fee.
            "application": application_id(self.seed) if fee >= 0 else None,
            "application_fee": self.object_id("application_fees", day, fee) if fee >= 0 else None,
            "application_fee_amount": fee_amount(amount) if fee >= 0 else None,
            "balance_transaction": self.object_id("balance_transactions", day, txn) if txn >= 0 else None,
            "billing_details": {
                "address": payer.address,
                "email": payer.email,
                "name": payer.name,
                "phone": payer.phone,
                "tax_id": None,
            },
            "calculated_statement_descriptor": STATEMENT_DESCRIPTOR,
            "captured": captured,
            "created": plan.created[slot],
            "currency": currency.code,
            "customer": customer_id,
            "description": self.charge_description(day, slot),
            "disputed": slot in self.plans.disputed_charges(day),
            "failure_balance_transaction": None,
            "failure_code": decline.failure_code if decline else None,
            "failure_message": decline.failure_message if decline else None,
            "fraud_details": {},
            "livemode": False,
            "metadata": {"order_id": f"ORD-{r.randrange(10**6):06d}"} if r.random() < 0.3 else {},
            "on_behalf_of": None,
            "outcome": self._outcome(r, decline),
            "paid": succeeded,
            "payment_intent": self.payment_intent_id(day, slot),
            "payment_method": payer.payment_method,
            "payment_method_details": {
                "card": self._card_details(
                    r, payer, amount if succeeded else None, decline, receipt[48:].upper()
                ),
                "type": "card",
            },
            "radar_options": {},
            "receipt_email": payer.email if r.random() < 0.7 else None,
            "receipt_number": None,
            "receipt_url": f"https://pay.stripe.com/receipts/payment/{receipt[:48]}?s=ap"
            if succeeded
            else None,
            "refunded": captured and refunded == amount,
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "succeeded" if succeeded else ("pending" if state == PENDING else "failed"),
            "transfer_data": None,
            "transfer_group": None,
        }

    @staticmethod
    def _outcome(r: Draws, decline: Decline | None) -> dict[str, Any]:
        if decline is None:
            return {
                "advice_code": None,
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "risk_score": r.randint(0, 64),
                "seller_message": "Payment complete.",
                "type": "authorized",
            }
        blocked = decline.outcome_type == "blocked"
        return {
            "advice_code": None if blocked else "try_again_later",
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": decline.network_status,
            "reason": decline.outcome_reason,
            "risk_level": "highest" if blocked else "normal",
            "risk_score": r.randint(90, 99) if blocked else r.randint(0, 64),
            "seller_message": decline.seller_message,
            "type": decline.outcome_type,
        }

    def _card_details(
        self, r: Draws, card: Identity, authorized: int | None, decline: Decline | None, network_id: str
    ) -> dict[str, Any]:
        cvc = "fail" if decline is not None and decline.failure_code == "incorrect_cvc" else "pass"
        return {
            "amount_authorized": authorized,
            "authorization_code": f"{r.randrange(10**6):06d}" if authorized is not None else None,
            "brand": card.brand,
            "checks": {"address_line1_check": "pass", "address_postal_code_check": "pass", "cvc_check": cvc},
            "country": card.country,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card.fingerprint,
            "funding": card.funding,
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": card.last4,
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": card.brand,
            "network_token": {"used": False},
            "network_transaction_id": network_id if authorized is not None else None,
            "overcapture": {"maximum_amount_capturable": authorized or 0, "status": "unavailable"},
            "regulated_status": "regulated" if card.funding == "debit" else "unregulated",
            "three_d_secure": None,
            "wallet": None,
        }

    # refunds ---------------------------------------------------------------------------------

    def refund(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.refunds(day)
        r, pending = self._refund_draws(day, slot)
        charge_day, charge_slot = unref(plan.charge[slot])
        currency = CURRENCIES[self.plans.charges(charge_day).currency[charge_slot]]
        txn = self.plans.balance_transactions(day).refund_txn[slot]
        return {
            "id": self.object_id("refunds", day, slot),
            "object": "refund",
            "amount": self.plans.refund_amount(day, slot),
            "balance_transaction": self.object_id("balance_transactions", day, txn),
            "charge": self.object_id("charges", charge_day, charge_slot),
            "created": plan.created[slot],
            "currency": currency.code,
            "destination_details": {
                "card": {
                    "reference": None if pending else f"{r.word() % 10**20:020d}{r.randrange(1000):03d}",
                    "reference_status": "pending" if pending else "available",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": {},
            "payment_intent": self.payment_intent_id(charge_day, charge_slot),
            "reason": r.weighted(("requested_by_customer", None, "duplicate", "fraudulent"), (60, 25, 10, 5)),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "pending" if pending else "succeeded",
            "transfer_reversal": None,
        }

    def _refund_draws(self, day: int, slot: int) -> tuple[Draws, bool]:
        r = Draws(self.seed, TAGS["refunds"], day, slot, Purpose.OBJECT)
        return r, r.random() < 0.03  # card refunds still waiting for the network

    def _pending_refunds(self, day: int) -> list[int]:
        """Slots of the day's generated refunds that are pending, without building them."""
        return [s for s in range(self.plans.count("refunds", day)) if self._refund_draws(day, s)[1]]

    # balance transactions --------------------------------------------------------------------

    def balance_transaction(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.balance_transactions(day)
        created = plan.created[slot]
        source_slot = plan.source_slot[slot]
        end = self.plans.end
        if plan.source_kind[slot] == FROM_CHARGE:
            charges = self.plans.charges(day)
            currency = CURRENCIES[charges.currency[source_slot]]
            amount = charges.amount[source_slot]
            fee = processing_fee(amount, currency)
            # Card funds become available two days later, at midnight UTC (longer in Japan).
            available_on = (created // DAY_SECONDS + (SETTLE_DAYS if currency.code == "jpy" else 2)) * DAY_SECONDS
            fee_details = [
                {
                    "amount": fee,
                    "application": None,
                    "currency": currency.code,
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                }
            ]
            kind, source = "charge", self.object_id("charges", day, source_slot)
            text = self.charge_description(day, source_slot)
        else:
            charge_day, charge_slot = unref(self.plans.refunds(day).charge[source_slot])
            currency = CURRENCIES[self.plans.charges(charge_day).currency[charge_slot]]
            amount = -self.plans.refund_amount(day, source_slot)
            fee = 0
            available_on = created
            fee_details = []
            kind, source = "refund", self.object_id("refunds", day, source_slot)
            text = f"REFUND FOR CHARGE ({self.charge_description(charge_day, charge_slot) or 'Payment'})"
        return {
            "id": self.object_id("balance_transactions", day, slot),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": available_on,
            "balance_type": "payments",
            "created": created,
            "currency": currency.code,
            "description": text,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": fee_details,
            "net": amount - fee,
            "reporting_category": kind,
            "source": source,
            "status": "available" if available_on <= end else "pending",
            "type": kind,
        }

    def charge_description(self, day: int, slot: int) -> str | None:
        # A draw of its own: balance transactions repeat it without building the charge.
        key = mix(self.seed, TAGS["charges"], day, slot, Purpose.DESCRIPTION)
        return CHARGE_DESCRIPTIONS[key % len(CHARGE_DESCRIPTIONS)]

    # subscriptions ---------------------------------------------------------------------------

    def subscription(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.plans.subscriptions(day)
        r = Draws(self.seed, TAGS["subscriptions"], day, slot, Purpose.OBJECT)
        sub_id = self.object_id("subscriptions", day, slot)
        created = plan.created[slot]
        status = SUBSCRIPTION_STATUSES[plan.status[slot]]
        cus_day, cus_slot = unref(plan.customer[slot])
        price_day, price_slot = unref(plan.price[slot])
        price, legacy_plan = self.price_and_plan(price_day, price_slot)
        recurring = price["recurring"]
        trial_days = plan.trial_days[slot]
        trial_end = created + trial_days * DAY_SECONDS if trial_days else None
        anchor = trial_end or created
        end = self.plans.end

        canceled_at = ended_at = None
        reason = feedback = None
        if plan.status[slot] == CANCELED:
            canceled_at = ended_at = created + int(r.random() * max(end - created, 1))
            reason = r.choice(("cancellation_requested", "cancellation_requested", "payment_failed"))
            if reason == "cancellation_requested" and r.random() < 0.4:
                feedback = r.choice(("too_expensive", "unused", "switched_service", "missing_features"))
        elif status == "incomplete_expired":
            ended_at = created + 23 * 3600
        as_of = min(ended_at or end, end)
        if trial_end is not None and as_of < trial_end:
            period = (created, trial_end)
        else:
            period = current_period(anchor, recurring["interval"], recurring["interval_count"], as_of)
        cancel_at_period_end = status in ("active", "trialing") and r.random() < 0.05
        automatic = r.random() < 0.9
        customer = self.plans.customers(cus_day)
        payer = self.identity("customers", cus_day, cus_slot, customer.currency[cus_slot])
        flexible = r.random() < 0.6
        item = {
            "id": self._related("si_", 14, "subscriptions", day, slot, _ITEM),
            "object": "subscription_item",
            "billing_thresholds": None,
            "created": created,
            "current_period_end": period[1],
            "current_period_start": period[0],
            "discounts": [],
            "metadata": {},
            "plan": legacy_plan,
            "price": price,
            "quantity": plan.quantity[slot],
            "subscription": sub_id,
            "tax_rates": [],
        }
        return {
            "id": sub_id,
            "object": "subscription",
            "application": None,
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": anchor,
            "billing_cycle_anchor_config": None,
            "billing_mode": {
                "flexible": {"proration_discounts": "included"},
                "type": "flexible",
                "updated_at": created,
            }
            if flexible
            else {"flexible": None, "type": "classic", "updated_at": None},
            "billing_schedules": [],
            "billing_thresholds": None,
            "cancel_at": period[1] if cancel_at_period_end else None,
            "cancel_at_period_end": cancel_at_period_end,
            "canceled_at": canceled_at,
            "cancellation_details": {"comment": None, "feedback": feedback, "reason": reason},
            "collection_method": "charge_automatically" if automatic else "send_invoice",
            "created": created,
            "currency": price["currency"],
            "customer": self.object_id("customers", cus_day, cus_slot),
            "customer_account": None,
            "days_until_due": None if automatic else 30,
            "default_payment_method": payer.payment_method if automatic else None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "ended_at": ended_at,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": {
                "object": "list",
                "data": [item],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": self._related("in_", 24, "subscriptions", day, slot, _INVOICE),
            "livemode": False,
            "metadata": {},
            "next_pending_invoice_item_invoice": None,
            "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_setup_intent": None,
            "pending_update": None,
            "schedule": None,
            "start_date": created,
            "status": status,
            "test_clock": None,
            "transfer_data": None,
            "trial_end": trial_end,
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": created if trial_days else None,
        }

"""Checkout sessions: drawn per day (`per_day`), each a visit to a hosted page in payment,
subscription or setup mode, for an object made before it.

A session's target is picked among objects created before it: a settled charge (the session's
`payment_intent` is that charge's intent), a subscription, or a setup intent. Completed sessions
point at their target and its customer; open ones (only those made within a day of the window's
end: Stripe expires a session 24 hours after creating it) and expired ones point at nothing, as
Stripe creates the intent only when the customer confirms. A session whose target could not
have come from it (a subscription never paid, a setup intent that never saved a card) expired.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, field_equals
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.generators.setup_intents import SetupIntents
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import SETTLED, SUBSCRIPTION_STATUSES, TAGS, Plans, creation_offsets, ref, unref
from stripe_assets_emulator.vocab import CURRENCIES

MODES = ("payment", "subscription", "setup")
TARGETS = {"payment": "charges", "subscription": "subscriptions", "setup": "setup_intents"}
_MODE_WEIGHTS = (60, 25, 15)
STATUSES = ("complete", "open", "expired")
_STATUS_WEIGHTS = (60, 25, 15)
EXPIRY_SECONDS = 24 * 3600  # Stripe's default `expires_at`: a day after creation
_NEVER_PAID = frozenset({"incomplete", "incomplete_expired"})


class SessionDay(NamedTuple):
    created: Sequence[int]
    mode: bytes  # index into MODES
    target: Sequence[int]  # ref() of the charge, subscription or setup intent (-1: none)
    status: bytes  # index into STATUSES, as generated


def _status(ds: Dataset, value: str) -> Predicate:
    return field_equals(ds, "checkout_sessions", "status", value) if value in STATUSES else NOTHING


def _reference(name: str):
    def matches(ds: Dataset, value: str) -> Predicate:
        return field_equals(ds, "checkout_sessions", name, value)

    return matches


class CheckoutSessions(Generator):
    resource = "checkout_sessions"
    # Stripe's list takes these (and `created`); each compares the session's current state.
    filters = MappingProxyType({
        "status": _status,
        "customer": _reference("customer"),
        "payment_intent": _reference("payment_intent"),
        "subscription": _reference("subscription"),
    })
    current_state_filters = frozenset({"status", "customer", "payment_intent", "subscription"})
    breakages = MappingProxyType({
        "wrong_type": Breakage("expires_at", lambda v: str(v)),
        "unknown_enum": Breakage("mode", lambda v: "donation"),
        "missing_required": Breakage("payment_status", None),
        "null_required": Breakage("livemode", lambda v: None),
    })

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self.day = functools.lru_cache(maxsize=512)(self._draw_day)
        self.setup_intents = SetupIntents(plans, builder)  # drawn alike: the same intents as served

    def _draw_day(self, day: int) -> SessionDay:
        gen = np.random.default_rng([self.plans.seed, TAGS["checkout_sessions"], day, 0])
        n = self.count(day)
        created = self.plans.day_start(day) + creation_offsets(gen, n)
        mode = gen.choice(len(MODES), n, p=np.array(_MODE_WEIGHTS) / sum(_MODE_WEIGHTS))
        status = gen.choice(len(STATUSES), n, p=np.array(_STATUS_WEIGHTS) / sum(_STATUS_WEIGHTS))
        target = np.full(n, -1, dtype=np.int64)
        for index, name in enumerate(MODES):
            resource = TARGETS[name]
            picked = self._pick_earlier(gen, day, created, resource)
            if self.plans.config.count_per_day(resource) > 0:
                target = np.where(mode == index, picked, target)
        targets = target.tolist()
        statuses = []
        for slot, (made, m, s) in enumerate(zip(created.tolist(), mode.tolist(), status.tolist(), strict=True)):
            mode_name = MODES[m]
            if mode_name == "payment" and targets[slot] >= 0:
                charge_day, charge_slot = unref(targets[slot])
                if self.plans.charges(charge_day).state[charge_slot] != SETTLED:
                    targets[slot] = ref(charge_day, 0)  # slot 0 of every day is a settled charge
            if STATUSES[s] == "open" and made + EXPIRY_SECONDS <= self.plans.end:
                s = STATUSES.index("expired")  # nobody finished it in time
            if STATUSES[s] == "complete" and not self.completable(mode_name, targets[slot]):
                s = STATUSES.index("expired")
            statuses.append(s)
        return SessionDay(created.astype(np.int64).tolist(), bytes(mode.tolist()), targets, bytes(statuses))

    def _pick_earlier(self, gen: np.random.Generator, day: int, created: np.ndarray, resource: str) -> np.ndarray:
        if resource != "setup_intents":
            return self.plans.pick_earlier(gen, day, created, resource)
        # Setup intents are drawn by their generator, not the day plans: the same pick over its times.
        n = len(created)
        target_day = gen.integers(0, day + 1, n)
        available = np.full(n, self.plans.config.count_per_day(resource), dtype=np.int64)
        same_day = target_day == day
        own = np.asarray(self.setup_intents.created(day), dtype=np.int64)
        available[same_day] = np.searchsorted(own, created[same_day], side="right")
        slot = (gen.random(n) * available).astype(np.int64)
        return (target_day << 32) | slot

    def completable(self, mode: str, target: int) -> bool:
        """Whether the target could have come from the session: a paid subscription, a saved card."""
        if target < 0:
            return False
        if mode == "subscription":
            status = self.plans.subscriptions(unref(target)[0]).status[unref(target)[1]]
            return SUBSCRIPTION_STATUSES[status] not in _NEVER_PAID
        if mode == "setup":
            return self.setup_intents.status(*unref(target)) == "succeeded"
        return True

    def created(self, day: int) -> Sequence[int]:
        return self.day(day).created

    def mode(self, day: int, slot: int) -> str:
        return MODES[self.day(day).mode[slot]]

    def open_slots(self, day: int, completable: bool = False) -> list[int]:
        """The day's sessions generated open (only those that can complete, if asked)."""
        plan = self.day(day)
        return [
            slot for slot in range(len(plan.created))
            if STATUSES[plan.status[slot]] == "open"
            and (not completable or self.completable(MODES[plan.mode[slot]], plan.target[slot]))
        ]

    def completion(self, day: int, slot: int) -> dict[str, Any]:
        """The fields a session shows once completed: its target, customer and payer."""
        plan = self.day(day)
        mode, target = MODES[plan.mode[slot]], plan.target[slot]
        fields: dict[str, Any] = {"status": "complete", "url": None}
        target_day, target_slot = unref(target)
        if mode == "payment":
            charge = self.builder.charge(target_day, target_slot)
            billing = charge["billing_details"]
            fields.update(
                payment_intent=charge["payment_intent"],
                customer=charge["customer"],
                payment_status="paid",
                customer_details=_details(billing["email"] or charge["receipt_email"], billing["name"],
                                          billing["address"], billing["phone"]),
            )
            return fields
        if mode == "subscription":
            obj = self.builder.subscription(target_day, target_slot)
            customer = self.plans.subscriptions(target_day).customer[target_slot]
        else:
            obj = self.setup_intents.build(target_day, target_slot)
            customer = self.setup_intents.day(target_day).customer[target_slot]
        fields["customer"] = obj["customer"]
        fields["customer_details"] = self._customer_details(customer) if customer >= 0 else None
        if mode == "subscription":
            fields.update(
                subscription=obj["id"],
                invoice=obj["latest_invoice"],
                payment_status="no_payment_required" if obj["status"] == "trialing" else "paid",
            )
        else:
            fields["setup_intent"] = obj["id"]
        return fields

    def _customer_details(self, customer: int) -> dict[str, Any]:
        """What the customer (a ref()) filled in: their name, email, address and phone."""
        cus_day, cus_slot = unref(customer)
        person = self.builder.identity("customers", cus_day, cus_slot, self.plans.customers(cus_day).currency[cus_slot])
        return _details(person.email, person.name, person.address, person.phone)

    def amounts(self, day: int, slot: int) -> tuple[int | None, str | None]:
        """What the session asks the customer to pay, and in which currency (None in setup mode)."""
        plan = self.day(day)
        mode, target = MODES[plan.mode[slot]], plan.target[slot]
        if target < 0 or mode == "setup":
            return None, None
        target_day, target_slot = unref(target)
        if mode == "payment":
            charges = self.plans.charges(target_day)
            return charges.amount[target_slot], CURRENCIES[charges.currency[target_slot]].code
        subscription = self.builder.subscription(target_day, target_slot)
        amount = sum(item["price"]["unit_amount"] * item["quantity"] for item in subscription["items"]["data"])
        return amount, subscription["currency"]

    def build(self, day: int, slot: int) -> dict[str, Any]:
        plan = self.day(day)
        session_id = self.builder.object_id("checkout_sessions", day, slot)
        mode, status = MODES[plan.mode[slot]], STATUSES[plan.status[slot]]
        created = plan.created[slot]
        amount, currency = self.amounts(day, slot)
        obj = new_session(session_id, mode, created, amount, currency)
        if status == "expired":
            obj.update(status="expired", url=None)
        elif status == "complete":
            obj.update(self.completion(day, slot))
        return obj


def _details(email: str | None, name: str | None, address: dict | None, phone: str | None) -> dict[str, Any]:
    return {
        "address": address, "business_name": None, "email": email, "individual_name": None, "name": name,
        "phone": phone, "tax_exempt": "none", "tax_ids": [],
    }


def new_session(session_id: str, mode: str, created: int, amount: int | None, currency: str | None) -> dict[str, Any]:
    """An open session as Stripe creates it: nothing confirmed, nothing paid."""
    payment = mode != "setup"
    return {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False} if payment else None,
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": "https://example.com/cancel",
        "client_reference_id": None,
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer": None,
        "customer_account": None,
        "customer_creation": "if_required" if mode == "payment" else None,
        "customer_details": None,
        "customer_email": None,
        "discounts": [],
        "expires_at": created + EXPIRY_SECONDS,
        "invoice": None,
        "invoice_creation": {"enabled": False, "invoice_data": {
            "account_tax_ids": None, "custom_fields": None, "description": None, "footer": None, "issuer": None,
            "metadata": {}, "rendering_options": None}} if mode == "payment" else None,
        "livemode": False,
        "locale": None,
        "metadata": {},
        "mode": mode,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always" if mode == "subscription" else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid" if payment else "no_payment_required",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": "https://example.com/success",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0} if payment else None,
        "ui_mode": "hosted_page",
        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        "wallet_options": None,
    }


GENERATOR = CheckoutSessions

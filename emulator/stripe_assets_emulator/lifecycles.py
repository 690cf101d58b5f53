"""How each kind of change moves an object along Stripe's lifecycle, and the Events it sends.

Each change reads the object's current state, writes its new state and emits the events Stripe
sends for it, in Stripe's order: a refund is `refund.created` then `charge.refunded`; a customer
deletion first cancels the customer's subscriptions. Objects a change creates (refunds,
balance transactions) are created at the change's time, after the generated window.
Balance transactions are never edited: a capture, refund, dispute or failed refund adds a new one
(a pending one only becomes available when the clock passes its `available_on`: `Dataset.settle`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stripe_assets_emulator import ids
from stripe_assets_emulator.dataset import Dataset
from stripe_assets_emulator.events import previous_attributes
from stripe_assets_emulator.generators.disputes import REASONS as DISPUTE_REASONS
from stripe_assets_emulator.generators.disputes import dispute_balance_transaction, dispute_of
from stripe_assets_emulator.lifecycles_application_fees import application_fee_refunded
from stripe_assets_emulator.lifecycles_checkout_sessions import checkout_session_completed, checkout_session_expired
from stripe_assets_emulator.lifecycles_children import (
    payment_method_attached,
    payment_method_detached,
    subscription_item_updated,
)
from stripe_assets_emulator.lifecycles_coupons import coupon_deleted, coupon_updated
from stripe_assets_emulator.lifecycles_credit_notes import credit_note_updated, credit_note_voided
from stripe_assets_emulator.lifecycles_disputes import dispute_closed, dispute_updated
from stripe_assets_emulator.lifecycles_early_fraud_warnings import warnings_follow_charge
from stripe_assets_emulator.lifecycles_invoice_items import invoice_item_deleted
from stripe_assets_emulator.lifecycles_payment_intents import payment_intent_canceled, payment_intent_succeeded
from stripe_assets_emulator.lifecycles_payouts import payout_failed, payout_paid
from stripe_assets_emulator.lifecycles_products import product_deleted, product_updated
from stripe_assets_emulator.lifecycles_promotion_codes import (
    promotion_code_deactivated,
    promotion_code_updated,
)
from stripe_assets_emulator.lifecycles_setup_intents import setup_intent_canceled, setup_intent_succeeded
from stripe_assets_emulator.lifecycles_tax_rates import tax_rate_archived, tax_rate_updated
from stripe_assets_emulator.lifecycles_transfers import transfer_reversed, transfer_updated
from stripe_assets_emulator.periods import add_interval
from stripe_assets_emulator.plans import DAY_SECONDS
from stripe_assets_emulator.rng import Draws, Purpose
from stripe_assets_emulator.versions import api_version_for, render
from stripe_assets_emulator.vocab import (
    CHARGE_DESCRIPTIONS,
    CURRENCIES,
    EMAIL_DOMAINS,
    EMAIL_FIRST,
    EMAIL_LAST,
    FIRST_NAMES,
    LAST_NAMES,
    PLACES,
    STREETS,
    processing_fee,
)

CURRENCY_BY_CODE = {c.code: c for c in CURRENCIES}
LIVE_STATUSES = ("active", "trialing", "past_due", "unpaid", "paused", "incomplete")  # can be canceled
REFUND_FAILURES = ("expired_or_canceled_card", "lost_or_stolen_card", "unknown")
_INVOICE = 2  # discriminator of ids of objects the emulator does not serve


@dataclass
class Change:
    """One planned change: sorted by time, then by kind (Stripe's order within one second)."""

    at: int
    stage: int
    number: int  # its index among the advance's changes of its kind
    kind: str
    target: tuple[int, int] | None  # (day, slot) of the object; None: made by `source`
    source: Change | None = None  # the change that creates the target (a new refund)
    pending: bool = False  # a new refund: created pending (it may settle in the same advance)
    created: tuple[int, int] | None = None  # what the change created (a new refund's position)
    events: list[str] = field(default_factory=list)

    @property
    def order(self) -> tuple[int, int, int]:
        return self.at, self.stage, self.number

    @property
    def place(self) -> tuple[int, int]:
        """The target's (day, slot), for the kinds that change an existing object."""
        assert self.target is not None, f"a {self.kind} change names its target"
        return self.target


def _with_card(refund: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The refund's destination details with card fields changed (copied, never edited in place)."""
    details = refund["destination_details"]
    return {**details, "card": {**details["card"], **changes}}


class Changer:
    """Applies changes to one data set, emitting their events."""

    def __init__(self, ds: Dataset, advance: int, old_version_share: float):
        self.ds = ds
        self.seed = ds.plans.seed
        self.advance = advance
        self.old_version_share = old_version_share

    # helpers -----------------------------------------------------------------------------------

    def draws(self, change: Change) -> Draws:
        return Draws(self.seed, Purpose.CHANGE, self.advance, KIND_TAGS[change.kind], change.number)

    def related_id(self, prefix: str, change: Change, kind: int) -> str:
        return ids.related_id(prefix, 24, self.seed, Purpose.CHANGE, self.advance, KIND_TAGS[change.kind],
                              change.number, kind)  # fmt: skip

    def emit(self, change: Change, type: str, obj: dict[str, Any], previous: dict[str, Any] | None) -> None:
        events = self.ds.events
        version = api_version_for(self.seed, len(events), self.old_version_share)
        shown, changed = render(obj, version, previous)
        event_id = events.append(type, change.at, shown, changed, version)
        change.events.append(event_id)

    def update(
        self, change: Change, resource: str, mutate: Callable[[dict[str, Any]], None], *types: str
    ) -> dict[str, Any]:
        """Replaces the target's state and emits `types` with the changed fields.

        `mutate` gets a shallow copy and replaces top-level fields: nested values are shared with
        the old state (and with cached generated parts), so they are never edited in place.
        """
        day, slot = change.place
        old = self.ds.current(resource, day, slot)
        new = dict(old)
        mutate(new)
        changed = previous_attributes(old, new)
        if not changed:  # a drawn edit that happens to repeat the old value: still a change
            new["metadata"] = {**new["metadata"], "revision": f"{self.advance}.{change.number}"}
            changed = previous_attributes(old, new)
        self.ds.put(resource, day, slot, new)
        served = self.ds.served(resource, day, slot)
        for type in types:
            self.emit(change, type, served, changed)
        return new

    def create(self, resource: str, at: int, build: Callable[[str], dict[str, Any]]) -> tuple[int, int]:
        """A new object created at `at`; `build` gets its id."""
        ds = self.ds
        day = (at - ds.plans.start) // DAY_SECONDS
        slot = ds.live.reserve(resource, day, at)
        ds.put(resource, day, slot, build(ds.object_id(resource, day, slot)))
        return day, slot

    def balance_transaction(
        self,
        at: int,
        *,
        amount: int,
        currency: str,
        type: str,
        category: str,
        source: str,
        description: str | None,
        fee: int = 0,
        fee_description: str = "Stripe processing fees",
        available_on: int | None = None,
    ) -> dict[str, Any]:
        available = at if available_on is None else available_on
        fee_details = (
            [{"amount": fee, "application": None, "currency": currency, "description": fee_description,
              "type": "stripe_fee"}]
            if fee
            else []
        )
        found: dict[str, Any] = {}

        def build(txn_id: str) -> dict[str, Any]:
            found.update(
                {
                    "id": txn_id,
                    "object": "balance_transaction",
                    "amount": amount,
                    "available_on": available,
                    "balance_type": "payments",
                    "created": at,
                    "currency": currency,
                    "description": description,
                    "exchange_rate": None,
                    "fee": fee,
                    "fee_details": fee_details,
                    "net": amount - fee,
                    "reporting_category": category,
                    "source": source,
                    "status": "available" if available <= at else "pending",
                    "type": type,
                }
            )
            return found

        self.create("balance_transactions", at, build)
        return found

    # charges -----------------------------------------------------------------------------------

    def charge_captured(self, change: Change) -> None:
        charge = self.ds.current("charges", *change.place)
        currency = CURRENCY_BY_CODE[charge["currency"]]
        # Card funds become available two days later, at midnight UTC (four in Japan).
        days = 4 if currency.code == "jpy" else 2
        txn = self.balance_transaction(
            change.at,
            amount=charge["amount"],
            currency=currency.code,
            type="charge",
            category="charge",
            source=charge["id"],
            description=charge["description"],
            fee=processing_fee(charge["amount"], currency),
            available_on=(change.at // DAY_SECONDS + days) * DAY_SECONDS,
        )

        def capture(c: dict[str, Any]) -> None:
            c["amount_captured"] = c["amount"]
            c["balance_transaction"] = txn["id"]
            c["captured"] = True

        self.update(change, "charges", capture, "charge.captured")
        payment_intent_succeeded(self, change)

    def charge_refunded(self, change: Change) -> None:
        r = self.draws(change)
        charge = self.ds.current("charges", *change.place)
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = remaining if r.random() < 0.6 else max(1, int(remaining * r.uniform(0.1, 0.9)))
        reason = r.weighted(("requested_by_customer", None, "duplicate", "fraudulent"), (60, 25, 10, 5))
        reference = f"{r.word() % 10**20:020d}{r.randrange(1000):03d}"
        day = (change.at - self.ds.plans.start) // DAY_SECONDS
        refund_id = self.ds.object_id("refunds", day, len(self.ds.live.later_created("refunds", day)))
        txn = self.balance_transaction(
            change.at,
            amount=-amount,
            currency=charge["currency"],
            type="refund",
            category="refund",
            source=refund_id,
            description=f"REFUND FOR CHARGE ({charge['description'] or 'Payment'})",
        )
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": txn["id"],
            "charge": charge["id"],
            "created": change.at,
            "currency": charge["currency"],
            "destination_details": {
                "card": {
                    "reference": None if change.pending else reference,
                    "reference_status": "pending" if change.pending else "available",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "pending" if change.pending else "succeeded",
            "transfer_reversal": None,
        }
        change.created = self.create("refunds", change.at, lambda new_id: refund)
        assert refund["id"] == refund_id
        self.emit(change, "refund.created", self.ds.served("refunds", *change.created), None)

        def refund_charge(c: dict[str, Any]) -> None:
            c["amount_refunded"] += amount
            c["refunded"] = c["amount_refunded"] == c["amount"]

        self.update(change, "charges", refund_charge, "charge.refunded")
        warnings_follow_charge(self, change)

    def charge_disputed(self, change: Change) -> None:
        charge = self.ds.current("charges", *change.place)
        day = (change.at - self.ds.plans.start) // DAY_SECONDS
        dispute_id = self.ds.object_id("disputes", day, len(self.ds.live.later_created("disputes", day)))
        txn: dict[str, Any] = {}

        def build_txn(txn_id: str) -> dict[str, Any]:
            txn.update(dispute_balance_transaction(txn_id, dispute_id, charge, change.at))
            return txn

        self.create("balance_transactions", change.at, build_txn)
        dispute = dispute_of(dispute_id, charge, txn, change.at, self.draws(change).choice(DISPUTE_REASONS))
        change.created = self.create("disputes", change.at, lambda new_id: dispute)
        assert dispute["id"] == dispute_id
        # The charge is marked disputed; Stripe's event is the dispute's (its `charge` names it).
        day, slot = change.place
        self.ds.put("charges", day, slot, {**charge, "disputed": True})
        served = self.ds.served("disputes", *change.created)
        self.emit(change, "charge.dispute.created", served, None)
        self.emit(change, "charge.dispute.funds_withdrawn", served, None)
        warnings_follow_charge(self, change)

    def charge_updated(self, change: Change) -> None:
        r = self.draws(change)
        what = r.choice(("description", "metadata", "both"))
        description = r.choice(CHARGE_DESCRIPTIONS)
        note = f"ticket-{r.randrange(10**5):05d}"

        def edit(c: dict[str, Any]) -> None:
            if what != "metadata":
                c["description"] = description if description != c["description"] else f"{description} (edited)"
            if what != "description":
                c["metadata"] = {**c["metadata"], "support_ticket": note}

        self.update(change, "charges", edit, "charge.updated")

    # refunds -----------------------------------------------------------------------------------

    def _refund_target(self, change: Change) -> tuple[int, int]:
        if change.target is None:
            assert change.source is not None and change.source.created is not None
            change.target = change.source.created
        return change.target

    def refund_succeeded(self, change: Change) -> None:
        self._refund_target(change)
        r = self.draws(change)
        reference = f"{r.word() % 10**20:020d}{r.randrange(1000):03d}"

        def settle(refund: dict[str, Any]) -> None:
            refund["status"] = "succeeded"
            refund["destination_details"] = _with_card(refund, reference=reference, reference_status="available")

        self.update(change, "refunds", settle, "refund.updated", "charge.refund.updated")

    def refund_failed(self, change: Change) -> None:
        day, slot = self._refund_target(change)
        r = self.draws(change)
        refund = self.ds.current("refunds", day, slot)
        txn = self.balance_transaction(
            change.at,
            amount=refund["amount"],
            currency=refund["currency"],
            type="refund_failure",
            category="refund_failure",
            source=refund["id"],
            description="REFUND FAILURE",
        )
        reason = r.choice(REFUND_FAILURES)

        def fail(refund: dict[str, Any]) -> None:
            refund["failure_balance_transaction"] = txn["id"]
            refund["failure_reason"] = reason
            refund["status"] = "failed"
            refund["destination_details"] = _with_card(refund, reference_status="unavailable")

        self.update(change, "refunds", fail, "refund.updated", "charge.refund.updated", "refund.failed")

    # subscriptions -----------------------------------------------------------------------------

    def _new_period(self, sub: dict[str, Any], start: int) -> None:
        items = sub["items"]
        item = items["data"][0]
        recurring = item["price"]["recurring"]
        end = add_interval(start, recurring["interval"], recurring["interval_count"])
        item = {**item, "current_period_end": end, "current_period_start": start}
        sub["items"] = {**items, "data": [item, *items["data"][1:]]}
        if sub["cancel_at_period_end"]:
            sub["cancel_at"] = end

    def subscription_trial_ended(self, change: Change) -> None:
        invoice = self.related_id("in_", change, _INVOICE)

        def end_trial(sub: dict[str, Any]) -> None:
            # At the trial's end, or earlier when the trial is ended early (trial_end=now).
            sub["trial_end"] = min(sub["trial_end"] or change.at, change.at)
            sub["billing_cycle_anchor"] = change.at
            self._new_period(sub, change.at)
            sub["latest_invoice"] = invoice
            sub["status"] = "active"

        self.update(change, "subscriptions", end_trial, "customer.subscription.updated")

    def subscription_past_due(self, change: Change) -> None:
        invoice = self.related_id("in_", change, _INVOICE)

        def renew_unpaid(sub: dict[str, Any]) -> None:
            # A renewal whose invoice payment failed: at the period's end, or when the billing
            # cycle was reset to now (billing_cycle_anchor=now).
            if sub["items"]["data"][0]["current_period_end"] != change.at:
                sub["billing_cycle_anchor"] = change.at
            self._new_period(sub, change.at)
            sub["latest_invoice"] = invoice
            sub["status"] = "past_due"

        self.update(change, "subscriptions", renew_unpaid, "customer.subscription.updated")

    def subscription_canceled(self, change: Change, reason: str | None = None) -> None:
        r = self.draws(change)
        day, slot = change.place
        old = self.ds.current("subscriptions", day, slot)
        if reason is None:
            failed = old["status"] in ("past_due", "unpaid")
            reason = "payment_failed" if failed else "cancellation_requested"
        feedback = None
        if reason == "cancellation_requested" and r.random() < 0.4:
            feedback = r.choice(("too_expensive", "unused", "switched_service", "missing_features"))
        new = dict(old)
        new.update(cancel_at=None, cancel_at_period_end=False, canceled_at=change.at, ended_at=change.at)
        new["cancellation_details"] = {"comment": None, "feedback": feedback, "reason": reason}
        new["status"] = "canceled"
        self.ds.put("subscriptions", day, slot, new)
        self.emit(change, "customer.subscription.deleted", self.ds.served("subscriptions", day, slot), None)

    # customers ---------------------------------------------------------------------------------

    def customer_updated(self, change: Change) -> None:
        r = self.draws(change)
        what = r.choice(("email", "name", "address", "description", "metadata", "phone"))
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        domain = r.choice(EMAIL_DOMAINS)
        number = r.randrange(10000)

        def edit(c: dict[str, Any]) -> None:
            if what == "email":
                local = c["email"].partition("@")[0]
                c["email"] = f"{local}{number % 100}@{domain}"
            elif what == "name":
                c["name"] = f"{first} {last}"
                c["email"] = f"{EMAIL_FIRST[first]}.{EMAIL_LAST[last]}{number % 100}@{domain}"
            elif what == "address":
                country = c["address"]["country"] if c["address"] else "US"
                place = PLACES[country][number % len(PLACES[country])]
                c["address"] = {
                    "city": place.city,
                    "country": place.country,
                    "line1": f"{number % 999 + 1} {STREETS[number % len(STREETS)]}",
                    "line2": None,
                    "postal_code": place.postal_code,
                    "state": place.state,
                }
            elif what == "description":
                c["description"] = f"Account {first} {last}"
            elif what == "metadata":
                c["metadata"] = {**c["metadata"], "crm_id": f"CRM-{number:04d}"}
            else:
                c["phone"] = f"+1415555{number:04d}"

        self.update(change, "customers", edit, "customer.updated")

    def customer_deleted(self, change: Change) -> None:
        # Deleting a customer cancels its subscriptions at once (planned as their own changes).
        day, slot = change.place
        served = self.ds.served("customers", day, slot)
        self.ds.delete_customer(day, slot)
        self.emit(change, "customer.deleted", served, None)

    # prices ------------------------------------------------------------------------------------

    def price_archived(self, change: Change) -> None:
        self.update(change, "prices", lambda p: p.update(active=False), "price.updated")

    def apply(self, change: Change) -> None:
        if change.kind == CASCADE:
            self.subscription_canceled(change, reason="cancellation_requested")
        elif change.kind in OTHER_STEPS:
            OTHER_STEPS[change.kind](self, change)
        else:
            getattr(self, change.kind)(change)


CASCADE = "subscription_canceled_with_customer"
# Kinds of change, in the order they apply within one second.
CHANGE_KINDS: tuple[str, ...] = (
    "charge_captured",
    "charge_refunded",
    "charge_disputed",
    "charge_updated",
    "refund_succeeded",
    "refund_failed",
    "subscription_trial_ended",
    "subscription_past_due",
    "subscription_canceled",
    "customer_updated",
    "customer_deleted",
    "price_archived",
    "payment_intent_canceled",
    "product_updated",
    "product_deleted",
    "payout_paid",
    "payout_failed",
    "dispute_updated",
    "dispute_closed",
    "coupon_updated",
    "coupon_deleted",
    "setup_intent_succeeded",
    "setup_intent_canceled",
    "transfer_updated",
    "transfer_reversed",
    "application_fee_refunded",
    "credit_note_updated",
    "credit_note_voided",
    "checkout_session_completed",
    "checkout_session_expired",
    "tax_rate_updated",
    "tax_rate_archived",
    "promotion_code_updated",
    "promotion_code_deactivated",
    "subscription_item_updated",
    "payment_method_attached",
    "payment_method_detached",
    "invoice_item_deleted",
)
# Kinds applied by the lifecycle modules of other resources.
OTHER_STEPS: dict[str, Callable[[Changer, Change], None]] = {
    "payment_intent_canceled": payment_intent_canceled,
    "product_updated": product_updated,
    "product_deleted": product_deleted,
    "payout_paid": payout_paid,
    "payout_failed": payout_failed,
    "dispute_updated": dispute_updated,
    "dispute_closed": dispute_closed,
    "coupon_updated": coupon_updated,
    "coupon_deleted": coupon_deleted,
    "setup_intent_succeeded": setup_intent_succeeded,
    "setup_intent_canceled": setup_intent_canceled,
    "transfer_updated": transfer_updated,
    "transfer_reversed": transfer_reversed,
    "application_fee_refunded": application_fee_refunded,
    "credit_note_updated": credit_note_updated,
    "credit_note_voided": credit_note_voided,
    "checkout_session_completed": checkout_session_completed,
    "checkout_session_expired": checkout_session_expired,
    "tax_rate_updated": tax_rate_updated,
    "tax_rate_archived": tax_rate_archived,
    "promotion_code_updated": promotion_code_updated,
    "promotion_code_deactivated": promotion_code_deactivated,
    "subscription_item_updated": subscription_item_updated,
    "payment_method_attached": payment_method_attached,
    "payment_method_detached": payment_method_detached,
    "invoice_item_deleted": invoice_item_deleted,
}
KIND_TAGS = {kind: i for i, kind in enumerate((*CHANGE_KINDS, CASCADE))}
# A deleted customer's subscriptions are canceled just before it is deleted, in the same second.
STAGES = {kind: 2 * KIND_TAGS[kind] for kind in CHANGE_KINDS} | {CASCADE: 2 * KIND_TAGS["customer_deleted"] - 1}

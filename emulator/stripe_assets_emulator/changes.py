"""Moving the emulator's clock on: which objects change, when, and in which order.

`advance(ds, seconds, changes)` plans every change first (so a request it cannot satisfy changes
nothing), then applies them in time order, each sending its Events. Which objects change and
when is drawn from (seed, number of the advance, kind): the same seed and the same calls give the
same objects and events, byte for byte.

Each kind draws from the objects that can take that step at the start of the advance (an
uncaptured charge can be captured, a trialing subscription can end its trial, ...). Within one
advance an object takes at most one step of its lifecycle, except that a refund created pending
may settle or fail later in the same advance. A deleted customer's live subscriptions are
canceled with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from stripe_assets_emulator.children import children, generated_cards
from stripe_assets_emulator.config import parse_counts
from stripe_assets_emulator.dataset import Dataset
from stripe_assets_emulator.generators.checkout_sessions import CheckoutSessions
from stripe_assets_emulator.generators.payouts import ARRIVAL_DAYS
from stripe_assets_emulator.generators.products import Products
from stripe_assets_emulator.generators.promotion_codes import PromotionCodes
from stripe_assets_emulator.generators.setup_intents import OPEN as SETUP_OPEN
from stripe_assets_emulator.generators.setup_intents import SetupIntents
from stripe_assets_emulator.generators.tax_rates import TaxRates
from stripe_assets_emulator.ids import MAX_DAYS
from stripe_assets_emulator.lifecycles import (
    CASCADE,
    CHANGE_KINDS,
    KIND_TAGS,
    LIVE_STATUSES,
    STAGES,
    Change,
    Changer,
)
from stripe_assets_emulator.lifecycles_disputes import OPEN
from stripe_assets_emulator.plans import (
    DAY_SECONDS,
    FAILED,
    SUBSCRIPTION_STATUSES,
    UNCAPTURED,
    _view,
    ref,
    unref,
)
from stripe_assets_emulator.rng import Purpose

# A realistic mix, for `changes=<total>`: edits and refunds are common, disputes rare.
DEFAULT_MIX: Mapping[str, int] = {
    "charge_captured": 4,
    "charge_refunded": 12,
    "charge_disputed": 2,
    "charge_updated": 12,
    "refund_succeeded": 6,
    "refund_failed": 1,
    "subscription_trial_ended": 6,
    "subscription_past_due": 5,
    "subscription_canceled": 8,
    "customer_updated": 14,
    "customer_deleted": 3,
    "price_archived": 3,
    "payment_intent_canceled": 3,
    "product_updated": 3,
    "product_deleted": 1,
    "payout_paid": 2,
    "payout_failed": 1,
    "dispute_updated": 1,
    "dispute_closed": 1,
    "coupon_updated": 2,
    "coupon_deleted": 1,
    "setup_intent_succeeded": 2,
    "setup_intent_canceled": 1,
    "transfer_updated": 1,
    "transfer_reversed": 1,
    "application_fee_refunded": 1,
    "credit_note_updated": 1,
    "credit_note_voided": 1,
    "checkout_session_completed": 2,
    "checkout_session_expired": 1,
    "tax_rate_updated": 1,
    "tax_rate_archived": 1,
    "promotion_code_updated": 1,
    "promotion_code_deactivated": 1,
    "subscription_item_updated": 4,
    "payment_method_attached": 3,
    "payment_method_detached": 2,
    "invoice_item_deleted": 1,
}
NEW_REFUND_PENDING = 0.4  # share of new refunds created pending (they settle or fail later)
_STATUS = {s: i for i, s in enumerate(SUBSCRIPTION_STATUSES)}


@dataclass
class Advance:
    """What one advance did."""

    now: int  # the clock after it (Unix seconds)
    changes: dict[str, int]  # changes made, by kind
    events: int  # events sent
    event_types: dict[str, int] = field(default_factory=dict)
    settled: int = 0  # pending balance transactions that became available (no event)

    def to_json(self) -> dict:
        return {
            "now": self.now, "changes": self.changes, "events": self.events, "event_types": self.event_types,
            "balance_transactions_settled": self.settled,
        }


# Which objects can take each step -----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    resource: str
    planned: Callable[[Dataset, int], Iterable[int]]  # slots of a generated day, as generated
    still: Callable[[Dataset, int, int, dict], bool]  # a changed object's current state qualifies


def _refundable(ds: Dataset, day: int) -> list[int]:
    plan = ds.plans.charges(day)
    refunded = ds.plans.refunded_totals(day)
    disputed = ds.plans.disputed_charges(day)
    return [s for s in plan.settled if refunded.get(s, 0) < plan.amount[s] and s not in disputed]


def _charge_open(ds: Dataset, d: int, s: int, c: dict) -> bool:
    return c["captured"] and not c["disputed"] and c["amount_refunded"] < c["amount"]


def _where(values, test) -> list[int]:
    return np.flatnonzero(test(_view(values))).tolist()


def _priced(ds: Dataset) -> frozenset[tuple[int, int]]:
    return ds.generator(Products).priced()


def _in_transit(ds: Dataset, day: int) -> range:
    arrival = ds.plans.day_start(day) + ARRIVAL_DAYS * DAY_SECONDS
    return range(ds.plans.count("payouts", day) if arrival > ds.plans.end else 0)


def _all_disputes(ds: Dataset, day: int) -> range:
    return range(ds.plans.count("disputes", day))


def _customer_live(ds: Dataset, d: int, s: int, c: dict) -> bool:
    return not ds.is_deleted("customers", d, s)


def _subscriptions_in(*statuses: str) -> Step:
    wanted = np.array([_STATUS[s] for s in statuses])
    return Step(
        "subscriptions",
        lambda ds, day: _where(ds.plans.subscriptions(day).status, lambda v: np.isin(v, wanted)),
        lambda ds, d, s, sub: sub["status"] in statuses,
    )


STEPS: Mapping[str, Step] = {
    "charge_captured": Step(
        "charges",
        lambda ds, day: _where(ds.plans.charges(day).state, lambda v: v == UNCAPTURED),
        lambda ds, d, s, c: not c["captured"] and c["status"] == "succeeded",
    ),
    "charge_refunded": Step("charges", _refundable, _charge_open),
    "charge_disputed": Step("charges", _refundable, _charge_open),
    "charge_updated": Step(
        "charges", lambda ds, day: range(ds.plans.count("charges", day)), lambda ds, d, s, c: True
    ),
    "refund_succeeded": Step(
        "refunds",
        lambda ds, day: ds.builder.pending_refunds(day),
        lambda ds, d, s, r: r["status"] == "pending",
    ),
    "subscription_trial_ended": _subscriptions_in("trialing"),
    "subscription_past_due": _subscriptions_in("active"),
    "subscription_canceled": _subscriptions_in(*LIVE_STATUSES),
    "customer_updated": Step(
        "customers", lambda ds, day: _where(ds.plans.customers(day).deleted, lambda v: v == 0), _customer_live
    ),
    "price_archived": Step(
        "prices", lambda ds, day: _where(ds.plans.prices(day).active, lambda v: v == 1), lambda ds, d, s, p: p["active"]
    ),
    # A declined charge leaves its intent waiting for another payment method, until canceled.
    "payment_intent_canceled": Step(
        "payment_intents",
        lambda ds, day: _where(ds.plans.charges(day).state, lambda v: v == FAILED),
        lambda ds, d, s, pi: pi["status"] == "requires_payment_method",
    ),
    "product_updated": Step(
        "products",
        lambda ds, day: range(ds.plans.count("products", day)),
        lambda ds, d, s, p: not ds.is_deleted("products", d, s),
    ),
    # Stripe deletes only products no price points at.
    "product_deleted": Step(
        "products",
        lambda ds, day: [s for s in range(ds.plans.count("products", day)) if (day, s) not in _priced(ds)],
        lambda ds, d, s, p: not ds.is_deleted("products", d, s) and (d, s) not in _priced(ds),
    ),
    # Payouts made in the last days of the window are still in transit.
    "payout_paid": Step("payouts", _in_transit, lambda ds, d, s, p: p["status"] == "in_transit"),
    # Generated disputes all wait for a response; those under review can still be decided.
    "dispute_updated": Step("disputes", _all_disputes, lambda ds, d, s, du: du["status"] == "needs_response"),
    "dispute_closed": Step("disputes", _all_disputes, lambda ds, d, s, du: du["status"] in OPEN),
    "coupon_updated": Step(
        "coupons",
        lambda ds, day: range(ds.count("coupons", day)),
        lambda ds, d, s, c: not ds.is_deleted("coupons", d, s),
    ),
    # Setup intents waiting for the customer either succeed or are canceled.
    "setup_intent_succeeded": Step(
        "setup_intents",
        lambda ds, day: ds.generator(SetupIntents).open_slots(day),
        lambda ds, d, s, si: si["status"] in SETUP_OPEN,
    ),
    # Any transfer can be edited; one not yet wholly reversed can be reversed (further).
    "transfer_updated": Step("transfers", lambda ds, day: range(ds.count("transfers", day)), lambda ds, d, s, t: True),
    "transfer_reversed": Step(
        "transfers", lambda ds, day: range(ds.count("transfers", day)), lambda ds, d, s, t: not t["reversed"]
    ),
    # A fee not yet wholly refunded can be refunded (further).
    "application_fee_refunded": Step(
        "application_fees",
        lambda ds, day: range(ds.count("application_fees", day)),
        lambda ds, d, s, f: not f["refunded"],
    ),
    # Issued credit notes can be edited or voided; a void one stays as it is.
    "credit_note_updated": Step(
        "credit_notes",
        lambda ds, day: range(ds.count("credit_notes", day)),
        lambda ds, d, s, cn: cn["status"] == "issued",
    ),
    # Open sessions are completed (if their target could have come from them) or expire.
    "checkout_session_completed": Step(
        "checkout_sessions",
        lambda ds, day: ds.generator(CheckoutSessions).open_slots(day, completable=True),
        lambda ds, d, s, cs: cs["status"] == "open",
    ),
    "checkout_session_expired": Step(
        "checkout_sessions",
        lambda ds, day: ds.generator(CheckoutSessions).open_slots(day),
        lambda ds, d, s, cs: cs["status"] == "open",
    ),
    "tax_rate_updated": Step("tax_rates", lambda ds, day: range(ds.count("tax_rates", day)), lambda ds, d, s, t: True),
    # Only a rate in use can be archived.
    "tax_rate_archived": Step(
        "tax_rates", lambda ds, day: ds.generator(TaxRates).active_slots(day), lambda ds, d, s, t: t["active"]
    ),
    "promotion_code_updated": Step(
        "promotion_codes", lambda ds, day: range(ds.count("promotion_codes", day)), lambda ds, d, s, p: True
    ),
    "promotion_code_deactivated": Step(
        "promotion_codes",
        lambda ds, day: ds.generator(PromotionCodes).active_slots(day),
        lambda ds, d, s, p: p["active"],
    ),
    # Only a pending item (on no invoice yet) can be deleted.
    "invoice_item_deleted": Step(
        "invoice_items",
        lambda ds, day: range(ds.count("invoice_items", day)),
        lambda ds, d, s, ii: not ds.is_deleted("invoice_items", d, s) and ii["invoice"] is None,
    ),
}
STEPS = {
    **STEPS,
    "subscription_item_updated": STEPS["subscription_canceled"],
    "payment_method_attached": STEPS["customer_updated"],
    # Only customers that have a card can have one detached.
    "payment_method_detached": Step(
        "customers",
        lambda ds, day: [s for s in STEPS["customer_updated"].planned(ds, day) if generated_cards(ds, day, s)],
        lambda ds, d, s, c: _customer_live(ds, d, s, c) and bool(children(ds, "payment_methods", d, s)),
    ),
    "refund_failed": STEPS["refund_succeeded"],
    "customer_deleted": STEPS["customer_updated"],
    "payout_failed": STEPS["payout_paid"],
    "coupon_deleted": STEPS["coupon_updated"],
    "setup_intent_canceled": STEPS["setup_intent_succeeded"],
    "credit_note_voided": STEPS["credit_note_updated"],
}
# Kinds that exclude each other on one object within an advance.
_CLAIMS = {
    "charge_captured": "charge state",
    "charge_refunded": "charge state",
    "charge_disputed": "charge state",
    "refund_succeeded": "refund state",
    "refund_failed": "refund state",
    "subscription_trial_ended": "subscription state",
    "subscription_past_due": "subscription state",
    "subscription_canceled": "subscription state",
    "customer_updated": "customer",
    "customer_deleted": "customer",
    "product_updated": "product",
    "product_deleted": "product",
    "payout_paid": "payout",
    "payout_failed": "payout",
    "dispute_updated": "dispute",
    "dispute_closed": "dispute",
    "coupon_updated": "coupon",
    "coupon_deleted": "coupon",
    "setup_intent_succeeded": "setup intent",
    "setup_intent_canceled": "setup intent",
    "transfer_updated": "transfer",
    "transfer_reversed": "transfer",
    "application_fee_refunded": "application fee",
    "credit_note_updated": "credit note",
    "credit_note_voided": "credit note",
    "checkout_session_completed": "checkout session",
    "checkout_session_expired": "checkout session",
    "tax_rate_updated": "tax rate",
    "tax_rate_archived": "tax rate",
    "promotion_code_updated": "promotion code",
    "promotion_code_deactivated": "promotion code",
    "invoice_item_deleted": "invoice item",
    "subscription_item_updated": "subscription state",
    "payment_method_attached": "customer",
    "payment_method_detached": "customer",
}


def candidates(ds: Dataset, kind: str) -> list[tuple[int, int]]:
    """Positions of the objects that can take this step now, in position order."""
    step = STEPS[kind]
    changed = ds.live.changed.get(step.resource, set())
    found = [
        (day, slot)
        for day in range(ds.config.days)
        for slot in step.planned(ds, day)
        if (day, slot) not in changed
    ]
    for day, slot in sorted(changed):
        if step.still(ds, day, slot, ds.current(step.resource, day, slot)):
            found.append((day, slot))
    found.sort()
    return found


def changeable(ds: Dataset) -> dict[str, int]:
    """How many objects can take each kind of step now (refunds created pending by an advance
    can also settle or fail within it)."""
    with ds.live.lock.read():
        return {kind: len(candidates(ds, kind)) for kind in CHANGE_KINDS}


def parse_changes(text: str) -> int | dict[str, int]:
    """`500` (a total) or `charge_refunded=500,customer_deleted=20` (counts by kind)."""
    counts = parse_counts(text, "changes", "kind")
    requested_counts(counts)  # names every unknown kind
    return counts


# Planning ----------------------------------------------------------------------------------


class ChangeRequestError(ValueError):
    """A request for changes that cannot be met (nothing was changed)."""


def requested_counts(changes: int | Mapping[str, int]) -> tuple[dict[str, int], bool]:
    """Counts by kind, and whether they are exact (a mapping) or a total to spread (an int)."""
    if isinstance(changes, int):
        if changes < 0:
            raise ChangeRequestError(f"changes must be >= 0, got {changes}")
        weights = np.array([DEFAULT_MIX[k] for k in CHANGE_KINDS], dtype=float)
        shares = changes * weights / weights.sum()
        counts = np.floor(shares).astype(int)
        for i in np.argsort(-(shares - counts), kind="stable")[: changes - counts.sum()]:
            counts[i] += 1
        return dict(zip(CHANGE_KINDS, counts.tolist(), strict=True)), False
    counts = dict.fromkeys(CHANGE_KINDS, 0)
    for kind, count in changes.items():
        if kind not in counts:
            raise ChangeRequestError(f"unknown kind of change {kind!r}; expected one of: {', '.join(CHANGE_KINDS)}")
        if not isinstance(count, int) or count < 0:
            raise ChangeRequestError(f"changes[{kind!r}] must be a whole number >= 0, got {count!r}")
        counts[kind] = count
    return counts, True


class _Planner:
    def __init__(self, ds: Dataset, number: int, start: int, until: int, exact: bool):
        self.ds = ds
        self.number = number
        self.start, self.until = start, until  # changes happen in (start, until]
        self.exact = exact
        self.claimed: dict[str, set[tuple[int, int]]] = {}
        self.changes: list[Change] = []
        self.made: dict[str, int] = {}
        self.numbers: dict[str, int] = {}

    def rng(self, kind: str) -> np.random.Generator:
        return np.random.default_rng([self.ds.plans.seed, Purpose.CHANGE, self.number, KIND_TAGS[kind]])

    def times(self, gen: np.random.Generator, n: int) -> list[int]:
        return gen.integers(self.start + 1, self.until + 1, n).tolist()

    def afford(self, kind: str, pool_size: int, count: int) -> int:
        """The count to make: all asked for, or (for a total to spread) what the pool allows."""
        if count > pool_size:
            if self.exact:
                raise ChangeRequestError(
                    f"{count} {kind} changes asked for, but only {pool_size} objects can take that "
                    "step in this advance (besides other changes it makes); ask for fewer or "
                    "generate more data (per_day)"
                )
            count = pool_size
        self.made[kind] = count
        return count

    def take(self, kind: str, pool: list, count: int) -> list:
        count = self.afford(kind, len(pool), count)
        return self.sample(kind, pool, count)

    def sample(self, kind: str, pool: list, count: int, salt: int = 0) -> list:
        if not count:
            return []
        gen = np.random.default_rng([self.ds.plans.seed, Purpose.CHANGE, self.number, KIND_TAGS[kind], salt])
        picks = gen.choice(len(pool), count, replace=False)
        return [pool[i] for i in sorted(picks.tolist())]

    def open_pool(self, kind: str) -> list[tuple[int, int]]:
        claimed = self.claimed.setdefault(_CLAIMS.get(kind, kind), set())
        return [p for p in candidates(self.ds, kind) if p not in claimed]

    def claim(self, kind: str, positions: Iterable[tuple[int, int]]) -> None:
        self.claimed.setdefault(_CLAIMS.get(kind, kind), set()).update(positions)

    def add(self, kind: str, at: int, target, **extra) -> Change:
        number = self.numbers.get(kind, 0)
        self.numbers[kind] = number + 1
        change = Change(at, STAGES[kind], number, kind, target, **extra)
        self.changes.append(change)
        return change

    def simple(self, kind: str, count: int) -> list[Change]:
        picked = self.take(kind, self.open_pool(kind), count)
        self.claim(kind, picked)
        times = self.times(self.rng(kind), len(picked))
        return [self.add(kind, at, target) for at, target in zip(times, picked, strict=True)]

    # kinds with their own timing -----------------------------------------------------------

    def customers_deleted(self, count: int) -> None:
        """Customers deleted with their live subscriptions, canceled in the same second; customers
        whose subscriptions change otherwise in this advance are left alone."""
        kind = "customer_deleted"
        if not count:
            self.made[kind] = 0
            return
        days = range(self.ds.config.days)
        owners = np.concatenate([_view(self.ds.plans.subscriptions(d).customer) for d in days])
        positions = [(d, s) for d in days for s in range(self.ds.plans.count("subscriptions", d))]
        index = {p: i for i, p in enumerate(positions)}
        busy = {unref(int(owners[index[p]])) for p in self.claimed.get(_CLAIMS["subscription_canceled"], ())}
        pool = [p for p in self.open_pool(kind) if p not in busy]
        picked = self.take(kind, pool, count)
        self.claim(kind, picked)
        times = self.times(self.rng(kind), len(picked))
        deleted = [self.add(kind, at, target) for at, target in zip(times, picked, strict=True)]
        live = set(candidates(self.ds, "subscription_canceled"))
        for change in deleted:
            for i in np.flatnonzero(owners == ref(*change.place)).tolist():
                if positions[i] in live:
                    self.add(CASCADE, change.at, positions[i])
                    self.claim("subscription_canceled", [positions[i]])

    def trials_ended(self, count: int) -> None:
        kind = "subscription_trial_ended"
        if not count:
            self.made[kind] = 0
            return
        pool = self.open_pool(kind)
        # Trials that end within the advance end on time (those already over, left trialing by an
        # earlier advance, at its start); others are ended early.
        ends = {p: self.ds.current("subscriptions", *p)["trial_end"] for p in pool}
        due = [p for p in pool if ends[p] <= self.until]
        count = self.afford(kind, len(pool), count)
        if count <= len(due):
            picked = self.sample(kind, due, count)
        else:
            due_set = set(due)
            picked = due + self.sample(kind, [p for p in pool if p not in due_set], count - len(due), salt=1)
        self.claim(kind, picked)
        times = self.times(self.rng(kind), len(picked))
        for at, target in zip(times, picked, strict=True):
            self.add(kind, max(ends[target], self.start + 1) if ends[target] <= self.until else at, target)

    def past_due(self, count: int) -> None:
        kind = "subscription_past_due"
        picked = self.take(kind, self.open_pool(kind), count)
        self.claim(kind, picked)
        times = self.times(self.rng(kind), len(picked))
        for at, target in zip(times, picked, strict=True):
            period_end = self.ds.current("subscriptions", *target)["items"]["data"][0]["current_period_end"]
            self.add(kind, period_end if self.start < period_end <= self.until else at, target)

    def charges_refunded(self, count: int) -> list[Change]:
        made = self.simple("charge_refunded", count)
        gen = np.random.default_rng([self.ds.plans.seed, Purpose.CHANGE, self.number, len(KIND_TAGS)])
        for change, draw in zip(made, gen.random(len(made)).tolist(), strict=True):
            change.pending = draw < NEW_REFUND_PENDING
        return made

    def refunds_settled(self, counts: Mapping[str, int], new: list[Change]) -> None:
        pool: list = [("old", p) for p in candidates(self.ds, "refund_succeeded")]
        pool += [("new", c) for c in new if c.pending]
        for kind in ("refund_succeeded", "refund_failed"):
            picked = self.take(kind, pool, counts[kind])
            taken = {id(p) for p in picked}
            pool = [p for p in pool if id(p) not in taken]
            times = self.times(self.rng(kind), len(picked))
            for at, (origin, what) in zip(times, picked, strict=True):
                if origin == "old":
                    self.add(kind, at, what)
                else:  # after the refund's creation, in the time left
                    share = (at - self.start - 1) / max(self.until - self.start, 1)
                    later = what.at + int((self.until - what.at) * share)
                    self.add(kind, max(later, what.at), None, source=what)


def plan(
    ds: Dataset, number: int, until: int, counts: Mapping[str, int], exact: bool
) -> tuple[list[Change], dict[str, int]]:
    p = _Planner(ds, number, ds.now, until, exact)
    p.trials_ended(counts["subscription_trial_ended"])
    p.past_due(counts["subscription_past_due"])
    p.simple("subscription_canceled", counts["subscription_canceled"])
    p.customers_deleted(counts["customer_deleted"])
    p.simple("customer_updated", counts["customer_updated"])
    p.simple("charge_captured", counts["charge_captured"])
    new_refunds = p.charges_refunded(counts["charge_refunded"])
    p.simple("charge_disputed", counts["charge_disputed"])
    p.simple("charge_updated", counts["charge_updated"])
    p.simple("price_archived", counts["price_archived"])
    p.simple("payment_intent_canceled", counts["payment_intent_canceled"])
    p.simple("product_updated", counts["product_updated"])
    p.simple("product_deleted", counts["product_deleted"])
    p.simple("payout_paid", counts["payout_paid"])
    p.simple("payout_failed", counts["payout_failed"])
    p.simple("dispute_updated", counts["dispute_updated"])
    p.simple("dispute_closed", counts["dispute_closed"])
    p.simple("coupon_updated", counts["coupon_updated"])
    p.simple("coupon_deleted", counts["coupon_deleted"])
    p.simple("setup_intent_succeeded", counts["setup_intent_succeeded"])
    p.simple("setup_intent_canceled", counts["setup_intent_canceled"])
    p.simple("transfer_updated", counts["transfer_updated"])
    p.simple("transfer_reversed", counts["transfer_reversed"])
    p.simple("application_fee_refunded", counts["application_fee_refunded"])
    p.simple("credit_note_updated", counts["credit_note_updated"])
    p.simple("credit_note_voided", counts["credit_note_voided"])
    p.simple("checkout_session_completed", counts["checkout_session_completed"])
    p.simple("checkout_session_expired", counts["checkout_session_expired"])
    p.simple("tax_rate_updated", counts["tax_rate_updated"])
    p.simple("tax_rate_archived", counts["tax_rate_archived"])
    p.simple("promotion_code_updated", counts["promotion_code_updated"])
    p.simple("promotion_code_deactivated", counts["promotion_code_deactivated"])
    for kind in (
        "subscription_item_updated", "payment_method_attached", "payment_method_detached",
        "invoice_item_deleted",
    ):
        p.simple(kind, counts[kind])
    p.refunds_settled(counts, new_refunds)
    made = {kind: p.made.get(kind, 0) for kind in CHANGE_KINDS}
    return sorted(p.changes, key=lambda c: c.order), made


def advance(
    ds: Dataset,
    seconds: int,
    changes: int | Mapping[str, int] = 0,
    *,
    old_api_version_share: float = 0.0,
    applied: Callable[[], None] | None = None,
) -> Advance:
    """Moves the clock `seconds` on, making the changes asked for at times within that span.

    `changes` is a total spread over the kinds in a realistic mix (each capped at the objects
    that can take the step), or exact counts by kind (CHANGE_KINDS), refused with
    ChangeRequestError when more objects are asked for than can change. `applied` runs once the
    changes are made, before any request can read them (to drop cached pages).
    """
    if seconds < 0:
        raise ChangeRequestError(f"the clock only moves forward: seconds must be >= 0, got {seconds}")
    if not 0 <= old_api_version_share <= 1:
        raise ChangeRequestError(f"old_api_version_share must be between 0 and 1, got {old_api_version_share}")
    counts, exact = requested_counts(changes)
    until = ds.now + seconds
    if (until - ds.plans.start) // DAY_SECONDS >= MAX_DAYS:
        raise ChangeRequestError(f"the clock cannot move past {MAX_DAYS} days after the data's first day")
    if sum(counts.values()) and seconds < 1:
        raise ChangeRequestError("changes need time to happen in: advance the clock by at least a second")
    with ds.live.lock.write():
        number = ds.advances
        planned, made = plan(ds, number, until, counts, exact)
        changer = Changer(ds, number, old_api_version_share)
        first_event = len(ds.events)
        for change in planned:
            changer.apply(change)
        settled = ds.settle(until)
        ds.now = until
        ds.advances += 1
        if applied is not None:
            applied()
        types: dict[str, int] = {}
        for name in ds.events.types[first_event:]:
            types[name] = types.get(name, 0) + 1
    return Advance(ds.now, made, len(ds.events) - first_event, dict(sorted(types.items())), settled)

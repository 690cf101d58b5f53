"""Each resource's objects of one UTC day, as compact arrays of the facts other objects need.

A day plan holds, per slot, the creation time and the traits that listing filters and
cross-references depend on (a charge's customer, amount and status; a refund's charge; ...).
Plans are drawn with numpy, a whole day at once, from (seed, resource, day) and cached, so
serving a page only builds the few days it touches, whatever the size of the data set. They are
stored as `array`/`bytes` so that reading one slot gives a plain Python int.

Rules that keep the data consistent:
- slots are numbered in creation order; slot 0 of every day is created exactly at midnight UTC and,
  with four or more objects, three consecutive slots share one second (cursor tie-breaking);
- charges, subscriptions, refunds and prices only point at objects created at or before themselves;
- slot 0 of a day is always a usable target (a settled charge, a recurring price), so every
  reference can be satisfied whatever the volumes;
- balance transactions are derived: one per settled (succeeded and captured) charge and one per
  refund, created in the same second as their source, and one per payout;
- payouts are derived: one a day per currency with funds that became available that day;
- a transfer to a connected account has a balance transaction created in its second;
- application fees are derived: one on about one settled charge in ten, created in the charge's
  second, with its balance transaction just after the charge's.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stripe_assets.catalog import RESOURCES
from stripe_assets_emulator.config import EmulatorConfig
from stripe_assets_emulator.rng import Draws, Purpose, seed_key
from stripe_assets_emulator.vocab import (
    CURRENCIES,
    CURRENCY_WEIGHTS,
    PRICE_POINTS_USD,
    minor_units,
    processing_fee,
)

# Each resource's key part in every draw: its declared ordinal, which never changes.
TAGS: dict[str, int] = {r.name: r.ordinal for r in RESOURCES.values()}
DAY_SECONDS = 86400

# Charge states: settled charges have a balance transaction and may be refunded.
SETTLED, UNCAPTURED, FAILED, PENDING = 0, 1, 2, 3
_CHARGE_STATE_WEIGHTS = (88, 2, 8, 2)

SUBSCRIPTION_STATUSES = (
    "active",
    "trialing",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "paused",
)
_SUBSCRIPTION_WEIGHTS = (62, 8, 4, 1, 16, 3, 3, 3)
_STATUS = {s: i for i, s in enumerate(SUBSCRIPTION_STATUSES)}
CANCELED = _STATUS["canceled"]
INCOMPLETE_WINDOW = 23 * 3600  # Stripe expires incomplete subscriptions after 23 hours

INTERVALS = ("day", "week", "month", "year")
_INTERVAL_WEIGHTS = (3, 7, 70, 20)
TRIAL_DAYS = (0, 0, 0, 0, 7, 14, 30)

REFUND_MAX_LAG_DAYS = 7  # refunds point at charges made up to this many days earlier
_REFUND_LAG_WEIGHTS = (45, 18, 10, 8, 6, 5, 4, 4)

# Balance transaction sources.
FROM_CHARGE, FROM_REFUND, FROM_PAYOUT, FROM_DISPUTE, FROM_TRANSFER, FROM_APPLICATION_FEE = 0, 1, 2, 3, 4, 5
APPLICATION_FEE_RATE = 0.1  # share of a day's settled charges the platform takes a fee from

DISPUTE_MAX_LAG_DAYS = 7  # disputes come up to this many days after their charge

# Amounts by currency (row) and price point (column), in minor units.
_AMOUNTS = np.array([[minor_units(p, c) for p in PRICE_POINTS_USD] for c in CURRENCIES], dtype=np.int64)


def funds_delay_days(currency: str) -> int:
    """Days until card funds become available, at midnight UTC (longer in Japan)."""
    return 4 if currency == "jpy" else 2


def ref(day: int, slot: int) -> int:
    """One integer for a (day, slot) position."""
    return day << 32 | slot


def unref(value: int) -> tuple[int, int]:
    return value >> 32, value & 0xFFFFFFFF


def _p(weights: tuple[int, ...]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _int64(values: np.ndarray) -> array:
    return array("q", np.ascontiguousarray(values, dtype=np.int64).tobytes())


def _small(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values, dtype=np.uint8).tobytes()


def _view(values: array | bytes) -> np.ndarray:
    """A numpy view of a stored plan array, for whole-day lookups."""
    return np.frombuffer(values, dtype=np.int64 if isinstance(values, array) else np.uint8)


def creation_offsets(gen: np.random.Generator, n: int) -> np.ndarray:
    """Sorted seconds after midnight: the first at midnight, and three sharing one second."""
    offsets = np.sort(gen.integers(0, DAY_SECONDS, n))
    if n:
        offsets[0] = 0
    if n >= 4:
        i = n // 2 - 1
        offsets[i + 1] = offsets[i + 2] = offsets[i]
    return offsets


@dataclass(frozen=True, slots=True)
class CustomerDay:
    created: array
    deleted: bytes
    currency: bytes  # index into CURRENCIES: the currency the customer pays in


@dataclass(frozen=True, slots=True)
class ProductDay:
    created: array
    active: bytes


@dataclass(frozen=True, slots=True)
class PriceDay:
    created: array
    active: bytes
    recurring: bytes
    currency: bytes
    interval: bytes  # index into INTERVALS
    interval_count: bytes
    unit_amount: array
    product: array  # ref() of the product


@dataclass(frozen=True, slots=True)
class ChargeDay:
    created: array
    state: bytes  # SETTLED, UNCAPTURED, FAILED or PENDING
    customer: array  # ref() of the customer, or -1 for a guest payment
    currency: bytes
    amount: array
    settled: array  # slots of settled charges, in creation order
    settled_created: array


@dataclass(frozen=True, slots=True)
class SubscriptionDay:
    created: array
    customer: array
    price: array
    status: bytes  # index into SUBSCRIPTION_STATUSES
    trial_days: bytes
    quantity: bytes


@dataclass(frozen=True, slots=True)
class RefundDay:
    created: array
    charge: array  # ref() of the refunded charge


@dataclass(frozen=True, slots=True)
class BalanceDay:
    created: array
    source_kind: bytes  # FROM_CHARGE or FROM_REFUND
    source_slot: array  # slot of the charge or refund on the same day
    charge_txn: array  # charge slot -> balance transaction slot, -1 if the charge has none
    refund_txn: array  # refund slot -> balance transaction slot
    payout_txn: array  # payout slot -> balance transaction slot
    dispute_txn: array  # dispute slot -> balance transaction slot
    transfer_txn: array  # transfer slot -> balance transaction slot
    application_fee_txn: array  # application fee slot -> balance transaction slot


@dataclass(frozen=True, slots=True)
class DisputeDay:
    created: array
    charge: array  # ref() of the disputed charge


@dataclass(frozen=True, slots=True)
class TransferDay:
    created: array
    currency: bytes
    amount: array


@dataclass(frozen=True, slots=True)
class ApplicationFeeDay:
    created: array
    charge: array  # slot of the charge (same day) the fee was taken from
    of_charge: array  # charge slot -> application fee slot, -1 if none


@dataclass(frozen=True, slots=True)
class PayoutDay:
    created: array
    currency: bytes
    amount: array  # the net of the day's newly available charges in that currency


class Plans:
    """Day plans of every resource for one configuration, built on demand and cached."""

    def __init__(self, config: EmulatorConfig, cache_days: int = 512):
        self.config = config
        self.seed = seed_key(config.seed)
        self.days = config.days
        self.start = config.start_timestamp
        self.end = config.end_timestamp
        cache = functools.lru_cache(maxsize=cache_days)
        self.customers: Callable[[int], CustomerDay] = cache(self._customers)
        self.products: Callable[[int], ProductDay] = cache(self._products)
        self.prices: Callable[[int], PriceDay] = cache(self._prices)
        self.charges: Callable[[int], ChargeDay] = cache(self._charges)
        self.subscriptions: Callable[[int], SubscriptionDay] = cache(self._subscriptions)
        self.refunds: Callable[[int], RefundDay] = cache(self._refunds)
        self.payouts: Callable[[int], PayoutDay] = cache(self._payouts)
        self.transfers: Callable[[int], TransferDay] = cache(self._transfers)
        self.application_fees: Callable[[int], ApplicationFeeDay] = cache(self._application_fees)
        self.disputed_charges: Callable[[int], dict[int, tuple[int, int]]] = cache(self._disputed_charges)
        self.disputes: Callable[[int], DisputeDay] = cache(self._disputes)
        self.balance_transactions: Callable[[int], BalanceDay] = cache(self._balance_transactions)
        self.refunds_of_charges: Callable[[int], dict[int, list[int]]] = cache(self._refunds_of_charges)
        self.refunded_totals: Callable[[int], dict[int, int]] = cache(self._refunded_totals)
        self._offered_prices = functools.lru_cache(maxsize=cache_days * len(CURRENCIES))(
            self._find_offered_prices
        )

    def day(self, resource: str, day: int):
        return getattr(self, resource)(day)

    def count(self, resource: str, day: int) -> int:
        if resource in ("balance_transactions", "payouts", "disputes", "application_fees"):
            return len(self.day(resource, day).created)
        return self.config.count_per_day(resource)

    def created(self, resource: str, day: int) -> array:
        return self.day(resource, day).created

    def day_start(self, day: int) -> int:
        return self.start + day * DAY_SECONDS

    def _generator(self, resource: str, day: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, TAGS[resource], day, Purpose.DAY])

    def _timestamps(self, gen: np.random.Generator, day: int, n: int) -> np.ndarray:
        return self.day_start(day) + creation_offsets(gen, n)

    def pick_earlier(
        self, gen: np.random.Generator, day: int, created: np.ndarray, resource: str
    ) -> np.ndarray:
        """For each timestamp, a random `resource` object created on an earlier day or earlier
        the same day (midnight counts), as ref()s."""
        n = len(created)
        target_day = gen.integers(0, day + 1, n)
        available = np.full(n, self.config.count_per_day(resource), dtype=np.int64)
        same_day = target_day == day
        available[same_day] = np.searchsorted(
            _view(self.created(resource, day)), created[same_day], side="right"
        )
        slot = (gen.random(n) * available).astype(np.int64)
        return (target_day << 32) | slot

    @staticmethod
    def _gather(refs: np.ndarray, values_of: Callable[[int], array | bytes]) -> np.ndarray:
        """values_of(day)[slot] for each ref()."""
        days, slots = refs >> 32, refs & 0xFFFFFFFF
        out = np.zeros(len(refs), dtype=np.int64)
        for day in np.unique(days):
            mask = days == day
            out[mask] = _view(values_of(int(day)))[slots[mask]]
        return out

    # generated resources ---------------------------------------------------------------------

    def _customers(self, day: int) -> CustomerDay:
        gen = self._generator("customers", day)
        n = self.config.count_per_day("customers")
        created = self._timestamps(gen, day, n)
        deleted = gen.random(n) < 0.04
        currency = gen.choice(len(CURRENCIES), n, p=_p(CURRENCY_WEIGHTS))
        return CustomerDay(_int64(created), _small(deleted), _small(currency))

    def _products(self, day: int) -> ProductDay:
        gen = self._generator("products", day)
        n = self.config.count_per_day("products")
        created = self._timestamps(gen, day, n)
        active = gen.random(n) < 0.9
        active[:1] = True
        return ProductDay(_int64(created), _small(active))

    def _prices(self, day: int) -> PriceDay:
        gen = self._generator("prices", day)
        n = self.config.count_per_day("prices")
        created = self._timestamps(gen, day, n)
        active = gen.random(n) < 0.85
        recurring = gen.random(n) < 0.7
        active[:1] = recurring[:1] = True  # the midnight price can always be subscribed to
        currency = gen.choice(len(CURRENCIES), n, p=_p(CURRENCY_WEIGHTS))
        interval = gen.choice(len(INTERVALS), n, p=_p(_INTERVAL_WEIGHTS))
        interval_count = np.where(gen.random(n) < 0.08, 3, 1)
        unit_amount = _AMOUNTS[currency, gen.integers(0, len(PRICE_POINTS_USD), n)]
        product = self.pick_earlier(gen, day, created, "products")  # prices are made for existing products
        return PriceDay(
            _int64(created),
            _small(active),
            _small(recurring),
            _small(currency),
            _small(interval),
            _small(interval_count),
            _int64(unit_amount),
            _int64(product),
        )

    def _charges(self, day: int) -> ChargeDay:
        gen = self._generator("charges", day)
        n = self.config.count_per_day("charges")
        created = self._timestamps(gen, day, n)
        state = gen.choice(4, n, p=_p(_CHARGE_STATE_WEIGHTS))
        state[:1] = SETTLED  # the midnight charge can always be refunded
        has_customer = gen.random(n) < 0.85
        if self.config.count_per_day("customers") == 0:
            has_customer[:] = False
        customer = self.pick_earlier(gen, day, created, "customers")
        customer[~has_customer] = -1
        currency = gen.choice(len(CURRENCIES), n, p=_p(CURRENCY_WEIGHTS))
        if has_customer.any():  # customers pay in their own currency
            currency[has_customer] = self._gather(
                customer[has_customer], lambda d: self.customers(d).currency
            )
        quantity = np.where(gen.random(n) < 0.8, 1, gen.integers(2, 5, n))
        amount = _AMOUNTS[currency, gen.integers(0, len(PRICE_POINTS_USD), n)] * quantity
        settled = np.flatnonzero(state == SETTLED)
        return ChargeDay(
            _int64(created),
            _small(state),
            _int64(customer),
            _small(currency),
            _int64(amount),
            _int64(settled),
            _int64(created[settled]),
        )

    def _subscriptions(self, day: int) -> SubscriptionDay:
        gen = self._generator("subscriptions", day)
        n = self.config.count_per_day("subscriptions")
        created = self._timestamps(gen, day, n)
        customer = self.pick_earlier(gen, day, created, "customers")
        currency = self._gather(customer, lambda d: self.customers(d).currency)
        price = self._pick_prices(gen, day, created, currency)
        status = gen.choice(len(SUBSCRIPTION_STATUSES), n, p=_p(_SUBSCRIPTION_WEIGHTS))
        trial_days = np.asarray(TRIAL_DAYS)[gen.integers(0, len(TRIAL_DAYS), n)]
        quantity = np.where(gen.random(n) < 0.75, 1, gen.integers(2, 21, n))
        # The status as of the end of the window, as Stripe moves subscriptions on:
        status[self._gather(customer, lambda d: self.customers(d).deleted) == 1] = CANCELED
        expired = (status == _STATUS["incomplete"]) & (self.end - created > INCOMPLETE_WINDOW)
        status[expired] = _STATUS["incomplete_expired"]
        trial_over = (trial_days == 0) | (created + trial_days * DAY_SECONDS <= self.end)
        status[(status == _STATUS["trialing"]) & trial_over] = _STATUS["active"]
        trial_days[status == _STATUS["incomplete"]] = 0
        return SubscriptionDay(
            _int64(created),
            _int64(customer),
            _int64(price),
            _small(status),
            _small(trial_days),
            _small(quantity),
        )

    def _find_offered_prices(self, day: int, currency: int) -> np.ndarray:
        """Slots of the recurring prices in `currency` created on `day`, oldest first."""
        plan = self.prices(day)
        return np.flatnonzero((_view(plan.recurring) == 1) & (_view(plan.currency) == currency))

    def _pick_prices(
        self, gen: np.random.Generator, day: int, created: np.ndarray, currency: np.ndarray
    ) -> np.ndarray:
        """For each subscription, a recurring price in its customer's currency created earlier."""
        chosen = np.full(len(created), -1, dtype=np.int64)
        for _ in range(8):  # days without such a price are retried with another day
            todo = np.flatnonzero(chosen < 0)
            if not todo.size:
                break
            target_day = gen.integers(0, day + 1, todo.size)
            draw = gen.random(todo.size)
            group = target_day * len(CURRENCIES) + currency[todo]
            for key in np.unique(group).tolist():
                price_day, wanted = divmod(key, len(CURRENCIES))
                members = group == key
                offered = self._offered_prices(price_day, wanted)
                if price_day < day:
                    available = np.full(members.sum(), len(offered))
                else:
                    offered_created = _view(self.prices(day).created)[offered]
                    available = np.searchsorted(offered_created, created[todo[members]], side="right")
                found = available > 0
                picks = offered[(draw[members][found] * available[found]).astype(np.int64)]
                chosen[todo[members][found]] = (price_day << 32) | picks
        for i in np.flatnonzero(chosen < 0).tolist():  # rare: search every earlier day in order
            chosen[i] = self._first_offered(day, int(created[i]), int(currency[i]))
        return chosen

    def _first_offered(self, day: int, at: int, currency: int) -> int:
        for price_day in range(day + 1):
            offered = self._offered_prices(price_day, currency)
            if offered.size and self.prices(price_day).created[int(offered[0])] <= at:
                return ref(price_day, int(offered[0]))
        return ref(0, 0)  # none in this currency yet: the first price (always recurring)

    def _refunds(self, day: int) -> RefundDay:
        gen = self._generator("refunds", day)
        n = self.config.count_per_day("refunds")
        created = self._timestamps(gen, day, n)
        lag = gen.choice(REFUND_MAX_LAG_DAYS + 1, n, p=_p(_REFUND_LAG_WEIGHTS))
        charge_day = np.maximum(day - lag, 0)
        draw = gen.random(n)
        charge = np.zeros(n, dtype=np.int64)
        for target_day in np.unique(charge_day):
            plan = self.charges(int(target_day))
            mask = charge_day == target_day
            settled = _view(plan.settled)
            if target_day < day:
                eligible = np.full(mask.sum(), len(settled))
            else:  # the midnight charge is settled, so at least one is eligible
                eligible = np.searchsorted(_view(plan.settled_created), created[mask], side="right")
            charge[mask] = (int(target_day) << 32) | settled[(draw[mask] * eligible).astype(np.int64)]
        return RefundDay(_int64(created), _int64(charge))

    def _transfers(self, day: int) -> TransferDay:
        gen = self._generator("transfers", day)
        n = self.config.count_per_day("transfers")
        created = self._timestamps(gen, day, n)
        currency = gen.choice(len(CURRENCIES), n, p=_p(CURRENCY_WEIGHTS))
        amount = _AMOUNTS[currency, gen.integers(0, len(PRICE_POINTS_USD), n)] * gen.integers(1, 6, n)
        return TransferDay(_int64(created), _small(currency), _int64(amount))

    # derived facts ---------------------------------------------------------------------------

    def _refunds_of_charges(self, charge_day: int) -> dict[int, list[int]]:
        """charge slot -> refs of its refunds, oldest first."""
        found: dict[int, list[int]] = {}
        for day in range(charge_day, min(charge_day + REFUND_MAX_LAG_DAYS + 1, self.days)):
            targets = _view(self.refunds(day).charge)
            for slot in np.flatnonzero((targets >> 32) == charge_day).tolist():
                found.setdefault(int(targets[slot]) & 0xFFFFFFFF, []).append(ref(day, slot))
        return found

    def refund_amounts(self, charge_day: int, charge_slot: int) -> list[int]:
        """How much each refund of a charge gives back (together, never more than the charge)."""
        refunds = self.refunds_of_charges(charge_day).get(charge_slot)
        if not refunds:
            return []
        amount = self.charges(charge_day).amount[charge_slot]
        r = Draws(self.seed, TAGS["charges"], charge_day, charge_slot, Purpose.REFUND_SPLIT)
        full = r.random() < (0.55 if len(refunds) == 1 else 0.7)
        total = amount if full else max(len(refunds), int(amount * r.uniform(0.1, 0.9)))
        share = total // len(refunds)
        return [share] * (len(refunds) - 1) + [total - share * (len(refunds) - 1)]

    def _refunded_totals(self, charge_day: int) -> dict[int, int]:
        """charge slot -> amount refunded by the generated refunds, for charges that have any."""
        return {slot: sum(self.refund_amounts(charge_day, slot)) for slot in self.refunds_of_charges(charge_day)}

    def refund_amount(self, day: int, slot: int) -> int:
        charge_day, charge_slot = unref(self.refunds(day).charge[slot])
        refunds = self.refunds_of_charges(charge_day)[charge_slot]
        return self.refund_amounts(charge_day, charge_slot)[refunds.index(ref(day, slot))]

    def _payouts(self, day: int) -> PayoutDay:
        """The day's automatic payouts: one per currency, in the first seconds of the day, of
        the net of the settled charges whose funds became available at its midnight."""
        created, currency, amount = [], [], []
        for index, cur in enumerate(CURRENCIES):
            charge_day = day - funds_delay_days(cur.code)
            if charge_day < 0:
                continue
            plan = self.charges(charge_day)
            settled = _view(plan.settled)
            amounts = _view(plan.amount)[settled][_view(plan.currency)[settled] == index]
            total = sum(a - processing_fee(a, cur) for a in amounts.tolist())
            if total > 0:
                created.append(self.day_start(day) + index)
                currency.append(index)
                amount.append(total)
        return PayoutDay(_int64(np.array(created)), _small(np.array(currency)), _int64(np.array(amount)))

    def _application_fees(self, day: int) -> ApplicationFeeDay:
        """The day's application fees: about one settled charge in ten, the midnight charge's
        always (so each day starts at midnight, like the other resources)."""
        gen = self._generator("application_fees", day)
        charges = self.charges(day)
        settled = _view(charges.settled)
        n = min(len(settled), max(1, round(APPLICATION_FEE_RATE * len(settled))))
        picks = np.zeros(0, dtype=np.int64)
        if n:
            others = gen.choice(np.arange(1, len(settled)), n - 1, replace=False)
            picks = np.sort(np.concatenate([np.zeros(1, dtype=np.int64), others.astype(np.int64)]))
        of_charge = np.full(len(charges.created), -1, dtype=np.int64)
        of_charge[settled[picks]] = np.arange(n)
        created = _view(charges.settled_created)[picks]
        return ApplicationFeeDay(_int64(created), _int64(settled[picks]), _int64(of_charge))

    def _disputed_charges(self, charge_day: int) -> dict[int, tuple[int, int]]:
        """Settled, unrefunded charges of a day disputed later: charge slot -> (dispute day, second
        of that day). Drawn from the charge's day, so each charge is disputed at most once."""
        gen = np.random.default_rng([self.seed, TAGS["disputes"], charge_day, Purpose.DAY])
        refunded = self.refunds_of_charges(charge_day)
        eligible = [s for s in self.charges(charge_day).settled if s not in refunded]
        n = min(len(eligible), max(1, round(self.config.dispute_rate * self.config.count_per_day("charges"))))
        picks = gen.choice(len(eligible), n, replace=False) if n else np.array([], dtype=np.int64)
        lags = gen.integers(1, DISPUTE_MAX_LAG_DAYS + 1, n)
        lags[:1] = 1  # every day after the first has a dispute
        offsets = gen.integers(0, DAY_SECONDS, n)
        return {
            eligible[int(p)]: (charge_day + int(lag), int(offset))
            for p, lag, offset in zip(picks, lags, offsets, strict=True)
            if charge_day + lag < self.days
        }

    def _disputes(self, day: int) -> DisputeDay:
        found = [
            (offset, charge_day, slot)
            for charge_day in range(max(0, day - DISPUTE_MAX_LAG_DAYS), day)
            for slot, (dispute_day, offset) in self.disputed_charges(charge_day).items()
            if dispute_day == day
        ]
        found.sort()
        created = np.array([self.day_start(day) + f[0] for f in found], dtype=np.int64)
        return DisputeDay(_int64(created), _int64(np.array([ref(c, s) for _, c, s in found], dtype=np.int64)))

    def _balance_transactions(self, day: int) -> BalanceDay:
        charges = self.charges(day)
        refunds = self.refunds(day)
        payouts = self.payouts(day)
        disputes = self.disputes(day)
        transfers = self.transfers(day)
        fees = self.application_fees(day)
        created = np.concatenate(
            [
                _view(charges.settled_created),
                _view(refunds.created),
                _view(payouts.created),
                _view(disputes.created),
                _view(transfers.created),
                _view(fees.created),
            ]
        )
        kind = np.concatenate(
            [
                np.full(len(charges.settled), FROM_CHARGE),
                np.full(len(refunds.created), FROM_REFUND),
                np.full(len(payouts.created), FROM_PAYOUT),
                np.full(len(disputes.created), FROM_DISPUTE),
                np.full(len(transfers.created), FROM_TRANSFER),
                np.full(len(fees.created), FROM_APPLICATION_FEE),
            ]
        )
        slot = np.concatenate(
            [
                _view(charges.settled),
                np.arange(len(refunds.created)),
                np.arange(len(payouts.created)),
                np.arange(len(disputes.created)),
                np.arange(len(transfers.created)),
                np.arange(len(fees.created)),
            ]
        )
        order = np.lexsort((slot, kind, created))  # by time, charges, refunds then payouts, then slot
        created, kind, slot = created[order], kind[order], slot[order]
        txn = np.arange(len(order))
        charge_txn = np.full(len(charges.created), -1, dtype=np.int64)
        charge_txn[slot[kind == FROM_CHARGE]] = txn[kind == FROM_CHARGE]
        refund_txn = np.zeros(len(refunds.created), dtype=np.int64)
        refund_txn[slot[kind == FROM_REFUND]] = txn[kind == FROM_REFUND]
        payout_txn = np.zeros(len(payouts.created), dtype=np.int64)
        payout_txn[slot[kind == FROM_PAYOUT]] = txn[kind == FROM_PAYOUT]
        dispute_txn = np.zeros(len(disputes.created), dtype=np.int64)
        dispute_txn[slot[kind == FROM_DISPUTE]] = txn[kind == FROM_DISPUTE]
        transfer_txn = np.zeros(len(transfers.created), dtype=np.int64)
        transfer_txn[slot[kind == FROM_TRANSFER]] = txn[kind == FROM_TRANSFER]
        fee_txn = np.zeros(len(fees.created), dtype=np.int64)
        fee_txn[slot[kind == FROM_APPLICATION_FEE]] = txn[kind == FROM_APPLICATION_FEE]
        return BalanceDay(
            _int64(created),
            _small(kind),
            _int64(slot),
            _int64(charge_txn),
            _int64(refund_txn),
            _int64(payout_txn),
            _int64(dispute_txn),
            _int64(transfer_txn),
            _int64(fee_txn),
        )

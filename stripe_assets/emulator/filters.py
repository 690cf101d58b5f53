"""List filters: which objects a list request returns besides the created window.

Most filters read the day plans (no object is built); the few that compare a field no plan keeps
(`email`, `currency`, `collection_method`) read the object's current state, as do all filters on
objects created after the generated window (no plan describes them). Stripe hides some objects
from lists by default: deleted customers always, canceled subscriptions unless `status` says
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from stripe_assets.emulator.dataset import Dataset, Predicate
from stripe_assets.emulator.plans import (
    FROM_CHARGE,
    FROM_REFUND,
    SUBSCRIPTION_STATUSES,
    ref,
    unref,
)
from stripe_assets.emulator.query import parse_boolean, parse_choice
from stripe_assets.ingest.stripe_schema import resource_fields

SUBSCRIPTION_STATUS_FILTERS = ("all", "ended", *sorted(SUBSCRIPTION_STATUSES))
_ENDED = ("canceled", "incomplete_expired")
_NOTHING: Predicate = lambda day, slot: False  # noqa: E731


def _ref_of(ds: Dataset, resource: str, object_id: str) -> int | None:
    found = ds.locate(resource, object_id)
    return None if found is None else ref(*found)


def _field_equals(ds: Dataset, resource: str, name: str, value: str) -> Predicate:
    return lambda day, slot: ds.current(resource, day, slot).get(name) == value


def _later_field(ds: Dataset, resource: str, name: str, value: str) -> Predicate:
    """The test for objects created after the window, which no day plan describes: the value
    (already checked by the planned test) against the field of the same name."""
    if resource == "prices" and name == "active":
        wanted = parse_boolean(name, value)
        return lambda day, slot: ds.current(resource, day, slot).get(name) == wanted
    return _field_equals(ds, resource, name, value)


def _charges(ds: Dataset, name: str, value: str) -> Predicate:
    if name == "customer":
        wanted = _ref_of(ds, "customers", value)
        return _NOTHING if wanted is None else (lambda d, s: ds.plans.charges(d).customer[s] == wanted)
    # payment_intent: each charge has its own
    return lambda d, s: ds.builder.payment_intent_id(d, s) == value


def _refunds(ds: Dataset, name: str, value: str) -> Predicate:
    if name == "charge":
        wanted = _ref_of(ds, "charges", value)
        return _NOTHING if wanted is None else (lambda d, s: ds.plans.refunds(d).charge[s] == wanted)
    return lambda d, s: ds.builder.payment_intent_id(*unref(ds.plans.refunds(d).charge[s])) == value


def _balance_transactions(ds: Dataset, name: str, value: str) -> Predicate:
    if name == "type":
        parse_choice("type", value, resource_fields("balance_transactions")["type"].enum or ())
        kind = {"charge": FROM_CHARGE, "refund": FROM_REFUND}.get(value)
        return (
            _NOTHING
            if kind is None
            else (lambda d, s: ds.plans.balance_transactions(d).source_kind[s] == kind)
        )
    if name == "source":
        for resource, kind in (("charges", FROM_CHARGE), ("refunds", FROM_REFUND)):
            found = ds.locate(resource, value)
            if found is not None:
                return _is_source(ds, kind, *found)
        return _NOTHING
    return _field_equals(ds, "balance_transactions", name, value)


def _is_source(ds: Dataset, kind: int, day: int, slot: int) -> Predicate:
    """Balance transactions are created on their source's day."""

    def is_source(d: int, s: int) -> bool:
        plan = ds.plans.balance_transactions(d)
        return d == day and plan.source_kind[s] == kind and plan.source_slot[s] == slot

    return is_source


def _subscriptions(ds: Dataset, name: str, value: str) -> Predicate:
    if name == "status":
        parse_choice("status", value, SUBSCRIPTION_STATUS_FILTERS)
        if value == "all":
            return lambda d, s: True
        wanted = set(_ENDED if value == "ended" else (value,))
        return lambda d, s: ds.subscription_status(d, s) in wanted
    if name == "customer":
        customer = _ref_of(ds, "customers", value)
        return _NOTHING if customer is None else (lambda d, s: ds.plans.subscriptions(d).customer[s] == customer)
    if name == "price":
        price = _ref_of(ds, "prices", value)
        return _NOTHING if price is None else (lambda d, s: ds.plans.subscriptions(d).price[s] == price)
    parse_choice(name, value, resource_fields("subscriptions")["collection_method"].enum or ())
    return _field_equals(ds, "subscriptions", name, value)


def _customers(ds: Dataset, name: str, value: str) -> Predicate:
    return _field_equals(ds, "customers", name, value)


def _prices(ds: Dataset, name: str, value: str) -> Predicate:
    if name == "active":
        active = parse_boolean(name, value)
        return lambda d, s: ds.price_active(d, s) == active
    if name == "type":
        recurring = parse_choice(name, value, ("one_time", "recurring")) == "recurring"
        return lambda d, s: bool(ds.plans.prices(d).recurring[s]) == recurring
    if name == "product":
        return lambda d, s: ds.builder.product_id(ds.plans.prices(d).product[s]) == value
    return _field_equals(ds, "prices", name, value)


_FILTERS: Mapping[str, Callable[[Dataset, str, str], Predicate]] = {
    "charges": _charges,
    "refunds": _refunds,
    "balance_transactions": _balance_transactions,
    "subscriptions": _subscriptions,
    "customers": _customers,
    "prices": _prices,
}


def _generated_then(generated: int, planned: Predicate, later: Predicate) -> Predicate:
    """`planned` over the generated days, `later` over the days the clock added since."""
    return lambda d, s: planned(d, s) if d < generated else later(d, s)


def list_predicate(ds: Dataset, resource: str, filters: Mapping[str, str]) -> Predicate | None:
    """What a list request keeps (None: everything), Stripe's default hiding included.

    Raises ApiError (400) for a filter value Stripe would reject.
    """
    generated = ds.config.days
    tests = []
    for name, value in filters.items():
        planned = _FILTERS[resource](ds, name, value)
        if (resource, name) == ("subscriptions", "status"):  # reads the current status anywhere
            tests.append(planned)
            continue
        tests.append(_generated_then(generated, planned, _later_field(ds, resource, name, value)))
    if resource == "customers":
        tests.append(lambda d, s: not ds.is_deleted("customers", d, s))
    if resource == "subscriptions" and "status" not in filters:
        tests.append(lambda d, s: not ds.is_canceled("subscriptions", d, s))
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda d, s: all(test(d, s) for test in tests)

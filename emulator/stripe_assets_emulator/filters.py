"""List filters: which objects a list request returns besides the created window.

Each resource's generator names the filters Stripe accepts for it and how each reads the day
plans (most build no object); objects created after the generated window, which no plan
describes, are compared on their current state. Stripe also hides some objects from lists by
default (the generator's `hidden`): deleted customers always, canceled subscriptions unless
`status` says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.plans import ref

NOTHING: Predicate = lambda day, slot: False  # noqa: E731


def ref_of(ds: Dataset, resource: str, object_id: str) -> int | None:
    """The ref() of one of `resource`'s objects by id, or None if there is no such object."""
    found = ds.locate(resource, object_id)
    return None if found is None else ref(*found)


def field_equals(ds: Dataset, resource: str, name: str, value: str) -> Predicate:
    return lambda day, slot: ds.current(resource, day, slot).get(name) == value


def _generated_then(generated: int, planned: Predicate, later: Predicate) -> Predicate:
    """`planned` over the generated days, `later` over the days the clock added since."""
    return lambda d, s: planned(d, s) if d < generated else later(d, s)


def list_predicate(ds: Dataset, resource: str, filters: Mapping[str, str]) -> Predicate | None:
    """What a list request keeps (None: everything), Stripe's default hiding included.

    Raises ApiError (400) for a filter value Stripe would reject.
    """
    generator = ds.generators[resource]
    generated = ds.config.days
    tests = []
    for name, value in filters.items():
        planned = generator.filters[name](ds, value)
        if name in generator.current_state_filters:
            tests.append(planned)
        else:
            tests.append(_generated_then(generated, planned, generator.later_filter(ds, name, value)))
    hidden = generator.hidden(ds, filters)
    if hidden is not None:
        tests.append(lambda d, s: not hidden(d, s))
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda d, s: all(test(d, s) for test in tests)

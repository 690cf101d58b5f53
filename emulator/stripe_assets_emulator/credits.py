"""Which invoices are credited, when and by how much: the plan credit notes are built from and
invoices show (`post_payment_credit_notes_amount`).

About one paid invoice in ten with something to credit gets a credit note one to three days
after it, for all of it or a part. Drawn from the invoice's day, so an invoice is credited at most
once and both sides agree without building each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from stripe_assets_emulator.plans import DAY_SECONDS, SUBSCRIPTION_STATUSES, TAGS, Plans, _view
from stripe_assets_emulator.rng import Draws, Purpose

CREDIT_RATE = 0.1  # share of a day's invoices considered for a credit note
MAX_LAG_DAYS = 3
FULL_SHARE = 0.4  # share of credit notes for the whole invoice
_UNBILLED = (SUBSCRIPTION_STATUSES.index("incomplete"), SUBSCRIPTION_STATUSES.index("incomplete_expired"))


class Credits:
    def __init__(self, plans: Plans, outcome: Callable[[int, int], Any]):
        self.plans = plans
        self.outcome = outcome  # an invoice's outcome (its `status` by the end of the window)
        self.credited = functools.lru_cache(maxsize=512)(self._credited)
        self.day = functools.lru_cache(maxsize=512)(self._day)

    def _credited(self, invoice_day: int) -> dict[int, int]:
        """Paid invoices of a day credited later: invoice slot -> the credit note's creation time."""
        plan = self.plans.subscriptions(invoice_day)
        status, trial = _view(plan.status), _view(plan.trial_days)
        billed = np.flatnonzero(~np.isin(status, _UNBILLED) & (trial == 0))  # finalized, not a trial's zero
        gen = np.random.default_rng([self.plans.seed, TAGS["credit_notes"], invoice_day, Purpose.DAY])
        n = min(len(billed), max(1, round(CREDIT_RATE * len(status))))
        picks = gen.choice(billed, n, replace=False) if n else np.zeros(0, dtype=np.int64)
        lags = gen.integers(1, MAX_LAG_DAYS + 1, n)
        offsets = gen.integers(0, DAY_SECONDS, n)
        found: dict[int, int] = {}
        for slot, lag, offset in zip(picks.tolist(), lags.tolist(), offsets.tolist(), strict=True):
            if invoice_day + lag < self.plans.days and self.outcome(invoice_day, slot).status == "paid":
                found[slot] = self.plans.day_start(invoice_day + lag) + offset
        return found

    def _day(self, day: int) -> list[tuple[int, int, int]]:
        """The credit notes created on a day: (created, invoice day, invoice slot), in order."""
        return sorted(
            (created, invoice_day, slot)
            for invoice_day in range(max(0, day - MAX_LAG_DAYS), day)
            for slot, created in self.credited(invoice_day).items()
            if (created - self.plans.start) // DAY_SECONDS == day
        )

    def amount(self, invoice_day: int, invoice_slot: int, total: int) -> int:
        """What the credit note of an invoice credits: all of it, or a part."""
        r = Draws(self.plans.seed, TAGS["credit_notes"], invoice_day, invoice_slot, Purpose.REFUND_SPLIT)
        return total if r.random() < FULL_SHARE else max(1, int(total * r.uniform(0.1, 0.9)))

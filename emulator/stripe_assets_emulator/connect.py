"""The platform's Connect side: its connected accounts and its application, and its cut of a
charge (shared by transfers, application fees and the charges fees are taken from)."""

from __future__ import annotations

from stripe_assets_emulator import ids
from stripe_assets_emulator.plans import TAGS

ACCOUNTS = 5  # connected accounts the platform pays and takes fees from
_ACCOUNT, _APPLICATION = 1, 2  # discriminators of related ids


def connected_account(seed: int, number: int) -> str:
    """One of the platform's connected accounts (Stripe's `acct_` plus 16 characters)."""
    return ids.related_id("acct_", 16, seed, TAGS["transfers"], number, _ACCOUNT)


def application_id(seed: int) -> str:
    """The platform's Connect application (`ca_` plus 32 characters)."""
    return ids.related_id("ca_", 32, seed, TAGS["application_fees"], _APPLICATION)


def fee_amount(charge_amount: int) -> int:
    """The platform's cut of a charge: a tenth, at least one minor unit."""
    return max(1, charge_amount // 10)

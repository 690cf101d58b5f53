"""A Connect platform: the key's own account, its connected accounts and its application.

A request with `Stripe-Account: acct_...` reads that connected account's own data set (objects
and events, built lazily from a seed of its own, so a thousand accounts cost nothing until
read). `GET /v1/accounts` lists the connected accounts (newest first, `created` filter,
cursors), `GET /v1/accounts/<id>` and `GET /v1/account` retrieve one. An unknown account, one
whose access was revoked (`forbidden`) and one deauthorized answer 403 as Stripe does; a
deauthorization also adds `account.application.deauthorized` to the platform's events and
takes the account out of the list.

The platform's cut of a charge and the accounts it pays (transfers, application fees) are here too.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import orjson

from stripe_assets_emulator import errors, ids
from stripe_assets_emulator.config import EmulatorConfig, FaultConfig
from stripe_assets_emulator.plans import TAGS
from stripe_assets_emulator.query import DEFAULT_LIMIT, MAX_LIMIT, NO_UPPER_BOUND, parse_created, parse_integer
from stripe_assets_emulator.rng import mix, unit

if TYPE_CHECKING:  # the data set's objects use this module's fees: imported where built
    from stripe_assets_emulator.dataset import Dataset

TYPES = ("standard", "express", "custom")
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "IE")
_ACCOUNT_TAG = 0xACC7
ACCOUNTS = 5  # connected accounts the platform pays and takes fees from (transfers, application fees)
_ACCOUNT, _APPLICATION = 1, 2  # discriminators of related ids


def connected_account(seed: int, number: int) -> str:
    """One of the accounts the platform pays (Stripe's `acct_` plus 16 characters)."""
    return ids.related_id("acct_", 16, seed, TAGS["transfers"], number, _ACCOUNT)


def application_id(seed: int) -> str:
    """The platform's Connect application (`ca_` plus 32 characters)."""
    return ids.related_id("ca_", 32, seed, TAGS["application_fees"], _APPLICATION)


def fee_amount(charge_amount: int) -> int:
    """The platform's cut of a charge: a tenth, at least one minor unit."""
    return max(1, charge_amount // 10)


def no_access(key: str, account: str) -> errors.ApiError:
    """Stripe's answer to a `Stripe-Account` the key may not act for (unknown, revoked)."""
    return errors.ApiError(
        403,
        f"The provided key '{errors.masked_key(key)}' does not have access to account '{account}' "
        "(or that account does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


class Platform:
    def __init__(self, platform: Dataset):
        self.platform = platform
        config = platform.config
        self.connect = config.connect
        self.id = self.connect.platform_id or "acct_1" + ids.random_chars(15, platform.plans.seed, _ACCOUNT_TAG, 0)
        self.application = application_id(platform.plans.seed)  # the one its application fees name
        n = self.connect.accounts
        seed = platform.plans.seed
        # Accounts joined the platform in the day before or during the generated window.
        first, span = config.start_timestamp - 86400, config.end_timestamp - config.start_timestamp + 86400 - 1
        created = [first + int(unit(seed, _ACCOUNT_TAG, i, 2) * span) for i in range(n)]
        self.ids = ["acct_1" + ids.random_chars(15, seed, _ACCOUNT_TAG, i + 2) for i in range(n)]
        self.created = created
        self.index = {account: i for i, account in enumerate(self.ids)}
        # List order: newest first, ties by id (greater first), as Stripe lists.
        self.order = sorted(range(n), key=lambda i: (created[i], self.ids[i]), reverse=True)
        self.forbidden = set(self.connect.forbidden)
        self.deauthorized: dict[int, int] = {}  # index -> when
        self.requests: dict[int, int] = {}
        self._datasets: dict[int, Dataset] = {}
        self._lock = threading.Lock()

    # who answers ------------------------------------------------------------------------------

    def dataset(self, account: str, key: str) -> Dataset:
        """The connected account's data set for a request made for it, or Stripe's 403."""
        index = self.index.get(account)
        if index is None:
            raise no_access(key, account)
        with self._lock:
            self.requests[index] = self.requests.get(index, 0) + 1
            after = self.connect.deauthorize_after.get(index)
            if after is not None and self.requests[index] > after and index not in self.deauthorized:
                self._deauthorize(index)
            if index in self.forbidden or index in self.deauthorized:
                raise no_access(key, account)
            found = self._datasets.get(index)
            if found is None:
                found = self._datasets[index] = _dataset(self.account_config(index))
            return found

    def account_config(self, index: int) -> EmulatorConfig:
        config = self.platform.config
        empty = self.connect.empty_every is not None and index % self.connect.empty_every == 0
        return EmulatorConfig(
            seed=mix(self.platform.plans.seed, _ACCOUNT_TAG, index) >> 1,
            start=config.start,
            days=config.days,
            per_day=0 if empty else self.connect.per_day,
            api_key=config.api_key,
            faults=FaultConfig(
                invalid_fraction=config.faults.invalid_fraction, invalid_kinds=config.faults.invalid_kinds
            ),
        )

    def account_dataset(self, index: int) -> Dataset:
        """The truth of a connected account (tests), whatever its access."""
        with self._lock:
            found = self._datasets.get(index)
            if found is None:
                found = self._datasets[index] = _dataset(self.account_config(index))
            return found

    # access ------------------------------------------------------------------------------------

    def forbid(self, account: str, forbidden: bool = True) -> None:
        index = self.index[account]
        with self._lock:
            (self.forbidden.add if forbidden else self.forbidden.discard)(index)

    def deauthorize(self, account: str) -> None:
        with self._lock:
            self._deauthorize(self.index[account])

    def _deauthorize(self, index: int) -> None:
        if index in self.deauthorized:
            return
        log = self.platform.events
        application = {"id": self.application, "object": "application", "name": "Emulated platform"}
        with self.platform.live.lock.write():  # no request reads the platform's events half-added
            when = max(self.platform.now, log.created[-1] if len(log) else 0)
            self.deauthorized[index] = when
            log.append(
                "account.application.deauthorized",
                when,
                application,
                None,
                _api_version(),
                account=self.ids[index],
            )

    # the accounts API ---------------------------------------------------------------------------

    def account_object(self, index: int) -> dict[str, Any]:
        seed = self.platform.plans.seed
        kind = TYPES[mix(seed, _ACCOUNT_TAG, index, 3) % len(TYPES)]
        enabled = unit(seed, _ACCOUNT_TAG, index, 4) < 0.9
        return {
            "id": self.ids[index],
            "object": "account",
            "business_profile": {"name": f"Connected business {index}", "url": None, "mcc": None},
            "capabilities": {
                "card_payments": "active" if enabled else "inactive",
                "transfers": "active" if enabled else "pending",
            },
            "charges_enabled": enabled,
            "country": COUNTRIES[mix(seed, _ACCOUNT_TAG, index, 5) % len(COUNTRIES)],
            "created": self.created[index],
            "default_currency": "usd",
            "details_submitted": enabled,
            "email": None,
            "metadata": {},
            "payouts_enabled": enabled and unit(seed, _ACCOUNT_TAG, index, 6) < 0.95,
            "type": kind,
        }

    def own_account(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "account",
            "business_profile": {"name": "Emulated platform", "url": None, "mcc": None},
            "capabilities": {"card_payments": "active", "transfers": "active"},
            "charges_enabled": True,
            "country": "US",
            "created": self.platform.config.start_timestamp - 365 * 86400,
            "default_currency": "usd",
            "details_submitted": True,
            "email": None,
            "metadata": {},
            "payouts_enabled": True,
            "type": "standard",
        }

    def retrieve(self, account: str, key: str) -> bytes:
        index = self.index.get(account)
        if index is None or index in self.deauthorized:
            raise no_access(key, account)
        return orjson.dumps(self.account_object(index))

    def list_body(self, pairs: list[tuple[str, str]]) -> bytes:
        limit, after, before = DEFAULT_LIMIT, None, None
        created_from, created_until = -NO_UPPER_BOUND, NO_UPPER_BOUND
        for name, value in pairs:
            if name == "limit":
                limit = parse_integer(name, value)
                if not 1 <= limit <= MAX_LIMIT:
                    raise errors.invalid(
                        f"Invalid integer: {limit}; must be between 1 and {MAX_LIMIT}", param="limit"
                    )
            elif name == "starting_after":
                after = value
            elif name == "ending_before":
                before = value
            elif name == "created" or name.startswith("created["):
                low, high = parse_created(name, value)
                created_from, created_until = max(created_from, low), min(created_until, high)
            else:
                raise errors.unknown_parameter(name)
        with self._lock:
            visible = [i for i in self.order if i not in self.deauthorized]
        visible = [i for i in visible if created_from <= self.created[i] < created_until]
        cursor = before or after
        if cursor is not None:
            position = _position(visible, cursor, self.index)
            if position is None:
                raise errors.no_such("account", cursor, param="ending_before" if before else "starting_after")
            if before:
                start = max(0, position - limit)
                page, has_more = visible[start:position], start > 0
            else:
                page = visible[position + 1 : position + 1 + limit]
                has_more = position + 1 + limit < len(visible)
        else:
            page, has_more = visible[:limit], len(visible) > limit
        return orjson.dumps(
            {
                "object": "list",
                "data": [self.account_object(i) for i in page],
                "has_more": has_more,
                "url": "/v1/accounts",
            }
        )


def _position(visible: list[int], cursor: str, index: dict[str, int]) -> int | None:
    wanted = index.get(cursor)
    if wanted is None:
        return None
    try:
        return visible.index(wanted)
    except ValueError:
        return None


def _api_version() -> str:
    from stripe_assets.ingest.stripe_schema import API_VERSION

    return API_VERSION


def _dataset(config: EmulatorConfig) -> Dataset:
    from stripe_assets_emulator.dataset import Dataset

    return Dataset(config)

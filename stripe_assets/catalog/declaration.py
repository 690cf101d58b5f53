"""What a Stripe resource declaration holds: everything that differs from one resource to another.

Everything else (the client's paging, tables and quarantine, assets, checks, schedules, the CLI,
the emulator's endpoints) is derived from these fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from stripe_assets.catalog.rules import Rule

# The domains resources are grouped by, as Dagster asset groups (the UI's sidebar, `group:`
# selections), the README's table and the CLI's `group` column.
Group = Literal["stripe_payments", "stripe_billing", "stripe_balance", "stripe_customers", "stripe_products"]
GROUPS: tuple[Group, ...] = get_args(Group)


@dataclass(frozen=True)
class Settling:
    """A field Stripe changes without an Event once a moment the object names has passed: a
    balance transaction's `status` goes from `pending` to `available` at its `available_on`."""

    field: str  # the field that changes (`status`)
    pending: str  # its value until then (`pending`)
    settled: str  # its value after (`available`)
    after: str  # the Unix time field after which it is final (`available_on`)

    def describe(self) -> str:
        return f"{self.field} changes from {self.pending} to {self.settled}; re-read when due"


@dataclass(frozen=True)
class StripeResource:
    name: str  # plural, as in the API path, the asset key and the table name
    object: str  # the `object` field Stripe puts on each instance
    stripe_class: type  # the SDK's typed class: the schema source for the pinned API version
    id_prefixes: tuple[str, ...]  # Stripe id prefixes this object may carry
    # Its place in listings (UI, CLI, README); a new resource takes the next number. Never
    # renumbered: the emulator seeds its data with it.
    ordinal: int
    summary: str  # what the objects are, in a few words (CLI help, README)
    # Its domain: payments, billing, balance and payouts, customers, or products and prices.
    group: Group
    # The default table columns: a field name, or `name: dotted.path` for a nested value; their
    # types come from Stripe's schema.
    columns: tuple[str, ...]
    # Integer fields (by name, at any depth) that hold Unix times and land as TIMESTAMPTZ; the
    # SDK's annotations only say `int`.
    timestamp_fields: frozenset[str] = frozenset({"created"})
    # Value rules Stripe's types cannot express but that always hold in Stripe's data.
    rules: tuple[Rule, ...] = ()
    # Query parameters every list call needs to see all objects (Stripe hides some by default).
    list_params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Objects that may also carry ids chosen by the account (not only the prefixes above).
    custom_ids: bool = False
    # The Event types whose `data.object` is this resource (empty: immutable, created-only).
    events: tuple[str, ...] = ()
    # Those of `events` that mean Stripe deleted the object (its row stays, marked `_deleted_at`).
    deletion_events: tuple[str, ...] = ()
    # A field that changes with no Event once a time passes: rows still showing the value it
    # leaves are re-read from the list endpoint by the first run after that time.
    settles: Settling | None = None
    # The list endpoint, where Stripe keeps it under a namespace (`/v1/checkout/sessions`); by
    # default `/v1/<name>`. Objects are retrieved at `<path>/<id>`. Asset, table and CLI names
    # stay `name`.
    list_path: str | None = None
    # The field holding when Stripe created an object, where it is not `created` (an invoice
    # item's `date`). Stripe's `created` list filter reads it; windows, partitions and the
    # order of list pages go by it, and the table's `created` column holds it (declared among
    # the columns as `created: <field>`).
    created_field: str = "created"

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"{self.name}: group {self.group!r} is none of {', '.join(GROUPS)}")
        if self.list_path is not None and not re.fullmatch(r"/v1(/[a-z_]+)+", self.list_path):
            raise ValueError(
                f"{self.name}: list_path {self.list_path!r} is not a Stripe path like /v1/checkout/sessions"
            )
        if self.created_field != "created" and f"created: {self.created_field}" not in self.columns:
            raise ValueError(f"{self.name}: declare the column 'created: {self.created_field}' (its creation time)")

    @property
    def path(self) -> str:
        """The list endpoint (`/v1/charges`); `<path>/<id>` retrieves one object."""
        return self.list_path or f"/v1/{self.name}"

    @property
    def asset_path(self) -> list[str]:
        """The Dagster asset key's path, `stripe/<name>`."""
        return ["stripe", self.name]

    @property
    def table(self) -> str:
        return f"stripe.{self.name}"

    @property
    def quarantine_table(self) -> str:
        return f"stripe_quarantine.{self.name}"

    @property
    def mutable(self) -> bool:
        """Whether Stripe changes objects after creating them (then it sends `events`)."""
        return bool(self.events)

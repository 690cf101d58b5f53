"""What a child list declaration holds: objects Stripe lists per parent (an invoice's lines, a
subscription's items, a payout's balance transactions, a customer's payment methods).

A child is a resource like any other (its own table, quarantine table, asset, check and
dataflow) declared with `StripeChild`: a `StripeResource` plus `ChildOf`, which says whose
child it is and how Stripe lists it. One mechanism reads every child (`ingest/children/`); a new
child is a declaration, not code.

How children are read: from the parents already in the warehouse, never by listing parents
again. A child partition holds the children of the parents of the same partition of the parent's
table (whatever the child's own `created`): the parent partition must be loaded first (a run
selecting both loads the parent first; a child partition whose parent partition is not loaded
fails with one line saying which to load). Per parent, the children come from the parent's
embedded list when it is complete (`has_more: false`: no request at all) and from the child
endpoint only past it (`starting_after` the last embedded child), or from the endpoint
alone when nothing is embedded. A field Stripe shows only when expanded (`expanded`) is read
the same way from a listing of the partition's parents with that expansion; a parent the
listing does not show it for (an API that ignores the expansion) costs a request of its own.
A child partition is read again when its parents changed since it was last read (their rows
were rewritten by a load or by Events), and when one of the child's own `events` names one of
its parents; a child that no longer shows under its parent keeps its row, marked `_deleted_at`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stripe_assets.catalog.declaration import StripeResource


@dataclass(frozen=True)
class ChildOf:
    parent: str  # the parent resource (`invoices`)
    # The column of the child's table holding its parent's id, named after the parent object
    # (`invoice`); filled from the parent the child was listed under, also when Stripe's child
    # object has no such field (a balance transaction does not name its payout).
    parent_column: str
    # The list endpoint: `{id}` stands for the parent's id (`/v1/invoices/{id}/lines`); without
    # it the parent's id is the `parent_param` query parameter (`/v1/subscription_items`).
    path: str
    parent_param: str | None = None
    # The parent's field embedding its first children as a list object (`lines`); None when the
    # parent embeds nothing and every parent costs a request.
    embedded: str | None = None
    # The parent's field that holds its first children only when asked for (Checkout Sessions'
    # `line_items`): the child load lists the parents again over its partition with
    # `expand[]=data.<field>`, a request per 100 parents instead of one per parent. The parents'
    # own table keeps Stripe's default object: their load never asks for it.
    expanded: str | None = None
    # Stripe answers the child endpoint only for parents with this field set to this value
    # (`automatic: true` payouts); others have no children to read.
    only_when: tuple[str, object] | None = None

    def __post_init__(self) -> None:
        if ("{id}" in self.path) == (self.parent_param is not None):
            raise ValueError(f"{self.path}: name the parent either as {{id}} in the path or as parent_param")
        if self.embedded is not None and self.expanded is not None:
            raise ValueError(f"{self.path}: a parent's first children are either embedded or expanded, not both")

    def endpoint(self, parent_id: str) -> tuple[str, dict[str, str]]:
        """The request path and parameters listing one parent's children."""
        if self.parent_param is not None:
            return self.path, {self.parent_param: parent_id}
        return self.path.replace("{id}", parent_id), {}

    def reads(self, parent: dict) -> bool:
        """Whether Stripe lists children for this parent object."""
        return self.only_when is None or parent.get(self.only_when[0]) == self.only_when[1]


@dataclass(frozen=True, kw_only=True)
class StripeChild(StripeResource):
    child_of: ChildOf
    # The child's own Event types that name its parent (`payment_method.attached`): a parent
    # they name has its children read again (its own changes already do that).
    child_events: tuple[str, ...] = field(default=())

    @property
    def parent(self) -> StripeResource:
        """The parent's declaration (the resource `child_of.parent` names)."""
        from stripe_assets.catalog import get_resource  # the catalog imports this module

        return get_resource(self.child_of.parent)


def child_of(resource: StripeResource) -> ChildOf | None:
    """How `resource` is listed under its parent; None for a top-level resource."""
    return resource.child_of if isinstance(resource, StripeChild) else None

"""The first children of parents whose list field Stripe shows only when expanded (a Checkout
Session's `line_items`): the partition's parents listed again, `expand[]=data.<field>`, in
slices of about a page each (cut at the parents' own `created` times, read `concurrency` at
once), each account's with its `Stripe-Account`.

What a parent shows there is taken as its embedded list: complete when `has_more` is false,
else read on from the child endpoint past its last child. A parent the listing does not show
(or shows without the field, as an API that ignores the expansion would) is read from the
child endpoint alone, so the rows are the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

from stripe_assets.catalog import get_resource
from stripe_assets.catalog.child import ChildOf
from stripe_assets.ingest.client import FetchStats, StripeReader, StripeReadError
from stripe_assets.ingest.pages import PAGE_LIMIT, read_page

# parent id -> (the expanded field as the listing showed it, when that page was answered)
Listed = dict[str, tuple[object, float | None]]


def expanded_lists(
    reader: StripeReader,
    child: ChildOf,
    parents: Sequence,  # Sequence[read.Parent]
    stats: FetchStats,
    concurrency: int,
    platform: str | None = None,
) -> Listed:
    """What the parent list shows of `child.expanded` for each of `parents`. A connected
    account whose listing fails shows nothing (its parents are read one by one, and fail there
    as they did before); the key's own account's failure is raised."""
    assert child.expanded is not None
    by_account: dict[str | None, list] = {}
    for parent in parents:
        account = None if parent.account is None or parent.account == platform else parent.account
        by_account.setdefault(account, []).append(parent)
    slices: list[tuple[str | None, int, int]] = []
    for account, own in by_account.items():
        # About a page of parents each, cut where a page starts: slices never overlap, and
        # parents sharing a second (a burst) stay in one slice, paged to its end.
        created = sorted(p.created for p in own)
        bounds = sorted({created[at] for at in range(0, len(created), PAGE_LIMIT)} | {created[-1] + 1})
        slices += [(account, start, end) for start, end in pairwise(bounds)]
    listed: Listed = {}
    if not slices:
        return listed
    with ThreadPoolExecutor(max(1, min(concurrency, len(slices)))) as pool:
        for found in pool.map(lambda s: _list_slice(reader, child, s[0], s[1], s[2], stats), slices):
            listed.update(found)
    return listed


def _list_slice(
    reader: StripeReader, child: ChildOf, account: str | None, start: int, end: int, stats: FetchStats
) -> Listed:
    parent = get_resource(child.parent)
    field = child.expanded
    assert field is not None
    path = parent.path
    query: dict = {
        **parent.list_params, "limit": PAGE_LIMIT, "created": {"gte": start, "lt": end}, "expand": [f"data.{field}"],
    }
    if account is not None:
        reader = reader.for_account(account)
    found: Listed = {}
    try:
        while True:
            page = reader.get_list_page(path, query, stats)
            observed = reader.last_observed()
            data, cursor = read_page(path, page, query.get("starting_after"))
            for obj in data:
                if isinstance(obj.get("id"), str) and field in obj:
                    found[obj["id"]] = (obj[field], observed)
            if cursor is None:
                return found
            query["starting_after"] = cursor
    except StripeReadError:
        if account is None:
            raise
        return {}

"""A child partition's objects: its parents read from the warehouse, their children taken from
the parents' embedded lists and fetched from the child endpoint only past them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import duckdb
import orjson

from stripe_assets.catalog import get_resource
from stripe_assets.catalog.child import ChildOf, StripeChild
from stripe_assets.ingest.children.expanded import expanded_lists
from stripe_assets.ingest.client import FetchStats, StripeReader, StripeReadError
from stripe_assets.ingest.keys import sql_text
from stripe_assets.ingest.pages import PAGE_LIMIT, read_page
from stripe_assets.ingest.redact import redact
from stripe_assets.ingest.warehouse import LOADS_TABLE
from stripe_assets.ingest.warehouse.loads import table_exists


class ParentNotLoadedError(StripeReadError):
    """The child partition's parents are not in the warehouse yet."""

    def __init__(self, parent: str, partition: str, asset: str | None = None):
        self.parent, self.partition, self.asset = parent, partition, asset
        table = get_resource(parent).table
        super().__init__(
            f"its parents are read from {table}, and partition {partition} of {parent} is not "
            f"loaded: materialize {asset or f'stripe/{parent}'} for {partition} first"
        )

    def __reduce__(self):  # pickled with its fields, not its message
        return ParentNotLoadedError, (self.parent, self.partition, self.asset)

    def naming(self, asset: str) -> ParentNotLoadedError:
        """The same error naming the parent's asset as the project keys it."""
        return ParentNotLoadedError(self.parent, self.partition, asset)


@dataclass(frozen=True)
class Parent:
    id: str
    created: int
    raw: dict  # the fields of the parent its children are read from (`_read_fields`), not all of it
    observed: float | None  # how new the parent's row is (Stripe's clock): so are its embedded children
    # The account the parent belongs to (`account_id`; None: the key's own): its children are read
    # with that account's `Stripe-Account` and carry its id.
    account: str | None = None


@dataclass
class Children:
    """One parent's children as Stripe lists them, and how new they are: when the first request
    for them was answered (Stripe's clock), or, all embedded, the parent's row's time."""

    parent: Parent
    objects: list[dict]
    observed: float | None = None
    error: str | None = None  # the parent's account could not be read (403, network): no children known

    @property
    def as_of(self) -> float | None:
        return self.observed if self.observed is not None else self.parent.observed


def parent_not_loaded(spec: StripeChild, key: str) -> ParentNotLoadedError:
    return ParentNotLoadedError(spec.parent.name, key)


def parents_of(
    conn: duckdb.DuckDBPyConnection,
    spec: StripeChild,
    key: str,
    start: datetime,
    end: datetime,
    *,
    platform: str | None = None,
    accounts: Sequence[str] | None = None,
) -> list[Parent]:
    """The parents of one partition, as the warehouse holds them (deleted ones have no children),
    of `accounts` only when given. Fails with one line when the parent partition was never loaded."""
    parent = spec.parent
    loaded = table_exists(conn, LOADS_TABLE) and conn.execute(
        f"SELECT count(*) FROM {LOADS_TABLE} WHERE resource = ? AND partition = ? AND status IN ('loaded', 'changed')",
        [parent.name, key],
    ).fetchone()[0]  # type: ignore[index]
    if not loaded or not table_exists(conn, parent.table):
        raise parent_not_loaded(spec, key)
    # Rows from before accounts were tracked (account_id null) are the key's own (`platform`).
    owner = "account_id" if platform is None else f"coalesce(account_id, {sql_text(platform)})"
    chosen = "true" if accounts is None else f"{owner} IN (SELECT unnest(?::VARCHAR[]))"
    rows = conn.execute(
        f"""SELECT id, epoch(created)::BIGINT, {_read_fields(spec.child_of)}, epoch(_observed_at), {owner}
            FROM {parent.table}
            WHERE created >= ? AND created < ? AND _deleted_at IS NULL AND {chosen} ORDER BY created, id""",
        [start, end] + ([list(accounts)] if accounts is not None else []),
    ).fetchall()
    return [Parent(i, c, orjson.loads(r), o, a or None) for i, c, r, o, a in rows]


def _read_fields(child: ChildOf) -> str:
    """SQL for the part of a parent's raw JSON its children are read from (the embedded list, the
    field `only_when` looks at): DuckDB cuts it out, so Python parses a list, not a whole invoice."""
    fields = [name for name in (child.embedded, child.only_when[0] if child.only_when else None) if name]
    if not fields:
        return "'{}'"
    pairs = ", ".join(f"{sql_text(name)}, json_extract(raw, {sql_text('$.' + name)})" for name in fields)
    return f"json_object({pairs})"


def children_of(
    reader: StripeReader,
    child: ChildOf,
    parents: Sequence[Parent],
    stats: FetchStats,
    concurrency: int,
    platform: str | None = None,
) -> Iterator[Children]:
    """Every parent's children, in the parents' order: complete embedded (or expanded, see
    `expanded`) lists cost no request of their own, the others are read from the child endpoint
    (past the embedded ones), `concurrency` at once, each with its parent's account
    (`Stripe-Account` unless it is the key's own, `platform`).
    A parent whose account cannot be read yields its `error` instead."""
    complete: dict[int, Children] = {}
    to_fetch: list[tuple[int, Parent, list[dict]]] = []
    listed = (
        expanded_lists(reader, child, [p for p in parents if child.reads(p.raw)], stats, concurrency, platform)
        if child.expanded
        else {}
    )
    for n, parent in enumerate(parents):
        if not child.reads(parent.raw):
            complete[n] = Children(parent, [])
            continue
        observed: float | None = None  # the parent's row's time (embedded), or the listing's
        if child.expanded:
            embedded, observed = listed.get(parent.id, (None, None))
        else:
            embedded = parent.raw.get(child.embedded) if child.embedded else None
        if isinstance(embedded, dict) and isinstance(embedded.get("data"), list):
            first = [o for o in embedded["data"] if isinstance(o, dict)]
            if not embedded.get("has_more") and len(first) == len(embedded["data"]):
                complete[n] = Children(parent, first, observed)
                continue
            to_fetch.append((n, parent, first))
        else:
            to_fetch.append((n, parent, []))
    with ThreadPoolExecutor(max(1, min(concurrency, len(to_fetch)))) as pool:
        fetched = pool.map(lambda job: _fetch_for(reader, child, job[1], job[2], stats, platform), to_fetch)
        by_index = dict(zip((n for n, _, _ in to_fetch), fetched, strict=True))
    for n in range(len(parents)):
        yield complete[n] if n in complete else by_index[n]


def _fetch_for(
    reader: StripeReader, child: ChildOf, parent: Parent, first: list[dict], stats: FetchStats, platform: str | None
) -> Children:
    """`_fetch` with the parent's account; an account that refuses (403) or fails is named, not raised."""
    own = parent.account is None or parent.account == platform
    if own:  # the key's own objects fail the load as before Connect
        return _fetch(reader, child, parent, first, stats)
    try:
        return _fetch(reader.for_account(parent.account), child, parent, first, stats)
    except StripeReadError as exc:
        return Children(parent, [], error=redact(str(exc)))


def _fetch(reader: StripeReader, child: ChildOf, parent: Parent, first: list[dict], stats: FetchStats) -> Children:
    """One parent's children: those embedded, then the endpoint's pages past the last of them."""
    path, params = child.endpoint(parent.id)
    query: dict = {"limit": PAGE_LIMIT, **params}
    if first and isinstance(first[-1].get("id"), str):
        query["starting_after"] = first[-1]["id"]
    objects = list(first)
    observed: float | None = None
    while True:
        page = reader.get_list_page(path, query, stats)
        if observed is None:
            observed = reader.last_observed()
        data, cursor = read_page(path, page, query.get("starting_after"))
        stats.count_page(len(data))
        objects += data
        if cursor is None:
            return Children(parent, objects, observed)
        query["starting_after"] = cursor

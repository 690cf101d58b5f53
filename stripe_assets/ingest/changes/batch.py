"""The rows a set of changes becomes: each object's current state, validated, in its partition.

An event rendered at the pinned API version carries the object as it was at the event's
`created` (`data.object`), which is how new the row's state is (`_observed_at`); one rendered
at another version, or about a related object (a dispute of a charge), is replaced by the
current object, retrieved (`GET /v1/<resource>/<id>`), as new as the moment it was asked for.
Deleted objects keep the state they had when deleted, with `_deleted_at` set; when no such
state is at hand (an old-version deletion event, a retrieve answering `deleted: true`), the
warehouse keeps the row it has and only marks it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.changes.events import Change, EventScan
from stripe_assets.ingest.client import FetchStats, StripeReader
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets.ingest.validation.part import validate_part
from stripe_assets.ingest.validation.quarantine import quarantine_table
from stripe_assets.ingest.validation.validate import ValidationResult

WindowOf = Callable[[int], "Window | None"]  # the partition window holding a Unix time, if any

_TS = pa.timestamp("us", tz="UTC")
# A deletion mark, and how new it is (its event, or the retrieve that answered `deleted`).
MARK_SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("_deleted_at", _TS), pa.field("_observed_at", _TS)])


@dataclass
class ChangeBatch:
    """Ready to write: new rows, deletion marks for rows kept as they are, quarantine rows."""

    spec: StripeResource
    rows: pa.Table  # table columns; `_partition` from `created`; `_deleted_at` set for deletions
    marks: pa.Table  # MARK_SCHEMA: rows to keep, marked deleted at that time
    quarantine: pa.Table
    windows: dict[str, Window] = field(default_factory=dict)  # partitions the batch touches
    retrieved: int = 0  # objects fetched again instead of trusting the event's payload
    unplaced: int = 0  # objects created outside every partition (before the first one)
    result: ValidationResult | None = None

    @property
    def resource(self) -> str:
        return self.spec.name

    @property
    def objects(self) -> int:
        return self.rows.num_rows + self.marks.num_rows


def retrieve(reader: StripeReader, resource: StripeResource, object_id: str, stats: FetchStats) -> dict:
    return reader.get_page(f"{resource.path}/{object_id}", {}, stats)


def build_batch(
    scan: EventScan,
    resource: StripeResource,
    *,
    columns: Sequence[ColumnSpec],
    window_of: WindowOf,
    run_id: str,
    strict_enums: bool = False,
    fetch: Callable[[str], dict] | None = None,
    now: datetime | None = None,
    observed: Callable[[], float | None] | None = None,
) -> ChangeBatch:
    """Turn the newest change per object into rows; `fetch` retrieves an object by id (needed
    for changes that cannot be trusted as they are), `observed` says how new its last answer
    was (`StripeReader.last_observed`; without it, the local time before the request)."""
    loaded_at = now or datetime.now(UTC)
    states: list[dict] = []
    newest: dict[str, datetime] = {}  # object id -> how new its state is
    deleted_at: dict[str, datetime] = {}
    marks: dict[str, tuple[datetime, datetime]] = {}  # object id -> (deleted at, observed at)
    retrieved = 0
    for change in scan.changes.values():
        at = datetime.fromtimestamp(change.event_created, UTC)
        state = change.state
        trusted = state is not None and (change.api_version == API_VERSION or change.deleted)
        if change.deleted and change.api_version != API_VERSION:
            marks[change.object_id] = (at, at)  # an old-version payload cannot replace the row
            continue
        if not trusted:
            if fetch is None:
                raise ValueError(f"{change.object_id}: the change must be retrieved, and no fetch was given")
            asked = datetime.now(UTC)
            state = fetch(change.object_id)
            retrieved += 1
            answered = observed() if observed is not None else None
            if answered is not None:
                asked = datetime.fromtimestamp(answered, UTC)
            if state.get("deleted") is True:
                marks[change.object_id] = (at, asked)
                continue
            newest[change.object_id] = asked
        assert state is not None
        if change.deleted:
            deleted_at[change.object_id] = at
        newest.setdefault(change.object_id, at)
        states.append(state)

    placed: list[dict] = []
    unplaced = 0
    windows: dict[str, Window] = {}
    for state in states:
        created = state.get(resource.created_field)
        window = window_of(created) if isinstance(created, int) and not isinstance(created, bool) else None
        if window is None:
            unplaced += 1
            continue
        windows[window.key] = window
        placed.append(state)

    reads: dict[str, list] = {}  # the valid states' top-level values, read once for both
    result = validate_part(resource, placed, strict_enums=strict_enums, columns=columns, reads=reads)

    def partition_of(record: dict) -> str:
        window = window_of(record[resource.created_field])
        assert window is not None
        return window.key

    rows = to_arrow(
        result.valid, columns, partition_of=partition_of, run_id=run_id, loaded_at=loaded_at,
        observed_at=[newest.get(r["id"], loaded_at) for r in result.valid],
        tops=reads or None,
    )
    del reads
    if deleted_at:
        stamps = [deleted_at.get(r["id"]) for r in result.valid]
        rows = rows.set_column(rows.schema.get_field_index("_deleted_at"), "_deleted_at", pa.array(stamps, _TS))
    quarantine = quarantine_table(result, partition_key="", run_id=run_id, partition_of=partition_of)
    mark_table = pa.table(
        {
            "id": list(marks),
            "_deleted_at": pa.array([deleted for deleted, _ in marks.values()], _TS),
            "_observed_at": pa.array([seen for _, seen in marks.values()], _TS),
        },
        schema=MARK_SCHEMA,
    )
    return ChangeBatch(
        resource,
        rows,
        mark_table,
        quarantine,
        windows,
        retrieved,
        unplaced,
        result=result,
    )


def changes_needing_fetch(scan: EventScan) -> list[Change]:
    """The changes `build_batch` will retrieve (for progress and rate-limit planning)."""
    return [c for c in scan.changes.values() if not c.deleted and (c.state is None or c.api_version != API_VERSION)]

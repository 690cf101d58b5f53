"""Routing a load's records into the windows still open: each record by its creation field, a
usual page (distinct ids, one open window) in one go, a repeated id dropped, an object listed
outside the span it was asked for quarantined (never dropped), a record for a window already
complete marked for a re-read of that window. A window holding a batch, or all of them together
holding too much, hands its records on to be validated and staged (`stage`)."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import cast

from stripe_assets.ingest.lean import restore_page
from stripe_assets.ingest.outcomes import LoadReport, Window
from stripe_assets.ingest.prepare import OpenWindow, has_created, window_index
from stripe_assets.ingest.rejected import OUTSIDE_WINDOW, RejectedRecord

# A window holding this many unvalidated records has them validated and staged. Small enough that
# the next part's parsed objects reuse the memory the last part's freed (10,000 invoices are
# ~250 MB of Python objects): a part four times larger made the system fault as much again in
# fresh, a quarter of a load's CPU.
BATCH_RECORDS = 2_500
# Unvalidated records held across all open windows; beyond it the fullest window is staged.
BUFFER_RECORDS = 20_000


class OpenWindows:
    """The open windows of one load's consecutive `windows`, and where each record goes."""

    def __init__(
        self, windows: Sequence[Window], created_field: str, report: LoadReport, stage: Callable[[int], None]
    ) -> None:
        self.created_field = created_field  # when Stripe created an object (its declaration says)
        self.report = report
        self.stage = stage  # validate and stage the held records of the window at this index
        self.starts = [int(w.start.timestamp()) for w in windows]
        self.ends = [int(w.end.timestamp()) for w in windows]
        self.open: dict[int, OpenWindow] = {}
        self.buffered = 0  # records held in open windows
        self.done = [False] * len(windows)
        self.late: set[int] = set()  # completed windows that received records afterwards
        self.kept_ids: set[str] = set()  # ids listed outside the range: their rows stay as they are

    def route_page(
        self, records: list[dict], asked: tuple[int, int] | None = None, observed: float | None = None
    ) -> None:
        """A page's records: the usual page (objects with distinct ids, all of one open window)
        in one go, any other record by record. `asked`: the `created` span the page was asked
        for (default: the whole range); an object outside it is quarantined (`stray`)."""
        asked = asked or (self.starts[0], self.ends[-1])
        index = self._one_open_window(records, asked)
        ids = [r["id"] for r in records] if index is not None else []
        window = self.open.get(index) if index is not None else None
        if (
            index is None
            or not set(map(type, ids)) <= {str}
            or len(set(ids)) != len(ids)
            or (window is not None and not window.seen.isdisjoint(ids))
        ):
            restore_page(records)  # routed one by one: without their texts, so whole objects
            near: int | None = None  # the window of the page's other records: where its strays were listed
            strays = []
            for record in records:
                if self.outside(record, asked):
                    strays.append(record)
                    continue
                routed = self._route(record, observed)
                near = routed if near is None else near
            for record in strays:
                self._add_stray(record, asked, near, observed)
            return
        window = window or self.open.setdefault(index, OpenWindow())
        window.seen.update(ids)
        window.saw(ids, observed)
        window.add_page(records)
        self.buffered += len(records)
        self._stage_if_full(index)

    def _one_open_window(self, records: list[dict], asked: tuple[int, int]) -> int | None:
        """The window every record belongs to, when they are objects with an `id` and an integer
        `created` within `asked`, all in one window not complete yet; otherwise None."""
        if not records or not set(map(type, records)) <= {dict}:
            return None
        found = [r.get(self.created_field) for r in records]
        if not set(map(type, found)) <= {int} or not all("id" in r for r in records):
            return None
        created = cast(list[int], found)
        low, high = min(created), max(created)
        if low < max(self.starts[0], asked[0]) or high >= min(self.ends[-1], asked[1]):
            return None
        index = bisect.bisect_right(self.starts, low) - 1
        if index != bisect.bisect_right(self.starts, high) - 1 or self.done[index]:
            return None
        return index

    def _route(self, record: dict, observed: float | None = None) -> int | None:
        """Hand a record to its window; returns the window (None: outside the range, not added)."""
        index = window_index(record, self.starts, self.ends[-1], self.created_field)
        if index is None:
            return None
        if self.done[index]:  # out of order: the window is fetched again on its own at the end
            self.late.add(index)
        else:
            self.add(index, record, observed)
        return index

    def outside(self, record: dict, asked: tuple[int, int]) -> bool:
        field = self.created_field
        return has_created(record, field) and not asked[0] <= record[field] < asked[1]

    def stray(self, record: dict, asked: tuple[int, int]) -> RejectedRecord:
        """An object listed with a `created` outside the span it was asked for: it is not where
        it says it is, so it is quarantined (never dropped), and the row its id already has
        stays as it is in every window this load writes."""
        self.report.outside_window += 1
        if isinstance(record.get("id"), str):
            self.kept_ids.add(record["id"])
        start, end = (datetime.fromtimestamp(t, UTC).isoformat() for t in asked)
        field = self.created_field
        return RejectedRecord(
            record, column="created", check=OUTSIDE_WINDOW,
            reason=f"{field} {record[field]} is outside the requested window [{start}, {end})",
        )

    def _add_stray(self, record: dict, asked: tuple[int, int], near: int | None, observed: float | None = None) -> None:
        """Quarantine a stray in the window its page was reading, else the first one still open
        within the span it was asked for."""
        rejected = self.stray(record, asked)
        if near is None or self.done[near]:
            overlapping = [
                i for i, done in enumerate(self.done)
                if not done and self.starts[i] < asked[1] and asked[0] < self.ends[i]
            ]
            near = next(iter(overlapping), None)
        if near is None:
            near = next((i for i, done in enumerate(self.done) if not done), 0)
        if self.done[near]:
            self.late.add(near)  # that window is read again, the stray with it
        else:
            self.add(near, rejected, observed)

    def add(self, index: int, record: dict, observed: float | None = None) -> None:
        window = self.open.setdefault(index, OpenWindow())
        record_id = record.get("id") if isinstance(record, dict) else None
        if isinstance(record_id, str):
            if record_id in window.seen:  # a page boundary shifted under us: keep the first copy
                return
            window.seen.add(record_id)
        window.saw([record_id], observed)
        window.records.append(record)
        self.buffered += 1
        self._stage_if_full(index)

    def _stage_if_full(self, index: int) -> None:
        """Validate a part once the window holds a batch, or the fullest window once all hold too much."""
        if len(self.open[index].records) >= BATCH_RECORDS:
            self.stage(index)
        elif self.buffered > BUFFER_RECORDS:
            self.stage(max(self.open, key=lambda i: len(self.open[i].records)))

"""Reading one time range of a list endpoint with many cursors at once.

The range is cut into created-slices, each paged newest first with `starting_after` by a pool
of threads (the work is waiting on the network, so threads, not processes). The first pages of
a slice reveal its density; while threads would otherwise idle, a dense slice is split: its
cursor keeps the newest part, new slices take equal time spans of the older part. Slices never
overlap and together cover the range, so the objects read are exactly those one cursor would
read.

The caller iterates `Fetch.pages()` in its own thread: each `Page` carries a page's objects and
the time spans no slice will return objects from any more (`settled`), so the caller knows when
a partition window is complete. A slice whose pages are not newest first (an API ignoring the
documented order) settles nothing until it is done.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.client import FetchStats, StripeReader
from stripe_assets.ingest.lean import LeanPlan
from stripe_assets.ingest.limiter import Backlog
from stripe_assets.ingest.pages import PAGE_LIMIT, read_page

DEFAULT_CONCURRENCY = 12  # pages in flight per load: 25 requests/s × 0.3 s per page, with room
PROGRESS_SECONDS = 30.0
MIN_SPLIT_PAGES = 4  # a slice with fewer pages left is not worth splitting
SLICE_PAGES = 20  # target pages of a slice made by a split (each slice's last page is partial)
IDLE_TICK_SECONDS = 1.0  # how often `pages()` yields an empty Page while waiting


@dataclass
class Slice:
    """Objects with lo <= created < hi; `upper` bounds what is still to come (exclusive)."""

    lo: int
    hi: int
    cursor: str | None = None
    upper: int = 0
    objects: int = 0
    ordered: bool = True  # pages so far were newest first
    last_created: int | None = None
    number: int = 0

    def __post_init__(self) -> None:
        self.upper = self.upper or self.hi

    @property
    def pending(self) -> tuple[int, int]:
        """The span objects may still come from."""
        return (self.lo, self.upper) if self.ordered else (self.lo, self.hi)

    def estimated_remaining(self, fallback_density: float) -> float:
        """Objects still to come, from the density read so far (or `fallback_density`)."""
        lo, upper = self.pending
        read_span = self.hi - self.upper
        density = self.objects / read_span if self.objects and read_span > 0 else fallback_density
        return density * max(upper - lo, 0)


@dataclass
class Page:
    records: list[dict]
    settled: list[tuple[int, int]] = field(default_factory=list)  # spans now complete
    asked: tuple[int, int] | None = None  # the `created` span the page was asked for: [lo, hi)
    # How new its objects are at least (Unix seconds, Stripe's clock: `StripeReader.last_observed`).
    observed: float | None = None


@dataclass
class _Progress:
    """What a thread learned from one page, for the caller's view of what is still to come."""

    records: list[dict]
    number: int  # the slice
    lo: int  # its lower bound now (raised when a split handed the older part to new slices)
    upper: int  # what it may still return lies below this
    done: bool
    children: list[tuple[int, int, int]]  # (number, lo, hi) of the slices split off it
    asked: tuple[int, int] = (0, 0)  # the span the page was asked for
    observed: float = 0.0  # how new the page is


class Fetch:
    """One range of one resource, read by `concurrency` threads; iterate `pages()` once.

    The threads move the slices along themselves (next cursor, splits), so the next page of a
    slice is asked for as soon as one arrives, whatever the caller is busy with. The caller's
    view of what is still to come (`pending_overlaps`) moves only as it takes each page, so a
    window is never complete before every page holding its objects was handed over.
    """

    def __init__(
        self,
        reader: StripeReader,
        spec: StripeResource,
        boundaries: list[int],
        stats: FetchStats,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        first_spans: int | None = None,
        lean: LeanPlan | None = None,
    ):
        """`boundaries`: ascending window edges (starts, then the range's end); the initial
        slices start on them: `first_spans` of them (default one per thread). One first span
        reads an empty range with one request; a range that proves large is split as it goes.
        `lean`: fields of the objects to leave unbuilt (`lean`); the caller restores them."""
        self.reader = reader
        self.lean = lean
        self.spec = spec
        self.path = spec.path
        self.resource = spec.name
        self.created_field = spec.created_field
        self.stats = stats
        self.concurrency = max(1, concurrency)
        self.start, self.end = boundaries[0], boundaries[-1]
        self._numbers = itertools.count()
        self._queue: list[tuple[int, int, Slice]] = []  # newest `upper` first
        self._active: dict[int, Slice] = {}  # queued or in flight (the threads' view)
        self._claims: dict[int, list[int]] = {}  # number -> [lo, upper) (the caller's view)
        for lo, hi in _initial_spans(boundaries, first_spans or self.concurrency):
            piece = Slice(lo, hi, number=next(self._numbers))
            self._push(piece)
            self._claims[piece.number] = [lo, hi]
        self._cv = threading.Condition()
        # Pages waiting for the caller: bounded, so threads wait rather than memory grow.
        self._results: queue.Queue = queue.Queue(maxsize=2 * self.concurrency)
        self._stopping = False
        self._in_flight = 0
        self.slices_done = 0
        self.splits = 0
        # Requests still expected, shared with the key's budget (which favours the largest).
        self.backlog = Backlog(f"{os.getpid()}-{id(self):x}")

    # --- what the caller sees ------------------------------------------------------------

    def pages(self) -> Iterator[Page]:
        threads = [
            threading.Thread(target=self._work, name=f"fetch-{self.resource}-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        try:
            while self._claims:
                try:
                    item = self._results.get(timeout=IDLE_TICK_SECONDS)
                except queue.Empty:
                    yield Page([])
                    continue
                if isinstance(item, BaseException):
                    raise item
                yield self._take(item)
        finally:
            with self._cv:
                self._stopping = True
                self._cv.notify_all()
            self.stats.seconds += time.perf_counter() - began

    def _take(self, progress: _Progress) -> Page:
        for number, lo, hi in progress.children:
            self._claims[number] = [lo, hi]
        claim = self._claims[progress.number]
        claim[0] = progress.lo
        settled: list[tuple[int, int]] = []
        if progress.done:
            settled.append((claim[0], claim[1]))
            del self._claims[progress.number]
            self.slices_done += 1
        elif progress.upper < claim[1]:
            settled.append((progress.upper, claim[1]))
            claim[1] = progress.upper
        return Page(progress.records, settled, progress.asked, progress.observed)

    def pending_overlaps(self, lo: int, hi: int) -> bool:
        """Whether pages not yet taken may hold objects with lo <= created < hi."""
        return any(a < hi and lo < b for a, b in self._claims.values())

    def estimated_remaining(self) -> float:
        """Objects still to read, estimated from the densities seen so far."""
        with self._cv:
            return self._remaining_objects()

    def _remaining_objects(self) -> float:
        slices = list(self._active.values())
        overall = self.stats.objects / max(self._covered_span(slices), 1)
        return sum(s.estimated_remaining(overall) for s in slices)

    def _covered_span(self, slices: list[Slice]) -> int:
        pending = sum(max(s.pending[1] - s.pending[0], 0) for s in slices)
        return (self.end - self.start) - pending

    # --- the threads -------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stopping:
                    self._cv.wait()
                if self._stopping:
                    return
                _, _, piece = heapq.heappop(self._queue)
                self._in_flight += 1
                params = self.reader.list_params(self.spec, piece.lo, piece.hi)
                if piece.cursor is not None:
                    params["starting_after"] = piece.cursor
            sent = time.time()  # a reader that cannot tell: before the request
            try:
                page = self.reader.get_list_page(
                    self.path, params, self.stats, self.backlog, self.lean, texts=True
                )
                observed = self.reader.last_observed()
                data, cursor = read_page(self.path, page, piece.cursor)
            except BaseException as exc:  # handed to the caller's thread
                self._hand_over(exc)
                return
            self.stats.count_page(len(data))
            with self._cv:
                self._in_flight -= 1
                progress, children = self._advance(piece, data, cursor)
                progress.observed = observed if observed is not None else sent
                self.backlog.requests = self._remaining_objects() / PAGE_LIMIT
            # Handed over before the slices it made are queued: their pages come after it.
            if not self._hand_over(progress):
                return
            with self._cv:
                if cursor is not None:
                    heapq.heappush(self._queue, (-piece.pending[1], piece.number, piece))
                for child in children:
                    self._push(child)
                self._cv.notify_all()

    def _hand_over(self, item: object) -> bool:
        """Put `item` on the caller's queue, waiting while it is full; False once stopping."""
        while not self._stopping:
            try:
                self._results.put(item, timeout=IDLE_TICK_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _advance(self, piece: Slice, data: list[dict], cursor: str | None) -> tuple[_Progress, list[Slice]]:
        """Under the lock: move `piece` past `data`; what to hand over and the slices split off."""
        piece.objects += len(data)
        # A `created` outside what was asked for (the object goes to quarantine) says nothing of
        # where the listing is: it neither settles spans nor marks the slice out of order.
        created: list[int] = [
            c for o in data if isinstance(o, dict)
            for c in [o.get(self.created_field)]
            if isinstance(c, int) and not isinstance(c, bool) and piece.lo <= c < piece.hi
        ]
        asked = (piece.lo, piece.hi)
        if created and piece.ordered:
            descending = all(a >= b for a, b in itertools.pairwise(created))
            if not descending or (piece.last_created is not None and created[0] > piece.last_created):
                piece.ordered = False
        if created:
            piece.last_created = created[-1]
        children: list[Slice] = []
        if cursor is None:
            del self._active[piece.number]
        else:
            piece.cursor = cursor
            if piece.ordered and created:
                piece.upper = min(piece.upper, created[-1] + 1)
                children = self._split(piece)
        progress = _Progress(
            data, piece.number, piece.lo, piece.pending[1], cursor is None,
            [(c.number, c.lo, c.hi) for c in children], asked,
        )
        return progress, children

    def _split(self, piece: Slice) -> list[Slice]:
        """Split `piece` while threads would idle; returns the new slices (not yet queued)."""
        # Runnable slices wanted: one per thread, plus some so none waits for work.
        idle = self.concurrency + self.concurrency // 2 - (len(self._queue) + self._in_flight + 1)
        span = piece.upper - 1 - piece.lo  # whole seconds strictly older than the newest pending
        if idle <= 0 or span < 2:
            return []
        overall = self.stats.objects / max(self._covered_span(list(self._active.values())), 1)
        pages = piece.estimated_remaining(overall) / PAGE_LIMIT
        if pages < MIN_SPLIT_PAGES:
            return []
        parts = min(math.ceil(pages / SLICE_PAGES), idle + 1, span)
        if parts < 2:
            return []
        edges = [piece.lo + span * i // parts for i in range(parts)]
        # The cursor keeps the newest part (objects older than it, created >= edges[-1]).
        children = [Slice(lo, hi, number=next(self._numbers)) for lo, hi in itertools.pairwise(edges)]
        piece.lo = edges[-1]
        self.splits += 1
        return children

    def _push(self, piece: Slice) -> None:
        self._active[piece.number] = piece
        heapq.heappush(self._queue, (-piece.pending[1], piece.number, piece))


def _initial_spans(boundaries: list[int], count: int) -> list[tuple[int, int]]:
    """Up to `count` spans of consecutive windows, about equally many windows each."""
    windows = len(boundaries) - 1
    count = max(1, min(count, windows))
    cuts = sorted({boundaries[windows * i // count] for i in range(count)} | {boundaries[-1]})
    return list(itertools.pairwise(cuts))

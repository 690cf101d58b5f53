"""One request budget per API key, shared by every thread and process on the machine.

Stripe limits requests per account (100/s live, 25/s test) and per endpoint (25/s for the list
endpoints we read). Every request takes a token from two buckets — the account's and its endpoint's —
refilled at their rates and holding half a second's worth (Stripe's hold a second's: our bursts
never empty theirs);
a request finding either empty sleeps until it would have refilled. The schedules live in a `BudgetStore`:
a small file under the machine's temp directory, locked with `flock` for the few microseconds of
each reservation, named by a hash of the key and API base (never the key itself). Another store
(e.g. a database row) can stand in through the same two-method interface.

Loads tell the budget how many requests they still expect (`Backlog`). When one endpoint has
clearly more left than the others (balance transactions usually do), its requests take account
tokens first: the others leave a reserve in the account's bucket for it. Without this, every
endpoint got an equal share of the account and the largest one finished alone, long after the
rest, at its endpoint's 25/s. Tokens the favoured endpoint does not use still go to the others,
and it can take no more than its endpoint's rate. (When the account's rate is not above the
endpoint's, as for test keys, one endpoint can use the whole account and nothing is favoured.)

A 429 halves the rate of the whole budget (once per second at most: answers to requests already
sent under the old rate do not halve it again); the rate then recovers linearly to the full
configured rate over `RECOVERY_SECONDS`.

The state is untrusted on every read: token counts are clamped to the bucket, values that are not
finite numbers are dropped, and times are on a clock that does not jump (the machine's monotonic
clock for the file; the database server's for Postgres). A stored time in the future (a reboot, a
server clock set back) counts as now, so a halved rate still recovers and new 429s still count.
Retrieves of single objects (`/v1/charges/ch_...`) share one endpoint entry, `/v1/charges/{id}`,
held to the endpoint's rate like a list; entries idle long enough to have refilled are dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import random
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson

LIVE_KEY_RATE = 80.0  # 80 % of Stripe's 100/s live limit: room for the account's own traffic
TEST_KEY_RATE = 20.0  # 80 % of the 25/s test-mode limit
ENDPOINT_RATE = 25.0  # Stripe's per-endpoint limit on list endpoints
BURST_SECONDS = 0.5  # half of what Stripe's buckets hold: jitter on the way never empties theirs
MIN_FACTOR = 1 / 64  # the lowest a run of 429s can push the rate
RECOVERY_SECONDS = 20.0  # from half rate back to full without 429s: half of this
HALVE_AT_MOST_EVERY = 1.0  # seconds; 429s of requests sent before the last halving do not count
STALE_SECONDS = 60.0  # an endpoint entry idle this long has refilled: dropped from the state
BACKLOG_SECONDS = 5.0  # a load's backlog counts this long after it last reported it
FAVOURED_RATIO = 1.25  # an endpoint this far above the mean backlog takes account tokens first


def default_account_rate(api_key: str) -> float:
    """Requests per second for a key: 80 for live keys, 20 for test (and unknown) keys."""
    return LIVE_KEY_RATE if api_key.startswith(("sk_live_", "rk_live_")) else TEST_KEY_RATE


def budget_name(api_key: str, api_base: str) -> str:
    """A stable, non-reversible name for the budget of one key at one API base."""
    return hashlib.sha256(f"{api_base}\n{api_key}".encode()).hexdigest()[:24]


State = dict[str, float]

# Fixed words Stripe uses where an id would otherwise stand (`/v1/charges/search`).
_NOT_IDS = frozenset({"search", "upcoming"})
# Stripe's namespaces of resources: a collection follows them, not an id.
_NAMESPACES = frozenset({
    "apps", "billing", "billing_portal", "checkout", "climate", "entitlements", "financial_connections",
    "forwarding", "identity", "issuing", "radar", "reporting", "sigma", "tax", "terminal", "test_helpers",
    "treasury",
})


def endpoint_of(request: str) -> str:
    """`GET /v1/charges/ch_123/refunds` -> `GET /v1/charges/{id}/refunds`: one budget entry per
    endpoint, whatever object it names. Stripe paths alternate collection and id after `/v1`."""
    method, _, path = request.partition(" ")
    parts = path.split("?", 1)[0].split("/")
    if len(parts) > 2 and parts[1] == "v1":
        # A namespace (`/v1/checkout/sessions`) comes before the collection.
        first = 4 if len(parts) > 3 and parts[2] in _NAMESPACES else 3
        for i in range(first, len(parts), 2):
            if parts[i] and parts[i] not in _NOT_IDS:
                parts[i] = "{id}"
    return f"{method} {'/'.join(parts)}" if path else request


class BudgetStore(Protocol):
    """Where a budget's state lives; `transaction` yields it for one atomic read-modify-write."""

    def transaction(self) -> contextlib.AbstractContextManager[State]: ...


class MemoryBudgetStore:
    """A budget for this process only (its threads share it)."""

    def __init__(self) -> None:
        self._state: State = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        with self._lock:
            yield self._state


class FileBudgetStore:
    """A budget shared by every process of the machine: a JSON file under `flock`.

    Every request reads and writes the file, so a transaction makes as few system calls as it
    can: the file stays open for the life of the store (reopened should it be removed meanwhile:
    the processes that come later share the new one), it is read in one call, and shortened only
    when the state shrank. Each call is a moment without the GIL that a busy load's threads then
    queue to take back."""

    def __init__(self, name: str, directory: str | os.PathLike | None = None):
        root = Path(directory) if directory is not None else Path(tempfile.gettempdir()) / "stripe-assets-budgets"
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"{name}.json"
        self._threads = threading.Lock()  # flock is per open file: serialize this process's threads too
        self._fd: int | None = None
        self._pid = 0  # the process that opened `_fd`: a forked child opens its own (flock is per open file)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        with self._threads:
            fd = self._locked()
            try:
                raw = _read_whole(fd)
                try:
                    state = orjson.loads(raw) if raw else {}
                except orjson.JSONDecodeError:
                    state = {}  # a torn or foreign file (or numbers beyond 64 bits): the budget starts afresh
                if not isinstance(state, dict):
                    state = {}
                before = dict(state)
                yield state
                if state != before:
                    data = orjson.dumps(state)
                    os.pwrite(fd, data, 0)
                    if len(data) < len(raw):
                        os.ftruncate(fd, len(data))
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _locked(self) -> int:
        """The file's descriptor, locked; the file the path names now, should it have been
        removed (a temp directory's cleaner) since the store opened it."""
        while True:
            if self._fd is None or self._pid != os.getpid():
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
                weakref.finalize(self, os.close, self._fd)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            if os.fstat(self._fd).st_nlink:
                return self._fd
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._fd = None  # (the finalizer closes the old descriptor with the store)


_READ_BYTES = 1 << 16  # a budget's state is a few hundred bytes: one read


def _read_whole(fd: int) -> bytes:
    chunks = []
    offset = 0
    while True:  # a regular file reads short only at its end
        chunk = os.pread(fd, _READ_BYTES, offset)
        chunks.append(chunk)
        offset += len(chunk)
        if len(chunk) < _READ_BYTES:
            return b"".join(chunks)


@dataclass
class Backlog:
    """Requests one load still expects to make on its endpoint (its estimate, updated as it reads)."""

    key: str  # the load's own name in the shared budget
    requests: float = 0.0


@dataclass(frozen=True)
class Limits:
    """Requests per second for the account and for each endpoint."""

    account: float
    endpoint: float = ENDPOINT_RATE


class RateLimiter:
    """Paces requests under `limits`, drawing from `store` shared with every other user of the key."""

    def __init__(
        self,
        limits: Limits,
        store: BudgetStore | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if limits.account <= 0 or limits.endpoint <= 0:
            raise ValueError("rate limits must be positive numbers of requests per second")
        self.limits = limits
        self.store = store if store is not None else MemoryBudgetStore()
        # The store's clock (every user of the state agrees on it), else the machine's monotonic one.
        self._clock: Callable[[], float] = clock if clock is not None else getattr(self.store, "clock", time.monotonic)
        self._sleep = sleep
        # This process's threads wait for an endpoint's tokens one at a time (see `acquire`).
        self._queues: dict[str, threading.Lock] = {}
        self._queues_lock = threading.Lock()

    def acquire(self, endpoint: str, backlog: Backlog | None = None) -> float:
        """Waits until a request to `endpoint` fits the budget; returns the seconds waited.
        `backlog`: what the requesting load still expects to read (see the module doc).

        A load's threads asking for one endpoint queue here, in the process, and only the first
        of them reads the shared state: they all wait for the same bucket, so the others could
        only wake with it, find the token taken and read the state again (a locked file read
        and written each time), costing CPU for every request many times over."""
        endpoint = endpoint_of(endpoint)
        with self._queues_lock:
            queue = self._queues.setdefault(endpoint, threading.Lock())
        with queue:
            return self._acquire(endpoint, backlog)

    def _acquire(self, endpoint: str, backlog: Backlog | None) -> float:
        schedules = (("account", self.limits.account), (f"endpoint {endpoint}", self.limits.endpoint))
        waited = 0.0
        while True:
            with self.store.transaction() as state:
                now = self._clock()
                _settle(state, now)
                favoured = _note_backlog(state, endpoint, backlog, now)
                if self.limits.account <= self.limits.endpoint:
                    favoured = None  # one endpoint can use the whole account: nobody finishes alone
                factor = _factor(state, now)
                levels: list[tuple[str, float]] = []
                need = 0.0
                for name, rate in schedules:
                    rate *= factor
                    capacity = max(rate * BURST_SECONDS, 1.0)
                    at = state.get(f"{name} at")
                    if at is None:  # new (or idle long enough to be dropped): start full
                        at, tokens = now - BURST_SECONDS, capacity
                    else:
                        tokens = min(max(state.get(f"{name} tokens", capacity), 0.0), capacity)
                    tokens = min(capacity, tokens + (now - at) * rate)
                    levels.append((name, tokens))
                    # The account's reserve for a favoured endpoint (up to half the bucket).
                    floor = 1.0 + (capacity // 2 if name == "account" and favoured not in (None, endpoint) else 0.0)
                    if tokens < floor:
                        need = max(need, (floor - tokens) / rate)
                if need == 0.0:
                    for name, tokens in levels:
                        state[f"{name} tokens"] = tokens - 1.0
                        state[f"{name} at"] = now
                    return waited
            # Threads woken together race for the token: spread them a little.
            pause = need * (1.0 + 0.2 * random.random())
            self._sleep(pause)
            waited += pause

    def throttled(self) -> None:
        """The API answered 429: halve the rate (at most once per HALVE_AT_MOST_EVERY seconds)."""
        with self.store.transaction() as state:
            now = self._clock()
            _settle(state, now)
            if "halved_at" in state and now - state["halved_at"] < HALVE_AT_MOST_EVERY:
                return
            state["factor"] = max(_factor(state, now) / 2, MIN_FACTOR)
            state["factor_at"] = now
            state["halved_at"] = now

    def current_rate(self) -> float:
        """The account rate in force now (after 429s, before full recovery)."""
        with self.store.transaction() as state:
            now = self._clock()
            _settle(state, now)
            return self.limits.account * _factor(state, now)


def _settle(state: State, now: float) -> None:
    """Make a state read from the store safe to use at `now` (see the module doc)."""
    for name, value in list(state.items()):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            del state[name]  # a hand-edited or foreign value: as if never recorded
        elif not -1e15 < value < 1e15 or not math.isfinite(value):
            del state[name]  # too large to be a count or a time (or to convert to a float)
    for name in [k for k in state if k.endswith(" at") or k in ("factor_at", "halved_at")]:
        if state[name] <= now:
            continue
        if name == "halved_at":
            del state[name]  # when the last halving was is unknown: the next 429 halves again
        else:
            state[name] = now
    for name in [k for k in state if k.startswith("endpoint ") and k.endswith(" at")]:
        if now - state[name] > STALE_SECONDS:  # refilled long ago: the same as no entry
            del state[name]
            state.pop(name.removesuffix(" at") + " tokens", None)


def _note_backlog(state: State, endpoint: str, backlog: Backlog | None, now: float) -> str | None:
    """Record `backlog`, forget stale ones; the endpoint favoured now, if any."""
    if backlog is not None:
        state[f"backlog {endpoint} {backlog.key}"] = max(backlog.requests, 0.0)
        state[f"backlog at {endpoint} {backlog.key}"] = now
    per_endpoint: dict[str, float] = {}
    for name in [k for k in state if k.startswith("backlog at ")]:
        held = name.removeprefix("backlog at ")
        if not now - BACKLOG_SECONDS <= state[name] <= now + BACKLOG_SECONDS:
            del state[name]
            state.pop(f"backlog {held}", None)
            continue
        owner = held.rsplit(" ", 1)[0]
        per_endpoint[owner] = per_endpoint.get(owner, 0.0) + state.get(f"backlog {held}", 0.0)
    waiting = {name: left for name, left in per_endpoint.items() if left > 0}
    if len(waiting) < 2:
        return None
    top = max(waiting, key=lambda name: waiting[name])
    return top if waiting[top] >= FAVOURED_RATIO * sum(waiting.values()) / len(waiting) else None


def _factor(state: State, now: float) -> float:
    """The share of the configured rate in force: halved by 429s, recovering linearly."""
    factor = max(state.get("factor", 1.0), MIN_FACTOR)
    if factor >= 1.0:
        return 1.0
    elapsed = max(now - state.get("factor_at", now), 0.0)
    return min(1.0, factor + elapsed / RECOVERY_SECONDS)


def shared_limiter(
    api_key: str, api_base: str, limits: Limits, directory: str | os.PathLike | None = None
) -> RateLimiter:
    """The limiter every process using `api_key` at `api_base` on this machine shares."""
    return RateLimiter(limits, FileBudgetStore(budget_name(api_key, api_base), directory))

"""The request budget of one API key, shared by threads and processes of the machine."""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import threading
import time

import pytest

from stripe_assets.ingest.limiter import (
    BACKLOG_SECONDS,
    BURST_SECONDS,
    RECOVERY_SECONDS,
    Backlog,
    FileBudgetStore,
    Limits,
    MemoryBudgetStore,
    RateLimiter,
    budget_name,
    default_account_rate,
    endpoint_of,
    shared_limiter,
)

KEY = "sk_test_limiterTestKey000000000000"
BASE = "http://127.0.0.1:1"
RATE = 40.0  # requests/s; the budget also allows a burst of BURST_SECONDS' worth


def _starts(directory: str, count: int) -> list[float]:
    limiter = shared_limiter(KEY, BASE, Limits(account=RATE, endpoint=1000), directory)
    starts = []
    for _ in range(count):
        limiter.acquire("GET /v1/charges")
        starts.append(time.time())
    return starts


def _in_process(directory: str, count: int, out) -> None:
    out.put(_starts(directory, count))


def test_threads_and_processes_draw_from_one_budget(tmp_path):
    per_worker, threads, processes = 20, 3, 2
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    children = [context.Process(target=_in_process, args=(str(tmp_path), per_worker, out)) for _ in range(processes)]
    for child in children:
        child.start()
    starts: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        got = _starts(str(tmp_path), per_worker)
        with lock:
            starts.extend(got)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for _ in children:
        starts.extend(out.get(timeout=60))
    for child in children:
        child.join(timeout=60)
    starts.sort()
    total = per_worker * (threads + processes)
    assert len(starts) == total
    # The i-th request of the machine starts no earlier than (i - burst) / rate after the first:
    # separate budgets per process or thread would let them all through at once.
    burst = int(RATE * BURST_SECONDS)
    for i, at in enumerate(starts):
        assert at - starts[0] >= (i - burst) / RATE - 0.05, f"request {i} started too early"


class VirtualClock:
    """Time that moves only when a limiter sleeps (or a test moves it on)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_each_endpoint_has_its_own_budget_within_the_account():
    clock = VirtualClock()
    limiter = RateLimiter(Limits(account=100, endpoint=10), MemoryBudgetStore(), clock=clock, sleep=clock.sleep)
    burst = int(10 * BURST_SECONDS)
    waits = [limiter.acquire("GET /v1/charges") for _ in range(burst + 10)]
    assert waits[:burst] == [0.0] * burst  # a burst, then 10/s
    assert 0.95 <= sum(waits[burst:]) <= 1.25
    assert limiter.acquire("GET /v1/customers") == 0.0  # another endpoint is not held up


def test_the_endpoint_with_clearly_the_most_left_takes_account_tokens_first():
    clock = VirtualClock()
    # Stripe's shape: the account's rate above any one endpoint's.
    limits = Limits(account=40, endpoint=30)
    limiter = RateLimiter(limits, MemoryBudgetStore(), clock=clock, sleep=clock.sleep)
    bucket = int(40 * BURST_SECONDS)  # 20 account tokens, half of them kept for the favoured endpoint
    largest, charges, customers = Backlog("bt", 500), Backlog("ch", 50), Backlog("cu", 60)
    assert limiter.acquire("GET /v1/balance_transactions", largest) == 0.0
    assert limiter.acquire("GET /v1/customers", customers) == 0.0
    waits = [limiter.acquire("GET /v1/charges", charges) for _ in range(bucket)]
    # The others stop at the reserve (18 tokens were left, 8 above it) ...
    assert waits[:8] == [0.0] * 8 and all(w > 0 for w in waits[8:])
    # ... which the favoured endpoint draws on at once.
    assert [limiter.acquire("GET /v1/balance_transactions", largest) for _ in range(8)] == [0.0] * 8
    # Tokens it leaves unused go to the others: together they keep the account's full rate.
    began = clock.now
    for _ in range(40):
        limiter.acquire("GET /v1/charges", charges)
        limiter.acquire("GET /v1/customers", customers)
    assert 80 / 40 - 0.5 <= clock.now - began <= 80 / 40 * 1.25  # waits are stretched by up to 20 % of jitter


def test_no_endpoint_is_favoured_when_backlogs_are_alike_no_longer_reported_or_the_account_is_no_wider():
    clock = VirtualClock()
    limiter = RateLimiter(Limits(account=20, endpoint=100), MemoryBudgetStore(), clock=clock, sleep=clock.sleep)
    bucket = int(20 * BURST_SECONDS)
    limiter.acquire("GET /v1/refunds", Backlog("re", 110))
    waits = [limiter.acquire("GET /v1/charges", Backlog("ch", 100)) for _ in range(bucket - 1)]
    assert waits == [0.0] * (bucket - 1)  # 110 is not clearly more than 100: the whole bucket is shared

    clock.now += 1.0  # the bucket refills
    limiter.acquire("GET /v1/balance_transactions", Backlog("bt", 900))
    clock.now += BACKLOG_SECONDS + 1  # that load stopped reporting (finished, or died)
    waits = [limiter.acquire("GET /v1/charges", Backlog("ch", 100)) for _ in range(bucket)]
    assert waits == [0.0] * bucket

    # A test key's account (20/s) is below an endpoint's 25/s: any endpoint can use all of it,
    # so favouring one would only hold the others back.
    test_key = RateLimiter(Limits(account=20, endpoint=25), MemoryBudgetStore(), clock=clock, sleep=clock.sleep)
    test_key.acquire("GET /v1/balance_transactions", Backlog("bt", 900))
    waits = [test_key.acquire("GET /v1/charges", Backlog("ch", 10)) for _ in range(bucket - 1)]
    assert waits == [0.0] * (bucket - 1)


def test_a_429_halves_the_rate_which_then_recovers_gradually():
    clock = VirtualClock()
    limiter = RateLimiter(Limits(account=80), MemoryBudgetStore(), clock=clock, sleep=lambda s: None)
    limiter.throttled()
    assert limiter.current_rate() == pytest.approx(40)
    limiter.throttled()  # an answer to a request sent before the rate was halved: no second halving
    assert limiter.current_rate() == pytest.approx(40)
    clock.now += 1.0  # recovered a little meanwhile, then halved again
    limiter.throttled()
    halved_twice = 80 * (0.5 + 1 / RECOVERY_SECONDS) / 2
    assert limiter.current_rate() == pytest.approx(halved_twice)
    clock.now += RECOVERY_SECONDS / 4
    assert halved_twice < limiter.current_rate() < 80
    clock.now += RECOVERY_SECONDS
    assert limiter.current_rate() == pytest.approx(80)


def test_the_default_budget_follows_the_key_and_its_file_does_not_name_it(tmp_path):
    assert default_account_rate("sk_live_abc") == default_account_rate("rk_live_abc") == 80
    assert default_account_rate("sk_test_abc") == default_account_rate("rk_test_abc") == 20
    store = FileBudgetStore(budget_name(KEY, BASE), tmp_path)
    RateLimiter(Limits(account=20), store).acquire("GET /v1/charges")
    assert store.path.exists()
    assert KEY not in store.path.name and KEY not in store.path.read_text()
    assert budget_name(KEY, BASE) != budget_name(KEY, "http://127.0.0.1:2")


def _file_limiter(tmp_path, clock: VirtualClock, limits: Limits) -> tuple[RateLimiter, FileBudgetStore]:
    store = FileBudgetStore("budget", tmp_path)
    return RateLimiter(limits, store, clock=clock, sleep=clock.sleep), store


@pytest.mark.parametrize("tokens", [-1e12, 10**400, "many", None], ids=["negative", "huge", "text", "null"])
def test_a_token_count_out_of_range_in_the_file_costs_at_most_one_refill(tmp_path, tokens):
    clock = VirtualClock()

    def sleep(seconds: float) -> None:
        assert seconds < 60, f"asked to sleep {seconds:.3g} s"
        clock.sleep(seconds)

    store = FileBudgetStore("budget", tmp_path)
    limiter = RateLimiter(Limits(account=20, endpoint=20), store, clock=clock, sleep=sleep)
    state = {"account tokens": tokens, "account at": clock.now, "endpoint GET /v1/charges tokens": tokens}
    store.path.write_text(json.dumps(state))
    waits = [limiter.acquire("GET /v1/charges") for _ in range(3)]
    assert sum(waits) <= 3 * 1.2 / 20  # never hours of sleep, never an overflow


def test_a_backward_clock_jump_neither_keeps_the_rate_reduced_nor_ignores_new_429s():
    clock = VirtualClock()
    limiter = RateLimiter(Limits(account=80), MemoryBudgetStore(), clock=clock, sleep=clock.sleep)
    limiter.acquire("GET /v1/charges")
    limiter.throttled()
    clock.now -= 3600  # the clock the state was written on is set back an hour
    limiter.throttled()  # a new 429 after the jump still halves the rate
    assert limiter.current_rate() == pytest.approx(20)
    clock.now += RECOVERY_SECONDS * 2
    assert limiter.current_rate() == pytest.approx(80)  # and it recovers as usual
    assert limiter.acquire("GET /v1/charges") == 0.0  # the bucket was not left empty either


def test_the_default_clock_is_monotonic_not_wall_time():
    limiter = RateLimiter(Limits(account=20), FileBudgetStore("x", tempfile.mkdtemp()))
    assert limiter._clock is time.monotonic


def test_retrieves_share_one_endpoint_entry_held_to_the_endpoint_rate(tmp_path):
    clock = VirtualClock()
    limiter, store = _file_limiter(tmp_path, clock, Limits(account=1000, endpoint=10))
    began = clock.now
    for i in range(45):
        limiter.acquire(f"GET /v1/charges/ch_{i:04d}Ab")
    burst = int(10 * BURST_SECONDS)
    assert clock.now - began >= (45 - burst) / 10 - 0.01  # 10/s, as for a list
    endpoints = [name for name in json.loads(store.path.read_text()) if name.startswith("endpoint ")]
    assert endpoints == ["endpoint GET /v1/charges/{id} tokens", "endpoint GET /v1/charges/{id} at"]
    assert endpoint_of("GET /v1/charges/search") == "GET /v1/charges/search"
    assert endpoint_of("GET /v1/customers/cus_1/sources/src_2") == "GET /v1/customers/{id}/sources/{id}"
    # Under a namespace, the collection follows it.
    assert endpoint_of("GET /v1/checkout/sessions") == "GET /v1/checkout/sessions"
    assert endpoint_of("GET /v1/checkout/sessions/cs_1") == "GET /v1/checkout/sessions/{id}"
    assert endpoint_of("GET /v1/radar/early_fraud_warnings/issfr_1") == "GET /v1/radar/early_fraud_warnings/{id}"


def test_idle_endpoint_entries_are_pruned(tmp_path):
    clock = VirtualClock()
    limiter, store = _file_limiter(tmp_path, clock, Limits(account=100, endpoint=10))
    limiter.acquire("GET /v1/customers")
    clock.now += 300
    limiter.acquire("GET /v1/charges")
    assert not any("customers" in name for name in json.loads(store.path.read_text()))


def test_a_budget_file_past_64_kib_is_read_whole(tmp_path):
    clock = VirtualClock()
    limiter, store = _file_limiter(tmp_path, clock, Limits(account=80, endpoint=25))
    state = {f"endpoint GET /v1/x{i} at": clock.now for i in range(4000)}
    state |= {"factor": 0.5, "factor_at": clock.now, "halved_at": clock.now}
    store.path.write_text(json.dumps(state))
    assert store.path.stat().st_size > 1 << 16
    assert limiter.current_rate() == pytest.approx(40)  # the halving at the end of the file counts


class CountingStore(MemoryBudgetStore):
    """A budget that counts how often its state is read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def transaction(self):
        self.reads += 1
        return super().transaction()


def test_threads_waiting_for_one_endpoint_read_the_shared_state_about_once_per_request():
    """Many threads of a load waiting for the same bucket: each request reads the (file or
    database) state once to find it empty and once to take its token, not once per thread that
    woke for the same token."""
    store = CountingStore()
    limiter = RateLimiter(Limits(account=1000, endpoint=40), store)  # 20 at once, then 40/s
    threads, per_thread = 10, 6

    def run() -> None:
        for _ in range(per_thread):
            limiter.acquire("GET /v1/charges")

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    requests = threads * per_thread
    assert store.reads <= 2.5 * requests, f"{store.reads} reads of the state for {requests} requests"


def test_a_budget_file_removed_while_in_use_is_shared_again_through_the_new_one(tmp_path):
    # A store keeps its file open between requests; a temp cleaner removing the file must not
    # leave it drawing from a budget no later process sees.
    clock = VirtualClock()
    limits = Limits(account=10, endpoint=10)
    first = RateLimiter(limits, FileBudgetStore("budget", tmp_path), clock=clock, sleep=clock.sleep)
    first.acquire("GET /v1/charges")
    (tmp_path / "budget.json").unlink()
    second = RateLimiter(limits, FileBudgetStore("budget", tmp_path), clock=clock, sleep=clock.sleep)
    burst = int(10 * BURST_SECONDS)
    began = clock.now
    for _ in range(burst):
        second.acquire("GET /v1/charges")
    assert clock.now == began  # a fresh file: a full bucket
    first.acquire("GET /v1/charges")  # the first store now draws from the same, emptied bucket
    assert clock.now > began


def _hold_the_budget(directory: str, held, release) -> None:  # (events of a fork context)
    store = _FORKED_STORES[directory]
    with store.transaction():
        held.set()
        release.wait(10)


_FORKED_STORES: dict[str, FileBudgetStore] = {}


def test_a_forked_process_locks_the_budget_file_on_its_own(tmp_path):
    # flock belongs to an open file: a child that kept its parent's descriptor would share the
    # parent's lock, and both would change the budget at once.
    store = FileBudgetStore("budget", tmp_path)
    with store.transaction() as state:  # the parent has the file open
        state["account tokens"] = 1.0
    _FORKED_STORES[str(tmp_path)] = store
    fork = multiprocessing.get_context("fork")
    held, release = fork.Event(), fork.Event()
    child = fork.Process(target=_hold_the_budget, args=(str(tmp_path), held, release))
    child.start()
    try:
        assert held.wait(10)
        entered = threading.Event()

        def parent_transaction() -> None:
            with store.transaction():
                entered.set()

        waiter = threading.Thread(target=parent_transaction, daemon=True)
        waiter.start()
        assert not entered.wait(0.5), "the parent entered while its forked child held the budget"
        release.set()
        assert entered.wait(10)
    finally:
        release.set()
        child.join(10)
        _FORKED_STORES.clear()

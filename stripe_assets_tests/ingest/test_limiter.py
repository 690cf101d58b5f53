"""The request budget of one API key, shared by threads and processes of the machine."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from stripe_assets.ingest.limiter import (
    BURST_SECONDS,
    RECOVERY_SECONDS,
    FileBudgetStore,
    Limits,
    MemoryBudgetStore,
    RateLimiter,
    budget_name,
    default_account_rate,
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


def test_each_endpoint_has_its_own_budget_within_the_account():
    clock = [1000.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    limiter = RateLimiter(Limits(account=100, endpoint=10), MemoryBudgetStore(), clock=lambda: clock[0], sleep=sleep)
    burst = int(10 * BURST_SECONDS)
    waits = [limiter.acquire("GET /v1/charges") for _ in range(burst + 10)]
    assert waits[:burst] == [0.0] * burst  # a burst, then 10/s
    assert 0.95 <= sum(waits[burst:]) <= 1.25
    assert limiter.acquire("GET /v1/customers") == 0.0  # another endpoint is not held up


def test_a_429_halves_the_rate_which_then_recovers_gradually():
    clock = [1000.0]
    limiter = RateLimiter(Limits(account=80), MemoryBudgetStore(), clock=lambda: clock[0], sleep=lambda s: None)
    limiter.throttled()
    assert limiter.current_rate() == pytest.approx(40)
    limiter.throttled()  # an answer to a request sent before the rate was halved: no second halving
    assert limiter.current_rate() == pytest.approx(40)
    clock[0] += 1.0  # recovered a little meanwhile, then halved again
    limiter.throttled()
    halved_twice = 80 * (0.5 + 1 / RECOVERY_SECONDS) / 2
    assert limiter.current_rate() == pytest.approx(halved_twice)
    clock[0] += RECOVERY_SECONDS / 4
    assert halved_twice < limiter.current_rate() < 80
    clock[0] += RECOVERY_SECONDS
    assert limiter.current_rate() == pytest.approx(80)


def test_the_default_budget_follows_the_key_and_its_file_does_not_name_it(tmp_path):
    assert default_account_rate("sk_live_abc") == default_account_rate("rk_live_abc") == 80
    assert default_account_rate("sk_test_abc") == default_account_rate("rk_test_abc") == 20
    store = FileBudgetStore(budget_name(KEY, BASE), tmp_path)
    RateLimiter(Limits(account=20), store).acquire("GET /v1/charges")
    assert store.path.exists()
    assert KEY not in store.path.name and KEY not in store.path.read_text()
    assert budget_name(KEY, BASE) != budget_name(KEY, "http://127.0.0.1:2")

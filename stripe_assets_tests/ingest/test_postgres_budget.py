"""The request budget shared through Postgres: atomic across processes, named without the key."""

from __future__ import annotations

import multiprocessing

from stripe_assets.ingest.postgres_budget import PostgresBudgetStore, psycopg2_dsn


def _take(dsn: str, name: str, times: int, start) -> None:
    store = PostgresBudgetStore(dsn, name)
    start.wait()
    for _ in range(times):
        with store.transaction() as state:  # read, then write what was read plus one
            state["taken"] = state.get("taken", 0) + 1
    store.close()


def test_reservations_from_many_processes_never_overlap(postgres, postgres_db):
    dsn = postgres.url(postgres_db)
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(4)
    workers = [context.Process(target=_take, args=(dsn, "budget-a", 50, start)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0] * 4
    store = PostgresBudgetStore(dsn, "budget-a")
    with store.transaction() as state:
        assert state == {"taken": 200}  # no read-modify-write lost to another process
    with PostgresBudgetStore(dsn, "budget-b").transaction() as other:
        assert other == {}  # budgets of other keys are their own
    store.close()


def test_a_failed_transaction_leaves_the_budget_as_it_was(postgres, postgres_db):
    store = PostgresBudgetStore(postgres.url(postgres_db), "budget")
    with store.transaction() as state:
        state["at"] = 1.0
    try:
        with store.transaction() as state:
            state["at"] = 2.0
            raise RuntimeError("the request was never sent")
    except RuntimeError:
        pass
    with store.transaction() as state:
        assert state == {"at": 1.0}
    store.close()


def test_dagster_storage_urls_become_psycopg2_dsns():
    assert psycopg2_dsn("postgresql+psycopg2://u:p@h:5432/d") == "postgresql://u:p@h:5432/d"
    assert psycopg2_dsn("postgresql://u@h/d") == "postgresql://u@h/d"

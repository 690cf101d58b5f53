"""The request budget shared through Postgres: atomic across processes, named without the key."""

from __future__ import annotations

import multiprocessing

import psycopg2
import pytest
from dagster_postgres.utils import get_conn_string

from stripe_assets.ingest.postgres_budget import PostgresBudgetStore, PostgresSettingsError, connection_params

# Every character a URL gives a meaning to, in the password Dagster's storage URL carries.
AWKWARD_PASSWORD = "pa/ss@w:rd%2F #?x"


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


def test_dagster_storage_urls_become_libpq_keyword_parameters():
    url = get_conn_string("u:s@r", AWKWARD_PASSWORD, "db.internal", "stripe/db", "6432", {"sslmode": "require"},
                          "postgresql+psycopg2")
    assert connection_params(url) == {
        "user": "u:s@r", "password": AWKWARD_PASSWORD, "host": "db.internal", "port": "6432",
        "dbname": "stripe/db", "sslmode": "require",
    }
    assert connection_params("postgresql://u@h/d") == {"user": "u", "host": "h", "dbname": "d"}
    with pytest.raises(PostgresSettingsError) as refused:
        connection_params(f"postgresql://u:{AWKWARD_PASSWORD}@h:port/d")
    assert "pa" not in str(refused.value)


def test_a_password_with_url_characters_reaches_the_server(postgres, postgres_db):
    postgres.add_login("budget_user", AWKWARD_PASSWORD)
    url = get_conn_string("budget_user", AWKWARD_PASSWORD, postgres.host, postgres_db, str(postgres.port),
                          scheme="postgresql+psycopg2")
    store = PostgresBudgetStore(url, "budget")
    with store.transaction() as state:
        state["at"] = store.clock()
    store.close()
    wrong = PostgresBudgetStore(url.replace("x@", "y@"), "budget")  # the server does check it
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"), wrong.transaction():
        pass

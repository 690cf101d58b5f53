"""A row only ever moves forward in time: whichever run writes last, on either backend, a state
never replaces a newer one (changes from events, list fetches, reloads alike)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import FetchStats, StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.pages import answered_since
from stripe_assets.ingest.records import to_arrow
from stripe_assets.ingest.validation.quarantine import _ARROW_SCHEMA, QUARANTINE_COLUMNS
from stripe_assets.ingest.warehouse import WindowWrite
from stripe_assets.operations.rollback import RollbackRequest, run_rollback
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_tests.changes.runs import BACKENDS, Days, HoldingReader, differences, open_backend, rows, run
from stripe_assets_tests.faults.test_fencing import in_background

DAYS = Days(date(2026, 10, 1), 4)
PRICES = get_resource("prices")
PRICE_COLUMNS = default_columns(get_resource("prices"))
QUARANTINE = _ARROW_SCHEMA  # an empty quarantine table has its columns


@pytest.fixture
def account():
    """Four days of 100 charges a day; the test moves its clock."""
    with start_emulator(EmulatorConfig(seed=7, start=DAYS.start, days=DAYS.count, per_day=100)) as emu:
        yield emu


@pytest.fixture(params=BACKENDS)
def warehouse(request, tmp_path):
    return open_backend(request.param, tmp_path, request)


def test_a_run_whose_fetch_was_held_never_regresses_the_changes_a_later_run_applied(account, warehouse):
    every_day = [DAYS.window(d) for d in range(DAYS.count)]
    with StripeReader(account.api_key, account.url) as reader:
        run(reader, warehouse, "charges", every_day, "run-first", DAYS)
    account.advance(hours=6, changes={"charge_refunded": 75, "charge_updated": 75})

    # Run A reads its changes, then its list of day 1 is answered and held (a slow proxy) ...
    slow = HoldingReader(account.api_key, account.url, holding="/v1/charges")
    a, outcome = in_background(lambda: run(slow, warehouse, "charges", every_day[:1], "run-a", DAYS))
    assert slow.held.wait(60), outcome
    # ... while Stripe moves on and run B applies the newer changes with its load of day 4.
    account.advance(hours=6, changes={"charge_refunded": 60, "charge_disputed": 10})
    with StripeReader(account.api_key, account.url) as reader:
        run(reader, warehouse, "charges", every_day[3:], "run-b", DAYS)
    slow.release.set()
    a.join(120)
    slow.close()

    assert "error" not in outcome, outcome["error"]
    assert differences(warehouse, account, "charges", every_day) == []
    # B wrote newer states of day 1 while A read it: A's older fetch of day 1 was set aside.
    assert outcome["report"].left_to == {every_day[0].key: "run-b"}

    # A further run finds nothing to repair: the rows are the current states already.
    with StripeReader(account.api_key, account.url) as reader:
        run(reader, warehouse, "charges", every_day, "run-later", DAYS)
    assert differences(warehouse, account, "charges", every_day) == []


def _listed(records: list[dict], seen_at: datetime, run_id: str) -> WindowWrite:
    """A load of day 1 (prices) whose fetch began at `seen_at`."""
    window = DAYS.window(0)
    rows = to_arrow(
        records, PRICE_COLUMNS, partition_of=lambda _: window.key, run_id=run_id, loaded_at=datetime.now(UTC),
        observed_at=seen_at,
    )
    record = {"resource": "prices", "partition": window.key, "run_id": run_id, "status": "loaded"}
    return WindowWrite(
        window.key, window.start, window.end, rows, QUARANTINE.empty_table(), record, keeps_deleted=True,
        observed_at=seen_at,
    )


def _price(n: int, amount: int) -> dict:
    created = int(DAYS.window(0).start.timestamp()) + n
    return {
        "id": f"price_{n}", "object": "price", "created": created, "active": True, "currency": "usd",
        "unit_amount": amount, "type": "one_time", "billing_scheme": "per_unit", "livemode": False,
        "metadata": {}, "product": "prod_1",
    }


def test_a_reload_with_an_older_fetch_keeps_the_newer_rows_and_lands_the_rest(warehouse):
    early, late = datetime(2026, 10, 5, 12, tzinfo=UTC), datetime(2026, 10, 5, 13, tzinfo=UTC)
    columns = dict(QUARANTINE_COLUMNS)
    # A newer fetch landed first: price_1 at 200, and price_3, created after the older fetch read.
    warehouse.apply(PRICES, PRICE_COLUMNS, columns, [_listed([_price(1, 200), _price(3, 300)], late, "run-new")])
    # The older fetch lands after it: price_1 still at 100, price_2 (which the newer one lacks).
    warehouse.apply(PRICES, PRICE_COLUMNS, columns, [_listed([_price(1, 100), _price(2, 150)], early, "run-old")])

    with warehouse.connect(read_only=True) as conn:
        found = conn.execute("SELECT id, unit_amount, _run_id, _observed_at FROM stripe.prices ORDER BY id").fetchall()
    assert [(i, amount, by) for i, amount, by, _ in found] == [
        ("price_1", 200, "run-new"), ("price_2", 150, "run-old"), ("price_3", 300, "run-new"),
    ]
    assert [seen for *_, seen in found] == [late, early, late]

    # An equally new state wins (the later writer), and rollback undoes it exactly.
    warehouse.apply(PRICES, PRICE_COLUMNS, columns, [_listed([_price(1, 250)], late, "run-same")])
    assert rows(warehouse, "prices")["price_1"][0]["unit_amount"] == 250
    run_rollback(warehouse, RollbackRequest("prices", steps=1))
    assert rows(warehouse, "prices")["price_1"][0]["unit_amount"] == 200


def test_a_listed_state_is_dated_on_stripes_clock_never_later_than_the_request(account):
    # The emulator's `Date` is its own clock (the end of its data until moved), as Stripe's is Stripe's.
    with StripeReader(account.api_key, account.url) as reader:
        reader.get_page("/v1/charges", {"limit": 1}, FetchStats())
        first = reader.last_observed()
        account.advance(hours=3)
        reader.get_page("/v1/charges", {"limit": 1}, FetchStats())
        later = reader.last_observed()
    assert first is not None and later is not None
    assert account.now - 3 * 3600 - 2 <= first < account.now - 3 * 3600
    assert account.now - 2 <= later < account.now
    # Whole seconds, less the round trip; without a Date, the local time the request was sent.
    assert answered_since({"Date": "Mon, 05 Oct 2026 12:00:00 GMT"}, 100.0, 100.4) == 1791201599.0
    assert answered_since({"date": "not a date"}, 100.0, 100.4) == 100.0
    assert answered_since({}, 100.0, 100.4) == 100.0

"""`/v1/balance` and the balance summary report over HTTP, consistent with the balance transactions."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from stripe_assets_tests.emulator.conftest import Api

REPORT = "/v1/reporting/report_types/balance.summary.1"


def _transactions(api: Api) -> list[dict]:
    found, after = [], None
    while True:
        page = api.ok("/v1/balance_transactions", limit=100, **({"starting_after": after} if after else {}))
        found += page["data"]
        if not page["has_more"]:
            return found
        after = page["data"][-1]["id"]


def _run(api: Api, **params) -> dict:
    form = {"report_type": "balance.summary.1", **{f"parameters[{k}]": v for k, v in params.items()}}
    response = api.session.post(api.emu.url + "/v1/reporting/report_runs", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_balance_is_the_net_of_the_balance_transactions(api):
    available, pending = defaultdict(int), defaultdict(int)
    for txn in _transactions(api):
        (available if txn["status"] == "available" else pending)[txn["currency"]] += txn["net"]
    balance = api.ok("/v1/balance")
    assert balance["object"] == "balance"
    assert {b["currency"]: b["amount"] for b in balance["available"]} == available
    assert {b["currency"]: b["amount"] for b in balance["pending"] if b["amount"]} == {
        c: a for c, a in pending.items() if a
    }


def test_a_report_run_succeeds_and_its_file_sums_the_interval(api):
    kind = api.ok(REPORT)
    start, end = kind["data_available_start"], kind["data_available_end"]
    assert kind["object"] == "reporting.report_type" and start < end
    run = _run(api, interval_start=start + 86400, interval_end=end - 86400, currency="usd")
    assert (run["status"], run["result"]) == ("pending", None)
    run = api.ok(f"/v1/reporting/report_runs/{run['id']}")
    assert run["status"] == "succeeded" and run["result"]["object"] == "file"
    # The download needs the key, as files.stripe.com does.
    assert api.session.get(run["result"]["url"], headers={"Authorization": ""}, timeout=10).status_code == 401
    rows = list(csv.DictReader(io.StringIO(api.session.get(run["result"]["url"], timeout=10).text)))
    assert [r["category"] for r in rows] == ["starting_balance", "activity", "payouts", "ending_balance"]
    assert {r["currency"] for r in rows} == {"usd"}
    figures = {r["category"]: round(float(r["net_amount"]) * 100) for r in rows}
    expected = defaultdict(int)
    for txn in _transactions(api):
        if txn["currency"] != "usd" or txn["created"] >= end - 86400:
            continue
        if txn["created"] < start + 86400:
            expected["starting_balance"] += txn["net"]
        elif txn["reporting_category"] in ("payout", "payout_reversal"):
            expected["payouts"] += txn["net"]
        else:
            expected["activity"] += txn["net"]
    assert figures["starting_balance"] == expected["starting_balance"]
    assert figures["activity"] == expected["activity"] != 0
    assert figures["payouts"] == expected["payouts"] != 0
    assert figures["ending_balance"] == sum(expected.values())


def test_an_interval_outside_the_availability_is_refused_naming_the_parameter(api):
    kind = api.ok(REPORT)
    form = {"report_type": "balance.summary.1", "parameters[interval_start]": kind["data_available_start"],
            "parameters[interval_end]": kind["data_available_end"] + 86400}
    response = api.session.post(api.emu.url + "/v1/reporting/report_runs", data=form, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "parameters[interval_end]"
    assert api.error("/v1/reporting/report_types/balance.summary.9", 404)["code"] == "resource_missing"

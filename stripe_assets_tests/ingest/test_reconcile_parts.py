"""The reconciliation's parts: the balance summary CSV in minor units, and the Reporting API's errors."""

from __future__ import annotations

import re

import pytest

from stripe_assets.ingest.reconcile import ReportsClient, ReportsError
from stripe_assets.ingest.reconcile.summary import SummaryError, parse_summary

CSV = b"""category,description,net_amount,currency
starting_balance,Starting balance (2026-10-01),12.50,usd
activity,Activity,1234.56,usd
payouts,Less payouts,-1000.00,usd
ending_balance,Ending balance (2026-10-03),247.06,usd
activity,Activity,4500,jpy
payouts,Less payouts,-1.234,kwd
"""


def test_amounts_are_read_in_each_currencys_minor_units():
    summary = parse_summary(CSV)
    assert (summary["usd"].starting_balance, summary["usd"].activity, summary["usd"].payouts) == (1250, 123456, -100000)
    assert summary["usd"].ending_balance == 24706
    assert (summary["jpy"].activity, summary["jpy"].payouts) == (4500, 0)  # zero-decimal; a missing row is zero
    assert summary["kwd"].payouts == -1234  # three decimals


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"category,net_amount\nactivity,1.00\n", "the balance summary has no column currency"),
        (b"category,net_amount,currency\nactivity,lots,usd\n", "net_amount 'lots' of usd is not a number"),
        (b"category,net_amount,currency\nactivity,1.5,jpy\n", "net_amount '1.5' of jpy has more decimals"),
    ],
)
def test_a_bad_report_is_one_line_naming_the_value(data, message):
    with pytest.raises(SummaryError, match=re.escape(message)) as caught:
        parse_summary(data)
    assert "\n" not in str(caught.value)


def test_a_refused_key_is_one_line_without_the_key(emulator):
    key = "sk_test_" + "x" * 30
    with pytest.raises(ReportsError) as caught:
        ReportsClient(key, emulator.url).report_type("balance.summary.1")
    message = str(caught.value)
    assert message.startswith("GET /v1/reporting/report_types/balance.summary.1: HTTP 401")
    assert key not in message and "\n" not in message


def test_an_unknown_report_type_names_it(emulator):
    with pytest.raises(ReportsError, match=re.escape("HTTP 404: No such report type: 'balance.summary.7'")):
        ReportsClient(emulator.api_key, emulator.url).report_type("balance.summary.7")


def test_a_file_on_stripes_host_is_read_from_the_api_base_when_it_is_set():
    local = ReportsClient("sk_test_" + "x" * 30, "http://127.0.0.1:9")
    assert local.file_url("https://files.stripe.com/v1/files/file_1/contents") == (
        "http://127.0.0.1:9/v1/files/file_1/contents"
    )
    stripe = ReportsClient("sk_test_" + "x" * 30)
    url = "https://files.stripe.com/v1/files/file_1/contents"
    assert stripe.file_url(url) == url


def test_payouts_shown_as_the_amount_subtracted_are_read_as_what_left_the_balance():
    data = b"""category,description,net_amount,currency
starting_balance,Starting balance,10.00,eur
activity,Activity,5.00,eur
payouts,Less payouts,12.00,eur
ending_balance,Ending balance,3.00,eur
"""
    assert parse_summary(data)["eur"].payouts == -1200

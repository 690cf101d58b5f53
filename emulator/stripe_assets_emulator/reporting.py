"""Stripe's Reporting API for the balance summary: the report type, report runs and their files.

- `GET /v1/reporting/report_types[/balance.summary.1]`: the data availability window, from the
  start of the account's history to the last whole day before the emulator's clock (Stripe's
  balance reports are computed once a day).
- `POST /v1/reporting/report_runs` (`report_type`, `parameters[interval_start]`,
  `parameters[interval_end]`, optional `parameters[currency]`, `parameters[timezone]` Etc/UTC only):
  a run, `pending`; its first retrieval finds it `succeeded` with `result`, a `file` whose `url`
  serves the CSV (`GET /v1/files/<id>/contents`, authenticated with the key, as files.stripe.com).
- The CSV has Stripe's columns `category,description,net_amount,currency`, one block per currency:
  `starting_balance`, `activity` (every balance transaction but payouts), `payouts` and
  `ending_balance`, amounts in major units. A transaction counts in the interval its `created`
  falls in (start inclusive, end exclusive); the figures are computed when the run is created.
"""

from __future__ import annotations

import csv
import io
import itertools
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from stripe_assets_emulator import errors
from stripe_assets_emulator.balance import PAYOUT_CATEGORIES, transactions
from stripe_assets_emulator.dataset import Dataset
from stripe_assets_emulator.ids import random_chars
from stripe_assets_emulator.plans import DAY_SECONDS
from stripe_assets_emulator.rng import Purpose
from stripe_assets_emulator.vocab import CURRENCIES

BALANCE_SUMMARY = "balance.summary.1"
COLUMNS = ("category", "description", "net_amount", "currency")
EXPONENTS = {c.code: c.exponent for c in CURRENCIES}
FILE_LIFETIME = 7 * DAY_SECONDS


@dataclass
class Run:
    body: dict[str, Any]
    csv: bytes
    retrieved: int = 0


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def _major(amount: int, currency: str) -> str:
    exponent = EXPONENTS.get(currency, 2)
    return f"{Decimal(amount).scaleb(-exponent):.{exponent}f}"


class Reporting:
    def __init__(self, ds: Dataset):
        self.ds = ds
        self._runs: dict[str, Run] = {}
        self._files: dict[str, str] = {}  # file id -> run id
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    # report types ------------------------------------------------------------------------------

    def availability(self) -> tuple[int, int]:
        start = self.ds.config.start_timestamp
        return start, max(start, self.ds.now // DAY_SECONDS * DAY_SECONDS)

    def report_type(self, report_type: str) -> dict[str, Any]:
        if report_type != BALANCE_SUMMARY:
            raise errors.no_such("report type", report_type, param="report_type", status=404)
        start, end = self.availability()
        return {
            "id": BALANCE_SUMMARY,
            "object": "reporting.report_type",
            "data_available_end": end,
            "data_available_start": start,
            "default_columns": list(COLUMNS),
            "livemode": False,
            "name": "Balance summary",
            "updated": end,
            "version": 1,
        }

    def report_types(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [self.report_type(BALANCE_SUMMARY)],
            "has_more": False,
            "url": "/v1/reporting/report_types",
        }

    # report runs -------------------------------------------------------------------------------

    def create_run(self, pairs: list[tuple[str, str]], files_base: str) -> dict[str, Any]:
        params: dict[str, str] = {}
        for name, value in pairs:
            if name not in ("report_type", "parameters[interval_start]", "parameters[interval_end]",
                            "parameters[currency]", "parameters[timezone]", "parameters[columns][]"):
                raise errors.unknown_parameter(name)
            params[name] = value
        report_type = params.get("report_type")
        if not report_type:
            raise errors.invalid("Missing required param: report_type.", param="report_type")
        self.report_type(report_type)
        if params.get("parameters[timezone]", "Etc/UTC") not in ("Etc/UTC", "UTC"):
            raise errors.invalid("This emulator reports in Etc/UTC only.", param="parameters[timezone]")
        start_available, end_available = self.availability()
        start = self._timestamp(params, "interval_start", start_available)
        end = self._timestamp(params, "interval_end", end_available)
        if not start_available <= start < end <= end_available:
            raise errors.invalid(
                f"interval_start and interval_end must satisfy {start_available} <= interval_start < "
                f"interval_end <= {end_available} (data_available_start and data_available_end of "
                f"{report_type}); got {start} and {end}",
                param=f"parameters[{'interval_end' if end > end_available or end <= start else 'interval_start'}]",
            )
        currency = params.get("parameters[currency]")
        number = next(self._numbers)
        run_id = "frr_" + random_chars(24, self.ds.plans.seed, Purpose.REPORT, number, 1)
        file_id = "file_" + random_chars(24, self.ds.plans.seed, Purpose.REPORT, number, 2)
        now = self.ds.now
        parameters: dict[str, Any] = {"interval_end": end, "interval_start": start}
        if currency:
            parameters["currency"] = currency
        body = {
            "id": run_id,
            "object": "reporting.report_run",
            "created": now,
            "error": None,
            "livemode": False,
            "parameters": parameters,
            "report_type": report_type,
            "result": None,
            "status": "pending",
            "succeeded_at": None,
        }
        data = self.summary_csv(start, end, currency)
        result = {
            "id": file_id,
            "object": "file",
            "created": now,
            "expires_at": now + FILE_LIFETIME,
            "filename": f"{run_id}.csv",
            "links": None,
            "purpose": "finance_report_run",
            "size": len(data),
            "title": f"FinanceReportRun {run_id}",
            "type": "csv",
            "url": f"{files_base}/v1/files/{file_id}/contents",
        }
        with self._lock:
            self._runs[run_id] = Run({**body, "_result": result}, data)
            self._files[file_id] = run_id
        return body

    @staticmethod
    def _timestamp(params: dict[str, str], name: str, default: int) -> int:
        value = params.get(f"parameters[{name}]")
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise errors.invalid(f"Invalid integer: {value}", param=f"parameters[{name}]") from None

    def retrieve_run(self, run_id: str) -> dict[str, Any]:
        """Pending when created; done from its first retrieval on, "after a moment"."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                raise errors.no_such("reporting.report_run", run_id, param="report_run", status=404)
            run.retrieved += 1
            body = {k: v for k, v in run.body.items() if k != "_result"}
        body.update(status="succeeded", succeeded_at=body["created"], result=run.body["_result"])
        return body

    def file_contents(self, file_id: str) -> bytes:
        with self._lock:
            run_id = self._files.get(file_id)
            if run_id is None or self._runs[run_id].retrieved == 0:  # a file exists once its run succeeded
                raise errors.no_such("file", file_id, param="file", status=404)
            return self._runs[run_id].csv

    # the report --------------------------------------------------------------------------------

    def summary_csv(self, start: int, end: int, currency: str | None) -> bytes:
        before: dict[str, int] = defaultdict(int)
        activity: dict[str, int] = defaultdict(int)
        payouts: dict[str, int] = defaultdict(int)
        for txn in transactions(self.ds):
            if (currency and txn["currency"] != currency) or txn["created"] >= end:
                continue
            if txn["created"] < start:
                before[txn["currency"]] += txn["net"]
            elif txn["reporting_category"] in PAYOUT_CATEGORIES:
                payouts[txn["currency"]] += txn["net"]
            else:
                activity[txn["currency"]] += txn["net"]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for code in sorted(set(before) | set(activity) | set(payouts)):
            starting, moved, paid = before[code], activity[code], payouts[code]
            writer.writerow(("starting_balance", f"Starting balance ({_day(start)})", _major(starting, code), code))
            writer.writerow(("activity", "Activity", _major(moved, code), code))
            writer.writerow(("payouts", "Less payouts", _major(paid, code), code))
            ending = starting + moved + paid
            writer.writerow(("ending_balance", f"Ending balance ({_day(end - 1)})", _major(ending, code), code))
        return out.getvalue().encode()

"""Reconciliation with Stripe's own totals: the balance summary report and the balance.

`reports` talks to the Reporting API and `/v1/balance`, `summary` reads the report's CSV,
`ledger` sums the warehouse's balance transactions, `check` compares them. No Dagster here.
"""

from stripe_assets.ingest.reconcile.check import ReconcileReport, reconcile
from stripe_assets.ingest.reconcile.reports import ReportsClient, ReportsError

__all__ = ["ReconcileReport", "ReportsClient", "ReportsError", "reconcile"]

"""`reconciles_with_stripe`: the balance transactions checked against Stripe's own totals.

An asset check of its own on the balance transactions asset: it runs in the runs that load them
(Dagster includes an asset's checks in its runs) and alone, from the asset's Checks tab or
`dagster asset check`. The comparison itself is `stripe_assets.ingest.reconcile`.
"""

# No `from __future__ import annotations`: Dagster reads the context's annotation at runtime.

import dagster as dg

from stripe_assets.dagster.scope import ALONE, Scope
from stripe_assets.ingest.reconcile import ReportsClient, ReportsError, reconcile
from stripe_assets.ingest.reconcile.summary import SummaryError
from stripe_assets.ingest.warehouse import WarehouseError

CHECK_NAME = "reconciles_with_stripe"
DESCRIPTION = (
    "Per currency, the loaded balance transactions' activity (Σ net, payouts apart) and payouts equal "
    "Stripe's balance summary report (balance.summary.1) over the loaded days within its data "
    "availability; with complete history, Σ net also equals /v1/balance available + pending. "
    "A difference names the currency, both amounts and the days. Only the platform's own balance is "
    "compared (the key's account): connected accounts' transactions are left out."
)


def build_reconciliation_check(asset_key: dg.AssetKey, scope: Scope = ALONE) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key,
        name=CHECK_NAME,
        description=DESCRIPTION,
        blocking=False,
        # The asset logs its materializations rather than returning an output, so a check in its
        # run would be skipped: the check runs right after each load instead, from automation.
        automation_condition=dg.AutomationCondition.any_deps_updated(),
        required_resource_keys=scope.resource_keys,
    )
    def reconciles_with_stripe(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        stripe_api = scope.api(context)
        try:
            client = ReportsClient(stripe_api.api_key or "", stripe_api.api_base)
            report = reconcile(client, scope.warehouse(context).warehouse())
        except (ReportsError, SummaryError, WarehouseError) as exc:
            return dg.AssetCheckResult(
                passed=False, severity=dg.AssetCheckSeverity.ERROR, description=f"could not reconcile: {exc}"
            )
        context.log.info(report.description)
        return dg.AssetCheckResult(
            passed=report.passed,
            severity=dg.AssetCheckSeverity.WARN if report.severity == "WARN" else dg.AssetCheckSeverity.ERROR,
            description=report.description,
            metadata={
                "interval": report.metadata.get("interval", ""),
                "complete_history": report.complete_history,
                "report_runs": report.metadata.get("report_runs", 0),
                "currencies": dg.MetadataValue.json(report.metadata.get("currencies", {})),
                "differences": dg.MetadataValue.json(report.metadata.get("differences", [])),
                "notes": dg.MetadataValue.json(report.metadata.get("notes", [])),
            },
        )

    return reconciles_with_stripe

"""Small assets with the real assets' key shape (`stripe/<resource>`) and metadata names."""
# No `from __future__ import annotations`: Dagster checks the `context` annotation at runtime.


import dagster as dg

DAILY = dg.DailyPartitionsDefinition(start_date="2026-10-01")
THRESHOLD_MESSAGE = (
    "charges 2026-10-03: 7.5% of 400 records invalid (30), above the 5.0% threshold; "
    "top reasons: amount: expected integer (30)"
)


def loading_asset(resource: str, *, loaded: int = 100, rejected: int = 0) -> dg.AssetsDefinition:
    """Loads every partition of the run, logging one materialization per partition."""

    @dg.asset(key=["stripe", resource], partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def _asset(context: dg.AssetExecutionContext) -> None:
        for key in context.partition_keys:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=["stripe", resource],
                    partition=key,
                    metadata={
                        "records_loaded": loaded,
                        "records_rejected": rejected,
                        "error_rate_pct": round(100.0 * rejected / max(loaded + rejected, 1), 4),
                    },
                )
            )

    return _asset


def threshold_failing_asset(resource: str = "charges") -> dg.AssetsDefinition:
    """Fails like a partition above the validation threshold: a one-line dg.Failure."""

    @dg.asset(key=["stripe", resource], partitions_def=DAILY)
    def _asset(context: dg.AssetExecutionContext) -> None:
        raise dg.Failure(description=THRESHOLD_MESSAGE, metadata={"error_rate_pct": 7.5}, allow_retries=False)

    return _asset


def crashing_asset(resource: str = "refunds") -> dg.AssetsDefinition:
    """Fails with an ordinary exception deep in user code (wrapped by Dagster's step error)."""

    @dg.asset(key=["stripe", resource], partitions_def=DAILY)
    def _asset(context: dg.AssetExecutionContext) -> None:
        raise KeyError("balance_transaction")

    return _asset

"""`stripe/accounts`: the platform's connected accounts (with `accounts: connected` or `all`)."""

from __future__ import annotations

import dagster as dg

from stripe_assets.alerts.routes import ASSET_KEY_PREFIX
from stripe_assets.dagster.scope import ALONE, Scope
from stripe_assets.dataflows.config import DataflowsConfig
from stripe_assets.ingest.accounts_table import ACCOUNTS_TABLE, refresh_accounts
from stripe_assets.ingest.client import StripeReadError
from stripe_assets.ingest.redact import redact
from stripe_assets.ingest.warehouse import WarehouseError

ACCOUNTS_KEY = dg.AssetKey([ASSET_KEY_PREFIX, "accounts"])  # not a declared resource: no dataflow of its own


def reads_connected(config: DataflowsConfig) -> bool:
    return any(flow.reads(config.api).is_connect for flow in config.dataflows)


def build_accounts_asset(config: DataflowsConfig, scope: Scope = ALONE) -> dg.AssetsDefinition:
    reading = config.api

    @dg.asset(
        key=ACCOUNTS_KEY,
        group_name="stripe_connect",
        description=(
            f"The platform's connected accounts in `{ACCOUNTS_TABLE}`: type, country, capabilities, "
            "charges and payouts enabled, created; an account that deauthorized the platform keeps "
            "its row with `deauthorized_at`."
        ),
        kinds={"stripe", "duckdb"},
        metadata={"dagster/table_name": ACCOUNTS_TABLE},
        required_resource_keys=scope.resource_keys,
    )
    def _accounts(context) -> dg.MaterializeResult:
        try:
            with scope.api(context).reader(reading) as reader:
                done = refresh_accounts(reader, scope.warehouse(context).warehouse())
        except (StripeReadError, WarehouseError) as exc:
            raise dg.Failure(description=redact(f"accounts: {exc}"), allow_retries=False) from None
        return dg.MaterializeResult(
            metadata={
                "accounts_listed": done.listed,
                "accounts_deauthorized": dg.MetadataValue.json(done.deauthorized),
                "api_requests": done.requests,
            }
        )

    return _accounts

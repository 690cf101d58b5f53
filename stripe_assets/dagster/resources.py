"""Dagster resources: the Stripe API reader and the DuckDB warehouse, configured from the environment."""

from __future__ import annotations

import os
from dataclasses import replace

import dagster as dg
from pydantic import Field, PrivateAttr

from stripe_assets.dataflows.api_settings import ApiSettings
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.operations.instance import instance_postgres_url
from stripe_assets.settings import (
    API_BASE_ENV,
    API_KEY_ENV,
    DUCKDB_PATH_ENV,
    LAKE_DATA_PATH_ENV,
    WAREHOUSE_ENV,
    open_warehouse,
    resolve_path,
    settings,
)


class StripeApiResource(dg.ConfigurableResource):
    """Reads Stripe list endpoints as raw JSON pages (see `stripe_assets.ingest.client`)."""

    api_key: str | None = Field(
        default=None, description="Stripe secret or restricted read-only key (env STRIPE_API_KEY)."
    )
    api_key_env: str = Field(
        default=API_KEY_ENV, description="The environment variable the key is read from (named in errors)."
    )
    api_base: str | None = Field(
        default=None, description="Base URL of the API; unset for Stripe itself (env STRIPE_API_BASE)."
    )
    max_network_retries: int | None = Field(
        default=None, ge=0, le=20, description="Overrides `api.network_retries` of the dataflows file."
    )
    _budget_database: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # On an instance in Postgres, runs on every machine draw from one budget per key there.
        self._budget_database = instance_postgres_url(context.instance)

    def reader(self, api: ApiSettings | None = None) -> StripeReader:
        """A reader with the budget, timeouts and retries of `api` (the `api:` section of
        dataflows.yaml), drawing from the key's budget: shared through the instance's Postgres
        when it has one (every machine), else on this machine."""
        return (api or ApiSettings()).reader(
            self.api_key,
            self.api_base,
            budget_database=self._budget_database,
            max_network_retries=self.max_network_retries,
            key_env=self.api_key_env,
        )


class WarehouseResource(dg.ConfigurableResource):
    """Where the assets land: the DuckDB file (env STRIPE_ASSETS_DUCKDB_PATH), or a DuckLake
    (env STRIPE_ASSETS_WAREHOUSE=ducklake:<catalog>, data files in STRIPE_ASSETS_LAKE_DATA_PATH)."""

    duckdb_path: str | None = Field(
        default=None, description="The DuckDB file; unset for the environment's (env STRIPE_ASSETS_DUCKDB_PATH)."
    )
    lake: str | None = Field(
        default=None,
        description="ducklake:<catalog> for a DuckLake; unset for the DuckDB file (env STRIPE_ASSETS_WAREHOUSE).",
    )
    lake_data_path: str | None = Field(
        default=None,
        description="The DuckLake's data files: a folder or object storage URL (env STRIPE_ASSETS_LAKE_DATA_PATH).",
    )

    def warehouse(self) -> Warehouse:
        env = settings()
        if self.lake or env.warehouse:
            lake = replace(
                env, warehouse=self.lake or env.warehouse, lake_data_path=self.lake_data_path or env.lake_data_path
            )
            return open_warehouse(lake)
        # A relative path is the project's, not the working directory's.
        return Warehouse(resolve_path(self.duckdb_path) if self.duckdb_path else env.duckdb_path)


# The resource keys the assets and jobs ask for: namespaced, so they sit beside a project's own
# `warehouse` or `stripe` resources without clashing.
STRIPE_API_KEY = "stripe_api"
WAREHOUSE_KEY = "stripe_warehouse"


def _optional_env(name: str) -> dg.EnvVar | None:
    # An unset optional variable must not fail resource loading, so only bind it when present.
    return dg.EnvVar(name) if os.environ.get(name) else None


def environment_resources(
    api_key_env: str = API_KEY_ENV,
    api_base: str | None = None,
    duckdb_path: str | None = None,
    keys: tuple[str, str] = (STRIPE_API_KEY, WAREHOUSE_KEY),
) -> dict[str, dg.ConfigurableResource]:
    """The two resources, configured from the environment (the variables of `stripe_assets.settings`).

    The key stays an EnvVar: Dagster resolves it in the run and never stores its value. Unset, the
    run fails with one line saying so (see StripeReader). `api_base` and `duckdb_path` override
    their variables; a relative path resolves against the project home (`stripe_assets.settings`).
    `keys`: the API's and the warehouse's resource keys (see `stripe_assets.dagster.scope`).
    """
    api_key, warehouse_key = keys
    return {
        api_key: StripeApiResource(
            api_key=_optional_env(api_key_env),
            api_key_env=api_key_env,
            api_base=api_base or _optional_env(API_BASE_ENV),
        ),
        warehouse_key: WarehouseResource(
            duckdb_path=duckdb_path or _optional_env(DUCKDB_PATH_ENV),
            lake=_optional_env(WAREHOUSE_ENV),
            lake_data_path=_optional_env(LAKE_DATA_PATH_ENV),
        ),
    }

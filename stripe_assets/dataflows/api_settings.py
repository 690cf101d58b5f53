"""How loads read the Stripe API: the request budget, timeouts and retries, concurrency, run size.

One section of `dataflows.yaml` (`api:`), shared by every dataflow: all of them read with the
same key, so they draw from one budget.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stripe_assets.dataflows.accounts import Accounts, parse_accounts
from stripe_assets.ingest.client import (
    DEFAULT_API_BASE,
    DEFAULT_NETWORK_RETRIES,
    DEFAULT_PAGE_DEADLINE_SECONDS,
    DEFAULT_RATE_LIMIT_WAIT_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    StripeReader,
)
from stripe_assets.ingest.fetch import DEFAULT_CONCURRENCY, PROGRESS_SECONDS
from stripe_assets.ingest.limiter import ENDPOINT_RATE, Limits, RateLimiter, budget_name, default_account_rate
from stripe_assets.ingest.postgres_budget import PostgresBudgetStore
from stripe_assets.ingest.redact import API_KEY_ENV

DEFAULT_PARTITIONS_PER_RUN = 31


class ApiSettings(BaseModel):
    """Reading the Stripe API (every field has a default; the whole section may be left out)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_second: float | None = Field(
        None,
        gt=0,
        le=10_000,
        description="Budget of the whole key, shared by every run on the machine; null: 80 for live "
        "keys (80 % of Stripe's 100/s), 20 for test keys.",
    )
    endpoint_requests_per_second: float = Field(
        ENDPOINT_RATE, gt=0, le=10_000, description="Budget of each list endpoint (Stripe allows 25/s)."
    )
    timeout_seconds: float = Field(
        DEFAULT_TIMEOUT_SECONDS, gt=0, le=600, description="One HTTP attempt, connect and read."
    )
    network_retries: int = Field(
        DEFAULT_NETWORK_RETRIES, ge=0, le=20, description="Retries of a page after network errors, timeouts and 5xx."
    )
    page_deadline_seconds: float = Field(
        DEFAULT_PAGE_DEADLINE_SECONDS, gt=0, le=86_400,
        description="Total time for the network attempts of one page (429 waits excluded).",
    )
    rate_limit_wait_seconds: float = Field(
        DEFAULT_RATE_LIMIT_WAIT_SECONDS, gt=0, le=86_400,
        description="How long one page may wait out 429 answers before the load fails.",
    )
    concurrency: int = Field(
        DEFAULT_CONCURRENCY, ge=1, le=64, description="Pages of one load fetched at the same time."
    )
    progress_seconds: float = Field(
        PROGRESS_SECONDS, ge=0, le=3600, description="At most this often, a load logs its progress."
    )
    partitions_per_run: int = Field(
        DEFAULT_PARTITIONS_PER_RUN, ge=1, le=100_000,
        description="A catch-up tick or backfill longer than this is split into runs of this many partitions.",
    )

    accounts: Accounts = Field(
        default_factory=Accounts,
        description="Whose data is read: self (the key's account), connected (every connected account), "
        "all (both), or a list of acct_ ids; a dataflow may choose its own.",
    )

    @field_validator("accounts", mode="before")
    @classmethod
    def _parse_accounts(cls, value: object) -> Accounts:
        return parse_accounts(value)

    def limits(self, api_key: str) -> Limits:
        account = self.requests_per_second or default_account_rate(api_key)
        return Limits(account=account, endpoint=self.endpoint_requests_per_second)

    def reader(
        self,
        api_key: str | None,
        api_base: str | None,
        *,
        budget_database: str | None = None,
        max_network_retries: int | None = None,
        key_env: str = API_KEY_ENV,
    ) -> StripeReader:
        """A reader with this section's budget, timeouts and retries. Its budget is the key's on
        this machine, or shared through `budget_database` (the instance's Postgres) with every
        machine that reads with the key."""
        limits = self.limits(api_key or "")
        limiter = None
        if budget_database and api_key:
            name = budget_name(api_key, (api_base or DEFAULT_API_BASE).rstrip("/"))
            limiter = RateLimiter(limits, PostgresBudgetStore(budget_database, name))
        return StripeReader(
            api_key,
            api_base or None,
            max_network_retries=self.network_retries if max_network_retries is None else max_network_retries,
            timeout_seconds=self.timeout_seconds,
            page_deadline_seconds=self.page_deadline_seconds,
            rate_limit_wait_seconds=self.rate_limit_wait_seconds,
            limits=limits,
            limiter=limiter,
            key_env=key_env,
        )

"""The defaults and retry rules the README states, read from what the project ships (the other
tests set their own values, so these numbers are checked here)."""

from __future__ import annotations

from pathlib import Path

import yaml

from stripe_assets.dataflows.api_settings import ApiSettings
from stripe_assets.dataflows.config import load_dataflows

REPO = Path(__file__).resolve().parents[1]


def test_the_readmes_api_defaults_are_the_shipped_ones():
    readme = (REPO / "README.md").read_text()
    defaults = ApiSettings()
    shipped = load_dataflows(REPO / "dataflows.yaml").api
    for settings in (defaults, shipped):
        assert settings.partitions_per_run == 31
        assert settings.endpoint_requests_per_second == 25
        assert settings.progress_seconds == 30
    assert "`api.partitions_per_run` (31)" in readme
    assert "(Stripe's limit is 25/s)" in (REPO / "dataflows.yaml").read_text()


def test_a_run_that_failed_on_its_data_is_not_retried_one_whose_process_died_is():
    """README: 'A run whose process or machine died is retried twice; one that failed on its data is not.'"""
    config = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    assert config["run_retries"] == {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}


def test_the_readmes_record_bounds_are_the_shipped_ones():
    """README: 'at most 20,000 unvalidated records wait in memory; a partition larger than 2,500
    records is validated a part at a time' (the memory tests lower both to stay small)."""
    from stripe_assets.ingest import routing

    readme = " ".join((REPO / "README.md").read_text().split())
    assert (routing.BUFFER_RECORDS, routing.BATCH_RECORDS) == (20_000, 2_500)
    assert "at most 20,000 unvalidated records wait in memory" in readme
    assert "a partition larger than 2,500 records is validated a part at a time" in readme

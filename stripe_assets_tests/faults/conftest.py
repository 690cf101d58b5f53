from __future__ import annotations

# The alert tests' real webhook receivers, Dagster instance and alert log.
from stripe_assets_tests.alerts.conftest import alert_log, instance, make_webhook  # noqa: F401

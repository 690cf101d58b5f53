"""A code location for the daemon test: the production alert sensor plus one small asset.

Routes come from `$STRIPE_ASSETS_DATAFLOWS`, as in a deployment.
"""

import dagster as dg

from stripe_assets.dagster import alerts as sensors
from stripe_assets_tests.alerts.stripe_like_assets import loading_asset


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[sensors.build_alerts_sensor()], assets=[loading_asset("charges", loaded=42)])

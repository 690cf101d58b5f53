"""Operating the dataflows in the UI: freshness checks per asset and the rollback job."""

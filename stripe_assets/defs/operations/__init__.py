"""Operating the dataflows in the UI: the rollback job."""

"""The Dagster code location: everything under `stripe_assets/defs/`, loaded by folder."""

from pathlib import Path

import dagster as dg

from stripe_assets.dagster_cli import check_materialize_arguments, our_errors_in_one_line
from stripe_assets.dataflows.config import load_dataflows


@dg.definitions
def defs() -> dg.Definitions:
    with our_errors_in_one_line():  # a bad dataflows.yaml or partition key: one line, not a stack
        check_materialize_arguments(load_dataflows())
        return dg.load_from_defs_folder(path_within_project=Path(__file__).parent.parent)

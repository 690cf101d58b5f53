"""The models analysts build first on Stripe data, as SQL over the warehouse (DuckDB or the lake).

Each model is a SELECT in `sql/<name>.sql` (plain SQL, readable on its own), a table
`stripe_models.<name>` built from it, its columns described one by one, and checks that catch a
wrong model: each check is a query returning the rows that break it (none: it passes).
`catalog` declares them; `build` runs them. No Dagster here.
"""

from stripe_assets.models.build import MissingInputs, build_model, column_types, run_checks
from stripe_assets.models.catalog import MODELS, SCHEMA, Model, ModelCheck, get_model

__all__ = [
    "MODELS", "SCHEMA", "MissingInputs", "Model", "ModelCheck",
    "build_model", "column_types", "get_model", "run_checks",
]

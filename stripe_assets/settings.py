"""The environment, read in one place: the Stripe key and base URL, the warehouse and the dataflows file.

Relative paths resolve against the project home, not the working directory, so the CLI, the
demo and the Dagster runs read the same warehouse from any folder. The home is `$DAGSTER_HOME`
when set (the Makefile points it at the repo root; a deployment points it at its instance
folder), else the checkout this package was installed from, else the working directory.
An empty variable counts as unset everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

API_KEY_ENV = "STRIPE_API_KEY"
API_BASE_ENV = "STRIPE_API_BASE"
DUCKDB_PATH_ENV = "STRIPE_ASSETS_DUCKDB_PATH"
DATAFLOWS_ENV = "STRIPE_ASSETS_DATAFLOWS"
WAREHOUSE_ENV = "STRIPE_ASSETS_WAREHOUSE"
LAKE_DATA_PATH_ENV = "STRIPE_ASSETS_LAKE_DATA_PATH"

DEFAULT_DUCKDB_PATH = "data/stripe.duckdb"
DEFAULT_DATAFLOWS_FILE = "dataflows.yaml"


def _checkout_root() -> Path | None:
    """The repo root when the package runs from a checkout (an editable install), else None."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "stripe_assets").is_dir() else None


def project_home(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    home = (env.get("DAGSTER_HOME") or "").strip()
    if home and Path(home).is_absolute():
        return Path(home)
    return _checkout_root() or Path.cwd()


def resolve_path(raw: str | Path, environ: Mapping[str, str] | None = None) -> Path:
    """`raw` as an absolute path: a relative one is taken from the project home."""
    p = Path(raw).expanduser()
    return p if p.is_absolute() else project_home(environ) / p


@dataclass(frozen=True)
class Settings:
    api_key: str | None
    api_base: str | None
    duckdb_path: Path
    dataflows_file: Path | None  # None: no file, the built-in defaults apply
    warehouse: str | None  # None: the DuckDB file at duckdb_path; `ducklake:<catalog>`: a DuckLake
    lake_data_path: str | None  # the lake's data files: a folder, or an object storage URL (s3://...)
    home: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = project_home(env)

        def value(name: str) -> str | None:
            raw = env.get(name)
            return raw if raw not in (None, "") else None

        def path(raw: str) -> Path:
            return resolve_path(raw, env)

        dataflows = value(DATAFLOWS_ENV)
        default_dataflows = home / DEFAULT_DATAFLOWS_FILE
        lake = value(LAKE_DATA_PATH_ENV)
        return cls(
            api_key=value(API_KEY_ENV),
            api_base=value(API_BASE_ENV),
            duckdb_path=path(value(DUCKDB_PATH_ENV) or DEFAULT_DUCKDB_PATH),
            dataflows_file=path(dataflows)
            if dataflows
            else (default_dataflows if default_dataflows.exists() else None),
            warehouse=value(WAREHOUSE_ENV),
            lake_data_path=(lake if "://" in lake else str(path(lake))) if lake else None,
            home=home,
        )


def open_warehouse(env: Settings | None = None):
    """The warehouse the environment names: the DuckDB file, or the DuckLake of STRIPE_ASSETS_WAREHOUSE."""
    from stripe_assets.ingest.warehouse import Warehouse, WarehouseError
    from stripe_assets.ingest.warehouse.lake import Lake, LakeConfigError

    env = env or settings()
    if env.warehouse is None:
        return Warehouse(env.duckdb_path)
    try:
        lake = Lake.parse(env.warehouse, env.lake_data_path, env.home)
    except LakeConfigError as exc:
        raise WarehouseError(str(exc)) from None
    return Warehouse(env.duckdb_path, lake=lake)


def settings() -> Settings:
    """The settings of this process's environment, read afresh (tests change the environment)."""
    return Settings.from_env()

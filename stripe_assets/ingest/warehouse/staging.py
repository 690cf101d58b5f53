"""Parts of a partition too large to hold in memory wait as Parquet files beside the database
(`<file>.staging/<resource>/...`, no lock needed) until the partition is decided and swapped in."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from stripe_assets.ingest.warehouse.errors import WarehouseError, describe_staging_error

STALE_STAGING_SECONDS = 86_400  # staging left by a killed run is removed after this


def staging_root(database: Path) -> Path:
    return database.with_name(database.name + ".staging")


def staging_dir(database: Path, resource: str, run_id: str, partition: str) -> Path:
    """Where one partition's parts wait: stamped with its creation time, so that what a
    killed run left can be removed later."""
    token = hashlib.sha256(f"{run_id}\n{partition}".encode()).hexdigest()[:16]
    return staging_root(database) / resource / f"{int(time.time())}_{token}"


def stage(folder: str | os.PathLike, part: int, rows: pa.Table | None, quarantine: pa.Table) -> None:
    """Keep one validated part of a partition until the partition is decided (no lock:
    the folder belongs to this load)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if rows is not None and rows.num_rows:
            pq.write_table(rows, folder / f"rows-{part:06d}.parquet", compression="lz4")
        if quarantine.num_rows:
            pq.write_table(quarantine, folder / f"quarantine-{part:06d}.parquet", compression="lz4")
    except OSError as exc:
        raise WarehouseError(describe_staging_error(exc, folder)) from None


def drop_stale_staging(database: Path, resource: str, *, now: float | None = None) -> None:
    """Remove the staged parts of `resource` left behind by runs killed long ago."""
    root = staging_root(database) / resource
    if not root.is_dir():
        return
    cutoff = (now if now is not None else time.time()) - STALE_STAGING_SECONDS
    for folder in root.iterdir():
        created = folder.name.split("_", 1)[0]
        if created.isdigit() and int(created) < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def staged_files(folder: str | None, kind: str) -> str | None:
    """The SQL glob of a staging folder's `kind` files, or None when it holds none."""
    if folder is None or not any(Path(folder).glob(f"{kind}-*.parquet")):
        return None
    return sql_text(str(Path(folder) / f"{kind}-*.parquet"))


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

"""Dagster's schema check reads its migration scripts once per process, not once per open.

Opening the instance's SQLite storage checks each database's schema version against the newest
migration script: Dagster builds alembic's script folder anew for every check, loading all ~90
scripts (`check_alembic_revision`). A run's process does it four times and so does every step
process, for each run shard again: a third of a small step's CPU (benchmarks/RESULTS.md, "A
run's CPU outside the loads"). The scripts are the installed Dagster's own and cannot change
while a process runs, so the folder built first is kept per location and reused. Only this
check reads it: migrations (`dagster instance migrate`) build their own.
"""

from __future__ import annotations

import threading
from typing import Any

import dagster._core.storage.sql as dagster_sql  # private: the module whose check builds the folder
from alembic.config import Config
from alembic.script import ScriptDirectory

_lock = threading.Lock()
_folders: dict[tuple[Any, ...], ScriptDirectory] = {}


class _KeptScriptDirectory(ScriptDirectory):
    @classmethod
    def from_config(cls, config: Config) -> ScriptDirectory:
        key = (
            config.get_alembic_option("script_location"),
            tuple(config.get_version_locations_list() or ()),
        )
        with _lock:
            if key not in _folders:
                _folders[key] = ScriptDirectory.from_config(config)
            return _folders[key]


def keep_script_folders() -> None:
    """Make Dagster's schema check reuse each script folder in this process (idempotent)."""
    dagster_sql.ScriptDirectory = _KeptScriptDirectory  # type: ignore[misc]

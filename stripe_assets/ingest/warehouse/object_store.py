"""The lake's data files on object storage: AWS S3 or an S3-compatible store (MinIO, R2, Ceph...).

Credentials come from the variables every AWS tool reads, so a deployment sets them once for
all its tools: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (temporary ones),
AWS_REGION (or AWS_DEFAULT_REGION), and for an S3-compatible store its endpoint in
AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (`http://minio:9000`: plain HTTP when the URL says so,
path-style addressing, which such stores expect). They become a temporary DuckDB secret of the
connection, never written anywhere; the secret key and token are redacted from every message
(`ingest.redact` reads them from the environment too).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import duckdb

OBJECT_STORE = re.compile(r"^s3a?://[^/]+", re.I)
KEY_ID_ENV = "AWS_ACCESS_KEY_ID"
SECRET_ENV = "AWS_SECRET_ACCESS_KEY"
TOKEN_ENV = "AWS_SESSION_TOKEN"
REGION_ENVS = ("AWS_REGION", "AWS_DEFAULT_REGION")
ENDPOINT_ENVS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
# The whole contract, for the deployment files: the secret key and token belong in a secret store.
ENVIRONMENT = (KEY_ID_ENV, SECRET_ENV, TOKEN_ENV, *REGION_ENVS, *ENDPOINT_ENVS)
SECRET_VARIABLES = (SECRET_ENV, TOKEN_ENV)
SECRET_NAME = "stripe_assets_lake_storage"


class ObjectStoreConfigError(ValueError):
    """The AWS variables cannot describe a usable object store (never quotes a secret)."""


def is_object_store(data_path: str) -> bool:
    return bool(OBJECT_STORE.match(data_path))


@dataclass(frozen=True)
class S3Credentials:
    key_id: str
    secret: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint: str | None = None  # host[:port] of an S3-compatible store; None: AWS itself
    use_ssl: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> S3Credentials:
        env = os.environ if environ is None else environ

        def value(*names: str) -> str | None:
            return next((env[n].strip() for n in names if (env.get(n) or "").strip()), None)

        key_id, secret = value(KEY_ID_ENV), value(SECRET_ENV)
        if not key_id or not secret:
            missing = " and ".join(n for n, v in ((KEY_ID_ENV, key_id), (SECRET_ENV, secret)) if not v)
            raise ObjectStoreConfigError(
                f"the lake's data files are on object storage (STRIPE_ASSETS_LAKE_DATA_PATH=s3://...) but "
                f"{missing} {'is' if ' and ' not in missing else 'are'} not set"
            )
        endpoint, use_ssl = None, True
        raw = value(*ENDPOINT_ENVS)
        if raw:
            parts = urlsplit(raw if "://" in raw else f"https://{raw}")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                name = next(n for n in ENDPOINT_ENVS if (env.get(n) or "").strip())
                raise ObjectStoreConfigError(f"{name}={raw!r}: expected an http(s)://host[:port] URL")
            endpoint, use_ssl = parts.netloc, parts.scheme == "https"
        return cls(key_id, secret, value(TOKEN_ENV), value(*REGION_ENVS), endpoint, use_ssl)

    def secret_sql(self) -> str:
        """CREATE SECRET for this connection only (TEMPORARY: DuckDB keeps it in memory)."""
        options = {"TYPE": "s3", "KEY_ID": self.key_id, "SECRET": self.secret}
        if self.session_token:
            options["SESSION_TOKEN"] = self.session_token
        if self.region:
            options["REGION"] = self.region
        if self.endpoint:
            options |= {"ENDPOINT": self.endpoint, "URL_STYLE": "path"}
        body = ", ".join(f"{k} {v if k == 'TYPE' else _quote(v)}" for k, v in options.items())
        return f"CREATE OR REPLACE TEMPORARY SECRET {SECRET_NAME} ({body}, USE_SSL {str(self.use_ssl).lower()})"


def create_secret(conn: duckdb.DuckDBPyConnection, credentials: S3Credentials) -> None:
    conn.execute(credentials.secret_sql())


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"

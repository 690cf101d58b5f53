"""DuckDB's errors as one line naming the real cause: disk full, out of memory, damaged file, read-only, schema clash,
object storage refusing the lake's credentials.

DuckDB reports these as multi-line exceptions whose first words are the exception class
("IO Error: Could not write file ... No space left on device"). Users need to know which of
a few things went wrong and what to do; the raw text stays at the end of the line for support.
"""

from __future__ import annotations

import errno
import re

import duckdb


class WarehouseError(RuntimeError):
    """A warehouse failure with a message that names the file and what to do."""


_DISK_FULL = ("No space left on device", "Disk quota exceeded", "could not allocate", "File too large")
_DAMAGED = (
    "not a valid DuckDB database file",
    "Could not read enough bytes",
    "Corrupt",
    "corrupt",
    "checksum",
    "Checksum",
    "INTERNAL Error",
    "invalid block",
    "Failed to load metadata",
    "database file was created by a newer version",
    "unrecognized storage version",
)
_READ_ONLY = ("Read-only file system", "read-only", "Permission denied", "Cannot open database", "READ_ONLY")
# Object storage answers (httpfs): a refused credential, and S3's error code on a line of its own.
_REFUSED = re.compile(r"HTTP code 40[13]\b|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|ExpiredToken")
_S3_CODE = re.compile(r"^([A-Z][A-Za-z]+): ", re.M)
_SCHEMA = ("Conversion Error", "Binder Error", "Catalog Error", "Constraint Error", "Mismatch Type Error")


def cause_line(exc: BaseException) -> str:
    """The first line of DuckDB's message, without the trailing detail lines."""
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def describe_warehouse_error(exc: BaseException, path: object) -> str:
    """One line: what is wrong with the warehouse at `path` (a file or its description), what to do,
    and DuckDB's own words."""
    text = str(exc)
    detail = cause_line(exc)
    if isinstance(exc, duckdb.HTTPException) or text.startswith("HTTP Error"):
        code = _S3_CODE.search(text.split("\n", 1)[-1])
        answer = f" ({code.group(1)})" if code else ""
        if _REFUSED.search(text):
            return (
                f"the object storage of {path} refused the credentials{answer}: check AWS_ACCESS_KEY_ID, "
                f"AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (nothing of this write was kept) [{detail}]"
            )
        return f"the object storage of {path} failed{answer} (nothing of this write was kept) [{detail}]"
    # Before the disk: DuckDB's "could not allocate block" is memory, not space on the disk.
    if isinstance(exc, duckdb.OutOfMemoryException) or text.startswith("Out of Memory Error"):
        return (
            f"DuckDB ran out of the memory it may use while writing {path}: free memory on this "
            f"machine and rerun (nothing of this write was kept) [{detail}]"
        )
    if any(marker in text for marker in _DISK_FULL):
        return (
            f"the disk holding the DuckDB file {path} is full: free space and rerun "
            f"(nothing of this write was kept) [{detail}]"
        )
    if any(marker in text for marker in _DAMAGED):
        return (
            f"the DuckDB file {path} is damaged or not a DuckDB database: restore it from a backup "
            f"or move it away to start a new one [{detail}]"
        )
    if any(marker in text for marker in _READ_ONLY):
        return f"the DuckDB file {path} (or its directory) is read-only: cannot write to it [{detail}]"
    if any(marker in text for marker in _SCHEMA) or isinstance(
        exc, (duckdb.ConversionException, duckdb.BinderException, duckdb.CatalogException)
    ):
        return (
            f"the warehouse tables in {path} do not match this load's columns (a mapped column's type "
            f"or name clashes with what the table holds) [{detail}]"
        )
    return f"DuckDB error on {path} [{detail}]"


def describe_staging_error(exc: OSError, folder: object) -> str:
    """One line for a failure writing a partition's staged parts (Parquet beside the warehouse)."""
    detail = cause_line(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or any(m in str(exc) for m in _DISK_FULL):
        return (
            f"the disk holding the staging folder {folder} is full: free space and rerun "
            f"(nothing of this partition was loaded, its staged parts are removed) [{detail}]"
        )
    return f"cannot write the staged parts of a partition to {folder} [{detail}]"

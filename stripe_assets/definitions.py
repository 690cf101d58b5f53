"""The Dagster code location: everything under `stripe_assets/defs/`, loaded by folder.

Dagster calls the loader again and again in one process: a `dagster asset materialize` run's
process seven times (to list the assets, to build the job, to plan, to execute, ...), each
building every asset and Dagster's JSON schemas of every installed component anew, about a
second of CPU each. So the definitions are built once per set of inputs: the environment, the
dataflows file and the files of the defs folder, read each time (a changed input builds them
anew, as before).
"""

import hashlib
import os
from pathlib import Path

import dagster as dg

from stripe_assets.dagster_cli import check_materialize_arguments, our_errors_in_one_line
from stripe_assets.dataflows.config import config_source, load_dataflows

PROJECT = Path(__file__).parent.parent
DEFS_FOLDER = Path(__file__).parent / "defs"

_built: dict[str, dg.Definitions] = {}  # one entry: the definitions of the newest inputs


@dg.definitions
def defs() -> dg.Definitions:
    with our_errors_in_one_line():  # a bad dataflows.yaml or partition key: one line, not a stack
        check_materialize_arguments(load_dataflows())
        key = inputs_key()
        if key not in _built:
            built = dg.load_from_defs_folder(path_within_project=PROJECT)
            _built.clear()
            _built[key] = built
            # Libraries the first build imports set variables of their own (pandera's pyspark
            # support sets PYARROW_IGNORE_TIMEZONE): the same inputs, as the next call sees them.
            _built[inputs_key()] = built
        return _built[key]


def inputs_key() -> str:
    """What the definitions are built from, as one digest: the environment (keys, warehouse,
    dataflows file name), the dataflows file's bytes and every file of the defs folder."""
    digest = hashlib.sha256(repr(sorted(os.environ.items())).encode())
    source = config_source()
    files = [source] if source is not None else []
    files += sorted(p for p in DEFS_FOLDER.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")  # the build reports it
    return digest.hexdigest()

"""What a run's fork server does once, so that each step process forked from it starts ready.

Imported by the fork server the multiprocess executor starts for a run whose own process cannot
fork its steps safely (see `stripe_assets/dagster/executor.py`): the libraries every step needs, the instance's
SQL storage, and the code location built once, which imports every `defs` module and reads
Stripe's docs for the column descriptions. A step process then only builds the definitions
again from warm modules and caches (a tenth of a second instead of seconds). Nothing here opens
a file, socket or thread that forked processes would share.
"""

import sys

import dagster._core.storage.sqlite_storage  # noqa: F401  (SQLAlchemy and Alembic, for the instance)
import pandera.backends.pandas.register  # noqa: F401
import pyarrow.dataset  # noqa: F401

from stripe_assets import definitions

try:
    definitions.defs()
except Exception as exc:
    # Not raised: the server would die and every step with it, while each step builds the
    # definitions again and fails with the error itself. Said, so that steps starting cold (or an
    # error only this process meets) are not a mystery.
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    sys.stderr.write(f"stripe_assets.fork_server: the definitions did not build, steps build them again: "
                     f"{type(exc).__name__}: {first}\n")
    sys.stderr.flush()

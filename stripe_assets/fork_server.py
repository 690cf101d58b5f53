"""What a run's fork server does once, so that each step process forked from it starts ready.

Imported by the fork server the multiprocess executor starts for a run whose own process cannot
fork its steps safely (see `defs/executor.py`): the libraries every step needs, the instance's
SQL storage, and the code location built once, which imports every `defs` module and reads
Stripe's docs for the column descriptions. A step process then only builds the definitions
again from warm modules and caches (a tenth of a second instead of seconds). Nothing here opens
a file, socket or thread that forked processes would share.
"""

import contextlib

import dagster._core.storage.sqlite_storage  # noqa: F401  (SQLAlchemy and Alembic, for the instance)
import pandera.backends.pandas.register  # noqa: F401
import pyarrow.dataset  # noqa: F401

from stripe_assets import definitions

# A definitions error is not this server's to report: each step builds them again and fails with it.
with contextlib.suppress(Exception):
    definitions.defs()

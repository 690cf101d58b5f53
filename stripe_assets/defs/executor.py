"""The executor of every run: one process per asset, all six at once whatever the core count.

Loading is waiting on the Stripe API (the key's shared budget paces it), not computing, so
the default of one process per core would leave most of the budget unused on small machines.
Step processes fork from a server that loaded the code location once per run
(`stripe_assets.fork_server`): started afresh (spawn, the default), each of them imported
Dagster, pandas, pandera, pyarrow, DuckDB and this package again, which cost more CPU than a
small load itself.
"""

import dagster as dg

from stripe_assets.dataflows.config import load_dataflows


@dg.definitions
def defs() -> dg.Definitions:
    steps = max(len(load_dataflows().dataflows), 1)
    start = {"forkserver": {"preload_modules": ["stripe_assets.fork_server"]}}
    return dg.Definitions(
        executor=dg.multiprocess_executor.configured({"max_concurrent": steps, "start_method": start})
    )

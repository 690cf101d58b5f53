"""The executor of every run: one process per asset, all six at once whatever the core count.

Loading is waiting on the Stripe API (the key's shared budget paces it), not computing, so
the default of one process per core would leave most of the budget unused on small machines.
"""

import dagster as dg

from stripe_assets.dataflows.config import load_dataflows


@dg.definitions
def defs() -> dg.Definitions:
    steps = max(len(load_dataflows().dataflows), 1)
    return dg.Definitions(executor=dg.multiprocess_executor.configured({"max_concurrent": steps}))

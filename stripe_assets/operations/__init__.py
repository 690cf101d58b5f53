"""Operating dataflows from the command line and the Dagster UI.

- `preview`: the newest objects of a resource as the columns they would become, with drift and
  validation failures, without writing anything.
- `status` / `runs`: each dataflow's state and run history, from the warehouse and the Dagster
  instance at $DAGSTER_HOME.
- `rollback`: undo loads, returning a table and its quarantine to their state before a load.
- `summary`: rows per table; `demo`: the two-command start against the local emulator.
- `delete`: disable a dataflow and, on request, drop its data and Dagster history.
"""

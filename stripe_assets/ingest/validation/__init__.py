"""Schema validation of raw Stripe objects, with partial ingestion, quarantine and diagnostics.

- `schemas`: one pandera schema per resource, generated from the pinned Stripe API version
  (`describe_schema` / `schema_markdown` show it; `stripe-assets schema` prints it).
- `validate`: `validate_records(resource, records)` -> valid and invalid records, every failure
  with its reason, and schema drift (fields and enum values Stripe added).
- `decision`: `decide(result, settings)` -> load the valid records, or fail the batch.
- `quarantine`: the rows of `stripe_quarantine.<resource>`.
- `report`: the `schema_validation` check's metadata, description and severity.
"""

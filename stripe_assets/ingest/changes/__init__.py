"""Keeping loaded rows equal to Stripe: updates and deletions read from Stripe's Events.

`events` reads and collapses the events since a resource's cursor, `batch` turns them into
validated rows, `write` lands them (with history for rollback) inside a load's transaction,
`cursor` keeps the cursor in the warehouse, and `sync` puts the steps together for the asset.
"""

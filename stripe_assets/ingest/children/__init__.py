"""Child lists (an invoice's lines, a subscription's items, ...): read from the parents in the
warehouse, one mechanism for every child the catalog declares (`catalog/child.py`)."""

from stripe_assets.ingest.children.load import load_children
from stripe_assets.ingest.children.stale import stale_partitions

__all__ = ["load_children", "stale_partitions"]

"""The data path, top to bottom: Stripe API → `client` (raw JSON pages) → `records` (columns, Arrow)
→ `validation` → `warehouse` → `load` (one load end to end). It depends only on `catalog`."""

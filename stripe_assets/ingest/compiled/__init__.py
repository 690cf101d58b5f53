"""The per-part fast path of a load: a part whose every record passes every check skips pandera.

    part = validate_part("charges", records, strict_enums=False, columns=columns)

yields exactly what `validate_records` yields for the same arguments: `verdict` decides, column
by column in C, whether the whole part is beyond doubt valid; a part it cannot vouch for goes
through `validate_records` unchanged, so failures and quarantine rows stay as they are.
"""

from stripe_assets.ingest.compiled.part import validate_part

__all__ = ["validate_part"]

"""Plain-text rendering shared by the commands: times, durations, counts and aligned tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


def fmt_time(moment: datetime | None) -> str:
    """`2026-11-23 09:20:05` in UTC; `-` when unknown."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def fmt_count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def partitions_label(keys: Sequence[str]) -> str:
    """`2026-10-03`, `2026-10-03, 2026-10-04` or `2026-10-01 … 2026-10-06 (6)`."""
    keys = sorted(set(keys))
    if not keys:
        return "-"
    if len(keys) <= 2:
        return ", ".join(keys)
    return f"{keys[0]} … {keys[-1]} ({len(keys)})"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in [list(headers), *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)

"""Where a large window's validated parts wait until the window is complete, in two tiers: held in
memory as Arrow batches while all open windows' parts fit `HELD_PART_BYTES`, and beyond it spilled
as Parquet to a staging folder beside the warehouse (an encode, a decode and a file per part). A
window once spilled stages all its later parts too; a failed load removes what it staged."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pyarrow as pa

from stripe_assets.ingest.outcomes import LoadReport
from stripe_assets.ingest.prepare import OpenWindow
from stripe_assets.ingest.warehouse import Warehouse

# Validated parts held in memory as Arrow across all open windows (a day of 50,000 charges is
# about 130 MB); a window whose next part would exceed it is spilled to Parquet, which costs
# an encode, a decode and a file per part.
HELD_PART_BYTES = 160 * 1024 * 1024


class PartStore:
    """The validated parts of one load's open windows."""

    def __init__(self, warehouse: Warehouse, resource: str, run_id: str, report: LoadReport) -> None:
        self.warehouse = warehouse
        self.resource = resource
        self.run_id = run_id
        self.report = report
        self.held_bytes = 0  # validated parts held in memory, over all open windows
        self.staged_folders: list[str] = []  # made by this load (removed when it fails)

    def keep(self, window: OpenWindow, key: str, rows: pa.Table | None, quarantine: pa.Table) -> None:
        """Keep a validated part of the window (partition `key`): in memory, or in its staging folder."""
        size = (rows.nbytes if rows is not None else 0) + quarantine.nbytes
        if window.staged is None and self.held_bytes + size <= HELD_PART_BYTES:
            window.held.append((rows, quarantine))
            window.held_bytes += size
            self.held_bytes += size
        else:
            self.spill(window, key)
            assert window.staged is not None
            self.warehouse.stage(window.staged, window.parts, rows, quarantine)
            window.parts += 1

    def spill(self, window: OpenWindow, key: str) -> None:
        """Move the window's parts held in memory to its staging folder (in their order)."""
        if window.staged is None:
            window.staged = str(self.warehouse.staging_dir(self.resource, self.run_id, key))
            self.staged_folders.append(window.staged)
            self.report.spilled_windows += 1
        for rows, quarantine in window.held:
            self.warehouse.stage(window.staged, window.parts, rows, quarantine)
            window.parts += 1
        window.held = []
        self.held_bytes -= window.held_bytes
        window.held_bytes = 0

    def take_held(self, window: OpenWindow) -> tuple[list[pa.Table], list[pa.Table]]:
        """The window's parts held in memory, released from the store: its valid rows, its quarantine."""
        self.held_bytes -= window.held_bytes
        valid = [r for r, _ in window.held if r is not None]
        quarantine = [q for _, q in window.held]
        window.held, window.held_bytes = [], 0
        return valid, quarantine

    def drop_staging(self) -> None:
        """A failed load leaves none of its staged parts behind: they may be what filled the
        disk, and a rerun stages its own (a landed window's parts are gone already)."""
        for folder in self.staged_folders:
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(OSError):  # the resource's folder, and the staging root, when empty
                Path(folder).parent.rmdir()
                Path(folder).parent.parent.rmdir()

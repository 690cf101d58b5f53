"""The alert log stays one whole JSON object per line under concurrent writers."""

from __future__ import annotations

import json
import multiprocessing

from stripe_assets.alerts.alert_log import append_record, read_records

LINES_PER_WRITER = 200


def _write_many(path: str, writer: int) -> None:
    for i in range(LINES_PER_WRITER):
        append_record(path, {"record": "delivery", "writer": writer, "i": i, "error": "x" * 5000})


def test_concurrent_processes_never_interleave_lines(tmp_path):
    path = tmp_path / "nested" / "alerts.jsonl"  # parent folders are created
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_write_many, args=(str(path), w)) for w in range(4)]
    for p in writers:
        p.start()
    for p in writers:
        p.join(30)
    assert all(p.exitcode == 0 for p in writers)

    lines = path.read_text().splitlines()
    assert len(lines) == 4 * LINES_PER_WRITER
    records = [json.loads(line) for line in lines]  # every line parses: none torn
    for w in range(4):
        assert [r["i"] for r in records if r["writer"] == w] == list(range(LINES_PER_WRITER))
    assert list(read_records(path)) == records

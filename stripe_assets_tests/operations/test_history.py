"""History retention: pruned versions are gone, and rollback refuses to go past them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stripe_assets.catalog import get_resource
from stripe_assets.cli import main
from stripe_assets.ingest.warehouse.history import prune_history


def history_rows(project) -> int:
    return sum(
        project.query(f"SELECT count(*) FROM stripe_history.{table}")[0][0]
        for table in ("charges", "charges_quarantine")
    )


def test_keeping_one_version_allows_one_rollback_and_refuses_the_next(project, three_versions, capsys):
    _, after_b = three_versions["B"]
    before = history_rows(project)

    with project.warehouse.connect() as conn:
        report = prune_history(conn, get_resource("charges"), keep=1)
        again = prune_history(conn, get_resource("charges"), keep=1)

    # B's and A's loads of 2026-10-03 lose their versions; C's and A's 2026-10-04 load keep theirs.
    assert report.loads_pruned == 2 and report.rows_dropped > 0
    assert history_rows(project) == before - report.rows_dropped
    assert again.loads_pruned == 0  # nothing left to prune

    assert main(["rollback", "charges", "--yes"]) == 0  # undoes C: its version was kept
    assert project.rows("charges") == after_b
    capsys.readouterr()
    current = project.rows("charges")

    assert main(["rollback", "charges", "--yes"]) == 1

    err = capsys.readouterr().err.strip()
    assert err.startswith("stripe-assets rollback: cannot roll back run ")
    assert "in partition 2026-10-03 of charges: the versions before " in err
    assert err.endswith("were pruned by the history retention")
    assert project.rows("charges") == current


def test_versions_older_than_the_retention_days_are_pruned(project, three_versions):
    with project.warehouse.connect() as conn:
        kept = prune_history(conn, get_resource("charges"), keep=10, keep_days=1)
        later = datetime.now(UTC) + timedelta(days=2)
        pruned = prune_history(conn, get_resource("charges"), keep=10, keep_days=1, now=later)

    assert kept.loads_pruned == 0
    assert pruned.loads_pruned == 4  # A (two partitions), B and C
    assert history_rows(project) == 0

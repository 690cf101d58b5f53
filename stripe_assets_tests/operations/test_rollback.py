"""`stripe-assets rollback`: loads undone row for row, newest first, in one transaction."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import dagster as dg

from stripe_assets.cli import main

CHARGES = dg.AssetKey(["stripe", "charges"])


def _partition_column(project) -> int:
    """Where `_partition` sits in the rows `project.rows` returns."""
    return [name for name, *_ in project.query("DESCRIBE stripe.charges")].index("_partition")


def test_each_rollback_restores_the_previous_version_exactly(project, three_versions, capsys):
    (run_a, after_a), (run_b, after_b), (run_c, _) = three_versions.values()

    first = project.cli("rollback", "charges", "--yes")

    assert first.returncode == 0, first.stderr
    assert project.rows("charges") == after_b  # every column of every row, quarantine included
    assert f"undo     {run_c}" in first.stdout and f"back to  run {run_b}" in first.stdout
    assert "\nRolled back 1 load of charges (2026-10-03)" in first.stdout

    second = project.cli("rollback", "charges", "--yes")

    assert second.returncode == 0, second.stderr
    assert project.rows("charges") == after_a
    assert project.query(
        "SELECT run_id, partition FROM stripe_meta.loads WHERE status = 'rolled_back' ORDER BY loaded_at"
    ) == [(run_c, "2026-10-03"), (run_b, "2026-10-03")]

    assert main(["runs", "charges", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [(r["status"], r["undid"]) for r in runs[:2]] == [("ROLLBACK", [run_b]), ("ROLLBACK", [run_c])]
    rolled = {r["run_id"]: r["rolled_back"] for r in runs if r["run_id"]}
    assert rolled == {run_c: "rolled back", run_b: "rolled back", run_a: None}

    # Only A's loads are left; undoing its 10-04 load leaves its 10-03 load alone.
    assert main(["rollback", "charges", "--run", run_a[:8], "--partition", "2026-10-04", "--yes"]) == 0
    table, quarantine = project.rows("charges")
    # _partition, then _run_id, _loaded_at, _deleted_at, _observed_at
    assert table == [row for row in after_a[0] if row[_partition_column(project)] == "2026-10-03"]
    assert quarantine == []


def test_a_rollback_shows_in_the_assets_history_as_the_partitions_latest_materialization(project, three_versions):
    (run_a, after_a), (run_b, _), (run_c, _) = three_versions.values()

    done = project.cli("rollback", "charges", "--run", run_b, "--yes")

    assert done.returncode == 0, done.stderr
    recorded = "Recorded in Dagster: 1 materialization(s) of charges (asset stripe/charges) with rolled_back_to."
    assert recorded in done.stdout
    with project.instance() as instance:
        latest = instance.get_latest_materialization_event(CHARGES)
    assert latest is not None and latest.run_id == ""  # reported by the command, outside any run
    rollback = latest.asset_materialization
    assert rollback.partition == "2026-10-03"
    assert rollback.metadata["rolled_back_to"].value == run_a
    assert rollback.metadata["rolled_back_runs"].value == f"{run_c}, {run_b}"
    rows_of_a = sum(1 for row in after_a[0] if row[_partition_column(project)] == "2026-10-03")
    assert rollback.metadata["dagster/partition_row_count"].value == rows_of_a
    assert rollback.metadata["dagster/row_count"].value == len(after_a[0])  # the whole table
    assert rollback.description == f"Rolled back to run {run_a} (undid {run_c}, {run_b})"


def test_status_stops_saying_rolled_back_once_the_partition_is_reloaded(project, three_versions, emulator):
    assert project.cli("rollback", "charges", "--partition", "2026-10-03", "--yes").returncode == 0
    rolled = project.cli("status")
    assert "rolled back" in rolled.stdout

    assert project.load(emulator, "charges", "2026-10-03").success

    reloaded = project.cli("status")
    assert reloaded.returncode == 0, reloaded.stderr
    assert "rolled back" not in reloaded.stdout


def test_rolling_back_a_run_also_undoes_later_loads_of_its_partitions(project, three_versions, capsys):
    (_, after_a), (run_b, _), (run_c, _) = three_versions.values()

    assert main(["rollback", "charges", "--run", run_b, "--yes"]) == 0

    assert project.rows("charges") == after_a
    out = capsys.readouterr().out
    assert out.index(f"undo     {run_c}") < out.index(f"undo     {run_b}")  # newest first
    assert "2 loads of 1 partition by 2 runs" in out


def test_a_rejected_load_is_undone_by_restoring_the_quarantine_it_replaced(project, emulator, make_emulator):
    project.load(emulator, "charges", "2026-10-04")
    before = project.rows("charges")
    assert not project.load(make_emulator(invalid_fraction=0.5), "charges", "2026-10-04").success
    rejected = project.rows("charges")
    assert rejected[0] == before[0] and rejected[1] != before[1]  # rows kept, quarantine replaced

    assert main(["rollback", "charges", "--yes"]) == 0

    assert project.rows("charges") == before


def test_without_a_terminal_or_yes_nothing_is_rolled_back(project, three_versions):
    current = project.rows("charges")

    done = project.cli("rollback", "charges")

    assert done.returncode == 2
    assert done.stderr.strip() == (
        "stripe-assets rollback: refusing to roll back charges without confirmation: "
        "pass --yes (no terminal to ask on)"
    )
    assert "Rollback of charges: 1 load of 1 partition by 1 run" in done.stdout  # the plan was shown
    assert project.rows("charges") == current


def test_unknown_runs_partitions_and_steps_are_one_line_usage_errors(project, three_versions, capsys):
    run_a, run_b, run_c = (three_versions[k][0] for k in "ABC")
    current = project.rows("charges")
    cases = {
        ("--run", "no-such-run"): f"no load of charges by run no-such-run (newest runs: {run_c}, {run_b}, {run_a})",
        ("--partition", "2026-13-01"): (
            "partition '2026-13-01' is not a partition key of dataflow 'stripe_charges' "
            "(daily windows, keys like 2026-10-05)"
        ),
        ("--partition", "2026-10-09"): (
            "partition 2026-10-09 of charges was never loaded (loaded partitions: 2026-10-03, 2026-10-04)"
        ),
        ("--run", run_c, "--partition", "2026-10-04"): (
            f"run {run_c} did not load partition 2026-10-04 of charges (it loaded 2026-10-03)"
        ),
        ("--steps", "4"): "charges has 3 runs whose loads can be rolled back, not 4",
    }
    for args, message in cases.items():
        assert main(["rollback", "charges", *args, "--yes"]) == 2, args
        assert capsys.readouterr().err.strip() == f"stripe-assets rollback: {message}"
    assert main(["rollback", "tax_codes", "--yes"]) == 2
    assert "unknown Stripe resource 'tax_codes'" in capsys.readouterr().err
    assert project.rows("charges") == current

    assert main(["rollback", "charges", "--yes"]) == 0
    capsys.readouterr()
    assert main(["rollback", "charges", "--run", run_c, "--yes"]) == 2
    assert capsys.readouterr().err.startswith(
        f"stripe-assets rollback: the loads of charges by run {run_c} were already rolled back at "
    )


def test_nothing_to_roll_back_before_the_first_load(project, capsys):
    assert main(["rollback", "charges", "--yes"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"stripe-assets rollback: no warehouse at {project.duckdb}: nothing to roll back"
    )


def test_rows_changed_outside_the_loads_block_a_rollback(project, three_versions, capsys):
    with project.warehouse.connect() as conn:
        conn.execute(
            "UPDATE stripe.charges SET _run_id = 'by-hand' "
            "WHERE id = (SELECT min(id) FROM stripe.charges WHERE _partition = '2026-10-03')"
        )
    edited = project.rows("charges")

    assert main(["rollback", "charges", "--yes"]) == 1

    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "stripe-assets rollback: stripe.charges holds 1 row(s) of partition 2026-10-03 not written by"
    )
    assert err.endswith("nothing was changed")
    assert project.rows("charges") == edited


def test_a_failure_halfway_leaves_the_tables_as_they_were(project, three_versions, capsys):
    # A column only the quarantine history has: restoring the quarantine fails after the main
    # table's rows were already swapped back, inside the same transaction.
    with project.warehouse.connect() as conn:
        conn.execute("ALTER TABLE stripe_history.charges_quarantine ADD COLUMN stray INTEGER")
    current = project.rows("charges")

    assert main(["rollback", "charges", "--yes"]) == 1

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("stripe-assets rollback: DuckDB ")
    assert err[0].endswith("(nothing was changed)")
    assert project.rows("charges") == current
    assert project.query("SELECT count(*) FROM stripe_meta.loads WHERE status = 'rolled_back'") == [(0,)]


def answer_on_a_terminal(project, answer: str, *args: str) -> tuple[int, str]:
    """Run the command with a terminal as stdin and type `answer` at the prompt."""
    main_fd, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "stripe_assets.cli", *args],
            env={**os.environ, **project.env},
            cwd=project.root,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(main_fd, answer.encode() + b"\n")
        out, _ = process.communicate(timeout=120)
    finally:
        os.close(main_fd)
        os.close(terminal)
    return process.returncode, out


def test_on_a_terminal_the_rollback_waits_for_a_yes(project, three_versions):
    after_b, after_c = three_versions["B"][1], three_versions["C"][1]

    code, out = answer_on_a_terminal(project, "n", "rollback", "charges")
    assert code == 1 and "Roll back? [y/N] Nothing was changed." in out
    assert project.rows("charges") == after_c

    code, out = answer_on_a_terminal(project, "y", "rollback", "charges")
    assert code == 0 and "Rolled back 1 load of charges" in out
    assert project.rows("charges") == after_b

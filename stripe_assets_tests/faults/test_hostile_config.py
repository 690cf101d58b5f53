"""Config that would break every load or the loader is refused in one line, quickly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stripe_assets.dataflows.config import DataflowConfigError, parse_dataflows

ROOT = Path(__file__).resolve().parents[2]

ALIAS_BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
dataflows:
  - name: stripe_charges
    resource: charges
    interval: *i
"""


def flow(body: str) -> str:
    return "dataflows:\n  - name: stripe_charges\n    resource: charges\n" + "".join(
        f"    {line}\n" for line in body.splitlines()
    )


@pytest.mark.parametrize(
    "body, expected",
    [
        ("mapping: {add: {_replaced_by_run: id}}", "field 'mapping': add: column name '_replaced_by_run' is reserved"),
        ("mapping: {add: {_deleted_at: created}}", "column name '_deleted_at' is reserved"),
        ("mapping: {rename: {amount: _partition}}", "rename: column name '_partition' is reserved"),
        ("interval: 1000000000", "field 'interval': 1000000000 is above the maximum of 3653 for frequency 'day'"),
        ("frequency: week\ninterval: 1000000000", "above the maximum of 521 for frequency 'week'"),
        ("frequency: minute\ninterval: 99999999999", "above the maximum of 5260320 for frequency 'minute'"),
        (
            "start_time: 9999-12-31T23:00:00Z",
            "field 'start_time': '9999-12-31T23:00:00Z' is outside the years 1970 to 2999",
        ),
        ("history_start: 0001-01-01T00:00:00Z", "field 'history_start': '0001-01-01T00:00:00Z' is outside the years"),
    ],
)
def test_config_that_cannot_load_or_schedule_is_refused_in_one_line(body, expected):
    with pytest.raises(DataflowConfigError) as caught:
        parse_dataflows(flow(body), "dataflows.yaml")
    message = str(caught.value)
    assert expected in message and "\n" not in message, message


def test_alias_bomb_is_refused_with_its_line():
    with pytest.raises(DataflowConfigError, match=r"line 1, column 1: aliases expand to more than 100,000 values"):
        parse_dataflows(ALIAS_BOMB)


@pytest.mark.parametrize(
    "body",
    [
        "interval: [" + ", ".join(["[1, 2, 3]"] * 20_000) + "]",
        'name: "' + "x" * 200_000 + '"',
        "enabled: true\n" + "x" * 200_000 + ": 1\n" + "x" * 200_000 + ": 2",
    ],
    ids=["huge list", "huge string", "huge duplicate key"],
)
def test_huge_bad_value_is_shown_short(body):
    with pytest.raises(DataflowConfigError) as caught:
        parse_dataflows(flow(body))
    assert len(str(caught.value)) < 300, str(caught.value)[:300]


def cli(*args: str, dataflows: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stripe_assets.cli", *args],
        env={**os.environ, "STRIPE_ASSETS_DATAFLOWS": str(dataflows)},
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )


@pytest.mark.parametrize("text", [ALIAS_BOMB, flow("interval: 1000000000"), flow("start_time: 9999-12-31T23:00:00Z")])
def test_dataflows_command_answers_one_line_and_never_crashes(tmp_path, text):
    path = tmp_path / "dataflows.yaml"
    path.write_text(text)
    for args in (("dataflows", "--validate"), ("dataflows",)):
        # An alias bomb used to hang here; in this Dagster project the command also loads its
        # component (a few seconds of imports), so the bound leaves room for a loaded machine.
        done = cli(*args, dataflows=path, timeout=90)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr and "OverflowError" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.slow
def test_dagster_definitions_validate_refuses_an_overflowing_interval_in_one_line(tmp_path):
    path = tmp_path / "dataflows.yaml"
    path.write_text(flow("interval: 1000000000"))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-m", "stripe_assets.definitions"],
        env={**os.environ, "STRIPE_ASSETS_DATAFLOWS": str(path), "DAGSTER_HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "OverflowError" not in output and "Traceback" not in output
    [line] = [x for x in done.stderr.splitlines() if not _dagsters_own_warning(x)]  # one line, ours
    assert line.startswith("stripe-assets: ") and "field 'interval': 1000000000 is above the maximum of 3653" in line


def _dagsters_own_warning(line: str) -> bool:
    """Dagster's notice that its command is superseded (two lines), not about our input."""
    return "SupersessionWarning" in line or line.strip() == "return callback(*args, **kwargs)"

"""The library as a Dagster user meets it: the built wheel in a project `create-dagster` made,
`dg scaffold defs`, `dg check defs`, `dg list defs` and `dg launch` loading from the emulator.

The project's environment is a new virtualenv holding the wheel (never this checkout); the
third-party packages (Dagster, DuckDB, pandera...) are this test run's own, reused through a
path file instead of installed again, which would take minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.conftest import day_window

REPO = Path(__file__).resolve().parents[2]
# What goes into the wheel's build: the source, not the checkout's venv, data or build leftovers.
NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "data", "*.egg-info", "__pycache__", ".*_cache")
SCRIPT = '#!{python}\nimport sys\nfrom {module} import main\n\nif __name__ == "__main__":\n    sys.exit(main())\n'


def build_wheel(out: Path) -> Path:
    source = out / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source), "-w", str(out / "dist")],
        check=True, capture_output=True,
    )
    (wheel,) = (out / "dist").glob("stripe_assets-*.whl")
    return wheel


def project_venv(project: Path, wheel: Path) -> Path:
    """`<project>/.venv` (where `dg` looks) with the wheel installed and the project importable."""
    venv = project / ".venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # type: ignore[attr-defined]
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # A path file's folder is no site folder: this checkout's editable install there stays inactive.
    (Path(purelib) / "_reused_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (Path(purelib) / "_project.pth").write_text(str(project / "src") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", wheel],
        check=True,
        capture_output=True,
    )
    for name, module in (("dg", "dagster_dg_cli.cli"), ("dagster", "dagster.cli")):
        script = venv / "bin" / name
        script.write_text(SCRIPT.format(python=python, module=module))
        script.chmod(0o755)
    return venv


@pytest.mark.slow
def test_a_new_dagster_project_loads_charges_through_the_installed_component(tmp_path, emulator):
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert {"stripe_assets/dagster/component.py", "stripe_assets/defs/stripe/defs.yaml"} <= set(names)
    assert not [n for n in names if n.startswith("stripe_assets_tests/")]
    # The emulator is a distribution of its own (emulator/): none of it in the runtime wheel.
    assert not [n for n in names if "emulator" in n.split("/")[0] or n.startswith("stripe_assets/emulator/")]

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DAGSTER_", "VIRTUAL_ENV", "PYTHON"))},
        "DAGSTER_HOME": str(home),
        "DAGSTER_DG_UPDATE_CHECK_ENABLED": "0",  # no version check against the package index
    }
    create = Path(sys.executable).parent / "create-dagster"
    subprocess.run(
        [str(create), "project", "shop", "--no-uv-sync"], cwd=tmp_path, env=env, check=True, capture_output=True
    )
    project = tmp_path / "shop"
    venv = project_venv(project, wheel)
    env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")

    def dg(*args: str, **extra: str) -> str:
        done = subprocess.run(
            [str(venv / "bin" / "dg"), *args], cwd=project, env={**env, **extra}, capture_output=True, text=True
        )
        assert done.returncode == 0, f"dg {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import stripe_assets; print(stripe_assets.__file__)"],
        cwd=project, env=env, check=True, capture_output=True, text=True,
    ).stdout
    assert where.startswith(str(venv)), where  # the wheel, not this checkout

    dg("scaffold", "defs", "stripe_assets.StripeAssetsComponent", "stripe")
    defs_yaml = project / "src" / "shop" / "defs" / "stripe" / "defs.yaml"
    text = defs_yaml.read_text()
    assert "type: stripe_assets.StripeAssetsComponent" in text
    defs_yaml.write_text(
        text.replace("api_key_env: STRIPE_API_KEY", "api_key_env: SHOP_STRIPE_KEY").replace(
            "# api_base: http://127.0.0.1:12111", f"api_base: {emulator.url}"
        )
    )

    assert "All definitions loaded successfully." in dg("check", "defs")
    listed = json.loads(dg("list", "defs", "--json"))
    assert {a["asset_key"] for a in listed["assets"]} >= {"stripe/charges", "stripe/invoices"}
    assert "stripe/charges:schema_validation" in {c["key"] for c in listed["asset_checks"]}
    assert "stripe_charges_schedule" in {s["name"] for s in listed["schedules"]}
    assert {r["name"] for r in listed["resources"]} == {"stripe_api", "stripe_warehouse"}
    assert listed["sensors"] == [] and listed["jobs"] == []

    dg("launch", "--assets", "stripe/charges", "--partition", "2026-10-02", SHOP_STRIPE_KEY=emulator.api_key)
    with Warehouse(project / "data" / "stripe.duckdb").connect(read_only=True) as conn:
        landed = {r[0] for r in conn.execute("SELECT id FROM stripe.charges").fetchall()}
        quarantined = {r[0] for r in conn.execute("SELECT DISTINCT id FROM stripe_quarantine.charges").fetchall()}
    truth = {o["id"] for o in emulator.objects("charges", *day_window("2026-10-02"))}
    assert truth and landed | quarantined == truth

"""The lake's data files on object storage: a real S3-compatible server over HTTP, credentials
from the standard AWS variables, and a wrong or missing credential said in one line."""

from __future__ import annotations

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse, WarehouseError
from stripe_assets.ingest.warehouse.lake import Lake, LakeConfigError
from stripe_assets.ingest.warehouse.object_store import S3Credentials
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.operations.harness import make_project
from stripe_assets_tests.services.object_store import running_s3

AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
)


@pytest.fixture
def s3():
    with running_s3() as server:
        yield server


@pytest.fixture
def aws_env(monkeypatch):
    """Sets the AWS variables of a test, none inherited from the machine."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def set_env(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def _load(lake: Lake, emulator, run_id: str, days=("2026-10-02",)):
    with StripeReader(emulator.api_key, emulator.url) as reader:
        return load_partitions(
            reader, Warehouse(lake=lake), get_resource("charges"), [Window(d, *day_window(d)) for d in days],
            LoadOptions(columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id=run_id),
        )


@pytest.mark.slow
def test_a_lake_with_its_data_files_on_s3_loads_rolls_back_and_summarizes(
    tmp_path, emulator, postgres, postgres_db, s3, aws_env, monkeypatch
):
    aws_env(s3.env())
    project = make_project(tmp_path / "project", emulator)
    project.lake, project.lake_data = f"ducklake:postgres:{postgres.dsn(postgres_db)}", f"s3://{s3.bucket}/stripe"
    for name, value in project.env.items():
        monkeypatch.setenv(name, value)

    assert project.load(emulator, "charges", "2026-10-03", "2026-10-04").success
    files = s3.keys("stripe/")
    # DuckLake lays its Parquet files out as <schema>/<table>/ under the data path.
    assert any(k.startswith("stripe/stripe/charges/") and k.endswith(".parquet") for k in files), files
    after_first = project.rows("charges")
    expected = {i for d in ("2026-10-03", "2026-10-04") for i in emulator.listable_ids("charges", *day_window(d))}
    assert sorted(row[0] for row in after_first[0]) == sorted(expected)

    assert project.load(emulator, "charges", "2026-10-03").success
    assert len(s3.keys("stripe/")) > len(files)  # the reload wrote new files beside the old ones
    summary = project.cli("summary")
    assert summary.returncode == 0 and "stripe.charges" in summary.stdout, summary.stderr
    rolled = project.cli("rollback", "charges", "--yes")
    assert rolled.returncode == 0, rolled.stderr
    assert project.rows("charges") == after_first  # every column of every row, read back from S3
    for done in (summary, rolled):
        assert s3.secret not in done.stdout + done.stderr
    assert not project.duckdb.exists() and not (tmp_path / "project" / "s3:").exists()


def test_a_wrong_secret_is_one_line_that_never_shows_it_and_lands_nothing(
    tmp_path, emulator, postgres, postgres_db, s3, aws_env
):
    wrong = "wRoNg" + s3.secret[5:]
    aws_env(s3.env(AWS_SECRET_ACCESS_KEY=wrong))
    lake = Lake.parse(f"ducklake:postgres:{postgres.dsn(postgres_db)}", f"s3://{s3.bucket}/stripe", tmp_path)
    with pytest.raises(WarehouseError) as caught:
        _load(lake, emulator, "run-wrong")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        f"the object storage of DuckLake postgres:{postgres.dsn(postgres_db)} refused the credentials "
        "(SignatureDoesNotMatch): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
    ), message
    assert f"s3://{s3.bucket}/stripe/stripe/charges/" in message  # the object it could not write
    assert wrong not in message and s3.secret not in message
    assert s3.keys() == []

    aws_env(s3.env())  # the right secret: the same load lands, no trace of the refused one
    _load(lake, emulator, "run-right")
    with Warehouse(lake=lake).connect(read_only=True) as conn:
        assert conn.execute("SELECT DISTINCT run_id FROM stripe_meta.loads").fetchall() == [("run-right",)]
    assert s3.keys("stripe/stripe/charges/")


def test_a_missing_key_is_refused_before_anything_is_fetched(tmp_path, aws_env):
    aws_env({"AWS_SECRET_ACCESS_KEY": "only-the-secret-is-set"})
    lake = Lake.parse(f"ducklake:{tmp_path / 'stripe.ducklake'}", "s3://bucket/stripe", tmp_path)
    with pytest.raises(WarehouseError, match=r"^the lake's data files are on object storage .* but "
                       r"AWS_ACCESS_KEY_ID is not set$"):
        Warehouse(lake=lake).check_writable()


def test_the_standard_aws_variables_become_the_connection_secret(aws_env):
    aws_env({
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t/with'quote",
        "AWS_SESSION_TOKEN": "tok", "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "http://minio.internal:9000",
    })
    credentials = S3Credentials.from_env()
    assert credentials.endpoint == "minio.internal:9000" and not credentials.use_ssl
    assert credentials.region == "eu-west-1"
    assert "s3cr3t" not in repr(credentials) and "tok" not in repr(credentials)
    sql = credentials.secret_sql()
    assert "SECRET 's3cr3t/with''quote'" in sql and "SESSION_TOKEN 'tok'" in sql and "URL_STYLE 'path'" in sql
    # AWS itself: no endpoint variable, virtual-host addressing over HTTPS.
    aws_env({"AWS_ENDPOINT_URL": "", "AWS_SESSION_TOKEN": ""})
    sql = S3Credentials.from_env().secret_sql()
    assert "ENDPOINT" not in sql and "SESSION_TOKEN" not in sql and sql.endswith("USE_SSL true)")


def test_object_storage_other_than_s3_is_one_line(tmp_path):
    with pytest.raises(LakeConfigError, match=r"^STRIPE_ASSETS_LAKE_DATA_PATH='gs://bucket/x': object storage is "):
        Lake.parse("ducklake:lake.ducklake", "gs://bucket/x", tmp_path)

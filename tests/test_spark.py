"""The Spark engine (rxxl.spark) gives what the local engine gives: the same audit claim by
claim, the same denial trend, the same error messages naming file and row, nothing written
on failure.

Spark runs in local mode (``local[2]``), one session for the module. Without PySpark or Java
the module is skipped, unless ``RXXL_REQUIRE_SPARK=1`` (CI sets it in .ci/run): then a
missing engine fails instead of skipping silently.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rxxl import cli, denials
from rxxl.audit340b import AuditPolicy, audit_claims, summarize_findings
from rxxl.data import DataValidationError, load_claims_and_reference, load_table


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install 'rxxl[spark]')"
    from rxxl.spark.session import java_found

    return None if java_found() else "Java is not installed (Spark needs Java 17+)"


@pytest.fixture(scope="module")
def spark():
    """One local Spark session for the module: 2 cores, no web UI, few shuffle partitions
    (the default 200 would make every small shuffle 200 tasks)."""
    missing = _spark_missing()
    if missing:
        if os.environ.get("RXXL_REQUIRE_SPARK") == "1":
            pytest.fail(f"Spark is required (RXXL_REQUIRE_SPARK=1): {missing}")
        pytest.skip(missing)
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("rxxl-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .getOrCreate())
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _spark_args() -> list[str]:
    return ["--engine", "spark", "--spark-master", "local[2]"]


def test_spark_audit_equals_the_local_audit_claim_by_claim(spark, small_sample, tmp_path,
                                                           capsys):
    folder, _ = small_sample
    out = tmp_path / "audit.parquet"
    code, printed, err = _run(["audit340b", "--claims", str(folder / "claims"), "--reference",
                               str(folder), "--out", str(out), *_spark_args()], capsys)
    assert code == 0, err

    claims, reference = load_claims_and_reference(folder / "claims", folder)
    local = audit_claims(claims, reference, AuditPolicy())
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("_tmp-")]
    _assert_same_audit(local, pq.read_table(out).to_pandas())
    # The planted problems are there (not an audit of nothing): and the lines printed are the
    # local command's, from Spark's aggregates.
    assert (local["status"] != "compliant").sum() > 50
    lines = cli._audit_lines(len(local), int(local["checked"].sum()),
                             local["status"].value_counts().to_dict(),
                             summarize_findings(local, "reason"), out)
    assert printed.strip() == lines


def _assert_same_audit(local: pd.DataFrame, on_spark: pd.DataFrame) -> None:
    """Claim by claim: every column of ``audit_claims``' result."""
    assert len(on_spark) == len(local)
    local = local.sort_values("claim_id", ignore_index=True)
    on_spark = on_spark.sort_values("claim_id", ignore_index=True)
    for name in ("claim_id", "entity_id", "site_id", "payer_type", "account",
                 "encounter_site_id"):
        assert on_spark[name].astype(object).where(on_spark[name].notna(), None).tolist() == \
            local[name].astype(object).where(local[name].notna(), None).tolist(), name
    assert on_spark["status"].tolist() == local["status"].astype(str).tolist()
    assert on_spark["reasons"].tolist() == local["reasons"].tolist()
    assert on_spark["checked"].tolist() == local["checked"].tolist()
    pd.testing.assert_series_equal(on_spark["dollars_at_risk"], local["dollars_at_risk"],
                                   check_exact=True)
    for name in ("service_date", "encounter_date"):
        assert (pd.to_datetime(on_spark[name]).tolist()
                == pd.to_datetime(local[name]).tolist()), name


def test_many_buckets_and_csv_encounters_give_the_same_audit(spark, small_sample, tmp_path):
    # Seven buckets for one month's claims: a patient's claims and encounters must meet in
    # one bucket or NO_QUALIFYING_ENCOUNTER would fire; encounters.csv is read by rxxl's
    # CSV reader on the driver and handed to Spark.
    from rxxl.spark.audit import run_audit340b

    folder = small_sample[0]
    reference = tmp_path / "reference"
    reference.mkdir()
    for table in ("entity", "sites", "prescribers", "mef", "orphan_drugs"):
        shutil.copy(folder / f"{table}.csv", reference)
    pq.read_table(folder / "encounters.parquet").to_pandas().to_csv(
        reference / "encounters.csv", index=False)
    month = folder / "claims" / "2026-10.parquet"
    summary = run_audit340b(str(month), reference, str(tmp_path / "audit.parquet"),
                            AuditPolicy(lookback_days=180), master="local[2]", buckets=7)
    claims, tables = load_claims_and_reference(month, reference)
    local = audit_claims(claims, tables, AuditPolicy(lookback_days=180))
    assert (local["encounter_date"].notna()).sum() > 1000
    assert summary.claims == len(local)
    assert summary.status == local["status"].value_counts().to_dict()
    _assert_same_audit(local, pq.read_table(tmp_path / "audit.parquet").to_pandas())


def test_without_pyspark_or_java_the_sentence_says_what_to_install(monkeypatch):
    import sys

    from rxxl.errors import RxxlError
    from rxxl.spark import session

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(RxxlError, match=r"pip install 'rxxl\[spark\]'"):
        session.require_pyspark()
    monkeypatch.delitem(sys.modules, "pyspark.sql")
    pytest.importorskip("pyspark.sql")
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))
    monkeypatch.setattr(session, "java_found", lambda: False)
    with pytest.raises(RxxlError, match="Java was not found"):
        session.spark_session("local[2]")


@pytest.mark.parametrize("by", ["payer", "reason", "site"])
def test_spark_denial_trend_equals_the_local_trend(spark, small_sample, tmp_path, capsys, by):
    folder, _ = small_sample
    local_out, spark_out = tmp_path / "local.csv", tmp_path / "spark.csv"
    code, local_printed, err = _run(["denials", "--claims", str(folder / "claims"), "--out",
                                     str(local_out), "--by", by], capsys)
    assert code == 0, err
    code, spark_printed, err = _run(["denials", "--claims", str(folder / "claims"), "--out",
                                     str(spark_out), "--by", by, *_spark_args()], capsys)
    assert code == 0, err
    assert spark_printed.replace(str(spark_out), "OUT") == \
        local_printed.replace(str(local_out), "OUT")

    claims = load_table(folder / "claims", "claims", columns=cli.DENIAL_COLUMNS)
    expected = denials.denial_trend(claims, by=cli.DENIAL_GROUPS[by])
    assert expected["denied"].sum() > 0
    written = pd.read_csv(spark_out)
    pd.testing.assert_frame_equal(written, pd.read_csv(local_out))
    assert len(written) == len(expected)
    assert written["denied"].tolist() == expected["denied"].tolist()
    assert written["out_of_control"].tolist() == expected["out_of_control"].tolist()


def _copy_claims(small_sample, tmp_path: Path) -> Path:
    claims = tmp_path / "claims"
    shutil.copytree(small_sample[0] / "claims", claims)
    return claims


def _rewrite(path: Path, change, same_types: bool = True) -> None:
    original = pq.read_table(path)
    table = original.to_pandas()
    change(table)
    schema = original.schema if same_types else None
    pq.write_table(pa.Table.from_pandas(table, schema=schema, preserve_index=False), path)


def _local_problems(claims: Path) -> list[str]:
    with pytest.raises(DataValidationError) as error:
        load_table(claims, "claims")
    return [problem.message for problem in error.value.problems]


def test_a_bad_cell_is_rxxls_error_naming_file_and_row_and_nothing_is_written(
        spark, small_sample, tmp_path, capsys):
    claims = _copy_claims(small_sample, tmp_path)
    bad = claims / "2025-03.parquet"

    def damage(table):
        table.loc[6, "ndc"] = "not-an-ndc"
        table.loc[40, "quantity"] = -3.0
        table.loc[11, "status"] = "pending"  # a column the denial trend reads too

    _rewrite(bad, damage)
    out = tmp_path / "audit.parquet"
    code, printed, err = _run(["audit340b", "--claims", str(claims), "--reference",
                               str(small_sample[0]), "--out", str(out), *_spark_args()],
                              capsys)
    assert code == 2
    assert printed == ""
    assert f'{bad}, row 7, column "ndc"' in err
    assert f'{bad}, row 41, column "quantity"' in err
    # Word for word the local loader's problems, and no Spark or Python error text.
    for message in _local_problems(claims):
        assert message in err
    assert "3 problems found; nothing was loaded" in err
    assert "Traceback" not in err and "Exception" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims"]

    code, _, err = _run(["denials", "--claims", str(claims), "--out",
                         str(tmp_path / "trend.csv"), *_spark_args()], capsys)
    assert code == 2
    assert '1 problem found; nothing was loaded' in err
    assert f'{bad}, row 12, column "status"' in err
    assert not (tmp_path / "trend.csv").exists()


def test_a_claim_id_repeated_across_parts_is_found_across_all_claims(spark, small_sample,
                                                                     tmp_path, capsys):
    # The one rule that is not per patient: Spark checks it over the whole table.
    claims = _copy_claims(small_sample, tmp_path)
    first = pq.read_table(claims / "2024-11.parquet").column("claim_id")[3].as_py()
    _rewrite(claims / "2026-10.parquet", lambda table: table.__setitem__(
        "claim_id", [first] + table["claim_id"].tolist()[1:]))
    out = tmp_path / "audit.parquet"
    code, _, err = _run(["audit340b", "--claims", str(claims), "--reference",
                         str(small_sample[0]), "--out", str(out), *_spark_args()], capsys)
    assert code == 2
    expected = _local_problems(claims)
    assert len(expected) == 1 and "one claim_id appears on" in expected[0]
    assert expected[0] in err
    assert not out.exists()


def test_an_existing_out_or_a_missing_claims_folder_is_refused(spark, small_sample, tmp_path,
                                                                capsys):
    out = tmp_path / "audit.parquet"
    out.mkdir()
    (out / "part-0.parquet").write_text("an earlier result")
    code, _, err = _run(["audit340b", "--claims", str(small_sample[0] / "claims"),
                         "--reference", str(small_sample[0]), "--out", str(out),
                         *_spark_args()], capsys)
    assert code == 2
    assert f"{out}: already exists" in err
    assert (out / "part-0.parquet").read_text() == "an earlier result"

    missing = tmp_path / "no-claims"
    code, _, err = _run(["audit340b", "--claims", str(missing), "--reference",
                         str(small_sample[0]), "--out", str(tmp_path / "new.parquet"),
                         *_spark_args()], capsys)
    assert code == 2
    assert f"{missing}: no such file or directory" in err
    assert not (tmp_path / "new.parquet").exists()


def test_a_part_with_other_column_types_is_named(spark, small_sample, tmp_path, capsys):
    claims = _copy_claims(small_sample, tmp_path)
    odd = claims / "2025-03.parquet"
    # pandas round trip: days_supply (int32 in the other parts) comes back as double.
    _rewrite(odd, lambda table: None, same_types=False)
    code, _, err = _run(["audit340b", "--claims", str(claims), "--reference",
                         str(small_sample[0]), "--out", str(tmp_path / "a.parquet"),
                         *_spark_args()], capsys)
    assert code == 2
    assert (f'{odd}: column "days_supply" is stored as DOUBLE here and as int in other parts'
            in err)
    assert not (tmp_path / "a.parquet").exists()


def test_a_uri_is_kept_as_given_and_refused_by_the_local_engine(capsys):
    assert cli.build_parser().parse_args(
        ["denials", "--claims", "s3://bucket/claims/", "--out", "t.csv"]).claims == \
        "s3://bucket/claims/"
    code, _, err = _run(["denials", "--claims", "s3://bucket/claims/", "--out", "t.csv"],
                        capsys)
    assert code == 2
    assert "s3://bucket/claims/: a URI is read and written by --engine spark only" in err


def test_a_failure_after_writing_leaves_no_output_and_no_temporary(spark, tmp_path):
    from rxxl.errors import RxxlError
    from rxxl.spark.output import write_parquet_atomically

    frame = spark.range(10)
    out = tmp_path / "result.parquet"

    def fails(written: str) -> None:
        assert spark.read.parquet(written).count() == 10
        raise RxxlError("checked and refused")

    with pytest.raises(RxxlError, match="checked and refused"):
        write_parquet_atomically(spark, frame, str(out), check=fails)
    assert list(tmp_path.iterdir()) == []
    assert write_parquet_atomically(spark, frame, str(out), check=lambda w: "ok") == "ok"
    assert spark.read.parquet(str(out)).count() == 10
    assert [p.name for p in tmp_path.iterdir()] == ["result.parquet"]

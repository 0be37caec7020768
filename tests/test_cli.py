"""The rxxl command line: each command as a user (or cron) runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from rxxl import __version__
from rxxl.cli import main


def rxxl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rxxl.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_version_and_help():
    assert rxxl("--version").stdout.strip() == f"rxxl {__version__}"
    listed = rxxl("--help").stdout
    for command in ("example", "sample", "validate", "audit340b"):
        assert command in listed


def test_example_prints_the_core_metrics(capsys):
    assert main(["example"]) == 0
    out = capsys.readouterr().out
    for words in ("Budget variance", "price / volume / mix", "generic dispensing rate",
                  "turns", "IRR", "payback"):
        assert words in out


def test_example_on_a_folder_without_its_files_fails_clearly(tmp_path, capsys):
    assert main(["example", "--data", str(tmp_path)]) == 2
    assert "budget_lines.csv" in capsys.readouterr().err


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "sample"
    result = rxxl("sample", "--out", str(folder), "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert "planted problems" in result.stdout
    return folder


def test_sample_writes_the_health_system_and_its_manifest(sample):
    manifest = json.loads((sample / "manifest.json").read_text())
    assert manifest["seed"] == 5 and len(manifest["months"]) == 24
    assert (sample / "claims").is_dir() and (sample / "entity.csv").exists()


def test_sample_refuses_a_folder_that_is_not_a_sample(tmp_path):
    (tmp_path / "budget.xlsx").write_text("a finance team's file")
    result = rxxl("sample", "--out", str(tmp_path))
    assert result.returncode == 2 and (tmp_path / "budget.xlsx").exists()


def test_validate_reports_valid_files_and_every_problem(sample, tmp_path):
    ok = rxxl("validate", "sites", str(sample / "sites.csv"))
    assert ok.returncode == 0 and "valid sites table" in ok.stdout
    bad = tmp_path / "sites.csv"
    sites = pd.read_csv(sample / "sites.csv", dtype=str)
    sites.loc[1, "site_type"] = "pharmacy"
    sites.loc[2, "start_date"] = "someday"
    sites.to_csv(bad, index=False)
    result = rxxl("validate", "sites", str(bad))
    assert result.returncode == 1
    assert "line 3" in result.stderr and "site_type" in result.stderr
    assert "line 4" in result.stderr and "start_date" in result.stderr


def test_audit340b_writes_one_row_per_claim_and_exits_0_with_violations(sample, tmp_path):
    out = tmp_path / "audit.csv"
    result = rxxl("audit340b", "--claims", str(sample / "claims"), "--reference", str(sample),
                  "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "violations" in result.stdout
    audit = pd.read_csv(out, dtype={"reasons": str}, keep_default_na=False)
    claims = load_claim_ids(sample)
    assert audit["claim_id"].tolist() == claims
    assert {"claim_id", "status", "reasons", "dollars_at_risk"} <= set(audit.columns)
    assert (audit["status"] == "violation").sum() > 0
    assert "patient_id" not in audit.columns  # PHI stays out of the result


def load_claim_ids(sample):
    return pd.concat(pd.read_parquet(p, columns=["claim_id"])
                     for p in sorted((sample / "claims").glob("*.parquet")))["claim_id"].tolist()


def test_audit340b_xlsx_output(sample, tmp_path):
    out = tmp_path / "audit.xlsx"
    month = sorted((sample / "claims").glob("*.parquet"))[-1]
    result = rxxl("audit340b", "--claims", str(month), "--reference", str(sample),
                  "--out", str(out), "--lookback-days", "730")
    assert result.returncode == 0, result.stderr
    frame = pd.read_excel(out)
    assert len(frame) == len(pd.read_parquet(month))


def test_audit340b_unusable_input_exits_2_and_writes_nothing(sample, tmp_path):
    out = tmp_path / "audit.csv"
    out.write_text("an earlier result")
    result = rxxl("audit340b", "--claims", str(tmp_path / "missing.csv"), "--reference",
                  str(sample), "--out", str(out))
    assert result.returncode == 2 and "missing.csv" in result.stderr
    assert out.read_text() == "an earlier result"
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_denials_writes_the_trend_and_names_the_spike(sample, tmp_path):
    manifest = json.loads((sample / "manifest.json").read_text())
    spike = next(p for p in manifest["planted"] if p["kind"] == "denial spike")
    out = tmp_path / "denials.csv"
    result = rxxl("denials", "--claims", str(sample / "claims"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    trend = pd.read_csv(out)
    assert {"payer", "month", "submitted", "denied", "denial_rate", "center_line", "ucl", "lcl",
            "out_of_control"} <= set(trend.columns)
    flagged = trend[trend["out_of_control"]]
    assert flagged[["payer", "month"]].values.tolist() == [
        [spike["identifiers"]["payer"], spike["identifiers"]["month"]]
    ]
    assert spike["identifiers"]["payer"] in result.stdout

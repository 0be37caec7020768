"""Claims exported twice, in two monthly parts: the report refuses them instead of counting
them twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from rxxl.cli import main
from rxxl.errors import InputError
from rxxl.reports import inputs as report_inputs
from rxxl.reports.monthly import build_report

MONTH = "2026-10"


@pytest.fixture(scope="module")
def sample(small_sample) -> Path:
    return small_sample[0]


def _overlap(sample: Path, target: Path, count: int = 300) -> list[str]:
    """``sample`` copied to ``target`` with ``count`` October claims copied into the September
    part, as an overlapping export leaves them; returns the copied claim ids."""
    shutil.copytree(sample, target)
    october = pd.read_parquet(target / "claims" / "2026-10.parquet")
    september = target / "claims" / "2026-09.parquet"
    copied = october.iloc[:count]
    pd.concat([pd.read_parquet(september), copied], ignore_index=True).to_parquet(september)
    return copied["claim_id"].astype(str).tolist()


def test_claims_in_two_parts_are_refused_with_the_parts_and_the_fix(sample, tmp_path):
    copied = _overlap(sample, tmp_path / "data")
    out = tmp_path / "out"
    with pytest.raises(InputError) as raised:
        build_report(tmp_path / "data", MONTH, out)
    message = str(raised.value)
    assert "300 claim ids" in message
    assert "2026-09.parquet" in message and "2026-10.parquet" in message
    # Example ids (claim ids are not patient identifiers).
    assert sum(claim_id in message for claim_id in copied) >= 2
    assert "remove" in message.lower()
    assert not out.exists() or not any(out.iterdir())  # nothing written
    claims = pd.read_parquet(tmp_path / "data" / "claims" / "2026-10.parquet")
    for patient in claims["patient_id"].astype(str).unique()[:50]:
        assert patient not in message  # PHI never in a message


def test_cli_report_exits_2_on_claims_in_two_parts(sample, tmp_path, capsys):
    _overlap(sample, tmp_path / "data", count=3)
    assert main(["report", "--data", str(tmp_path / "data"), "--month", MONTH, "--out",
                 str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "3 claim ids" in error and "2026-09.parquet" in error


def test_a_duplicate_outside_the_audited_months_is_seen_too(sample, tmp_path):
    # The earlier audited months are audited without claim ids, and parts before them are
    # only counted: the ids of every part are still compared.
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    first = data / "claims" / "2024-11.parquet"
    december = pd.read_parquet(data / "claims" / "2024-12.parquet").iloc[:2]
    pd.concat([pd.read_parquet(first), december], ignore_index=True).to_parquet(first)
    with pytest.raises(InputError, match=r"2 claim ids .*2024-11\.parquet.*2024-12\.parquet"):
        report_inputs.load_inputs(data, MONTH)


def test_hash_collision_without_a_shared_id_is_not_refused(sample, tmp_path, monkeypatch):
    # Ids are compared as 64-bit hashes; a shared hash is confirmed on the ids themselves.
    monkeypatch.setattr(report_inputs, "_id_hashes",
                        lambda ids: pd.Series(0, index=range(len(ids)), dtype="uint64")
                        .to_numpy()[:min(len(ids), 1)])
    loaded = report_inputs.load_inputs(sample, MONTH)
    assert loaded.claims is not None

"""RX_340B_CHECK: a claims range with headers in, one row per claim out."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from rxxl import udfs
from rxxl.audit340b import audit_claims
from rxxl.data import load_reference, load_table
from rxxl.data.synthetic import generate


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("udf340b") / "health-system"
    manifest = generate(folder, size="small")
    return folder, manifest


def _range(frame: pd.DataFrame) -> list[list]:
    """The claims as an Excel range arrives: header row, then values, blanks as None."""
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    return [list(frame.columns), *values]


def test_rows_line_up_with_the_claims_and_match_the_engine(sample):
    folder, manifest = sample
    planted = {c for p in manifest["planted"] for c in p["identifiers"].get("claim_ids") or []}
    raw = pd.read_parquet(folder / "claims" / f"{manifest['end_month']}.parquet")
    picked = pd.concat([raw[raw["claim_id"].isin(planted)].head(20), raw.head(30)])
    picked = picked.drop_duplicates("claim_id")
    result = udfs.RX_340B_CHECK(_range(picked), str(folder))
    assert result[0] == ["claim_id", "status", "reasons", "dollars_at_risk"]
    assert [row[0] for row in result[1:]] == picked["claim_id"].tolist()
    engine = audit_claims(load_table(picked, "claims"), load_reference(folder))
    assert [row[2] for row in result[1:]] == engine["reasons"].tolist()
    assert any(row[1] == "violation" for row in result[1:])


def test_reference_folder_from_the_environment(sample, monkeypatch):
    folder, _ = sample
    raw = pd.read_parquet(next((folder / "claims").glob("*.parquet"))).head(3)
    monkeypatch.setenv("RXXL_REFERENCE_DIR", str(folder))
    assert len(udfs.RX_340B_CHECK(_range(raw))) == 4
    monkeypatch.delenv("RXXL_REFERENCE_DIR")
    assert "RXXL_REFERENCE_DIR" in udfs.RX_340B_CHECK(_range(raw))


@pytest.mark.parametrize(
    "spoil, words",
    [
        (lambda grid: grid[:1], "header row and at least one claim"),
        (lambda grid: [[c for c in row[1:]] for row in grid], 'column "claim_id" is missing'),
        (lambda grid: [grid[0], [*grid[1][:6], "1234567890", *grid[1][7:]]], "NPI"),
    ],
)
def test_bad_claims_ranges_are_value_messages(sample, spoil, words):
    folder, _ = sample
    raw = pd.read_parquet(next((folder / "claims").glob("*.parquet"))).head(2)
    grid = _range(raw)
    assert grid[0][6] == "prescriber_npi"
    result = udfs.RX_340B_CHECK(spoil(grid), str(folder))
    assert isinstance(result, str) and result.startswith("#VALUE! ") and words in result


def test_missing_reference_folder_is_a_message(sample, tmp_path):
    folder, _ = sample
    raw = pd.read_parquet(next((folder / "claims").glob("*.parquet"))).head(2)
    result = udfs.RX_340B_CHECK(_range(raw), str(tmp_path / "nowhere"))
    assert result.startswith("#VALUE! ") and "nowhere" in result


def test_a_part_rewritten_inside_a_table_folder_is_read_again(sample, tmp_path):
    # The cache must see a change anywhere below the folder: a monthly export rewritten in
    # place inside encounters/ leaves the folder's own entries (and their mtimes) unchanged.
    folder, manifest = sample
    reference = tmp_path / "reference"
    reference.mkdir()
    for name in ("entity", "sites", "prescribers", "mef", "orphan_drugs"):
        shutil.copy(folder / f"{name}.csv", reference / f"{name}.csv")
    (reference / "encounters").mkdir()
    part = reference / "encounters" / "2026.parquet"
    encounters = pd.read_parquet(folder / "encounters.parquet")
    encounters.to_parquet(part, index=False)
    raw = pd.read_parquet(folder / "claims" / f"{manifest['end_month']}.parquet")
    claims = raw[raw["account"].eq("340B") & raw["status"].eq("paid")].head(40)
    before = udfs.RX_340B_CHECK(_range(claims), str(reference))
    assert not any("NO_QUALIFYING_ENCOUNTER" in (row[2] or "") for row in before[1:])
    # Rewrite the same part without these patients' encounters (a same-size-or-smaller file).
    encounters[~encounters["patient_id"].isin(claims["patient_id"])].to_parquet(part, index=False)
    after = udfs.RX_340B_CHECK(_range(claims), str(reference))
    assert all("NO_QUALIFYING_ENCOUNTER" in row[2] for row in after[1:]), after[1:4]


def test_trailing_blank_rows_are_padding_with_blank_results_that_keep_the_rows_aligned(sample):
    # A range that reaches below the table (A1:AA20 over 16 claims): the blank rows are
    # padding, and the spill has one row per input row, so row k beside the table is claim k.
    folder, _ = sample
    raw = pd.read_parquet(next((folder / "claims").glob("*.parquet"))).head(4)
    grid = _range(raw)
    width = len(grid[0])
    padded = grid + [[None] * width, [""] * width, [None, "  ", *[None] * (width - 2)]]
    result = udfs.RX_340B_CHECK(padded, str(folder))
    assert result[:5] == udfs.RX_340B_CHECK(grid, str(folder))
    assert [row[0] for row in result[1:5]] == raw["claim_id"].tolist()
    assert result[5:] == [[None] * 4] * 3


def test_a_blank_row_inside_the_claims_is_refused(sample):
    folder, _ = sample
    raw = pd.read_parquet(next((folder / "claims").glob("*.parquet"))).head(3)
    grid = _range(raw)
    gap = [grid[0], grid[1], [None] * len(grid[0]), grid[2]]
    result = udfs.RX_340B_CHECK(gap, str(folder))
    assert isinstance(result, str) and result.startswith("#VALUE! ")
    assert "row 3 of the range is blank" in result

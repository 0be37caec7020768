"""`rxxl denials` counts the claims part by part, each part collapsed to its distinct rows
(rxxl.data.collapsed, rxxl.data.parts): the trend must be the one of all claims loaded at
once, and a bad cell must get the same message as the whole-file loader gives."""

from __future__ import annotations

import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rxxl import denials
from rxxl.cli import DENIAL_GROUPS, run_denials
from rxxl.data import DataValidationError, load_table, map_parts
from rxxl.data.collapsed import COUNT, load_collapsed


@pytest.mark.parametrize("by", sorted(DENIAL_GROUPS))
def test_streamed_trend_equals_the_trend_of_all_claims_at_once(small_sample, tmp_path, by):
    folder, _ = small_sample
    out = tmp_path / "trend.csv"
    run_denials(folder / "claims", out, by)
    streamed = pd.read_csv(out, dtype={"month": str})
    whole = denials.denial_trend(load_table(folder / "claims", "claims"), DENIAL_GROUPS[by])
    whole.to_csv(tmp_path / "whole.csv", index=False)
    expected = pd.read_csv(tmp_path / "whole.csv", dtype={"month": str})
    pd.testing.assert_frame_equal(streamed, expected)


def test_collapsed_part_counts_every_claim_and_sums_every_dollar(small_sample):
    folder, _ = small_sample
    part = sorted((folder / "claims").glob("*.parquet"))[-1]
    whole = load_table(part, "claims")
    collapsed = load_collapsed(part, "claims", by=["payer", "status"], sums=["billed_amount"],
                               filled=["original_claim_id"])
    assert collapsed[COUNT].sum() == len(whole)
    assert len(collapsed) < len(whole) / 10
    by_payer = collapsed.groupby("payer", observed=True)["billed_amount"].sum()
    expected = whole.groupby("payer")["billed_amount"].sum()
    pd.testing.assert_series_equal(by_payer.sort_index(), expected.sort_index(),
                                   check_names=False, check_index_type=False)
    resubmitted = collapsed.loc[collapsed["original_claim_id"].notna(), COUNT].sum()
    assert resubmitted == whole["original_claim_id"].notna().sum() > 0


def test_categorical_loading_keeps_the_values(small_sample):
    folder, _ = small_sample
    part = sorted((folder / "claims").glob("*.parquet"))[0]
    plain = load_table(part, "claims")
    coded = load_table(part, "claims", categorical=True)
    assert isinstance(coded["payer"].dtype, pd.CategoricalDtype)
    for name in plain.columns:
        left = plain[name].astype(object).where(plain[name].notna(), None)
        right = coded[name].astype(object).where(coded[name].notna(), None)
        assert left.tolist() == right.tolist(), name


def test_a_bad_cell_in_one_part_is_named_as_the_whole_loader_names_it(small_sample, tmp_path):
    folder, _ = small_sample
    claims = tmp_path / "claims"
    shutil.copytree(folder / "claims", claims)
    target = sorted(claims.glob("*.parquet"))[5]
    table = pq.read_table(target)
    status = table.column("status").to_pylist()
    status[41] = "maybe"
    table = table.set_column(table.schema.get_field_index("status"), "status",
                             pa.array(status).dictionary_encode())
    pq.write_table(table, target)
    with pytest.raises(DataValidationError) as whole:
        load_table(target, "claims", columns=["status"])
    out = tmp_path / "trend.csv"
    with pytest.raises(DataValidationError) as streamed:
        run_denials(claims, out, "payer")
    assert [p.message for p in streamed.value.problems] == [
        p.message for p in whole.value.problems]
    assert "row 42" in streamed.value.problems[0].message
    assert target.name in streamed.value.problems[0].message
    assert not out.exists()


def test_map_parts_reports_the_problems_of_every_part(tmp_path):
    (tmp_path / "a.csv").write_text("ndc\n0002759701\n")
    (tmp_path / "b.csv").write_text("ndc\n51655-089-52\n")
    (tmp_path / "c.csv").write_text("ndc\n123\n")
    with pytest.raises(DataValidationError) as error:
        map_parts(tmp_path, "orphan_drugs", len)
    sources = [p.source for p in error.value.problems]
    assert sources == [str(tmp_path / "a.csv"), str(tmp_path / "c.csv")]

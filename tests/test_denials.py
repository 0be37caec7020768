"""Tests of rxxl.denials: reason codes, rates, HFMA variant, p-chart, trend, Pareto."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl import denials
from rxxl.data import load_table
from rxxl.data.synthetic import generate
from rxxl.errors import InputError

# --- Reason codes ---------------------------------------------------------------------------


def test_code_table_has_the_required_codes_and_categories():
    codes = denials.denial_codes()
    assert list(codes.columns) == ["system", "code", "description", "category", "is_denial"]
    ncpdp = set(codes.loc[codes.system == "ncpdp", "code"])
    carc = set(codes.loc[codes.system == "carc", "code"])
    assert {"70", "75", "76", "79", "88", "41", "65", "69", "83", "19", "07", "25", "56",
            "71", "MR"} <= ncpdp
    assert {"1", "2", "3", "4", "11", "16", "18", "22", "27", "29", "45", "50", "96", "97",
            "109", "151", "197", "252"} <= carc
    allowed = {"eligibility", "authorization", "coverage", "coding",
               "documentation/medical necessity", "billing", "duplicate",
               "coordination of benefits", "timely filing", "clinical/DUR",
               "contractual adjustment", "patient cost sharing"}
    assert set(codes.category) <= allowed
    assert not codes.duplicated(["system", "code"]).any()
    assert (codes.description.str.len() > 0).all()


@pytest.mark.parametrize("raw, system, group, code, category", [
    ("75", "ncpdp", None, "75", "authorization"),
    (" mr ", "ncpdp", None, "MR", "coverage"),
    ("07", "ncpdp", None, "07", "eligibility"),
    ("CO-197", "carc", "CO", "197", "authorization"),
    ("CO197", "carc", "CO", "197", "authorization"),
    ("co 197", "carc", "CO", "197", "authorization"),
    ("197", "carc", None, "197", "authorization"),
    (197, "carc", None, "197", "authorization"),
    ("4", "carc", None, "4", "coding"),
    ("OA-18", "carc", "OA", "18", "duplicate"),
    ("PI-16", "carc", "PI", "16", "billing"),
])
def test_describe_reason_spellings(raw, system, group, code, category):
    result = denials.describe_reason(raw)
    assert (result["system"], result["group"], result["code"], result["category"]) == (
        system, group, code, category)
    assert result["is_denial"] is True
    assert result["description"]


def test_bare_number_that_is_also_ncpdp_can_be_forced_to_carc():
    assert denials.describe_reason("22")["system"] == "ncpdp"
    forced = denials.describe_reason("22", system="carc")
    assert forced["category"] == "coordination of benefits"
    with pytest.raises(InputError):
        denials.describe_reason("22", system="x12")


@pytest.mark.parametrize("raw", ["CO-45", "PR-1", "PR-2", "PR-3", "pr 2", "45"])
def test_adjustments_and_cost_sharing_are_not_denials(raw):
    assert denials.describe_reason(raw)["is_denial"] is False


def test_unknown_code_is_kept_as_unmapped_denial():
    result = denials.describe_reason("CO-999")
    assert result == {"system": "carc", "code": "999", "group": "CO", "description": "",
                      "category": "unmapped", "is_denial": True}
    assert denials.describe_reason("Q9")["category"] == "unmapped"


# --- Classification -------------------------------------------------------------------------


def _claims(rows):
    frame = pd.DataFrame(rows)
    defaults = {"payer": "P", "service_date": "2026-01-15", "billed_amount": 100.0,
                "reject_code": None, "carc_code": None, "original_claim_id": None}
    for column, value in defaults.items():
        if column not in frame:
            frame[column] = value
        elif value is not None:
            frame[column] = frame[column].fillna(value)
    ids = pd.Series([f"C{i}" for i in range(len(frame))], index=frame.index)
    frame["claim_id"] = frame["claim_id"].fillna(ids) if "claim_id" in frame else ids
    return frame


def test_classify_denials():
    claims = _claims([
        {"status": "paid"},
        {"status": "denied", "reject_code": "75"},                      # denial
        {"status": "denied", "carc_code": "CO-45"},                     # adjustment
        {"status": "denied", "carc_code": "PR-2"},                      # cost sharing
        {"status": "denied"},                                           # no code
        {"status": "denied", "carc_code": "CO-999"},                    # unknown code
        {"status": "paid", "original_claim_id": "C1", "claim_id": "R1"},  # overturns C1
        {"status": "denied", "reject_code": "7"},                       # NCPDP 07
    ])
    result = denials.classify_denials(claims)
    assert result.index.equals(claims.index)
    assert result["is_denial"].tolist() == [False, True, False, False, True, True, False, True]
    assert result["category"].tolist()[1:6] == [
        "authorization", "contractual adjustment", "patient cost sharing", "unmapped",
        "unmapped"]
    assert result["reason_code"].tolist()[1:4] == ["75", "CO-45", "PR-2"]
    assert result["reason_code"].iloc[7] == "07"
    assert result["is_initial"].tolist() == [True] * 6 + [False, True]
    assert result["finally_denied"].tolist() == [False, False, False, False, True, True,
                                                 False, True]


def test_chained_resubmissions_overturn_the_initial_claim():
    claims = _claims([
        {"claim_id": "A", "status": "denied", "reject_code": "75"},
        {"claim_id": "A2", "status": "denied", "reject_code": "75", "original_claim_id": "A"},
        {"claim_id": "A3", "status": "paid", "original_claim_id": "A2"},
        {"claim_id": "B", "status": "denied", "reject_code": "75"},
        {"claim_id": "B2", "status": "denied", "reject_code": "75", "original_claim_id": "B"},
    ])
    result = denials.classify_denials(claims)
    assert result["finally_denied"].tolist() == [False, False, False, True, False]


def test_missing_columns_raise():
    with pytest.raises(InputError, match="status"):
        denials.classify_denials(pd.DataFrame({"x": [1]}))
    with pytest.raises(InputError, match="by"):
        denials.denial_rates(_claims([{"status": "paid"}]), by=("payer", "drug"))


# --- Rates ----------------------------------------------------------------------------------


def test_denial_rates_by_hand():
    claims = _claims([
        {"payer": "A", "status": "paid", "billed_amount": 100.0},
        {"payer": "A", "status": "denied", "reject_code": "75", "billed_amount": 300.0},
        {"payer": "A", "status": "denied", "carc_code": "CO-45", "billed_amount": 100.0},
        {"payer": "A", "status": "paid", "original_claim_id": "C1", "billed_amount": 300.0},
        {"payer": "B", "status": "denied", "reject_code": "70", "billed_amount": 50.0},
        {"payer": "B", "status": "paid", "service_date": "2026-02-03"},
    ])
    table = denials.denial_rates(claims)
    a = table[(table.payer == "A") & (table.month == "2026-01")].iloc[0]
    assert a.submitted == 3 and a.denied == 1
    assert a.denial_rate == pytest.approx(1 / 3)
    assert a.submitted_dollars == 500.0 and a.denied_dollars == 300.0
    assert a.dollar_denial_rate == pytest.approx(0.6)
    assert a.final_denied == 0 and a.final_denial_rate == 0.0
    b = table[(table.payer == "B") & (table.month == "2026-01")].iloc[0]
    assert (b.submitted, b.denied, b.final_denied, b.denial_rate) == (1, 1, 1, 1.0)
    assert len(table) == 3


def test_denial_rates_by_reason_share_the_denominator():
    claims = _claims([
        {"status": "paid"}, {"status": "paid"},
        {"status": "denied", "reject_code": "75"},
        {"status": "denied", "carc_code": "CO-197"},
    ])
    table = denials.denial_rates(claims, by=("payer", "category"))
    assert table["category"].tolist() == ["authorization"]
    assert table["submitted"].tolist() == [4] and table["denied"].tolist() == [2]
    table = denials.denial_rates(claims, by="reason_code")
    assert table["reason_code"].tolist() == ["75", "CO-197"]
    assert table["denial_rate"].tolist() == [0.25, 0.25]


def test_zero_submitted_gives_nan_rate():
    # Only a resubmission in February: nothing *initially* submitted that month.
    claims = _claims([
        {"status": "denied", "reject_code": "75"},
        {"status": "paid", "original_claim_id": "C0", "service_date": "2026-02-10"},
    ])
    trend = denials.denial_trend(claims)
    feb = trend[trend.month == "2026-02"].iloc[0]
    assert feb.submitted == 0 and math.isnan(feb.denial_rate)
    assert not feb.out_of_control
    assert denials.denial_rates(claims)["month"].tolist() == ["2026-01"]


def test_hfma_denominator_by_hand():
    counts = {"2026-01": 10, "2026-02": 20, "2026-03": 30, "2026-04": 40, "2026-06": 8}
    rows = []
    for month, n in counts.items():
        rows += [{"status": "denied" if i < 2 else "paid", "reject_code": "75" if i < 2 else None,
                  "service_date": f"{month}-05"} for i in range(n)]
    table = denials.denial_rates(_claims(rows), hfma=True).set_index("month")
    assert table["hfma_denominator"].iloc[:3].isna().all()
    assert table.loc["2026-04", "hfma_denominator"] == pytest.approx(20.0)  # (10+20+30)/3
    assert table.loc["2026-04", "hfma_denial_rate"] == pytest.approx(2 / 20)
    assert table.loc["2026-06", "hfma_denominator"] == pytest.approx(70 / 3)  # 30+40+0 (May)
    with pytest.raises(InputError, match="month"):
        denials.denial_rates(_claims(rows), by="payer", hfma=True)


# --- p-chart --------------------------------------------------------------------------------


def test_p_chart_limits_by_hand():
    chart = denials.p_chart([100, 100], [10, 10])
    assert chart["center_line"].tolist() == pytest.approx([0.1, 0.1])
    assert chart["ucl"].tolist() == pytest.approx([0.19, 0.19])
    assert chart["lcl"].tolist() == pytest.approx([0.01, 0.01])
    assert not chart["out_of_control"].any()
    # Per-period limits with each period's own n: n=400 -> 0.1 ± 3·0.015.
    chart = denials.p_chart([100, 400], [10, 40])
    assert chart["ucl"].tolist() == pytest.approx([0.19, 0.145])
    # LCL clipped at 0.
    assert denials.p_chart([10], [1])["lcl"].item() == 0.0


def test_p_chart_revised_center_line_ignores_the_spike():
    n = [5000] * 12
    d = [250] * 11 + [1250]
    chart = denials.p_chart(n, d)
    assert chart["center_line"].iloc[0] == pytest.approx(0.05)
    assert chart["out_of_control"].tolist() == [False] * 11 + [True]
    # Without the revision p̄ would be 0.0667 and every normal month below its LCL (0.0561).


def test_p_chart_edge_cases():
    single = denials.p_chart([50], [5])
    assert single["center_line"].item() == pytest.approx(0.1)
    assert not single["out_of_control"].item()
    zero = denials.p_chart([0, 100, 100], [0, 10, 12])
    assert math.isnan(zero["rate"].iloc[0]) and math.isnan(zero["ucl"].iloc[0])
    assert not zero["out_of_control"].iloc[0]
    empty = denials.p_chart([], [])
    assert empty.empty and list(empty.columns)[-1] == "out_of_control"
    nothing = denials.p_chart([0, 0], [0, 0])
    assert nothing["center_line"].isna().all() and not nothing["out_of_control"].any()
    series = denials.p_chart(pd.Series([100, 100], index=["2026-01", "2026-02"]), [5, 6])
    assert series.index.tolist() == ["2026-01", "2026-02"]
    with pytest.raises(InputError):
        denials.p_chart([10], [11])
    with pytest.raises(InputError):
        denials.p_chart([10, 10], [1])
    with pytest.raises(InputError):
        denials.p_chart([-1], [0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.floats(0, 1)), min_size=0, max_size=30))
def test_p_chart_properties(periods):
    n = [p[0] for p in periods]
    d = [math.floor(p[0] * p[1]) for p in periods]
    chart = denials.p_chart(n, d)
    rates = chart["rate"].dropna()
    assert ((rates >= 0) & (rates <= 1)).all()
    defined = chart.dropna(subset=["ucl"])
    assert (defined["lcl"] <= defined["center_line"] + 1e-12).all()
    assert (defined["center_line"] <= defined["ucl"] + 1e-12).all()
    assert ((defined["lcl"] >= 0) & (defined["ucl"] <= 1)).all()
    assert not chart.loc[chart["submitted"] == 0, "out_of_control"].any()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["paid", "denied"]),
                          st.integers(1, 6), st.floats(0, 1e4)), min_size=1, max_size=40))
def test_rates_are_fractions(rows):
    claims = _claims([{"payer": p, "status": s, "service_date": f"2026-0{m}-01",
                       "billed_amount": b, "reject_code": "75" if s == "denied" else None}
                      for p, s, m, b in rows])
    table = denials.denial_rates(claims, hfma=True)
    for column in ("denial_rate", "dollar_denial_rate", "final_denial_rate"):
        values = table[column].dropna()
        assert ((values >= 0) & (values <= 1)).all()
    assert table["denied"].sum() == sum(s == "denied" for _, s, _, _ in rows)


# --- Trend, Pareto, findings ----------------------------------------------------------------


def test_trend_fills_empty_months_and_single_month_payer():
    claims = _claims(
        [{"payer": "A", "status": "paid", "service_date": "2026-01-10"}] * 3
        + [{"payer": "A", "status": "denied", "reject_code": "75",
            "service_date": "2026-03-10"}]
        + [{"payer": "B", "status": "denied", "reject_code": "70",
            "service_date": "2026-02-10"}]
    )
    trend = denials.denial_trend(claims)
    assert list(trend.columns[:9]) == ["payer", "month", "submitted", "denied", "denial_rate",
                                       "center_line", "ucl", "lcl", "out_of_control"]
    assert {"mom_change", "denied_dollars"} <= set(trend.columns)
    assert len(trend) == 6  # 2 payers x 3 months
    a = trend[trend.payer == "A"].set_index("month")
    assert a.loc["2026-02", "submitted"] == 0 and not a.loc["2026-02", "out_of_control"]
    assert a.loc["2026-03", "denial_rate"] == 1.0
    assert math.isnan(a.loc["2026-03", "mom_change"])  # February has no rate
    b = trend[trend.payer == "B"].set_index("month")
    assert b.loc["2026-02", "center_line"] == 1.0  # its only month is its own center line
    assert not b["out_of_control"].any()
    assert b.loc["2026-02", "denied_dollars"] == 100.0
    with pytest.raises(InputError):
        denials.denial_trend(claims, by="drug_name")


def test_pareto_and_findings_by_hand():
    claims = _claims([
        {"status": "denied", "reject_code": "75", "billed_amount": 10.0},
        {"status": "denied", "reject_code": "75", "billed_amount": 10.0},
        {"status": "denied", "carc_code": "CO-999", "billed_amount": 5.0},
        {"status": "denied", "billed_amount": 1.0},
        {"status": "denied", "carc_code": "CO-45"},
        {"status": "paid"},
    ])
    table = denials.pareto(claims)
    assert table["reason_code"].tolist() == ["75", "CO-999", "(no code)"]
    assert table["count"].tolist() == [2, 1, 1]
    assert table["cumulative_share"].tolist() == pytest.approx([0.5, 0.75, 1.0])
    assert table["category"].tolist() == ["authorization", "unmapped", "unmapped"]
    assert table["description"].iloc[0] == "Prior authorization required"
    assert denials.pareto(claims, by="category")["category"].tolist() == [
        "authorization", "unmapped"]
    assert denials.top_findings(denials.denial_trend(claims)) == []


# --- The synthetic health system ------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("system")
    manifest = generate(folder, size="small")
    spike = next(p for p in manifest["planted"] if p["kind"] == "denial spike")
    return load_table(folder / "claims", "claims"), spike["identifiers"]


def test_planted_denial_spike_is_the_only_flag(synthetic):
    claims, spike = synthetic
    trend = denials.denial_trend(claims, by="payer")
    flagged = trend[trend.out_of_control]
    assert list(zip(flagged.payer, flagged.month, strict=True)) == [
        (spike["payer"], spike["month"])]
    row = flagged.iloc[0]
    assert row.denial_rate > 0.15 and row.center_line < 0.08
    findings = denials.top_findings(trend)
    assert len(findings) == 1 and findings[0].startswith(f"{spike['payer']}, {spike['month']}:")
    # The reason behind it: the planted reject code leads that payer-month's Pareto.
    month = claims.service_date.dt.strftime("%Y-%m") == spike["month"]
    top = denials.pareto(claims[month & (claims.payer == spike["payer"])])
    assert top["reason_code"].iloc[0] == spike["reject_code"]


def test_synthetic_rates_are_consistent(synthetic):
    claims, _ = synthetic
    flags = denials.classify_denials(claims)
    assert not flags.loc[flags.is_denial, "category"].isna().any()
    by_month = denials.denial_rates(claims, by="month", hfma=True)
    total = denials.denial_rates(claims, by="payer")
    assert by_month["submitted"].sum() == total["submitted"].sum() == flags.is_initial.sum()
    assert by_month["denied"].sum() == (flags.is_initial & flags.is_denial).sum()
    assert (by_month["final_denied"] <= by_month["denied"]).all()
    assert by_month["hfma_denominator"].isna().sum() == 3
    assert np.isfinite(by_month["denial_rate"]).all()

"""The synthetic health system: contract-shaped files, determinism, and planted problems
that an independent checker (written here, from DOMAIN.md §6) finds exactly.

One small sample is generated per test session (about two seconds); determinism needs a
second run and a third with another seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from rxxl.data import contracts
from rxxl.data.synthetic import generate
from rxxl.errors import InputError, InputTypeError

CSV_TABLES = ("entity", "sites", "prescribers", "mef", "orphan_drugs", "drugs", "locations",
              "budget_lines", "drug_purchases", "inventory_snapshots", "capital_requests",
              "accumulator_balances")
LOOKBACK_DAYS = 365


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("synthetic") / "sample"
    manifest = generate(folder, size="small")
    return folder, manifest


@pytest.fixture(scope="module")
def data(sample) -> dict[str, pd.DataFrame]:
    folder, _ = sample
    tables = {name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
              for name in CSV_TABLES}
    tables["claims"] = pd.read_parquet(folder / "claims")
    tables["encounters"] = pd.read_parquet(folder / "encounters.parquet")
    return tables


# --- an independent 340B checker ------------------------------------------------------------


def _day(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values).replace("", None))


def _in_periods(keys: pd.DataFrame, periods: pd.DataFrame, on: list[str]) -> np.ndarray:
    """For each row of ``keys`` (with a ``date``), whether a period row with the same
    ``on`` values has start <= date <= end (blank end: open)."""
    rows = keys[on + ["date"]].reset_index(drop=True).reset_index()
    merged = rows.merge(periods, on=on, how="inner")
    hit = (merged["start"] <= merged["date"]) & (
        merged["end"].isna() | (merged["date"] <= merged["end"]))
    found = np.zeros(len(keys), dtype=bool)
    found[merged.loc[hit, "index"].to_numpy()] = True
    return found


def check_340b(t: dict[str, pd.DataFrame]) -> dict[str, set[str]]:
    """Claim ids failing each 340B rule (rules as the brief states them)."""
    claims = t["claims"].copy()
    sites, entity, prescribers = t["sites"].copy(), t["entity"].copy(), t["prescribers"].copy()
    for frame in (sites, entity, prescribers):
        frame["start"] = _day(frame["start_date"]).to_numpy()
        frame["end"] = _day(frame["end_date"]).to_numpy()
    claims["date"] = pd.to_datetime(claims["service_date"])
    site_entities = sites.groupby("site_id")["entity_id"].agg(
        lambda s: s.iloc[0] if s.nunique() == 1 else None)
    claims["entity"] = claims["entity_id"].fillna(claims["site_id"].map(site_entities))
    types = entity.drop_duplicates("entity_id").set_index("entity_id")["entity_type"]
    claims["entity_type"] = claims["entity"].map(types)
    on_340b = claims["account"] == "340B"
    reasons: dict[str, np.ndarray] = {}

    periods = entity.rename(columns={"entity_id": "entity"})[["entity", "start", "end"]]
    reasons["ENTITY_INACTIVE"] = on_340b & ~_in_periods(claims, periods, ["entity"])

    site_periods = sites.rename(columns={"entity_id": "entity"})[
        ["site_id", "entity", "start", "end"]]
    registered = _in_periods(claims, site_periods, ["site_id", "entity"])
    reasons["SITE_NOT_REGISTERED"] = on_340b & ~registered

    # Encounters at a site registered for the entity on the encounter day.
    enc = t["encounters"].merge(site_periods, on="site_id")
    enc["encounter_date"] = pd.to_datetime(enc["encounter_date"])
    enc = enc[(enc["start"] <= enc["encounter_date"])
              & (enc["end"].isna() | (enc["encounter_date"] <= enc["end"]))]
    reasons["NO_QUALIFYING_ENCOUNTER"] = on_340b & ~_qualifying(claims, enc)

    prescribers = prescribers.rename(columns={"npi": "prescriber_npi", "entity_id": "entity"})
    eligible = _in_periods(claims, prescribers[["prescriber_npi", "entity", "start", "end"]],
                           ["prescriber_npi", "entity"])
    reasons["PRESCRIBER_NOT_ELIGIBLE"] = on_340b & ~eligible

    reasons["INPATIENT"] = on_340b & (claims["patient_status"] == "inpatient")

    mef = t["mef"]
    carve_in = set(zip(mef.loc[mef["carve_in"] == "true", "entity_id"],
                       mef.loc[mef["carve_in"] == "true", "billing_npi"],
                       mef.loc[mef["carve_in"] == "true", "state"],
                       pd.to_datetime(mef.loc[mef["carve_in"] == "true", "quarter_start"]),
                       strict=True))
    quarter = claims["date"].dt.to_period("Q").dt.start_time
    listed = np.array([key in carve_in for key in zip(
        claims["entity"], claims["billing_npi"], claims["payer_state"], quarter, strict=True)])
    ffs = claims["payer_type"] == "medicaid_ffs"
    reasons["MEDICAID_DUPLICATE_DISCOUNT"] = on_340b & ffs & ~listed
    reasons["MEF_CARVE_IN_NOT_340B"] = ~on_340b & ffs & listed

    cp = sites[sites["site_type"] == "contract_pharmacy"].set_index(["site_id", "entity_id"])
    arrangement = cp["medicaid_arrangement"] == "true"
    pairs = pd.MultiIndex.from_arrays([claims["site_id"], claims["entity"]])
    at_cp = pairs.isin(cp.index)
    with_arrangement = np.asarray(arrangement.reindex(pairs).fillna(False), dtype=bool)
    medicaid = claims["payer_type"].isin(["medicaid_ffs", "medicaid_mco"])
    reasons["CONTRACT_PHARMACY_MEDICAID"] = on_340b & medicaid & at_cp & ~with_arrangement

    reasons["GPO_PROHIBITION"] = ((claims["account"] == "GPO")
                                  & (claims["patient_status"] == "outpatient")
                                  & claims["entity_type"].isin(["DSH", "PED", "CAN"]))
    orphan = claims["ndc"].isin(t["orphan_drugs"]["ndc"])
    reasons["ORPHAN_DRUG"] = (on_340b & orphan
                              & claims["entity_type"].isin(["CAH", "SCH", "RRC", "CAN"]))
    modifiers = claims["modifiers"].fillna("").str.split(";")
    has_jg_tb = modifiers.map(lambda m: "JG" in m or "TB" in m)
    reasons["MISSING_340B_MODIFIER"] = (on_340b & (claims["payer_type"] == "medicare_b")
                                        & ~has_jg_tb)
    ids = claims["claim_id"].to_numpy()
    return {reason: set(ids[np.asarray(mask, dtype=bool)]) for reason, mask in reasons.items()}


def _qualifying(claims: pd.DataFrame, enc: pd.DataFrame) -> np.ndarray:
    """An encounter of the patient at the claim's entity in [service - 365 d, service]."""
    left = claims[["patient_id", "entity", "date"]].reset_index(drop=True).reset_index()
    left = left.sort_values("date")
    right = enc[["patient_id", "entity", "encounter_date"]].sort_values("encounter_date")
    found = pd.merge_asof(left, right, left_on="date", right_on="encounter_date",
                          by=["patient_id", "entity"], direction="backward")
    ok = found["encounter_date"].notna() & (
        found["date"] - found["encounter_date"] <= pd.Timedelta(days=LOOKBACK_DAYS))
    result = np.zeros(len(claims), dtype=bool)
    result[found.loc[ok, "index"].to_numpy()] = True
    return result


# --- planted 340B problems ------------------------------------------------------------------


def test_every_planted_claim_trips_exactly_its_reason_and_no_other_claim_trips(data, sample):
    _, manifest = sample
    found = check_340b(data)
    by_claim: dict[str, set[str]] = {}
    for reason, ids in found.items():
        for claim_id in ids:
            by_claim.setdefault(claim_id, set()).add(reason)
    planted = {}
    for entry in manifest["planted"]:
        for claim_id in entry["identifiers"].get("claim_ids", []):
            planted[claim_id] = entry["expected"]
    assert planted, "no planted claims in the manifest"
    wrong = {c: (planted[c], sorted(by_claim.get(c, ()))) for c in planted
             if by_claim.get(c) != {planted[c]}}
    assert not wrong, f"planted claims not found as planted: {list(wrong.items())[:10]}"
    extra = {c: sorted(r) for c, r in by_claim.items() if c not in planted}
    assert not extra, f"clean claims that trip a rule: {list(extra.items())[:10]}"


def test_every_reason_is_planted_in_the_latest_month_and_in_history(data, sample):
    _, manifest = sample
    month_of = data["claims"].set_index("claim_id")["service_date"].astype(str).str[:7]
    latest = manifest["months"][-1]
    reasons = {}
    for entry in manifest["planted"]:
        for claim_id in entry["identifiers"].get("claim_ids", []):
            reasons.setdefault(entry["expected"], []).append(month_of[claim_id])
    assert set(reasons) == {
        "ENTITY_INACTIVE", "SITE_NOT_REGISTERED", "NO_QUALIFYING_ENCOUNTER",
        "PRESCRIBER_NOT_ELIGIBLE", "INPATIENT", "MEDICAID_DUPLICATE_DISCOUNT",
        "MEF_CARVE_IN_NOT_340B", "CONTRACT_PHARMACY_MEDICAID", "GPO_PROHIBITION",
        "ORPHAN_DRUG", "MISSING_340B_MODIFIER"}
    for reason, months in reasons.items():
        assert latest in months, reason
        assert len({m for m in months if m != latest}) >= 2, reason
    for entry in manifest["planted"]:
        if "claim_ids" in entry["identifiers"]:
            assert entry["count"] == len(entry["identifiers"]["claim_ids"]) >= 4, entry["id"]


def test_clean_claims_also_qualify_when_sites_must_be_registered_on_the_service_date(data,
                                                                                     sample):
    # A stricter reading of "registered site": registered on the claim's service date.
    _, manifest = sample
    planted = {c for e in manifest["planted"] for c in e["identifiers"].get("claim_ids", [])}
    claims = data["claims"]
    claims = claims[(claims["account"] == "340B") & ~claims["claim_id"].isin(planted)].copy()
    sites = data["sites"].copy()
    sites["start"], sites["end"] = _day(sites["start_date"]), _day(sites["end_date"])
    claims["entity"] = claims["entity_id"].fillna(
        claims["site_id"].map(sites.drop_duplicates("site_id").set_index("site_id")["entity_id"]))
    claims["date"] = pd.to_datetime(claims["service_date"])
    enc = data["encounters"].merge(sites.rename(columns={"entity_id": "entity"}), on="site_id")
    enc["encounter_date"] = pd.to_datetime(enc["encounter_date"])
    left = claims.reset_index(drop=True).reset_index().sort_values("date")
    merged = left.merge(enc[["patient_id", "entity", "encounter_date", "start", "end"]],
                        on=["patient_id", "entity"])
    window = merged["date"] - merged["encounter_date"]
    ok = ((window >= pd.Timedelta(0)) & (window <= pd.Timedelta(days=LOOKBACK_DAYS))
          & (merged["start"] <= merged["encounter_date"]) & (merged["start"] <= merged["date"])
          & (merged["end"].isna() | ((merged["end"] >= merged["date"])
                                     & (merged["end"] >= merged["encounter_date"]))))
    qualified = set(merged.loc[ok, "index"])
    assert len(qualified) == len(claims)


# --- denial spike ---------------------------------------------------------------------------


def _p_chart_flags(claims: pd.DataFrame) -> set[tuple[str, str]]:
    claims = claims.assign(month=claims["service_date"].astype(str).str[:7],
                           denied=claims["status"] == "denied")
    table = claims.groupby(["payer", "month"])["denied"].agg(["sum", "count"]).reset_index()
    totals = table.groupby("payer")[["sum", "count"]].transform("sum")
    p_bar = totals["sum"] / totals["count"]
    ucl = p_bar + 3 * np.sqrt(p_bar * (1 - p_bar) / table["count"])
    out = table[table["sum"] / table["count"] > ucl]
    return set(zip(out["payer"], out["month"], strict=True))


def test_denial_spike_is_the_only_payer_month_above_its_p_chart_limit(data, sample):
    _, manifest = sample
    spike = next(e for e in manifest["planted"] if e["expected"] == "denial spike")
    ids = spike["identifiers"]
    claims = data["claims"]
    initial = claims[claims["original_claim_id"].isna()]
    assert _p_chart_flags(initial) == {(ids["payer"], ids["month"])}
    assert _p_chart_flags(claims) == {(ids["payer"], ids["month"])}
    month = initial[(initial["payer"] == ids["payer"])
                    & (initial["service_date"].astype(str).str[:7] == ids["month"])]
    rate = (month["status"] == "denied").mean()
    assert 0.2 < rate < 0.3
    codes = month.loc[month["status"] == "denied", "reject_code"].value_counts()
    assert codes.index[0] == ids["reject_code"] and codes.iloc[0] > 0.6 * codes.sum()


def test_denials_use_real_codes_and_pay_nothing(data):
    claims = data["claims"]
    denied = claims[claims["status"] == "denied"]
    assert (denied["paid_amount"] == 0).all()
    assert (claims.loc[claims["status"] == "paid", "paid_amount"] > 0).all()
    pharmacy = denied["claim_type"] == "pharmacy"
    assert denied.loc[pharmacy, "reject_code"].notna().all()
    assert denied.loc[pharmacy, "carc_code"].isna().all()
    assert denied.loc[~pharmacy, "carc_code"].notna().all()
    carc = set(denied["carc_code"].dropna())
    assert not carc & {"CO-45", "PR-1", "PR-2", "PR-3"}
    assert all(code.startswith("CO-") for code in carc)
    assert (claims["paid_amount"] <= claims["billed_amount"]).all()
    # Resubmissions replace denied claims of the same month and are paid.
    resubmitted = claims[claims["original_claim_id"].notna()]
    assert len(resubmitted) > 0 and (resubmitted["status"] == "paid").all()
    originals = claims.set_index("claim_id").loc[resubmitted["original_claim_id"]]
    assert (originals["status"] == "denied").all()
    assert (originals["service_date"].to_numpy() == resubmitted["service_date"].to_numpy()).all()
    rates = claims.groupby("payer")["status"].apply(lambda s: (s == "denied").mean())
    assert rates.drop("Self pay").between(0.02, 0.14).all()


# --- price spike, overstock and the budget ---------------------------------------------------


def test_price_spike_raises_claims_and_purchase_costs_and_breaks_the_budget(data, sample):
    _, manifest = sample
    spike = next(e for e in manifest["planted"] if e["expected"] == "price spike")
    ids = spike["identifiers"]
    latest, before = manifest["months"][-1], manifest["months"][-2]
    claims = data["claims"]
    month = claims["service_date"].astype(str).str[:7]
    drug = claims[claims["ndc"] == ids["ndc"]]
    ratio = (drug.loc[month[drug.index] == latest, "unit_cost_wac"].mean()
             / drug.loc[month[drug.index] == before, "unit_cost_wac"].mean())
    assert 1.3 <= ratio <= 1.4
    buys = data["drug_purchases"]
    buys = buys[(buys["ndc"] == ids["ndc"]) & (buys["location"] == ids["location"])]
    cost = buys.assign(c=buys["unit_cost_actual"].astype(float)).pivot(
        index="month", columns="account", values="c")
    ratios = (cost.loc[latest] / cost.loc[before]).dropna()
    assert len(ratios) and ratios.between(1.3, 1.4).all(), ratios
    budget = _budget(data)
    material = budget[budget["material"]]
    assert ((material["month"] == latest) & (material["cost_center"] == ids["cost_center"])
            & (material["line"] == ids["line"])).any()
    # Every material variance is a planted one: the price spike or the forward buy.
    overstock = next(e for e in manifest["planted"] if e["expected"] == "overstock")
    assert (material["month"] == latest).all()
    spiked = {(x["cost_center"], x["line"]) for x in spike["details"]["budget_lines"]}
    explained = [(cc, line) in spiked or (cc.startswith("7030") and overstock[
        "identifiers"]["location"] == "RUMC-OP") for cc, line in zip(
        material["cost_center"], material["line"], strict=True)]
    assert all(explained), material


def _budget(data) -> pd.DataFrame:
    budget = data["budget_lines"].copy()
    for column in ("budget", "actual"):
        budget[column] = budget[column].astype(float)
    variance = budget["actual"] - budget["budget"]
    budget["material"] = (variance.abs() >= 10_000) & (
        variance.abs() >= 0.05 * budget["budget"].abs())
    return budget


def test_budget_drug_lines_equal_purchases(data):
    budget = _budget(data)
    buys = data["drug_purchases"].copy()
    for column in ("quantity", "unit_cost_actual", "unit_cost_budget", "budget_quantity"):
        buys[column] = buys[column].astype(float)
    spend = (buys["quantity"] * buys["unit_cost_actual"]).groupby(buys["month"]).sum()
    planned = (buys["budget_quantity"] * buys["unit_cost_budget"]).groupby(buys["month"]).sum()
    drugs = budget[budget["line"].str.startswith("Drugs - ")]
    assert np.allclose(drugs.groupby("month")["actual"].sum(), spend, rtol=1e-6)
    assert np.allclose(drugs.groupby("month")["budget"].sum(), planned, rtol=1e-6)
    assert set(budget["line_type"]) == {"expense", "revenue"}
    assert budget["volume_driver"].str.len().gt(0).all()


def test_overstocked_location_has_about_two_to_three_times_normal_days_on_hand(data, sample):
    _, manifest = sample
    entry = next(e for e in manifest["planted"] if e["expected"] == "overstock")
    doh = _days_on_hand(data, manifest["months"])
    latest = manifest["months"][-1]
    location = entry["identifiers"]["location"]
    normal = doh.drop(columns=latest).median(axis=1)
    ratio = doh[latest] / normal
    assert 2.0 <= ratio[location] <= 3.0
    others = ratio.drop(location)
    assert (others < 1.5).all(), others
    turns = (365 / doh.drop(index=location)).stack()
    assert 10 <= turns.median() <= 14
    assert turns.between(8, 17).mean() > 0.9


def _days_on_hand(data, months: list[str]) -> pd.DataFrame:
    """Days on hand per location and month, with the cost of goods dispensed worked out
    from the finance tables alone: purchases - change in inventory - expired."""
    stock = data["inventory_snapshots"].copy()
    stock["value"] = stock["inventory_value"].astype(float)
    stock["expired"] = pd.to_numeric(stock["expired_value"])
    stock["month"] = pd.to_datetime(stock["snapshot_date"]).dt.strftime("%Y-%m")
    values = stock.pivot(index="location", columns="month", values="value")
    expired = stock.pivot(index="location", columns="month", values="expired")
    buys = data["drug_purchases"].copy()
    buys["v"] = buys["quantity"].astype(float) * buys["unit_cost_actual"].astype(float)
    bought = buys.groupby(["location", "month"])["v"].sum().unstack().reindex(values.index)
    out = {}
    for i, month in enumerate(months):
        begin = values.iloc[:, i]
        end = values.iloc[:, i + 1]
        cogs = bought[month] - (end - begin) - expired.iloc[:, i + 1]
        days = pd.Period(month).days_in_month
        out[month] = days * (begin + end) / 2 / cogs
    return pd.DataFrame(out)


# --- contract shape ------------------------------------------------------------------------


def test_files_and_columns_follow_the_contracts(sample, data):
    folder, manifest = sample
    assert sorted(p.name for p in (folder / "claims").iterdir()) == [
        f"{m}.parquet" for m in manifest["months"]]
    assert manifest["months"][-1] == "2026-10" and len(manifest["months"]) == 24
    for name, frame in data.items():
        table = contracts.TABLES[name]
        assert list(frame.columns) == [c.name for c in table.columns
                                       if c.name in frame.columns], name
        assert set(table.required_columns) <= set(frame.columns), name
        for column in table.columns:
            if column.name not in frame.columns:
                continue
            values = frame[column.name]
            blank = values.isna() | (values.astype(str) == "")
            if not column.blank_ok:
                assert not blank.any(), (name, column.name)
            if column.choices:
                assert set(values[~blank]) <= set(column.choices), (name, column.name)
        key = [k for k in table.key if k in frame.columns]
        if key:
            assert not frame.duplicated(key).any(), name
        for start, end in table.date_ranges:
            ends = frame[end].replace("", None).dropna()
            assert (ends >= frame.loc[ends.index, start]).all(), name
    for name, count in manifest["row_counts"].items():
        assert len(data[name]) == count, name
    claims = data["claims"]
    assert 1_500 <= manifest["claims_by_month"]["2026-10"] <= 3_000
    assert claims["service_date"].astype(str).str[:7].isin(manifest["months"]).all()


def _luhn_ok(npi: pd.Series) -> np.ndarray:
    digits = np.array([[int(ch) for ch in "80840" + str(v)] for v in npi])
    check = digits[:, -1]
    body = digits[:, :-1][:, ::-1]
    doubled = body[:, 0::2] * 2
    total = (doubled // 10 + doubled % 10).sum(1) + body[:, 1::2].sum(1)
    return (total + check) % 10 == 0


def test_identifiers_are_valid(data):
    npis = pd.concat([data["prescribers"]["npi"], data["claims"]["prescriber_npi"],
                      data["claims"]["billing_npi"], data["mef"]["billing_npi"]]).unique()
    npis = pd.Series(npis)
    assert npis.str.fullmatch(r"[12]\d{9}").all()
    assert _luhn_ok(npis).all()
    assert _luhn_ok(pd.Series(["1234567893"])).all()  # CMS's example NPI
    for name in ("drugs", "orphan_drugs", "drug_purchases", "claims"):
        assert data[name]["ndc"].str.fullmatch(r"\d{11}").all(), name
    assert data["claims"]["claim_id"].is_unique
    assert data["drugs"]["ndc"].is_unique
    assert set(data["claims"]["ndc"]) <= set(data["drugs"]["ndc"])


def test_realistic_mix(data, sample):
    _, manifest = sample
    drugs, claims = data["drugs"], data["claims"]
    assert 150 <= len(drugs) <= 300
    assert set(drugs["mony_code"]) == {"M", "N", "O", "Y"}
    assert {"ANDA", "NDA", "BLA", "NDA AUTHORIZED GENERIC", "BIOSIMILAR"} <= set(
        drugs["marketing_category"])
    mony = claims["ndc"].map(drugs.set_index("ndc")["mony_code"])
    generic_rate = (mony[claims["claim_type"] == "pharmacy"] == "Y").mean()
    assert 0.6 < generic_rate < 0.95
    assert set(claims["payer_type"]) == {"medicaid_ffs", "medicaid_mco", "medicare_b",
                                         "medicare_d", "commercial", "self_pay", "other"}
    assert set(claims["account"]) == {"340B", "GPO", "WAC"}
    share_340b = (claims["account"] == "340B").mean()
    assert 0.25 < share_340b < 0.65
    wac = claims["unit_cost_wac"]
    assert (claims["unit_cost_340b"] < wac).mean() > 0.99
    by_month = pd.Series(manifest["claims_by_month"])
    assert by_month.iloc[-12:].sum() > by_month.iloc[:12].sum()  # growth
    entity = data["entity"]
    assert set(entity["entity_type"]) == {"DSH", "PED", "CAH", "RRC"}
    sites = data["sites"]
    assert (sites["end_date"] != "").sum() >= 1
    assert (sites["medicaid_arrangement"] == "true").any()
    prescribers = data["prescribers"]
    assert 300 <= prescribers["npi"].nunique() <= 600
    encounters = data["encounters"]
    per_patient = encounters.groupby("patient_id").size()
    assert per_patient.median() >= 4
    capital = data["capital_requests"]
    assert 3 <= capital["request_id"].nunique() <= 4
    assert set(capital["flow_type"]) >= {"capital", "labor_savings", "avoided_errors",
                                         "service_cost"}


# --- determinism, arguments and the output folder ---------------------------------------------


def test_same_seed_same_files_other_seed_other_files(sample, tmp_path):
    folder, manifest = sample
    again = generate(tmp_path / "again", size="small")
    assert again == manifest
    for name in CSV_TABLES:
        assert (tmp_path / "again" / f"{name}.csv").read_bytes() == (
            folder / f"{name}.csv").read_bytes(), name
    for path in [folder / "encounters.parquet", *sorted((folder / "claims").iterdir())]:
        mine = tmp_path / "again" / path.relative_to(folder)
        assert pq.read_table(mine).equals(pq.read_table(path)), path.name
    other = generate(tmp_path / "other", size="small", seed=7)
    assert other["seed"] == 7
    assert not pq.read_table(tmp_path / "other" / "claims" / "2026-10.parquet").equals(
        pq.read_table(folder / "claims" / "2026-10.parquet"))
    assert (tmp_path / "other" / "prescribers.csv").read_bytes() != (
        folder / "prescribers.csv").read_bytes()


def test_other_end_month_shifts_the_window(tmp_path):
    manifest = generate(tmp_path / "s", size="small", end_month="2025-03", seed=3)
    assert manifest["months"][0] == "2023-04" and manifest["months"][-1] == "2025-03"
    assert all(entry.get("count", 1) > 0 for entry in manifest["planted"])


def test_refuses_a_folder_of_other_files_and_replaces_an_earlier_sample(tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        generate(user)
    assert (user / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no temporary folder left

    foreign = tmp_path / "webapp"
    foreign.mkdir()
    (foreign / "manifest.json").write_text(json.dumps({"name": "my app"}))
    with pytest.raises(InputError, match="not empty"):
        generate(foreign)
    assert (foreign / "manifest.json").exists()
    earlier = tmp_path / "sample"
    earlier.mkdir()
    (earlier / "manifest.json").write_text(json.dumps({"generator": "rxxl.data.synthetic",
                                                       "seed": 1, "written": ["stale.csv"]}))
    (earlier / "stale.csv").write_text("x")  # the earlier sample's own file: replaced
    (earlier / "mine.csv").write_text("y")  # not listed in its manifest: a user's, kept
    generate(earlier, seed=5)
    assert not (earlier / "stale.csv").exists()
    assert (earlier / "mine.csv").read_text() == "y"
    assert json.loads((earlier / "manifest.json").read_text())["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "sample", "webapp"]


@pytest.mark.parametrize("kwargs, error", [
    ({"size": "medium"}, InputError),
    ({"seed": -1}, InputError),
    ({"seed": 1.5}, InputTypeError),
    ({"end_month": "2026-13"}, InputError),
    ({"end_month": "Oct 2026"}, InputError),
])
def test_bad_arguments(tmp_path, kwargs, error):
    with pytest.raises(error):
        generate(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


# --- the validated loader -------------------------------------------------------------------


def test_every_file_loads_through_the_validated_loader(sample):
    data_module = pytest.importorskip("rxxl.data")
    if not hasattr(data_module, "load_table"):
        pytest.skip("the validated loader is not there yet")
    folder, _ = sample
    for name in ("drugs", "budget_lines", "drug_purchases", "inventory_snapshots",
                 "capital_requests"):
        frame = data_module.load_table(folder / f"{name}.csv", name)
        assert len(frame) > 0, name
    claims = data_module.load_table(folder / "claims", "claims")
    assert len(claims) == sum(
        pq.ParquetFile(p).metadata.num_rows for p in (folder / "claims").iterdir())
    reference = data_module.load_reference(folder)
    assert set(reference) == {"entity", "sites", "prescribers", "encounters", "mef",
                              "orphan_drugs"}

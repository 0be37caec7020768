"""The 340B sheet and the claim detail as an HRSA auditor reads them: the audit parameters,
reasons in words, and the tracer sample's encounter and purchase found again by hand from the
sample's own tables."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import rxxl
from rxxl.reports.monthly import build_report, detail_name, package_name

MONTH = "2026-10"
LOOKBACK = 365  # the audit's default look-back, as the sheet must say


@pytest.fixture(scope="module")
def sample(small_sample) -> Path:
    return small_sample[0]


@pytest.fixture(scope="module")
def reports(sample, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    build_report(sample, MONTH, out)
    return out


def _table(path: Path, name: str) -> pd.DataFrame:
    book = openpyxl.load_workbook(path, data_only=True)
    for sheet in book.worksheets:
        if name in sheet.tables:
            rows = [[cell.value for cell in row] for row in sheet[sheet.tables[name].ref]]
            return pd.DataFrame(rows[1:], columns=rows[0])
    raise KeyError(name)


def _detail(reports: Path, sheet: str = "Claim detail") -> pd.DataFrame:
    book = openpyxl.load_workbook(reports / detail_name(pd.Period(MONTH)), read_only=True)
    rows = list(book[sheet].iter_rows(min_row=4, values_only=True))
    book.close()
    return pd.DataFrame(rows[1:], columns=rows[0])


def _csv(sample: Path, name: str, dates: tuple[str, ...] = ()) -> pd.DataFrame:
    return pd.read_csv(sample / f"{name}.csv", dtype=str, parse_dates=list(dates))


def test_audit_parameters_name_the_lookback_months_version_and_reference_dates(sample,
                                                                               reports):
    package = reports / package_name(pd.Period(MONTH))
    shown = _table(package, "audit_parameters").set_index("Parameter")["Value"]
    assert shown["Look-back window (days)"].startswith(f"{LOOKBACK}:")
    # The six audited months end with the report month (the sample covers them all).
    assert shown["Months audited"].startswith("2026-05 to 2026-10 (6 months")
    assert shown["Rule set version"].startswith(f"rxxl {rxxl.__version__}: 14 reason codes")
    # The sample's six months are all in 2026: the 2025 modifier rules, TB only.
    assert shown["Rule versions in force"].startswith("2026-05-01 to 2026-10-31: ")
    assert "MISSING_340B_MODIFIER/2025-01, WRONG_340B_MODIFIER/2025-01" in shown[
        "Rule versions in force"]
    assert "MISSING_340B_MODIFIER/2024-01" not in shown["Rule versions in force"]
    assert "CAH claims held from 2024-01-01 (policy)" in shown["Part B 340B modifier"]
    assert "masked" in shown["Patient masking"]
    for name, file in (("entity", "entity.csv"), ("sites", "sites.csv"), ("mef", "mef.csv"),
                       ("prescribers", "prescribers.csv"), ("orphan_drugs", "orphan_drugs.csv"),
                       ("encounters", "encounters.parquet")):
        dated = dt.date.fromtimestamp((sample / file).stat().st_mtime).isoformat()
        assert f"{file} (file saved {dated})" in shown[f"Reference: {name}"], name
    # The entity table: 5 registrations, the latest date in them read by hand.
    entity = _csv(sample, "entity", ("start_date", "end_date"))
    latest = max(entity["start_date"].max(), entity["end_date"].max())
    assert f"{len(entity)} rows used; latest date in the rows {latest:%Y-%m-%d}" in shown[
        "Reference: entity"]
    # The MEF's latest quarter.
    mef = _csv(sample, "mef", ("quarter_start",))
    assert shown["Reference: mef"].endswith(f"{mef['quarter_start'].max():%Y-%m-%d}")
    # The claim detail carries the same parameters.
    on_detail = _detail(reports, "Audit parameters").set_index("Parameter")["Value"]
    assert on_detail.to_dict() == shown.to_dict()


def test_exceptions_by_reason_give_code_status_and_plain_words(reports):
    reasons = _table(reports / package_name(pd.Period(MONTH)), "exceptions_by_reason")
    by_code = reasons.set_index("Reason")
    assert by_code.loc["INPATIENT", "What the reason means"] == "Inpatient at administration"
    assert by_code.loc["INPATIENT", "Status"] == "violation"
    assert by_code.loc["MEF_CARVE_IN_NOT_340B", "Status"] == "review"
    assert by_code["What the reason means"].notna().all()


@pytest.fixture(scope="module")
def tracer(reports) -> pd.DataFrame:
    return _table(reports / package_name(pd.Period(MONTH)), "tracer_sample")


@pytest.fixture(scope="module")
def claims(sample) -> pd.DataFrame:
    return pd.read_parquet(sample / "claims" / f"{MONTH}.parquet")


def test_tracer_claims_carry_the_claims_fields(tracer, claims):
    assert len(tracer) > 0 and (tracer["Account"] == "340B").all()
    source = claims.set_index("claim_id").loc[tracer["Claim"]]
    assert tracer["NDC"].tolist() == source["ndc"].tolist()
    assert tracer["Drug"].tolist() == source["drug_name"].tolist()
    assert tracer["Quantity (billing units)"].tolist() == pytest.approx(
        source["quantity"].astype(float).tolist())
    assert tracer["Prescriber NPI"].tolist() == source["prescriber_npi"].tolist()
    assert tracer["Billing NPI"].tolist() == source["billing_npi"].tolist()
    assert tracer["Modifiers"].fillna("").tolist() == source["modifiers"].fillna("").tolist()


def test_a_tracer_claims_qualifying_encounter_found_by_hand(sample, tracer, claims):
    encounters = pd.read_parquet(sample / "encounters.parquet")
    encounters["encounter_date"] = pd.to_datetime(encounters["encounter_date"])
    sites = _csv(sample, "sites", ("start_date", "end_date"))
    checked = 0
    for row in tracer.head(6).to_dict("records"):
        claim = claims.set_index("claim_id").loc[row["Claim"]]
        day = pd.Timestamp(claim["service_date"])
        # The patient's encounters at a site registered to the claim's entity on the visit's
        # date, within the look-back window before the service date: the latest of them.
        seen = encounters[encounters["patient_id"] == claim["patient_id"]].merge(
            sites[sites["entity_id"] == row["Entity"]], on="site_id")
        seen = seen[(seen["start_date"] <= seen["encounter_date"])
                    & (seen["end_date"].isna() | (seen["encounter_date"] <= seen["end_date"]))
                    & (seen["encounter_date"] <= day)
                    & (seen["encounter_date"] >= day - pd.Timedelta(days=LOOKBACK))]
        if seen.empty:
            assert row["Encounter date"] is None  # blank: NO_QUALIFYING_ENCOUNTER
            assert "NO_QUALIFYING_ENCOUNTER" in (row["Reasons"] or "")
            continue
        latest = seen["encounter_date"].max()
        assert pd.Timestamp(row["Encounter date"]) == latest, row["Claim"]
        assert row["Encounter site"] in set(seen.loc[seen["encounter_date"] == latest,
                                                     "site_id"])
        checked += 1
    assert checked >= 3


def test_a_tracer_claims_purchase_line_found_by_hand(sample, tracer, claims):
    purchases = _csv(sample, "drug_purchases")
    record = "Purchase record (NDC × location × account × month)"
    for row in tracer.to_dict("records"):
        site, ndc, text = row["Site"], row["NDC"], row[record]
        mine = purchases[(purchases["ndc"] == ndc) & (purchases["account"] == "340B")
                         & (purchases["month"] == MONTH)]
        if site in set(purchases["location"]):
            own = mine[mine["location"] == site]
            if own.empty:
                assert text == f"none at {site} on the 340B account in {MONTH}"
            else:
                (line,) = own.itertuples()
                quantity = float(line.quantity)
                dollars = quantity * float(line.unit_cost_actual)
                assert text == (f"{MONTH} 340B at {site}: {quantity:,.0f}"
                                f" package{'' if quantity == 1 else 's'} (${dollars:,.2f})")
        elif mine.empty:
            assert text == f"none on the 340B account in {MONTH}"
        else:
            biggest = mine.assign(dollars=mine["quantity"].astype(float)
                                  * mine["unit_cost_actual"].astype(float)).sort_values(
                ["dollars", "location"], ascending=[False, True]).iloc[0]
            assert text.startswith(f"{MONTH} 340B, every location: {biggest['location']} ")


def test_tracer_patients_are_masked_as_in_the_claim_detail(reports, tracer, claims):
    patients = set(claims["patient_id"])
    assert tracer["Patient (masked)"].str.fullmatch(r"PT-\d{6}").all()
    assert not set(tracer["Patient (masked)"]) & patients
    # A patient with two tracer claims reads the same on both; different patients differ.
    real = claims.set_index("claim_id").loc[tracer["Claim"], "patient_id"].to_numpy()
    pairs = pd.DataFrame({"real": real, "masked": tracer["Patient (masked)"].to_numpy()})
    assert pairs.groupby("real")["masked"].nunique().eq(1).all()
    assert pairs.groupby("masked")["real"].nunique().eq(1).all()
    # The same pseudonym in the claim detail for the same patient (any claim of theirs).
    listed = _detail(reports)
    listed["real"] = claims.set_index("claim_id").loc[listed["Claim ID"], "patient_id"
                                                      ].to_numpy()
    both = pairs.merge(listed[["real", "Patient (masked)"]], on="real")
    assert (both["masked"] == both["Patient (masked)"]).all()
    # No patient id anywhere in either workbook.
    for name in (package_name(pd.Period(MONTH)), detail_name(pd.Period(MONTH))):
        with zipfile.ZipFile(reports / name) as archive:
            text = " ".join(archive.read(part).decode("utf-8", "replace")
                            for part in archive.namelist())
        assert not set(re.findall(r"MRN\d+", text)) & patients, name


def test_claim_detail_rows_show_encounter_and_purchase_record(reports, claims):
    listed = _detail(reports)
    no_encounter = listed["Reasons"].fillna("").str.contains("NO_QUALIFYING_ENCOUNTER")
    assert listed.loc[no_encounter, "Qualifying encounter date"].isna().all()
    assert listed["Purchase record (NDC × location × account × month)"].notna().all()
    assert listed["What the reasons mean"].notna().all()


def test_unmasked_and_deidentified_packages_say_so(sample, tmp_path, claims):
    build_report(sample, MONTH, tmp_path / "plain", mask_patients=False)
    plain = _table(tmp_path / "plain" / package_name(pd.Period(MONTH)), "tracer_sample")
    assert "Patient (masked)" not in plain.columns
    real = claims.set_index("claim_id").loc[plain["Claim"], "patient_id"].tolist()
    assert plain["Patient ID (not masked)"].tolist() == real
    build_report(sample, MONTH, tmp_path / "shared", deidentify=True)
    package = tmp_path / "shared" / package_name(pd.Period(MONTH))
    shared = _table(package, "tracer_sample")
    assert shared["Claim"].str.fullmatch(r"CL-\d{6}").all()
    assert shared["Prescriber NPI"].str.fullmatch(r"PR-\d{6}").all()
    # Dates coarsened to the first of their month, and shown as months.
    assert all(pd.Timestamp(day).day == 1 for day in shared["Service date"])
    assert all(pd.Timestamp(day).day == 1 for day in shared["Encounter date"].dropna())
    sheet = openpyxl.load_workbook(package)["340B"]
    first = int(re.match(r"[A-Z]+(\d+)", sheet.tables["tracer_sample"].ref)[1]) + 1
    assert sheet.cell(first, 3).number_format == "mmm yyyy"
    params = _table(package, "audit_parameters").set_index("Parameter")["Value"]
    assert params["Patient masking"].startswith("de-identified")

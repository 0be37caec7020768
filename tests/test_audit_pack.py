"""`rxxl audit-pack`: the HRSA evidence pack of a period, checked against the raw data.

Each expectation is computed here from the sample's own files (parquet claims, reference
CSVs, the manifest of planted problems), not from the pack's code.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from rxxl import cli
from rxxl.errors import InputError
from rxxl.reports import audit_pack
from rxxl.reports.audit_pack import build_audit_pack, pack_name
from rxxl.reports.pack_book import CSV_FILES

FIRST, LAST = "2026-08", "2026-10"
NAME = pack_name(pd.Period(FIRST), pd.Period(LAST))
SHEETS = ["Read me", "Findings", "Exposure", "Savings", "Tracers", "Registry", "Replenishment",
          "Universe", "Parameters"]


@pytest.fixture(scope="module")
def pack(small_sample, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pack")
    build_audit_pack(small_sample[0], FIRST, LAST, out)
    return out / NAME


@pytest.fixture(scope="module")
def raw_claims(small_sample) -> pd.DataFrame:
    """The period's claims read straight from the parquet parts."""
    folder = small_sample[0] / "claims"
    frames = [pd.read_parquet(folder / f"{month}.parquet") for month in ("2026-08", "2026-09",
                                                                          "2026-10")]
    return pd.concat(frames, ignore_index=True)


def _csv(pack: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(pack / CSV_FILES[table], dtype=str, keep_default_na=False)


def test_the_pack_is_one_folder_with_the_workbook_and_every_csv(pack):
    assert sorted(p.name for p in pack.iterdir()) == sorted([f"{NAME}.xlsx",
                                                             *CSV_FILES.values()])
    assert load_workbook(pack / f"{NAME}.xlsx").sheetnames == SHEETS
    # Nothing else in the output folder: no staging folder, no lock file left.
    assert [p.name for p in pack.parent.iterdir()] == [NAME]


def test_the_universe_is_every_340b_claim_of_the_period(pack, raw_claims):
    universe = _csv(pack, "universe")
    # A 340B claim: on the 340B account, and checked (a denied pharmacy claim was never
    # dispensed; a denied medical claim was administered).
    checked = (raw_claims["status"] == "paid") | (raw_claims["claim_type"] == "medical")
    expected = raw_claims[(raw_claims["account"] == "340B") & checked]
    assert len(universe) == len(expected) > 1000
    assert sorted(universe["claim_id"]) == sorted(expected["claim_id"])
    for field in ("service_date", "entity_id", "site_id", "patient_id", "prescriber_npi",
                  "ndc", "drug_name", "quantity", "payer_type", "billing_npi", "audit_status",
                  "reasons", "dollars_at_risk"):
        assert field in universe
    by_id = expected.set_index("claim_id")
    sample = universe.head(50).set_index("claim_id")
    assert (sample["ndc"] == by_id.loc[sample.index, "ndc"]).all()
    assert np.allclose(sample["quantity"].astype(float), by_id.loc[sample.index, "quantity"])


def test_patients_are_masked_in_every_file(pack, raw_claims):
    patients = set(raw_claims["patient_id"].astype(str))
    texts = [(pack / name).read_text() for name in CSV_FILES.values()]
    with zipfile.ZipFile(pack / f"{NAME}.xlsx") as book:
        texts += [book.read(name).decode() for name in book.namelist()
                  if name.endswith(".xml")]
    for text in texts:
        tokens = set(pd.Series(text.replace(",", " ").replace("<", " ").replace(">", " ")
                               .split()).unique())
        assert not tokens & patients
    universe = _csv(pack, "universe")
    assert universe["patient_id"].str.fullmatch(r"PT-\d{6}").all()
    # One pseudonym per patient across the period (the same patient, the same pseudonym).
    period = raw_claims.set_index("claim_id").loc[universe["claim_id"], "patient_id"]
    pairs = pd.DataFrame({"patient": period.to_numpy(), "shown": universe["patient_id"]})
    assert (pairs.groupby("patient")["shown"].nunique() == 1).all()
    assert (pairs.groupby("shown")["patient"].nunique() == 1).all()


def test_tracers_are_ten_per_340b_id_drawn_the_same_every_run(pack, small_sample, tmp_path):
    tracers = _csv(pack, "tracers")
    universe = _csv(pack, "universe")
    per_entity = universe[universe["entity_id"] != ""].groupby("entity_id").size()
    drawn = tracers.groupby("entity_id").size()
    assert drawn.to_dict() == np.minimum(per_entity, 10).to_dict()
    assert set(tracers["claim_id"]) <= set(universe["claim_id"])
    again = build_audit_pack(small_sample[0], FIRST, LAST, tmp_path / "again")
    assert list(_csv(again.path, "tracers")["claim_id"]) == list(tracers["claim_id"])
    other = build_audit_pack(small_sample[0], FIRST, LAST, tmp_path / "other", seed=7)
    assert list(_csv(other.path, "tracers")["claim_id"]) != list(tracers["claim_id"])


def test_each_tracer_is_traced_to_encounter_prescriber_purchase_and_medicaid(
        pack, small_sample, raw_claims):
    folder = small_sample[0]
    tracers = _csv(pack, "tracers")
    claims = raw_claims.set_index("claim_id").loc[tracers["claim_id"]]
    encounters = pd.read_parquet(folder / "encounters.parquet")
    prescribers = pd.read_csv(folder / "prescribers.csv", dtype=str)
    compliant = (tracers["status"] == "compliant").to_numpy()
    assert compliant.sum() >= len(tracers) - 5
    for row, (claim_id, claim) in zip(tracers.itertuples(), claims.iterrows(), strict=True):
        assert row.claim_id == claim_id
        if row.status != "compliant":
            continue
        # The encounter shown is the patient's, at the site shown, within 365 days before.
        served = pd.Timestamp(claim["service_date"])
        seen = pd.Timestamp(row.encounter_date)
        assert pd.Timedelta(0) <= served - seen <= pd.Timedelta(days=365)
        visits = encounters[(encounters["patient_id"] == claim["patient_id"])
                            & (encounters["site_id"] == row.encounter_site_id)]
        assert (pd.to_datetime(visits["encounter_date"]) == seen).any()
        # The prescriber's listing for the 340B ID covers the date.
        listed = prescribers[(prescribers["npi"] == claim["prescriber_npi"])
                             & (prescribers["entity_id"] == row.entity_id)]
        starts = pd.to_datetime(listed["start_date"])
        ends = pd.to_datetime(listed["end_date"]).fillna(pd.Timestamp("2200-01-01"))
        assert ((starts <= served) & (served <= ends)).any()
        assert row.prescriber_eligibility[:10] in set(listed["start_date"])
        assert row.site_registration.split(",")[0] in {"Parent site", "Child site",
                                                       "Contract pharmacy"}
        # The accumulator's month of the claim's NDC where it was dispensed, on 340B.
        where = claim["location"] if isinstance(claim["location"], str) else claim["site_id"]
        assert row.accumulator.startswith(f"{served:%Y-%m} 340B at {where}: "), row.accumulator
        assert row.purchase_record.startswith(served.strftime("%Y-%m")) or \
            row.purchase_record.startswith("none")
        if claim["payer_type"] == "medicaid_ffs":
            assert "carve-in" in row.medicaid_status, row.medicaid_status
        elif claim["payer_type"] == "medicaid_mco":
            assert row.medicaid_status.startswith("Medicaid managed care")
        else:
            assert row.medicaid_status == "not Medicaid"


def test_every_tracer_shows_the_accumulator_row_its_units_went_to(pack):
    # A violating 340B claim accumulates off 340B (GPO, or WAC under the GPO prohibition):
    # its tracer shows that row, not "not in the accumulator".
    tracers = _csv(pack, "tracers")
    assert (tracers["status"] == "violation").any()
    assert not tracers["accumulator"].str.startswith("not in the accumulator").any(), (
        tracers.loc[tracers["accumulator"].str.startswith("not"), ["claim_id", "status"]])
    violating = tracers[tracers["status"] == "violation"]
    assert violating["accumulator"].str.contains(" (?:GPO|WAC) at ").all()


def test_replenishment_finds_the_planted_over_and_under_replenishment_only(pack, small_sample):
    planted = {entry["expected"]: entry for entry in small_sample[1]["planted"]
               if entry["id"] in ("P21", "P22")}
    found = _csv(pack, "replenishment")
    found = found[found["finding"] != ""]
    # The period opens with the balances of July: no carried units misread as findings.
    assert sorted(found["finding"]) == ["OVER_REPLENISHED", "UNDER_REPLENISHED"]
    for row in found.itertuples():
        entry = planted[row.finding]
        assert (row.ndc, row.location, row.month) == (
            entry["identifiers"]["ndc"], entry["identifiers"]["location"],
            entry["identifiers"]["month"])
        dollars = float(row.exposure_dollars) + float(row.savings_left_behind)
        assert dollars == pytest.approx(entry["details"].get(
            "exposure_dollars", entry["details"].get("savings_left_behind")))
    notes = _csv(pack, "parameters")
    assert notes["value"].str.contains("accumulator_balances of 2026-07").any() or any(
        "accumulator_balances of 2026-07" in str(cell) for row in load_workbook(
            pack / f"{NAME}.xlsx")["Read me"].iter_rows(values_only=True) for cell in row)


def test_findings_by_reason_are_the_planted_claims_of_the_period(pack, small_sample):
    manifest = small_sample[1]
    months = {"2026-08", "2026-09", "2026-10"}
    planted: dict[str, int] = {}
    for problem in manifest["planted"]:
        ids = problem.get("identifiers", {}).get("claim_ids", [])
        # Claim ids carry their service month: C + YYMM + ...
        inside = [i for i in ids if f"20{i[1:3]}-{i[3:5]}" in months]
        if inside and problem["expected"]:
            planted[problem["expected"]] = planted.get(problem["expected"], 0) + len(inside)
    findings = _csv(pack, "findings").set_index("reason")
    found = findings["claims"].astype(int)
    assert found[found > 0].to_dict() == planted
    assert len(findings) == 14  # every reason listed, zero where none fired


def test_the_workbook_recalculates_in_libreoffice_without_error_values(
        pack, libreoffice_recalculate):
    recalculated = load_workbook(libreoffice_recalculate(pack / f"{NAME}.xlsx"),
                                 data_only=True)
    for sheet in recalculated.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and value.startswith("#")
                            and value.endswith(("!", "?", "/0!", "N/A"))), (sheet.title, value)
    readme = {row[0]: row[1] for row in recalculated["Read me"].iter_rows(values_only=True)
              if row[0]}
    universe = _csv(pack, "universe")
    assert readme["340B claims in the universe"] == len(universe)
    assert readme["340B claims with a violation"] == (universe["audit_status"] == "violation").sum()
    assert readme["Tracer claims"] == len(_csv(pack, "tracers"))
    assert readme["Registry findings"] == len(_csv(pack, "registry"))
    findings = _csv(pack, "findings")
    assert readme["Dollars at stake (audit findings)"] == pytest.approx(
        findings["dollars_at_risk"].astype(float).sum())
    savings = _csv(pack, "savings").replace("", "0")
    assert readme["Net 340B savings"] == pytest.approx(savings["net_savings"].astype(float).sum())
    assert readme["Exposure (what the findings cost)"] == pytest.approx(
        _csv(pack, "exposure")["exposure_dollars"].astype(float).sum())


def test_savings_are_gross_less_fees_and_reversals_and_exposure_counts_each_claim_once(
        pack, raw_claims):
    savings = _csv(pack, "savings").replace("", "0")
    money = savings[["gross_savings", "dispensing_fees", "tpa_fees", "savings_reversed",
                     "net_savings"]].astype(float)
    assert np.allclose(money["gross_savings"] - money["dispensing_fees"] - money["tpa_fees"]
                       - money["savings_reversed"], money["net_savings"])
    # The sample writes fees on paid 340B contract-pharmacy fills: the pack's fees are theirs.
    fees = raw_claims[(raw_claims["account"] == "340B") & (raw_claims["status"] == "paid")]
    assert money["dispensing_fees"].sum() == pytest.approx(fees["dispensing_fee"].sum())
    assert money["tpa_fees"].sum() == pytest.approx(fees["tpa_fee"].sum())
    # Each claim with a finding is attributed once: claims by kind add up to the claims the
    # audit found (universe) plus the findings off 340B (GPO prohibition, MEF review).
    exposure = _csv(pack, "exposure")
    universe = _csv(pack, "universe")
    found = (universe["audit_status"] != "compliant").sum()
    findings = _csv(pack, "findings").set_index("reason")
    off_340b = findings.loc[["GPO_PROHIBITION", "MEF_CARVE_IN_NOT_340B", "MEF_CONFLICT"],
                            "claims"].astype(int).sum()
    assert exposure["claims"].astype(int).sum() == found + off_340b


def test_a_failed_run_leaves_the_earlier_pack_as_it_was(pack, small_sample, tmp_path,
                                                         monkeypatch):
    out = tmp_path / "out"
    first = build_audit_pack(small_sample[0], FIRST, LAST, out)
    before = {p.name: p.read_bytes() for p in first.path.iterdir()}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", str(args[1]))

    monkeypatch.setattr(audit_pack, "write_pack_workbook", broken)
    with pytest.raises(OSError):
        build_audit_pack(small_sample[0], FIRST, LAST, out)
    assert {p.name: p.read_bytes() for p in first.path.iterdir()} == before
    assert [p.name for p in out.iterdir()] == [NAME]


def test_a_second_run_replaces_the_pack_whole(small_sample, tmp_path):
    out = tmp_path / "out"
    build_audit_pack(small_sample[0], FIRST, LAST, out)
    (out / NAME / "stray.txt").write_text("left by hand")
    build_audit_pack(small_sample[0], FIRST, LAST, out)
    assert "stray.txt" not in {p.name for p in (out / NAME).iterdir()}
    assert [p.name for p in out.iterdir()] == [NAME]


@pytest.mark.parametrize(("first", "last", "message"), [
    ("2026-10", "2026-08", "--to 2026-08 is before --from 2026-10"),
    ("2026-13", "2026-10", "--from"),
    ("2020-01", "2020-03", "no claims from 2020-01 to 2020-03; the claims cover 2024-11 to"
     " 2026-10"),
])
def test_a_bad_period_is_refused_and_nothing_is_written(small_sample, tmp_path, first, last,
                                                        message):
    with pytest.raises(InputError, match=message):
        build_audit_pack(small_sample[0], first, last, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_pack_never_goes_into_the_data_folder(small_sample):
    with pytest.raises(InputError, match="is the data folder"):
        build_audit_pack(small_sample[0], FIRST, LAST, small_sample[0])
    with pytest.raises(InputError, match="claims"):
        build_audit_pack(small_sample[0], FIRST, LAST, small_sample[0] / "claims" / "pack")


def test_cli_audit_pack_writes_the_folder_and_exits_2_on_bad_input(small_sample, tmp_path,
                                                                    capsys):
    out = tmp_path / "cli"
    assert cli.main(["audit-pack", "--data", str(small_sample[0]), "--from", "2026-10",
                     "--to", "2026-10", "--out", str(out), "--tracers", "3"]) == 0
    printed = capsys.readouterr().out
    assert "340B audit pack 2026-10 to 2026-10" in printed and "tracers" in printed
    tracers = _csv(out / "340B audit pack 2026-10 to 2026-10", "tracers")
    assert tracers.groupby("entity_id").size().max() == 3
    assert cli.main(["audit-pack", "--data", str(tmp_path / "nowhere"), "--from", "2026-10",
                     "--to", "2026-10", "--out", str(out)]) == 2
    assert "no such data folder" in capsys.readouterr().err

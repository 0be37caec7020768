"""The 340B rules against their independent SQL version (bench/audit340b.sql), claim by claim,
on hand-built edge cases: MEF precedence and conflicts, the GPO prohibition's reach,
inpatient Medicaid, registration boundaries. The benchmark checks the same agreement on a
synthetic month; these cases are the ones a synthetic month does not contain."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rxxl.audit340b import REASONS_OFF_340B, audit_claims
from rxxl.data import load_claims_and_reference

duckdb = pytest.importorskip("duckdb")
BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import bench_audit340b  # noqa: E402  (bench/ is a folder of scripts, not a package)

DSH, CAH, PED = "DSH000001", "CAH000002", "PED000003"
NPI_DOCTOR, NPI_BILLING, NPI_OUTSIDER = "1234567893", "1558598797", "1993999998"

# The reference tables in the sample's layout (the columns in the order the query reads).
ENTITY = pd.DataFrame({
    "entity_id": [DSH, CAH, PED], "entity_type": ["DSH", "CAH", "PED"],
    "start_date": ["2020-01-01"] * 3, "end_date": ["", "", "2026-08-31"],
    "entity_name": ["A DSH", "A CAH", "A children's hospital"],
})
SITES = pd.DataFrame({
    "site_id": ["PARENT", "CLINIC", "CAH-MAIN", "CP-NONE", "PED-MAIN", "SHARED", "SHARED"],
    "entity_id": [DSH, DSH, CAH, DSH, PED, DSH, CAH],
    "site_type": ["parent", "child", "parent", "contract_pharmacy", "parent", "child", "child"],
    "start_date": ["2020-01-01", "2026-03-01", "2020-01-01", "2020-01-01", "2020-01-01",
                   "2020-01-01", "2020-01-01"],
    "end_date": ["", "2026-09-30", "", "", "", "", ""],
    "medicaid_arrangement": ["", "", "", "false", "", "", ""],
    "site_name": ["Parent", "Clinic", "CAH", "Pharmacy", "PED", "Shared", "Shared"],
})
PRESCRIBERS = pd.DataFrame({
    "npi": [NPI_DOCTOR] * 3, "entity_id": [DSH, CAH, PED],
    "start_date": ["2020-01-01"] * 3, "end_date": [""] * 3,
})
# Q3 2026: PA carves NPI_BILLING in; OH carves every NPI in but NPI_BILLING out; NY lists
# NPI_BILLING both ways and its wide rows both ways; NJ has two agreeing wide rows.
MEF = pd.DataFrame(
    [(DSH, "PA", NPI_BILLING, "", "2026-07-01", "true"),
     (DSH, "OH", "", "0123456", "2026-07-01", "true"),
     (DSH, "OH", NPI_BILLING, "", "2026-07-01", "false"),
     (DSH, "NY", NPI_BILLING, "111", "2026-07-01", "true"),
     (DSH, "NY", NPI_BILLING, "222", "2026-07-01", "false"),
     (DSH, "NY", "", "333", "2026-07-01", "true"),
     (DSH, "NY", "", "444", "2026-07-01", "false"),
     (DSH, "NJ", "", "555", "2026-07-01", "true"),
     (DSH, "NJ", "", "666", "2026-07-01", "true")],
    columns=["entity_id", "state", "billing_npi", "medicaid_number", "quarter_start",
             "carve_in"],
)
ORPHAN_DRUGS = pd.DataFrame({"ndc": ["00002759701"]})

CLEAN = {
    "service_date": "2026-09-15", "ndc": "00069015501", "drug_name": "a drug", "quantity": 10.0,
    "patient_id": "P1", "prescriber_npi": NPI_DOCTOR, "site_id": "PARENT",
    "patient_status": "outpatient", "payer": "Plan", "payer_type": "commercial",
    "payer_state": "PA", "billing_npi": NPI_BILLING, "account": "340B", "modifiers": None,
    "claim_type": "medical", "status": "paid", "billed_amount": 500.0, "paid_amount": 400.0,
    "unit_cost_340b": 20.0, "unit_cost_wac": 50.0, "entity_id": None,
}
FFS = {"payer_type": "medicaid_ffs"}
CASES = [
    {},
    {"patient_status": "inpatient"},
    {"patient_status": "observation"},
    {"prescriber_npi": NPI_OUTSIDER},
    {"patient_id": "P404"},
    {"site_id": "CLINIC", "service_date": "2026-10-01"},
    {"site_id": "NOWHERE"},
    {"site_id": "NOWHERE", "entity_id": DSH},
    {"site_id": "SHARED"},
    {"site_id": "CAH-MAIN", "patient_id": "P3", "ndc": "00002759701"},
    {"payer_type": "medicare_b"},
    {"payer_type": "medicare_b", "modifiers": "KX; jg"},
    # The Part B modifier by date of service and entity type (DSH, CAH, PED sites).
    *({"payer_type": "medicare_b", "modifiers": modifiers, "service_date": date,
       "site_id": site, "patient_id": patient}
      for date in ("2017-12-31", "2018-01-01", "2023-12-31", "2024-01-01", "2024-12-31",
                   "2025-01-01")
      for site, patient in (("PARENT", "P1"), ("CAH-MAIN", "P3"), ("PED-MAIN", "P4"))
      for modifiers in (None, "JG", "TB", "JG;TB")),
    {"claim_type": "pharmacy", "status": "denied", "patient_status": "inpatient"},
    {"site_id": "CP-NONE", "payer_type": "medicaid_mco", "claim_type": "pharmacy"},
    # MEF: specific listing, precedence, conflicts, agreeing wide rows, inpatient.
    *({**FFS, "payer_state": state, "billing_npi": npi, "account": account}
      for state in ("PA", "OH", "NY", "NJ", "TX")
      for npi in (NPI_BILLING, NPI_DOCTOR)
      for account in ("340B", "WAC")),
    {**FFS, "account": "WAC", "patient_status": "inpatient"},
    {**FFS, "patient_status": "inpatient", "service_date": "2026-03-31"},
    {**FFS, "payer_state": "OH", "patient_status": "inpatient"},
    {**FFS, "service_date": "2026-10-01"},
    # GPO: participating entity at registered sites only.
    {"account": "GPO"},
    {"account": "GPO", "patient_status": "inpatient"},
    {"account": "GPO", "site_id": "CLINIC", "service_date": "2026-09-30"},
    {"account": "GPO", "site_id": "CLINIC", "service_date": "2026-10-01"},
    {"account": "GPO", "site_id": "NOWHERE", "entity_id": DSH},
    {"account": "GPO", "site_id": "PED-MAIN", "patient_id": "P4", "service_date": "2026-08-31"},
    {"account": "GPO", "site_id": "PED-MAIN", "patient_id": "P4", "service_date": "2026-09-01"},
    {"site_id": "PED-MAIN", "patient_id": "P4", "service_date": "2026-09-01"},
    {"account": "GPO", "site_id": "CAH-MAIN", "patient_id": "P3"},
]


def _write(folder: Path) -> Path:
    for name, frame in (("entity", ENTITY), ("sites", SITES), ("prescribers", PRESCRIBERS),
                        ("mef", MEF), ("orphan_drugs", ORPHAN_DRUGS)):
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    pq.write_table(pa.table({
        "patient_id": ["P1", "P2", "P3", "P4"],
        "site_id": ["PARENT", "PARENT", "CAH-MAIN", "PED-MAIN"],
        "encounter_date": pa.array(pd.to_datetime(
            ["2025-10-01", "2026-09-30", "2026-09-01", "2026-08-01"]).date, pa.date32()),
    }), folder / "encounters.parquet")
    claims = pd.DataFrame([{**CLEAN, "claim_id": f"C{i:02d}", **case}
                           for i, case in enumerate(CASES)])
    claims["service_date"] = pd.to_datetime(claims["service_date"]).dt.date
    path = folder / "claims.parquet"
    pq.write_table(pa.Table.from_pandas(claims, preserve_index=False), path)
    return path


def test_rxxl_and_the_sql_version_agree_on_every_edge_case(tmp_path):
    claims_file = _write(tmp_path)
    ours, theirs = tmp_path / "rxxl.parquet", tmp_path / "duckdb.parquet"
    bench_audit340b.check_sql_order()
    bench_audit340b.run_duckdb(claims_file, tmp_path, theirs)
    claims, reference = load_claims_and_reference(claims_file, tmp_path)
    audit = audit_claims(claims, reference)
    audit["status"] = audit["status"].astype(str)
    audit[list(bench_audit340b.COMPARED)].to_parquet(ours, index=False)

    report = bench_audit340b.compare(ours, theirs)
    assert report["agree"], report
    assert report["claims_rxxl"] == len(CASES)
    # Not vacuous: the cases reach the rules in question, on both sides.
    assert {"MEF_CONFLICT", "MEDICAID_DUPLICATE_DISCOUNT", "MEF_CARVE_IN_NOT_340B",
            "GPO_PROHIBITION", "ENTITY_INACTIVE", "ENTITY_UNKNOWN"} <= set(report["reason_counts"])


def test_only_the_reasons_off_340b_fire_on_claims_not_on_340b(tmp_path):
    # The exception rate leaves out exactly these reasons' claims (audit_by_month).
    claims, reference = load_claims_and_reference(_write(tmp_path), tmp_path)
    audit = audit_claims(claims, reference)
    codes = audit["reasons"].str.split(";").explode()
    off = set(codes[(audit["account"] != "340B").reindex(codes.index)]) - {""}
    assert off == set(REASONS_OFF_340B)

"""Loading input tables: every source gives the same frame; every problem is named precisely."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl.worksheet.table import Table as ExcelTable

from rxxl.data import (
    DataValidationError,
    Problem,
    load_reference,
    load_table,
    validate_table,
)
from rxxl.data.contracts import REFERENCE_340B, TABLES, Column, Table
from rxxl.errors import InputError, InputTypeError

NPI_A, NPI_B, NPI_C = "1234567893", "1558598797", "1993999998"

# Valid rows of every table, written as a person would type them into a CSV.
SAMPLES: dict[str, list[dict[str, str]]] = {
    "budget_lines": [
        dict(month="2026-10", cost_center="7010", line="Drugs - inpatient", line_type="expense",
             budget="125000.00", actual="131250.50", volume_driver="adjusted patient days",
             budget_volume="5000", actual_volume="5200"),
        dict(month="2026-10", cost_center="7010", line="340B revenue", line_type="revenue",
             budget="40000", actual="", volume_driver="", budget_volume="", actual_volume=""),
        dict(month="2026-11", cost_center="07020", line="Drugs - outpatient",
             line_type="expense", budget="98000", actual="", volume_driver="",
             budget_volume="", actual_volume=""),
    ],
    "drug_purchases": [
        dict(month="2026-10", ndc="00002759701", drug_name="Olanzapine 10 mg vial",
             quantity="12", unit_cost_actual="45.10", unit_cost_budget="44.00",
             budget_quantity="10", account="GPO", location="MAIN-IP"),
        dict(month="2026-10", ndc="51655008952", drug_name="Drug B", quantity="-2",
             unit_cost_actual="10", unit_cost_budget="", budget_quantity="", account="340B",
             location="MAIN-IP"),
        dict(month="2026-10", ndc="00002759701", drug_name="Olanzapine 10 mg vial",
             quantity="3", unit_cost_actual="30", unit_cost_budget="", budget_quantity="",
             account="340B", location="INFUSION"),
    ],
    "inventory_snapshots": [
        dict(snapshot_date="2026-10-31", location="MAIN-IP", inventory_value="1250000.00",
             ndc="", quantity="", expired_value="1200.50", last_movement_date=""),
        dict(snapshot_date="2026-10-31", location="INFUSION", inventory_value="310000",
             ndc="00002759701", quantity="4", expired_value="0",
             last_movement_date="2026-09-15"),
    ],
    "capital_requests": [
        dict(request_id="CR-001", request_name="IV compounding robot", period="0",
             cash_flow="-850000", flow_type="capital", discount_rate="0.06"),
        dict(request_id="CR-001", request_name="IV compounding robot", period="1",
             cash_flow="210000", flow_type="labor_savings", discount_rate="0.06"),
        dict(request_id="CR-001", request_name="IV compounding robot", period="1",
             cash_flow="-45000", flow_type="service_cost", discount_rate="0.06"),
    ],
    "drugs": [
        dict(ndc="00002759701", drug_name="Olanzapine 10 mg vial", mony_code="N",
             marketing_category="NDA", generic_group="5915007000", therapeutic_class="CNS",
             package_size="1", budget_line="Drugs - inpatient"),
        dict(ndc="51655008952", drug_name="Drug B", mony_code="Y", marketing_category="ANDA",
             generic_group="", therapeutic_class="", package_size="", budget_line=""),
    ],
    "locations": [
        dict(location="MAIN-IP", cost_center="7010", location_name="Main inpatient pharmacy",
             replenishment="true"),
        dict(location="INFUSION", cost_center="07020", location_name="", replenishment=""),
    ],
    "claims": [
        dict(claim_id="C000001", service_date="2026-10-01", ndc="00002759701",
             drug_name="Olanzapine 10 mg vial", quantity="2", patient_id="MRN0001",
             prescriber_npi=NPI_A, site_id="S01", patient_status="outpatient",
             payer="State Medicaid", payer_type="medicaid_ffs", payer_state="NY",
             billing_npi=NPI_C, account="340B", modifiers="JG", claim_type="medical",
             status="paid", reject_code="", carc_code="", billed_amount="120.00",
             paid_amount="95.50", unit_cost_340b="20.5", unit_cost_wac="41.25",
             days_supply="", submission_clarification_code="", original_claim_id="",
             entity_id="",
             location="", dispensing_fee="", tpa_fee=""),
        dict(claim_id="C000002", service_date="2026-10-02", ndc="51655008952",
             drug_name="Drug B", quantity="30", patient_id="MRN0002", prescriber_npi=NPI_B,
             site_id="CP-7", patient_status="outpatient", payer="Acme Health",
             payer_type="commercial", payer_state="", billing_npi=NPI_C, account="WAC",
             modifiers="", claim_type="pharmacy", status="denied", reject_code="75",
             carc_code="", billed_amount="60", paid_amount="0", unit_cost_340b="",
             unit_cost_wac="", days_supply="30", submission_clarification_code="20",
             original_claim_id="", entity_id="DSH390001",
             location="", dispensing_fee="", tpa_fee=""),
        dict(claim_id="C000003", service_date="2026-10-02", ndc="51655008952",
             drug_name="Drug B", quantity="30", patient_id="MRN0002", prescriber_npi=NPI_B,
             site_id="CP-7", patient_status="outpatient", payer="Acme Health",
             payer_type="commercial", payer_state="NJ", billing_npi=NPI_C, account="WAC",
             modifiers="", claim_type="pharmacy", status="paid", reject_code="",
             carc_code="", billed_amount="60", paid_amount="48", unit_cost_340b="",
             unit_cost_wac="1.1", days_supply="30", submission_clarification_code="",
             original_claim_id="C000002", entity_id="DSH390001",
             location="RUMC-INF", dispensing_fee="12.25", tpa_fee="4.5"),
    ],
    "entity": [
        dict(entity_id="DSH390001", entity_type="DSH", start_date="2020-01-01",
             end_date="", entity_name="General Hospital"),
        dict(entity_id="CAN390003", entity_type="CAN", start_date="2021-07-01",
             end_date="2025-06-30", entity_name=""),
    ],
    "sites": [
        dict(site_id="S01", entity_id="DSH390001", site_type="parent", start_date="2020-01-01",
             end_date="", medicaid_arrangement="", site_name="Main campus"),
        dict(site_id="CP-7", entity_id="DSH390001", site_type="contract_pharmacy",
             start_date="2022-04-01", end_date="2026-12-31", medicaid_arrangement="false",
             site_name=""),
    ],
    "prescribers": [
        dict(npi=NPI_A, entity_id="DSH390001", start_date="2020-01-01", end_date=""),
        dict(npi=NPI_B, entity_id="DSH390001", start_date="2021-01-01", end_date="2026-12-31"),
    ],
    "encounters": [
        dict(patient_id="MRN0001", site_id="S01", encounter_date="2026-09-15"),
        dict(patient_id="MRN0002", site_id="S01", encounter_date="2026-08-01"),
        dict(patient_id="MRN0002", site_id="S01", encounter_date="2026-08-01"),
    ],
    "mef": [
        dict(entity_id="DSH390001", state="NY", billing_npi=NPI_C, medicaid_number="",
             quarter_start="2026-10-01", carve_in="true"),
        dict(entity_id="DSH390001", state="NY", billing_npi="", medicaid_number="MCD123",
             quarter_start="2026-10-01", carve_in="false"),
    ],
    "orphan_drugs": [dict(ndc="00002759701"), dict(ndc="58118139703")],
    "accumulator_balances": [
        dict(month="2026-09", ndc="00006148230", location="RUMC-INF", account="340B",
             units_carried="7.5"),
        dict(month="2026-09", ndc="00006148230", location="RUMC-INF", account="GPO",
             units_carried="-10"),
    ],
}


def text_frame(name: str) -> pd.DataFrame:
    return pd.DataFrame(SAMPLES[name], dtype=object)


def typed_frame(name: str) -> pd.DataFrame:
    """The sample with cells typed as Excel or a typed Parquet file would hold them."""
    frame = text_frame(name)
    out = {}
    for column in TABLES[name].columns:
        values = frame[column.name].replace("", None)
        if column.kind in ("date", "month", "quarter"):
            out[column.name] = pd.to_datetime(values, format="mixed")
        elif column.kind in ("money", "number"):
            out[column.name] = pd.to_numeric(values).astype(float)
        elif column.kind == "integer":
            out[column.name] = pd.to_numeric(values).astype("Int64")
        elif column.kind == "flag":
            out[column.name] = values.map({"true": True, "false": False}).astype("boolean")
        else:
            out[column.name] = values
    return pd.DataFrame(out)


# --- writers: one per kind of source -----------------------------------------------------------


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def _cell(value):
    if value is None or value is pd.NA or value is pd.NaT or (
            isinstance(value, float) and np.isnan(value)) or value == "":
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return value


def write_sheet(frame: pd.DataFrame, path: Path, sheet: str = "Data") -> Path:
    """Header on sheet row 2 (row 1 left empty), data from row 3."""
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active["A1"] = "read me first"
    worksheet = book.create_sheet(sheet)
    worksheet.append([])
    worksheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        worksheet.append([_cell(v) for v in row])
    book.save(path)
    return path


def write_excel_table(frame: pd.DataFrame, path: Path, name: str = "tblData") -> Path:
    """An Excel table whose header is on row 3, from column B, under a title."""
    book = openpyxl.Workbook()
    worksheet = book.active
    worksheet.title = "Report"
    worksheet["A1"] = "Title of the report"
    for j, header in enumerate(frame.columns):
        worksheet.cell(row=3, column=2 + j, value=header)
    for i, row in enumerate(frame.itertuples(index=False)):
        for j, value in enumerate(row):
            worksheet.cell(row=4 + i, column=2 + j, value=_cell(value))
    last = openpyxl.utils.get_column_letter(1 + len(frame.columns))
    worksheet.add_table(ExcelTable(displayName=name, ref=f"B3:{last}{3 + len(frame)}"))
    book.save(path)
    return path


def write_parts(frame: pd.DataFrame, folder: Path, suffix: str) -> Path:
    folder.mkdir()
    half = len(frame) // 2
    writer = write_parquet if suffix == ".parquet" else write_csv
    writer(frame.iloc[half:], folder / f"2026-10{suffix}")
    writer(frame.iloc[:half], folder / f"2026-09{suffix}")
    (folder / "_SUCCESS").write_text("")
    return folder


SOURCES = ["csv", "parquet", "sheet", "excel_table", "dataframe", "parquet_parts", "csv_parts",
           "typed_parquet", "typed_sheet", "typed_dataframe", "typed_object_dataframe"]


def load_from(kind: str, frame: pd.DataFrame, table: str, tmp_path: Path) -> pd.DataFrame:
    if kind == "csv":
        return load_table(write_csv(frame, tmp_path / "t.csv"), table)
    if kind in ("parquet", "typed_parquet"):
        return load_table(write_parquet(frame, tmp_path / "t.parquet"), table)
    if kind in ("sheet", "typed_sheet"):
        return load_table(write_sheet(frame, tmp_path / "t.xlsx"), table, sheet="Data")
    if kind == "excel_table":
        return load_table(write_excel_table(frame, tmp_path / "t.xlsx"), table,
                          excel_table="tblData")
    if kind in ("dataframe", "typed_dataframe"):
        return load_table(frame, table)
    if kind == "typed_object_dataframe":
        # As xlwings hands a range over: Python floats, datetimes and None in object columns.
        cells = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
        return load_table(pd.DataFrame(cells, columns=frame.columns, dtype=object), table)
    if kind == "parquet_parts":
        return load_table(write_parts(frame, tmp_path / "parts", ".parquet"), table)
    return load_table(write_parts(frame, tmp_path / "parts", ".csv"), table)


# --- every table from every source -------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("table", list(SAMPLES))
def test_every_table_loads_identically_from_every_source(table, source, tmp_path):
    frame = typed_frame(table) if source.startswith("typed") else text_frame(table)
    expected = validate_table(text_frame(table), table)
    got = load_from(source, frame, table, tmp_path)
    pd.testing.assert_frame_equal(got, expected)


def test_samples_cover_every_table():
    assert set(SAMPLES) == set(TABLES)


_DTYPES = {
    "code": "string", "text": "string", "ndc": "string", "npi": "string", "state": "string",
    "date": "datetime64[us]", "month": "datetime64[us]", "quarter": "datetime64[us]",
    "money": "float64", "number": "float64", "integer": "Int64", "flag": "boolean",
}


@pytest.mark.parametrize("table", list(SAMPLES))
def test_columns_and_dtypes_follow_the_contract(table):
    got = validate_table(text_frame(table), table)
    contract = TABLES[table]
    assert list(got.columns) == [c.name for c in contract.columns]
    assert isinstance(got.index, pd.RangeIndex)
    for column in contract.columns:
        dtype = got[column.name].dtype
        if column.kind == "choice":
            assert isinstance(dtype, pd.CategoricalDtype)
            assert list(dtype.categories) == list(column.choices)
        else:
            assert str(dtype) == _DTYPES[column.kind], column.name


def test_normalized_values(tmp_path):
    claims = load_table(write_csv(text_frame("claims"), tmp_path / "c.csv"), "claims")
    first = claims.iloc[0]
    assert first["ndc"] == "00002759701" and first["prescriber_npi"] == NPI_A
    assert first["service_date"] == pd.Timestamp("2026-10-01")
    assert first["paid_amount"] == 95.5 and first["account"] == "340B"
    assert claims["days_supply"].tolist()[1:] == [30, 30] and claims["days_supply"].isna()[0]
    assert claims["payer_state"].isna().tolist() == [False, True, False]
    budget = validate_table(text_frame("budget_lines"), "budget_lines")
    assert budget["cost_center"].tolist() == ["7010", "7010", "07020"]  # leading zero kept
    assert budget["month"].tolist() == [pd.Timestamp("2026-10-01")] * 2 + [
        pd.Timestamp("2026-11-01")]


# --- accepted forms ----------------------------------------------------------------------------


def _entity(start_dates: list) -> pd.DataFrame:
    n = len(start_dates)
    return pd.DataFrame({"entity_id": [f"E{i}" for i in range(n)], "entity_type": ["DSH"] * n,
                         "start_date": start_dates, "end_date": [None] * n})


def test_date_forms():
    day = pd.Timestamp("2026-10-31")
    forms = ["2026-10-31", "10/31/2026", "46326", 46326, 46326.75, "46326.5",
             "2026-10-31 13:45", "2026-10-31T13:45:00", "10/31/2026 1:45 PM",
             dt.date(2026, 10, 31), dt.datetime(2026, 10, 31, 13, 45), day,
             np.datetime64("2026-10-31T08:00"), " 2026-10-31 ", "2026-10-31T13:45:00Z"]
    got = validate_table(_entity(forms), "entity")
    assert got["start_date"].tolist() == [day] * len(forms)


def test_typed_datetime_columns_drop_the_time_of_day_and_zone():
    stamps = pd.Series(pd.to_datetime(["2026-10-31 23:30", "2026-11-01 00:15"]))
    got = validate_table(_entity(list(stamps)), "entity")
    assert got["start_date"].tolist() == [pd.Timestamp("2026-10-31"),
                                          pd.Timestamp("2026-11-01")]
    zoned = _entity([None, None])
    zoned["start_date"] = stamps.dt.tz_localize("America/New_York")
    got = validate_table(zoned, "entity")
    assert got["start_date"].tolist() == [pd.Timestamp("2026-10-31"),
                                          pd.Timestamp("2026-11-01")]


def test_excel_serials_follow_excel():
    got = validate_table(_entity([1, 59, 61, 45658, 2958465]), "entity")
    assert got["start_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "1900-01-01", "1900-02-28", "1900-03-01", "2025-01-01", "9999-12-31"]


def test_month_forms():
    frame = pd.DataFrame([dict(SAMPLES["budget_lines"][0], month=m, line=f"L{i}") for i, m in
                          enumerate(["2026-10", "2026-10-15", "10/31/2026", 46296,
                                     dt.datetime(2026, 10, 9)])])
    got = validate_table(frame, "budget_lines")
    assert got["month"].tolist() == [pd.Timestamp("2026-10-01")] * 5


def test_quarter_forms():
    frame = pd.DataFrame([dict(SAMPLES["mef"][0], quarter_start=q, state=s) for q, s in
                          [("2026-10-01", "NY"), ("01/01/2027", "NJ"), ("2026-04-01", "CT")]])
    got = validate_table(frame, "mef")
    assert got["quarter_start"].dt.strftime("%m-%d").tolist() == ["10-01", "01-01", "04-01"]


def test_flag_forms():
    values = ["true", "FALSE", "Yes", "no", "y", "N", "1", "0", True, False, 1, 0.0, " t rue"]
    expected = [True, False, True, False, True, False, True, False, True, False, True, False]
    frame = pd.DataFrame([dict(SAMPLES["mef"][0], quarter_start=f"{2000 + i}-01-01",
                               carve_in=v) for i, v in enumerate(values)])
    with pytest.raises(DataValidationError) as caught:
        validate_table(frame, "mef")
    assert caught.value.total == 1 and '" t rue"' not in caught.value.problems[0].message
    assert '"t rue" is not true or false' in caught.value.problems[0].message
    got = validate_table(frame.iloc[:-1], "mef")
    assert got["carve_in"].tolist() == expected


def test_number_forms():
    amounts = ["1234.5", "1,234.50", "$1,234.50", "-$5", "$-5", "(1,234.50)", " 12 ", "1e3",
               ".5", "-0.25", 7, 7.25, "+3", "$ 2,000,000"]
    expected = [1234.5, 1234.5, 1234.5, -5, -5, -1234.5, 12, 1000, .5, -.25, 7, 7.25, 3, 2e6]
    frame = pd.DataFrame([dict(SAMPLES["budget_lines"][0], line=f"L{i}", budget=a)
                          for i, a in enumerate(amounts)])
    got = validate_table(frame, "budget_lines")
    assert got["budget"].tolist() == expected
    rates = pd.DataFrame([dict(SAMPLES["capital_requests"][0], period=str(i), discount_rate=r)
                          for i, r in enumerate(["6%", "6.5 %", "0.06", "1,000"])])
    got = validate_table(rates, "capital_requests")
    assert got["discount_rate"].tolist() == pytest.approx([0.06, 0.065, 0.06, 1000])
    periods = pd.DataFrame([dict(SAMPLES["capital_requests"][0], period=p, flow_type=str(i))
                            for i, p in enumerate(["1,000", "30.0", 2, 3.0, " 4 "])])
    assert validate_table(periods, "capital_requests")["period"].tolist() == [1000, 30, 2, 3, 4]


@pytest.mark.parametrize(("column", "value", "kind"), [
    ("budget", "1.234,5", "not a number"),
    ("budget", "1,23", "not a number"),
    ("budget", "12 34", "not a number"),
    ("budget", "abc", "not a number"),
    ("budget", "6%", "not a number"),      # percent is for rates, not dollars
    ("budget", "(-5)", "not a number"),
    ("budget", "nan", "not a number"),
    ("budget", "inf", "not a number"),
    ("budget_volume", "$5", "not a number"),   # dollars are for money columns
    ("budget_volume", "-1", "below the minimum of 0"),
])
def test_unparsable_numbers(column, value, kind):
    frame = pd.DataFrame([dict(SAMPLES["budget_lines"][0], **{column: value})])
    with pytest.raises(DataValidationError) as caught:
        validate_table(frame, "budget_lines")
    assert kind in caught.value.problems[0].message


def test_choices_and_states_are_stored_in_their_listed_spelling():
    frame = pd.DataFrame([dict(SAMPLES["claims"][0], patient_status=" OutPatient ",
                               payer_type="Medicaid_FFS", account="340b", payer_state="ny")])
    got = validate_table(frame, "claims")
    assert got.loc[0, ["patient_status", "payer_type", "account", "payer_state"]].tolist() == [
        "outpatient", "medicaid_ffs", "340B", "NY"]


def test_numbers_typed_by_excel_in_code_ndc_and_npi_columns(tmp_path):
    frame = typed_frame("claims")
    frame["ndc"] = [2759701, 51655008952, 51655008952.0]
    frame["prescriber_npi"] = [int(NPI_A), float(NPI_B), NPI_B]
    frame["site_id"] = [101, 7, "CP-7"]
    got = load_table(write_sheet(frame, tmp_path / "c.xlsx"), "claims", sheet="Data")
    assert got["ndc"].tolist() == ["00002759701", "51655008952", "51655008952"]
    assert got["prescriber_npi"].tolist() == [NPI_A, NPI_B, NPI_B]
    assert got["site_id"].tolist() == ["101", "7", "CP-7"]


def test_ten_digit_numbers_in_an_ndc_column_are_refused(tmp_path):
    frame = typed_frame("orphan_drugs")
    frame["ndc"] = [1234567890, 58118139703]
    with pytest.raises(DataValidationError) as caught:
        load_table(write_sheet(frame, tmp_path / "o.xlsx"), "orphan_drugs", sheet="Data")
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (3, "ndc")
    assert "10-digit number" in problem.message and "(cell A3)" in problem.message


def test_text_is_trimmed_but_otherwise_kept():
    frame = text_frame("drugs")
    frame.loc[0, "drug_name"] = "  =HYPERLINK(\"x\")  Olanzapine\u00ae "
    got = validate_table(frame, "drugs")
    assert got.loc[0, "drug_name"] == "=HYPERLINK(\"x\")  Olanzapine\u00ae"


# --- shape of the returned frame ---------------------------------------------------------------


def test_extra_columns_are_dropped_and_optional_columns_added(tmp_path):
    frame = text_frame("claims").drop(columns=["modifiers", "entity_id", "days_supply"])
    frame["internal_note"] = "x"
    frame = frame[["internal_note", *reversed(frame.columns[:-1])]]  # any column order
    got = load_table(write_csv(frame, tmp_path / "c.csv"), "claims")
    assert list(got.columns) == [c.name for c in TABLES["claims"].columns]
    assert got["modifiers"].isna().all() and got["modifiers"].dtype == "string"
    assert got["days_supply"].isna().all() and got["days_supply"].dtype == "Int64"


def test_column_names_match_without_case_and_spaces(tmp_path):
    frame = text_frame("prescribers").rename(columns=lambda c: f"  {c.upper()} ")
    got = load_table(write_csv(frame, tmp_path / "p.csv"), "prescribers")
    assert got["npi"].tolist() == [NPI_A, NPI_B]


def test_an_empty_table_has_the_contract_columns(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("ndc\n")
    got = load_table(path, "orphan_drugs")
    assert len(got) == 0 and list(got.columns) == ["ndc"] and got["ndc"].dtype == "string"


def test_csv_encodings(tmp_path):
    frame = text_frame("drugs")
    frame.loc[0, "drug_name"] = "Caf\u00e9 \u00ae 5 mg"
    for encoding in ("utf-8", "utf-8-sig", "cp1252"):
        path = tmp_path / f"{encoding}.csv"
        frame.to_csv(path, index=False, encoding=encoding)
        assert load_table(path, "drugs").loc[0, "drug_name"] == "Caf\u00e9 \u00ae 5 mg"


# --- problems: each kind names source, row, column and the expected form -----------------------

# (table, column, bad value, words the message must hold)
PROBLEM_CASES = [
    ("claims", "claim_id", "", "claim_id is required"),
    ("claims", "service_date", "31/10/2026", "write a date as 2026-10-31, 10/31/2026"),
    ("claims", "service_date", "2026-02-30", "no real date (no such month or day)"),
    ("claims", "service_date", "10/31/26", "not a date"),
    ("claims", "service_date", "2026", "looks like a year"),
    ("claims", "service_date", "60", "phantom 1900-02-29"),
    ("claims", "service_date", "3000000", "not an Excel date serial"),
    # Claims hold patients: a cell is shown by its form, and nothing is computed from it.
    ("claims", "service_date", "20261031", '"99999999" looks like a date written as YYYYMMDD;'
     " write it as YYYY-MM-DD"),
    ("entity", "start_date", "20261031", '"20261031" looks like a date written as YYYYMMDD;'
     " write it as 2026-10-31"),
    ("claims", "service_date", "", "service_date is required; write a date"),
    ("claims", "ndc", "0002759701", "10 digits without dashes"),
    ("claims", "ndc", "2759701", '"9999999" has only 7 digits; if a spreadsheet dropped its'
     " leading zeros, write it with zeros in front up to 11 digits"),
    ("orphan_drugs", "ndc", "2759701", "the 11-digit code is 00002759701"),
    ("claims", "ndc", "0002-75970-1", "dashes in the wrong places"),
    ("claims", "quantity", "abc", 'a value of the form "aaa" is not a number; write a number'),
    ("drugs", "package_size", "abc", '"abc" is not a number; write a number'),
    ("claims", "quantity", "-1", "below the minimum of 0"),
    ("claims", "prescriber_npi", "1234567890", "fails the NPI check digit"),
    ("claims", "prescriber_npi", "123456789", "is not 10 digits"),
    ("claims", "patient_status", "ER", "write one of outpatient, inpatient, observation"),
    ("claims", "payer_state", "XX", "not a US state"),
    ("claims", "billed_amount", "1.234,00", "write an amount in dollars"),
    ("claims", "days_supply", "7.5", "not a whole number; write a whole number"),
    ("claims", "days_supply", "-3", "below the minimum of 0"),
    ("sites", "medicaid_arrangement", "maybe", "write true or false (also yes/no"),
    ("mef", "quarter_start", "2026-11-01", "not the first day of a calendar quarter"),
    ("mef", "quarter_start", "2026-10-02", "not the first day of a calendar quarter"),
    ("budget_lines", "month", "2026-13", "no such month"),
    ("budget_lines", "month", "Oct-2026", "write a month as 2026-10"),
]


def _corrupt(table: str, column: str, value: str, at: int = 1) -> pd.DataFrame:
    frame = text_frame(table)
    frame.loc[at, column] = value
    return frame


@pytest.mark.parametrize(("table", "column", "value", "words"), PROBLEM_CASES)
def test_each_problem_kind_in_a_csv_names_line_column_and_form(table, column, value, words,
                                                               tmp_path):
    path = write_csv(_corrupt(table, column, value), tmp_path / f"{table}.csv")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, table)
    error = caught.value
    assert error.total == 1, str(error)
    problem = error.problems[0]
    assert (problem.source, problem.row, problem.column) == (str(path), 3, column)
    assert problem.message.startswith(f'{path}, line 3, column "{column}": ')
    assert words in problem.message
    assert str(problem) == problem.message and problem.message in str(error)


@pytest.mark.parametrize(("table", "column", "value", "words"), PROBLEM_CASES[::3])
def test_each_problem_kind_in_a_sheet_names_the_sheet_row(table, column, value, words,
                                                          tmp_path):
    path = write_sheet(_corrupt(table, column, value), tmp_path / f"{table}.xlsx")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, table, sheet="Data")
    problem = caught.value.problems[0]
    letter = openpyxl.utils.get_column_letter(list(SAMPLES[table][0]).index(column) + 1)
    assert (problem.row, problem.column) == (4, column)  # header on row 2, so row 4
    assert problem.message.startswith(
        f'{path}, sheet "Data", row 4, column "{column}" (cell {letter}4): ')
    assert words in problem.message


def test_parquet_and_dataframe_rows_are_positions(tmp_path):
    frame = _corrupt("claims", "ndc", "abc", at=2)
    path = write_parquet(frame, tmp_path / "c.parquet")
    for source, name in ((path, str(path)), (frame, "DataFrame")):
        with pytest.raises(DataValidationError) as caught:
            load_table(source, "claims")
        assert caught.value.problems[0].message.startswith(f'{name}, row 3, column "ndc": ')


def test_excel_table_rows_are_sheet_rows(tmp_path):
    path = write_excel_table(_corrupt("claims", "quantity", "x", at=2), tmp_path / "c.xlsx")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "claims", excel_table="TBLDATA")
    problem = caught.value.problems[0]
    assert problem.row == 6  # header on row 3, third data row
    assert problem.message.startswith(f'{path}, table "tblData", row 6, column "quantity"'
                                      ' (cell F6): a value of the form "a" is not a number')


def test_csv_line_numbers_count_blank_lines_and_line_breaks_in_values(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text('ndc,note\n\n00002759701,"two\nlines"\n\nbad,x\n00002759701,x\n')
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "orphan_drugs")
    rows = {p.row for p in caught.value.problems}
    assert rows == {6, 7}  # "bad" on line 6; the repeat of 00002759701 on line 7
    assert "appears on lines 3 and 7" in str(caught.value)


def test_csv_lines_with_the_wrong_number_of_fields(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("ndc,note\n00002759701,a\n58118139703\n58118-1397-3,b,c\n")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "orphan_drugs")
    messages = [p.message for p in caught.value.problems]
    assert [p.row for p in caught.value.problems] == [3, 4]
    assert "line 3 has 1 fields where the header has 2" in messages[0]
    assert "line 4 has 3 fields" in messages[1]


def test_an_unclosed_quote_is_a_problem_not_lost_rows(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text('ndc,note\n00002759701,"12 ruler\n58118139703,x\n51655008952,y\n')
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "orphan_drugs")
    problem = caught.value.problems[0]
    assert problem.row == 2 and "a quoted value opens on line 2 and is never closed" in str(
        problem)
    path.write_text('ndc,note\n00002759701,12" ruler\n58118139703,x\n')  # a stray inch mark
    assert len(load_table(path, "orphan_drugs")) == 2


def test_blank_sheet_rows_are_skipped_and_rows_keep_their_numbers(tmp_path):
    path = tmp_path / "o.xlsx"
    book = openpyxl.Workbook()
    for row in (["ndc"], ["00002759701"], [None], ["   "], ["bad"]):
        book.active.append(row)
    book.save(path)
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "orphan_drugs")
    assert caught.value.total == 1 and caught.value.problems[0].row == 5


def test_missing_column_names_what_was_found_and_a_close_match(tmp_path):
    frame = text_frame("claims").rename(columns={"prescriber_npi": "prescriber npi"})
    path = write_csv(frame.drop(columns=["billing_npi"]), tmp_path / "claims.csv")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "claims")
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [(None, "prescriber_npi"),
                                                      (None, "billing_npi")]
    assert problems[0].message.startswith(
        f'{path}: column "prescriber_npi" is missing (found: claim_id, service_date, ndc,')
    assert 'did you mean "prescriber npi"?' in problems[0].message


def test_a_column_given_twice_is_a_problem(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("NDC,ndc \n00002759701,00002759701\n")
    with pytest.raises(DataValidationError, match=r'column "ndc" appears more than once'
                                                  r' \("NDC", "ndc "\)'):
        load_table(path, "orphan_drugs")


def test_duplicate_keys_of_claims_name_every_row_but_not_the_value(tmp_path):
    frame = pd.concat([text_frame("claims")] * 3, ignore_index=True)
    frame["claim_id"] = [f"C{i:06d}" for i in range(len(frame))]
    frame.loc[[2, 5, 8], "claim_id"] = "C000123"
    path = write_csv(frame, tmp_path / "claims.csv")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "claims")
    assert caught.value.total == 1
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (7, "claim_id")
    assert problem.message == (
        f'{path}, line 7, column "claim_id": one claim_id appears on lines 4, 7 and 10;'
        " each claim_id may appear once: remove the repeated rows or correct their values")


def test_duplicate_keys_are_compared_after_normalizing(tmp_path):
    frame = pd.DataFrame({"ndc": ["00002759701", "0002-7597-01", "00002-7597-01"]})
    with pytest.raises(DataValidationError, match='ndc "00002759701" appears on rows 1, 2 and'
                                                  " 3"):
        validate_table(frame, "orphan_drugs")


def test_duplicate_keys_across_parts_name_each_part(tmp_path):
    frame = pd.concat([text_frame("orphan_drugs")] * 2, ignore_index=True)
    frame.loc[3, "ndc"] = "11111111111"
    folder = write_parts(frame, tmp_path / "orphans", ".parquet")
    with pytest.raises(DataValidationError) as caught:
        load_table(folder, "orphan_drugs")
    problem = caught.value.problems[0]
    assert problem.source == str(folder / "2026-10.parquet") and problem.row == 1
    assert (f'ndc "00002759701" appears on {folder / "2026-09.parquet"} row 1 and'
            f' {folder / "2026-10.parquet"} row 1') in problem.message


def test_a_multi_column_key(tmp_path):
    frame = pd.concat([text_frame("sites"), text_frame("sites").iloc[[0]]], ignore_index=True)
    with pytest.raises(DataValidationError) as caught:
        validate_table(frame, "sites")
    problem = caught.value.problems[0]
    assert problem.column == "site_id, entity_id, start_date" and problem.row == 3
    assert ('the key (site_id, entity_id, start_date) = ("S01", "DSH390001", 2020-01-01)'
            " appears on rows 1 and 3") in problem.message


def test_blank_key_parts_count_as_equal():
    frame = pd.DataFrame([SAMPLES["mef"][1]] * 2)
    with pytest.raises(DataValidationError, match=r"= \(\"DSH390001\", \"NY\", \(blank\),"):
        validate_table(frame, "mef")


def test_end_before_start(tmp_path):
    path = write_csv(_corrupt("entity", "end_date", "2021-06-30"), tmp_path / "entity.csv")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "entity")
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (3, "end_date")
    assert problem.message == (
        f'{path}, line 3, column "end_date": end_date 2021-06-30 is before start_date'
        " 2021-07-01; correct one of them (end_date is on or after start_date, or blank while"
        " open)")


def test_one_of_group_left_empty(tmp_path):
    path = write_csv(_corrupt("mef", "medicaid_number", ""), tmp_path / "mef.csv")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "mef")
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (3, "billing_npi, medicaid_number")
    assert problem.message == (f"{path}, line 3, columns billing_npi, medicaid_number:"
                               " billing_npi and medicaid_number are both blank; fill in"
                               " billing_npi or medicaid_number")


def test_all_problems_of_a_file_come_at_once_in_file_order(tmp_path):
    frame = text_frame("claims")
    frame.loc[2, "ndc"] = "x"
    frame.loc[0, "quantity"] = "-5"
    frame.loc[0, "claim_id"] = ""
    frame.loc[1, "claim_id"] = "C000003"
    frame.loc[1, "payer_type"] = "cash"
    path = write_csv(frame.drop(columns=["status"]), tmp_path / "claims.csv")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "claims")
    found = [(p.row, p.column) for p in caught.value.problems]
    assert found == [(None, "status"), (2, "claim_id"), (2, "quantity"), (3, "payer_type"),
                     (4, "ndc"), (4, "claim_id")]
    assert caught.value.total == 6
    assert str(caught.value).startswith("6 problems found; nothing was loaded.")


def test_max_problems_bounds_the_list_and_total_counts_all(tmp_path):
    frame = pd.DataFrame({"ndc": [f"bad{i}" for i in range(120)]})
    path = write_csv(frame, tmp_path / "o.csv")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "orphan_drugs", max_problems=10)
    error = caught.value
    assert len(error.problems) == 10 and error.total == 120
    assert [p.row for p in error.problems] == list(range(2, 12))
    assert str(error).endswith("  ... and 110 more problems")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "orphan_drugs")
    assert len(caught.value.problems) == 50 and caught.value.total == 120


def test_max_problems_must_be_positive():
    with pytest.raises(InputError, match="max_problems"):
        validate_table(text_frame("drugs"), "drugs", max_problems=0)
    with pytest.raises(InputTypeError, match="max_problems"):
        validate_table(text_frame("drugs"), "drugs", max_problems=2.5)


def test_validation_error_is_an_input_error_and_pickles():
    error = DataValidationError([Problem("a.csv", 2, "ndc", "a.csv, line 2: bad")], 3)
    assert isinstance(error, InputError) and isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and copy.total == 3 and str(copy) == str(error)


# --- PHI ---------------------------------------------------------------------------------------

SECRET = "MRN-SECRET-4711"
PHI_TABLE = Table(
    "visits", "A made-up table with PHI in a key and in a date column.",
    (Column("patient_id", "code", "Patient.", phi=True),
     Column("birth_date", "date", "Date of birth.", phi=True),
     Column("visit_date", "date", "Visit.")),
    key=("patient_id", "visit_date"),
)


def test_phi_never_appears_in_messages(tmp_path):
    frame = pd.DataFrame({"patient_id": [SECRET, SECRET, "MRN-2"],
                          "birth_date": ["1980-01-01", "1980-01-01", SECRET],
                          "visit_date": ["2026-10-01", "2026-10-01", "2026-10-02"]})
    path = write_csv(frame, tmp_path / "visits.csv")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, PHI_TABLE)
    error = caught.value
    assert error.total == 2
    text = str(error) + " ".join(repr(p) for p in error.problems)
    assert SECRET not in text and "MRN-2" not in text
    # The PHI column's cell is hidden; the key names no value of a table of patients.
    assert str(error).count("(value hidden: patient identifier)") == 1
    assert "one combination of patient_id, visit_date appears on lines 2 and 3" in str(error)
    assert error.__cause__ is None and error.__context__ is None


def test_claims_patient_id_is_phi():
    assert TABLES["claims"].column("patient_id").phi


# --- sources -----------------------------------------------------------------------------------


def test_parts_are_read_in_name_order(tmp_path):
    frame = text_frame("claims")
    folder = write_parts(frame, tmp_path / "claims", ".parquet")
    got = load_table(folder, "claims")
    assert got["claim_id"].tolist() == ["C000001", "C000002", "C000003"]


def test_problems_in_parts_name_the_part_and_its_own_rows(tmp_path):
    frame = text_frame("claims")
    frame.loc[2, "ndc"] = "x"  # the second row of 2026-10.csv
    folder = write_parts(frame, tmp_path / "claims", ".csv")
    with pytest.raises(DataValidationError) as caught:
        load_table(folder, "claims")
    problem = caught.value.problems[0]
    assert problem.source == str(folder / "2026-10.csv") and problem.row == 3
    assert problem.message.startswith(f'{folder / "2026-10.csv"}, line 3, column "ndc"')


def test_parts_may_differ_in_optional_columns(tmp_path):
    folder = tmp_path / "claims"
    folder.mkdir()
    frame = text_frame("claims")
    write_parquet(frame.iloc[:1].drop(columns=["modifiers"]), folder / "a.parquet")
    write_parquet(frame.iloc[1:], folder / "b.parquet")
    got = load_table(folder, "claims")
    expected = validate_table(frame.assign(modifiers=["", "", ""]), "claims")
    pd.testing.assert_frame_equal(got, expected)


def test_mixed_or_empty_directories(tmp_path):
    folder = tmp_path / "claims"
    folder.mkdir()
    with pytest.raises(DataValidationError, match="holds no .parquet or .csv parts"):
        load_table(folder, "claims")
    write_csv(text_frame("claims"), folder / "a.csv")
    write_parquet(text_frame("claims"), folder / "b.parquet")
    with pytest.raises(DataValidationError, match="mixes .parquet and .csv"):
        load_table(folder, "claims")


def test_unreadable_sources(tmp_path):
    with pytest.raises(DataValidationError, match="no such file or directory"):
        load_table(tmp_path / "nowhere.csv", "claims")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataValidationError, match=r"save it as \.xlsx"):
        load_table(tmp_path / "old.xls", "claims")
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataValidationError, match="cannot be read as Parquet"):
        load_table(tmp_path / "x.parquet", "claims")
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(DataValidationError, match="cannot be read as an Excel workbook"):
        load_table(tmp_path / "x.xlsx", "claims")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(DataValidationError, match=r"not a \.csv, \.parquet or \.xlsx"):
        load_table(tmp_path / "x.json", "claims")


def test_wrong_arguments():
    with pytest.raises(InputError, match="not an rxxl input table; expected one of"):
        load_table(text_frame("claims"), "claim")
    with pytest.raises(InputTypeError, match="a path or a pandas DataFrame"):
        load_table([1, 2], "claims")
    with pytest.raises(InputError, match="sheet and excel_table apply to .xlsx"):
        load_table(text_frame("claims"), "claims", sheet="Data")


def test_sheet_and_table_lookup(tmp_path):
    path = write_sheet(text_frame("drugs"), tmp_path / "d.xlsx", sheet="Drug List")
    assert len(load_table(path, "drugs", sheet=" drug list ")) == 2
    with pytest.raises(DataValidationError, match=r'no sheet "Drugs" \(sheets: "Notes",'
                                                  r' "Drug List"\)'):
        load_table(path, "drugs", sheet="Drugs")
    with pytest.raises(DataValidationError, match=r'no Excel table "tblDrugs" \(tables: none\)'):
        load_table(path, "drugs", excel_table="tblDrugs")
    with pytest.raises(DataValidationError, match='column "ndc" is missing'):
        load_table(path, "drugs")  # the first sheet holds notes, not the table


# --- the 340B reference folder -----------------------------------------------------------------


def _reference_folder(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    for i, table in enumerate(REFERENCE_340B):
        frame = text_frame(table.name)
        if i % 3 == 0:
            write_csv(frame, folder / f"{table.name}.csv")
        elif i % 3 == 1:
            write_parquet(frame, folder / f"{table.name}.parquet")
        else:
            write_parts(frame, folder / table.name, ".parquet")
    return folder


def test_load_reference(tmp_path):
    tables = load_reference(_reference_folder(tmp_path / "ref"))
    assert list(tables) == [t.name for t in REFERENCE_340B]
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, validate_table(text_frame(name), name))


def test_load_reference_reports_every_table_at_once(tmp_path):
    folder = _reference_folder(tmp_path / "ref")
    (folder / "entity.csv").unlink()
    write_csv(text_frame("prescribers"), folder / "prescribers.csv")  # beside prescribers/
    write_parquet(text_frame("orphan_drugs"), folder / "mef.parquet")  # the wrong table
    with pytest.raises(DataValidationError) as caught:
        load_reference(folder)
    messages = [p.message for p in caught.value.problems]
    assert messages[0] == (f"{folder / 'entity'}: no entity.csv, entity.parquet or entity/"
                           " directory; add the table there")
    assert messages[1] == (f"{folder / 'prescribers'}: both prescribers.csv and"
                           " prescribers/ hold prescribers; keep one")
    assert f'{folder / "mef.parquet"}: column "entity_id" is missing' in messages[2]
    assert caught.value.total == len(messages) == 2 + 6  # mef lacks its 6 columns


def test_load_reference_bounds_problems_over_all_tables(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(DataValidationError) as caught:
        load_reference(folder, max_problems=2)
    assert len(caught.value.problems) == 2 and caught.value.total == 6
    with pytest.raises(DataValidationError, match="no such directory"):
        load_reference(tmp_path / "nowhere")


def test_claims_and_reference_load_together_and_report_problems_of_both(tmp_path):
    from rxxl.data import DataValidationError, load_claims_and_reference
    from rxxl.data.synthetic import generate

    folder = tmp_path / "sample"
    generate(folder, size="small")
    claims, reference = load_claims_and_reference(folder / "claims", folder)
    assert len(claims) > 0 and set(reference) == {
        "entity", "sites", "prescribers", "encounters", "mef", "orphan_drugs"}
    (folder / "mef.csv").unlink()
    with pytest.raises(DataValidationError) as caught:
        load_claims_and_reference(tmp_path / "no-claims.csv", folder)
    text = str(caught.value)
    assert "no-claims.csv" in text and "mef" in text and caught.value.total == 2


def test_columns_loads_and_checks_only_the_columns_asked_for(tmp_path):
    from rxxl.data import DataValidationError
    from rxxl.errors import InputError

    frame = pd.DataFrame({
        "entity_id": ["DSH1", "DSH1"], "entity_type": ["DSH", "bogus"],
        "start_date": ["2020-01-01", "2021-01-01"], "end_date": [None, None],
    })
    loaded = load_table(frame, "entity", columns=["entity_id", "start_date"])
    assert list(loaded.columns) == ["entity_id", "start_date"]
    # The key (entity_id, start_date) still applies: both its columns are loaded.
    with pytest.raises(DataValidationError, match="appears on"):
        load_table(frame.assign(start_date="2020-01-01"), "entity",
                   columns=["entity_id", "start_date"])
    # ...and the bad entity_type is found once the column is asked for.
    with pytest.raises(DataValidationError, match="entity_type"):
        load_table(frame, "entity", columns=["entity_id", "entity_type"])
    with pytest.raises(InputError, match="no column"):
        load_table(frame, "entity", columns=["entity_id", "beds"])

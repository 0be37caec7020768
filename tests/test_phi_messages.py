"""No patient identifier in any message: each way one leaked (issue 13, item 1).

Every test plants recognisable medical record numbers (``PHI0000001X`` ...) where the
corrupted file puts them, provokes the message, and checks that it names the file, the row
and column (or the cell) and the fix, but holds no planted number. The suite-wide scan in
``tests/conftest.py`` (``PhiScan``) checks every message the suite provokes the same way;
the last tests here show that it can fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rxxl import udfs
from rxxl._excel import excel_safe
from rxxl.cli import main
from rxxl.data import DataValidationError, load_table
from rxxl.data.phi import cell_form, fault_text, is_known_header
from rxxl.data.synthetic import generate
from rxxl.errors import InputError

#: Planted medical record numbers: 20 patients with 2 claims each, recognisable in any text.
PLANTED = [f"PHI{i:07d}X" for i in range(1, 21)]
#: Numeric record numbers: shaped like a date written YYYYMMDD, and beyond any quantity.
PLANTED_DATES = [f"198{i % 10}0{1 + i % 9}1{i % 9}" for i in range(20)]
PLANTED_BIG = [f"{7_700_000_000_000 + i}" for i in range(20)]


def no_planted(text: str) -> None:
    for mrn in PLANTED + PLANTED_DATES + PLANTED_BIG:
        assert mrn not in text, f"patient identifier {mrn} in: {text}"
    # Nor any recombination of a planted number's digits (the date it reads as, padded).
    assert not re.search(r"PHI\d|198\d-0\d-1\d|7700000000000", text), text


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("phi") / "sample"
    generate(folder, size="small")
    return folder


@pytest.fixture(scope="module")
def claims(sample) -> pd.DataFrame:
    """40 claims of the sample's latest month, of the 20 planted patients (2 claims each)."""
    frame = pd.read_parquet(sorted((sample / "claims").glob("*.parquet"))[-1]).head(40)
    return frame.assign(patient_id=PLANTED * 2).reset_index(drop=True)


def _problems(path: Path, table: str = "claims") -> DataValidationError:
    with pytest.raises(DataValidationError) as caught:
        load_table(path, table)
    no_planted(str(caught.value))
    return caught.value


# --- (a) a claims file without its header line --------------------------------------------


def test_a_headerless_file_lists_no_data_as_found_headers(claims, tmp_path):
    path = tmp_path / "claims.csv"
    claims.to_csv(path, index=False, header=False)
    error = _problems(path)
    missing = [p for p in error.problems if "is missing" in p.message]
    assert missing and all(p.row is None and p.source == str(path) for p in missing)
    first = missing[0].message
    filled = int(claims.iloc[0].notna().sum())  # the first claim's filled cells: its "header"
    assert first.startswith(f'{path}: column "claim_id" is missing (found: no rxxl column name'
                            f" among {filled} headers")
    assert "header line" in first and "rename the column that holds it, to claim_id" in first
    # The first claim's other cells (its claim id, NDC, payer) are not shown either.
    assert claims.loc[0, "claim_id"] not in str(error)
    assert claims.loc[0, "payer"] not in str(error)


def test_found_headers_are_shown_only_where_they_are_column_names(claims, tmp_path):
    frame = claims.rename(columns={"patient_id": "PHI0000099X", "prescriber_npi": "Prescriber NPI",
                                   "billing_npi": "billing npii"})
    path = tmp_path / "claims.csv"
    frame.to_csv(path, index=False)
    error = _problems(path)
    assert "PHI0000099X" not in str(error)
    texts = {p.column: p.message for p in error.problems}
    # A name that differs from a column's by case, spaces or hyphens is a known name: shown.
    assert 'did you mean "Prescriber NPI"?' in texts["prescriber_npi"]
    assert "Prescriber NPI" in texts["patient_id"]
    # A header that is no column name is counted, and a close one is pointed to by position.
    assert "2 headers that are no rxxl column name (not shown)" in texts["patient_id"]
    # billing_npi's place in the sample's columns, counted from 1.
    position = list(frame.columns).index("billing npii") + 1
    assert f"did you mean the header in column {position}?" in texts["billing_npi"]


# --- (b) swapped or misnamed columns ------------------------------------------------------


def test_identifiers_in_the_npi_column_are_shown_by_their_form(claims, tmp_path):
    path = tmp_path / "claims.csv"
    claims.rename(columns={"patient_id": "prescriber_npi", "prescriber_npi": "patient_id"}
                  ).to_csv(path, index=False)
    error = _problems(path)
    assert error.total == 40
    first = error.problems[0]
    assert (first.row, first.column) == (2, "prescriber_npi")
    # PHI0000001X: letters as A, digits as 9.
    assert first.message == (f'{path}, line 2, column "prescriber_npi": a value of the form'
                             ' "AAA9999999A" is not 10 digits; write an NPI: 10 digits whose'
                             " last is the check digit (e.g. 1234567893)")


def test_identifiers_in_the_date_column_are_shown_by_their_form(claims, tmp_path):
    path = tmp_path / "claims.csv"
    claims.rename(columns={"patient_id": "service_date", "service_date": "patient_id"}
                  ).to_csv(path, index=False)
    error = _problems(path)
    assert error.problems[0].message.startswith(
        f'{path}, line 2, column "service_date": a value of the form "AAA9999999A" is not a'
        " date in a form rxxl reads; write a date as 2026-10-31")


def test_numeric_identifiers_read_as_dates_or_amounts_are_not_rewritten(claims, tmp_path):
    frame = claims.assign(patient_id=PLANTED_DATES * 2, billing_npi=claims["patient_id"])
    frame = frame.rename(columns={"patient_id": "service_date", "service_date": "patient_id"})
    path = tmp_path / "claims.csv"
    frame.to_csv(path, index=False)
    error = _problems(path)
    dates = [p.message for p in error.problems if p.column == "service_date"]
    # 19800111 reads as 1980-01-11, which would spell the record number again.
    assert dates and "looks like a date written as YYYYMMDD; write it as YYYY-MM-DD" in dates[0]
    assert 'a value of the form "99999999"' in dates[0]

    big = claims.assign(quantity=[float(v) for v in PLANTED_BIG * 2])
    path = tmp_path / "claims.parquet"
    big.to_parquet(path, index=False)
    error = _problems(path)
    assert 'row 1, column "quantity": a value of the form "9999999999999" is beyond' in str(
        error)


def test_identifiers_in_the_claim_id_column_repeat_without_being_named(claims, tmp_path):
    path = tmp_path / "claims.csv"
    claims.rename(columns={"patient_id": "claim_id", "claim_id": "patient_id"}
                  ).to_csv(path, index=False)
    error = _problems(path)
    first = error.problems[0]
    assert (first.row, first.column) == (22, "claim_id")
    assert first.message == (f'{path}, line 22, column "claim_id": one claim_id appears on'
                             " lines 2 and 22; each claim_id may appear once: remove the"
                             " repeated rows or correct their values")


def test_a_subset_of_the_claims_columns_is_still_a_table_of_patients(claims, tmp_path):
    # rxxl denials reads 10 claims columns, not patient_id; the claims are still PHI.
    path = tmp_path / "claims.csv"
    claims.rename(columns={"patient_id": "payer_type", "payer_type": "patient_id"}
                  ).to_csv(path, index=False)
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "claims", columns=["payer_type", "status"])
    no_planted(str(caught.value))
    assert 'a value of the form "AAA9999999A" is not one of the listed values' in str(
        caught.value)


def test_tables_without_patients_still_quote_the_value(tmp_path):
    path = tmp_path / "orphan_drugs.csv"
    path.write_text("ndc\n2759701\n")
    with pytest.raises(DataValidationError, match='"2759701" has only 7 digits; .* the 11-digit'
                                                  " code is 00002759701"):
        load_table(path, "orphan_drugs")


# --- (c) rxxl report with a swapped encounters file ---------------------------------------


def test_report_with_swapped_encounters_names_the_file_not_the_patients(sample, tmp_path,
                                                                        capsys):
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    encounters = pd.read_parquet(data / "encounters.parquet").head(60)
    encounters["patient_id"] = (PLANTED * 3)[: len(encounters)]
    encounters.rename(columns={"patient_id": "encounter_date", "encounter_date": "patient_id"}
                      ).to_parquet(data / "encounters.parquet", index=False)
    code = main(["report", "--data", str(data), "--month", "2026-10",
                 "--out", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 2
    no_planted(err)
    assert (f'{data / "encounters.parquet"}, row 1, column "encounter_date": a value of the'
            ' form "AAA9999999A" is not a date') in err


# --- (d) a library's exception text -------------------------------------------------------


def _workbook_with_an_untyped_cell(claims: pd.DataFrame, path: Path) -> Path:
    """A workbook whose patient cell F2 says it holds a number but holds a record number."""
    plain = path.with_name("plain.xlsx")
    claims.to_excel(plain, index=False)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text, count = re.subn(r'<c r="F2"[^>]*>.*?</c>',
                                      f'<c r="F2" t="n"><v>{PLANTED[0]}</v></c>',
                                      data.decode(), count=1)
                assert count == 1
                data = text.encode()
            target.writestr(item, data)
    return path


def test_an_openpyxl_error_quoting_a_cell_is_not_printed(claims, tmp_path, capsys):
    path = _workbook_with_an_untyped_cell(claims, tmp_path / "claims.xlsx")
    assert main(["validate", "claims", str(path)]) in (1, 2)
    err = capsys.readouterr().err
    no_planted(err)
    # The readers name the kind of fault (damaged sheet XML) and the fix, not openpyxl's text.
    assert str(path) in err and "cannot be read" in err


def test_fault_text_names_the_kind_of_fault_without_the_library_text():
    assert fault_text(ValueError(f"invalid literal for int(): '{PLANTED[0]}'")) == (
        "a cell holds a value its type does not allow (a damaged or hand-edited file?)"
        " [ValueError; its message is not shown, as it may quote a cell]")
    assert fault_text(zipfile.BadZipFile("File is not a zip file")).startswith(
        "it is not a valid .xlsx workbook (a damaged or foreign zip archive)")
    assert fault_text(InputError(f"{PLANTED[0]!r}: ours")) == f"{PLANTED[0]!r}: ours"
    assert fault_text(PermissionError(13, "Permission denied", "/data/claims.csv")) == (
        "Permission denied: /data/claims.csv")


def test_a_cell_message_from_an_unexpected_error_holds_no_cell_text():
    @excel_safe
    def breaks(value):
        raise KeyError(value)

    cell = breaks(PLANTED[0])
    assert cell.startswith("#VALUE! rxxl could not compute this: ")
    no_planted(cell)


# --- (e) RX_340B_CHECK on a range without its header --------------------------------------


def _range(frame: pd.DataFrame, header: bool = True) -> list[list]:
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    return [list(frame.columns), *values] if header else values


def test_rx_340b_check_without_the_header_row_asks_for_it(claims, sample):
    cell = udfs.RX_340B_CHECK(_range(claims.head(5), header=False), str(sample))
    no_planted(cell)
    assert cell.startswith("#VALUE! claims: the range's first row must be its header row")


def test_rx_340b_check_with_swapped_columns_shows_forms(claims, sample):
    swapped = claims.head(3).rename(columns={"patient_id": "prescriber_npi",
                                             "prescriber_npi": "patient_id"})
    cell = udfs.RX_340B_CHECK(_range(swapped), str(sample))
    no_planted(cell)
    assert 'claims range, row 1, column "prescriber_npi": a value of the form "AAA9999999A"' \
        in cell


# --- the rule's parts ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "form"), [
    ("MRN96106659", "AAA99999999"),
    ("mrn-0012 a", "aaa-9999 a"),
    ("03/04/26", "99/99/99"),
    ("$1,234.56", "$9,999.99"),
    ("Zoë\t7", "Aaa 9"),
    ("\u2603", "?"),
])
def test_a_form_keeps_no_letter_or_digit(text, form):
    assert cell_form(text) == f'a value of the form "{form}"'


def test_a_long_form_is_cut():
    assert cell_form("7" * 500) == 'a value of the form "' + "9" * 57 + '..."'


@pytest.mark.parametrize(("header", "known"), [
    ("claim_id", True), (" Claim ID ", True), ("service-date", True), ("ndc", True),
    ("MRN96106659", False), ("2026-10-01", False), ("", False), (np.float64(30.0), False),
])
def test_known_headers(header, known):
    assert is_known_header(header) is known


# --- the suite-wide scan can fail -----------------------------------------------------------


def test_the_scan_catches_an_identifier_in_an_error_message(phi_scan):
    phi_scan.add(["PHI0000042X"])
    with pytest.raises(InputError):
        raise InputError("claims.csv, line 2: PHI0000042X is no NPI")
    found = phi_scan.check()  # consumed here, so this test's own teardown passes
    assert [(where, value) for where, value, _ in found] == [("InputError", "PHI0000042X")]


def test_the_scan_knows_every_patient_of_a_generated_sample(sample, phi_scan):
    first = pd.read_parquet(sample / "encounters.parquet", columns=["patient_id"]).iloc[0, 0]
    assert first in phi_scan.session_values
    with pytest.raises(DataValidationError):
        load_table(pd.DataFrame({"patient_id": [first], "site_id": ["S1"],
                                 "encounter_date": ["1999-01-01"]}), "encounters")
    assert phi_scan.check() == []  # the message names no patient; the scan had it to look for
    with pytest.raises(InputError):
        raise InputError(f"a leak of {first}")
    assert [value for _, value, _ in phi_scan.check()] == [first]


def test_the_scan_reads_what_the_command_line_and_excel_cells_show(phi_scan, capsys):
    assert main(["example"]) == 0
    phi_scan.add(["payback"])  # a word the output holds, planted as if it were a patient's
    assert [where for where, _, _ in phi_scan.check()] == ["rxxl stdout"]
    udfs.RX_NPV("x", [1, 2])
    phi_scan.add(["#VALUE!"])
    assert "Excel cell" in [where for where, _, _ in phi_scan.check()]
    subprocess.run([sys.executable, "-m", "rxxl.cli", "--help"], capture_output=True,
                   text=True, timeout=120)
    phi_scan.add(["Pharmacy"])
    assert [where.split()[0] for where, _, _ in phi_scan.check()] == ["subprocess"]

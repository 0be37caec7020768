"""The 340B claim detail workbook: values read back equal the source in every reader, text
stays text, patients are masked, sheets split at Excel's limit, writes are atomic."""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from rxxl.audit340b import REASON_TEXT, audit_claims
from rxxl.data import load_reference, load_table
from rxxl.data.synthetic import generate
from rxxl.errors import InputError
from rxxl.reports import detail, style
from rxxl.reports.detail import write_claim_detail

MONTH = "2026-10"
HEADER = detail.HEADER_ROW + 1  # the header's row number in Excel (1-based)
FIRST = HEADER + 1
#: Report columns read from the claims as they are (text columns).
SAME_AS_CLAIMS = {"Claim ID": "claim_id", "Site": "site_id", "Prescriber NPI": "prescriber_npi",
                  "Billing NPI": "billing_npi", "NDC": "ndc", "Drug": "drug_name",
                  "Payer": "payer", "Payer type": "payer_type", "Account": "account",
                  "Patient status": "patient_status", "Modifiers": "modifiers"}


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample") / "health-system"
    generate(folder, size="small")
    claims = load_table(folder / "claims" / f"{MONTH}.parquet", "claims")
    return claims, audit_claims(claims, load_reference(folder))


@pytest.fixture(scope="module")
def findings(month, tmp_path_factory):
    claims, audit = month
    path = tmp_path_factory.mktemp("findings") / "detail.xlsx"
    return write_claim_detail(claims, audit, path, MONTH, organization="Three Rivers Health")


@pytest.fixture(scope="module")
def every_claim(month, tmp_path_factory):
    claims, audit = month
    path = tmp_path_factory.mktemp("all") / "detail.xlsx"
    return write_claim_detail(claims, audit, path, MONTH, all_claims=True)


def _rows(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """The data rows as openpyxl reads them (no type inference): one column per header."""
    book = openpyxl.load_workbook(path, read_only=True)
    values = list(book[sheet or book.sheetnames[0]].iter_rows(min_row=HEADER, values_only=True))
    book.close()
    return pd.DataFrame(values[1:], columns=values[0], dtype=object)


def _text(series: pd.Series) -> list:
    return series.astype("string").to_numpy(dtype=object, na_value=None).tolist()


def _with_findings(claims: pd.DataFrame, audit: pd.DataFrame):
    chosen = (audit["status"] != "compliant").to_numpy()
    return claims[chosen].reset_index(drop=True), audit[chosen].reset_index(drop=True)


# --- values ---------------------------------------------------------------------------------


def test_findings_only_read_back_equal_the_source(month, findings):
    claims, audit = _with_findings(*month)
    assert findings.rows == len(claims) == int((month[1]["status"] != "compliant").sum()) > 0
    assert findings.sheets == ("Claim detail",) and findings.masked
    got = _rows(findings.path)
    assert len(got) == len(claims)
    for header, column in SAME_AS_CLAIMS.items():
        assert got[header].tolist() == _text(claims[column]), header
    assert got["340B ID"].tolist() == _text(audit["entity_id"])
    assert got["Finding"].tolist() == _text(audit["status"])
    assert got["Reasons"].tolist() == _text(audit["reasons"])
    assert got["What the reasons mean"].tolist() == [
        "; ".join(REASON_TEXT[code] for code in reasons.split(";"))
        for reasons in audit["reasons"]]
    assert got["Service date"].tolist() == claims["service_date"].dt.to_pydatetime().tolist()
    assert got["Quantity (billing units)"].tolist() == claims["quantity"].tolist()
    dollars = audit["dollars_at_risk"].to_numpy()
    assert got["Dollars at risk ($)"].tolist() == [None if np.isnan(v) else v
                                                    for v in dollars.tolist()]


def test_every_claim_and_unchecked_claims_say_so(month, every_claim):
    claims, audit = month
    got = _rows(every_claim.path)
    assert every_claim.rows == len(got) == len(claims)
    assert got["Claim ID"].tolist() == _text(claims["claim_id"])
    expected = audit["status"].astype("string").where(audit["checked"], detail.NOT_CHECKED)
    assert got["Finding"].tolist() == _text(expected)
    assert (~audit["checked"]).any()
    compliant = (audit["status"] == "compliant").to_numpy()
    assert got.loc[compliant, "Reasons"].isna().all()
    assert got.loc[compliant, "Dollars at risk ($)"].eq(0).all()  # shown as a dash


def test_cells_are_typed_and_formatted_in_the_house_style(findings):
    sheet = openpyxl.load_workbook(findings.path).active
    assert sheet["A1"].value == "340B claim detail — October 2026"
    assert "Three Rivers Health" in sheet["A2"].value and "masked" in sheet["A2"].value
    date, quantity, money = sheet[f"B{FIRST}"], sheet[f"J{FIRST}"], sheet[f"V{FIRST}"]
    assert date.is_date and date.number_format == style.DATE
    assert quantity.data_type == "n" and quantity.number_format == style.COUNT
    assert money.data_type == "n" and money.number_format == style.DOLLARS_CENTS
    for cell in ("A", "F", "H"):  # claim ID and digit identifiers: text, never numbers
        assert sheet[f"{cell}{FIRST}"].data_type == "s"
    header = sheet[f"A{HEADER}"]
    assert header.font.b and header.font.color.rgb.endswith(style.HEADER_FONT)
    assert header.fill.fgColor.rgb.endswith(style.HEADER_FILL)
    assert sheet[f"C{FIRST}"].font.name == style.FONT_NAME
    assert sheet[f"C{FIRST}"].font.sz == style.FONT_SIZE
    assert sheet.column_dimensions["I"].width >= style.WIDTHS["label"]


def test_table_freeze_panes_and_print_setup(findings):
    sheet = openpyxl.load_workbook(findings.path).active
    last = HEADER + findings.rows
    table = sheet.tables["ClaimDetail"]
    assert table.ref == f"A{HEADER}:V{last}"
    assert table.autoFilter.ref == table.ref
    assert [column.name for column in table.tableColumns] == [
        cell.value for cell in sheet[HEADER]]
    assert sheet.freeze_panes == f"B{FIRST}"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    # The 22 columns are 456 characters wide: (7 px × 456 + 5 px × 22) × 0.75 pt/px
    # = 2,476.5 pt. A Letter landscape page less half-inch margins is 720 pt; on 2 pages
    # they print at 1,440 / 2,476.5 = 58%, under the 75% aimed at; on 3 pages at 87.2%.
    assert sum(column.width for column in detail._columns(True, False)) == 456
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (3, 0)
    assert sheet.print_title_rows == f"${HEADER}:${HEADER}"
    with zipfile.ZipFile(findings.path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    footer = re.search(r"<oddFooter>(.*?)</oddFooter>", xml)[1]
    # Left the month, centre the sheet, right page x of y and the stamp of the subtitle.
    stamp = re.search(r"generated (\d{4}-\d\d-\d\d \d\d:\d\d)", sheet["A2"].value)[1]
    assert html.unescape(footer).endswith(f"&C&8&A&R&8Page &P of &N · Generated {stamp}")
    assert html.unescape(footer).startswith("&L&8Three Rivers Health · ")
    # Digit identifiers are text on purpose: Excel is told not to flag them.
    assert f'<ignoredError sqref="A{FIRST}:V{last}" numberStoredAsText="1"/>' in xml


def test_pandas_reads_dates_as_dates_and_money_as_numbers(findings, month):
    claims, _ = _with_findings(*month)
    frame = pd.read_excel(findings.path, header=detail.HEADER_ROW,
                          dtype={header: str for header in SAME_AS_CLAIMS})
    assert pd.api.types.is_datetime64_any_dtype(frame["Service date"])
    assert pd.api.types.is_float_dtype(frame["Dollars at risk ($)"])
    assert frame["NDC"].tolist() == _text(claims["ndc"])  # leading zeros kept


# --- safety ---------------------------------------------------------------------------------

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3", "@SUM(A1)", "\tTAB", "\rCR",
           "=1+1", "1234", "http://example.com", "{=A1}"]


def test_text_that_looks_like_a_formula_number_or_link_stays_text(month, tmp_path):
    claims, audit = (frame.head(len(HOSTILE)).copy() for frame in month)
    claims["drug_name"] = HOSTILE
    claims["payer"] = HOSTILE[::-1]
    claims["claim_id"] = audit["claim_id"] = [f"{text}#{i}" for i, text in enumerate(HOSTILE)]
    summary = write_claim_detail(claims, audit, tmp_path / "hostile.xlsx", MONTH,
                                 all_claims=True)
    with zipfile.ZipFile(summary.path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
        assert not any("hyperlink" in name for name in archive.namelist())
    assert "<f>" not in xml and "<f " not in xml
    sheet = openpyxl.load_workbook(summary.path).active
    # A control character is stored as OOXML's escape _x000D_, which Excel decodes and
    # openpyxl leaves as is.
    got = [[sheet.cell(row, column).value.replace("_x000D_", "\r")
            for row in range(FIRST, FIRST + len(HOSTILE))] for column in (1, 9, 11)]
    assert got == [claims["claim_id"].tolist(), HOSTILE, HOSTILE[::-1]]
    assert {sheet.cell(row, 9).data_type for row in range(FIRST, FIRST + len(HOSTILE))} == {"s"}


def test_patients_are_masked_consistently_and_unlinkably(month, every_claim):
    claims, _ = month
    got = _rows(every_claim.path)["Patient (masked)"]
    assert got.str.fullmatch(r"PT-\d{6}").all()
    assert got.iloc[0] == "PT-000001"
    # The same patient, the same pseudonym; different patients, different ones.
    pairs = pd.DataFrame({"patient": claims["patient_id"].to_numpy(), "masked": got})
    assert pairs.groupby("patient")["masked"].nunique().eq(1).all()
    assert pairs.groupby("masked")["patient"].nunique().eq(1).all()
    # Numbered in order of first appearance, and no identifier anywhere in the file.
    first_seen = pd.unique(got)
    assert list(first_seen) == [f"PT-{i:06d}" for i in range(1, len(first_seen) + 1)]
    with zipfile.ZipFile(every_claim.path) as archive:
        text = " ".join(archive.read(name).decode() for name in archive.namelist())
    assert not set(re.findall(r"MRN\d+", text))
    assert set(claims["patient_id"].str[:3]) == {"MRN"}  # so the search above means something


def test_patient_identifiers_are_written_as_is_only_when_asked(month, tmp_path):
    claims, audit = month
    summary = write_claim_detail(claims, audit, tmp_path / "unmasked.xlsx", MONTH,
                                 mask_patients=False)
    got = _rows(summary.path)
    chosen, _ = _with_findings(claims, audit)
    assert not summary.masked
    assert got["Patient ID"].tolist() == _text(chosen["patient_id"])
    assert "NOT masked" in openpyxl.load_workbook(summary.path).active["A2"].value


def test_a_failed_write_leaves_the_earlier_file_and_no_temporary_files(month, tmp_path,
                                                                        monkeypatch):
    claims, audit = month
    target = tmp_path / "out" / "detail.xlsx"
    write_claim_detail(claims, audit, target, MONTH)
    before = target.read_bytes()
    monkeypatch.setattr(detail, "BLOCK_ROWS", 500)
    calls = []
    real = detail._Prepared.block

    def fail_on_the_third_block(self, *args):
        calls.append(args)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(self, *args)

    monkeypatch.setattr(detail._Prepared, "block", fail_on_the_third_block)
    with pytest.raises(OSError, match="disk full"):
        write_claim_detail(claims, audit, target, MONTH, all_claims=True)
    assert target.read_bytes() == before
    assert [path.name for path in target.parent.iterdir()] == ["detail.xlsx"]


# --- splitting ------------------------------------------------------------------------------


def test_rows_past_the_sheet_limit_continue_on_sheets_with_the_same_header(
        month, every_claim, tmp_path, monkeypatch):
    claims, audit = month
    monkeypatch.setattr(detail, "ROWS_PER_SHEET", 1000)
    monkeypatch.setattr(detail, "BLOCK_ROWS", 300)  # blocks that do not align with sheets
    summary = write_claim_detail(claims, audit, tmp_path / "split.xlsx", MONTH,
                                 all_claims=True)
    count = -(-len(claims) // 1000)
    assert summary.sheets == ("Claim detail", *(f"Claim detail {i}" for i in
                                                range(2, count + 1)))
    parts = [_rows(summary.path, name) for name in summary.sheets]
    assert [len(part) for part in parts] == [1000] * (count - 1) + [len(claims) % 1000 or 1000]
    assert len({tuple(part.columns) for part in parts}) == 1
    joined = pd.concat(parts, ignore_index=True)
    assert joined["Claim ID"].tolist() == _text(claims["claim_id"])
    # Pseudonyms run on across sheets as in one sheet.
    whole = _rows(every_claim.path)
    assert joined["Patient (masked)"].tolist() == whole["Patient (masked)"].tolist()
    book = openpyxl.load_workbook(summary.path)
    for number, name in enumerate(summary.sheets):
        tables = book[name].tables
        assert list(tables) == ["ClaimDetail" if number == 0 else f"ClaimDetail{number + 1}"]
        assert tables[list(tables)[0]].ref == f"A{HEADER}:V{HEADER + len(parts[number])}"
        assert book[name].freeze_panes == f"B{FIRST}"
    assert "continued" in book[summary.sheets[1]]["A1"].value


def test_a_month_without_findings_says_so(month, tmp_path):
    claims, audit = month
    clean = audit.assign(status=pd.Categorical(["compliant"] * len(audit),
                                               categories=audit["status"].cat.categories))
    summary = write_claim_detail(claims, clean, tmp_path / "clean.xlsx", MONTH)
    sheet = openpyxl.load_workbook(summary.path).active
    assert summary.rows == 0 and not sheet.tables
    assert sheet[f"A{HEADER}"].value == "Claim ID"
    assert sheet[f"A{FIRST}"].value == "No claims with findings in October 2026."


# --- bad input ------------------------------------------------------------------------------


def test_bad_input_is_refused_with_the_fix_and_without_patient_data(month, tmp_path):
    claims, audit = month
    for bad in ("October", "2026-13", "202610"):
        with pytest.raises(InputError, match="YYYY-MM"):
            write_claim_detail(claims, audit, tmp_path / "x.xlsx", bad)
    with pytest.raises(InputError, match=r"\.xlsx"):
        write_claim_detail(claims, audit, tmp_path / "x.csv", MONTH)
    with pytest.raises(InputError, match="audit_claims"):
        write_claim_detail(claims, audit.iloc[1:], tmp_path / "x.xlsx", MONTH)
    with pytest.raises(InputError, match="row 1 ") as refused:
        write_claim_detail(claims, audit.iloc[::-1], tmp_path / "x.xlsx", MONTH)
    assert "MRN" not in str(refused.value)
    with pytest.raises(InputError, match="patient_id"):
        write_claim_detail(claims.drop(columns="patient_id"), audit, tmp_path / "x.xlsx", MONTH)
    assert not list(tmp_path.iterdir())


# --- an independent reader ------------------------------------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_reads_the_same_values(findings, month, libreoffice_recalculate):
    claims, audit = _with_findings(*month)
    converted = libreoffice_recalculate(findings.path)
    got = _rows(converted)
    assert got["Claim ID"].tolist() == _text(claims["claim_id"])
    assert got["NDC"].tolist() == _text(claims["ndc"])
    assert got["Service date"].tolist() == claims["service_date"].dt.to_pydatetime().tolist()
    assert got["Dollars at risk ($)"].tolist() == [
        None if np.isnan(v) else pytest.approx(v) for v in audit["dollars_at_risk"].tolist()]
    assert got["Reasons"].tolist() == _text(audit["reasons"])


# --- what masking protects ------------------------------------------------------------------


def test_the_subtitle_says_what_masking_does_not_protect(findings):
    subtitle = openpyxl.load_workbook(findings.path).active["A2"].value
    # The pseudonym replaces the patient id only: claim id, date, prescriber and site stay,
    # and they find the row (and its patient) in the claims extract.
    assert "link to no record" not in subtitle
    assert "patient IDs masked" in subtitle and "still protected health information" in subtitle
    assert "claim ID, service date, prescriber and site" in subtitle


def test_deidentified_detail_holds_no_claim_id_prescriber_or_day(month, tmp_path):
    claims, audit = month
    summary = write_claim_detail(claims, audit, tmp_path / "shared.xlsx", MONTH,
                                 all_claims=True, deidentify=True)
    assert summary.masked and summary.deidentified
    with zipfile.ZipFile(summary.path) as archive:
        text = html.unescape(" ".join(archive.read(name).decode()
                                      for name in archive.namelist()))
    # Scan every cell and part of the file for the sample's identifiers.
    for column in ("claim_id", "prescriber_npi", "patient_id"):
        values = set(claims[column].dropna().astype(str))
        assert len(values) > 10
        found = [value for value in values if value in text]
        assert found == [], f"{column}: {len(found)} of {len(values)} values in the file"
    got = _rows(summary.path)
    assert got["Claim (masked)"].iloc[:2].tolist() == ["CL-000001", "CL-000002"]
    assert got["Prescriber (masked)"].str.fullmatch(r"PR-\d{6}").all()
    # The same prescriber, the same pseudonym: a coordinator can still count by prescriber.
    pairs = pd.DataFrame({"npi": claims["prescriber_npi"].to_numpy(),
                          "masked": got["Prescriber (masked)"]})
    assert pairs.groupby("npi")["masked"].nunique().eq(1).all()
    assert pairs.groupby("masked")["npi"].nunique().eq(1).all()
    # Service dates are coarsened to the month: every row shows the first of its month.
    months = claims["service_date"].dt.to_period("M").dt.to_timestamp()
    shown = pd.to_datetime(got["Service month"])
    assert (shown == months.to_numpy()).all() and (shown.dt.day == 1).all()
    sheet = openpyxl.load_workbook(summary.path).active
    assert sheet[f"B{FIRST}"].number_format == style.MONTH
    subtitle = sheet["A2"].value
    assert "de-identified" in subtitle and "claim and prescriber IDs masked" in subtitle


def test_deidentify_cannot_be_combined_with_unmasked_patients(month, tmp_path):
    claims, audit = month
    with pytest.raises(InputError, match="deidentify"):
        write_claim_detail(claims, audit, tmp_path / "x.xlsx", MONTH, mask_patients=False,
                           deidentify=True)


def test_rxxl_report_deidentify_writes_a_detail_without_claim_ids(tmp_path, capsys):
    from rxxl.cli import main
    from rxxl.reports.monthly import detail_name

    generate(tmp_path / "data", size="small")
    claims = load_table(tmp_path / "data" / "claims" / f"{MONTH}.parquet", "claims")
    assert main(["report", "--data", str(tmp_path / "data"), "--month", MONTH, "--out",
                 str(tmp_path / "out"), "--deidentify", "--all-claims"]) == 0
    assert "de-identified" in capsys.readouterr().out
    got = _rows(tmp_path / "out" / detail_name(pd.Period(MONTH)))
    assert len(got) == len(claims)
    assert not set(got["Claim (masked)"]) & set(claims["claim_id"])
    assert not set(got["Prescriber (masked)"]) & set(claims["prescriber_npi"])
    assert main(["report", "--data", str(tmp_path / "data"), "--month", MONTH, "--out",
                 str(tmp_path / "out2"), "--deidentify", "--unmask-patients"]) == 2
    assert "deidentify" in capsys.readouterr().err

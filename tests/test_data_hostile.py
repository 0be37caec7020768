"""Hostile and awkward input files (issue 13, items 5, 6 and 9): every one ends in one clear
message naming the file, in seconds, never a traceback or a hang.

The files are built here in ``tmp_path``: zip bombs from highly compressible text, a FIFO
from ``os.mkfifo``, sheets whose XML is written by hand.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import stat
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from rxxl.cli import main
from rxxl.data import DataValidationError, load_table, readers

# Two orphan drug NDCs: (NDC as written) -> 11 digits, worked out by hand: 4-4-2 gets a
# leading zero in the first segment, 5-3-2 a zero before the middle one.
NDCS = ["0002-7597-01", "51655-089-52"]
NORMALIZED = ["00002759701", "51655008952"]
# A drugs table of two rows: ndc, drug_name, mony_code.
DRUG_ROWS = [("0002-7597-01", "Drug A 5 mg tablet", "N"), ("51655-089-52", "Drug B vial", "Y")]


@contextlib.contextmanager
def within(seconds: int):
    """Fail (instead of hanging the suite) when the block takes longer than ``seconds``."""
    def expired(*_):
        raise TimeoutError(f"took more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def refusal(source, table="orphan_drugs", **options) -> str:
    with within(20), pytest.raises(DataValidationError) as caught:
        load_table(source, table, **options)
    return str(caught.value)


# --- item 6: files that are not files, and sizes -----------------------------------------------


def test_a_fifo_named_csv_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "claims.csv"
    os.mkfifo(fifo)
    text = refusal(fifo)
    assert f"{fifo}: is not a regular file" in text
    assert "(a named pipe)" in text


def test_a_device_named_csv_is_refused(tmp_path):
    link = tmp_path / "orphan_drugs.csv"
    link.symlink_to("/dev/zero")
    text = refusal(link)
    assert f"{link}: is not a regular file (a device)" in text


def test_a_fifo_in_a_reference_folder_is_refused(tmp_path):
    from rxxl.data import load_reference
    os.mkfifo(tmp_path / "entity.csv")
    with within(20), pytest.raises(DataValidationError) as caught:
        load_reference(tmp_path)
    assert f"{tmp_path / 'entity.csv'}: is not a regular file" in str(caught.value)


def _workbook(path: Path, rows: list[tuple], title: str = "Data") -> Path:
    book = openpyxl.Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(list(row))
    book.save(path)
    return path


def _replace_member(path: Path, member: str, content: bytes) -> Path:
    """Rewrite the workbook with ``member`` replaced (deflated, as Excel stores it)."""
    with zipfile.ZipFile(path) as archive:
        items = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items:
            archive.writestr(name, content if name == member else data)
    return path


SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
              b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _sheet_xml(rows: list[tuple[int, str]], dimension: str | None = None,
               padding: int = 0) -> bytes:
    """Sheet XML with inline strings in column A: (row number, text) per row."""
    body = b"".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{text}</t></is></c></row>'.encode()
        for r, text in rows)
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    return SHEET_HEAD + dim + b"<sheetData>" + body + b" " * padding + b"</sheetData></worksheet>"


def test_a_zip_bomb_is_refused_from_its_directory_before_parsing(tmp_path):
    # 200 MB of spaces inside the sheet XML deflate to about 200 KB: a ratio near 1,000,
    # where real sheets stay near 10. The refusal must come from the zip directory alone.
    path = _workbook(tmp_path / "bomb.xlsx", [("ndc",), (NDCS[0],)])
    _replace_member(path, "xl/worksheets/sheet1.xml",
                    _sheet_xml([(1, "ndc"), (2, NDCS[0])], padding=200_000_000))
    started = time.perf_counter()
    text = refusal(path)
    assert time.perf_counter() - started < 5
    assert f"{path}: " in text
    assert "xl/worksheets/sheet1.xml" in text
    assert "compressed" in text and "export the table as CSV or Parquet" in text


def test_a_workbook_larger_than_the_bound_uncompressed_is_refused(tmp_path, monkeypatch):
    # The bound itself is gigabytes; the mechanism is tried with a bound of 1 kB, which the
    # smallest openpyxl workbook (about 5 kB of XML) already exceeds.
    monkeypatch.setattr(readers, "MAX_XLSX_UNCOMPRESSED_BYTES", 1_000)
    path = _workbook(tmp_path / "big.xlsx", [("ndc",), (NDCS[0],)])
    text = refusal(path)
    assert f"{path}: the workbook holds" in text
    assert "uncompressed, more than the 1,000 bytes rxxl reads from a workbook" in text
    assert "export the table as CSV or Parquet" in text


def test_a_sheet_declaring_more_rows_than_excel_allows_is_refused(tmp_path):
    path = _workbook(tmp_path / "tall.xlsx", [("ndc",), (NDCS[0],)])
    _replace_member(path, "xl/worksheets/sheet1.xml",
                    _sheet_xml([(1, "ndc"), (2, NDCS[0])], dimension="A1:A5000000"))
    text = refusal(path)
    assert 'sheet "Data": the sheet has 5,000,000 rows, more than the 1,048,576 of an Excel' \
           " sheet" in text


def test_a_row_beyond_excels_last_row_is_refused_without_reading_the_gap(tmp_path):
    # No dimension, and one row numbered 2,000,000,000: openpyxl would fill in two billion
    # empty rows before it.
    path = _workbook(tmp_path / "gap.xlsx", [("ndc",), (NDCS[0],)])
    _replace_member(path, "xl/worksheets/sheet1.xml",
                    _sheet_xml([(1, "ndc"), (2, NDCS[0]), (2_000_000_000, NDCS[1])]))
    text = refusal(path)
    assert "more than the 1,048,576 of an Excel sheet" in text


def test_more_rows_than_excel_allows_without_a_dimension_are_refused_before_reading(tmp_path):
    # 1,100,000 one-cell rows, numbered 1, 2, 3 ... with no dimension recorded: every row
    # is where it should be, so only counting them shows the sheet is taller than Excel's
    # 1,048,576. openpyxl takes minutes to read them; the count takes about a second.
    path = _workbook(tmp_path / "million.xlsx", [("ndc",), (NDCS[0],)])
    rows = b"".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>'.encode()
                    for r in range(2, 1_100_002))
    header = b'<row r="1"><c r="A1" t="inlineStr"><is><t>ndc</t></is></c></row>'
    _replace_member(path, "xl/worksheets/sheet1.xml",
                    SHEET_HEAD + b"<sheetData>" + header + rows + b"</sheetData></worksheet>")
    started = time.perf_counter()
    text = refusal(path)
    assert time.perf_counter() - started < 20
    assert "1,100,001 rows, more than the 1,048,576 of an Excel sheet" in text


def test_cells_far_to_the_right_of_the_header_are_not_read(tmp_path):
    # A cell in column XFD (16,384) on each row would make openpyxl build 16,384 values
    # a row; only the header's columns are read, so the table loads as two NDCs.
    path = _workbook(tmp_path / "wide.xlsx", [("ndc",), (NDCS[0],)])
    rows = b"".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{v}</t></is></c>'
        f'<c r="XFD{r}"><v>1</v></c></row>'.encode()
        for r, v in ((2, NDCS[0]), (3, NDCS[1])))
    header = b'<row r="1"><c r="A1" t="inlineStr"><is><t>ndc</t></is></c></row>'
    _replace_member(path, "xl/worksheets/sheet1.xml",
                    SHEET_HEAD + b"<sheetData>" + header + rows + b"</sheetData></worksheet>")
    assert load_table(path, "orphan_drugs")["ndc"].tolist() == NORMALIZED


# --- item 5: damaged workbooks, giant header cells, unreadable files --------------------------


def test_malformed_sheet_xml_is_a_clear_error(tmp_path):
    # Damaged after the rows openpyxl reads when it opens the workbook: the error comes
    # while the rows are read.
    path = _workbook(tmp_path / "broken.xlsx", [("ndc",), (NDCS[0],)])
    good = _sheet_xml([(1, "ndc"), (2, NDCS[0])], dimension="A1:A3")
    _replace_member(path, "xl/worksheets/sheet1.xml",
                    good.replace(b"</sheetData></worksheet>", b'<row r="3"><c r='))
    text = refusal(path)
    assert f'{path}, sheet "Data": the sheet cannot be read (its XML is damaged)' in text
    assert "open it in Excel and save it again" in text


def test_sheet_xml_damaged_at_its_start_is_a_clear_error(tmp_path):
    path = _workbook(tmp_path / "broken.xlsx", [("ndc",), (NDCS[0],)])
    _replace_member(path, "xl/worksheets/sheet1.xml", SHEET_HEAD + b"<sheetData><row r=")
    text = refusal(path)
    assert f"{path}: the file cannot be read as an Excel workbook (damaged" in text


def test_a_workbook_without_worksheets_is_a_clear_error(tmp_path):
    path = _workbook(tmp_path / "none.xlsx", [("ndc",)])
    with zipfile.ZipFile(path) as archive:
        items = [(i.filename, archive.read(i)) for i in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items:
            if name == "xl/workbook.xml":
                start, end = data.index(b"<sheets>"), data.index(b"</sheets>") + 9
                data = data[:start] + b"<sheets/>" + data[end:]
            archive.writestr(name, data)
    text = refusal(path)
    assert f"{path}: the workbook has no worksheets" in text


def test_a_giant_header_cell_is_refused_once_without_being_shown(tmp_path):
    # 500 kB in one header cell (the was 1.5 GB): one message, not one per missing
    # column, and none of the cell's text in it.
    path = tmp_path / "claims.csv"
    path.write_bytes(b"claim_id," + b"Z" * 500_000 + b",ndc\n1,2,3\n")
    text = refusal(path, "claims")
    assert len(text) < 1_000
    assert "ZZZZ" not in text
    assert f"{path}: column 2 of the header line is 500,000 characters long" in text
    assert "at most 255" in text


def test_a_header_line_longer_than_the_head_read_is_refused_before_the_rest(tmp_path):
    # 30 MB in the header's last cell: refused from the first megabyte, as "more than".
    path = tmp_path / "claims.csv"
    path.write_bytes(b"claim_id,ndc," + b"Z" * 30_000_000 + b"\n1,2,3\n")
    text = refusal(path, "claims")
    assert len(text) < 1_000 and "ZZZZ" not in text
    assert "column 3 of the header line is more than 1,048,563 characters long" in text


def test_a_giant_header_cell_in_a_sheet_is_refused(tmp_path):
    path = _workbook(tmp_path / "wide.xlsx", [("ndc", "Q" * 20_000), (NDCS[0], "x")])
    text = refusal(path)
    assert len(text) < 1_000 and "QQQQ" not in text
    assert 'sheet "Data": column B of the header row is 20,000 characters long' in text


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_names_the_file(tmp_path):
    path = tmp_path / "orphan_drugs.csv"
    path.write_text("ndc\n00002759701\n")
    path.chmod(0)
    try:
        text = refusal(path)
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert f"{path}: the file cannot be opened (Permission denied)" in text


def test_an_unopenable_file_names_the_file(tmp_path, monkeypatch):
    # As root (the CI container) a chmod 0 file is still readable: the refusal of open()
    # is made by hand.
    path = tmp_path / "orphan_drugs.csv"
    path.write_text("ndc\n00002759701\n")
    real_open = open

    def denied(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", denied)
    text = refusal(path)
    assert f"{path}: the file cannot be opened (Permission denied)" in text


# --- item 9: delimiters, encodings, sheets ------------------------------------------------------


def _drugs_text(separator: str) -> str:
    lines = [separator.join(("ndc", "drug_name", "mony_code"))]
    lines += [separator.join(row) for row in DRUG_ROWS]
    return "\r\n".join(lines) + "\r\n"


def test_excel_unicode_text_utf16_tab_separated_is_read(tmp_path):
    # Excel's Save As "Unicode Text": UTF-16 little-endian with a BOM, tab-separated, CRLF.
    path = tmp_path / "drugs.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + _drugs_text("\t").encode("utf-16-le"))
    drugs = load_table(path, "drugs")
    assert drugs["ndc"].tolist() == NORMALIZED
    assert drugs["drug_name"].tolist() == ["Drug A 5 mg tablet", "Drug B vial"]


def test_utf16_big_endian_and_without_bom_are_read(tmp_path):
    path = tmp_path / "be.txt"
    path.write_bytes(codecs.BOM_UTF16_BE + _drugs_text("\t").encode("utf-16-be"))
    assert load_table(path, "drugs")["ndc"].tolist() == NORMALIZED
    path = tmp_path / "le.csv"
    path.write_bytes(_drugs_text(",").encode("utf-16-le"))
    assert load_table(path, "drugs")["ndc"].tolist() == NORMALIZED


def test_a_tab_separated_utf8_file_is_read_and_its_line_problems_say_tab(tmp_path):
    path = tmp_path / "drugs.txt"
    path.write_text(_drugs_text("\t"), encoding="utf-8")
    assert load_table(path, "drugs")["ndc"].tolist() == NORMALIZED
    path.write_text(_drugs_text("\t") + "0002-7597-02\tDrug C\tN\textra\r\n", encoding="utf-8")
    text = refusal(path, "drugs")
    assert "line 4 has 4 fields where the header has 3; look for a missing or extra tab" in text
    assert "comma" not in text


def test_a_semicolon_separated_file_is_refused_in_one_line(tmp_path):
    path = tmp_path / "drugs.csv"
    path.write_text(_drugs_text(";"), encoding="utf-8")
    with within(20), pytest.raises(DataValidationError) as caught:
        load_table(path, "drugs")
    assert caught.value.total == 1
    text = str(caught.value)
    assert f"{path}: values are separated by semicolons, not commas" in text
    assert "decimal comma" in text


def test_a_binary_file_named_csv_is_refused_as_not_text(tmp_path):
    path = tmp_path / "orphan_drugs.csv"
    path.write_bytes(b"ndc\x00\x01\x02\xff\xfe\x00\x00\x07" * 100)
    text = refusal(path)
    assert f"{path}: the file holds NUL bytes" in text


def _two_sheets(path: Path, first: str = "Summary") -> Path:
    book = openpyxl.Workbook()
    book.active.title = first
    book.active["A1"] = "Orphan drug list, as of October"
    data = book.create_sheet("Orphans")
    data.append(["ndc"])
    for ndc in NDCS:
        data.append([ndc])
    book.create_sheet("x" * 31)  # Excel's longest sheet name is still shown
    book.create_sheet("Notes\u200b")  # not printable: counted, not shown
    book.save(path)
    return path


def test_the_first_sheet_lacking_the_columns_names_the_other_sheets_and_sheet(tmp_path):
    path = _two_sheets(tmp_path / "orphans.xlsx")
    text = refusal(path)
    assert 'column "ndc" is missing' in text
    assert (f'{path}, sheet "Summary": the first sheet lacks the table\'s columns; the other'
            f' sheets are "Orphans", "{"x" * 31}" and 1 more: name the one that holds the table'
            " with --sheet (sheet= in Python)") in text
    assert load_table(path, "orphan_drugs", sheet="Orphans")["ndc"].tolist() == NORMALIZED


def test_an_empty_first_sheet_names_the_other_sheets(tmp_path):
    path = _two_sheets(tmp_path / "orphans.xlsx")
    book = openpyxl.load_workbook(path)
    book["Summary"]["A1"] = None
    book.save(path)
    text = refusal(path)
    assert 'the other sheets are "Orphans"' in text and "--sheet" in text


def test_the_hint_is_not_given_when_the_sheet_was_named(tmp_path):
    path = _two_sheets(tmp_path / "orphans.xlsx")
    assert "other sheets" not in refusal(path, sheet="Summary")


# --- CLI: --sheet, denials on no claims, example --data ----------------------------------------


def test_audit340b_and_denials_take_sheet(tmp_path, capsys):
    from rxxl.cli import build_parser
    parser = build_parser()
    args = parser.parse_args(["audit340b", "--claims", "c.xlsx", "--reference", "r",
                              "--out", "o.csv", "--sheet", "Claims"])
    assert args.sheet == "Claims"
    args = parser.parse_args(["denials", "--claims", "c.xlsx", "--out", "o.csv",
                              "--sheet", "Claims"])
    assert args.sheet == "Claims"


def test_denials_reads_the_named_sheet(tmp_path, capsys):
    # Two denied of four claims in one month for one payer: the month's rate is 2/4 = 50%.
    from rxxl.cli import DENIAL_COLUMNS
    rows = [("2026-10-0" + str(day), "Acme", "commercial", "S01", status, "75" if status ==
             "denied" else "", "", "100", "0" if status == "denied" else "100", "")
            for day, status in ((1, "paid"), (2, "denied"), (3, "denied"), (4, "paid"))]
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active["A1"] = "claims on the next sheet"
    sheet = book.create_sheet("Claims")
    sheet.append(list(DENIAL_COLUMNS))
    for row in rows:
        sheet.append(list(row))
    book.save(tmp_path / "claims.xlsx")
    out = tmp_path / "trend.csv"
    assert main(["denials", "--claims", str(tmp_path / "claims.xlsx"), "--out", str(out),
                 "--sheet", "Claims"]) == 0
    trend = pd.read_csv(out)
    assert trend["denial_rate"].tolist() == [0.5]


def test_denials_on_no_claims_says_so(tmp_path, capsys):
    from rxxl.cli import DENIAL_COLUMNS
    claims = tmp_path / "claims.csv"
    claims.write_text(",".join(DENIAL_COLUMNS) + "\n")
    assert main(["denials", "--claims", str(claims), "--out", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert f"rxxl denials: {claims}: no claims" in err
    assert "range()" not in err
    assert not (tmp_path / "t.csv").exists()


def test_audit340b_on_no_claims_says_so_and_writes_nothing(tmp_path, capsys):
    """An audit of no claims is no audit: exit 2 with the reason, not an empty result
    that reads as a clean month."""
    from rxxl.data.synthetic import generate

    generate(tmp_path / "sample", size="small")
    header = pd.read_parquet(tmp_path / "sample" / "claims" / "2026-10.parquet").head(0)
    claims = tmp_path / "claims.csv"
    header.to_csv(claims, index=False)
    out = tmp_path / "audit.csv"
    assert main(["audit340b", "--claims", str(claims), "--reference",
                 str(tmp_path / "sample"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"rxxl audit340b: {claims}: no claims" in err
    assert not out.exists()


def _example_folder(tmp_path: Path) -> Path:
    from importlib import resources
    folder = tmp_path / "figures"
    folder.mkdir()
    for name in ("budget_lines.csv", "drug_spend.csv", "inventory.csv", "capital_request.csv"):
        (folder / name).write_bytes(
            (resources.files("rxxl") / "example_data" / name).read_bytes())
    return folder


def test_example_data_gives_the_bundled_figures(tmp_path, capsys):
    assert main(["example"]) == 0
    bundled = capsys.readouterr().out
    assert main(["example", "--data", str(_example_folder(tmp_path))]) == 0
    assert capsys.readouterr().out == bundled


def test_example_data_errors_name_file_line_and_column(tmp_path, capsys):
    folder = _example_folder(tmp_path)
    lines = (folder / "inventory.csv").read_text().splitlines()
    lines[2] = lines[2].replace("31", "thirty-one")
    (folder / "inventory.csv").write_text("\n".join(lines) + "\n")
    assert main(["example", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f'{folder / "inventory.csv"}, line 3, column "days_in_period"' in err
    assert "Traceback" not in err


def test_example_data_without_a_column_names_the_file(tmp_path, capsys):
    folder = _example_folder(tmp_path)
    text = (folder / "capital_request.csv").read_text().replace("cash_flow", "flow")
    (folder / "capital_request.csv").write_text(text)
    assert main(["example", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f'{folder / "capital_request.csv"}: column "cash_flow" is missing' in err


# --- item 5: the template is checked before any data is loaded --------------------------------


@pytest.fixture
def no_loading(monkeypatch):
    """build_report fails loudly if it gets as far as loading the data folder."""
    from rxxl.reports import monthly

    def loaded(*_, **__):
        raise AssertionError("the data folder was loaded before the template was checked")
    monkeypatch.setattr(monthly, "load_inputs", loaded)


def test_a_corrupt_template_fails_before_the_data_is_loaded(tmp_path, no_loading, capsys):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "monthly_package.xlsx").write_bytes(b"PK\x03\x04 damaged")
    assert main(["report", "--data", str(tmp_path), "--month", "2026-10", "--out",
                 str(tmp_path / "out"), "--templates", str(templates)]) == 2
    err = capsys.readouterr().err
    assert f"{templates / 'monthly_package.xlsx'}: the template cannot be read as an Excel" \
           " workbook" in err
    assert "rxxl templates build" in err


def test_a_template_without_its_tables_fails_before_the_data_is_loaded(tmp_path, no_loading,
                                                                        capsys):
    from rxxl.reports.templates import build_template
    templates = tmp_path / "templates"
    path = build_template(templates / "monthly_package.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = next(s for s in book.worksheets if "cover" in s.tables)
    del sheet.tables["cover"]
    book.save(path)
    assert main(["report", "--data", str(tmp_path), "--month", "2026-10", "--out",
                 str(tmp_path / "out"), "--templates", str(templates)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: the template has no Excel table named cover" in err


# --- Found by the full hostile run (bench/hostile.py) ------------------------------------------


def test_sites_naming_entities_the_entity_table_lacks_are_refused(tmp_path):
    """Site id and entity id swapped in sites.csv: every code still looks like a code, but
    the sites now belong to entities that entity.csv does not list, and every claim of
    theirs would be audited against a registration that does not exist."""
    from rxxl.data import load_reference
    from rxxl.data.synthetic import generate

    generate(tmp_path / "s", size="small")
    sites = pd.read_csv(tmp_path / "s" / "sites.csv", dtype=str)
    swapped = sites.rename(columns={"site_id": "entity_id", "entity_id": "site_id"})
    swapped[sites.columns].to_csv(tmp_path / "s" / "sites.csv", index=False)
    entity = pd.read_csv(tmp_path / "s" / "entity.csv", dtype=str)
    unknown = int((~sites["site_id"].isin(entity["entity_id"])).sum())
    with pytest.raises(DataValidationError) as caught:
        load_reference(tmp_path / "s")
    text = str(caught.value)
    assert "sites.csv" in text and "entity_id" in text
    assert f"sites.csv: {unknown} rows name an entity_id" in text  # child sites' ids
    assert "(entity.csv)" in text


def test_prescribers_of_an_entity_the_entity_table_lacks_are_refused(tmp_path):
    from rxxl.data import load_reference
    from rxxl.data.synthetic import generate

    generate(tmp_path / "s", size="small")
    path = tmp_path / "s" / "prescribers.csv"
    prescribers = pd.read_csv(path, dtype=str, keep_default_na=False)
    prescribers.loc[:1, "entity_id"] = "DSH999999"
    prescribers.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as caught:
        load_reference(tmp_path / "s")
    assert "prescribers.csv: 2 rows name an entity_id that the entity table (entity.csv)" \
        " does not list (first: DSH999999)" in str(caught.value)


def test_a_text_value_longer_than_an_excel_cell_is_refused_without_echo(tmp_path):
    """No field of these tables is 32,768 characters or more, and no workbook could hold
    it (Excel's limit is 32,767): refused, naming line and column, not the value."""
    path = tmp_path / "drugs.csv"
    long_name = "Q" * 40_000
    path.write_text("ndc,drug_name,mony_code\n00002759701,ok,N\n"
                    f"51655008952,{long_name},Y\n")
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "drugs")
    text = str(caught.value)
    assert "line 3" in text and "drug_name" in text
    assert "longer than 32,767 characters" in text
    assert "QQQQ" not in text


def test_report_for_a_month_the_data_does_not_cover_is_refused(tmp_path, capsys):
    from rxxl.data.synthetic import generate

    generate(tmp_path / "data", size="small")
    assert main(["report", "--data", str(tmp_path / "data"), "--month", "1999-01",
                 "--out", str(tmp_path / "reports")]) == 2
    err = capsys.readouterr().err
    assert "1999-01" in err and "2024-11" in err and "2026-10" in err
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_a_template_too_large_uncompressed_is_refused_before_it_is_opened(
        tmp_path, no_loading, capsys, monkeypatch):
    """The template goes through the same zip checks as a data workbook (a zip bomb under
    the template's name would otherwise be inflated by openpyxl)."""
    from rxxl.reports.templates import build_template
    templates = tmp_path / "templates"
    build_template(templates / "monthly_package.xlsx")
    monkeypatch.setattr(readers, "MAX_XLSX_UNCOMPRESSED_BYTES", 1_000)
    assert main(["report", "--data", str(tmp_path), "--month", "2026-10", "--out",
                 str(tmp_path / "out"), "--templates", str(templates)]) == 2
    err = capsys.readouterr().err
    assert f"{templates / 'monthly_package.xlsx'}: the workbook holds" in err
    assert "rxxl templates build" in err

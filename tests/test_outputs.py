"""Result files: atomic, and no text from data ever becomes a formula."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from rxxl.errors import InputError
from rxxl.outputs import atomic_path, write_table

RISKY = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "C-1 ok"]


def test_xlsx_writes_risky_text_as_text(tmp_path):
    frame = pd.DataFrame({"claim_id": RISKY, "amount": [1.5, -2.0, 0.0, None, 3.0, 4.0]})
    path = write_table(frame, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = [sheet.cell(row=i + 2, column=1) for i in range(len(RISKY))]
    assert [c.value for c in cells] == RISKY
    assert {c.data_type for c in cells} == {"s"}
    assert sheet.cell(row=3, column=2).value == -2.0
    assert sheet.freeze_panes == "A2"


def test_csv_prefixes_risky_text_but_not_numbers(tmp_path):
    frame = pd.DataFrame({"claim_id": RISKY, "amount": [-1.0] * len(RISKY)})
    path = write_table(frame, tmp_path / "out.csv")
    text = pd.read_csv(path, dtype=str)
    assert text["claim_id"].tolist()[:5] == ["'" + v for v in RISKY[:5]]
    assert text["claim_id"].tolist()[5] == "C-1 ok"
    assert set(text["amount"]) == {"-1.0"}


def test_failed_write_keeps_the_earlier_file(tmp_path):
    target = tmp_path / "report.csv"
    target.write_text("earlier")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "earlier"
    assert list(tmp_path.iterdir()) == [target]


def test_other_formats_and_oversized_xlsx_are_refused(tmp_path, monkeypatch):
    with pytest.raises(InputError, match=".csv or .xlsx"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.json")
    monkeypatch.setattr("rxxl.outputs.EXCEL_MAX_DATA_ROWS", 2)
    with pytest.raises(InputError, match="write .csv instead"):
        write_table(pd.DataFrame({"a": [1, 2, 3]}), tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


#: Control characters inside text fields (none at the start, where the formula guard adds
#: its apostrophe): a bare CR, LF, CRLF, NUL, ESC, tab and a trailing CR.
CONTROL = ["a\rb", "c\nd", "e\r\nf", "g\x00h", "i\x1bj", "k\tl", "m\r"]


def _ooxml_text(text: str) -> str:
    """Text as Excel reads a cell's XML string (ECMA-376 ST_Xstring): _xHHHH_ is the
    character HHHH; _x005F_ before such a sequence keeps it literal."""
    import re

    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), text)


def test_csv_keeps_one_record_per_row_whatever_the_control_characters(tmp_path):
    import csv

    frame = pd.DataFrame({"claim_id": CONTROL, "amount": range(len(CONTROL))})
    path = write_table(frame, tmp_path / "out.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    # 7 records and a header, each record's text what was written (a NUL byte as U+FFFD).
    shown = [text.replace("\x00", "\ufffd") for text in CONTROL]
    assert rows == [["claim_id", "amount"], *([text, str(i)] for i, text in enumerate(shown))]
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back["claim_id"].tolist() == shown


def test_csv_with_a_nul_in_the_data_is_a_text_file_rxxl_reads_back(tmp_path):
    """A NUL byte makes a CSV binary to rxxl's reader (and to many tools); an output CSV
    never holds one: the character is written as U+FFFD, the replacement character."""
    from rxxl.data import load_table
    from rxxl.data.synthetic import generate

    generate(tmp_path / "sample", size="small")
    claims = load_table(tmp_path / "sample" / "claims" / "2026-10.parquet", "claims").head(5)
    claims["drug_name"] = claims["drug_name"].astype(object)
    claims.loc[0, "drug_name"] = "lot\x00 7"
    path = write_table(claims, tmp_path / "claims.csv")
    assert b"\x00" not in path.read_bytes()
    back = load_table(path, "claims")
    assert back["drug_name"].iloc[0] == "lot\ufffd 7"


def test_csv_of_claims_loads_back_with_every_claim(tmp_path):
    from rxxl.data import load_table
    from rxxl.data.synthetic import generate

    generate(tmp_path / "sample", size="small")
    claims = load_table(tmp_path / "sample" / "claims" / "2026-10.parquet", "claims").head(20)
    claims["drug_name"] = claims["drug_name"].astype(object)
    # The loader trims "m\r", and refuses a file holding a NUL byte as not text at all.
    texts = [text for text in CONTROL[:-1] if "\x00" not in text]
    claims.loc[: len(texts) - 1, "drug_name"] = texts
    path = write_table(claims, tmp_path / "claims.csv")
    back = load_table(path, "claims")
    assert len(back) == 20
    assert back["drug_name"].tolist() == claims["drug_name"].tolist()


def test_xlsx_holds_control_characters_as_excel_escapes(tmp_path):
    literal = "lot _x0041_ as typed"
    frame = pd.DataFrame({"claim_id": [*CONTROL, literal], "amount": range(len(CONTROL) + 1)})
    path = write_table(frame, tmp_path / "out.xlsx")  # openpyxl refused \x00 and \x1b
    sheet = openpyxl.load_workbook(path).active
    shown = [sheet.cell(row=i + 2, column=1).value for i in range(len(CONTROL) + 1)]
    # Excel, LibreOffice and XlsxWriter read and write XML-illegal characters, and the CR that
    # XML would turn into LF, as _xHHHH_; tab and LF stay as they are.
    assert [_ooxml_text(text) for text in shown[:-1]] == CONTROL
    assert shown[0] == "a_x000D_b" and shown[5] == "k\tl"
    assert shown[-1] == "lot _x005F_x0041_ as typed"
    assert _ooxml_text(shown[-1]) == literal

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

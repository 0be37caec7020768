"""The ribbon's actions, run on a stand-in for an xlwings Book backed by openpyxl.

The stand-in has exactly the part of xlwings' API that :mod:`rxxl.ribbon` documents using,
with xlwings' semantics for it (``expand="table"`` stops at the first blank row and
column; a DataFrame is written with its header). Results are saved as real .xlsx files and
read back with rxxl's own loader.
"""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import Workbook

from rxxl import __version__, ribbon
from rxxl.data import load_table
from rxxl.data.synthetic import generate


class FakeApp:
    def __init__(self):
        self.alerts: list[tuple[str, str]] = []

    def alert(self, prompt, title=None):
        self.alerts.append((prompt, title))


class FakeRange:
    def __init__(self, sheet, options=None):
        self.sheet, self._options = sheet, options or {}

    def options(self, convert=None, **options):
        return FakeRange(self.sheet, {"convert": convert, **options})

    def _table(self):
        ws = self.sheet.ws
        width = 0
        while ws.cell(1, width + 1).value not in (None, ""):
            width += 1
        rows = []
        for row in ws.iter_rows(min_row=1, max_col=width, values_only=True):
            if all(value in (None, "") for value in row):
                break
            rows.append(list(row))
        return rows

    @property
    def value(self):
        rows = self._table()
        if self._options.get("convert") is pd.DataFrame:
            return pd.DataFrame(rows[1:], columns=rows[0])
        return rows or None

    @value.setter
    def value(self, value):
        if self.sheet.fail_writes:
            self.sheet.fail_writes = False  # a transient failure, as when Excel is busy
            raise OSError("Excel is busy")
        if isinstance(value, pd.DataFrame):
            rows = [list(value.columns)] + value.values.tolist()
        elif value is None:
            return
        else:
            rows = value if isinstance(value[0], list) else [value]
        for r, row in enumerate(rows, start=1):
            for c, cell in enumerate(row, start=1):
                self.sheet.ws.cell(r, c).value = cell


class FakeUsedRange:
    def __init__(self, sheet):
        self.sheet = sheet

    @property
    def value(self):
        return [list(row) for row in self.sheet.ws.iter_rows(values_only=True)] or None


class FakeSheet:
    def __init__(self, book, ws):
        self.book, self.ws, self.fail_writes = book, ws, False

    @property
    def name(self):
        return self.ws.title

    @property
    def used_range(self):
        return FakeUsedRange(self)

    def range(self, address):
        assert address == "A1"
        return FakeRange(self)

    def clear_contents(self):
        for row in self.ws.iter_rows():
            for cell in row:
                cell.value = None

    def delete(self):
        self.book.wb.remove(self.ws)


class FakeSheets:
    def __init__(self, book):
        self.book = book

    def __iter__(self):
        return iter([self[ws.title] for ws in self.book.wb.worksheets])

    def __getitem__(self, key):
        ws = self.book.wb.worksheets[key] if isinstance(key, int) else self.book.wb[key]
        return self.book.sheet_objects.setdefault(ws.title, FakeSheet(self.book, ws))

    def add(self, name, after=None):
        index = self.book.wb.worksheets.index(after.ws) + 1 if after else 0
        self.book.wb.create_sheet(name, index)
        sheet = self[name]
        sheet.fail_writes = self.book.fail_new_sheets
        return sheet


class FakeBook:
    def __init__(self, name="Budget.xlsx"):
        self.name, self.wb, self.app = name, Workbook(), FakeApp()
        self.wb.active.title = "Notes"
        self.sheet_objects: dict[str, FakeSheet] = {}
        self.fail_new_sheets = False
        self.sheets = FakeSheets(self)

    def add_sheet(self, name, rows):
        self.wb.create_sheet(name)
        sheet = self.sheets[name]
        sheet.range("A1").value = rows
        return sheet


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    generate(folder, size="small", seed=7, end_month="2026-10")
    claims = load_table(folder / "claims" / "2026-10.parquet", "claims").head(120)
    return folder, claims


@pytest.fixture(autouse=True)
def no_user_settings(monkeypatch, tmp_path):
    for key in ribbon.SETTINGS:
        monkeypatch.delenv(f"RXXL_{key}", raising=False)
    monkeypatch.setattr("rxxl.addin.install.user_config_path", lambda: tmp_path / "none.conf")


def _claims_book(claims) -> FakeBook:
    book = FakeBook()
    book.wb.create_sheet("claims")
    ribbon._write_frame(book.sheets["claims"], claims)
    return book


def test_every_button_has_an_action():
    assert set(ribbon.ACTIONS) == {"rx_refresh", "rx_audit340b", "rx_report",
                                   "rx_insert_template", "rx_help"}


def test_dispatch_shows_about_in_a_message_box():
    book = FakeBook()
    message = ribbon.dispatch("rx_help", book)
    assert book.app.alerts == [(message, "Rx Finance")]
    assert f"rxxl {__version__}" in message and "Workbook: Budget.xlsx" in message


def test_dispatch_uses_the_calling_book(monkeypatch):
    import xlwings

    book = FakeBook()
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book), raising=False)
    ribbon.dispatch("rx_help")
    assert len(book.app.alerts) == 1


def test_unknown_button_is_a_message():
    book = FakeBook()
    assert "no action for the button 'rx_nope'" in ribbon.dispatch("rx_nope", book)


def test_unexpected_errors_are_messages_not_tracebacks(monkeypatch):
    def broken(book):
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(ribbon.ACTIONS, "rx_help", ("Help/About", broken))
    message = ribbon.dispatch("rx_help", FakeBook())
    assert message.startswith("Help/About failed unexpectedly (ZeroDivisionError: boom)")
    assert "Traceback" not in message


def test_settings_come_from_sheet_then_environment_then_user_file(monkeypatch, tmp_path):
    book = FakeBook()
    conf = tmp_path / "user.conf"
    conf.write_text('"DATA_DIR","from-file"\r\n"REPORT_DIR","reports-file"\r\n')
    monkeypatch.setattr("rxxl.addin.install.user_config_path", lambda: conf)
    monkeypatch.setenv("RXXL_REPORT_DIR", "reports-env")
    book.add_sheet("rxxl.conf", [["Data_Dir", "from-sheet"]])
    assert ribbon.setting(book, "DATA_DIR") == "from-sheet"
    assert ribbon.setting(book, "REPORT_DIR") == "reports-env"
    monkeypatch.delenv("RXXL_REPORT_DIR")
    assert ribbon.setting(book, "REPORT_DIR") == "reports-file"
    assert ribbon.setting(book, "TEMPLATE") is None


def test_refresh_reloads_sheets_named_after_tables(sample, tmp_path):
    folder, claims = sample
    data = tmp_path / "data"
    data.mkdir()
    claims.head(40).to_csv(data / "claims.csv", index=False)
    book = _claims_book(claims.head(5))
    message = ribbon.refresh_data(book, data)
    assert message == f"Refreshed from {data}: claims 40 rows."
    saved = tmp_path / "refreshed.xlsx"
    book.wb.save(saved)
    again = load_table(saved, "claims", sheet="claims")
    pd.testing.assert_frame_equal(again, load_table(data / "claims.csv", "claims"))


def test_refresh_with_an_invalid_file_changes_nothing(sample, tmp_path):
    _, claims = sample
    (tmp_path / "claims.csv").write_text("claim_id,service_date\nC1,yesterday\n")
    book = _claims_book(claims.head(3))
    before = book.sheets["claims"].used_range.value
    book.add_sheet("rxxl.conf", [["DATA_DIR", str(tmp_path)]])
    message = ribbon.dispatch("rx_refresh", book)
    assert message.startswith("Refresh data did not run:")
    assert book.sheets["claims"].used_range.value == before


def test_refresh_failing_half_way_puts_the_old_values_back(sample, tmp_path):
    _, claims = sample
    for name in ("budget_lines", "claims"):
        load = load_table(sample[0] / ("claims" if name == "claims" else f"{name}.csv"), name)
        load.head(10).to_csv(tmp_path / f"{name}.csv", index=False)
    book = _claims_book(claims.head(3))
    book.add_sheet("budget_lines", [["old", "table"], [1, 2]])
    before = {name: book.sheets[name].used_range.value for name in ("claims", "budget_lines")}
    book.sheets["budget_lines"].fail_writes = True
    with pytest.raises(OSError, match="busy"):
        ribbon.refresh_data(book, tmp_path)
    after = {name: book.sheets[name].used_range.value for name in before}
    assert after["claims"][: len(before["claims"])] == before["claims"]
    assert all(v is None for row in after["claims"][len(before["claims"]):] for v in row)
    assert after["budget_lines"][:2] == before["budget_lines"]


def test_refresh_without_table_sheets_says_how_to_name_them():
    message = ribbon.dispatch("rx_refresh", FakeBook())
    assert "name a sheet after an rxxl table" in message


def test_340b_audit_writes_a_new_sheet(sample, tmp_path):
    folder, claims = sample
    book = _claims_book(claims)
    book.add_sheet("rxxl.conf", [["REFERENCE_DIR", str(folder)]])
    message = ribbon.dispatch("rx_audit340b", book)
    assert message.startswith(f"340B audit of {len(claims)} claims:"), message
    assert message.endswith("Written to sheet 340B audit.")
    ribbon.dispatch("rx_audit340b", book)
    assert [s.name for s in book.sheets] == ["Notes", "claims", "rxxl.conf", "340B audit",
                                             "340B audit (2)"]
    saved = tmp_path / "audited.xlsx"
    book.wb.save(saved)
    audit = pd.read_excel(saved, sheet_name="340B audit", dtype={"claim_id": str})
    assert list(audit["claim_id"]) == list(claims["claim_id"])
    assert set(audit["status"]) <= {"compliant", "violation", "review"}


def test_340b_audit_that_fails_to_write_leaves_no_sheet(sample):
    folder, claims = sample
    book = _claims_book(claims.head(20))
    book.add_sheet("rxxl.conf", [["REFERENCE_DIR", str(folder)]])
    book.fail_new_sheets = True
    message = ribbon.dispatch("rx_audit340b", book)
    assert "did not run: Excel is busy" in message
    assert [s.name for s in book.sheets] == ["Notes", "claims", "rxxl.conf"]


def test_340b_audit_needs_a_claims_sheet_and_reference_folder(sample):
    assert "no claims sheet" in ribbon.dispatch("rx_audit340b", FakeBook())
    book = _claims_book(sample[1].head(3))
    assert "RXXL_REFERENCE_DIR" in ribbon.dispatch("rx_audit340b", book)


def test_text_that_looks_like_a_formula_is_written_as_text():
    book = FakeBook()
    ribbon.write_new_sheet(book, "Result", pd.DataFrame({"note": ["=HYPERLINK(1)", "ok"],
                                                         "n": [1.0, None]}))
    values = book.sheets["Result"].used_range.value
    assert values == [["note", "n"], ["'=HYPERLINK(1)", 1.0], ["ok", None]]


def test_report_buttons_need_their_settings():
    book = FakeBook()
    assert "no DATA_DIR set" in ribbon.dispatch("rx_report", book)
    assert "no TEMPLATE set" in ribbon.dispatch("rx_insert_template", book)


def test_previous_month():
    import datetime as dt

    assert ribbon._previous_month(dt.date(2026, 1, 15)) == "2025-12"

"""The ribbon's actions, run on a stand-in for an xlwings Book backed by openpyxl.

The stand-in has exactly the part of xlwings' API that :mod:`rxxl.ribbon` and
:mod:`rxxl.reports.template_sheet` document using, with xlwings' semantics for it
(``expand="table"`` stops at the first blank row and column; a DataFrame is written with its
header; ``books.open`` returns a book that is open already; ``sheet.copy`` lets Excel name the
copy, then renames it). Results are saved as real .xlsx files and read back with rxxl's own
loader or openpyxl.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from copy import copy
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import NamedStyle
from openpyxl.worksheet.table import Table

from rxxl import __version__, ribbon
from rxxl.data import load_table
from rxxl.data.synthetic import generate
from rxxl.reports import style
from rxxl.reports.monthly import detail_name, package_name
from rxxl.reports.template_sheet import new_sheet_name
from rxxl.reports.templates import SHEETS, TEMPLATE_FILE, build_template

MONTH = "2026-10"


class FakeBooks:
    """``app.books``: the open books; ``open`` loads an .xlsx file with openpyxl."""

    def __init__(self, app):
        self.app, self.open_books, self.opened = app, [], []

    def __iter__(self):
        return iter(list(self.open_books))

    def open(self, fullname, update_links=None, read_only=None, add_to_mru=None):
        path = Path(fullname)
        if not path.exists():
            raise FileNotFoundError(f"No such file: '{fullname}'")
        for book in self.open_books:  # as xlwings: a book open already is returned
            if book.name.lower() == path.name.lower():
                if os.path.samefile(book.fullname, path):
                    return book
                raise ValueError(f"Cannot open two workbooks named '{path.name}'")
        self.opened.append({"fullname": str(fullname), "read_only": read_only,
                            "update_links": update_links, "add_to_mru": add_to_mru})
        return FakeBook(path.name, app=self.app, path=path)


class FakeApp:
    def __init__(self):
        self.alerts: list[tuple[str, str]] = []
        self.books = FakeBooks(self)

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
        # Reading looks cells up without creating them (ws.cell would), as Excel's reads do.
        while getattr(ws._cells.get((1, width + 1)), "value", None) not in (None, ""):
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

    def copy(self, before=None, after=None, name=None):
        """Excel's sheet copy, to another book: values, formulas, styles, widths, tables."""
        assert before is None and after is not None, "rxxl copies after a sheet"
        target = after.book
        if name and name.lower() in (sheet.name.lower() for sheet in target.sheets):
            raise ValueError(f"Sheet named '{name}' already present in workbook")
        # Excel names the copy itself ("Capital (2)" on a clash); xlwings renames it after.
        excel_name, number = self.name, 2
        while excel_name.lower() in (sheet.name.lower() for sheet in target.sheets):
            excel_name, number = f"{self.name} ({number})", number + 1
        ws = target.wb.create_sheet(excel_name, target.wb.worksheets.index(after.ws) + 1)
        _copy_cells(self.ws, ws)
        if target.fail_copies:
            raise OSError("Excel is busy")  # half-way: the copy is there, not renamed
        _copy_sheet_setup(self.ws, ws)
        if name:
            ws.title = name
        return target.sheets[ws.title]


class FakeSheets:
    def __init__(self, book):
        self.book = book

    def __iter__(self):
        return iter([self[ws.title] for ws in self.book.wb.worksheets])

    def __getitem__(self, key):
        ws = self.book.wb.worksheets[key] if isinstance(key, int) else self.book.wb[key]
        sheet = self.book.sheet_objects.get(ws.title)
        if sheet is None or sheet.ws is not ws:  # a deleted sheet's name may come back
            sheet = self.book.sheet_objects[ws.title] = FakeSheet(self.book, ws)
        return sheet

    def add(self, name, after=None):
        index = self.book.wb.worksheets.index(after.ws) + 1 if after else 0
        self.book.wb.create_sheet(name, index)
        sheet = self[name]
        sheet.fail_writes = self.book.fail_new_sheets
        return sheet


class FakeBook:
    """An open book: new (one sheet, Notes) or loaded from ``path``."""

    def __init__(self, name="Budget.xlsx", app=None, path=None):
        self.name, self.app = name, app or FakeApp()
        # xlwings gives a new, unsaved book's name as its full name.
        self.fullname = str(path) if path else name
        if path:
            self.wb = load_workbook(path)
        else:
            self.wb = Workbook()
            self.wb.active.title = "Notes"
        self.sheet_objects: dict[str, FakeSheet] = {}
        self.fail_new_sheets = self.fail_copies = False
        self.sheets = FakeSheets(self)
        self.app.books.open_books.append(self)

    def close(self):
        """Close without saving, as xlwings' ``Book.close``."""
        self.app.books.open_books.remove(self)

    def add_sheet(self, name, rows):
        self.wb.create_sheet(name)
        sheet = self.sheets[name]
        sheet.range("A1").value = rows
        return sheet


def _copy_cells(source, target):
    for row in source.iter_rows():
        for cell in row:
            new = target.cell(cell.row, cell.column, cell.value)
            if cell.has_style:
                _copy_style(cell, new)


def _copy_style(cell, new):
    # Styles live in each workbook's own tables: carry the named style across, then the
    # cell's own font, fill, ... on top of it, as Excel does.
    named = cell.style
    if named not in new.parent.parent.named_styles:
        found = next(s for s in cell.parent.parent._named_styles if s.name == named)
        new.parent.parent.add_named_style(NamedStyle(
            name=found.name, font=copy(found.font), fill=copy(found.fill),
            border=copy(found.border), alignment=copy(found.alignment),
            number_format=found.number_format, protection=copy(found.protection)))
    new.style = named
    new.font, new.fill, new.border = copy(cell.font), copy(cell.fill), copy(cell.border)
    new.alignment, new.protection = copy(cell.alignment), copy(cell.protection)
    new.number_format = cell.number_format


def _copy_sheet_setup(source, target):
    for key, dimension in source.column_dimensions.items():
        target.column_dimensions[key].width = dimension.width
    for key, dimension in source.row_dimensions.items():
        target.row_dimensions[key].height = dimension.height
    for merged in source.merged_cells.ranges:
        target.merge_cells(str(merged))
    target.freeze_panes = source.freeze_panes
    for formatting in source.conditional_formatting:
        for rule in formatting.rules:
            target.conditional_formatting.add(str(formatting.sqref), copy(rule))
    taken = {name for ws in target.parent.worksheets for name in ws.tables}
    for table in source.tables.values():
        # Table names are unique in a workbook: Excel numbers a copy whose name is taken.
        name, number = table.displayName, 2
        while name in taken:
            name, number = f"{table.displayName}{number}", number + 1
        copied = Table(displayName=name, ref=table.ref,
                       tableStyleInfo=copy(table.tableStyleInfo))
        target.add_table(copied)
        taken.add(name)


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
                                   "rx_audit_pack", "rx_insert_template", "rx_help"}


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


def test_every_message_says_when_the_add_in_is_older_than_rxxl(monkeypatch):
    stale = ("The add-in was built for rxxl 0.0.1 (now 9.9): close Excel and run"
             " `rxxl addin install`")
    monkeypatch.setattr("rxxl.addin.install.drift", lambda where=None: stale)
    book = FakeBook()
    message = ribbon.dispatch("rx_help", book)
    assert message.startswith(f"rxxl {__version__}") and message.endswith("\n\n" + stale)
    assert ribbon.dispatch("rx_refresh", book).endswith(stale)  # a failed action too


def test_about_names_the_versions_the_add_in_was_built_for(monkeypatch):
    monkeypatch.setattr("rxxl.addin.install.locations", lambda: None)
    monkeypatch.setattr("rxxl.addin.install.installed_versions",
                        lambda where: {"rxxl": "0.0.1", "xlwings": "0.30.11"})
    monkeypatch.setattr("rxxl.addin.install.drift", lambda where=None: None)
    assert "Add-in built for: rxxl 0.0.1, xlwings 0.30.11" in ribbon.dispatch("rx_help",
                                                                            FakeBook())


def test_a_broken_version_check_does_not_stop_a_button(monkeypatch):
    def broken(where=None):
        raise RuntimeError("unreadable")

    monkeypatch.setattr("rxxl.addin.install.drift", broken)
    assert ribbon.dispatch("rx_help", FakeBook()).startswith(f"rxxl {__version__}")


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


def test_a_conf_file_beside_the_workbook_comes_after_the_sheet(monkeypatch, tmp_path):
    # As the add-in's xlwings module: sheet, then rxxl.conf in the workbook's folder, then
    # the user's file (RXXL_ environment variables between the two files).
    folder = tmp_path / "finance"
    folder.mkdir()
    saved = folder / "Budget.xlsx"
    FakeBook().wb.save(saved)
    (folder / "rxxl.conf").write_text('"DATA_DIR","beside"\r\n"report_dir","beside-reports"\r\n')
    user = tmp_path / "user.conf"
    user.write_text('"DATA_DIR","user"\r\n"TEMPLATE","Checks"\r\n"REPORT_DIR","user-reports"\r\n')
    monkeypatch.setattr("rxxl.addin.install.user_config_path", lambda: user)
    monkeypatch.setenv("RXXL_REPORT_DIR", "reports-env")
    book = FakeBook(path=saved)
    assert ribbon.setting(book, "DATA_DIR") == "beside"
    assert ribbon.setting(book, "REPORT_DIR") == "beside-reports"
    assert ribbon.setting(book, "TEMPLATE") == "Checks"
    book.add_sheet("rxxl.conf", [["DATA_DIR", "sheet"]])
    assert ribbon.setting(book, "DATA_DIR") == "sheet"


@pytest.mark.parametrize("fullname", [
    "Book1",  # new and unsaved: its full name is its name, not a file in the current folder
    "https://contoso.sharepoint.com/sites/pharmacy/Shared Documents/Budget.xlsx",
])
def test_no_folder_file_for_unsaved_or_web_workbooks(monkeypatch, tmp_path, fullname):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rxxl.conf").write_text('"DATA_DIR","current-folder"\r\n')
    book = FakeBook()
    book.fullname = fullname
    assert ribbon.setting(book, "DATA_DIR") is None


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


def test_report_button_needs_its_data_folder():
    book = FakeBook()
    assert "no DATA_DIR set" in ribbon.dispatch("rx_report", book)


def test_previous_month():
    import datetime as dt

    assert ribbon._previous_month(dt.date(2026, 1, 15)) == "2025-12"


# --- Insert template sheet ---------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cells(ws) -> dict:
    # copy() unwraps openpyxl's style proxies, which do not compare equal to one another.
    return {cell.coordinate: (cell.value, cell.number_format, cell.style, copy(cell.font),
                              copy(cell.fill), copy(cell.border), copy(cell.alignment))
            for row in ws.iter_rows() for cell in row}


@pytest.fixture
def team_template(tmp_path) -> Path:
    """A finance team's template folder: rxxl's template with formulas added on Capital."""
    folder = tmp_path / "team"
    path = build_template(folder / TEMPLATE_FILE)
    book = load_workbook(path)
    capital = book["Capital"]
    capital["AA4"], capital["AB4"] = "Quick NPV ($)", "Quick IRR (%)"
    capital["AK5"] = "=NPV($H$5,$E$6:$E$10)+$E$5"
    capital["AL5"] = "=IRR($E$5:$E$10)"
    capital["AL5"].number_format = style.PERCENT
    book.save(path)
    return folder


def _saved(book: FakeBook, tmp_path: Path):
    """The book as Excel would save it, read back with openpyxl."""
    path = tmp_path / "saved.xlsx"
    book.wb.save(path)
    return load_workbook(path)


def test_insert_template_sheet_defaults_to_the_capital_sheet(tmp_path):
    book = FakeBook()
    message = ribbon.dispatch("rx_insert_template", book)
    assert message.startswith("Inserted template sheet Capital from the built-in template."),\
        message
    assert "put TEMPLATE" in message
    assert [s.name for s in book.sheets] == ["Notes", "Capital"]
    # The built-in template was built afresh, opened read-only, closed and removed again.
    assert [b.name for b in book.app.books] == ["Budget.xlsx"]
    [opened] = book.app.books.opened
    built = Path(opened.pop("fullname"))
    assert built.name == TEMPLATE_FILE and not built.parent.exists()
    assert opened == {"read_only": True, "update_links": False, "add_to_mru": False}
    template = build_template(tmp_path / "built-in" / TEMPLATE_FILE)
    saved, original = _saved(book, tmp_path)["Capital"], load_workbook(template)["Capital"]
    assert _cells(saved) == _cells(original)
    # The summary, and under it the block of a new request: its flows and rate are inputs.
    assert saved["A4"].value == "Request name" and saved["A9"].value.startswith("New request")
    assert saved["B16"].style == saved["B13"].style == style.INPUT_STYLE
    assert saved["B13"].number_format == style.PERCENT
    assert saved["B31"].value.startswith("=NPV(")
    assert {key: dim.width for key, dim in saved.column_dimensions.items()} == \
        {key: dim.width for key, dim in original.column_dimensions.items()}
    assert set(saved.tables) == set(original.tables) == {"capital_summary"}
    assert saved.freeze_panes == original.freeze_panes


def test_insert_template_sheet_from_template_dir_keeps_its_formulas(team_template, tmp_path):
    path = team_template / TEMPLATE_FILE
    before = _digest(path)
    book = FakeBook()
    book.add_sheet("rxxl.conf", [["TEMPLATE", "capital"], ["TEMPLATE_DIR", str(team_template)]])
    message = ribbon.dispatch("rx_insert_template", book)
    assert message == f"Inserted template sheet Capital from {path}."
    message = ribbon.dispatch("rx_insert_template", book)
    assert message == f"Inserted template sheet Capital (2) from {path}."
    assert [s.name for s in book.sheets] == ["Notes", "rxxl.conf", "Capital", "Capital (2)"]
    saved = _saved(book, tmp_path)
    for name in ("Capital", "Capital (2)"):
        assert saved[name]["AK5"].value == "=NPV($H$5,$E$6:$E$10)+$E$5"
        assert saved[name]["AL5"].value == "=IRR($E$5:$E$10)"
        assert saved[name]["AL5"].number_format == style.PERCENT
    assert [b.name for b in book.app.books] == ["Budget.xlsx"]
    assert _digest(path) == before


def test_insert_an_unknown_template_sheet_lists_the_sheets(team_template):
    book = FakeBook()
    book.add_sheet("rxxl.conf", [["TEMPLATE", "Capitol"], ["TEMPLATE_DIR", str(team_template)]])
    before = book.sheets["rxxl.conf"].used_range.value
    message = ribbon.dispatch("rx_insert_template", book)
    assert message == ("Insert template sheet did not run: the template "
                       f"{team_template / TEMPLATE_FILE} has no sheet 'Capitol'; its sheets"
                       f" are {', '.join(SHEETS)}")
    assert [s.name for s in book.sheets] == ["Notes", "rxxl.conf"]
    assert book.sheets["rxxl.conf"].used_range.value == before
    assert [b.name for b in book.app.books] == ["Budget.xlsx"]


def test_insert_template_sheet_that_fails_half_way_leaves_no_sheet(team_template):
    path = team_template / TEMPLATE_FILE
    before = _digest(path)
    book = FakeBook()
    book.add_sheet("Capital", [["my own", "capital sheet"]])
    book.add_sheet("rxxl.conf", [["TEMPLATE_DIR", str(team_template)]])
    book.fail_copies = True
    message = ribbon.dispatch("rx_insert_template", book)
    assert message == "Insert template sheet did not run: Excel is busy"
    assert [s.name for s in book.sheets] == ["Notes", "Capital", "rxxl.conf"]
    assert book.sheets["Capital"].used_range.value == [["my own", "capital sheet"]]
    assert [b.name for b in book.app.books] == ["Budget.xlsx"]
    assert _digest(path) == before


def test_insert_template_sheet_uses_a_template_the_user_has_open(team_template):
    book = FakeBook()
    book.add_sheet("rxxl.conf", [["TEMPLATE", "Checks"], ["TEMPLATE_DIR", str(team_template)]])
    mine = book.app.books.open(str(team_template / TEMPLATE_FILE))
    message = ribbon.dispatch("rx_insert_template", book)
    assert message.startswith("Inserted template sheet Checks from")
    # The user's own window on the template stays open: closing it could lose their edits.
    assert list(book.app.books) == [book, mine]
    assert len(book.app.books.opened) == 1


def test_insert_template_sheet_with_another_book_of_that_name_open(team_template, tmp_path):
    other = tmp_path / "elsewhere" / TEMPLATE_FILE
    build_template(other)
    book = FakeBook()
    book.add_sheet("rxxl.conf", [["TEMPLATE_DIR", str(team_template)]])
    book.app.books.open(str(other))
    message = ribbon.dispatch("rx_insert_template", book)
    assert message.startswith(f"Insert template sheet did not run: another {TEMPLATE_FILE}"
                              f" is open in Excel ({other}); close it")
    assert [s.name for s in book.sheets] == ["Notes", "rxxl.conf"]


def test_template_dir_without_the_template_says_how_to_build_it(tmp_path):
    book = FakeBook()
    book.add_sheet("rxxl.conf", [["TEMPLATE_DIR", str(tmp_path)]])
    message = ribbon.dispatch("rx_insert_template", book)
    assert message == (f"Insert template sheet did not run: TEMPLATE_DIR {tmp_path} has no"
                       f" {TEMPLATE_FILE}: run `rxxl templates build --out {tmp_path}`, or"
                       " clear TEMPLATE_DIR to use the built-in template")
    assert [b.name for b in book.app.books] == ["Budget.xlsx"]


def test_new_sheet_names_stay_within_excels_31_characters():
    book = FakeBook()
    long = "Capital request sensitivity tab"  # 31 characters
    book.add_sheet(long, [["x"]])
    book.add_sheet("notes (2)", [["x"]])
    assert new_sheet_name(book, long) == "Capital request sensitivity (2)"
    assert new_sheet_name(book, long + " and more") == "Capital request sensitivity (2)"
    assert new_sheet_name(book, "NOTES") == "NOTES (3)"
    assert new_sheet_name(book, "Audit") == "Audit"


# --- Build monthly report ----------------------------------------------------------------


def _report_book(folder: Path, out: Path, month=MONTH, **more) -> FakeBook:
    book = FakeBook()
    rows = [["DATA_DIR", str(folder)], ["REPORT_DIR", str(out)], ["REPORT_MONTH", month]]
    book.add_sheet("rxxl.conf", rows + [[key, str(value)] for key, value in more.items()])
    return book


def test_build_monthly_report_names_both_workbooks(sample, tmp_path):
    folder, _ = sample
    out = tmp_path / "reports"
    # Excel turns a typed 2026-10 into the date 1 October 2026.
    book = _report_book(folder, out, month=dt.datetime(2026, 10, 1))
    message = ribbon.dispatch("rx_report", book)
    lines = message.splitlines()
    package, detail = out / package_name(pd.Period(MONTH)), out / detail_name(pd.Period(MONTH))
    assert lines[:3] == [f"Monthly report for {MONTH} written:", str(package), str(detail)]
    assert lines[3].startswith(f"{package.name}: ") and "checks fail" in lines[3]
    assert lines[4].startswith(f"{detail.name}: ") and "claims" in lines[4]
    assert load_workbook(package).sheetnames == list(SHEETS)
    assert load_workbook(detail).sheetnames
    assert sorted(p.name for p in out.iterdir()) == sorted([package.name, detail.name])
    assert book.app.alerts == [(message, "Rx Finance")]


def test_build_monthly_report_uses_the_template_dir(sample, team_template, tmp_path):
    folder, _ = sample
    out = tmp_path / "reports"
    before = _digest(team_template / TEMPLATE_FILE)
    book = _report_book(folder, out, TEMPLATE_DIR=team_template)
    message = ribbon.dispatch("rx_report", book)
    assert message.startswith(f"Monthly report for {MONTH} written:"), message
    capital = load_workbook(out / package_name(pd.Period(MONTH)))["Capital"]
    assert capital["AK5"].value == "=NPV($H$5,$E$6:$E$10)+$E$5"  # only the team's has it
    assert _digest(team_template / TEMPLATE_FILE) == before


def test_build_monthly_report_without_data_folder_writes_nothing(tmp_path):
    out = tmp_path / "reports"
    book = FakeBook()
    book.add_sheet("rxxl.conf", [["REPORT_DIR", str(out)], ["REPORT_MONTH", MONTH]])
    message = ribbon.dispatch("rx_report", book)
    assert message == ("Build monthly report did not run: no DATA_DIR set: put DATA_DIR and"
                       " the folder in the rxxl.conf sheet, or set RXXL_DATA_DIR")
    missing = _report_book(tmp_path / "nowhere", out)
    message = ribbon.dispatch("rx_report", missing)
    assert message == (f"Build monthly report did not run: DATA_DIR {tmp_path / 'nowhere'}"
                       " is not a folder")
    assert not out.exists()


@pytest.mark.parametrize("month", ["2026-13", "2026", "Oct 2026", "202610", "2026Q4",
                                   "2026-10-01x"])
def test_build_monthly_report_with_a_bad_month_says_how_to_write_it(sample, tmp_path, month):
    out = tmp_path / "reports"
    message = ribbon.dispatch("rx_report", _report_book(sample[0], out, month=month))
    assert message.startswith(f"Build monthly report did not run: REPORT_MONTH {month!r} is"
                              " not a month: write it as YYYY-MM"), message
    assert "Traceback" not in message
    assert not out.exists()


def test_build_monthly_report_takes_the_fiscal_year_start_setting(sample, tmp_path):
    folder, _ = sample
    out = tmp_path / "reports"
    # A number typed in the rxxl.conf sheet reaches Python as 10.0.
    message = ribbon.dispatch("rx_report", _report_book(folder, out, FISCAL_YEAR_START=10.0))
    assert message.startswith(f"Monthly report for {MONTH} written:"), message
    cover = load_workbook(out / package_name(pd.Period(MONTH)), data_only=True)["Cover"]
    values = {row[0].value: row[1].value for row in cover["A5:B12"]}
    assert values["Fiscal year to date"] == "FYTD from 2026-10 (fiscal year starts in October)"
    bad = ribbon.dispatch("rx_report", _report_book(folder, tmp_path / "bad",
                                                    FISCAL_YEAR_START="Octobre"))
    assert bad.startswith("Build monthly report did not run: FISCAL_YEAR_START 'Octobre': give"
                          " the first month of the fiscal year: 1 to 12 or a month name"), bad
    assert not (tmp_path / "bad").exists()


def test_report_month_defaults_to_last_month():
    assert ribbon._report_month(FakeBook()) == ribbon._previous_month(dt.date.today())


def test_insert_an_unknown_sheet_of_the_built_in_template():
    book = FakeBook()
    book.add_sheet("rxxl.conf", [["TEMPLATE", "Nope"]])
    message = ribbon.dispatch("rx_insert_template", book)
    assert message == ("Insert template sheet did not run: the built-in template has no sheet"
                       f" 'Nope'; its sheets are {', '.join(SHEETS)}")
    assert [b.name for b in book.app.books] == ["Budget.xlsx"]


def test_the_running_add_in_says_what_it_was_built_for(monkeypatch):
    """The add-in's buttons set RXXL_BUILT_VERSION / XLWINGS_BUILT_VERSION (baked into its
    VBA by the build) before each action: the add-in Excel actually runs, which may not be
    the one the install record names (an add-in copied by hand, a second install)."""
    import xlwings

    monkeypatch.setattr("rxxl.addin.install.locations", lambda: None)
    monkeypatch.setattr("rxxl.addin.install.installed_versions", lambda where: {})
    monkeypatch.setattr(ribbon, "RXXL_BUILT_VERSION", "0.0.9")
    monkeypatch.setattr(ribbon, "XLWINGS_BUILT_VERSION", xlwings.__version__)
    message = ribbon.dispatch("rx_help", FakeBook())
    assert f"Add-in built for: rxxl 0.0.9, xlwings {xlwings.__version__}" in message
    assert message.endswith(f"The add-in was built for rxxl 0.0.9 (now {__version__}):"
                            " close Excel and run `rxxl addin install` so its functions and"
                            " buttons match.")


def test_an_add_in_that_matches_adds_no_reminder(monkeypatch):
    import xlwings

    monkeypatch.setattr("rxxl.addin.install.locations", lambda: None)
    monkeypatch.setattr("rxxl.addin.install.installed_versions",
                        lambda where: {"rxxl": "0.0.1", "xlwings": "0.30.11"})
    monkeypatch.setattr(ribbon, "RXXL_BUILT_VERSION", __version__)
    monkeypatch.setattr(ribbon, "XLWINGS_BUILT_VERSION", xlwings.__version__)
    # The running add-in's own versions win over an older install record.
    message = ribbon.dispatch("rx_help", FakeBook())
    assert "The add-in was built for" not in message


def test_build_audit_pack_writes_six_months_to_the_report_month(sample, tmp_path):
    folder, _ = sample
    out = tmp_path / "audit"
    book = _report_book(folder, tmp_path / "reports", month=dt.datetime(2026, 10, 1),
                        AUDIT_DIR=out)
    message = ribbon.dispatch("rx_audit_pack", book)
    lines = message.splitlines()
    pack = out / "340B audit pack 2026-05 to 2026-10"
    assert lines[:2] == ["Audit pack for 2026-05 to 2026-10 written:", str(pack)], message
    assert "340B claims" in lines[2] and "tracers" in lines[2]
    assert (pack / "340B audit pack 2026-05 to 2026-10.xlsx").is_file()
    assert book.app.alerts == [(message, "Rx Finance")]


def test_build_audit_pack_takes_audit_from_and_says_how_to_write_a_month(sample, tmp_path):
    folder, _ = sample
    book = _report_book(folder, tmp_path / "reports", AUDIT_FROM="2026-09",
                        AUDIT_DIR=tmp_path / "audit")
    assert "2026-09 to 2026-10 written" in ribbon.dispatch("rx_audit_pack", book)
    bad = _report_book(folder, tmp_path / "reports", AUDIT_FROM="Sept", AUDIT_DIR=tmp_path / "x")
    message = ribbon.dispatch("rx_audit_pack", bad)
    assert message == ("Build audit pack did not run: AUDIT_FROM 'Sept' is not a month: write"
                       " it as YYYY-MM, e.g. 2026-05, or leave it empty for the 6 months to"
                       " 2026-10")
    assert not (tmp_path / "x").exists()

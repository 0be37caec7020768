"""One sheet of the monthly package template, copied into a workbook open in Excel.

An analyst who wants a finance-standard sheet (the capital request with its NPV, IRR and
sensitivity tables, the Checks sheet, ...) in their own workbook gets it by Excel's own sheet
copy, which keeps what openpyxl could not carry across workbooks faithfully: cell styles,
Excel tables, charts, conditional formats and the defined names that refer to the sheet.

The template (``monthly_package.xlsx`` in a templates folder, else the built-in one, built
afresh into a temporary folder that is removed afterwards) is opened read-only in the
workbook's own Excel instance and always closed again without saving, also when the copy
fails, so it is never modified; a template the user already has open is used as it is and
left open. A copy that fails half-way leaves no sheet behind.

What comes along is the template's sheet as it is: in rxxl's built-in template the tables are
laid out (headers, input and number styles, widths) but empty, since rxxl writes the NPV, IRR
and check formulas when it fills a report; formulas and charts a finance team added to its
own template come along with the sheet.

The functions use this part of xlwings' API, so they run on any object that has it (the tests
use a stand-in backed by openpyxl): ``book.app.books`` (iterate, ``.open(fullname,
update_links=, read_only=, add_to_mru=)``), ``book.name``, ``book.fullname``,
``book.close()``, ``book.sheets`` (iterate, ``[index]``), ``sheet.name``,
``sheet.copy(after=, name=)`` and ``sheet.delete()``.

Import direction: :mod:`rxxl.ribbon` uses this module (and :func:`new_sheet_name`), never the
reverse; the template machinery is imported only when a sheet is inserted, so importing this
module stays cheap for the ribbon.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from rxxl.errors import InputError, RxxlError

#: Excel refuses longer sheet names.
MAX_SHEET_NAME = 31
#: The sheet inserted when none is named: the capital request, whose cash flows and discount
#: rates are inputs an analyst fills in for a new request.
DEFAULT_SHEET = "Capital"


def new_sheet_name(book: Any, base: str) -> str:
    """``base``, else ``base (2)``, ``base (3)``, ...: the first name no sheet of ``book`` has.

    Excel compares sheet names ignoring case and allows 31 characters, so ``base`` is
    shortened to keep the number within that.
    """
    taken = {sheet.name.lower() for sheet in book.sheets}
    name, number = base[:MAX_SHEET_NAME], 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name, number = base[:MAX_SHEET_NAME - len(suffix)] + suffix, number + 1
    return name


def insert_template_sheet(book: Any, name: str | None,
                          templates: str | os.PathLike | None = None) -> str:
    """Copy the template's sheet ``name`` into ``book`` after its last sheet; return the new
    sheet's name.

    Parameters
    ----------
    book
        An xlwings ``Book`` (or anything with the API the module docstring lists).
    name
        The template sheet, matched ignoring case as Excel does; empty or None means
        :data:`DEFAULT_SHEET`.
    templates
        Folder of a finance team's own ``monthly_package.xlsx``; None for the built-in one.

    Returns
    -------
    str
        The template's sheet name, or ``Name (2)``, ... when ``book`` has a sheet by that name.

    Raises
    ------
    InputError
        The template has no such sheet (the message lists its sheets), or another workbook
        with the template's file name is open in Excel.
    """
    # The report's own rule for which template: the same file the report would fill.
    from rxxl.reports.monthly import template_file

    # Errors while removing the folder must not hide the copy's outcome (on Windows a file
    # Excel failed to close cannot be deleted).
    with tempfile.TemporaryDirectory(prefix="rxxl-template-",
                                     ignore_cleanup_errors=True) as built_in:
        path = template_file(templates, built_in=built_in)
        template, opened_here = _open_template(book.app, path)
        try:
            where = f"the template {path}" if templates is not None else \
                "the built-in template"
            source = _find_sheet(template, name or DEFAULT_SHEET, where)
            return _copy_after_last(source, book)
        finally:
            if opened_here:
                template.close()  # xlwings closes without saving: the template stays as it was


def _open_template(app: Any, path: Path) -> tuple[Any, bool]:
    """The template as a book of ``app``, and whether this call opened it (and must close it)."""
    for book in app.books:
        if book.name.lower() != path.name.lower():
            continue
        # Excel cannot open two books of one file name, and closing a book the user opened
        # could lose their edits: use it as it is, or ask for it to be closed.
        if _same_file(book.fullname, path):
            return book, False
        raise InputError(f"another {path.name} is open in Excel ({book.fullname}); close it"
                         f" so the template {path} can be opened")
    return app.books.open(str(path), update_links=False, read_only=True,
                          add_to_mru=False), True


def _same_file(fullname: str, path: Path) -> bool:
    try:
        return os.path.samefile(fullname, path)
    except OSError:  # not a local file (a new book, a OneDrive URL)
        return False


def _find_sheet(template: Any, name: str, where: str) -> Any:
    sheets = list(template.sheets)
    for sheet in sheets:
        if sheet.name.lower() == name.strip().lower():
            return sheet
    raise InputError(f"{where} has no sheet {name.strip()!r}; its sheets are "
                     + ", ".join(sheet.name for sheet in sheets))


def _copy_after_last(source: Any, book: Any) -> str:
    before = {sheet.name for sheet in book.sheets}
    target = new_sheet_name(book, source.name)
    try:
        source.copy(after=book.sheets[len(before) - 1], name=target)
    except Exception as exc:
        # Excel may have made the copy (under its own name) before the rename or a later step
        # failed: every sheet that was not there before goes.
        left = _delete_sheets_not_in(book, before)
        if left:
            raise RxxlError(f"copying the sheet failed ({exc}) and the half-copied sheet"
                            f" {', '.join(left)} could not be deleted; delete it") from exc
        raise
    return target


def _delete_sheets_not_in(book: Any, names: set[str]) -> list[str]:
    """Delete the sheets of ``book`` not named in ``names``; return those that would not go."""
    left = []
    for sheet in list(book.sheets):
        if sheet.name not in names:
            try:
                sheet.delete()
            except Exception:  # noqa: BLE001 - report every sheet that stays, then the cause
                left.append(sheet.name)
    return left

"""The "Rx Finance" ribbon tab: what each button does, as plain functions of a workbook.

Every button calls one VBA callback, which runs ``rxxl.ribbon.dispatch('<button id>')``
through xlwings' RunPython. :func:`dispatch` finds the calling workbook, runs the action and
shows its outcome, or its error, in a message box: never a traceback.

Each action computes everything first and only then writes to the workbook, so a bad file
or an invalid row leaves the workbook as it was; a write that fails half-way is undone (a
new sheet is deleted, replaced values are put back).

The actions use a small part of xlwings' ``Book`` API, so they run on any object that has
it (the tests use a stand-in backed by openpyxl): ``book.name``, ``book.sheets`` (iterate,
``[name]``, ``.add(name, after=...)``), ``sheet.name``, ``sheet.delete()``,
``sheet.clear_contents()``, ``sheet.used_range.value``, ``sheet.range("A1").value``
(set), ``sheet.range("A1").options(...).value`` (DataFrames in and out) and
``book.app.alert(text, title=...)``; inserting a template sheet also uses what
:mod:`rxxl.reports.template_sheet` lists (``book.app.books.open``, ``sheet.copy``, ...).

Settings are read, first found, from the workbook's ``rxxl.conf`` sheet (names in column A,
values in column B, as xlwings reads its configuration sheet), a file ``rxxl.conf`` in the
workbook's folder (as the add-in's xlwings module reads one; not for a new, unsaved workbook
or one opened from OneDrive/SharePoint by its web address), the environment
(``RXXL_DATA_DIR``, ...) and the user's ``rxxl.conf`` file that ``rxxl addin install``
writes:

- ``DATA_DIR``: the data folder (tables as ``NAME.csv``, ``.parquet``, ``.xlsx`` or ``NAME/``).
- ``REFERENCE_DIR``: the 340B reference tables.
- ``REPORT_DIR``: where the monthly report goes (default ``DATA_DIR/reports``).
- ``REPORT_MONTH``: the report month, ``YYYY-MM`` or a date cell in it (default last month).
- ``FISCAL_YEAR_START``: the first month of the fiscal year, 1-12 or a month name such as
  ``October`` (default July), for the report's fiscal year to date.
- ``TEMPLATE``: the template sheet "Insert template sheet" copies (default ``Capital``).
- ``TEMPLATE_DIR``: the folder of a finance team's own ``monthly_package.xlsx``, used by
  "Build monthly report" and "Insert template sheet" (default: rxxl's built-in template).
- ``AUDIT_FROM``: the first month of the audit pack's period, ``YYYY-MM`` (default: six
  months ending with ``REPORT_MONTH``, an HRSA audit's usual sample period).
- ``AUDIT_DIR``: where "Build audit pack" writes (default ``DATA_DIR/audit``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from rxxl import __version__
from rxxl.errors import InputError, RxxlError
from rxxl.outputs import defuse_csv_text
from rxxl.parsing import parse_month
from rxxl.reports.template_sheet import new_sheet_name

CONFIG_SHEET = "rxxl.conf"
AUDIT_SHEET = "340B audit"
TITLE = "Rx Finance"
#: Rows on an Excel sheet, less the header row.
MAX_ROWS = 1_048_575
SETTINGS = ("DATA_DIR", "REFERENCE_DIR", "REPORT_DIR", "REPORT_MONTH", "FISCAL_YEAR_START",
            "TEMPLATE", "TEMPLATE_DIR", "AUDIT_FROM", "AUDIT_DIR")
#: Months of the audit pack when ``AUDIT_FROM`` is not set, ending with ``REPORT_MONTH``.
AUDIT_PACK_MONTHS = 6


class RibbonError(RxxlError):
    """An action cannot run as asked; the message tells the user what to do."""


def _sheet_names(book: Any) -> list[str]:
    return [sheet.name for sheet in book.sheets]


def _read_frame(sheet: Any) -> pd.DataFrame:
    return sheet.range("A1").options(pd.DataFrame, index=False, header=True,
                                     expand="table").value


def _write_frame(sheet: Any, frame: pd.DataFrame) -> None:
    # Text from data that Excel would read as a formula keeps a leading apostrophe, which
    # Excel takes as "this is text"; missing values of any dtype become empty cells.
    safe = defuse_csv_text(frame).astype(object)
    sheet.range("A1").options(index=False).value = safe.where(safe.notna(), None)


def _sheet_settings(book: Any) -> dict[str, str]:
    if CONFIG_SHEET not in _sheet_names(book):
        return {}
    rows = book.sheets[CONFIG_SHEET].range("A1").options(expand="table", ndim=2).value or []
    return {str(row[0]).strip().upper(): str(row[1]).strip()
            for row in rows if len(row) > 1 and row[0] and row[1] not in (None, "")}


def _folder_config(book: Any) -> Path | None:
    """The ``rxxl.conf`` file in the workbook's folder, if the workbook has a local folder."""
    fullname = str(getattr(book, "fullname", "") or "")
    # An unsaved book's full name is its bare name (the current folder is not its folder);
    # a OneDrive or SharePoint book's may be its web address.
    if "://" in fullname or not Path(fullname).is_absolute():
        return None
    return Path(fullname).parent / CONFIG_SHEET


def setting(book: Any, key: str) -> str | None:
    """A setting from, first found: the workbook's rxxl.conf sheet, an rxxl.conf file in the
    workbook's folder, ``RXXL_<KEY>``, the user's rxxl.conf."""
    from rxxl.addin.install import read_config, user_config_path

    key = key.upper()
    value = _sheet_settings(book).get(key)
    if value:
        return value
    beside = _folder_config(book)
    value = (read_config(beside).get(key) if beside else None) or os.environ.get(f"RXXL_{key}")
    if value:
        return value
    try:
        path = user_config_path()
    except RxxlError:  # no user configuration file on this system
        return None
    return read_config(path).get(key) or None


def _folder(book: Any, key: str, given: str | os.PathLike | None) -> Path:
    name = given if given is not None else setting(book, key)
    if not name:
        raise RibbonError(f"no {key} set: put {key} and the folder in the {CONFIG_SHEET}"
                          f" sheet, or set RXXL_{key}")
    path = Path(name).expanduser()
    if not path.is_dir():
        raise RibbonError(f"{key} {path} is not a folder")
    return path


def _source(folder: Path, name: str) -> Path:
    found = [path for path in (folder / f"{name}.csv", folder / f"{name}.parquet",
                               folder / f"{name}.xlsx", folder / name) if path.exists()]
    if not found:
        raise RibbonError(f"{folder}: no {name}.csv, {name}.parquet, {name}.xlsx or {name}/"
                          f" for the {name} sheet")
    if len(found) > 1:
        raise RibbonError(f"{folder}: {' and '.join(p.name for p in found)} both hold"
                          f" {name}; keep one")
    return found[0]


def refresh_data(book: Any, data_dir: str | os.PathLike | None = None) -> str:
    """Reload every sheet named after an rxxl table (``claims``, ``budget_lines``, ...).

    Each table is read from the data folder (``data_dir``, else the ``DATA_DIR`` setting)
    as ``NAME.csv``, ``NAME.parquet``, ``NAME.xlsx`` or a folder ``NAME/`` of parts and
    validated against its contract; only when all are valid are the sheets rewritten.
    """
    from rxxl.data import load_table
    from rxxl.data.contracts import TABLES

    names = [name for name in _sheet_names(book) if name in TABLES]
    if not names:
        raise RibbonError("no sheet to refresh: name a sheet after an rxxl table ("
                          + ", ".join(sorted(TABLES)) + ")")
    folder = _folder(book, "DATA_DIR", data_dir)
    frames = {name: load_table(_source(folder, name), name) for name in names}
    for name, frame in frames.items():
        if len(frame) > MAX_ROWS:
            raise RibbonError(f"{name}: {len(frame):,} rows do not fit on a sheet"
                              f" ({MAX_ROWS:,} at most); analyse them with the rxxl command")
    saved = {name: book.sheets[name].used_range.value for name in names}
    done = []
    try:
        for name, frame in frames.items():
            done.append(name)
            book.sheets[name].clear_contents()
            _write_frame(book.sheets[name], frame)
    except Exception:
        for name in done:
            book.sheets[name].clear_contents()
            book.sheets[name].range("A1").value = saved[name]
        raise
    counts = ", ".join(f"{name} {len(frame):,} rows" for name, frame in frames.items())
    return f"Refreshed from {folder}: {counts}."


def write_new_sheet(book: Any, base: str, frame: pd.DataFrame) -> str:
    """Write ``frame`` to a new sheet named ``base`` (or ``base (2)``, ...); return its name.

    A sheet whose writing fails is deleted again, so the workbook is left as it was.
    """
    name = new_sheet_name(book, base)
    sheet = book.sheets.add(name, after=book.sheets[len(_sheet_names(book)) - 1])
    try:
        _write_frame(sheet, frame)
    except Exception:
        sheet.delete()
        raise
    return name


def run_340b_audit(book: Any) -> str:
    """Audit the workbook's ``claims`` sheet; the result goes to a new sheet, one row per claim.

    The 340B reference tables come from the ``REFERENCE_DIR`` setting (the folder RX_340B_CHECK
    uses, read once and re-read when a file in it changes).
    """
    from rxxl._excel import reference_tables
    from rxxl.audit340b import audit_claims
    from rxxl.data import load_table

    if "claims" not in _sheet_names(book):
        raise RibbonError("no claims sheet: put the claims (with their header row) on a sheet"
                          " named claims")
    claims = load_table(_read_frame(book.sheets["claims"]), "claims")
    folder = setting(book, "REFERENCE_DIR")
    audit = audit_claims(claims, reference_tables(folder))
    name = write_new_sheet(book, AUDIT_SHEET, audit)
    status = audit["status"].value_counts()
    return (f"340B audit of {len(audit):,} claims: {status.get('violation', 0):,} violations,"
            f" {status.get('review', 0):,} for review, ${audit['dollars_at_risk'].sum():,.0f}"
            f" at stake. Written to sheet {name}.")


def _previous_month(today: dt.date) -> str:
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def _report_month(book: Any) -> str:
    """``REPORT_MONTH`` as ``YYYY-MM``; last month when it is not set."""
    text = setting(book, "REPORT_MONTH")
    if not text:
        return _previous_month(dt.date.today())
    # Excel turns a typed 2026-10 into the date 1 Oct 2026, which the sheet gives as
    # "2026-10-01 00:00:00": a date means its month. The one parser refuses the rest
    # ("2026", "2026Q4"), which pandas would read as January and October.
    try:
        return str(parse_month(text, "REPORT_MONTH", dates=True))
    except InputError:
        raise RibbonError(f"REPORT_MONTH {text!r} is not a month: write it as YYYY-MM, e.g."
                          f" {_previous_month(dt.date.today())}, or a date in the month, or"
                          " leave it empty for last month") from None


def _fiscal_year_start(book: Any) -> int:
    """``FISCAL_YEAR_START`` as 1-12; July when it is not set."""
    from rxxl.reports.figures import parse_fiscal_year_start

    return parse_fiscal_year_start(setting(book, "FISCAL_YEAR_START"), "FISCAL_YEAR_START")


def _template_dir(book: Any) -> Path | None:
    """The ``TEMPLATE_DIR`` folder, checked to hold the package template; None if not set."""
    if not setting(book, "TEMPLATE_DIR"):
        return None
    from rxxl.reports.templates import TEMPLATE_FILE

    folder = _folder(book, "TEMPLATE_DIR", None)
    if not (folder / TEMPLATE_FILE).is_file():
        raise RibbonError(f"TEMPLATE_DIR {folder} has no {TEMPLATE_FILE}: run `rxxl templates"
                          f" build --out {folder}`, or clear TEMPLATE_DIR to use the built-in"
                          " template")
    return folder


def build_monthly_report(book: Any) -> str:
    """Build the monthly report for ``REPORT_MONTH`` (default: last month) from ``DATA_DIR``,
    its fiscal year to date from ``FISCAL_YEAR_START`` (default July).

    Both workbooks go to ``REPORT_DIR`` (default: ``reports`` in the data folder), filled
    into the template in ``TEMPLATE_DIR`` if set. The message names each file written, one
    per line, then its summary (checks failing, spend against budget, claims shown).
    """
    data_dir = _folder(book, "DATA_DIR", None)
    month = _report_month(book)
    fiscal_year_start = _fiscal_year_start(book)
    templates = _template_dir(book)
    out_dir = Path(setting(book, "REPORT_DIR") or data_dir / "reports").expanduser()
    # rxxl.reports itself exports nothing: the report lives in rxxl.reports.monthly.
    from rxxl.reports.monthly import build_report

    written = build_report(data_dir, month, out_dir, templates=templates,
                           fiscal_year_start=fiscal_year_start)
    return "\n".join([f"Monthly report for {month} written:"]
                     + [str(summary.path) for summary in written]
                     + [summary.line for summary in written])


def build_audit_pack(book: Any) -> str:
    """Build the HRSA audit evidence pack from ``DATA_DIR`` for ``AUDIT_FROM`` to
    ``REPORT_MONTH`` (default: the six months to last month), into ``AUDIT_DIR`` (default
    ``audit`` in the data folder). The message names the folder written and its summary."""
    data_dir = _folder(book, "DATA_DIR", None)
    last = _report_month(book)
    text = setting(book, "AUDIT_FROM")
    try:
        first = (str(parse_month(text, "AUDIT_FROM", dates=True)) if text
                 else str(pd.Period(last, "M") - (AUDIT_PACK_MONTHS - 1)))
    except InputError:
        raise RibbonError(f"AUDIT_FROM {text!r} is not a month: write it as YYYY-MM, e.g."
                          f" {pd.Period(last, 'M') - (AUDIT_PACK_MONTHS - 1)}, or leave it"
                          f" empty for the {AUDIT_PACK_MONTHS} months to {last}") from None
    out_dir = Path(setting(book, "AUDIT_DIR") or data_dir / "audit").expanduser()
    from rxxl.reports.audit_pack import build_audit_pack as build

    written = build(data_dir, first, last, out_dir)
    return f"Audit pack for {first} to {last} written:\n{written.path}\n{written.line}"


def insert_template_sheet(book: Any) -> str:
    """Copy one sheet of the monthly package template into the workbook, after its last sheet.

    ``TEMPLATE`` names the sheet (default ``Capital``: the capital request, with its cash
    flow inputs and its NPV, IRR and sensitivity tables); ``TEMPLATE_DIR`` the folder of a
    finance team's own template (default: the built-in one). A sheet of that name already in
    the workbook gets ``Capital (2)``, ... .
    """
    from rxxl.reports import template_sheet
    from rxxl.reports.templates import TEMPLATE_FILE

    name = setting(book, "TEMPLATE")
    folder = _template_dir(book)
    inserted = template_sheet.insert_template_sheet(book, name, folder)
    source = folder / TEMPLATE_FILE if folder else "the built-in template"
    message = f"Inserted template sheet {inserted} from {source}."
    if not name:
        message += (f" To insert another sheet (Checks, Budget, ...), put TEMPLATE and its"
                    f" name in the {CONFIG_SHEET} sheet.")
    return message


def about(book: Any) -> str:
    """rxxl's version, the Python interpreter and the settings in force."""
    lines = [f"rxxl {__version__} (xlwings {_xlwings_version()})",
             f"Python {sys.version.split()[0]}: {sys.executable}",
             f"Workbook: {book.name}"]
    built = _built_for()
    if built:
        lines.append(f"Add-in built for: rxxl {built.get('rxxl', '?')}, xlwings"
                     f" {built.get('xlwings', '?')}")
    for key in SETTINGS:
        lines.append(f"{key}: {setting(book, key) or '(not set)'}")
    lines.append("Help: the README's 'Excel add-in' section; functions: Insert Function,"
                 " category Rx Finance.")
    return "\n".join(lines)


#: The versions the running add-in was built for: its buttons set them (constants the build
#: bakes into its VBA) before each action. None: an add-in built before this check, or a
#: call from Python; the install record (rxxl-install.json) stands in then.
RXXL_BUILT_VERSION: str | None = None
XLWINGS_BUILT_VERSION: str | None = None


def _running_add_in() -> dict[str, str]:
    return {name: version for name, version in (("rxxl", RXXL_BUILT_VERSION),
                                                 ("xlwings", XLWINGS_BUILT_VERSION)) if version}


def _built_for() -> dict[str, str]:
    from rxxl.addin.install import installed_versions, locations

    running = _running_add_in()
    if running:
        return running
    try:
        return installed_versions(locations())
    except RxxlError:  # no add-in on this system
        return {}


def _drift() -> str | None:
    # Never let the version check itself stop a button.
    from rxxl.addin.install import drift

    running = _running_add_in()
    try:
        return drift(built=running) if running else drift()
    except Exception:  # noqa: BLE001 - an unreadable record only loses the reminder
        return None


def _xlwings_version() -> str:
    import xlwings

    return xlwings.__version__


#: Ribbon control id -> (button label, action). The ids are those in ``customUI14.xml``.
ACTIONS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "rx_refresh": ("Refresh data", refresh_data),
    "rx_audit340b": ("Run 340B audit", run_340b_audit),
    "rx_report": ("Build monthly report", build_monthly_report),
    "rx_audit_pack": ("Build audit pack", build_audit_pack),
    "rx_insert_template": ("Insert template sheet", insert_template_sheet),
    "rx_help": ("Help/About", about),
}


def run_action(control_id: str, book: Any) -> str:
    """Run the action of a ribbon button; return the message to show, success or failure."""
    if control_id not in ACTIONS:
        return (f"rxxl {__version__} has no action for the button {control_id!r}; reinstall"
                " the add-in with `rxxl addin install`.")
    label, action = ACTIONS[control_id]
    try:
        message = action(book)
    except (RxxlError, ValueError, KeyError, OSError) as exc:
        message = f"{label} did not run: {exc}"
    except Exception as exc:  # noqa: BLE001 - Excel users get a message, never a traceback
        message = (f"{label} failed unexpectedly ({type(exc).__name__}: {exc})."
                   " The workbook was left as it was.")
    # After `pip install --upgrade`, the add-in's buttons and functions are the old ones'.
    stale = _drift()
    return f"{message}\n\n{stale}" if stale else message


def dispatch(control_id: str, book: Any = None) -> str:
    """Entry point of the ribbon callback: run the button's action, show the outcome.

    ``book`` defaults to the calling workbook (``xlwings.Book.caller()``). Returns the
    message shown.
    """
    if book is None:
        import xlwings

        book = xlwings.Book.caller()
    message = run_action(control_id, book)
    book.app.alert(message, title=TITLE)
    return message

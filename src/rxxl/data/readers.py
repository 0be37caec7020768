"""Reading input tables from files and loading them through their contracts.

Each reader turns a source into :class:`~rxxl.data.validate.Part` objects without judging
a single cell: CSV is read entirely as text (codes keep their leading zeros), Parquet keeps
its types (a date32 column is already a date), and xlsx cells arrive as Excel typed them.
Validation (:mod:`rxxl.data.validate`) then does the judging for every source alike.

Row numbers are the ones a user can find: the line of a CSV file (its header is line 1),
the row of an Excel sheet, and the 1-based position in a Parquet file or DataFrame.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from rxxl.constants import (
    EXCEL_MAX_ROWS,
    MAX_HEADER_CHARS,
    MAX_XLSX_COMPRESSION_RATIO,
    MAX_XLSX_UNCOMPRESSED_BYTES,
    XLSX_RATIO_CHECKED_FROM,
)
from rxxl.data.contracts import REFERENCE_340B, Table
from rxxl.data.phi import fault_text
from rxxl.data.validate import (
    DataValidationError,
    Outcome,
    Part,
    Problem,
    check_parts,
    column_key,
    frame_part,
    resolve_table,
)
from rxxl.errors import InputError, InputTypeError, RxxlError

__all__ = ["load_table", "load_reference"]

_CSV = (".csv", ".txt")
_PARQUET = (".parquet", ".pq")
_XLSX = (".xlsx", ".xlsm")
_PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")
#: The start of a CSV file read to find its header, encoding and delimiter.
_HEAD_BYTES = 1 << 20
#: How a delimiter is named in messages.
_DELIMITER_WORDS = {",": "comma", "\t": "tab"}
#: Sheet names shown in a message: the names come from the data, so only a few short,
#: printable ones (Excel's own limit is 31 characters).
_SHEETS_SHOWN, _SHEET_NAME_CHARS = 5, 31


class _Unreadable(Exception):
    """A source that cannot be read at all; its text becomes a problem."""

    def __init__(self, source: str, text: str) -> None:
        super().__init__(text)
        self.problem = Problem(source, None, None, f"{source}: {text}")


# --- CSV ---------------------------------------------------------------------------------------


def _read_csv(path: Path, table: Table, source: str) -> Part:
    # The header, encoding and delimiter come from the file's first megabyte, so that a file
    # whose "header" is a gigabyte of data is refused before it is read whole.
    with open(path, "rb") as file:
        first = file.read(_HEAD_BYTES)
    utf16 = _utf16_codec(first, source)
    if utf16 is not None:
        first = first.decode(utf16, errors="replace").encode("utf-8")
    encoding = "utf-8"
    try:
        head = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(first) - 4:
            # Excel's plain "CSV" on Windows writes the ANSI code page, not UTF-8.
            encoding, head = "cp1252", first.decode("cp1252", errors="replace")
        else:
            head = first[: exc.start].decode("utf-8-sig")
    delimiter = _delimiter(head, source)
    whole_line = len(first) < _HEAD_BYTES or "\n" in head
    # The raw line first: the csv module refuses a field of more than 131,072 characters.
    _refuse_long_names(head.split("\n", 1)[0].split(delimiter), whole_line, source)
    try:
        header = next(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter), [])
    except csv.Error:
        raise _Unreadable(source, "the header line cannot be read as CSV") from None
    if not any(name.strip() for name in header):
        raise _Unreadable(source, "the file has no header line; the first line must name"
                          " the columns")
    _refuse_long_names(header, whole_line, source)
    data = path.read_bytes()
    if utf16 is not None:
        try:
            data = data.decode(utf16).encode("utf-8")
        except UnicodeDecodeError:
            raise _Unreadable(source, "the file is UTF-16 text (Excel's \"Unicode Text\") but"
                              " damaged; save it again, or as \"CSV UTF-8\"") from None
    if data and not data.endswith((b"\n", b"\r")):
        # pyarrow finds no rows after a header line that has no line break of its own.
        data += b"\n"
    wanted = _wanted_positions(header, table)
    invalid: list[int] = []

    def skip_invalid(row: Any) -> str:
        # pyarrow's row.text is the line itself (maybe a patient's): keep only the count.
        invalid.append(row.actual_columns)
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    try:
        arrow = _parse_csv(data, names, wanted, encoding, delimiter, skip_invalid)
    except UnicodeDecodeError:
        arrow = None
    except pa.ArrowInvalid as exc:
        if "utf8" not in str(exc).lower():
            # pyarrow quotes the offending text, which may be a patient's: name no data.
            raise _Unreadable(source, "the file cannot be parsed as CSV (an unclosed quote?);"
                              " save it again as CSV from the spreadsheet") from None
        arrow = None
    if arrow is None:
        encoding = "cp1252"
        invalid.clear()
        try:
            arrow = _parse_csv(data, names, wanted, encoding, delimiter, skip_invalid)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            raise _Unreadable(source, "the file is neither UTF-8 nor Windows-1252 text; save"
                              " it as \"CSV UTF-8\"") from None
    columns = {header[i]: arrow.column(f"c{i}") for i in wanted}
    lines = _CsvLines(data, encoding, delimiter, len(header), arrow.num_rows, bool(invalid))
    word = _DELIMITER_WORDS[delimiter]
    problems = [
        (line, f"line {line:,} has {fields} fields where the header has {len(header)}; look"
               f" for a missing or extra {word}, or a {word} inside a value that is not quoted")
        for line, fields in lines.uneven()
    ]
    unclosed = lines.unclosed_quote()
    if unclosed is not None:
        problems.append((unclosed, f"a quoted value opens on line {unclosed:,} and is never"
                                   " closed, so the rest of the file reads as one value; add"
                                   " the closing quote"))
    return Part(source, header, columns, arrow.num_rows, row_word="line", row_numbers=lines,
                read_problems=problems)


_HEADER_TOO_LONG = (f"a column name is at most {MAX_HEADER_CHARS} characters, so the first"
                    " line holds data, not the column names: the first line must name the"
                    " columns")


def _refuse_long_names(names: Sequence[str], whole_line: bool, source: str) -> None:
    for i, name in enumerate(names):
        if len(name) > MAX_HEADER_CHARS:
            size = (f"{len(name):,}" if whole_line or i < len(names) - 1
                    else f"more than {len(name):,}")
            raise _Unreadable(source, f"column {i + 1} of the header line is {size} characters"
                              f" long; {_HEADER_TOO_LONG}")


def _utf16_codec(first: bytes, source: str) -> str | None:
    """The UTF-16 codec of a file that is UTF-16 text, None for a byte encoding.

    Excel's Save As "Unicode Text" writes UTF-16 little-endian with a byte order mark. Without
    a mark, UTF-16 text of ASCII names and codes has a NUL byte in every other position; NUL
    bytes anywhere else mean the file is not text at all (a workbook or a database file saved
    under a .csv name).
    """
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = first[:4096]
    if b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if even == 0 and odd >= len(sample) // 4:
        return "utf-16-le"
    if odd == 0 and even >= len(sample) // 4:
        return "utf-16-be"
    raise _Unreadable(source, "the file holds NUL bytes, so it is not text (a workbook or"
                      " another binary file under a text name?); save the table as CSV UTF-8,"
                      " .xlsx or .parquet")


def _delimiter(head: str, source: str) -> str:
    """The field delimiter, from the header line: a comma; a tab where the line has tabs and
    no comma (Excel's "Text (Tab delimited)" and "Unicode Text"). Semicolons are refused:
    Excel writes them where the decimal mark is a comma, and 1,234 there means 1.234."""
    line = head.split("\n", 1)[0]
    if "," in line:
        return ","
    if "\t" in line:
        return "\t"
    if ";" in line:
        raise _Unreadable(source, "values are separated by semicolons, not commas, as Excel"
                          " writes CSV where numbers have a decimal comma (1,234 there means"
                          " 1.234); save it as .xlsx, or as \"CSV UTF-8\" with a comma as the"
                          " list separator and a point as the decimal mark")
    return ","


def _parse_csv(data: bytes, names: list[str], wanted: list[int], encoding: str,
               delimiter: str, on_invalid: Any) -> pa.Table:
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, encoding=encoding,
                                       block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                         invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            include_columns=[names[i] for i in wanted],
            strings_can_be_null=False, quoted_strings_can_be_null=False,
        ),
    )


class _CsvLines:
    """Line numbers of a CSV file's records, worked out only when a message needs them."""

    def __init__(self, data: bytes, encoding: str, delimiter: str, width: int, nrows: int,
                 skipped: bool) -> None:
        self.data, self.encoding, self.width = data, encoding, width
        self.delimiter = delimiter
        self.nrows, self.skipped = nrows, skipped
        self._lines: np.ndarray | None = None

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        if self._lines is None:
            self._scan()
        return self._lines[positions]

    def uneven(self) -> list[tuple[int, int]]:
        """(line, number of fields) of the records pyarrow skipped for their width."""
        if not self.skipped:
            return []
        self._scan()
        return self._uneven

    def unclosed_quote(self) -> int | None:
        """The line where a quoted value opens that the file never closes, if any.

        pyarrow reads such a value to the end of the file, swallowing every row after it;
        an odd number of quote characters is the cheap sign that one may be open.
        """
        if self.data.count(b'"') % 2 == 0:
            return None
        text = self.data.decode("utf-8-sig" if self.encoding == "utf-8" else self.encoding,
                                errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter,
                            strict=True)
        previous = 0
        try:
            for _ in reader:
                previous = reader.line_num
        except csv.Error:
            return previous + 1
        return None

    def _scan(self) -> None:
        data = self.data
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        self._uneven: list[tuple[int, int]] = []
        if lines == self.nrows + 1 and not self.skipped:
            # One line per record: no blank lines, no line breaks inside quoted values.
            self._lines = np.arange(self.nrows, dtype=np.int64) + 2
            return
        text = data.decode("utf-8-sig" if self.encoding == "utf-8" else self.encoding,
                           errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        next(reader, None)
        starts, previous = [], reader.line_num
        for record in reader:
            if len(record) == self.width:
                starts.append(previous + 1)
            elif record:
                self._uneven.append((previous + 1, len(record)))
            previous = reader.line_num
        if len(starts) != self.nrows:
            # The csv module and pyarrow disagree on this file; positions are still honest.
            self._lines = np.arange(self.nrows, dtype=np.int64) + 2
        else:
            self._lines = np.asarray(starts, dtype=np.int64)


def _wanted_positions(header: Sequence[Any], table: Table) -> list[int]:
    names = {column.name for column in table.columns}
    return [i for i, name in enumerate(header) if column_key(name) in names]


# --- Parquet -----------------------------------------------------------------------------------


def _read_parquet(path: Path, table: Table, source: str) -> Part:
    try:
        schema = pq.read_schema(path)
        header = [n for n in schema.names if not _PANDAS_INDEX.match(n)]
        wanted = [header[i] for i in _wanted_positions(header, table)]
        kinds = {c.name: c.kind for c in table.columns}
        # Repeating text comes back dictionary-encoded straight from the file's own
        # dictionary pages: the distinct values are then free. Identifiers (code, text) are
        # read that way only where the writer kept a dictionary (sites, payers, drug names):
        # building one for a million claim ids would cost more than it saves.
        metadata = pq.ParquetFile(path).metadata
        paged = _dictionary_paged(metadata)
        dictionary = [
            name for name in wanted
            if pa.types.is_string(schema.field(name).type)
            and (kinds[column_key(name)] not in ("code", "text") or name in paged)
        ]
        arrow = pq.ParquetFile(path, read_dictionary=dictionary).read(columns=wanted)
    except (OSError, pa.ArrowException) as exc:
        raise _Unreadable(source, "the file cannot be read as Parquet: " + fault_text(exc)
                          ) from None
    columns = {name: arrow.column(i) for i, name in enumerate(arrow.column_names)}
    return Part(source, header, columns, arrow.num_rows)


def _dictionary_paged(metadata: pq.FileMetaData) -> set[str]:
    """Columns stored with a dictionary page in every row group."""
    paged = None
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        here = {row_group.column(i).path_in_schema for i in range(row_group.num_columns)
                if row_group.column(i).has_dictionary_page}
        paged = here if paged is None else paged & here
    return paged or set()


# --- xlsx --------------------------------------------------------------------------------------


def _read_xlsx(path: Path, table: Table, source: str, sheet: str | None,
               excel_table: str | None) -> Part:
    import openpyxl
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import range_boundaries

    check_archive(path, source)
    try:
        # Excel tables are only visible in the normal mode; plain sheets stream in read-only.
        book = openpyxl.load_workbook(path, read_only=excel_table is None, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        # Its text may quote a cell of the file: name no data.
        raise _Unreadable(source, "the file cannot be read as an Excel workbook (damaged, or"
                          " not an .xlsx file); open it in Excel and save it again as .xlsx"
                          ) from None
    hint = None
    try:
        if excel_table is not None:
            worksheet, found = _find_excel_table(book, excel_table, sheet, source)
            min_col, min_row, max_col, max_row = range_boundaries(found.ref)
            source = f'{source}, table "{found.displayName}"'
            _refuse_rows(max_row, source, "the table reaches row")
            headed = found.headerRowCount is None or found.headerRowCount > 0
            max_row -= found.totalsRowCount or 0
            rows = list(worksheet.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col,
                                            max_col=max_col, values_only=True))
            if headed:
                header, body, first = list(rows[0]), rows[1:], min_row + 1
            else:
                header = [c.name for c in found.tableColumns]
                body, first = rows, min_row
        else:
            worksheet = _find_sheet(book, sheet, source)
            others = [w.title for w in book.worksheets if w is not worksheet]
            source = f'{source}, sheet "{worksheet.title}"'
            if sheet is None and others:
                hint = _other_sheets_hint(others)
            header, body, first = _sheet_rows(worksheet, source, hint)
            min_col = 1
    except _Unreadable:
        raise
    except Exception:  # malformed sheet XML (ParseError), a bad cell reference, ...
        raise _Unreadable(source, "the sheet cannot be read (its XML is damaged); open it in"
                          " Excel and save it again as .xlsx, or export the table as CSV"
                          ) from None
    finally:
        book.close()
    header = [("" if h is None else str(h)) for h in header]
    for i, name in enumerate(header):
        if len(name) > MAX_HEADER_CHARS:
            raise _Unreadable(source, f"column {get_column_letter(min_col + i)} of the header"
                              f" row is {len(name):,} characters long; {_HEADER_TOO_LONG}")
    numbers = [first + i for i, row in enumerate(body) if not _blank_row(row)]
    body = [row for row in body if not _blank_row(row)]
    width = len(header)
    columns = {}
    for i in _wanted_positions(header, table):
        columns[header[i]] = pd.Series(
            [row[i] if i < len(row) else None for row in body], dtype=object)
    letters = {header[i]: get_column_letter(min_col + i) for i in range(width)}
    row_numbers = np.asarray(numbers, dtype=np.int64)
    keys = {column_key(h) for h in header}
    problems = []
    if hint is not None and any(c.name not in keys for c in table.columns if c.required):
        problems.append((None, f"the first sheet lacks the table's columns; {hint}"))
    return Part(source, [h for h in header if h.strip()], columns, len(body),
                row_numbers=lambda positions: row_numbers[positions], letters=letters,
                read_problems=problems)


def check_archive(path: Path, source: str) -> None:
    """Refuse a workbook whose zip directory shows it too large or a zip bomb, before any of
    it is inflated: the total uncompressed size of its members is at most
    ``MAX_XLSX_UNCOMPRESSED_BYTES`` and no large member is compressed more than
    ``MAX_XLSX_COMPRESSION_RATIO`` times (:mod:`rxxl.constants`). A member cannot inflate to
    more than the directory says: Python's zipfile stops at the recorded size."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _Unreadable(source, "the file cannot be read as an Excel workbook (it is not a"
                          " zip archive: damaged, or not an .xlsx file); open it in Excel and"
                          " save it again as .xlsx") from None
    advice = "export the table as CSV or Parquet instead"
    total = sum(member.file_size for member in members)
    if total > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise _Unreadable(source, f"the workbook holds {total:,} bytes uncompressed, more than"
                          f" the {MAX_XLSX_UNCOMPRESSED_BYTES:,} bytes rxxl reads from a"
                          f" workbook; {advice}")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= XLSX_RATIO_CHECKED_FROM and ratio > MAX_XLSX_COMPRESSION_RATIO:
            name = member.filename if _showable(member.filename, 80) else "one of its parts"
            raise _Unreadable(source, f"{name} is compressed {ratio:,.0f} times (sheets are"
                              f" about 10, rxxl reads up to {MAX_XLSX_COMPRESSION_RATIO}): the"
                              f" sign of a zip bomb, not of a spreadsheet; {advice}")
    # A sheet taller than Excel's is refused by counting its rows in the XML, about a second
    # for a million: openpyxl would take minutes to read them before finding out.
    for member in members:
        if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
            _refuse_rows(_count_rows(path, member), source, "a sheet has")


def refuse_unsafe_workbook(path: Path, advice: str) -> None:
    """:func:`check_archive` for a workbook that is not a data table (the package template):
    an :class:`InputError` naming the file, what is wrong and ``advice``."""
    try:
        check_archive(path, str(path))
    except _Unreadable as exc:
        raise InputError(f"{exc.problem.message}; {advice}") from None


def _count_rows(path: Path, member: zipfile.ZipInfo) -> int:
    """The ``<row`` elements of a sheet's XML, counted in its inflated stream."""
    rows, tail = 0, b""
    with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
        while block := stream.read(2**22):
            block = tail + block
            rows += block.count(b"<row ") + block.count(b"<row>")
            # An element name cut by the block's end is counted with the next block (four
            # bytes cannot hold a whole "<row " themselves, so nothing is counted twice).
            tail = block[-4:]
    return rows


def _sheet_rows(worksheet: Any, source: str, hint: str | None
                ) -> tuple[list[Any], list[tuple[Any, ...]], int]:
    """A sheet's header (its first filled row), the rows below it and the first one's number.

    Rows are read up to Excel's last row and cells only as far right as the header reaches:
    openpyxl fills every gap, so a row numbered two billion, or a cell in column XFD on each
    row, would otherwise have it build billions of empty cells.
    """
    declared = worksheet.max_row
    if declared is not None:
        _refuse_rows(declared, source, "the sheet has")
    # A sheet's recorded dimension is often wrong (some writers leave it at A1).
    worksheet.reset_dimensions()
    top, header = None, None
    for number, row in enumerate(_bounded_rows(worksheet, source, 1, None), start=1):
        if not _blank_row(row):
            top, header = number, list(row)
            break
    if header is None:
        more = f"; {hint}" if hint else ""
        raise _Unreadable(source, f"the sheet is empty; its first filled row must name the"
                          f" columns{more}")
    while header and header[-1] is None:
        header.pop()
    body = list(_bounded_rows(worksheet, source, top + 1, max(len(header), 1)))
    return header, body, top + 1


def _bounded_rows(worksheet: Any, source: str, first: int, width: int | None
                  ) -> Iterator[tuple[Any, ...]]:
    last = EXCEL_MAX_ROWS + 1
    for number, row in enumerate(worksheet.iter_rows(min_row=first, max_row=last,
                                                     max_col=width, values_only=True),
                                 start=first):
        if number > EXCEL_MAX_ROWS:
            _refuse_rows(number, source, "the sheet has rows beyond row")
        yield row


def _refuse_rows(rows: int, source: str, what: str) -> None:
    if rows > EXCEL_MAX_ROWS:
        raise _Unreadable(source, f"{what} {rows:,} rows, more than the {EXCEL_MAX_ROWS:,} of"
                          " an Excel sheet, so Excel did not write it; export the table as CSV"
                          " or Parquet instead")


def _showable(name: str, longest: int = _SHEET_NAME_CHARS) -> bool:
    return 0 < len(name) <= longest and name.isprintable()


def _sheet_names(names: Sequence[str]) -> str:
    """Up to ``_SHEETS_SHOWN`` of the short, printable ``names``, quoted; the rest counted."""
    shown = [f'"{name}"' for name in names if _showable(name)][:_SHEETS_SHOWN]
    rest = len(names) - len(shown)
    if not shown:
        return f"{rest:,} not shown"
    return ", ".join(shown) + (f" and {rest:,} more" if rest else "")


def _other_sheets_hint(others: Sequence[str]) -> str:
    listed = (f"the other sheet is {_sheet_names(others)}" if len(others) == 1
              else f"the other sheets are {_sheet_names(others)}")
    return f"{listed}: name the one that holds the table with --sheet (sheet= in Python)"


def _blank_row(row: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _find_sheet(book: Any, sheet: str | None, source: str) -> Any:
    if not book.worksheets:
        raise _Unreadable(source, "the workbook has no worksheets (only chart sheets, or a"
                          " damaged file); save the table on a worksheet")
    if sheet is None:
        return book.worksheets[0]
    for worksheet in book.worksheets:
        if worksheet.title.strip().lower() == str(sheet).strip().lower():
            return worksheet
    names = _sheet_names([w.title for w in book.worksheets])
    raise _Unreadable(source, f'there is no sheet "{sheet}" (sheets: {names})')


def _find_excel_table(book: Any, name: str, sheet: str | None, source: str) -> tuple[Any, Any]:
    sheets = [_find_sheet(book, sheet, source)] if sheet is not None else book.worksheets
    seen = []
    for worksheet in sheets:
        for found in worksheet.tables.values():
            seen.append(found.displayName)
            if found.displayName.lower() == str(name).strip().lower():
                return worksheet, found
    listed = ", ".join(f'"{t}"' for t in seen) or "none"
    raise _Unreadable(source, f'there is no Excel table "{name}" (tables: {listed}); in Excel,'
                      " Table Design > Table Name shows a table's name")


# --- sources -----------------------------------------------------------------------------------


def _read_file(path: Path, table: Table, source: str, sheet: str | None,
               excel_table: str | None) -> Part:
    suffix = path.suffix.lower()
    if (sheet is not None or excel_table is not None) and suffix not in _XLSX:
        raise InputError(f"sheet and excel_table apply to .xlsx workbooks, not to {source}")
    _refuse_unopenable(path, source)
    try:
        if suffix in _CSV:
            return _read_csv(path, table, source)
        if suffix in _PARQUET:
            return _read_parquet(path, table, source)
        if suffix in _XLSX:
            return _read_xlsx(path, table, source, sheet, excel_table)
    except OSError as exc:  # a disk or network share failing while the file is read
        raise _Unreadable(source, f"the file cannot be read ({_reason(exc)})") from None
    if suffix == ".xls":
        raise _Unreadable(source, "old .xls workbooks are not read; save it as .xlsx")
    raise _Unreadable(source, "is not a .csv, .parquet or .xlsx file (nor a directory of"
                      " .parquet or .csv parts)")


def _refuse_unopenable(path: Path, source: str) -> None:
    """Refuse what is not a regular file (a named pipe or a device would be read forever, or
    wait for a writer) and a file that cannot be opened, naming the file."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise _Unreadable(source, f"the file cannot be opened ({_reason(exc)})") from None
    if not stat.S_ISREG(mode):
        kind = ("a named pipe" if stat.S_ISFIFO(mode) else
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "not a file")
        raise _Unreadable(source, f"is not a regular file ({kind}); save the table to a file"
                          " (.csv, .parquet or .xlsx) and give that")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise _Unreadable(source, f"the file cannot be opened ({_reason(exc)}); check that"
                          " your account may read it, or copy it to a folder where it"
                          " can") from None


def _reason(exc: OSError) -> str:
    # strerror is the system's words ("Permission denied"), without the path repeated.
    return exc.strerror or type(exc).__name__


def part_files(directory: Path) -> list[Path]:
    """The ``.parquet``/``.csv`` parts of a table's directory, in name order (hidden and
    ``_``-prefixed files, such as writers' markers, are not parts)."""
    return sorted(p for p in Path(directory).iterdir()
                  if p.is_file() and p.suffix.lower() in _CSV + _PARQUET
                  and not p.name.startswith((".", "_")))


def source_files(path: Path) -> list[Path]:
    """The files a table's source is made of: the file itself, or a directory's parts.

    Raises
    ------
    DataValidationError
        When the source does not exist, a directory cannot be listed, holds no parts or
        mixes formats (one problem naming the source and the fix).
    """
    try:
        return _source_files(Path(path))
    except _Unreadable as exc:
        raise DataValidationError([exc.problem], 1) from None


def _source_files(path: Path) -> list[Path]:
    source = str(path)
    if path.is_dir():
        try:
            files = part_files(path)
        except OSError as exc:
            raise _Unreadable(source, f"the directory cannot be listed ({_reason(exc)})"
                              ) from None
        if not files:
            raise _Unreadable(source, "the directory holds no .parquet or .csv parts")
        if len({p.suffix.lower() in _PARQUET for p in files}) > 1:
            raise _Unreadable(source, "the directory mixes .parquet and .csv parts; keep one"
                              " format")
        return files
    if not path.exists():
        raise _Unreadable(source, "no such file or directory")
    return [path]


def _read_parts(path: Path, table: Table, sheet: str | None, excel_table: str | None
                ) -> list[Part]:
    files = _source_files(path)
    # A single file is named as given; a directory's parts by their own paths.
    names = [str(path)] if files == [path] else [str(p) for p in files]
    return [_read_safely(p, table, name, sheet, excel_table)
            for p, name in zip(files, names, strict=True)]


def _read_safely(path: Path, table: Table, source: str, sheet: str | None,
                 excel_table: str | None) -> Part:
    """Read one file; a library's exception becomes a problem naming the file and the kind
    of fault, never the library's text, which may quote a cell (:mod:`rxxl.data.phi`)."""
    try:
        return _read_file(path, table, source, sheet, excel_table)
    except (_Unreadable, RxxlError):
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl, pyarrow, zipfile raise many kinds
        raise _Unreadable(source, "the file cannot be read: " + fault_text(exc)) from None


def _outcome(source: Any, table: Table, sheet: str | None, excel_table: str | None,
             max_problems: int, categorical: bool = False) -> Outcome:
    if isinstance(source, pd.DataFrame):
        if sheet is not None or excel_table is not None:
            raise InputError("sheet and excel_table apply to .xlsx workbooks, not to a"
                             " DataFrame")
        return check_parts([frame_part(source, "DataFrame")], table, max_problems,
                           categorical=categorical)
    if not isinstance(source, (str, os.PathLike)):
        raise InputTypeError(
            f"source: expected a path or a pandas DataFrame, got {type(source).__name__}")
    try:
        parts = _read_parts(Path(source), table, sheet, excel_table)
    except _Unreadable as exc:
        return Outcome(None, [exc.problem], 1)
    return check_parts(parts, table, max_problems, categorical=categorical)


def load_table(source: Any, table: Table | str, *, sheet: str | None = None,
               excel_table: str | None = None, max_problems: int = 50,
               columns: Sequence[str] | None = None, categorical: bool = False
               ) -> pd.DataFrame:
    """Read an input table and validate it against its contract.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
        A ``.csv`` file (UTF-8, or Windows-1252 as Excel saves plain CSV), a ``.parquet``
        file, an ``.xlsx``/``.xlsm`` workbook, a directory of ``.parquet`` or ``.csv`` parts
        (e.g. ``claims/2026-10.parquet``; read in name order and stacked, names starting
        with ``.`` or ``_`` skipped), or a DataFrame (e.g. from xlwings).
    table : rxxl.data.contracts.Table or str
        The contract, or its name (``"claims"``, ``"sites"``, ...).
    sheet : str, optional
        Workbooks: the sheet to read (default the first). Its first filled row is the header.
    excel_table : str, optional
        Workbooks: read this Excel table (ListObject) instead of a whole sheet.
    max_problems : int
        How many problems to keep in the error; all are counted.
    columns : sequence of str, optional
        Load and validate only these contract columns (an analysis that needs a few columns
        of 20 million claims reads and checks just those). The table's row rules apply when
        all their columns are among them.
    categorical : bool
        Code and text columns that arrive as distinct values (Parquet dictionary pages, the
        repeats of a spreadsheet) as pandas Categoricals instead of strings: for an analysis
        that groups by payer or site, a third of the loading time. Values are the same.

    Returns
    -------
    pandas.DataFrame
        Exactly the contract's columns (or the ``columns`` asked for), in contract order:
        columns of the file that are not in the contract are dropped, and optional columns
        the file lacks are added as blank.
        Dtypes are normalized (see :func:`rxxl.data.validate_table`); the index is 0..n-1.

    Raises
    ------
    DataValidationError
        If the source is missing or unreadable, or any column, cell or row breaks the
        contract. All problems of the source are found in one pass; the error keeps the first
        ``max_problems`` in file order and counts all. Nothing is returned.

    Notes
    -----
    Column names match without regard to case and surrounding spaces. Entirely blank rows
    of a sheet are skipped (a CSV's empty lines too); their neighbours keep their true row
    numbers. Text is trimmed but otherwise kept exactly as given.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "orphan.csv").write_text("NDC\\n0002-7597-01\\n51655-089-52\\n")
    >>> load_table(folder / "orphan.csv", "orphan_drugs")
               ndc
    0  00002759701
    1  51655008952
    >>> _ = (folder / "bad.csv").write_text("ndc\\n0002-7597-01\\n0002759701\\n")
    >>> try:
    ...     load_table(folder / "bad.csv", "orphan_drugs")
    ... except DataValidationError as error:
    ...     problem = error.problems[0]
    >>> problem.row, problem.column
    (3, 'ndc')
    >>> print(problem.message.split(", ", 1)[1].split(", which")[0])
    line 3, column "ndc": "0002759701" has 10 digits without dashes
    """
    table = resolve_table(table)
    if columns is not None:
        try:
            table = table.subset(columns)
        except ValueError as exc:
            raise InputError(f"columns: {exc}") from None
    outcome = _outcome(source, table, sheet, excel_table, max_problems, categorical)
    if outcome.frame is None:
        raise DataValidationError(outcome.problems, outcome.total)
    return outcome.frame


def load_reference(folder: str | os.PathLike, *, max_problems: int = 50,
                   exclude: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """Load the six 340B reference tables from one folder.

    Parameters
    ----------
    folder : str or path
        Holds, for each of ``entity``, ``sites``, ``prescribers``, ``encounters``, ``mef``
        and ``orphan_drugs``, one file ``NAME.csv`` or ``NAME.parquet``, or a directory
        ``NAME/`` of parts.
    max_problems : int
        How many problems to keep in the error, over all six tables; all are counted.
    exclude : sequence of str
        Tables not to load here (the Spark engine reads ``encounters`` on the cluster).

    Returns
    -------
    dict of str to pandas.DataFrame
        The validated tables by name, in the order above (less ``exclude``).

    Raises
    ------
    DataValidationError
        If a table is missing (or given twice, as .csv and .parquet) or breaks its contract.
        The problems of all six tables are reported together; nothing is returned.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "orphan_drugs.csv").write_text("ndc\\n00002759701\\n")
    >>> try:
    ...     load_reference(folder)
    ... except DataValidationError as error:
    ...     print(error.total, error.problems[0].message.split(": ", 1)[1])
    5 no entity.csv, entity.parquet or entity/ directory; add the table there
    """
    folder = Path(folder)
    if not folder.is_dir():
        problem = Problem(str(folder), None, None, f"{folder}: no such directory")
        raise DataValidationError([problem], 1)
    frames: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    sources: dict[str, Path] = {}
    total = 0
    for table in REFERENCE_340B:
        if table.name in exclude:
            continue
        found = [p for p in (folder / f"{table.name}.csv", folder / f"{table.name}.parquet",
                             folder / table.name) if p.exists()]
        room = max(_room(max_problems) - len(problems), 1)
        if not found:
            where = folder / table.name
            outcome = Outcome(None, [Problem(str(where), None, None,
                                             f"{where}: no {table.name}.csv, {table.name}"
                                             f".parquet or {table.name}/ directory; add the"
                                             " table there")], 1)
        elif len(found) > 1:
            listed = " and ".join(p.name + ("/" if p.is_dir() else "") for p in found)
            where = folder / table.name
            outcome = Outcome(None, [Problem(str(where), None, None,
                                             f"{where}: both {listed} hold {table.name};"
                                             " keep one")], 1)
        else:
            outcome = _outcome(found[0], table, None, None, room)
            sources[table.name] = found[0]
        total += outcome.total
        problems += outcome.problems[: max(_room(max_problems) - len(problems), 0)]
        if outcome.frame is not None:
            frames[table.name] = outcome.frame
    if not total:
        problems = _unknown_entities(frames, sources)
        total = len(problems)
    if total:
        raise DataValidationError(problems, total)
    return frames


def _unknown_entities(frames: dict[str, pd.DataFrame], sources: dict[str, Path]
                      ) -> list[Problem]:
    """Sites and prescribers of entities that the entity table does not list: their claims
    would be audited against registrations that do not exist (site and entity id swapped
    look like codes still; only the entity table tells)."""
    known = frames["entity"]["entity_id"]
    problems = []
    for name in ("sites", "prescribers"):
        unknown = ~frames[name]["entity_id"].isin(known).to_numpy(dtype=bool)
        if unknown.any():
            first = frames[name]["entity_id"].to_numpy()[unknown][0]
            problems.append(Problem(
                str(sources[name]), None, "entity_id",
                f"{sources[name]}: {int(unknown.sum()):,} rows name an entity_id that the"
                f" entity table ({sources['entity'].name}) does not list (first: {first}); add"
                " the entity there,"
                " or correct the column (are site_id and entity_id swapped?)"))
    return problems


def load_claims_and_reference(
    claims: Any, reference: str | os.PathLike, *, max_problems: int = 50,
    sheet: str | None = None, columns: Sequence[str] | None = None, categorical: bool = False,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Load the claims and the 340B reference tables side by side, in two threads.

    Reading Parquet and checking cells happen mostly in Arrow and NumPy, which release the
    GIL, so on two cores the two loads overlap. The problems of both are reported together.
    ``sheet``, ``columns`` and ``categorical`` are the claims' (as in :func:`load_table`).

    Returns
    -------
    tuple
        ``(claims, reference)`` as :func:`load_table` and :func:`load_reference` give them.

    Raises
    ------
    DataValidationError
        Listing the problems of the claims and of the reference tables; nothing is returned.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        loading_claims = pool.submit(load_table, claims, "claims", max_problems=max_problems,
                                     sheet=sheet, columns=columns, categorical=categorical)
        loading_reference = pool.submit(load_reference, reference, max_problems=max_problems)
    problems: list[Problem] = []
    total = 0
    for future in (loading_claims, loading_reference):
        error = future.exception()
        if isinstance(error, DataValidationError):
            problems += error.problems
            total += error.total
        elif error is not None:
            raise error
    if total:
        raise DataValidationError(problems[: _room(max_problems)], total)
    return loading_claims.result(), loading_reference.result()


def _room(max_problems: Any) -> int:
    if isinstance(max_problems, bool) or not isinstance(max_problems, (int, np.integer)):
        raise InputTypeError(f"max_problems: expected a whole number, got {max_problems!r}")
    if max_problems < 1:
        raise InputError(f"max_problems: expected 1 or more, got {max_problems}")
    return int(max_problems)

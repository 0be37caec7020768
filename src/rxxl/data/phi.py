"""What a message may show of the data: the one rule that keeps patient identifiers out.

Claims and encounters hold patient identifiers (contract columns with ``phi=True``), and a
message (an error, a problem list on standard error, an Excel cell's ``#VALUE!`` text) is
read, copied and pasted where PHI may not go. The rule has three parts:

1. **Cell text.** In a table whose contract has a patient-identifier column (claims,
   encounters; also when only some of its columns are loaded), no message holds the text of
   any cell, nor anything computed from it (the date a number reads as, an NDC's digits
   padded). A cell is described by its *form* (:func:`cell_form`): every letter written as
   ``A`` (``a`` in lower case), every digit as ``9``, spaces and ASCII punctuation kept,
   anything else as ``?``: ``MRN96106659`` in the NPI column reads
   ``a value of the form "AAA99999999" is not 10 digits``. The whole table, not only its
   ``patient_id`` column, because a file's header can be wrong (columns swapped, misnamed,
   or no header line at all): any column of the file may hold the identifiers, and only the
   contract says which tables can. A form holds no letter or digit of the data, so it
   cannot spell an identifier. Tables without patient identifiers (the other reference and
   the finance tables) quote their cells, up to 60 characters.
2. **Header cells** are shown only where they are a column name of some rxxl contract
   (:func:`is_known_header`: compared without case and surrounding spaces, a space or
   hyphen counting as ``_``). Other headers are counted, and a close one is pointed to by
   its position: a file without a header line starts with a row of data.
3. **Exception text of libraries** (openpyxl, pandas, pyarrow, zipfile, the XML parsers) is
   never shown: it may quote a cell (``invalid literal for int(): 'MRN96106659'``).
   :func:`fault_text` names the kind of fault instead. rxxl's own errors (:class:`RxxlError`)
   are worded under parts 1 and 2 and are shown as they are.

The test suite checks the rule on every message it provokes (``PhiScan`` in
``tests/conftest.py``): no
value of a patient-identifier column of any table a test loads or generates may appear.
"""

from __future__ import annotations

import string
import zipfile
from typing import Any
from xml.etree.ElementTree import ParseError

from rxxl.data.contracts import TABLES, Table
from rxxl.errors import RxxlError

__all__ = ["cell_form", "fault_text", "holds_phi", "is_known_header"]

#: Longest text of a cell a message quotes (or describes by its form).
MAX_SHOWN = 60

_KEPT = set(string.punctuation) | {" "}
_KNOWN_NAMES = frozenset(column.name for table in TABLES.values() for column in table.columns)


def holds_phi(table: Table) -> bool:
    """Whether messages about ``table`` show cells by their form only (rule part 1).

    A contract restricted to some columns (``Table.subset``) keeps its name, and with it
    the answer of the whole table.
    """
    whole = TABLES.get(table.name)
    return any(c.phi for c in table.columns) or (
        whole is not None and any(c.phi for c in whole.columns))


def cell_form(text: Any) -> str:
    """A cell's text described by its form: letters as A or a, digits as 9 (rule part 1).

    Examples
    --------
    >>> cell_form("MRN96106659")
    'a value of the form "AAA99999999"'
    >>> cell_form("$1,234.56")
    'a value of the form "$9,999.99"'
    """
    text = str(text)
    cut = len(text) > MAX_SHOWN
    form = "".join(_char_form(ch) for ch in (text[: MAX_SHOWN - 3] if cut else text))
    return f'a value of the form "{form}{"..." if cut else ""}"'


def _char_form(ch: str) -> str:
    if ch.isdigit():
        return "9"
    if ch.isalpha():
        return "A" if ch.isupper() else "a"
    if ch.isspace():
        return " "
    return ch if ch in _KEPT else "?"


def header_key(name: Any) -> str:
    """A header as compared with the contracts' column names (``"Claim ID"``: ``claim_id``)."""
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def is_known_header(name: Any) -> bool:
    """Whether a header cell is a column name of some rxxl contract, and so may be shown."""
    return header_key(name) in _KNOWN_NAMES


def fault_text(exc: BaseException) -> str:
    """A message for an exception that names the kind of fault, never a library's text.

    The one place that turns any exception into printable text: the command line
    (``rxxl.cli.main``), the Excel functions (``rxxl._excel.excel_safe``) and the readers use it.

    rxxl's own errors keep their message (worded under the rule); an ``OSError`` shows the
    system's reason and the file name (no cell can be in either); any other exception is
    described by its kind and type name, because libraries quote cells in their messages.

    Examples
    --------
    >>> text = fault_text(ValueError("could not convert string to float: 'MRN96106659'"))
    >>> for line in text.split(" ["):
    ...     print(line)
    a cell holds a value its type does not allow (a damaged or hand-edited file?)
    ValueError; its message is not shown, as it may quote a cell]
    """
    if isinstance(exc, RxxlError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return f"{_kind(exc)} [{type(exc).__name__}; its message is not shown, as it may quote a cell]"


def _kind(exc: BaseException) -> str:
    if isinstance(exc, zipfile.BadZipFile | zipfile.LargeZipFile):
        return "it is not a valid .xlsx workbook (a damaged or foreign zip archive)"
    if isinstance(exc, ParseError) or type(exc).__module__.startswith(("defusedxml", "xml.")):
        return "the workbook's XML is malformed, or refused as unsafe"
    if isinstance(exc, UnicodeError):
        return "it holds text that is not valid in its encoding"
    if isinstance(exc, MemoryError):
        return "it needs more memory than is available"
    if isinstance(exc, ValueError | TypeError):
        return "a cell holds a value its type does not allow (a damaged or hand-edited file?)"
    if isinstance(exc, LookupError):
        return "a part or entry it needs is missing (a damaged or hand-edited file?)"
    if isinstance(exc, OSError):
        return "it cannot be read"
    return "an unexpected fault"

"""Hostile inputs and faults against every rxxl command, as a careful hospital IT reviewer
would try them, with the outcome of each counted.

Each case copies the small synthetic sample into a workspace of its own, spoils one thing
(a corrupted copy of a table, a hostile .xlsx, an output path that is an input, a signal in
the middle of a run ...), runs one ``rxxl`` command in a child process with a time limit and
classifies what happened:

- **clear error**: exit 2 (``validate``: 1) with a short message and no traceback;
- **ok**: exit 0 where the input is usable (a BOM, CRLF line ends, a Latin-1 file ...);
- **traceback**, **hang** (the time limit passed), **flood** (more than 60 lines or 20 kB of
  messages), **unexpected** (ok where an error was due, or the reverse);
- **data lost**: a file that existed before the run and is not one of the command's declared
  outputs changed or vanished, or a declared output changed although the run failed;
- **left behind**: a file the run created that is neither a declared output nor gone;
- **PHI in messages**: a patient id of the sample (``claims.patient_id``,
  ``encounters.patient_id``) appears in the command's stdout or stderr.

Run by hand (about 10 minutes on 2 cores)::

    python bench/hostile.py --out bench/results/hostile.md

``tests/test_hostile.py`` runs :data:`QUICK`, a few dozen of the cases, on every CI run.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

MONTH = "2026-10"
#: Seconds a command may take before the case counts as a hang.
TIME_LIMIT = 120
TRACEBACK = "Traceback (most recent call last)"
#: Outcomes that are defects.
DEFECTS = ("traceback", "hang", "flood", "unexpected", "data lost", "left behind",
           "PHI in messages")
PATIENT_ID = re.compile(r"[A-Za-z0-9]{6,}")


# -- the workspace ---------------------------------------------------------------------------

@dataclass
class Sample:
    """The clean sample every case starts from, made once."""

    root: Path
    patient_ids: frozenset[str]

    @property
    def data(self) -> Path:
        return self.root / "data"


def make_sample(root: Path) -> Sample:
    """The small sample in ``root/data``, one claims month also as CSV (``root/claims.csv``)
    and an earlier month's reports in ``root/reports``."""
    data = root / "data"
    _rxxl(["sample", "--out", str(data), "--size", "small"], check=True)
    claims = pd.read_parquet(data / "claims" / f"{MONTH}.parquet")
    claims.to_csv(root / "claims.csv", index=False)
    for name in ("encounters",):
        pd.read_parquet(data / f"{name}.parquet").to_csv(root / f"{name}.csv", index=False)
    _rxxl(["report", "--data", str(data), "--month", MONTH, "--out", str(root / "reports")],
          check=True)
    ids = set()
    for part in (data / "claims").glob("*.parquet"):
        ids.update(pd.read_parquet(part, columns=["patient_id"])["patient_id"].dropna())
    ids.update(pd.read_parquet(data / "encounters.parquet",
                               columns=["patient_id"])["patient_id"].dropna())
    return Sample(root, frozenset(map(str, ids)))


def _rxxl(argv: list[str], check: bool = False, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rxxl.cli", *argv], capture_output=True,
                          text=True, errors="replace", check=check, **kwargs)


# -- spoiling a CSV --------------------------------------------------------------------------

def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)))


def _with_header(text: str, header: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(header)
    return buffer.getvalue() + "".join(_lines(text)[1:])


def _swap(a: str, b: str) -> Callable[[str], str]:
    def spoil(text: str) -> str:
        header = _header(text)
        if a not in header or b not in header:
            return _rotate(text)
        i, j = header.index(a), header.index(b)
        header[i], header[j] = header[j], header[i]
        return _with_header(text, header)
    return spoil


def _rotate(text: str) -> str:
    header = _header(text)
    return _with_header(text, header[1:] + header[:1])


def _rename_first_phi(text: str) -> str:
    header = _header(text)
    name = "patient_id" if "patient_id" in header else header[0]
    return _with_header(text, ["mrn" if h == name else h for h in header])


def _delimited(delimiter: str) -> Callable[[str], str]:
    def spoil(text: str) -> str:
        rows = list(csv.reader(io.StringIO(text)))
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
        return buffer.getvalue()
    return spoil


def _first_text_field(text: str, value: str) -> str:
    """``text`` with the last field of the first data row replaced by ``value`` (quoted)."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    names = ("drug_name", "name", "line", "description", "payer", "site_name", "title")
    column = next((header.index(n) for n in names if n in header), len(header) - 1)
    rows[1][column] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


#: name -> (spoil the CSV text into bytes, is an error expected)
CSV_SPOILS: dict[str, tuple[Callable[[str], bytes], bool | None]] = {
    "headerless": (lambda t: "".join(_lines(t)[1:]).encode(), True),
    "header only": (lambda t: _lines(t)[0].encode(), None),
    "empty file": (lambda t: b"", True),
    "columns swapped (patient id <-> claim id)": (
        lambda t: _swap("patient_id", "claim_id")(t).encode(), True),
    "every header shifted by one": (lambda t: _rotate(t).encode(), True),
    "patient id column misnamed": (lambda t: _rename_first_phi(t).encode(), True),
    "semicolon-separated": (lambda t: _delimited(";")(t).encode(), None),
    "tab-separated": (lambda t: _delimited("\t")(t).encode(), None),
    "Excel 'Unicode Text' (UTF-16, tabs)": (
        lambda t: _delimited("\t")(t).encode("utf-16"), None),
    "UTF-8 BOM and CRLF": (lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode(),
                           False),
    "Latin-1 text": (lambda t: _first_text_field(t, "Caf\xe9 R\xe9gional").encode("latin-1"),
                     False),
    # Either: a cut that ends on a row whose last field may be blank (prescribers' end date)
    # leaves a well-formed shorter file, the same as one without a final line end.
    "truncated mid-row": (lambda t: t.encode()[: len(t.encode()) * 2 // 3], None),
    "NUL bytes": (lambda t: t.encode().replace(b",", b",\x00", 5), True),
    "random bytes": (lambda t: os.urandom(50_000), True),
    "a zip (xlsx) named .csv": (lambda t: _zip_bytes(), True),
    "HTML saved as .csv": (lambda t: b"<html><body><table><tr><td>1</td></tr></table>"
                           b"</body></html>\n", True),
    "one 30 MB header cell": (lambda t: ("x" * 30_000_000 + "," + t).encode(), True),
    "one 10 MB text field": (lambda t: _first_text_field(t, "y" * 10_000_000).encode(), True),
    "bare carriage return in a field": (
        lambda t: _first_text_field(t, "line one\rline two").encode(), None),
    "formula text in a field": (
        lambda t: _first_text_field(t, "=cmd|' /C calc'!A0").encode(), None),
    "duplicate header": (lambda t: _with_header(t, [_header(t)[0]] + _header(t)[:-1]
                                                ).encode(), True),
    "10,000 columns": (lambda t: (",".join(f"c{i}" for i in range(10_000)) + "\n"
                                  + ",".join("1" for _ in range(10_000)) + "\n").encode(),
                       True),
}


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return buffer.getvalue()


# -- hostile .xlsx and parquet ---------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
    'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_START = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
_SHEET_END = "</sheetData></worksheet>"


def _xlsx(path: Path, sheet_xml: str | Callable | None, sheets: bool = True,
          doctype: str = "") -> None:
    """A minimal workbook whose one sheet is ``sheet_xml`` (text, or a function writing it
    into an open member); ``sheets=False`` lists no worksheet at all."""
    listed = '<sheet name="Claims" sheetId="1" r:id="rId1"/>' if sheets else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", doctype + _WORKBOOK.format(sheets=listed))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        if callable(sheet_xml):
            with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
                sheet_xml(member)
        elif sheet_xml is not None:
            archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)


def _inline_row(number: int, values: list[str]) -> str:
    cells = "".join(f'<c r="{_column(i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
                    for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        name = chr(65 + rest) + name
    return name


def _million_rows(member) -> None:
    member.write(_SHEET_START.encode())
    member.write(_inline_row(1, ["claim_id", "service_date"]).encode())
    chunk = []
    for number in range(2, 1_100_002):
        chunk.append(f'<row r="{number}"><c r="A{number}"><v>1</v></c></row>')
        if len(chunk) == 50_000:
            member.write("".join(chunk).encode())
            chunk = []
    member.write(("".join(chunk) + _SHEET_END).encode())


def _bomb(member) -> None:
    member.write(_SHEET_START.encode())
    block = b"<row>" + b" " * (8 * 2**20 - 11) + b"</row>"
    for _ in range(400):  # 3.2 GB of XML, about 3 MB compressed
        member.write(block)
    member.write(_SHEET_END.encode())


_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">'
                     for i in range(1, 10))
           + "]>")
_XXE = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _xlsx_spoils(sample: Sample) -> dict[str, tuple[Callable[[Path], None], bool]]:
    claims = pd.read_csv(sample.root / "claims.csv", dtype=str, keep_default_na=False)
    head = claims.head(200)

    def good(path: Path) -> None:
        head.to_excel(path, index=False, sheet_name="Claims")

    def second_sheet(path: Path) -> None:
        with pd.ExcelWriter(path) as writer:
            pd.DataFrame({"Notes": ["exported from Epic Willow"]}).to_excel(
                writer, index=False, sheet_name="Read me")
            head.to_excel(writer, index=False, sheet_name="Claims")

    def truncated(path: Path) -> None:
        good(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    def malformed(path: Path) -> None:
        _xlsx(path, _SHEET_START + '<row r="1"><c r="A1" t="inlineStr"><is><t>claim_id'
              + "</sheetData>")

    def laughs(path: Path) -> None:
        _xlsx(path, _LAUGHS + _SHEET_START[len('<?xml version="1.0" encoding="UTF-8"?>'):]
              + _inline_row(1, ["claim_id"]).replace("claim_id", "&lol9;") + _SHEET_END)

    def xxe(path: Path) -> None:
        _xlsx(path, _XXE + _SHEET_START[len('<?xml version="1.0" encoding="UTF-8"?>'):]
              + _inline_row(1, ["&xxe;"]) + _SHEET_END)

    return {
        "xlsx: a valid export": (good, False),
        "xlsx: data on the second sheet": (second_sheet, True),
        "xlsx: truncated zip": (truncated, True),
        "xlsx: malformed sheet XML": (malformed, True),
        "xlsx: no worksheets": (lambda p: _xlsx(p, None, sheets=False), True),
        "xlsx: billion laughs": (laughs, True),
        "xlsx: external entity (XXE)": (xxe, True),
        "xlsx: 1.1 million rows": (lambda p: _xlsx(p, _million_rows), True),
        "xlsx: zip bomb, 3.2 GB of XML": (lambda p: _xlsx(p, _bomb), True),
    }


def _parquet_spoils(sample: Sample) -> dict[str, tuple[Callable[[Path], None], bool]]:
    source = sample.data / "claims" / f"{MONTH}.parquet"

    def truncated(path: Path) -> None:
        data = source.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    def wrong_types(path: Path) -> None:
        frame = pd.read_parquet(source)
        frame["quantity"] = "thirty"
        frame["service_date"] = 12
        frame.to_parquet(path)

    return {
        "parquet: truncated": (truncated, True),
        "parquet: CSV bytes named .parquet": (
            lambda p: shutil.copy(sample.root / "claims.csv", p), True),
        "parquet: text quantities, numeric dates": (wrong_types, True),
    }


# -- cases -----------------------------------------------------------------------------------

@dataclass
class Case:
    """One command on one spoiled workspace. ``argv`` and ``outputs`` may use ``{ws}``."""

    name: str
    argv: list[str]
    prepare: Callable[[Path], None] = lambda ws: None
    #: Paths (under the workspace) the command may write when it succeeds.
    outputs: tuple[str, ...] = ()
    #: True: an error is due; False: it must succeed; None: either, as long as it is clear.
    error: bool | None = True
    #: A fault to inflict while the command runs: (signal, seconds after the start).
    fault: tuple[int, float] | None = None
    #: Run a second time concurrently with the first.
    concurrent: bool = False
    #: After the fault, run the command again undisturbed; it must clear what the stopped
    #: run left (a kill -9 cannot be handled, so the next run is what cleans up).
    rerun: bool = False
    #: Expected exit codes of a run that was stopped by ``fault``.
    fault_codes: tuple[int, ...] = (2, 130, 143, -9)


def _write_spoiled(source: Path, target: Path, spoil: Callable[[str], bytes]) -> None:
    text = source.read_text(encoding="utf-8")
    if target.is_dir():
        shutil.rmtree(target)
    target.write_bytes(spoil(text))


#: CSV spoils that touch no column ``rxxl denials`` reads (rxxl.cli.DENIAL_COLUMNS).
DENIALS_UNTOUCHED = ("columns swapped (patient id <-> claim id)", "patient id column misnamed",
                     "one 10 MB text field")


def _claims_csv_cases() -> list[Case]:
    cases = []
    for spoil_name, (spoil, error) in CSV_SPOILS.items():
        def prepare(ws: Path, spoil=spoil) -> None:
            _write_spoiled(ws / "claims.csv", ws / "claims.csv", spoil)
        cases += [
            Case(f"claims CSV, {spoil_name} / validate",
                 ["validate", "claims", "{ws}/claims.csv"], prepare, (), error),
            Case(f"claims CSV, {spoil_name} / audit340b",
                 ["audit340b", "--claims", "{ws}/claims.csv", "--reference", "{ws}/data",
                  "--out", "{ws}/out/audit.csv"], prepare, ("out/audit.csv",), error),
            # Denials read neither claim nor patient ids nor the drug name: those spoils
            # leave its columns whole.
            Case(f"claims CSV, {spoil_name} / denials",
                 ["denials", "--claims", "{ws}/claims.csv", "--out", "{ws}/out/denials.csv"],
                 prepare, ("out/denials.csv",),
                 None if spoil_name in DENIALS_UNTOUCHED else error),
        ]
    return cases


#: Tables of the data folder a report reads, with a column whose text the spoils may touch.
REPORT_TABLES = ("encounters", "entity", "sites", "mef", "budget_lines", "capital_requests",
                 "drug_purchases", "inventory_snapshots", "prescribers", "drugs")
REPORT_SPOILS = ("headerless", "columns swapped (patient id <-> claim id)",
                 "every header shifted by one", "semicolon-separated",
                 "Excel 'Unicode Text' (UTF-16, tabs)", "truncated mid-row", "random bytes",
                 "one 30 MB header cell", "formula text in a field", "UTF-8 BOM and CRLF")

REPORT = ["report", "--data", "{ws}/data", "--month", MONTH, "--out", "{ws}/reports"]
REPORT_OUTPUTS = (f"reports/Pharmacy Finance {MONTH}.xlsx",
                  f"reports/340B claim detail {MONTH}.xlsx")


def _table_cases() -> list[Case]:
    cases = []
    for table in REPORT_TABLES:
        for spoil_name in REPORT_SPOILS:
            spoil, error = CSV_SPOILS[spoil_name]
            if table != "encounters" and "patient id" in spoil_name:
                spoil_name, spoil = "two columns swapped", _swap_first_two
                # Two columns of one kind swapped (capital request id and name; site and
                # entity id) read as valid on their own; sites are caught against the
                # entity table, which only the audit and the report read.
                if table == "capital_requests":
                    error = None

            def prepare(ws: Path, table=table, spoil=spoil) -> None:
                source = ws / "data" / f"{table}.csv"
                if table == "encounters":
                    (ws / "data" / "encounters.parquet").unlink()
                    source = ws / "encounters.csv"
                _write_spoiled(source, ws / "data" / f"{table}.csv", spoil)

            if table in ("encounters", "entity", "sites", "mef", "prescribers"):
                cases.append(Case(f"{table} CSV, {spoil_name} / audit340b",
                                  ["audit340b", "--claims", "{ws}/claims.csv", "--reference",
                                   "{ws}/data", "--out", "{ws}/out/audit.csv"], prepare,
                                  ("out/audit.csv",), error))
            cases.append(Case(f"{table} CSV, {spoil_name} / validate",
                              ["validate", table, f"{{ws}}/data/{table}.csv"], prepare, (),
                              None if spoil_name == "two columns swapped" and table == "sites"
                              else error))
            cases.append(Case(f"{table} CSV, {spoil_name} / report", REPORT, prepare,
                              REPORT_OUTPUTS, error if spoil_name != "formula text in a field"
                              else None))
    return cases


def _swap_first_two(text: str) -> bytes:
    header = _header(text)
    return _with_header(text, [header[1], header[0], *header[2:]]).encode()


def _file_cases(sample: Sample) -> list[Case]:
    cases = []
    spoils = {**_xlsx_spoils(sample), **_parquet_spoils(sample)}
    for spoil_name, (make, error) in spoils.items():
        suffix = ".xlsx" if spoil_name.startswith("xlsx") else ".parquet"
        target = f"claims{suffix}"

        def prepare(ws: Path, make=make, target=target) -> None:
            make(ws / target)

        cases += [
            Case(f"claims {spoil_name} / validate", ["validate", "claims", f"{{ws}}/{target}"],
                 prepare, (), error),
            Case(f"claims {spoil_name} / audit340b",
                 ["audit340b", "--claims", f"{{ws}}/{target}", "--reference", "{ws}/data",
                  "--out", "{ws}/out/audit.csv"], prepare, ("out/audit.csv",), error),
        ]
    cases.append(Case("claims xlsx: data on the second sheet, --sheet Claims / validate",
                      ["validate", "claims", "{ws}/claims.xlsx", "--sheet", "Claims"],
                      lambda ws: spoils["xlsx: data on the second sheet"][0](ws / "claims.xlsx"),
                      (), False))
    cases.append(Case("claims xlsx: --sheet Claims / audit340b",
                      ["audit340b", "--claims", "{ws}/claims.xlsx", "--sheet", "Claims",
                       "--reference", "{ws}/data", "--out", "{ws}/out/audit.csv"],
                      lambda ws: spoils["xlsx: data on the second sheet"][0](ws / "claims.xlsx"),
                      ("out/audit.csv",), False))

    def fifo(ws: Path) -> None:
        (ws / "claims.csv").unlink()
        os.mkfifo(ws / "claims.csv")

    def dev_zero(ws: Path) -> None:
        (ws / "claims.csv").unlink()
        (ws / "claims.csv").symlink_to("/dev/zero")

    def directory(ws: Path) -> None:
        (ws / "claims.csv").unlink()
        (ws / "claims.csv").mkdir()

    for name, prepare in (("a FIFO named claims.csv", fifo),
                          ("/dev/zero named claims.csv", dev_zero),
                          ("an empty folder named claims.csv", directory),
                          ("no such file", lambda ws: (ws / "claims.csv").unlink())):
        cases += [
            Case(f"{name} / validate", ["validate", "claims", "{ws}/claims.csv"], prepare),
            Case(f"{name} / audit340b",
                 ["audit340b", "--claims", "{ws}/claims.csv", "--reference", "{ws}/data",
                  "--out", "{ws}/out/audit.csv"], prepare, ("out/audit.csv",)),
            Case(f"{name} / denials",
                 ["denials", "--claims", "{ws}/claims.csv", "--out", "{ws}/out/denials.csv"],
                 prepare, ("out/denials.csv",)),
        ]
    return cases


def _output_cases() -> list[Case]:
    audit = ["audit340b", "--claims", "{ws}/claims.csv", "--reference", "{ws}/data", "--out"]
    denial = ["denials", "--claims", "{ws}/claims.csv", "--out"]

    def user_file_in_sample(ws: Path) -> None:
        (ws / "data" / "my notes.xlsx").write_bytes(b"the analyst's own notes")

    def file_named_out(ws: Path) -> None:
        shutil.rmtree(ws / "out")
        (ws / "out").write_text("not a folder")

    def corrupt_template(ws: Path) -> None:
        (ws / "templates").mkdir()
        (ws / "templates" / "monthly_package.xlsx").write_bytes(b"PK\x03\x04 not a workbook")

    def template_without_sheets(ws: Path) -> None:
        (ws / "templates").mkdir()
        _xlsx(ws / "templates" / "monthly_package.xlsx", None, sheets=False)

    def no_claims_this_month(ws: Path) -> None:
        (ws / "data" / "claims" / f"{MONTH}.parquet").unlink()

    def zero_claims(ws: Path) -> None:
        text = (ws / "claims.csv").read_text()
        (ws / "claims.csv").write_text(_lines(text)[0])

    return [
        Case("audit340b --out is the claims file", audit + ["{ws}/claims.csv"]),
        Case("audit340b --out is a reference table", audit + ["{ws}/data/entity.csv"]),
        Case("audit340b --out is a folder", audit + ["{ws}/out"]),
        Case("audit340b --out under a regular file", audit + ["{ws}/out/x"], file_named_out),
        Case("audit340b --out with a .txt extension", audit + ["{ws}/out/audit.txt"]),
        Case("audit340b --lookback-days -5", audit[:1] + ["--lookback-days", "-5"] + audit[1:]
             + ["{ws}/out/audit.csv"], outputs=("out/audit.csv",)),
        Case("denials --out is the claims file", denial + ["{ws}/claims.csv"]),
        Case("denials on a claims file without rows", denial + ["{ws}/out/denials.csv"],
             zero_claims, ("out/denials.csv",)),
        Case("report --out is the data folder",
             REPORT[:-1] + ["{ws}/data"]),
        Case("report --out is the claims folder",
             REPORT[:-1] + ["{ws}/data/claims"]),
        Case("report --out is a regular file", REPORT[:-1] + ["{ws}/out/x"], file_named_out),
        Case("report --templates holds a corrupt template",
             REPORT + ["--templates", "{ws}/templates"], corrupt_template),
        Case("report --templates: a workbook without sheets",
             REPORT + ["--templates", "{ws}/templates"], template_without_sheets),
        Case("report --templates is the reports folder",
             REPORT + ["--templates", "{ws}/reports"]),
        Case("report --month 2026-13", REPORT[:4] + ["2026-13"] + REPORT[5:]),
        Case("report --month 1999-01 (no data)", REPORT[:4] + ["1999-01"] + REPORT[5:]),
        Case("report, a month without claims", REPORT, no_claims_this_month, REPORT_OUTPUTS,
             None),
        Case("report --fiscal-year-start 13", REPORT + ["--fiscal-year-start", "13"]),
        Case("sample --out an earlier sample with a user's file",
             ["sample", "--out", "{ws}/data", "--size", "small"], user_file_in_sample,
             tuple(f"data/{p}" for p in ("claims", "encounters.parquet", "manifest.json")),
             None),
        Case("sample --out a regular file", ["sample", "--out", "{ws}/out/x"], file_named_out),
        Case("sample --end-month 26-10", ["sample", "--out", "{ws}/new", "--end-month",
                                          "26-10"]),
        Case("example --data with a headerless budget", ["example", "--data", "{ws}/ex"],
             lambda ws: _example_folder(ws, "budget_lines.csv", CSV_SPOILS["headerless"][0])),
        Case("example --data with a semicolon drug spend", ["example", "--data", "{ws}/ex"],
             lambda ws: _example_folder(ws, "drug_spend.csv",
                                        CSV_SPOILS["semicolon-separated"][0]), (), None),
        Case("example --data, a file missing", ["example", "--data", "{ws}/ex"],
             lambda ws: _example_folder(ws, "inventory.csv", None)),
        Case("validate an unknown table", ["validate", "claimz", "{ws}/claims.csv"]),
    ]


def _example_folder(ws: Path, name: str, spoil: Callable[[str], bytes] | None) -> None:
    from importlib.resources import files

    folder = ws / "ex"
    folder.mkdir()
    for source in files("rxxl.example_data").iterdir():
        if source.name.endswith(".csv"):
            (folder / source.name).write_bytes(source.read_bytes())
    if spoil is None:
        (folder / name).unlink()
    else:
        _write_spoiled(folder / name, folder / name, spoil)


def _fault_cases() -> list[Case]:
    unmasked = REPORT + ["--unmask-patients", "--all-claims"]
    return [
        Case("report killed by SIGTERM while writing", unmasked, outputs=REPORT_OUTPUTS,
             error=None, fault=(signal.SIGTERM, 30.0)),
        Case("report interrupted (Ctrl-C) while writing", unmasked, outputs=REPORT_OUTPUTS,
             error=None, fault=(signal.SIGINT, 30.0)),
        Case("report killed by kill -9 while writing", unmasked, outputs=REPORT_OUTPUTS,
             error=None, fault=(signal.SIGKILL, 30.0), rerun=True),
        Case("two reports into one folder at once", REPORT, outputs=REPORT_OUTPUTS,
             error=None, concurrent=True),
    ]


def all_cases(sample: Sample) -> list[Case]:
    return (_claims_csv_cases() + _table_cases() + _file_cases(sample) + _output_cases()
            + _fault_cases())


#: The cases tests/test_hostile.py runs on every CI run: one of each kind of fault.
QUICK = (
    "claims CSV, headerless / validate",
    "claims CSV, columns swapped (patient id <-> claim id) / audit340b",
    "claims CSV, Excel 'Unicode Text' (UTF-16, tabs) / validate",
    "claims CSV, semicolon-separated / denials",
    "claims CSV, one 30 MB header cell / validate",
    "claims CSV, bare carriage return in a field / audit340b",
    "encounters CSV, columns swapped (patient id <-> claim id) / report",
    "budget_lines CSV, random bytes / report",
    "claims xlsx: malformed sheet XML / validate",
    "claims xlsx: no worksheets / validate",
    "claims xlsx: zip bomb, 3.2 GB of XML / validate",
    "claims xlsx: 1.1 million rows / validate",
    "claims xlsx: data on the second sheet / audit340b",
    "a FIFO named claims.csv / validate",
    "/dev/zero named claims.csv / denials",
    "audit340b --out is the claims file",
    "audit340b --out is a reference table",
    "audit340b --out is a folder",
    "denials on a claims file without rows",
    "report --out is the data folder",
    "report --templates holds a corrupt template",
    "sample --out an earlier sample with a user's file",
    "example --data with a headerless budget",
    "report killed by SIGTERM while writing",
    "report killed by kill -9 while writing",
    "two reports into one folder at once",
)


# -- running and judging ---------------------------------------------------------------------

@dataclass
class Outcome:
    case: str
    verdicts: list[str]
    exit_codes: list[int | None]
    seconds: float
    message: str = ""
    details: list[str] = field(default_factory=list)


def _snapshot(root: Path) -> dict[str, str]:
    state = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                state[str(path.relative_to(root))] = "special"
                continue
            digest = hashlib.sha1()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(2**20), b""):
                    digest.update(block)
            state[str(path.relative_to(root))] = digest.hexdigest()
    return state


def _workspace(sample: Sample, parent: Path) -> Path:
    ws = Path(tempfile.mkdtemp(prefix="case-", dir=parent))
    shutil.copytree(sample.data, ws / "data")
    shutil.copytree(sample.root / "reports", ws / "reports")
    (ws / "reports" / "my notes.xlsx").write_bytes(b"an analyst's file in the reports folder")
    for name in ("claims.csv", "encounters.csv"):
        shutil.copy(sample.root / name, ws / name)
    (ws / "out").mkdir()
    (ws / "tmp").mkdir()
    (ws / "out" / "audit.csv").write_text("an earlier audit\n")
    return ws


def _inflict(run: subprocess.Popen, fault: tuple[int, float], ws: Path, before: dict) -> None:
    """Send the fault's signal once the run has begun writing (a new file in the workspace)
    and half a second more, or after the fault's seconds if it writes nothing sooner."""
    signum, latest = fault
    deadline = time.monotonic() + latest
    while time.monotonic() < deadline and run.poll() is None:
        if any(str(path.relative_to(ws)) not in before for path in ws.rglob("*")
               if path.is_file()):
            time.sleep(0.5)
            break
        time.sleep(0.1)
    if run.poll() is None:
        run.send_signal(signum)


def run_case(case: Case, sample: Sample, parent: Path,
             time_limit: float = TIME_LIMIT) -> Outcome:
    ws = _workspace(sample, parent)
    try:
        case.prepare(ws)
        before = _snapshot(ws)
        argv = [a.replace("{ws}", str(ws)) for a in case.argv]
        command = [sys.executable, "-m", "rxxl.cli", *argv]
        # Temporary files go to the workspace, so that what a run leaves there is seen.
        env = {**os.environ, "TMPDIR": str(ws / "tmp")}
        start = time.monotonic()
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 cwd=ws, env=env)]
        if case.concurrent:
            time.sleep(0.5)
            runs.append(subprocess.Popen(command, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, cwd=ws, env=env))
        if case.fault:
            _inflict(runs[0], case.fault, ws, before)
        texts, codes, hang, rerun_ok = [], [], False, False
        for run in runs:
            try:
                out, err = run.communicate(timeout=time_limit)
            except subprocess.TimeoutExpired:
                run.kill()
                out, err = run.communicate()
                hang = True
            codes.append(None if hang else run.returncode)
            texts.append(out.decode("utf-8", "replace") + err.decode("utf-8", "replace"))
        if case.rerun and not hang:
            again = subprocess.run(command, capture_output=True, cwd=ws, env=env,
                                   timeout=time_limit)
            texts.append(again.stdout.decode("utf-8", "replace")
                         + again.stderr.decode("utf-8", "replace"))
            rerun_ok = again.returncode == 0
            if not rerun_ok:
                texts.append(f"the run after the fault exited {again.returncode}")
                codes.append(again.returncode)
        seconds = time.monotonic() - start
        after = _snapshot(ws)
        return _judge(case, sample, before, after, codes, texts, hang, seconds, rerun_ok)
    finally:
        _remove(ws)


def _remove(ws: Path) -> None:
    for dirpath, dirnames, _ in os.walk(ws):
        for name in dirnames:
            os.chmod(Path(dirpath) / name, 0o755)
    shutil.rmtree(ws, ignore_errors=True)


def _judge(case: Case, sample: Sample, before: dict, after: dict, codes: list,
           texts: list[str], hang: bool, seconds: float, rerun_ok: bool = False) -> Outcome:
    verdicts, details = [], []
    text = "\n".join(texts)
    if hang:
        verdicts.append("hang")
    if TRACEBACK in text:
        verdicts.append("traceback")
    allowed_ok = (0, 1) if case.argv[0] == "validate" else (0,)
    succeeded = [c in allowed_ok and not (case.argv[0] == "validate" and c == 1)
                 for c in codes]
    failed_clearly = [c == 2 or (case.argv[0] == "validate" and c == 1) for c in codes]
    if not hang:
        if case.fault:
            if codes[0] not in (0, *case.fault_codes) or any(codes[1:]):
                verdicts.append("unexpected")
                details.append(f"exit {codes} after the fault")
        elif case.concurrent:
            if not any(succeeded) or not all(
                    s or f for s, f in zip(succeeded, failed_clearly, strict=True)):
                verdicts.append("unexpected")
                details.append(f"exit codes {codes}")
            elif all(succeeded):
                verdicts.append("unexpected")
                details.append("both concurrent runs wrote to one folder")
        elif case.error is True and not failed_clearly[0]:
            verdicts.append("unexpected")
            details.append(f"exit {codes[0]} where a clear error was due")
        elif case.error is False and not succeeded[0]:
            verdicts.append("unexpected")
            details.append(f"exit {codes[0]} where the input is usable")
        elif case.error is None and not (succeeded[0] or failed_clearly[0]):
            verdicts.append("unexpected")
            details.append(f"exit {codes[0]}")
    lines = [line for t in texts for line in t.splitlines()]
    if len(lines) > 60 or len(text) > 20_000:
        verdicts.append("flood")
        details.append(f"{len(lines)} lines, {len(text):,} characters of messages")
    leaked = {token for token in PATIENT_ID.findall(text) if token in sample.patient_ids}
    if leaked:
        verdicts.append("PHI in messages")
        details.append(f"{len(leaked)} patient ids in messages")
    outputs = set(case.outputs)
    any_success = (any(succeeded) or rerun_ok) and not hang

    def is_output(name: str) -> bool:
        return any(name == o or name.startswith(o.rstrip("/") + "/") for o in outputs)

    lost = [name for name, digest in before.items()
            if after.get(name) != digest and not (any_success and is_output(name))]
    if case.argv[0] == "sample" and any_success:
        # A sample run rewrites the files of the sample it made; only others are the user's.
        lost = [n for n in lost if not n.startswith("data/") or n == "data/my notes.xlsx"]
    if lost:
        verdicts.append("data lost")
        details.append("changed or removed: " + ", ".join(sorted(lost)[:5]))
    left = [name for name in after if name not in before and not is_output(name)
            and not (case.argv[0] == "sample" and name.startswith(("data/", "new/")))]
    if left:
        verdicts.append("left behind")
        details.append("left: " + ", ".join(sorted(left)[:5]))
    if not verdicts:
        verdicts.append("ok" if any_success else "clear error")
    message = next((line for line in reversed(lines) if line.strip()), "")[:300]
    for token in PATIENT_ID.findall(message):
        if token in sample.patient_ids:
            message = message.replace(token, "<patient id>")
    return Outcome(case.name, verdicts, codes, seconds, message, details)


def run(cases: list[Case], sample: Sample, jobs: int = 2,
        time_limit: float = TIME_LIMIT) -> list[Outcome]:
    parent = Path(tempfile.mkdtemp(prefix="rxxl-hostile-"))
    try:
        with ThreadPoolExecutor(jobs) as pool:
            return list(pool.map(lambda c: run_case(c, sample, parent, time_limit), cases))
    finally:
        _remove(parent)


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts = Counter(v for o in outcomes for v in set(o.verdicts))
    return {"inputs and faults tried": len(outcomes),
            "clear errors": counts["clear error"], "ok": counts["ok"],
            **{name: counts[name] for name in DEFECTS}}


def markdown(outcomes: list[Outcome], date: str) -> str:
    lines = [f"# Hostile inputs and faults, {date}", "",
             "Made by `python bench/hostile.py` on the small sample; see its docstring.", ""]
    lines += [f"- {name}: {count:,}" for name, count in summary(outcomes).items()]
    lines += ["", "| case | outcome | exit | s | last line of the message |",
              "|---|---|---|---|---|"]
    for o in outcomes:
        verdict = ", ".join(o.verdicts) + (f" ({'; '.join(o.details)})" if o.details else "")
        message = o.message.replace("|", "\\|")
        lines.append(f"| {o.case} | {verdict} | {o.exit_codes} | {o.seconds:.1f} |"
                     f" {message} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the table (markdown) here")
    parser.add_argument("--quick", action="store_true", help="only the CI subset")
    parser.add_argument("--match", help="only cases whose name contains this")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT,
                        help="seconds before a run counts as a hang (default %(default)s)")
    parser.add_argument("--date", default=time.strftime("%Y-%m-%d"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rxxl-hostile-sample-") as root:
        sample = make_sample(Path(root))
        cases = all_cases(sample)
        if args.quick:
            cases = [c for c in cases if c.name in QUICK]
        if args.match:
            cases = [c for c in cases if args.match in c.name]
        outcomes = run(cases, sample, args.jobs, args.time_limit)
    text = markdown(outcomes, args.date)
    if args.out:
        args.out.write_text(text)
    print(text)
    sys.exit(1 if any(v in DEFECTS for o in outcomes for v in o.verdicts) else 0)


if __name__ == "__main__":
    main()

"""Shared fixtures: LibreOffice Calc as an independent spreadsheet engine, and the PHI scan.

LibreOffice recalculates a workbook headlessly and writes the results back as cached
values, which openpyxl then reads. Each call uses its own profile directory (concurrent
soffice processes sharing a profile block each other), and the profile sets
``OOXMLRecalcMode = 0`` so Calc always recalculates instead of trusting cached values.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <item oor:path="/org.openoffice.Office.Calc/Formula/Load">
    <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop>
  </item>
</oor:items>
"""


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def recalculate_with_libreoffice(workbook: Path, workdir: Path) -> Path:
    """Return the path of a copy of ``workbook`` recalculated by LibreOffice Calc."""
    soffice = _soffice()
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    profile = workdir / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
    outdir = workdir / "recalculated"
    outdir.mkdir(exist_ok=True)
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(outdir),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    converted = outdir / (workbook.stem + ".xlsx")
    if result.returncode != 0 or not converted.exists():
        raise RuntimeError(
            f"LibreOffice failed on {workbook.name}: exit {result.returncode}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return converted


@pytest.fixture
def libreoffice_recalculate(tmp_path: Path) -> Callable[[Path], Path]:
    """Recalculate a workbook with LibreOffice; skip (locally) when it is not installed.

    CI installs LibreOffice, and ``.ci/run`` sets RXXL_REQUIRE_LIBREOFFICE=1 so that a
    missing engine fails there instead of skipping the oracle tests silently.
    """
    import os

    if _soffice() is None:
        if os.environ.get("RXXL_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice is required (RXXL_REQUIRE_LIBREOFFICE=1) but not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    return lambda workbook: recalculate_with_libreoffice(workbook, tmp_path)


# --- the shared small synthetic health system and its package --------------------------------


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory) -> tuple[Path, dict]:
    """The small synthetic health system (default seed) and its manifest, generated once per
    session for the modules that only read it: never change its files (copy it first)."""
    from rxxl.data.synthetic import generate

    folder = tmp_path_factory.mktemp("small-sample") / "health-system"
    return folder, generate(folder, size="small")


@pytest.fixture(scope="session")
def small_package(small_sample, tmp_path_factory) -> Path:
    """The monthly package of the small sample's last month (2026-10), built once."""
    import pandas as pd

    from rxxl.reports.monthly import build_report, package_name

    out = tmp_path_factory.mktemp("small-package")
    build_report(small_sample[0], "2026-10", out)
    return out / package_name(pd.Period("2026-10"))


# --- the PHI scan: no patient identifier in any message the suite provokes ---------------------
#
# rxxl.data.phi states the rule. This scan checks it on every message of every test: the text
# of each RxxlError raised (DataValidationError and InputError included, whether or not a
# test catches it), each cell message of an RX_ function, and what `rxxl` printed, from
# rxxl.cli.main in this process or `python -m rxxl.cli` run by subprocess. The identifiers
# it looks for: every patient id a synthetic sample was generated with (for the whole
# session), and, per test, the values of the patient-identifier columns of every table the
# test validated plus any a test plants with the ``phi_scan`` fixture. A test whose
# messages hold one fails at teardown, naming the identifier and where it appeared.

_TOKEN = re.compile(r"[A-Za-z0-9]+")
#: Shorter values ("1", "P1") would match words of any message; no real identifier is so short.
_MIN_LENGTH = 4


class PhiScan:
    """Messages recorded since the last check, and the patient identifiers to look for.

    Identifiers made of letters and digits only (``MRN96106659``) are looked up as words of
    a message, the others (``MRN-2``) as substrings; sorted so at ``add``, a check costs a
    set lookup per word of the test's messages.
    """

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self.session_values: set[str] = set()
        self.test_values: set[str] = set()
        self._others: dict[bool, set[str]] = {True: set(), False: set()}

    def record(self, where: str, text: object) -> None:
        if text:
            self.messages.append((where, text if isinstance(text, str) else str(text)))

    def add(self, values, *, session: bool = False) -> None:
        """Identifiers to look for: this test's (default) or the whole session's."""
        kept = {v.strip() if isinstance(v, str) else str(v) for v in values if v is not None}
        kept = {v for v in kept if len(v) >= _MIN_LENGTH}
        words = {v for v in kept if v.isascii() and v.isalnum()}
        (self.session_values if session else self.test_values).update(words)
        self._others[session].update(kept - words)

    def leaks(self) -> list[tuple[str, str, str]]:
        """(where, identifier, excerpt) of each message that holds an identifier."""
        others = self._others[True] | self._others[False]
        found = []
        for where, text in self.messages:
            tokens = set(_TOKEN.findall(text))
            hits = (tokens & self.session_values) | (tokens & self.test_values)
            hits |= {v for v in others if v in text}
            for value in sorted(hits):
                at = text.find(value)
                found.append((where, value, text[max(at - 80, 0): at + len(value) + 40]))
        return found

    def check(self) -> list[tuple[str, str, str]]:
        """The leaks since the last check; the messages and this test's values are cleared."""
        found = self.leaks() if self.messages else []
        self.messages.clear()
        self.test_values.clear()
        self._others[False].clear()
        return found


PHI_SCAN = PhiScan()


def _install(scan: PhiScan) -> None:
    """Record messages and identifiers where rxxl makes them (patched once per session)."""
    import subprocess

    import pandas as pd
    import pyarrow as pa

    import rxxl._excel as excel
    import rxxl.cli as cli
    import rxxl.data.readers as readers
    import rxxl.data.validate as validate
    from rxxl.data.phi import holds_phi
    from rxxl.data.synthetic.organization import Organization
    from rxxl.errors import RxxlError

    def error_init(self, *args, **kwargs):
        super(RxxlError, self).__init__(*args, **kwargs)
        scan.record(type(self).__name__, " ".join(map(str, args)))

    RxxlError.__init__ = error_init

    message = excel._message

    def cell_message(text):
        cell = message(text)
        scan.record("Excel cell", cell)
        return cell

    excel._message = cell_message

    class Tee:
        def __init__(self, stream, where):
            self.stream, self.where = stream, where

        def write(self, text):
            scan.record(self.where, text)
            return self.stream.write(text)

        def __getattr__(self, name):
            return getattr(self.stream, name)

    main = cli.main

    def recorded_main(argv=None):
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = Tee(out, "rxxl stdout"), Tee(err, "rxxl stderr")
        try:
            return main(argv)
        finally:
            sys.stdout, sys.stderr = out, err

    cli.main = recorded_main

    run = subprocess.run

    def recorded_run(*args, **kwargs):
        result = run(*args, **kwargs)
        command = args[0] if args else kwargs.get("args", "")
        if "rxxl" in str(command):
            for stream in (result.stdout, result.stderr):
                if isinstance(stream, bytes):
                    stream = stream.decode("utf-8", "replace")
                scan.record(f"subprocess {command}", stream)
        return result

    subprocess.run = recorded_run

    patient_ids = Organization.patient_ids

    def recorded_patient_ids(self, count=None):
        ids = patient_ids(self, count)
        scan.add(ids.to_pylist(), session=True)
        return ids

    Organization.patient_ids = recorded_patient_ids

    check_parts = validate.check_parts

    def recorded_check_parts(parts, table, max_problems, **options):
        if holds_phi(table):
            keys = {c.name for c in table.columns if c.phi}
            for part in parts:
                for name, raw in part.columns.items():
                    if validate.column_key(name) in keys:
                        values = (pa.chunked_array([raw]) if isinstance(raw, pa.Array) else raw)
                        if isinstance(values, pa.ChunkedArray):
                            scan.add(values.unique().to_pylist())
                        else:
                            scan.add(pd.Series(list(values), dtype=object).dropna().unique())
        return check_parts(parts, table, max_problems, **options)

    validate.check_parts = readers.check_parts = recorded_check_parts


_install(PHI_SCAN)


@pytest.fixture(autouse=True)
def _no_phi_in_messages():
    """Fail a test whose messages hold a patient identifier (see PhiScan)."""
    yield
    found = PHI_SCAN.check()
    if found:
        listed = "\n".join(f"  {where}: {value!r} in ...{excerpt}..."
                            for where, value, excerpt in found[:10])
        pytest.fail(f"patient identifiers in {len(found)} message(s):\n{listed}",
                    pytrace=False)


@pytest.fixture
def phi_scan() -> PhiScan:
    """The session's PHI scan, to plant identifiers to look for (``phi_scan.add``)."""
    return PHI_SCAN


def pytest_sessionfinish(session, exitstatus):
    """Messages after the last test's check (a module fixture's teardown) are scanned too."""
    found = PHI_SCAN.check()
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"patient identifiers in messages after the last test: {found[:5]}",
                                red=True)
        session.exitstatus = 1

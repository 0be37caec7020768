"""Shared fixtures: LibreOffice Calc as an independent spreadsheet engine.

LibreOffice recalculates a workbook headlessly and writes the results back as cached
values, which openpyxl then reads. Each call uses its own profile directory (concurrent
soffice processes sharing a profile block each other), and the profile sets
``OOXMLRecalcMode = 0`` so Calc always recalculates instead of trusting cached values.
"""

from __future__ import annotations

import shutil
import subprocess
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

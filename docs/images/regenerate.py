"""Regenerate the README's pictures of the monthly package from the demo.

    python docs/images/regenerate.py

Runs ``rxxl demo`` into a scratch folder, prints the package with LibreOffice
(:mod:`rxxl.reports.render`) and copies the first page of each sheet below here as
``<sheet>.png``. Needs LibreOffice and poppler (README, "Two commands").
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from rxxl.cli import main
from rxxl.reports.render import render_workbook

HERE = Path(__file__).resolve().parent
#: The sheets the README shows: the executive summary first.
SHEETS = ("Summary", "Budget", "Denials", "340B")
DPI = 100


def regenerate() -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="rxxl-pictures-") as scratch:
        if main(["demo", "--out", scratch]) != 0:
            raise SystemExit("rxxl demo failed")
        package = next((Path(scratch) / "reports").glob("Pharmacy Finance *.xlsx"))
        pages = Path(scratch) / "pages"
        render_workbook(package, pages, dpi=DPI)
        written = []
        for sheet in SHEETS:
            first = sorted(pages.glob(f"[0-9][0-9] {sheet} p*.png"))[0]
            target = HERE / f"{sheet.lower()}.png"
            shutil.copyfile(first, target)
            written.append(target)
        return written


if __name__ == "__main__":
    for path in regenerate():
        print(path)
    sys.exit(0)

"""Render a workbook's printed pages to PNG images, to look at every sheet as it prints.

LibreOffice (headless) prints the workbook to PDF with each sheet's own print setup (scale,
pages wide, repeated header rows, footer); ``pdftoppm`` (poppler) turns each PDF page into a
PNG. A page is named by its sheet and its page within the sheet,
``03 Budget p2.png``: the sheet is read from the page's footer, whose centre is the sheet
name (``rxxl.reports.style.FOOTER_CENTER``), and a page without a readable footer belongs
to the sheet of the page before it.

Command line::

    python -m rxxl.reports.render "Pharmacy Finance 2026-10.xlsx" --out renders [--dpi 80]

References: LibreOffice command line, https://help.libreoffice.org/latest/en-US/text/shared/
guide/start_parameters.html; poppler's pdftoppm and pdftotext,
https://poppler.freedesktop.org/.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from openpyxl import load_workbook

from rxxl.errors import InputError, RxxlError

__all__ = ["Page", "RenderError", "blank_pages", "is_blank", "main", "render_workbook",
           "sheets_of_pages"]

#: Seconds LibreOffice may take to print a workbook to PDF.
TIMEOUT = 300
#: A page is blank when no pixel of its low-resolution grey image is darker than this
#: (0 black, 255 white).
BLANK_LEVEL = 250


class RenderError(RxxlError, RuntimeError):
    """A tool is missing or failed (LibreOffice, pdftoppm, pdftotext)."""


@dataclass(frozen=True)
class Page:
    """One printed page: its image, its sheet, its number within the sheet and in the PDF."""

    path: Path
    sheet: str
    page: int
    number: int


def _tool(name: str, *alternatives: str) -> str:
    for candidate in (name, *alternatives):
        found = shutil.which(candidate)
        if found:
            return found
    raise RenderError(f"{name} is not installed; install "
                      + ("LibreOffice (the soffice command)" if name == "soffice"
                         else "poppler-utils (pdftoppm and pdftotext)")
                      + " to render workbooks")


def _run(command: list[str], what: str, timeout: float) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise RenderError(f"{what} took longer than {timeout:g} s; pass a larger timeout or "
                          f"check that no dialog is waiting") from error
    if result.returncode != 0:
        raise RenderError(f"{what} failed (exit {result.returncode}): "
                          f"{(result.stderr or result.stdout).strip()[:500]}")
    return result


def _to_pdf(workbook: Path, scratch: Path, timeout: float) -> Path:
    """The workbook printed to PDF by LibreOffice, with a profile of its own (two soffice
    processes sharing a profile block each other)."""
    soffice = _tool("soffice", "libreoffice")
    profile = scratch / "profile"
    profile.mkdir()
    copy = scratch / "book" / workbook.name
    copy.parent.mkdir()
    shutil.copyfile(workbook, copy)
    _run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
          "--convert-to", "pdf", "--outdir", str(scratch), str(copy)],
         "LibreOffice (printing to PDF)", timeout)
    pdf = scratch / (workbook.stem + ".pdf")
    if not pdf.exists():
        raise RenderError(f"LibreOffice wrote no PDF of {workbook.name}")
    return pdf


_PAGE_OF = re.compile(r"Page \d+ of \d+")


def _page_sheets(pdf: Path, sheets: list[str], timeout: float) -> list[str]:
    """The sheet of each PDF page, from its footer line: organization and month, the sheet's
    name, page x of y, each apart by wide spaces in the page's layout text."""
    text = _run([_tool("pdftotext"), "-layout", str(pdf), "-"], "pdftotext", timeout).stdout
    return sheets_of_pages(text, sheets)


def sheets_of_pages(text: str, sheets: list[str]) -> list[str]:
    r"""The sheet of each page of ``pdftotext -layout`` text (pages apart by form feeds).

    >>> footer = "Mercy · March 2026      {}      Page {} of 3 · Generated 2026-04-05 09:30"
    >>> text = "\f".join([footer.format("Budget", 1), "Budget\n" + footer.format("Checks", 2)
    ...                   + "\nN   M", "a page without a footer"]) + "\f"
    >>> sheets_of_pages(text, ["Budget", "Checks"])
    ['Budget', 'Checks', 'Checks']
    """
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages = pages[:-1]
    # Longest names first, so "Capital requests" wins over "Capital".
    names = sorted(sheets, key=len, reverse=True)
    found: list[str] = []
    for page in pages:
        lines = [line for line in page.splitlines() if line.strip()]
        # The footer is the line with "Page x of y"; a chart's text can come after it.
        footers = [line for line in lines if _PAGE_OF.search(line)] or lines[-1:]
        footer = footers[-1] if footers else ""
        parts = re.split(r"\s{2,}", footer.strip())
        match = next((parts[index - 1] for index, part in enumerate(parts)
                      if index and _PAGE_OF.match(part) and parts[index - 1] in sheets),
                     None)
        if match is None:  # a footer laid out otherwise: any name in it
            match = next((name for name in names
                          if re.search(rf"(^|\s){re.escape(name)}(\s|$)", footer)), None)
        found.append(match or (found[-1] if found else sheets[0]))
    return found


def is_blank(pgm: bytes) -> bool:
    """Whether a binary grey image (PGM, ``P5``) has no pixel darker than
    :data:`BLANK_LEVEL`.

    >>> is_blank(b"P5\\n2 1\\n255\\n" + bytes([255, 255]))
    True
    >>> is_blank(b"P5\\n2 1\\n255\\n" + bytes([255, 40]))
    False
    """
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", pgm)
    if header is None:
        raise RenderError("pdftoppm wrote an image that is not a grey PGM")
    width, height = int(header[1]), int(header[2])
    pixels = np.frombuffer(pgm, dtype=np.uint8, count=width * height, offset=header.end())
    return bool(pixels.min(initial=255) >= BLANK_LEVEL)


def _safe(name: str) -> str:
    return re.sub(r"[^\w .-]", "_", name).strip() or "sheet"


def render_workbook(workbook: str | Path, out: str | Path, *, dpi: int = 80,
                    timeout: float = TIMEOUT) -> list[Page]:
    """Print ``workbook`` to ``out/<name>.pdf`` and one PNG a page, ``out/NN Sheet pK.png``
    (NN the sheet's tab position, K the page within the sheet).

    Parameters
    ----------
    workbook : str or Path
        An ``.xlsx`` file.
    out : str or Path
        Folder for the PDF and the images (created if missing).
    dpi : int, default 80
        Resolution of the images; 80 shows a Letter page as 880 × 680 px.
    timeout : float, default :data:`TIMEOUT`
        Seconds each tool may take.

    Returns
    -------
    list of Page
        In print order.

    Raises
    ------
    InputError
        If ``workbook`` is not an existing ``.xlsx`` file or ``dpi`` is not 10 to 600.
    RenderError
        If LibreOffice or poppler is missing, fails or times out.
    """
    source = Path(workbook)
    if not source.is_file() or source.suffix.lower() != ".xlsx":
        raise InputError(f"workbook: {str(source)!r} is not an .xlsx file; pass the path of "
                         f"a workbook such as 'Pharmacy Finance 2026-10.xlsx'")
    if not 10 <= int(dpi) <= 600:
        raise InputError(f"dpi: {dpi} is outside 10 to 600; 80 is legible on screen")
    book = load_workbook(source, read_only=True)
    sheets = list(book.sheetnames)
    book.close()
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rxxl-render-") as folder:
        scratch = Path(folder)
        pdf = _to_pdf(source, scratch, timeout)
        owners = _page_sheets(pdf, sheets, timeout)
        _run([_tool("pdftoppm"), "-png", "-r", str(int(dpi)), str(pdf), str(scratch / "page")],
             "pdftoppm", timeout)
        images = sorted(scratch.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        if len(images) != len(owners):
            raise RenderError(f"pdftoppm wrote {len(images)} images of {len(owners)} pages")
        shutil.copyfile(pdf, target / pdf.name)
        pages: list[Page] = []
        within: dict[str, int] = {}
        for number, (image, sheet) in enumerate(zip(images, owners, strict=True), start=1):
            within[sheet] = within.get(sheet, 0) + 1
            position = sheets.index(sheet) + 1
            digits = len(str(owners.count(sheet)))  # p01..p45 sort in page order
            name = f"{position:02d} {_safe(sheet)} p{within[sheet]:0{digits}d}.png"
            shutil.move(image, target / name)
            pages.append(Page(target / name, sheet, within[sheet], number))
    return pages


def blank_pages(pdf: str | Path, timeout: float = TIMEOUT) -> list[int]:
    """Page numbers (1-based) of a PDF's blank pages, from 10 dpi grey images."""
    with tempfile.TemporaryDirectory(prefix="rxxl-blank-") as folder:
        _run([_tool("pdftoppm"), "-gray", "-r", "10", str(pdf), str(Path(folder) / "g")],
             "pdftoppm", timeout)
        images = sorted(Path(folder).glob("g-*.pgm"), key=lambda p: int(p.stem.split("-")[-1]))
        return [n for n, image in enumerate(images, start=1) if is_blank(image.read_bytes())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rxxl.reports.render",
        description="Render every printed page of a workbook to PNG (LibreOffice, poppler).")
    parser.add_argument("workbook", help="the .xlsx file")
    parser.add_argument("--out", required=True, help="folder for the PDF and the PNG pages")
    parser.add_argument("--dpi", type=int, default=80, help="image resolution (default 80)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT,
                        help=f"seconds each tool may take (default {TIMEOUT})")
    arguments = parser.parse_args(argv)
    try:
        pages = render_workbook(arguments.workbook, arguments.out, dpi=arguments.dpi,
                                timeout=arguments.timeout)
    except (InputError, RenderError) as error:
        print(f"render: {error}", file=sys.stderr)
        return 1
    counts: dict[str, int] = {}
    for page in pages:
        counts[page.sheet] = counts.get(page.sheet, 0) + 1
    for sheet, count in counts.items():
        print(f"{sheet}: {count} page{'s' if count != 1 else ''}")
    print(f"{len(pages)} pages in {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The render tool on the demo package: every sheet prints, legibly, on pages that are not
blank, each named by its sheet (skipped without LibreOffice and poppler; CI has them)."""

from __future__ import annotations

import shutil

import pytest
from openpyxl import load_workbook

from rxxl.cli import run_demo
from rxxl.errors import InputError
from rxxl.reports import render, style
from rxxl.reports.lint import effective_scale

needs_tools = pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")) or not shutil.which("pdftoppm")
    or not shutil.which("pdftotext"), reason="LibreOffice or poppler is not installed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    run_demo(out)
    return sorted((out / "reports").glob("*.xlsx"))


@pytest.fixture(scope="module")
def rendered(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("renders")
    return {book.name: (render.render_workbook(book, out / book.stem, dpi=40), out / book.stem)
            for book in demo}


def test_every_sheet_of_the_demo_prints_at_a_legible_scale(demo):
    assert len(demo) == 2  # the package and its claim detail
    for path in demo:
        book = load_workbook(path)
        for sheet in book.worksheets:
            assert effective_scale(sheet) >= style.MIN_PRINT_SCALE, (path.name, sheet.title)


@needs_tools
def test_every_sheet_renders_to_at_least_one_page_none_blank(demo, rendered):
    for path in demo:
        pages, folder = rendered[path.name]
        sheets = load_workbook(path, read_only=True).sheetnames
        assert {page.sheet for page in pages} == set(sheets)
        # Print order is tab order, and each sheet's pages are numbered 1, 2, ...
        assert [page.sheet for page in pages] == sorted(
            (page.sheet for page in pages), key=sheets.index)
        for sheet in sheets:
            assert [p.page for p in pages if p.sheet == sheet] == list(
                range(1, 1 + sum(p.sheet == sheet for p in pages)))
        assert all(page.path.is_file() and page.path.stat().st_size > 0 for page in pages)
        assert render.blank_pages(folder / f"{path.stem}.pdf") == []


@needs_tools
def test_the_command_line_names_the_pages(demo, tmp_path, capsys):
    detail = next(path for path in demo if "claim detail" in path.name)
    assert render.main([str(detail), "--out", str(tmp_path), "--dpi", "30"]) == 0
    assert "Claim detail:" in capsys.readouterr().out
    assert (tmp_path / "01 Claim detail p1.png").is_file()


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(InputError, match="not an .xlsx file"):
        render.render_workbook(tmp_path / "missing.xlsx", tmp_path)
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"")
    with pytest.raises(InputError, match="dpi"):
        render.render_workbook(book, tmp_path, dpi=5)


def test_a_missing_tool_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(render.shutil, "which", lambda _: None)
    with pytest.raises(render.RenderError, match="LibreOffice"):
        render._tool("soffice", "libreoffice")

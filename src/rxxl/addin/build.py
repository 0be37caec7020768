"""Build ``rxxl.xlam`` from the text sources in ``rxxl/addin/sources``, on any system.

The add-in is an OOXML zip: the workbook part with
the add-in content type, one hidden sheet ``rxxl.conf`` (xlwings' configuration sheet of a
custom add-in), the ribbon in ``customUI/customUI14.xml``, and ``xl/vbaProject.bin`` with
these modules:

- ``xlwings``: xlwings' RunPython module from the installed xlwings package, its
  custom-add-in variant (``xlwings_custom_addin.bas``) with the project name set to rxxl,
  so it reads ``rxxl.conf`` (sheet, file beside the workbook, user file);
- ``Dictionary``: the Scripting.Dictionary stand-in that module needs on macOS;
- ``RxxlRibbon``: the ribbon callbacks: ``RxRibbonLoaded`` (onLoad) registers the RX_
  functions' help, ``RxRibbonAction`` checks what would stop a button and dispatches by
  control id into :func:`rxxl.ribbon.dispatch`; it carries the rxxl and xlwings versions of
  the build (:func:`ribbon_module`);
- ``RxxlFunctions``: the RX_ function wrappers, generated from :mod:`rxxl.udfs`
  (:mod:`rxxl.addin.wrappers`);
- ``ThisWorkbook`` and ``Sheet1``: the document modules of the workbook and its sheet.

Every compressed stream is decompressed again with oletools (an implementation independent
of :mod:`rxxl.addin.ovba`) and must give back exactly its source, or the build fails. Zip
entries carry a fixed date, so two builds of the same sources are byte-identical.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from rxxl.addin import vba
from rxxl.addin.wrappers import UDF_MODULE, functions_module
from rxxl.outputs import atomic_path

PROJECT_NAME = "rxxl"
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
#: What the add-in's own rxxl.conf sheet says. xlwings reads it after the active workbook's
#: rxxl.conf sheet and before any rxxl.conf file, so the interpreter is not here: a path in it
#: would override the one ``rxxl addin install`` writes for each user.
#: ``ADD_WORKBOOK_TO_PYTHONPATH`` false: rxxl never imports code from beside a workbook, and
#: for a OneDrive or SharePoint workbook (a URL) xlwings raises when it cannot map the URL to
#: a local folder, which would stop every button and every RX_ cell of that workbook.
SHEET_CONFIG = (("UDF Modules", UDF_MODULE), ("ADD_WORKBOOK_TO_PYTHONPATH", "false"))
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_XLWINGS_PROJECT = re.compile(r'^Public Const PROJECT_NAME As String = "myaddin"\r?$', re.M)

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_REL_DOC = f"{_NS_REL}/officeDocument"
_REL_UI = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
_REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_REL_APP = f"{_NS_REL}/extended-properties"
_REL_CORE = f"{_NS_PKG_REL}/metadata/core-properties"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


class AddinBuildError(RuntimeError):
    """The add-in could not be built correctly; nothing was written."""


def _source(name: str) -> str:
    return (resources.files("rxxl.addin") / "sources" / name).read_text(encoding="utf-8")


def xlwings_module(project_name: str = PROJECT_NAME) -> str:
    """xlwings' RunPython module for custom add-ins, with the project name set."""
    import xlwings

    path = Path(xlwings.__file__).parent / "xlwings_custom_addin.bas"
    text = path.read_text(encoding="utf-8")
    text, count = _XLWINGS_PROJECT.subn(
        f'Public Const PROJECT_NAME As String = "{project_name}"', text)
    if count != 1:
        raise AddinBuildError(f"{path}: no single PROJECT_NAME line to set; has this xlwings"
                              " version changed its custom add-in module?")
    return text


#: The attributes the VBA editor adds when it stores an imported class module (as in the
#: Dictionary class of xlwings' own xlwings.xlam): VB_Base names the class type library
#: entry, and the two flags follow VB_Exposed.
_CLASS_BASE = 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'
_CLASS_FLAGS = ("Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False")


def _dictionary_class() -> str:
    import xlwings

    path = Path(xlwings.__file__).parent / "addin" / "Dictionary.cls"
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    # An exported class starts with a VERSION/BEGIN...END block that the VBA editor strips
    # on import; the stored source starts at the Attribute lines (as in xlwings' add-ins).
    start = text.find('Attribute VB_Name = "Dictionary"')
    exposed = "Attribute VB_Exposed = True\n"
    if start < 0 or exposed not in text:
        raise AddinBuildError(f"{path}: not the expected Dictionary class")
    lines = text[start:].split("\n")
    if _CLASS_BASE not in lines:
        lines.insert(1, _CLASS_BASE)
    at = lines.index(exposed.rstrip("\n")) + 1
    lines[at:at] = [flag for flag in _CLASS_FLAGS if flag not in lines]
    return "\n".join(lines)


def ribbon_module() -> str:
    """The ribbon callback module, with the rxxl and xlwings versions of this build.

    The constants ``RXXL_BUILT_VERSION`` and ``XLWINGS_BUILT_VERSION`` are VBA strings that
    the ribbon also puts into a single-quoted Python literal, so a version that is not a
    plain version string (PEP 440 characters) stops the build.
    """
    import xlwings

    from rxxl import __version__

    text = _source("RxxlRibbon.bas")
    for name, version in (("RXXL_BUILT_VERSION", __version__),
                          ("XLWINGS_BUILT_VERSION", xlwings.__version__)):
        if not re.fullmatch(r"[0-9A-Za-z.+!_-]+", version):
            raise AddinBuildError(f"{name}: the version {version!r} is not a plain version"
                                  " string (digits, letters and . + ! _ -)")
        text, count = re.subn(rf'^(Public Const {name} As String = )"[^"\n]*"$',
                              lambda match, v=version: f'{match[1]}"{v}"', text, flags=re.M)
        if count != 1:
            raise AddinBuildError(f"RxxlRibbon.bas: no single {name} line to set")
    return text


def _sheet_module(name: str) -> str:
    return "\n".join([
        f'Attribute VB_Name = "{name}"',
        'Attribute VB_Base = "0{00020820-0000-0000-C000-000000000046}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = True",
        "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = True",
    ])


def modules(udf_module: str = UDF_MODULE) -> list[vba.Module]:
    """The add-in's VBA modules, in project order."""
    return [
        vba.Module("ThisWorkbook", vba.DOCUMENT, _source("ThisWorkbook.cls")),
        vba.Module("Sheet1", vba.DOCUMENT, _sheet_module("Sheet1")),
        vba.Module("Dictionary", vba.CLASS, _dictionary_class()),
        vba.Module("xlwings", vba.PROCEDURAL, xlwings_module()),
        vba.Module("RxxlRibbon", vba.PROCEDURAL, ribbon_module()),
        vba.Module("RxxlFunctions", vba.PROCEDURAL, functions_module(udf_module)),
    ]


def _oletools_decompress(data: bytes) -> bytes:
    from oletools.olevba import decompress_stream

    return bytes(decompress_stream(bytearray(data)))


def _sheet_xml() -> str:
    rows = []
    for number, (key, value) in enumerate(SHEET_CONFIG, start=1):
        rows.append(
            f'<row r="{number}">'
            f'<c r="A{number}" t="inlineStr"><is><t>{escape(key)}</t></is></c>'
            f'<c r="B{number}" t="inlineStr"><is><t>{escape(value)}</t></is></c></row>')
    return (f'{_XML}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
            '<sheetPr codeName="Sheet1"/>'
            f'<dimension ref="A1:B{len(SHEET_CONFIG)}"/>'
            '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            '<cols><col min="1" max="1" width="16" customWidth="1"/>'
            '<col min="2" max="2" width="40" customWidth="1"/></cols>'
            f'<sheetData>{"".join(rows)}</sheetData></worksheet>')


def _parts(project: bytes, ribbon: str) -> dict[str, bytes]:
    from rxxl import __version__

    parts = {
        "[Content_Types].xml": (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            '<Override PartName="/xl/workbook.xml"'
            ' ContentType="application/vnd.ms-excel.addin.macroEnabled.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            '<Override PartName="/docProps/core.xml"'
            ' ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '</Types>'),
        "_rels/.rels": (
            f'{_XML}<Relationships xmlns="{_NS_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL_DOC}" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL_CORE}" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL_APP}" Target="docProps/app.xml"/>'
            f'<Relationship Id="rxRibbon" Type="{_REL_UI}" Target="customUI/customUI14.xml"/>'
            '</Relationships>'),
        "docProps/app.xml": (
            f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties"><Application>Microsoft Excel</Application>'
            f'<Company>rxxl {escape(__version__)}</Company></Properties>'),
        "docProps/core.xml": (
            f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            '<dc:title>rxxl: Rx Finance add-in</dc:title><dc:creator>rxxl addin build'
            '</dc:creator></cp:coreProperties>'),
        "customUI/customUI14.xml": ribbon,
        "xl/workbook.xml": (
            f'{_XML}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
            '<workbookPr codeName="ThisWorkbook"/>'
            '<bookViews><workbookView visibility="hidden"/></bookViews>'
            f'<sheets><sheet name="{CONFIG_SHEET}" sheetId="1" r:id="rId1"/></sheets>'
            '</workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML}<Relationships xmlns="{_NS_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_NS_REL}/worksheet"'
            ' Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_NS_REL}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL_VBA}" Target="vbaProject.bin"/>'
            '</Relationships>'),
        "xl/styles.xml": (
            f'{_XML}<styleSheet xmlns="{_NS_MAIN}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0"'
            ' borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0"'
            ' fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1">'
            '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
        "xl/worksheets/sheet1.xml": _sheet_xml(),
    }
    encoded = {name: text.encode("utf-8") for name, text in parts.items()}
    encoded["xl/vbaProject.bin"] = project
    return encoded


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def build_bytes(udf_module: str = UDF_MODULE) -> bytes:
    """The add-in file's bytes; raises :class:`AddinBuildError` if any check fails."""
    ribbon = _source("customUI14.xml")
    try:
        project = vba.vba_project(PROJECT_NAME, modules(udf_module), _oletools_decompress)
    except vba.RoundTripError as exc:
        raise AddinBuildError(f"vbaProject.bin failed its round-trip check: {exc}") from exc
    except (ValueError, UnicodeEncodeError) as exc:
        raise AddinBuildError(f"the VBA project cannot be written: {exc}") from exc
    return _zip(_parts(project, ribbon))


def build(out: str | os.PathLike) -> Path:
    """Build the add-in to ``out`` (replaced only once the whole build has succeeded)."""
    target = Path(out)
    data = build_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)
        # The temporary file is private (mode 0600); an add-in is an ordinary document.
        temporary.chmod(0o644)
    return target

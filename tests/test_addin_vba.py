"""The add-in's VBA as Excel on a hospital PC will run it, read from the built file.

Excel cannot run here, so these tests read the VBA that olevba (oletools, an independent
reader of the container) extracts from the built ``rxxl.xlam``, and compare it with xlwings'
own shipped add-ins, which Excel wrote. What they prove: every entry point a user triggers
catches its errors and says in a message box what to do (no run-time error dialog whose
Debug button opens the add-in's code); the specific failures a locked-down PC produces are
checked for by name; the configuration keeps OneDrive/SharePoint workbooks working.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from oletools.olevba import VBA_Parser

from rxxl.addin import build as builder

_PROCEDURE = re.compile(
    r"^(?P<scope>Public |Private )?(?P<kind>Sub|Function) (?P<name>\w+)\((?P<args>[^)]*)\)"
    r"(?P<body>.*?)^End (?P=kind)$", re.M | re.S)


def _extract(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {Path(stream).name: code.replace("\r\n", "\n")
                for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def xlam(tmp_path_factory) -> Path:
    return builder.build(tmp_path_factory.mktemp("addin-vba") / "rxxl.xlam")


@pytest.fixture(scope="module")
def sources(xlam) -> dict[str, str]:
    return _extract(xlam)


def _procedures(code: str) -> dict[str, re.Match]:
    return {match["name"]: match for match in _PROCEDURE.finditer(code)}


def _public(code: str) -> dict[str, re.Match]:
    # A procedure without Private is public in VBA.
    return {name: match for name, match in _procedures(code).items()
            if match["scope"] != "Private "}


# --- item 2: every ribbon entry point catches its errors -----------------------------------

def test_every_public_ribbon_procedure_ends_its_error_path_in_a_message_box(sources):
    public = _public(sources["RxxlRibbon"])
    assert {"RxRibbonAction", "RxRibbonLoaded"} <= set(public)
    for name, match in public.items():
        body = match["body"]
        statements = [line.strip() for line in body.split("\n")
                      if line.strip() and not line.strip().startswith(("'", "Dim "))]
        # The handler is set before anything else can fail...
        handler = re.fullmatch(r"On Error GoTo (\w+)", statements[0])
        assert handler, f"{name}: first statement is {statements[0]!r}, not On Error GoTo"
        label = handler.group(1)
        # ...stays set (no On Error GoTo 0 / Resume Next in the procedure itself)...
        assert not re.search(r"On Error (GoTo 0|Resume Next)", body), name
        # ...the normal path leaves before the label, and the label's code shows a MsgBox.
        before, _, after = body.partition(f"\n{label}:\n")
        assert after, f"{name}: no line {label}:"
        assert "Exit Sub" in before or "Exit Function" in before, name
        assert "MsgBox" in after, f"{name}: the error path shows no message box"
        assert "Resume" not in after and "Err.Raise" not in after, name


def test_no_vba_stops_in_the_debugger(sources):
    for name, code in sources.items():
        assert not re.search(r"^\s*(Stop|Debug\.Assert)\b", code, re.M), name


def test_ribbon_checks_what_fails_on_locked_down_pcs(sources):
    code = sources["RxxlRibbon"]
    problems = _procedures(code)["RxCannotRun"]["body"]
    # Protected View: Excel has no ActiveWorkbook, and RunPython would fail on it.
    assert "Application.ActiveProtectedViewWindow" in problems
    assert "Enable Editing" in problems
    # No workbook open (only the add-in, which is never the active workbook).
    assert "ActiveWorkbook Is Nothing" in problems
    # A setting listed twice in an rxxl.conf sheet (xlwings' Dictionary.Add raises 457).
    assert "RxDuplicateSetting(ActiveWorkbook)" in problems
    assert "RxDuplicateSetting(ThisWorkbook)" in problems
    duplicate = _procedures(code)["RxDuplicateSetting"]["body"]
    assert "UCase" in duplicate and 'PROJECT_NAME & ".conf"' in duplicate
    # WScript.Shell blocked by policy (RunPython starts Python with it on Windows).
    assert 'CreateObject("WScript.Shell")' in _procedures(code)["RxShellBlocked"]["body"]
    assert "RxShellBlocked()" in problems
    # The same failures recognised by error number when they happen inside xlwings' code.
    failure = _procedures(code)["RxFailure"]["body"]
    for number in ("91", "457", "429", "70"):
        assert re.search(rf"\b{number}\b", failure), number


def test_the_checks_run_before_python_is_started(sources):
    body = _procedures(sources["RxxlRibbon"])["RxRibbonAction"]["body"]
    assert body.index("RxCannotRun()") < body.index("= RunPython(")


def test_messages_say_what_to_do_in_plain_words(sources):
    code = sources["RxxlRibbon"]
    texts = " ".join(re.findall(r'"((?:[^"]|"")*)"', code))
    for advice in ("Open the workbook", "Enable Editing", "keep one row per setting",
                   "ask IT", "rxxl addin install"):
        assert advice in texts, advice


# --- item 3: OneDrive / SharePoint workbooks ------------------------------------------------

def _config_sheet(xlam: Path) -> dict[str, str]:
    import zipfile

    from defusedxml import ElementTree

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(xlam) as archive:
        root = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    rows = [[cell.findtext("m:is/m:t", namespaces=ns) for cell in row.findall("m:c", ns)]
            for row in root.iter(f"{{{ns['m']}}}row")]
    return {key: value for key, value in rows}


def test_the_add_in_keeps_the_workbook_folder_off_python_path(xlam, sources):
    # xlwings reads this key from the add-in's own rxxl.conf sheet (upper-cased, after the
    # active workbook's sheet and before any rxxl.conf file) in RunPython and for the
    # UDF server's command line.
    assert _config_sheet(xlam)["ADD_WORKBOOK_TO_PYTHONPATH"] == "false"
    code = sources["xlwings"]
    assert code.count('GetConfig("ADD_WORKBOOK_TO_PYTHONPATH", "true")') == 2
    assert 'SheetExists(ThisWorkbook, PROJECT_NAME & ".conf")' in code
    assert "d.Add UCase(cell.Value)" in code


def test_xlwings_cannot_map_a_sharepoint_workbook_unless_the_setting_is_false():
    # The oracle is xlwings' own start-up code: the string VBA builds is "<setting>;<active
    # workbook>;<add-in>;<OneDrive and SharePoint settings x3>;<PYTHONPATH>".
    import sys

    from xlwings.utils import prepare_sys_path

    url = "https://contoso.sharepoint.com/sites/pharmacy/Shared Documents/budget.xlsx"
    addin = r"C:\Users\pat\AppData\Roaming\Microsoft\Excel\XLSTART\rxxl.xlam"
    before = list(sys.path)
    try:
        with pytest.raises(Exception, match="(?i)onedrive|sharepoint|local"):
            prepare_sys_path(f"true;{url};{addin};;;;")
        sys.path[:] = before
        prepare_sys_path(f"false;{url};{addin};;;;")
        # Only the empty PYTHONPATH setting's "" is added: nothing from the URL.
        assert set(sys.path) - set(before) <= {""}
    finally:
        sys.path[:] = before


# --- item 10: the Dictionary class, ASCII sources, what Insert Function lists --------------

def _xlwings_addin() -> Path:
    import xlwings

    return Path(xlwings.__file__).parent / "addin" / "xlwings.xlam"


def test_dictionary_class_is_stored_as_in_xlwings_own_add_in(sources):
    stored = _extract(_xlwings_addin())["Dictionary"]

    def attributes(code):
        return [line for line in code.split("\n") if line.startswith("Attribute VB_")]

    assert attributes(sources["Dictionary"]) == attributes(stored)
    assert 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"' in stored
    # The rest is the same code; the VBA editor re-cases identifiers (err -> Err) on save.
    assert sources["Dictionary"].lower() == stored.lower()


def test_every_vba_source_is_ascii():
    # VBA decodes module source in the PC's ANSI code page, not the project's: any byte
    # above 127 turns into another character on a Polish or Japanese Windows.
    for module in builder.modules():
        text = module.encoded()
        bad = [i for i, byte in enumerate(text) if byte > 127]
        assert not bad, f"{module.name}: non-ASCII byte at {bad[:5]}"


def test_text_outside_ascii_is_written_with_chrw():
    from rxxl.addin import wrappers

    # × is in code page 1252 but not ASCII (215); Σ is in neither (931).
    assert wrappers._vba_string("COGS × 365") == '"COGS " & ChrW(215) & " 365"'
    assert wrappers._vba_string("Σ") == "ChrW(931)"


def test_insert_function_lists_only_the_rx_functions_of_rxxl(sources):
    # Excel's "User Defined" category lists every public Function of a standard module.
    public = [name for name, match in _public(sources["RxxlFunctions"]).items()
              if match["kind"] == "Function"]
    assert public and all(name.startswith("RX_") for name in public), [
        name for name in public if not name.startswith("RX_")]
    for module in ("RxxlRibbon",):
        assert not [name for name, match in _public(sources[module]).items()
                    if match["kind"] == "Function"], module


def test_no_vba_line_is_longer_than_the_editor_accepts():
    # The VBA editor rejects a physical line of more than 1023 characters.
    for module in builder.modules():
        longest = max(len(line) for line in module.encoded().split(b"\r\n"))
        assert longest <= 1023, module.name


# --- item 7: a macro scanner triages rxxl.xlam as it triages xlwings' own add-ins ---------

def _mraptor(path: Path) -> tuple[int, str]:
    """mraptor's exit code and A/W/X flags for one file, from its command line."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "oletools.mraptor", str(path)],
                            capture_output=True, text=True, timeout=120)
    flags = re.findall(r"^\S.*?\|([-A][-W][-X])\s*\|", result.stdout, re.M)
    assert len(flags) == 1, result.stdout + result.stderr
    return result.returncode, flags[0]


def test_mraptor_rates_the_add_in_as_xlwings_quickstart_add_ins(xlam):
    pytest.importorskip("oletools.mraptor", reason="mraptor is part of oletools (test extra)")
    import xlwings

    package = Path(xlwings.__file__).parent
    ours = _mraptor(xlam)
    for name in ("quickstart_addin_ribbon.xlam", "quickstart_addin.xlam"):
        assert ours == _mraptor(package / name), name
    # Macro OK (exit code 2): writes files and starts programs (RunPython), runs nothing
    # by itself when the file opens.
    assert ours == (2, "-WX")


def test_function_help_is_registered_when_the_ribbon_loads(xlam, sources):
    import zipfile

    from defusedxml import ElementTree

    with zipfile.ZipFile(xlam) as archive:
        root = ElementTree.fromstring(archive.read("customUI/customUI14.xml"))
    assert root.get("onLoad") == "RxRibbonLoaded"
    loaded = _public(sources["RxxlRibbon"])["RxRibbonLoaded"]
    assert loaded["args"] == "ribbon As IRibbonUI"
    assert "RxRegisterFunctions" in loaded["body"]
    # ThisWorkbook runs nothing when the add-in opens.
    assert not _procedures(sources["ThisWorkbook"])


def test_no_vba_name_reads_as_auto_run_code(sources):
    """mraptor reads any name ending in ``_Change`` as an ActiveX control's event handler
    (code that runs by itself): an RX_ argument named ``inventory_change`` alone made the
    add-in SUSPICIOUS. The sources flag as xlwings' quickstart add-in does; the old name
    would flag again."""
    mraptor = pytest.importorskip("oletools.mraptor",
                                  reason="mraptor is part of oletools (test extra)")
    import xlwings

    def flags(code):
        raptor = mraptor.MacroRaptor(code)
        raptor.scan()
        return raptor.get_flags(), raptor.autoexec_match

    code = "\n".join(sources.values())
    quickstart = _extract(Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam")
    assert flags(code) == flags("\n".join(quickstart.values())) == ("-WX", None)
    spoiled = code.replace("change_in_inventory", "inventory_change")
    assert flags(spoiled) == ("AWX", "inventory_change")


# --- item 9: the versions the add-in was built with ----------------------------------------

def _constant(code: str, name: str) -> str:
    match = re.search(rf'^Public Const {name} As String = "([^"]*)"$', code, re.M)
    assert match, name
    return match.group(1)


def test_build_writes_the_rxxl_and_xlwings_versions_into_the_vba(sources):
    import xlwings

    from rxxl import __version__

    code = sources["RxxlRibbon"]
    assert _constant(code, "RXXL_BUILT_VERSION") == __version__
    assert _constant(code, "XLWINGS_BUILT_VERSION") == xlwings.__version__
    # The xlwings module names the DLL of the same version.
    assert f"xlwings64-{xlwings.__version__}.dll" in sources["xlwings"]


def test_every_button_hands_the_built_versions_to_python(sources, monkeypatch):
    # Evaluate the VBA string expression of the RunPython call, then run that command as
    # Python would: it must work with any rxxl (one that has never heard of the names too).
    from rxxl import ribbon

    code = sources["RxxlRibbon"]
    body = _procedures(code)["RxRibbonAction"]["body"]
    expression = re.search(r"RunPython\((.*?)\)\n", body, re.S).group(1)
    values = {"RXXL_BUILT_VERSION": _constant(code, "RXXL_BUILT_VERSION"),
              "XLWINGS_BUILT_VERSION": _constant(code, "XLWINGS_BUILT_VERSION"),
              "control.Id": "rx_help"}
    command = ""
    for piece in re.split(r"\s*&\s*(?:_\n\s*)?", expression.strip()):
        command += piece[1:-1].replace('""', '"') if piece.startswith('"') else values[piece]
    calls = []
    monkeypatch.setattr(ribbon, "dispatch", lambda control_id: calls.append(control_id))
    monkeypatch.delattr(ribbon, "RXXL_BUILT_VERSION", raising=False)
    monkeypatch.delattr(ribbon, "XLWINGS_BUILT_VERSION", raising=False)
    exec(command, {})  # noqa: S102 - the command the add-in sends, run as xlwings runs it
    assert calls == ["rx_help"]
    assert ribbon.RXXL_BUILT_VERSION == values["RXXL_BUILT_VERSION"]
    assert ribbon.XLWINGS_BUILT_VERSION == values["XLWINGS_BUILT_VERSION"]


def test_help_shows_the_built_versions_when_python_cannot_start(sources):
    code = sources["RxxlRibbon"]
    body = _procedures(code)["RxRibbonAction"]["body"]
    assert re.search(r'If control\.Id = "rx_help" And outcome = -1 Then\n'
                     r'\s*MsgBox .*RxBuiltWith\(\)', body)
    built = _procedures(code)["RxBuiltWith"]["body"]
    assert "RXXL_BUILT_VERSION" in built and "XLWINGS_BUILT_VERSION" in built
    assert "RxBuiltWith()" in _procedures(code)["RxFailure"]["body"]


@pytest.mark.parametrize("version", ["1.0'; import os", '1.0"', "", "1.0\n2"])
def test_build_refuses_a_version_it_cannot_quote(monkeypatch, version):
    import rxxl

    monkeypatch.setattr(rxxl, "__version__", version)
    with pytest.raises(builder.AddinBuildError, match="version"):
        builder.build_bytes()


def test_olevba_extracts_each_module_exactly_as_built(sources):
    # olevba (oletools) reads the dir stream, the module offsets and the compressed streams
    # on its own: what it extracts is what Excel will compile.
    built = {module.name: module.encoded().decode("ascii").replace("\r\n", "\n")
             for module in builder.modules()}
    assert sources == built

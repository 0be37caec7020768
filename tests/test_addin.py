"""The Excel add-in: compression, compound file, VBA project, built file, install.

Excel itself cannot run here; what can be checked is that independent readers (oletools,
olefile, LibreOffice, openpyxl) read back exactly what was meant to be in the file.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pytest
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from rxxl.addin import build as builder
from rxxl.addin import cfb, cli, install, ovba, vba, wrappers
from rxxl.udf_metadata import udf_metadata

CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
MODULES = ["ThisWorkbook", "Sheet1", "Dictionary", "xlwings", "RxxlRibbon", "RxxlFunctions"]
BUTTONS = {"rx_refresh", "rx_audit340b", "rx_report", "rx_audit_pack", "rx_insert_template",
           "rx_help"}


def _oletools(data: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(data)))


# --- MS-OVBA compression ---------------------------------------------------------------

def test_decompresses_the_specification_example():
    # MS-OVBA §3.2.3: a compressed container with literals and copy tokens.
    compressed = bytes.fromhex(
        "012FB0002361616162636465826600706167686" "96A013808616B6C00306D6E6F7006710270"
        "0410727374757610777879" "7A003C")
    plain = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
    assert ovba.decompress(compressed) == plain
    assert _oletools(ovba.compress(plain)) == plain


@pytest.mark.parametrize("size", [0, 1, 2, 3, 17, 4095, 4096, 4097, 8192, 12_289])
def test_round_trips_through_oletools_at_chunk_edges(size):
    for data in (b"a" * size, (b"Dim i As Long\r\n" * size)[:size], bytes(range(256)) * 2):
        data = data[:size] if len(data) >= size else data
        compressed = ovba.compress(data)
        assert _oletools(compressed) == data
        assert ovba.decompress(compressed) == data


def test_incompressible_full_chunks_are_stored_raw():
    data = bytes((i * 7919 + i // 3) % 256 for i in range(8192))
    compressed = ovba.compress(data)
    assert _oletools(compressed) == data


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"b", b"End If\r\n", b"    ", b"RunPython ", b"\x00"]),
                max_size=1500).map(b"".join))
def test_any_text_round_trips(data):
    assert _oletools(ovba.compress(data)) == data


def test_longest_match_respects_the_token_layout():
    # A copy token at position p has bit_count(p) offset bits; the rest hold length - 3.
    assert [ovba.max_match_length(bits) for bits in range(4, 13)] == [
        4098, 2050, 1026, 514, 258, 130, 66, 34, 18]


# --- Compound File Binary ---------------------------------------------------------------

def _compound(streams):
    return olefile.OleFileIO(io.BytesIO(cfb.write_compound_file(streams)))


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 4095, 4096, 4097, 70_000])
def test_olefile_reads_back_each_stream_size(size):
    data = bytes(i % 251 for i in range(size))
    ole = _compound({"VBA/s": data, "PROJECT": b"x"})
    assert ole.openstream("VBA/s").read() == data
    assert ole.get_size("VBA/s") == size


def test_many_entries_form_a_valid_red_black_tree():
    streams = {f"VBA/Module{i}": bytes([i]) * (i * 113) for i in range(1, 40)}
    streams["big"] = b"z" * 200_000
    ole = _compound(streams)
    for path, data in streams.items():
        assert ole.openstream(path).read() == data
    entries = ole.direntries

    def black_height(sid):
        if sid == 0xFFFFFFFF:
            return 1
        entry = entries[sid]
        left, right = black_height(entry.sid_left), black_height(entry.sid_right)
        assert left == right
        if entry.color == 0:  # red: no red child
            for child in (entry.sid_left, entry.sid_right):
                assert child == 0xFFFFFFFF or entries[child].color == 1
        return left + entry.color

    for entry in entries:
        if entry is not None and entry.sid_child != 0xFFFFFFFF:
            assert entries[entry.sid_child].color == 1
            black_height(entry.sid_child)


def test_compound_file_rejects_bad_names():
    with pytest.raises(ValueError, match="not a valid"):
        cfb.write_compound_file({"a" * 32: b""})
    with pytest.raises(ValueError, match="is a stream"):
        cfb.write_compound_file({"VBA": b"", "VBA/x": b""})
    with pytest.raises(ValueError, match="already exists"):
        cfb.write_compound_file({"VBA/x": b"", "VBA": b""})


# --- VBA project properties -------------------------------------------------------------

def test_decrypts_the_protection_properties_of_xlwings_add_in():
    # CMG, DPB and GC of xlwings' quickstart_addin_ribbon.xlam (written by Excel).
    assert vba.decrypt("5D5F8AADDAA8DEA8DEA8DEA8DE") == b"\0\0\0\0"
    assert vba.decrypt("5D5F8AADDAADDBADDBAD") == b"\0"
    assert vba.decrypt("5D5F8AADDAADDBADDB52") == b"\xff"


@pytest.mark.parametrize("seed", [0, 1, 2, 6, 0x5D, 0xFF])
def test_encryption_round_trips(seed):
    for data in (b"\0", b"\xff", b"\0\0\0\0", b"password"):
        assert vba.decrypt(vba.encrypt(data, seed=seed)) == data


# --- the built add-in --------------------------------------------------------------------

@pytest.fixture(scope="module")
def xlam(tmp_path_factory) -> Path:
    return builder.build(tmp_path_factory.mktemp("addin") / "rxxl.xlam")


@pytest.fixture(scope="module")
def sources(xlam) -> dict[str, str]:
    parser = VBA_Parser(str(xlam))
    try:
        return {Path(stream).name: code.replace("\r\n", "\n")
                for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


def test_olevba_extracts_every_module(sources):
    assert list(sources) == MODULES
    for name, code in sources.items():
        assert code.startswith(f'Attribute VB_Name = "{name}"')


def test_runpython_module_is_xlwings_custom_add_in_named_rxxl(sources):
    code = sources["xlwings"]
    assert 'Public Const PROJECT_NAME As String = "rxxl"' in code
    assert "Public Function RunPython(PythonCommand As String)" in code
    assert "GetDirectoryConfigFilePath" in code  # rxxl.conf beside the workbook


def test_every_stream_decompresses_to_its_module_source(xlam):
    with zipfile.ZipFile(xlam) as archive:
        ole = olefile.OleFileIO(io.BytesIO(archive.read("xl/vbaProject.bin")))
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
    project = ole.openstream("PROJECT").read().decode("cp1252")
    assert 'Name="rxxl"' in project
    for module in builder.modules():
        stream = ole.openstream(f"VBA/{module.name}").read()
        assert _oletools(stream) == module.encoded()


def _customui(xlam) -> ElementTree:
    with zipfile.ZipFile(xlam) as archive:
        return ElementTree.fromstring(archive.read("customUI/customUI14.xml"))


def test_ribbon_xml_is_well_formed_in_the_2009_namespace(xlam):
    root = _customui(xlam)
    assert root.tag == f"{{{CUSTOMUI_NS}}}customUI"
    tabs = root.findall(f".//{{{CUSTOMUI_NS}}}tab")
    assert [tab.get("label") for tab in tabs] == ["Rx Finance"]
    buttons = {b.get("id"): b for b in root.iter(f"{{{CUSTOMUI_NS}}}button")}
    assert set(buttons) == BUTTONS


def test_every_on_action_names_a_callback_sub(xlam, sources):
    subs = set(re.findall(r"^Public Sub (\w+)\(control As IRibbonControl\)$",
                          sources["RxxlRibbon"], re.M))
    actions = {b.get("onAction") for b in _customui(xlam).iter(f"{{{CUSTOMUI_NS}}}button")}
    assert actions == {"RxRibbonAction"} and actions <= subs
    assert "rxxl.ribbon.dispatch('\" & control.Id & \"')\")" in sources["RxxlRibbon"]


def test_ribbon_ids_are_the_python_actions(xlam):
    from rxxl.ribbon import ACTIONS

    ids = {b.get("id") for b in _customui(xlam).iter(f"{{{CUSTOMUI_NS}}}button")}
    assert ids == set(ACTIONS)


def test_package_parts_and_relationships(xlam):
    with zipfile.ZipFile(xlam) as archive:
        types = archive.read("[Content_Types].xml").decode()
        rels = archive.read("_rels/.rels").decode()
        book_rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    assert ('PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.ms-excel.addin.macroEnabled.main+xml"') in types
    assert ('Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"'
            ' Target="customUI/customUI14.xml"') in rels
    assert "vbaProject" in book_rels


def test_one_wrapper_per_rx_function_with_the_error_helper(sources):
    code = sources["RxxlFunctions"]
    names = sorted(udf_metadata())
    assert len(names) == 25 and "RX_DRUG_BRIDGE" in names
    for name in names:
        assert len(re.findall(rf"^Function {name}\(", code, re.M)) == 1
        calls = re.findall(rf"^\s*{name} = (.*)$", code, re.M)
        helped = [c for c in calls if c.startswith(f'RxCellErrors(XLPy.CallUDF("rxxl.udfs", '
                                                   f'"{name}"')]
        assert len(helped) == 2, name
        assert f'RxRegister "{name}", ' in code
    assert "Private Function RxCellErrors(ByVal result As Variant) As Variant" in code
    assert "CVErr(xlErrDiv0)" in code and "CVErr(xlErrNum)" in code
    assert "CVErr(xlErrNA)" in code and "CVErr(xlErrValue)" in code


def test_wrappers_are_xlwings_own_apart_from_the_helper(sources):
    metadata = udf_metadata()
    expected = wrappers.xlwings_wrappers(metadata)
    code = sources["RxxlFunctions"]
    generated = code[code.index("Function RX_"):]
    unhelped = re.sub(r"RxCellErrors\((XLPy\.CallUDF\(.*\))\)$", r"\1", generated, flags=re.M)
    assert unhelped.rstrip("\n") == expected.rstrip("\n")
    # Names, argument order and optional arguments as in rxxl.udfs.
    signature = re.search(r"^Function RX_TURNS\((.*)\)$", code, re.M).group(1)
    assert signature == ("cogs, beginning_inventory, Optional ending_inventory,"
                         " Optional days_in_period")
    signature = re.search(r"^Function RX_DRUG_BRIDGE\((.*)\)$", code, re.M).group(1)
    assert signature == ("drug, location, account, actual_qty, actual_spend, budget_qty,"
                         " budget_spend, Optional budget_workload, Optional actual_workload,"
                         " Optional change_in_inventory")


def test_error_helper_change_must_reach_every_wrapper():
    with pytest.raises(ValueError, match="layout changed"):
        wrappers.with_error_helper("Function RX_NPV(rate)\nEnd Function\n", ["RX_NPV"])


def test_registration_escapes_text_outside_code_page_1252():
    assert wrappers._vba_string('a "b" Σ') == '"a ""b"" " & ChrW(931)'


def test_the_ribbon_registers_the_functions(sources):
    assert "RxRegisterFunctions" in sources["RxxlRibbon"]
    assert "Public Sub RxRegisterFunctions()" in sources["RxxlFunctions"]


def test_two_builds_are_byte_identical():
    assert builder.build_bytes() == builder.build_bytes()


def test_a_compressor_with_the_ms_ovba_bug_fails_the_build(monkeypatch):
    # ms-ovba-compression 1.0.1 computes the longest match as 0xFFFF << bitCount + 3.
    monkeypatch.setattr(ovba, "max_match_length", lambda bits: 0xFFFF << bits + 3)
    with pytest.raises(builder.AddinBuildError, match="round-trip"):
        builder.build_bytes()


def test_failed_build_leaves_the_previous_file(monkeypatch, tmp_path):
    target = tmp_path / "rxxl.xlam"
    target.write_bytes(b"previous")
    monkeypatch.setattr(ovba, "max_match_length", lambda bits: 0xFFFF << bits + 3)
    with pytest.raises(builder.AddinBuildError):
        builder.build(target)
    assert target.read_bytes() == b"previous"


def test_openpyxl_reads_the_config_sheet(xlam):
    # openpyxl refuses the .xlam name and the add-in content type: read it from a stream
    # that declares the macro-enabled workbook type instead; every other part is as built.
    source = io.BytesIO()
    with zipfile.ZipFile(xlam) as archive, zipfile.ZipFile(source, "w") as copy:
        for item in archive.infolist():
            data = archive.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"vnd.ms-excel.addin.macroEnabled.main+xml",
                                    b"vnd.ms-excel.sheet.macroEnabled.main+xml")
            copy.writestr(item, data)
    book = openpyxl.load_workbook(source)
    assert book.sheetnames == ["rxxl.conf"]
    assert [[c.value for c in row] for row in book["rxxl.conf"].iter_rows()] == [
        ["UDF Modules", "rxxl.udfs"], ["ADD_WORKBOOK_TO_PYTHONPATH", "false"]]


def test_committed_add_in_matches_a_fresh_build(sources):
    committed = Path(__file__).parents[1] / "addin" / "rxxl.xlam"
    if not committed.exists():
        pytest.skip("no committed add-in (outside a source checkout)")
    parser = VBA_Parser(str(committed))
    try:
        old = {Path(stream).name: code.replace("\r\n", "\n")
               for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()
    version = re.search(r"^'Version: (\S+)", sources["xlwings"], re.M).group(1)
    if f"'Version: {version}" not in old.get("xlwings", ""):
        pytest.skip("the committed add-in was built with another xlwings version")
    assert old == sources, "addin/rxxl.xlam is stale: run `rxxl addin build`"


@pytest.mark.libreoffice
def test_libreoffice_imports_the_vba(xlam, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        import os

        if os.environ.get("RXXL_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice is required (RXXL_REQUIRE_LIBREOFFICE=1) but not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--infilter=Calc MS Excel 2007 VBA XML", "--convert-to", "ods",
         "--outdir", str(tmp_path), str(xlam)],
        capture_output=True, text=True, timeout=300)
    converted = tmp_path / "rxxl.ods"
    assert converted.exists(), result.stdout + result.stderr
    with zipfile.ZipFile(converted) as archive:
        basic = {Path(name).stem: archive.read(name).decode("utf-8")
                 for name in archive.namelist() if name.startswith("Basic/rxxl/")
                 and not name.endswith("script-lb.xml")}
    assert set(basic) == set(MODULES)
    assert "RxRibbonAction" in basic["RxxlRibbon"]
    assert "Function RX_NPV(rate, values)" in basic["RxxlFunctions"]


# --- install / uninstall / command line ---------------------------------------------------

@pytest.fixture
def windows(tmp_path) -> install.Locations:
    env = {"APPDATA": str(tmp_path / "AppData" / "Roaming"),
           "USERPROFILE": str(tmp_path / "Users" / "pat")}
    return install.locations("win32", env)


def test_windows_locations(windows, tmp_path):
    assert windows.xlstart == tmp_path / "AppData/Roaming/Microsoft/Excel/XLSTART"
    assert windows.config == tmp_path / "Users/pat/.rxxl/rxxl.conf"


def test_macos_locations(tmp_path):
    mac = install.locations("darwin", {}, home=tmp_path)
    assert mac.xlstart == tmp_path / ("Library/Group Containers/UBF8T346G9.Office/"
                                      "User Content.localized/Startup.localized/Excel")
    assert mac.config == tmp_path / "Library/Containers/com.microsoft.Excel/Data/rxxl.conf"
    assert mac.interpreter_key == "INTERPRETER_MAC"


def test_linux_needs_desktop_excel():
    with pytest.raises(install.UnsupportedPlatform, match="desktop Excel"):
        install.locations("linux", {})


def test_install_then_uninstall_on_windows(windows):
    windows.config.parent.mkdir(parents=True)
    windows.config.write_text('"PYTHONPATH","C:\\work"\r\n"INTERPRETER_WIN","old"\r\n')
    lines = install.install(windows, interpreter="C:\\Python311\\python.exe")
    addin = windows.xlstart / "rxxl.xlam"
    assert addin.read_bytes() == builder.build_bytes()
    assert windows.config.read_bytes().decode("cp1252") == ('"PYTHONPATH","C:\\work"\r\n'
                                          '"INTERPRETER_WIN","C:\\Python311\\python.exe"\r\n'
                                          '"UDF MODULES","rxxl.udfs"\r\n')
    assert str(addin) in lines[0]
    lines = install.uninstall(windows)
    assert not addin.exists()
    assert install.read_config(windows.config) == {"PYTHONPATH": "C:\\work"}
    assert any("kept PYTHONPATH" in line for line in lines)


def test_install_then_uninstall_on_macos(tmp_path):
    mac = install.locations("darwin", {}, home=tmp_path)
    lines = install.install(mac)
    assert (mac.xlstart / "rxxl.xlam").exists()
    assert install.read_config(mac.config) == {"INTERPRETER_MAC": sys.executable,
                                               "UDF MODULES": "rxxl.udfs"}
    assert any("xlwings runpython install" in line for line in lines)
    install.uninstall(mac)
    assert not (mac.xlstart / "rxxl.xlam").exists() and not mac.config.exists()
    assert "no add-in" in install.uninstall(mac)[0]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rxxl")
    cli.add_commands(parser.add_subparsers(dest="command"))
    return parser


def test_cli_build(tmp_path, capsys):
    out = tmp_path / "sub" / "rxxl.xlam"
    assert cli.run(_parser().parse_args(["addin", "build", "--out", str(out)])) == 0
    assert out.read_bytes() == builder.build_bytes()
    assert str(out) in capsys.readouterr().out


@pytest.mark.parametrize("action", ["install", "uninstall"])
def test_cli_install_on_linux_says_excel_is_needed(action, capsys, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    assert cli.run(_parser().parse_args(["addin", action])) == 2
    assert "needs desktop Excel on Windows or macOS" in capsys.readouterr().err

"""Installing and running the add-in on the PCs finance teams have (issue 16).

Start-up cost of the UDF module, the encoding of rxxl.conf, install checks under simulated
Windows layouts, the xlwings version floor and version drift between add-in and Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rxxl.addin import install
from rxxl.addin.build import build_bytes

SRC = Path(__file__).parents[1] / "src"


def _fresh_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- item 11: start-up -------------------------------------------------------------------


def test_importing_the_udf_module_does_not_import_scipy():
    # Excel starts the UDF server, and reloads it, by importing rxxl.udfs; scipy.optimize
    # alone costs about 0.25 s and is only needed when IRR's Newton search fails.
    loaded = json.loads(_fresh_python(
        "import sys, json, rxxl.udfs; print(json.dumps(sorted(sys.modules)))"))
    assert not [name for name in loaded if name == "scipy" or name.startswith("scipy.")]


def test_irr_still_falls_back_to_brent_after_the_lazy_import():
    # -100 + 230 / (1 + r) - 132 / (1 + r)^2 = 0 has roots 1 + r = 1.1 and 1.2
    # (-100 x 1.44 + 230 x 1.2 - 132 = -144 + 276 - 132 = 0). From the guess 5 (500%)
    # Newton does not land on either, so the bracketed search (scipy's brentq) runs and
    # finds the root nearer the guess, 20%.
    out = _fresh_python(
        "import sys; from rxxl import roi; "
        "print(roi.irr([-100.0, 230.0, -132.0], 5.0), 'scipy.optimize' in sys.modules)")
    rate, used_scipy = out.split()
    assert used_scipy == "True"
    assert float(rate) == pytest.approx(0.2, abs=1e-12)


# --- simulated Windows layouts ---------------------------------------------------------------


XLWINGS = "0.37.8"
DLL = f"xlwings64-{XLWINGS}.dll"


@pytest.fixture
def windows(tmp_path, monkeypatch):
    """A Windows user's folders under tmp_path, on code page 1252 unless a test changes it."""
    monkeypatch.setattr(install, "_ansi_code_page", lambda: 1252)

    def layout(user: str = "pat", code_page: int = 1252) -> install.Locations:
        monkeypatch.setattr(install, "_ansi_code_page", lambda: code_page)
        env = {"APPDATA": str(tmp_path / "Users" / user / "AppData" / "Roaming"),
               "USERPROFILE": str(tmp_path / "Users" / user)}
        return install.locations("win32", env)

    return layout


def _python(folder: Path, *, dll_in: Path | None = None, user_base: Path | None = None,
            environ: dict[str, str] | None = None, executable: str = "python.exe",
            base_prefix: Path | None = None) -> install.Interpreter:
    """An interpreter at folder/executable, with xlwings' DLL in dll_in (default: folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / executable).write_bytes(b"MZ")
    if dll_in is None:
        dll_in = folder
    if dll_in is not False:
        dll_in.mkdir(parents=True, exist_ok=True)
        (dll_in / DLL).write_bytes(b"MZ")
    return install.Interpreter(folder / executable, base_prefix or folder, user_base, XLWINGS,
                               environ or {})


def _nothing_installed(where: install.Locations) -> bool:
    return not (where.xlstart / install.ADDIN_FILE).exists() and not where.config.exists()


# --- item 4: rxxl.conf in the code page VBA reads ----------------------------------------------


def test_config_is_written_in_the_ansi_code_page(windows, tmp_path):
    # "Ł" is byte 0xA3 in code page 1250 (Central European), and not in 1252 at all.
    where = windows("Łukasz", code_page=1250)
    python = _python(tmp_path / "Users" / "Łukasz" / "Python311")
    install.install(where, python=python)
    expected = (f'"INTERPRETER_WIN","{python.executable}"\r\n'
                '"UDF MODULES","rxxl.udfs"\r\n')
    data = where.config.read_bytes()
    assert data == expected.encode("cp1250")
    assert b"\xa3ukasz" in data  # Ł as code page 1250's single byte, not UTF-8's C5 81
    assert install.read_config(where.config, where.encoding)["INTERPRETER_WIN"] == str(
        python.executable)


def test_a_path_outside_the_code_page_fails_before_anything_is_written(windows, tmp_path):
    where = windows("Łukasz", code_page=1252)
    python = _python(tmp_path / "Users" / "Łukasz" / "Python311")
    with pytest.raises(install.InstallError) as caught:
        install.install(where, python=python)
    message = str(caught.value)
    assert "(Ł)" in message and "cp1252" in message and "Nothing was installed" in message
    assert _nothing_installed(where)


def test_a_conda_install_outside_the_code_page_is_refused_too(windows, tmp_path):
    where = windows("Łukasz", code_page=1252)
    env = tmp_path / "Users" / "Łukasz" / "miniconda3"
    (env / "conda-meta").mkdir(parents=True)
    conda = {"CONDA_EXE": str(env / "Scripts" / "conda.exe"), "CONDA_DEFAULT_ENV": "base"}
    with pytest.raises(install.InstallError, match=r"CONDA PATH .*\(Ł\).*Install Python"):
        install.install(where, python=_python(env, environ=conda))
    assert _nothing_installed(where)


def test_the_short_8_3_path_is_used_when_windows_has_one(windows, tmp_path, monkeypatch):
    where = windows("Łukasz", code_page=1252)
    python = _python(tmp_path / "Users" / "Łukasz" / "Python311")
    short = r"C:\Users\UKASZ~1\PYTHON~1\python.exe"
    monkeypatch.setattr(install, "_short_path", lambda path: short)
    install.install(where, python=python)
    assert install.read_config(where.config, where.encoding)["INTERPRETER_WIN"] == short


def test_a_failed_build_puts_the_previous_config_back(windows, tmp_path, monkeypatch):
    where = windows()
    where.config.parent.mkdir(parents=True)
    before = b'"PYTHONPATH","C:\\work"\r\n"INTERPRETER_WIN","C:\\old\\python.exe"\r\n'
    where.config.write_bytes(before)

    def fails(target):
        raise PermissionError(13, "in use", str(target))

    monkeypatch.setattr("rxxl.addin.build.build", fails)
    with pytest.raises(install.InstallError, match="close Excel"):
        install.install(where, python=_python(tmp_path / "Python311"))
    assert where.config.read_bytes() == before
    assert not (where.xlstart / install.ADDIN_FILE).exists()


def test_a_failed_first_build_leaves_no_config(windows, tmp_path, monkeypatch):
    where = windows()

    def fails(target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("rxxl.addin.build.build", fails)
    with pytest.raises(OSError):
        install.install(where, python=_python(tmp_path / "Python311"))
    assert _nothing_installed(where)


def test_config_is_written_before_the_add_in(windows, tmp_path, monkeypatch):
    where = windows()
    seen = []

    def build(target):
        seen.append(where.config.exists())
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"xlam")

    monkeypatch.setattr("rxxl.addin.build.build", build)
    install.install(where, python=_python(tmp_path / "Python311"))
    assert seen == [True]


def test_macos_config_is_utf8(tmp_path):
    mac = install.locations("darwin", {}, home=tmp_path / "Łukasz")
    assert mac.encoding == "utf-8"


# --- item 8: what would fail later in Excel -----------------------------------------------------


def test_a_working_python_org_install(windows, tmp_path):
    where = windows()
    lines = install.install(where, python=_python(tmp_path / "Python311"))
    assert (where.xlstart / install.ADDIN_FILE).read_bytes() == build_bytes()
    assert "INTERPRETER_WIN" in lines[1]


def test_a_virtual_environment_finds_the_dll_at_its_root(windows, tmp_path):
    # venv\Scripts\python.exe; pip puts the DLL at venv\ (the add-in's second folder).
    env = tmp_path / "rxxl-env"
    install.install(windows(), python=_python(env / "Scripts", dll_in=env))


def test_a_user_install_of_xlwings_is_refused_with_the_copy_to_make(windows, tmp_path):
    where = windows()
    user_base = tmp_path / "Users" / "pat" / "AppData" / "Roaming" / "Python"
    python = _python(tmp_path / "Python311", dll_in=user_base, user_base=user_base)
    with pytest.raises(install.InstallError) as caught:
        install.install(where, python=python)
    message = str(caught.value)
    assert "pip install --user" in message and str(user_base / DLL) in message
    assert str(tmp_path / "Python311") in message and "venv" in message
    assert _nothing_installed(where)


def test_no_dll_anywhere_says_to_reinstall_xlwings(windows, tmp_path):
    where = windows()
    python = _python(tmp_path / "Python311", dll_in=False, user_base=tmp_path / "nobase")
    with pytest.raises(install.InstallError, match=f"--force-reinstall xlwings=={XLWINGS}"):
        install.install(where, python=python)
    assert _nothing_installed(where)


@pytest.mark.parametrize("store", [
    # The app-execution alias on PATH, and the package's real folder.
    "Users/pat/AppData/Local/Microsoft/WindowsApps/"
    "PythonSoftwareFoundation.Python.3.11_qbz5n2kfra8p0",
    "Program Files/WindowsApps/PythonSoftwareFoundation.Python.3.11_3.11.2544.0_x64__qbz5n2kfra8p0",
])
def test_microsoft_store_python_is_refused(windows, tmp_path, store):
    where = windows()
    with pytest.raises(install.InstallError, match="Microsoft Store.*python.org"):
        install.install(where, python=_python(tmp_path / store))
    assert _nothing_installed(where)


def test_a_venv_made_from_store_python_is_refused(windows, tmp_path):
    where = windows()
    store = tmp_path / "Program Files/WindowsApps/PythonSoftwareFoundation.Python.3.11_x64__q"
    env = tmp_path / "env"
    with pytest.raises(install.InstallError, match="Microsoft Store"):
        install.install(where, python=_python(env / "Scripts", dll_in=env, base_prefix=store))


def test_conda_writes_xlwings_conda_settings(windows, tmp_path):
    where = windows()
    where.config.parent.mkdir(parents=True)
    where.config.write_bytes(b'"INTERPRETER_WIN","C:\\old\\python.exe"\r\n'
                             b'"SHOW CONSOLE","True"\r\n')
    env = tmp_path / "miniconda3" / "envs" / "finance"
    conda = {"CONDA_EXE": r"C:\Users\pat\miniconda3\Scripts\conda.exe",
             "CONDA_DEFAULT_ENV": "finance"}
    (env / "conda-meta").mkdir(parents=True)
    install.install(where, python=_python(env, environ=conda))
    # As `xlwings config create` in a conda prompt: the installation without
    # \Scripts\conda.exe, the environment's name, and no interpreter path (xlwings then
    # runs `conda activate finance` before python, so numpy's DLLs load).
    assert install.read_config(where.config, where.encoding) == {
        "SHOW CONSOLE": "True", "CONDA PATH": r"C:\Users\pat\miniconda3",
        "CONDA ENV": "finance", "UDF MODULES": "rxxl.udfs"}
    install.uninstall(where)
    assert install.read_config(where.config, where.encoding) == {"SHOW CONSOLE": "True"}


def test_a_python_org_interpreter_run_from_a_conda_prompt_keeps_its_path(windows, tmp_path):
    where = windows()
    conda = {"CONDA_EXE": r"C:\Users\pat\miniconda3\Scripts\conda.exe",
             "CONDA_DEFAULT_ENV": "base"}
    python = _python(tmp_path / "Python311", environ=conda)
    install.install(where, python=python)
    assert install.read_config(where.config, where.encoding) == {
        "INTERPRETER_WIN": str(python.executable), "UDF MODULES": "rxxl.udfs"}


def test_the_cli_prints_the_message_and_exits_2(windows, tmp_path, monkeypatch, capsys):
    import argparse

    from rxxl.addin import cli

    where = windows()
    monkeypatch.setattr(install, "locations", lambda: where)
    monkeypatch.setattr(install.Interpreter, "current", classmethod(
        lambda cls: _python(tmp_path / "WindowsApps" / "PythonSoftwareFoundation.Python.3.11_q")))
    parser = argparse.ArgumentParser(prog="rxxl")
    cli.add_commands(parser.add_subparsers(dest="command"))
    assert cli.run(parser.parse_args(["addin", "install"])) == 2
    err = capsys.readouterr().err
    assert err.startswith("rxxl addin install: ") and "Traceback" not in err
    assert _nothing_installed(where)


# --- item 5: the lowest xlwings the add-in builds with --------------------------------------

#: Found by building the add-in in a child process against unpacked xlwings wheels
#: (`pip download xlwings==V --no-deps`): 0.30.0, 0.30.8 and 0.30.10 fail (their generator
#: writes `Py.CallUDF`, which xlwings' add-in module does not define, so rxxl's check of the
#: wrapper layout stops the build); 0.30.11, 0.30.12, 0.30.16, 0.31.0, 0.31.10, 0.32.0,
#: 0.32.2, 0.33.0 build, with the RX_ wrappers, ribbon and Dictionary modules identical to
#: 0.37.8's; test_addin, test_udfs, test_ribbon and this file pass against 0.30.11.
TESTED_MINIMUM = (0, 30, 11)


def _floor() -> tuple[int, ...]:
    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    [spec] = [d for d in project["project"]["dependencies"] if d.startswith("xlwings")]
    assert spec.startswith("xlwings>="), spec
    return tuple(int(part) for part in spec.removeprefix("xlwings>=").split(",")[0].split("."))


def test_xlwings_floor_is_not_below_the_tested_minimum():
    assert _floor() >= TESTED_MINIMUM


def test_installed_xlwings_is_at_least_the_floor():
    import xlwings

    assert tuple(int(p) for p in xlwings.__version__.split(".")[:3]) >= _floor()


@pytest.mark.skipif(not os.environ.get("RXXL_XLWINGS_MINIMUM"),
                    reason="set RXXL_XLWINGS_MINIMUM to an unpacked xlwings wheel of the floor")
def test_the_add_in_builds_against_the_minimum_xlwings(tmp_path):
    # In a child process, so this process keeps the installed xlwings.
    wheel = os.environ["RXXL_XLWINGS_MINIMUM"]
    code = ("import sys, xlwings; from rxxl.addin.build import build;"
            f" build({str(tmp_path / 'rxxl.xlam')!r}); print(xlwings.__version__)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([wheel, str(SRC)])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert tuple(int(p) for p in result.stdout.split()[-1].split(".")) == _floor()


# --- item 9: an add-in built for another rxxl or xlwings ---------------------------------------


def test_install_records_the_versions_it_built_with(windows, tmp_path):
    import xlwings

    from rxxl import __version__

    where = windows()
    install.install(where, python=_python(tmp_path / "Python311"))
    assert install.installed_versions(where) == {"rxxl": __version__,
                                                 "xlwings": xlwings.__version__}
    assert install.drift(where) is None
    install.uninstall(where)
    assert install.installed_versions(where) == {} and not where.config.parent.joinpath(
        install.RECORD_FILE).exists()


def test_drift_names_what_changed_and_the_fix(windows, tmp_path):
    import xlwings

    from rxxl import __version__

    where = windows()
    install.install(where, python=_python(tmp_path / "Python311"))
    record = where.config.with_name(install.RECORD_FILE)
    record.write_text(json.dumps({"rxxl": "0.0.1", "xlwings": xlwings.__version__}))
    message = install.drift(where)
    assert f"rxxl 0.0.1 (now {__version__})" in message and "xlwings" not in message
    assert "`rxxl addin install`" in message
    record.write_text("not json")  # a damaged record: no reminder, no error
    assert install.drift(where) is None


def test_a_function_the_add_in_has_but_rxxl_does_not_explains_itself(monkeypatch):
    from rxxl import __version__, udfs

    monkeypatch.setattr("rxxl.addin.install.drift",
                        lambda where=None: "The add-in was built for rxxl 0.0.1 (now x).")
    out = udfs.RX_OLD_NAME([[1.0]], 2)
    assert out == (f"#VALUE! RX_OLD_NAME is not a function of rxxl {__version__}."
                   " The add-in was built for rxxl 0.0.1 (now x).")
    assert not hasattr(udfs, "not_an_rx_function")


def test_the_stand_in_for_a_missing_function_carries_xlwings_metadata():
    # xlwings reads __xlfunc__ of whatever it finds under the name (call_udf).
    from unittest import mock

    import xlwings

    from rxxl import udfs
    from rxxl.udf_metadata import xlwings_decorators

    with mock.patch.object(xlwings, "func", xlwings_decorators().xlfunc):
        stand_in = udfs.RX_OLD_NAME
    assert stand_in.__xlfunc__["name"] == "RX_OLD_NAME"
    assert stand_in.__xlfunc__["category"] == "Rx Finance"


# --- item 7: IT installs the copy it signed ----------------------------------------------------


def test_install_from_a_signed_copy_installs_that_file(windows, tmp_path):
    """`rxxl addin install --from FILE`: the file IT signed goes into XLSTART byte for byte
    (a rebuild would drop the signature), after the same checks and the same rxxl.conf."""
    from rxxl.addin import build as builder

    signed = tmp_path / "signed" / "rxxl.xlam"
    signed.parent.mkdir()
    # A signature adds streams to vbaProject.bin; any extra bytes stand in for it here, and
    # the copy must keep them.
    signed.write_bytes(builder.build_bytes())
    where = windows()
    lines = install.install(where, python=_python(tmp_path / "Python311"), source=signed)
    assert (where.xlstart / "rxxl.xlam").read_bytes() == signed.read_bytes()
    assert install.read_config(where.config)["UDF MODULES"] == "rxxl.udfs"
    assert str(signed) in "\n".join(lines)


def test_install_from_a_file_that_is_no_rxxl_add_in_changes_nothing(windows, tmp_path):
    import openpyxl

    other = tmp_path / "other.xlam"
    openpyxl.Workbook().save(other)
    where = windows()
    with pytest.raises(install.InstallError, match=r"other\.xlam: not an rxxl add-in"):
        install.install(where, python=_python(tmp_path / "Python311"), source=other)
    assert not where.config.exists() and not (where.xlstart / "rxxl.xlam").exists()


def test_install_from_an_add_in_built_for_another_rxxl_is_refused(windows, tmp_path,
                                                                  monkeypatch):
    from rxxl.addin import build as builder

    old = tmp_path / "rxxl.xlam"
    monkeypatch.setattr("rxxl.__version__", "0.0.9")
    old.write_bytes(builder.build_bytes())
    monkeypatch.undo()
    monkeypatch.setattr(install, "_ansi_code_page", lambda: 1252)
    where = windows()
    with pytest.raises(install.InstallError, match=r"built for rxxl 0\.0\.9.*rxxl addin build"):
        install.install(where, python=_python(tmp_path / "Python311"), source=old)
    assert not (where.xlstart / "rxxl.xlam").exists()


def test_install_from_is_on_the_command_line():
    from rxxl.cli import build_parser

    args = build_parser().parse_args(["addin", "install", "--from", "signed/rxxl.xlam"])
    assert str(args.source) == "signed/rxxl.xlam"

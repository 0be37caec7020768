"""Install the add-in into Excel's start-up folder and write the user's rxxl.conf.

Excel opens every workbook in its start-up folder (XLSTART) when it starts, and an add-in
opened that way is loaded with its ribbon and functions. The add-in's xlwings module finds
the Python interpreter in the user's configuration file, which it reads after the
workbook's and the add-in's ``rxxl.conf`` sheets:

- Windows: ``%USERPROFILE%\\.rxxl\\rxxl.conf``; start-up folder
  ``%APPDATA%\\Microsoft\\Excel\\XLSTART``;
- macOS: ``~/Library/Containers/com.microsoft.Excel/Data/rxxl.conf`` (Excel's sandbox home);
  start-up folder ``~/Library/Group Containers/UBF8T346G9.Office/User Content.localized/
  Startup.localized/Excel``.

The file has VBA's ``Write #`` format, one ``"KEY","value"`` line per setting, which the
add-in reads with ``Input #``. VBA reads files in the system's ANSI code page (``GetACP``:
1252 in Western Europe and the Americas, 1250 in Central Europe, 932 in Japan), so the file
is written in it, as ``xlwings config create`` does (it opens the file in the locale's
encoding); on macOS that is UTF-8. A value the code page cannot hold (an interpreter under
``C:\\Users\\Łukasz`` on code page 1252) stops the install before anything is written.

Install order: every check first (interpreter, encoding), then ``rxxl.conf``, then the
add-in; if the add-in cannot be written, the previous ``rxxl.conf`` is put back, so a failed
install leaves nothing half-done. Everything that depends on the system is a parameter, so
both systems are tested anywhere.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from rxxl.errors import RxxlError

ADDIN_FILE = "rxxl.xlam"
UDF_MODULE = "rxxl.udfs"
_MAC_XLSTART = ("Library/Group Containers/UBF8T346G9.Office/User Content.localized/"
                "Startup.localized/Excel")
_MAC_CONFIG = "Library/Containers/com.microsoft.Excel/Data/rxxl.conf"


#: What install records beside rxxl.conf: the rxxl and xlwings versions the add-in was built
#: with, so the ribbon can tell when a later ``pip install --upgrade`` left it behind.
RECORD_FILE = "rxxl-install.json"
#: The settings rxxl writes (and uninstall removes); the user's others are kept.
OURS = frozenset({"INTERPRETER_WIN", "INTERPRETER_MAC", "UDF MODULES", "CONDA PATH",
                  "CONDA ENV"})
FIX = "rxxl addin install"


class UnsupportedPlatform(RxxlError):
    """The add-in needs desktop Excel, on Windows or macOS."""


class InstallError(RxxlError):
    """Installing would leave an add-in that cannot work; the message says what to do."""


def _ansi_code_page() -> int:
    """Windows' ANSI code page, the one VBA's ``Input #`` reads; 1252 off Windows (tests)."""
    if sys.platform == "win32":
        import ctypes

        return int(ctypes.windll.kernel32.GetACP())
    return 1252


def _short_path(path: str) -> str | None:
    """Windows' 8.3 short form of an existing path (ASCII, ``C:\\Users\\UKASZ~1``), if any."""
    if sys.platform != "win32":
        return None
    import ctypes

    buffer = ctypes.create_unicode_buffer(32768)
    size = ctypes.windll.kernel32.GetShortPathNameW(path, buffer, len(buffer))
    return buffer.value if 0 < size < len(buffer) else None


def config_encoding(system: str | None = None) -> str:
    """The encoding Excel's VBA reads rxxl.conf in on ``system``: the ANSI code page on
    Windows, UTF-8 on macOS.

    Examples
    --------
    >>> config_encoding("darwin")
    'utf-8'
    >>> "Łukasz".encode("cp1250")  # code page 1250 holds Ł as one byte; 1252 has no Ł
    b'\\xa3ukasz'
    """
    system = system or sys.platform
    if system != "win32":
        return "utf-8"
    name = f"cp{_ansi_code_page()}"
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InstallError(f"Windows' code page {name} has no Python codec, so rxxl.conf"
                           " cannot be written in it; install with an administrator's help"
                           " or set 'Language for non-Unicode programs' to a standard"
                           " language") from None


@dataclass(frozen=True)
class Locations:
    """Where the add-in and the user's configuration go on one system."""

    system: str
    xlstart: Path
    config: Path
    #: The encoding of ``config``: what VBA reads on this system.
    encoding: str = field(default="utf-8")

    @property
    def interpreter_key(self) -> str:
        """The setting the add-in reads for the interpreter on this system."""
        return "INTERPRETER_WIN" if self.system == "win32" else "INTERPRETER_MAC"


def locations(system: str | None = None, environ: dict[str, str] | None = None,
              home: Path | None = None) -> Locations:
    """The start-up folder and configuration file for ``system`` (``sys.platform`` values)."""
    system = system or sys.platform
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    if system == "win32":
        appdata = environ.get("APPDATA")
        profile = environ.get("USERPROFILE")
        if not appdata or not profile:
            raise RxxlError("APPDATA and USERPROFILE must be set to find Excel's folders")
        return Locations(system, Path(appdata) / "Microsoft" / "Excel" / "XLSTART",
                         Path(profile) / ".rxxl" / "rxxl.conf", config_encoding(system))
    if system == "darwin":
        return Locations(system, home / _MAC_XLSTART, home / _MAC_CONFIG,
                         config_encoding(system))
    raise UnsupportedPlatform(
        f"the rxxl add-in needs desktop Excel on Windows or macOS; this is {system}. The"
        " RX_ functions and reports work here from Python and the rxxl command.")


def user_config_path(system: str | None = None) -> Path:
    """The user's rxxl.conf on this system (raises :class:`UnsupportedPlatform` elsewhere)."""
    return locations(system).config


def read_config(path: Path, encoding: str | None = None) -> dict[str, str]:
    """The settings of an rxxl.conf file, names upper-cased; empty if there is no file.

    ``encoding`` defaults to what VBA reads on this system (:func:`config_encoding`).
    """
    if not path.exists():
        return {}
    encoding = encoding or config_encoding()
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError:
        raise RxxlError(f"{path} is not text in {encoding}, the encoding Excel reads it in;"
                        f" delete it and run `{FIX}`") from None
    settings = {}
    for line in text.splitlines():
        key, _, value = line.partition(",")
        if key.strip():
            settings[key.strip().strip('"').upper()] = value.strip().strip('"')
    return settings


def _config_bytes(settings: dict[str, str], encoding: str) -> bytes:
    """The file's bytes; raises before anything is written when a value cannot be held."""
    for key, value in settings.items():
        if '"' in key + value:
            raise RxxlError(f"{key}: a setting cannot contain a double quote ({value})")
        try:
            f'"{key}","{value}"'.encode(encoding)
        except UnicodeEncodeError as exc:
            bad = "".join(dict.fromkeys(str(exc.object[exc.start:exc.end])))
            fix = (r"Install Python in a folder whose path has only plain letters (e.g."
                   r" C:\Python311, 'Install for all users' in python.org's installer), then"
                   f" `pip install rxxl` and `{FIX}` with it"
                   if key in OURS else
                   f"Change {key} in your rxxl.conf to a value without them")
            raise InstallError(
                f"{key} {value} has characters ({bad}) that Windows' code page"
                f" {encoding} cannot hold, and Excel reads rxxl.conf in that code page, so it"
                f" would read something else. {fix}; or have IT set Windows' 'Language for"
                " non-Unicode programs' to one that has these characters. Nothing was"
                " installed.") from None
    text = "".join(f'"{key}","{value}"\r\n' for key, value in settings.items())
    return text.encode(encoding)


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _write_config(path: Path, settings: dict[str, str], encoding: str = "utf-8") -> None:
    _write_bytes(path, _config_bytes(settings, encoding))


def _keep_others(where: Locations, ours: frozenset[str] | set[str]) -> dict[str, str]:
    # The user's own settings (PYTHONPATH, SHOW CONSOLE, ...) survive install and uninstall.
    return {key: value for key, value in read_config(where.config, where.encoding).items()
            if key not in ours}


@dataclass(frozen=True)
class Interpreter:
    """The Python the add-in will start, as far as the install checks need it.

    ``executable`` is the interpreter written to rxxl.conf; ``base_prefix`` the installation
    a virtual environment was made from; ``user_base`` where ``pip install --user`` puts
    data files (xlwings' DLL); ``environ`` holds conda's ``CONDA_EXE`` and
    ``CONDA_DEFAULT_ENV`` when the interpreter is a conda environment's.
    """

    executable: Path
    base_prefix: Path
    user_base: Path | None
    xlwings_version: str
    environ: dict[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls) -> Interpreter:
        """The interpreter running ``rxxl addin install``."""
        import site

        import xlwings

        return cls(Path(sys.executable), Path(sys.base_prefix),
                   Path(site.getuserbase()), xlwings.__version__, dict(os.environ))


def _is_microsoft_store(path: Path) -> bool:
    parts = {part.lower() for part in PureWindowsPath(str(path)).parts}
    return "windowsapps" in parts or any(
        part.startswith("pythonsoftwarefoundation.python.") for part in parts)


def _conda_settings(environ: dict[str, str]) -> dict[str, str]:
    # As xlwings' `config create`: the conda installation without its Scripts\conda.exe,
    # and the environment (a name, or a path for an environment outside envs\).
    conda_exe, env = environ.get("CONDA_EXE"), environ.get("CONDA_DEFAULT_ENV")
    if not (conda_exe and env):
        return {}
    return {"CONDA PATH": str(PureWindowsPath(conda_exe).parents[1]), "CONDA ENV": env}


def check_interpreter(python: Interpreter) -> dict[str, str]:
    """Check that Excel on Windows can start ``python``; return the settings it needs.

    Raises :class:`InstallError`, with the fix, for what would fail only later in Excel:

    - a Microsoft Store Python: Windows redirects its writes under ``AppData`` into the
      app's private folder, so Excel would never see the add-in or rxxl.conf;
    - xlwings' DLL (``xlwings64-<version>.dll``) missing from the two folders the add-in
      loads it from, the interpreter's folder and its parent (a virtual environment's
      root); ``pip install --user`` puts it under the user base instead.

    A conda environment (``conda-meta`` beside the interpreter, ``CONDA_EXE`` and
    ``CONDA_DEFAULT_ENV`` set) gets ``CONDA PATH`` and ``CONDA ENV`` and no interpreter path, as
    ``xlwings config create`` writes them: xlwings then activates the environment before
    starting Python, without which numpy's DLLs do not load.
    """
    for place in (python.executable, python.base_prefix):
        if _is_microsoft_store(place):
            raise InstallError(
                f"{python.executable} is the Microsoft Store's Python. Windows redirects what"
                " it writes under AppData to a private folder, so Excel would never find the"
                " add-in. Install Python from python.org (or Miniconda), then"
                f" `pip install rxxl` and `{FIX}` with that Python. Nothing was installed.")
    # Only when this interpreter is the active environment's (it has conda-meta beside it):
    # a python.org interpreter run from a conda prompt keeps its own path.
    is_conda = (python.executable.parent / "conda-meta").is_dir()
    conda = _conda_settings(python.environ) if is_conda else {}
    dll = f"xlwings*-{python.xlwings_version}.dll"
    folders = [python.executable.parent, python.executable.parent.parent]
    if not any(next(folder.glob(dll), None) for folder in folders):
        user_copy = next(python.user_base.glob(dll), None) if python.user_base else None
        where = " or ".join(str(folder) for folder in folders)
        if user_copy is not None:
            raise InstallError(
                f"xlwings was installed with `pip install --user`: its DLL {user_copy.name} is"
                f" in {user_copy.parent}, but Excel loads it only from {where}. Copy"
                f" {user_copy} into {folders[0]}, or install rxxl in a virtual environment"
                " (`python -m venv %USERPROFILE%\\rxxl-env`, then its `pip install rxxl`"
                f" and `{FIX}`). Nothing was installed.")
        raise InstallError(
            f"xlwings' DLL (xlwings64-{python.xlwings_version}.dll) is not in {where}, so"
            " Excel could not start Python. Reinstall xlwings with this Python"
            f" (`{python.executable} -m pip install --force-reinstall xlwings"
            f"=={python.xlwings_version}`), then `{FIX}`. Nothing was installed.")
    return conda


def _encodable(path: str, encoding: str) -> str:
    # A path outside the code page (C:\\Users\\Łukasz\\...) has an ASCII 8.3 short form when
    # the volume keeps them; that reaches the same file. Otherwise _config_bytes refuses it.
    try:
        path.encode(encoding)
    except UnicodeEncodeError:
        short = _short_path(path)
        if short and short.isascii():
            return short
    return path


def _record(where: Locations) -> Path:
    return where.config.with_name(RECORD_FILE)


def installed_versions(where: Locations) -> dict[str, str]:
    """The rxxl and xlwings versions the installed add-in was built with ({} if unknown)."""
    try:
        record = json.loads(_record(where).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key: str(record[key]) for key in ("rxxl", "xlwings") if key in record}


def drift(where: Locations | None = None, built: dict[str, str] | None = None) -> str | None:
    """What no longer matches between the installed add-in and this rxxl / xlwings, with
    the fix; ``None`` when they match or nothing was recorded (a hand-installed add-in).
    ``built``: the versions the running add-in reports (its VBA's build constants), which
    win over the install record."""
    import xlwings

    from rxxl import __version__

    if built is None:
        try:
            where = where or locations()
        except RxxlError:
            return None
        built = installed_versions(where)
    now = {"rxxl": __version__, "xlwings": xlwings.__version__}
    changed = [f"{name} {built[name]} (now {now[name]})" for name in ("rxxl", "xlwings")
               if name in built and built[name] != now[name]]
    if not changed:
        return None
    return (f"The add-in was built for {' and '.join(changed)}: close Excel and run"
            f" `{FIX}` so its functions and buttons match.")


def addin_version(path: Path) -> str:
    """The rxxl version an add-in file was built for (its ``RXXL_BUILT_VERSION``), read with
    oletools' VBA extractor; :class:`InstallError` when the file is no rxxl add-in."""
    from oletools.olevba import VBA_Parser

    refused = InstallError(f"{path}: not an rxxl add-in (no Rx Finance VBA project in it);"
                           " give the rxxl.xlam that `rxxl addin build` wrote (signed or not)")
    try:
        with zipfile.ZipFile(path) as archive:
            if "xl/vbaProject.bin" not in archive.namelist():
                raise refused
    except (zipfile.BadZipFile, OSError):
        raise refused from None
    parser = VBA_Parser(str(path))
    try:
        code = "\n".join(source for _, _, _, source in parser.extract_macros())
    finally:
        parser.close()
    found = re.search(r'^Public Const RXXL_BUILT_VERSION As String = "([^"]*)"', code, re.M)
    if found is None:
        raise refused
    return found.group(1)


def _copy_in(source: Path, target: Path) -> None:
    """``source`` to ``target`` byte for byte (a signature must survive), replacing it whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def install(where: Locations, interpreter: str | None = None,
            python: Interpreter | None = None, source: Path | None = None) -> list[str]:
    """Write the user's rxxl.conf, then build the add-in into the start-up folder (or copy
    ``source``, an add-in IT built and signed, byte for byte).

    Returns the lines to print. The add-in is built from the installed rxxl and xlwings, so
    its function wrappers match the installed functions; a ``source`` must have been built
    for the installed rxxl. On Windows ``python`` (default: this interpreter, unless
    ``interpreter`` names another one, which is then not checked) goes through
    :func:`check_interpreter` first. Nothing is changed when a check fails, and a failed
    build or copy puts the previous rxxl.conf back.
    """
    from rxxl import __version__
    from rxxl.addin.build import build

    if source is not None:
        source = Path(source)
        built_for = addin_version(source)
        if built_for != __version__:
            raise InstallError(f"{source}: built for rxxl {built_for}, and this is rxxl"
                               f" {__version__}: its RX_ functions would not match; build it"
                               " again with `rxxl addin build`, sign that copy, and install"
                               " it")

    if python is None and interpreter is None:
        python = Interpreter.current()
    interpreter = _encodable(interpreter or str(python.executable), where.encoding)
    ours = {where.interpreter_key: interpreter, "UDF MODULES": UDF_MODULE}
    if where.system == "win32" and python is not None:
        conda = check_interpreter(python)
        if conda:
            # xlwings activates the environment only for a bare interpreter name.
            ours = {**conda, "UDF MODULES": UDF_MODULE}
    settings = {**_keep_others(where, OURS), **ours}
    data = _config_bytes(settings, where.encoding)  # raises before anything is written
    target = where.xlstart / ADDIN_FILE
    previous = where.config.read_bytes() if where.config.exists() else None
    _write_bytes(where.config, data)
    try:
        if source is None:
            build(target)
        else:
            _copy_in(source, target)
    except BaseException as exc:
        if previous is None:
            where.config.unlink(missing_ok=True)
        else:
            _write_bytes(where.config, previous)
        if isinstance(exc, PermissionError):
            raise InstallError(f"cannot replace {target} ({exc}); close Excel and try"
                               " again") from exc
        raise
    import xlwings

    _write_bytes(_record(where), json.dumps(
        {"rxxl": __version__, "xlwings": xlwings.__version__}).encode("utf-8"))
    shown = ", ".join(f"{key} = {value}" for key, value in ours.items() if key != "UDF MODULES")
    lines = [f"rxxl addin install: {target}"
             + (f" (copied from {source}, not rebuilt)" if source is not None else ""),
             f"  settings: {where.config} ({shown})",
             "  restart Excel: the Rx Finance tab and the RX_ functions load with it."]
    if where.system == "darwin":
        lines.append("  macOS: run `xlwings runpython install` once so Excel can start Python;"
                     " the RX_ cell functions need Excel on Windows (classic xlwings).")
    return lines


def uninstall(where: Locations) -> list[str]:
    """Remove the add-in from the start-up folder and rxxl's settings from the user's file."""
    target = where.xlstart / ADDIN_FILE
    lines = []
    if target.exists():
        try:
            target.unlink()
        except PermissionError as exc:
            raise RxxlError(f"cannot remove {target} ({exc}); close Excel and try again") \
                from exc
        lines.append(f"rxxl addin uninstall: removed {target}")
    else:
        lines.append(f"rxxl addin uninstall: no add-in at {target}")
    _record(where).unlink(missing_ok=True)
    if where.config.exists():
        others = _keep_others(where, OURS)
        if others:
            _write_config(where.config, others, where.encoding)
            lines.append(f"  removed rxxl's settings from {where.config}; kept"
                         f" {', '.join(sorted(others))}")
        else:
            where.config.unlink()
            lines.append(f"  removed {where.config}")
    return lines

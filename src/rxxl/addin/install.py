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
add-in reads with ``Input #``. Everything that depends on the system is a parameter, so
both systems are tested anywhere.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from rxxl.errors import RxxlError

ADDIN_FILE = "rxxl.xlam"
UDF_MODULE = "rxxl.udfs"
_MAC_XLSTART = ("Library/Group Containers/UBF8T346G9.Office/User Content.localized/"
                "Startup.localized/Excel")
_MAC_CONFIG = "Library/Containers/com.microsoft.Excel/Data/rxxl.conf"


class UnsupportedPlatform(RxxlError):
    """The add-in needs desktop Excel, on Windows or macOS."""


@dataclass(frozen=True)
class Locations:
    """Where the add-in and the user's configuration go on one system."""

    system: str
    xlstart: Path
    config: Path

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
                         Path(profile) / ".rxxl" / "rxxl.conf")
    if system == "darwin":
        return Locations(system, home / _MAC_XLSTART, home / _MAC_CONFIG)
    raise UnsupportedPlatform(
        f"the rxxl add-in needs desktop Excel on Windows or macOS; this is {system}. The"
        " RX_ functions and reports work here from Python and the rxxl command.")


def user_config_path(system: str | None = None) -> Path:
    """The user's rxxl.conf on this system (raises :class:`UnsupportedPlatform` elsewhere)."""
    return locations(system).config


def read_config(path: Path) -> dict[str, str]:
    """The settings of an rxxl.conf file, names upper-cased; empty if there is no file."""
    if not path.exists():
        return {}
    settings = {}
    for line in path.read_text(encoding="cp1252").splitlines():
        key, _, value = line.partition(",")
        if key.strip():
            settings[key.strip().strip('"').upper()] = value.strip().strip('"')
    return settings


def _write_config(path: Path, settings: dict[str, str]) -> None:
    for key, value in settings.items():
        if '"' in key + value:
            raise RxxlError(f"{key}: a setting cannot contain a double quote ({value})")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f'"{key}","{value}"\r\n' for key, value in settings.items())
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="cp1252")
    os.replace(temporary, path)


def _keep_others(path: Path, ours: set[str]) -> dict[str, str]:
    # The user's own settings (PYTHONPATH, CONDA PATH, ...) survive install and uninstall.
    return {key: value for key, value in read_config(path).items() if key not in ours}


def install(where: Locations, interpreter: str | None = None) -> list[str]:
    """Build the add-in into the start-up folder and write the user's rxxl.conf.

    Returns the lines to print. The add-in is built from the installed rxxl and xlwings, so
    its function wrappers match the installed functions.
    """
    from rxxl.addin.build import build

    interpreter = interpreter or sys.executable
    target = where.xlstart / ADDIN_FILE
    try:
        build(target)
    except PermissionError as exc:
        raise RxxlError(f"cannot replace {target} ({exc}); close Excel and try again") from exc
    ours = {where.interpreter_key, "UDF MODULES"}
    settings = _keep_others(where.config, ours)
    settings.update({where.interpreter_key: interpreter, "UDF MODULES": UDF_MODULE})
    _write_config(where.config, settings)
    lines = [f"rxxl addin install: {target}",
             f"  settings: {where.config} ({where.interpreter_key} = {interpreter})",
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
    if where.config.exists():
        others = _keep_others(where.config, {"INTERPRETER_WIN", "INTERPRETER_MAC",
                                             "UDF MODULES"})
        if others:
            _write_config(where.config, others)
            lines.append(f"  removed rxxl's settings from {where.config}; kept"
                         f" {', '.join(sorted(others))}")
        else:
            where.config.unlink()
            lines.append(f"  removed {where.config}")
    return lines

"""What xlwings knows about each RX_ function: name, category, arguments, their help.

xlwings records this (``__xlfunc__``) only on Windows, where its decorators are real; on
other systems they pass functions through. This module imports xlwings' own decorators
with inert stand-ins for the pywin32 modules they import but do not call, and runs
:mod:`rxxl.udfs` under them, so the function wizard's text can be checked anywhere and the
add-in's VBA wrappers generated anywhere from the same metadata xlwings would use.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from contextlib import contextmanager
from typing import Any
from unittest import mock

_PYWIN32_MODULES = ("pythoncom", "pywintypes", "win32com", "win32com.client")


@contextmanager
def _pywin32_stand_ins():
    added = {}
    for name in _PYWIN32_MODULES:
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.CoInitialize = lambda: None
            module.Dispatch = None
            added[name] = sys.modules[name] = module
    if "win32com.client" in added and "win32com" in added:
        added["win32com"].client = added["win32com.client"]
    try:
        yield
    finally:
        for name in added:
            sys.modules.pop(name, None)


def xlwings_decorators() -> types.ModuleType:
    """xlwings' Windows UDF module (``xlwings.udfs``), importable on any system."""
    if "xlwings.udfs" in sys.modules:
        return sys.modules["xlwings.udfs"]
    with _pywin32_stand_ins():
        import xlwings.udfs

        # Keep it out of sys.modules: elsewhere xlwings must stay as it is on this system.
        del sys.modules["xlwings.udfs"]
    return xlwings.udfs


def udf_metadata(module_name: str = "rxxl.udfs") -> dict[str, dict[str, Any]]:
    """Return ``{function name: xlwings __xlfunc__ dict}`` for a UDF module's functions."""
    import xlwings

    real = xlwings_decorators()
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {module_name!r}")
    module = importlib.util.module_from_spec(spec)
    with (
        mock.patch.object(xlwings, "func", real.xlfunc),
        mock.patch.object(xlwings, "arg", real.xlarg),
        mock.patch.object(xlwings, "ret", real.xlret),
    ):
        spec.loader.exec_module(module)
    return {
        name: value.__xlfunc__
        for name, value in vars(module).items()
        if callable(value) and hasattr(value, "__xlfunc__")
    }

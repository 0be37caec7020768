"""The VBA module of the RX_ functions, generated from :mod:`rxxl.udfs` at build time.

xlwings writes these wrappers itself when a user clicks "Import Functions", which needs
trust in the VBA project object model. The add-in ships them instead, made by the same
generator (``xlwings.udfs.generate_vba_wrapper``, run on any system through
:mod:`rxxl.udf_metadata`), with one change: each call's result goes through the VBA helper
``RxCellErrors``, which turns rxxl's error literals into real error values (see
``sources/RxxlFunctions.bas``). A registration procedure gives Excel's function wizard the
category and argument help that "Import Functions" would register.
"""

from __future__ import annotations

import copy
import io
import re
import types
from importlib import resources
from typing import Any

from rxxl.udf_metadata import udf_metadata, xlwings_decorators

UDF_MODULE = "rxxl.udfs"
ERROR_HELPER = "RxCellErrors"
#: The workbook name passed to xlwings' generator: an add-in's wrappers name ActiveWorkbook.
ADDIN_NAME = "rxxl.xlam"
#: Excel's limit on a function's and an argument's description.
_MAX_DOC = 255
_CALL = re.compile(r"^(?P<indent>\s*)(?P<name>\w+) = (?P<call>XLPy\.CallUDF\(.*\))$")


def xlwings_wrappers(metadata: dict[str, dict[str, Any]],
                     module_name: str = UDF_MODULE) -> str:
    """The VBA that xlwings' "Import Functions" writes for these functions, unchanged."""
    generator = xlwings_decorators().generate_vba_wrapper
    # xlwings reads the metadata off the module's attributes and edits it in place.
    module = types.SimpleNamespace(**{
        name: types.SimpleNamespace(__xlfunc__=copy.deepcopy(info))
        for name, info in metadata.items()
    })
    out = io.StringIO()
    generator(module_name, module, out, types.SimpleNamespace(Name=ADDIN_NAME))
    return out.getvalue()


def with_error_helper(vba: str, names: list[str]) -> str:
    """Pass the result of every ``XLPy.CallUDF`` through :data:`ERROR_HELPER`.

    Raises ``ValueError`` unless each function's two calls (Excel and other hosts) were
    changed, so a change in xlwings' generator stops the build instead of shipping
    wrappers without the helper.
    """
    changed: dict[str, int] = {}
    lines = []
    for line in vba.split("\n"):
        match = _CALL.match(line)
        if match:
            line = f"{match['indent']}{match['name']} = {ERROR_HELPER}({match['call']})"
            changed[match["name"]] = changed.get(match["name"], 0) + 1
        lines.append(line)
    wrong = sorted(name for name in names if changed.get(name) != 2)
    if wrong or set(changed) - set(names):
        raise ValueError(f"xlwings' wrapper layout changed; cannot add {ERROR_HELPER} to"
                         f" {wrong or sorted(set(changed) - set(names))}")
    return "\n".join(lines)


def _vba_string(text: str) -> str:
    """A VBA string expression for ``text``; every character outside ASCII as ChrW().

    VBA reads module source in the PC's ANSI code page, so a byte above 127 (even one of
    code page 1252, such as ×) shows as another character on a Polish or Japanese Windows;
    ``ChrW(215)`` is the same character everywhere.

    >>> _vba_string('a "b" × Σ')
    '"a ""b"" " & ChrW(215) & " " & ChrW(931)'
    >>> _vba_string("\U0001F48A")  # beyond U+FFFF: a surrogate pair
    'ChrW(55357) & ChrW(56458)'
    """
    text = " ".join(text[:_MAX_DOC].split())
    pieces, literal = [], ""
    for char in text:
        if ord(char) > 127:
            if literal:
                pieces.append('"' + literal + '"')
                literal = ""
            # VBA strings are UTF-16: a character beyond U+FFFF is two ChrW (a surrogate pair).
            units = char.encode("utf-16-le")
            pieces += [f"ChrW({int.from_bytes(units[i:i + 2], 'little')})"
                       for i in range(0, len(units), 2)]
        else:
            literal += '""' if char == '"' else char
    if literal or not pieces:
        pieces.append('"' + literal + '"')
    return " & ".join(pieces)


def registration(metadata: dict[str, dict[str, Any]]) -> str:
    """``RxRegisterFunctions``: category, description and argument help for each function."""
    lines = ["Public Sub RxRegisterFunctions()", "    Dim docs As Variant"]
    for name in sorted(metadata):
        info = metadata[name]
        args = [arg for arg in info["args"] if not arg["vba"]]
        lines.append("    docs = Empty")
        if args:
            lines.append(f"    ReDim docs(0 To {len(args) - 1})")
            lines += [f"    docs({i}) = {_vba_string(arg['doc'])}" for i, arg in enumerate(args)]
        lines.append(f"    RxRegister {_vba_string(name)}, {_vba_string(info['ret']['doc'])},"
                     f" {_vba_string(info['category'])}, docs")
    lines += ["End Sub", ""]
    return "\n".join(lines)


def functions_module(module_name: str = UDF_MODULE) -> str:
    """The complete source of the add-in's ``RxxlFunctions`` module."""
    metadata = udf_metadata(module_name)
    fixed = (resources.files("rxxl.addin") / "sources" / "RxxlFunctions.bas").read_text(
        encoding="utf-8")
    wrappers = with_error_helper(xlwings_wrappers(metadata, module_name), sorted(metadata))
    return fixed.rstrip("\n") + "\n\n" + registration(metadata) + "\n" + wrappers

"""A source-only VBA project (``vbaProject.bin``, MS-OVBA §2.2-2.3) from module source text.

The project holds no compiled code: its ``_VBA_PROJECT`` stream is the 7-byte form with
version 0xFFFF, which tells Office to ignore performance caches and compile every module
from its source (MS-OVBA §2.3.4.1), as xlwings' own shipped add-ins do. Each module stream
is its compressed source at offset 0. Sources are stored in code page 1252 with CRLF lines.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from rxxl.addin import ovba
from rxxl.addin.cfb import write_compound_file

CODE_PAGE = 1252
_ENCODING = "cp1252"
_LCID = 0x0409
#: Fixed, so two builds are byte-identical; any GUID will do, Office does not look it up.
PROJECT_ID = "{6C5B2E0D-3F0A-4E61-9C2B-7A1D2E8F4B30}"
#: MS-OVBA §2.3.4.1: Reserved1 0x61CC, Version 0xFFFF (no cache), Reserved2, Reserved3.
VBA_PROJECT_STREAM = bytes.fromhex("CC61FFFF000100")

#: Protection state, password and visibility (MS-OVBA §2.3.1.15-17), stored encrypted.
_UNPROTECTED, _NO_PASSWORD, _VISIBLE = b"\0\0\0\0", b"\0", b"\xff"

PROCEDURAL, DOCUMENT, CLASS = "procedural", "document", "class"

#: The type libraries the modules use besides VBA and Excel: OLE Automation, and the Office
#: library, which declares the ribbon's IRibbonControl. Office resolves them by GUID and
#: version in the registry; the paths are those of a default Office 2016+ install.
REFERENCES = (
    ("stdole", "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0"
     "#C:\\Windows\\System32\\stdole2.tlb#OLE Automation"),
    ("Office", "*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0"
     "#C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL"
     "#Microsoft Office 16.0 Object Library"),
)


class RoundTripError(RuntimeError):
    """A compressed stream did not decompress to what was compressed."""


@dataclass(frozen=True)
class Module:
    """One VBA module: its name, kind and full source including ``Attribute`` lines."""

    name: str
    kind: str
    source: str

    def encoded(self) -> bytes:
        """The source as stored: CRLF lines in code page 1252, ending with a line break."""
        text = self.source.replace("\r\n", "\n").replace("\r", "\n")
        if not text.endswith("\n"):
            text += "\n"
        return text.replace("\n", "\r\n").encode(_ENCODING)


def _record(record_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(data)) + data


def _text(record_id: int, unicode_id: int, text: str) -> bytes:
    return _record(record_id, text.encode(_ENCODING)) + _record(
        unicode_id, text.encode("utf-16-le"))


def _dir_stream(project_name: str, modules: list[Module]) -> bytes:
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 1))  # SysKind: 32-bit Windows
    out += _record(0x0002, struct.pack("<I", _LCID))
    out += _record(0x0014, struct.pack("<I", _LCID))
    out += _record(0x0003, struct.pack("<H", CODE_PAGE))
    out += _record(0x0004, project_name.encode(_ENCODING))
    out += _text(0x0005, 0x0040, "")  # doc string
    out += _text(0x0006, 0x003D, "")  # help file (two copies, the second not Unicode)
    out += _record(0x0007, struct.pack("<I", 0))  # help context
    out += _record(0x0008, struct.pack("<I", 0))  # lib flags
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # version 1.0 (Reserved size is always 4)
    out += _text(0x000C, 0x003C, "")  # conditional compilation constants
    for name, libid in REFERENCES:
        out += _text(0x0016, 0x003E, name)
        encoded = libid.encode(_ENCODING)
        registered = struct.pack("<I", len(encoded)) + encoded + struct.pack("<IH", 0, 0)
        out += _record(0x000D, registered)
    out += _record(0x000F, struct.pack("<H", len(modules)))
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # project cookie
    for module in modules:
        out += _record(0x0019, module.name.encode(_ENCODING))
        out += _record(0x0047, module.name.encode("utf-16-le"))
        out += _text(0x001A, 0x0032, module.name)  # stream name
        out += _text(0x001C, 0x0048, "")  # doc string
        out += _record(0x0031, struct.pack("<I", 0))  # source starts at offset 0: no cache
        out += _record(0x001E, struct.pack("<I", 0))  # help context
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # module cookie
        out += struct.pack("<HI", 0x0021 if module.kind == PROCEDURAL else 0x0022, 0)
        out += struct.pack("<HI", 0x002B, 0)  # module terminator
    out += struct.pack("<HI", 0x0010, 0)  # dir terminator
    return bytes(out)


def _project_stream(project_name: str, modules: list[Module]) -> bytes:
    lines = [f'ID="{PROJECT_ID}"']
    for module in modules:
        if module.kind == DOCUMENT:
            lines.append(f"Document={module.name}/&H00000000")
        elif module.kind == CLASS:
            lines.append(f"Class={module.name}")
        else:
            lines.append(f"Module={module.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{encrypt(_UNPROTECTED)}"',
        f'DPB="{encrypt(_NO_PASSWORD)}"',
        f'GC="{encrypt(_VISIBLE)}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
    ]
    return "\r\n".join(lines).encode(_ENCODING)


def _project_wm(modules: list[Module]) -> bytes:
    out = bytearray()
    for module in modules:
        out += module.name.encode(_ENCODING) + b"\0" + module.name.encode("utf-16-le") + b"\0\0"
    return bytes(out + b"\0\0")


def encrypt(data: bytes, seed: int = 0x5D, project_id: str = PROJECT_ID) -> str:
    """MS-OVBA §2.4.3.2 data encryption, as hex (the CMG, DPB and GC project properties).

    The seed is fixed rather than random so that two builds are identical.

    >>> decrypt(encrypt(b"\\xff")) == b"\\xff"
    True
    """
    project_key = sum(project_id.encode(_ENCODING)) & 0xFF
    version = 2
    out = bytearray([seed, seed ^ version, seed ^ project_key])
    unencrypted_1, encrypted_1, encrypted_2 = project_key, out[2], out[1]
    payload = b"\0" * ((seed & 6) // 2) + struct.pack("<I", len(data)) + data
    for byte in payload:
        encrypted = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(encrypted)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, byte
    return out.hex().upper()


def decrypt(text: str) -> bytes:
    """Inverse of :func:`encrypt` (MS-OVBA §2.4.3.3); checks the length it carries."""
    data = bytes.fromhex(text)
    seed, version_enc, project_key_enc = data[0], data[1], data[2]
    if seed ^ version_enc != 2:
        raise ValueError("not MS-OVBA encrypted data (version is not 2)")
    unencrypted_1, encrypted_1, encrypted_2 = seed ^ project_key_enc, project_key_enc, version_enc
    plain = bytearray()
    for byte in data[3:]:
        decrypted = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(decrypted)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte, decrypted
    ignored = (seed & 6) // 2
    (length,) = struct.unpack_from("<I", plain, ignored)
    body = bytes(plain[ignored + 4:])
    if len(body) != length:
        raise ValueError(f"encrypted data says {length} bytes but holds {len(body)}")
    return body


def vba_project(project_name: str, modules: list[Module],
                verify: Callable[[bytes], bytes]) -> bytes:
    """Return ``vbaProject.bin`` holding ``modules``, each stream checked by ``verify``.

    ``verify`` decompresses a stream with an implementation other than the one that
    compressed it (the add-in build passes oletools'); any stream that does not come back
    byte for byte raises :class:`RoundTripError`, so a compressor bug cannot ship.
    """
    names = [module.name for module in modules]
    if len(set(map(str.upper, names))) != len(names):
        raise ValueError(f"module names must be unique (case-insensitive): {names}")
    plain = {"VBA/dir": _dir_stream(project_name, modules)}
    plain.update({f"VBA/{module.name}": module.encoded() for module in modules})
    streams = {"PROJECT": _project_stream(project_name, modules),
               "PROJECTwm": _project_wm(modules),
               "VBA/_VBA_PROJECT": VBA_PROJECT_STREAM}
    for path, data in plain.items():
        compressed = ovba.compress(data)
        try:
            back = bytes(verify(compressed))
        except Exception as exc:  # noqa: BLE001 - any failure to read back is a round-trip failure
            raise RoundTripError(f"{path}: the compressed stream does not decompress"
                                 f" ({type(exc).__name__}: {exc})") from exc
        if back != data:
            first = next((i for i, (a, b) in enumerate(zip(back, data, strict=False)) if a != b),
                         min(len(back), len(data)))
            raise RoundTripError(f"{path}: the compressed stream decompresses to different"
                                 f" bytes (first difference at byte {first} of {len(data)})")
        streams[path] = compressed
    return write_compound_file(streams)

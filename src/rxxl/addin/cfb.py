"""A writer of new Compound File Binary files (MS-CFB version 3), the container of vbaProject.bin.

olefile reads and patches compound files but cannot create one, and no well-kept library
writes them, so this module writes the small subset a VBA project needs: storages and
streams, 512-byte sectors, streams under 4096 bytes in the mini stream, at most 109 FAT
sectors (files up to about 6.8 MB, so no DIFAT sectors). Output is deterministic: no
timestamps, no class ids, entries in a fixed order. olefile reads every file back in the
tests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_STREAM_CUTOFF = 4096
_ENTRY = 128
_FREESECT = 0xFFFFFFFF
_ENDOFCHAIN = 0xFFFFFFFE
_FATSECT = 0xFFFFFFFD
_NOSTREAM = 0xFFFFFFFF
_HEADER_DIFAT = 109
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_RED, _BLACK = 0, 1
_MAX_NAME = 31


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Entry] = field(default_factory=dict)
    sid: int = 0
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    color: int = _BLACK
    start: int = _ENDOFCHAIN


def _sort_key(name: str) -> tuple[int, str]:
    # MS-CFB §2.6.4: shorter names first, then by upper-cased UTF-16 code units.
    return len(name.encode("utf-16-le")), name.upper()


def write_compound_file(streams: dict[str, bytes]) -> bytes:
    """Return a compound file holding ``streams``, keyed by "/"-separated paths.

    Storages are created from the paths (``"VBA/dir"`` makes storage ``VBA``).

    >>> import io, olefile
    >>> ole = olefile.OleFileIO(io.BytesIO(write_compound_file({"VBA/dir": b"x" * 5000})))
    >>> len(ole.openstream("VBA/dir").read())
    5000
    """
    root = _Entry("Root Entry", _ROOT)
    for path, data in streams.items():
        parts = path.split("/")
        node = root
        for part in parts[:-1]:
            node = node.children.setdefault(part, _Entry(part, _STORAGE))
            if node.kind != _STORAGE:
                raise ValueError(f"{path}: {part} is a stream, not a storage")
        if parts[-1] in node.children:
            raise ValueError(f"{path}: already exists")
        node.children[parts[-1]] = _Entry(parts[-1], _STREAM, bytes(data))
    entries = _number(root)
    return _layout(entries)


def _number(root: _Entry) -> list[_Entry]:
    entries = [root]

    def visit(node: _Entry) -> None:
        ordered = sorted(node.children.values(), key=lambda entry: _sort_key(entry.name))
        for entry in ordered:
            if not entry.name or len(entry.name) > _MAX_NAME or set("/\\:!") & set(entry.name):
                raise ValueError(f"{entry.name!r}: not a valid compound file entry name")
            entry.sid = len(entries)
            entries.append(entry)
        node.child = _tree(ordered, 0, _depth(len(ordered)))
        for entry in ordered:
            visit(entry)

    visit(root)
    return entries


def _depth(count: int) -> int:
    return count.bit_length()


def _tree(ordered: list[_Entry], level: int, depth: int) -> int:
    """Link the siblings as a balanced red-black tree; return the root's id.

    Splitting at the middle gives leaves on the last two levels only, so colouring the
    deepest level red (and everything else black) keeps the black height equal on every path.
    """
    if not ordered:
        return _NOSTREAM
    middle = len(ordered) // 2
    node = ordered[middle]
    node.color = _RED if level == depth - 1 and level > 0 else _BLACK
    node.left = _tree(ordered[:middle], level + 1, depth)
    node.right = _tree(ordered[middle + 1:], level + 1, depth)
    return node.sid


def _padded(data: bytes, size: int) -> bytes:
    return data + b"\0" * (-len(data) % size)


def _chain(fat: list[int], first: int, count: int) -> None:
    for index in range(first, first + count - 1):
        fat[index] = index + 1
    fat[first + count - 1] = _ENDOFCHAIN


def _layout(entries: list[_Entry]) -> bytes:
    streams = [entry for entry in entries if entry.kind == _STREAM]
    mini = bytearray()
    minifat: list[int] = []
    for entry in streams:
        if entry.data and len(entry.data) < MINI_STREAM_CUTOFF:
            entry.start = len(mini) // MINI_SECTOR
            count = -(-len(entry.data) // MINI_SECTOR)
            minifat += [0] * count
            _chain(minifat, entry.start, count)
            mini += _padded(entry.data, MINI_SECTOR)

    body = bytearray()
    fat: list[int] = []

    def place(data: bytes) -> int:
        if not data:
            return _ENDOFCHAIN
        start = len(fat)
        count = -(-len(data) // SECTOR)
        fat.extend([0] * count)
        _chain(fat, start, count)
        body.extend(_padded(data, SECTOR))
        return start

    for entry in streams:
        if len(entry.data) >= MINI_STREAM_CUTOFF:
            entry.start = place(entry.data)
    root = entries[0]
    root.data = bytes(mini)
    root.start = place(root.data)
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
    minifat_start = place(_padded(minifat_bytes, SECTOR)) if minifat else _ENDOFCHAIN
    minifat_sectors = -(-len(minifat_bytes) // SECTOR)
    directory = b"".join(_entry_bytes(entry) for entry in entries)
    directory = _padded(directory, SECTOR)
    free_entry = _free_entry()
    directory = directory[: len(entries) * _ENTRY] + free_entry * (
        (len(directory) - len(entries) * _ENTRY) // _ENTRY)
    directory_start = place(directory)

    fat_sectors = 0
    while fat_sectors * (SECTOR // 4) < len(fat) + fat_sectors:
        fat_sectors += 1
    if fat_sectors > _HEADER_DIFAT:
        raise ValueError("compound file too large for a header-only DIFAT")
    fat_start = len(fat)
    fat.extend([_FATSECT] * fat_sectors)
    fat.extend([_FREESECT] * (fat_sectors * (SECTOR // 4) - len(fat)))
    body.extend(struct.pack(f"<{len(fat)}I", *fat))

    difat = list(range(fat_start, fat_start + fat_sectors))
    difat += [_FREESECT] * (_HEADER_DIFAT - len(difat))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\0" * 16,
        0x003E,  # minor version
        0x0003,  # major version 3: 512-byte sectors
        0xFFFE,  # little-endian
        9,  # sector shift: 2**9 = 512
        6,  # mini sector shift: 2**6 = 64
        b"\0" * 6,
        0,  # directory sectors: always 0 in version 3
        fat_sectors,
        directory_start,
        0,  # transaction signature
        MINI_STREAM_CUTOFF,
        minifat_start,
        minifat_sectors,
        _ENDOFCHAIN,  # first DIFAT sector: none
        0,
    ) + struct.pack(f"<{_HEADER_DIFAT}I", *difat)
    return header + bytes(body)


def _entry_bytes(entry: _Entry) -> bytes:
    name = (entry.name + "\0").encode("utf-16-le")
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name,
        len(name),
        entry.kind,
        entry.color,
        entry.left,
        entry.right,
        entry.child,
        b"\0" * 16,  # class id
        0,  # state bits
        0,  # creation time: none, so that two builds are identical
        0,  # modification time
        entry.start if entry.kind != _STORAGE else 0,
        len(entry.data) if entry.kind != _STORAGE else 0,
    )


def _free_entry() -> bytes:
    return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM,
                       b"\0" * 16, 0, 0, 0, 0, 0)

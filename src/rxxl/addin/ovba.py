"""MS-OVBA run-length compression (MS-OVBA §2.4.1), the encoding of VBA source streams.

A compressed container is the signature byte 0x01 and a sequence of chunks, each holding at
most 4096 bytes of the original. A chunk is a 2-byte header and groups of up to eight
tokens after a flag byte: a literal byte (flag bit 0) or a 2-byte copy token (flag bit 1)
that repeats earlier bytes of the same chunk. How many bits of a copy token hold the offset
grows with the position in the chunk; the rest hold the length, which bounds the longest
match to ``(0xFFFF >> bit_count) + 3``. The PyPI package ``ms-ovba-compression`` computes
this bound as ``0xFFFF << bit_count + 3`` (an operator precedence slip): long matches then
overflow into the offset bits and corrupt the stream silently. :func:`max_match_length` is
the single place that bound is computed, so a test can put the bug back and watch the
add-in build refuse the result.
"""

from __future__ import annotations

import struct

CHUNK_SIZE = 4096
_SIGNATURE = 0x01
_CHUNK_SIGNATURE = 0b011 << 12
_COMPRESSED_FLAG = 0x8000
_MIN_MATCH = 3
#: Candidate positions tried per match search; bounds the time on long runs of one byte.
_MAX_CANDIDATES = 32


def bit_count(position: int) -> int:
    """Offset bits of a copy token at ``position`` bytes into a chunk (MS-OVBA §2.4.1.3.19.1).

    >>> [bit_count(p) for p in (1, 16, 17, 2048, 2049, 4095)]
    [4, 4, 5, 11, 12, 12]
    """
    bits = 0
    while (1 << bits) < position:
        bits += 1
    return max(bits, 4)


def max_match_length(bits: int) -> int:
    """The longest match a copy token with ``bits`` offset bits can hold.

    >>> max_match_length(4), max_match_length(12)
    (4098, 18)
    """
    return (0xFFFF >> bits) + 3


def _compress_chunk(chunk: bytes) -> bytes:
    out = bytearray()
    heads: dict[bytes, list[int]] = {}
    position = 0
    end = len(chunk)
    while position < end:
        flag_index = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if position >= end:
                break
            bits = bit_count(position)
            limit = min(max_match_length(bits), end - position)
            best_length, best_start = 0, 0
            if limit >= _MIN_MATCH:
                for start in reversed(heads.get(chunk[position:position + 3], ())[
                        -_MAX_CANDIDATES:]):
                    length = 3
                    while length < limit and chunk[start + length] == chunk[position + length]:
                        length += 1
                    if length > best_length:
                        best_length, best_start = length, start
                        if length == limit:
                            break
            if best_length >= _MIN_MATCH:
                token = ((position - best_start - 1) << (16 - bits)) | (best_length - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_length
            else:
                out.append(chunk[position])
                step = 1
            for index in range(position, min(position + step, end - 2)):
                heads.setdefault(chunk[index:index + 3], []).append(index)
            position += step
        out[flag_index] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer.

    >>> decompress(compress(b"Attribute VB_Name = " * 40)) == b"Attribute VB_Name = " * 40
    True
    """
    out = bytearray([_SIGNATURE])
    for start in range(0, len(data), CHUNK_SIZE):
        chunk = data[start:start + CHUNK_SIZE]
        body = _compress_chunk(chunk)
        if len(body) <= CHUNK_SIZE:
            out += struct.pack("<H", _COMPRESSED_FLAG | _CHUNK_SIGNATURE | (len(body) + 2 - 3))
            out += body
        elif len(chunk) == CHUNK_SIZE:
            # Incompressible: a raw chunk holds exactly 4096 bytes (§2.4.1.3.10).
            out += struct.pack("<H", _CHUNK_SIGNATURE | (CHUNK_SIZE + 2 - 3))
            out += chunk
        else:
            # A short raw chunk would be padded with zeros on reading, so a short final chunk
            # must stay compressed even when that makes it larger (at most 4096 + 4096 / 8).
            raise ValueError("cannot store a short incompressible final chunk")
    return bytes(out)


def decompress(data: bytes) -> bytes:
    """Decompress an MS-OVBA CompressedContainer (MS-OVBA §2.4.1.3.1)."""
    if not data or data[0] != _SIGNATURE:
        raise ValueError("not an MS-OVBA compressed container (signature byte is not 0x01)")
    out = bytearray()
    position = 1
    while position < len(data):
        (header,) = struct.unpack_from("<H", data, position)
        size = (header & 0x0FFF) + 3
        if header & 0x7000 != _CHUNK_SIGNATURE:
            raise ValueError(f"bad chunk signature at byte {position}")
        body = data[position + 2:position + size]
        position += size
        chunk_start = len(out)
        if not header & _COMPRESSED_FLAG:
            out += body
            continue
        index = 0
        while index < len(body):
            flags = body[index]
            index += 1
            for bit in range(8):
                if index >= len(body):
                    break
                if not flags >> bit & 1:
                    out.append(body[index])
                    index += 1
                    continue
                (token,) = struct.unpack_from("<H", body, index)
                index += 2
                bits = bit_count(len(out) - chunk_start)
                offset = (token >> (16 - bits)) + 1
                length = (token & (0xFFFF >> bits)) + 3
                source = len(out) - offset
                if source < chunk_start:
                    raise ValueError("copy token points before its chunk")
                for step in range(length):
                    out.append(out[source + step])
    return bytes(out)

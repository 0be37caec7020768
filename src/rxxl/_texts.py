"""Short texts (claim ids) as rows of 64-bit words, hashed in NumPy: an exact distinctness test.

Loading a month of claims asks whether a million claim ids are distinct. Arrow's hash table
costs half a second for that once it outgrows the cache; packing each id's bytes into a row
of 64-bit words, mixing the words into one 64-bit hash and sorting the hashes (NumPy's
sort of integers is vectorized) costs a tenth of it.

The answer is exact. A hash is a function of the text, so distinct hashes prove distinct
texts. Equal hashes prove nothing (two ids may share one), so then, or when a text is
longer than :data:`MAX_BYTES` or blank, :func:`all_distinct` returns ``None`` and the
caller counts exactly with Arrow. The report's check that no claim id is in two parts
hashes every part's ids with :func:`hashes` and confirms a shared hash on the ids
themselves. (Finding matches this way, as a join needs, measured no
faster than Arrow: a binary search per text misses the cache as a hash table does.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Texts up to this many bytes are packed (identifiers are 10 to 30); longer: Arrow's turn.
MAX_BYTES = 64

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xBF58476D1CE4E5B9)
_SHIFT = np.uint64(31)


@dataclass(frozen=True)
class Packed:
    """Texts as rows of words (zero-padded), their byte lengths and whether each is given."""

    words: np.ndarray  # (n, k) uint64
    lengths: np.ndarray  # (n,) int64
    valid: np.ndarray  # (n,) bool

    def hashes(self) -> np.ndarray:
        """Each text's 64-bit hash: a function of the text alone (a text mixes only its own
        words, not the padding of a longer neighbour), so batches can be compared."""
        # A blank hashes apart from the empty text: its length counts as -1.
        lengths = np.where(self.valid, self.lengths, -1).astype(np.uint64)
        mixed = lengths * _GOLDEN
        own_words = (self.lengths + 7) // 8
        for j in range(self.words.shape[1]):
            stirred = mixed ^ self.words[:, j]
            stirred *= _MIX
            stirred ^= stirred >> _SHIFT
            mixed = np.where(own_words > j, stirred, mixed)
        return mixed


def pack(texts: pa.Array | pa.ChunkedArray) -> Packed | None:
    """The texts packed, or None when one is longer than :data:`MAX_BYTES` (or not text)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    wide = {pa.string(): np.int32, pa.large_string(): np.int64}.get(texts.type)
    if wide is None:
        return None
    n = len(texts)
    if n == 0:
        return Packed(np.zeros((0, 1), np.uint64), np.zeros(0, np.int64), np.zeros(0, bool))
    offsets = np.frombuffer(texts.buffers()[1], dtype=wide)[
        texts.offset: texts.offset + n + 1].astype(np.int64)
    lengths = np.diff(offsets)
    width = int(lengths.max())
    if width > MAX_BYTES:
        return None
    valid = (np.ones(n, dtype=bool) if texts.null_count == 0
             else texts.is_valid().to_numpy(zero_copy_only=False))
    words = max(1, -(-width // 8))
    data = (np.frombuffer(texts.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
            if texts.buffers()[2] is not None else np.zeros(0, np.uint8))
    padded = np.zeros((n, words * 8), dtype=np.uint8)
    if int(lengths.min()) == width:  # texts of one length: the bytes are already a table
        padded[:, :width] = data.reshape(n, width)
    else:
        # Each text's bytes land at the start of its own row of zeros: row i, column j gets
        # byte offsets[i] + j, for j below the text's length.
        row_of_byte = np.repeat(np.arange(n), lengths)
        column = np.arange(len(data)) - np.repeat(offsets[:-1] - offsets[0], lengths)
        padded[row_of_byte, column] = data
    return Packed(padded.view(np.uint64), lengths, valid)


def hashes(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each text's 64-bit hash (:meth:`Packed.hashes`), the same for a text in any batch;
    texts longer than :data:`MAX_BYTES` are hashed by pandas instead. Equal texts hash
    alike; a shared hash is a candidate only, to be confirmed on the texts."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = texts.cast(pa.large_string())
    long = np.asarray(pc.greater(pc.binary_length(texts), MAX_BYTES).fill_null(False)
                      .to_numpy(zero_copy_only=False), dtype=bool)
    hashed = np.empty(len(texts), dtype=np.uint64)
    short = np.flatnonzero(~long)
    hashed[short] = pack(texts.take(pa.array(short)) if long.any() else texts).hashes()
    if long.any():
        rows = np.flatnonzero(long)
        hashed[rows] = pd.util.hash_array(
            np.asarray(texts.take(pa.array(rows)).to_pylist(), dtype=object),
            categorize=False)
    return hashed


def all_distinct(texts: pa.Array | pa.ChunkedArray) -> bool | None:
    """True when no text repeats, among texts none of which is blank; None when this cannot
    tell (a blank, a hash shared by two texts, texts too long): then count exactly."""
    packed = pack(texts)
    if packed is None or not packed.valid.all():
        return None
    hashes = np.sort(packed.hashes())
    return True if not (hashes[1:] == hashes[:-1]).any() else None

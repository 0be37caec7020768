"""The shortcuts that read millions of identifiers quickly give the long way's answers.

Two shortcuts, each checked against a hand-written table and against the long way on
random texts (hypothesis):

- ``rxxl._texts.all_distinct`` (are a million claim ids distinct?) says True only when no
  text repeats, and None (count exactly) whenever it cannot be sure;
- ``cells._tidy_status`` lets a text column skip trimming only when trimming would change
  nothing, and the parsed column is the same either way.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl import _texts
from rxxl.data import DataValidationError, cells, load_table
from rxxl.data.contracts import TABLES

# (texts, what all_distinct answers): True only for distinct texts; None when unsure.
DISTINCT = [
    (["C1", "C2", "C3"], True),
    (["C1", "C2", "C1"], None),           # a repeat: the hashes meet, Arrow counts
    (["A", "A\0"], True),                 # padding zeros are no equality: lengths differ
    (["", "A"], True),
    (["A", None], None),                  # a blank: the key check decides, not the hash
    (["X" * 64, "Y" * 64], True),         # the longest packed
    (["X" * 65, "Y" * 65], None),         # too long to pack
    (["héllo", "hello"], True),           # bytes, not characters
    ([], True),                           # none repeats
]


@pytest.mark.parametrize(("texts", "answer"), DISTINCT)
def test_all_distinct_table(texts, answer):
    assert _texts.all_distinct(pa.chunked_array([pa.array(texts, pa.string())],
                                                pa.string())) == answer


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab \0é", max_size=10), max_size=30),
       st.sampled_from([pa.string(), pa.large_string()]))
def test_all_distinct_is_never_wrong(texts, kind):
    answer = _texts.all_distinct(pa.array(texts, kind))
    assert answer in (True, None)
    if answer:
        assert len(set(texts)) == len(texts)


def test_a_repeated_claim_id_is_still_found(tmp_path):
    """End to end: the fast path must not hide a duplicate among a thousand ids."""
    ids = [f"C{i:09d}" for i in range(1000)]
    ids[700] = ids[3]
    pq.write_table(pa.table({"claim_id": ids}), tmp_path / "claims.parquet")
    with pytest.raises(DataValidationError, match="appears on rows 4 and 701"):
        load_table(tmp_path / "claims.parquet", "claims", columns=["claim_id"])


# (texts, whether the column may skip trimming)
TIDY = [
    (["P1", "P2", None], True),
    (["P1", " P2"], False),               # leading space
    (["P1", "P2\t"], False),              # trailing tab
    (["P1", ""], False),                  # empty: becomes blank the long way
    (["P1", "\u00a0P2"], False),          # a no-break space: a UTF-8 edge byte
    (["P1", "é"], False),                 # outside ASCII at the edge: the long way, to be sure
    (["P 1", "x\ty"], True),              # inner spaces stay (trim touches the edges only)
    ([None, None], True),
]


@pytest.mark.parametrize(("texts", "tidy"), TIDY)
def test_tidy_status_table(texts, tidy):
    arr = pa.chunked_array([pa.array(texts, pa.string())], pa.string())
    assert (cells._tidy_status(arr) is not None) == tidy


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="ab \t\u00a0é", max_size=6)),
                max_size=20))
def test_parsing_texts_gives_what_trimming_gives(texts):
    column = TABLES["encounters"].column("patient_id")
    arr = pa.chunked_array([pa.array(texts, pa.string())], pa.string())
    parsed = cells.parse(cells.PlainTextCells(arr), column)
    values = pd.Series(parsed.values, dtype=object)
    expected = [None if t is None or not t.strip() else t.strip() for t in texts]
    assert [None if pd.isna(v) else v for v in values] == [
        None if e is None else _arrow_trim(t) for t, e in zip(texts, expected, strict=True)]
    assert list(parsed.status) == [cells.BLANK if e is None else cells.OK for e in expected]


def _arrow_trim(text: str) -> str | None:
    """Arrow's own trim, the long way's reference."""
    trimmed = pa.compute.utf8_trim_whitespace(pa.array([text])).to_pylist()[0]
    return trimmed or None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="ab\0é", max_size=70)), max_size=20),
       st.lists(st.text(alphabet="ab\0é", max_size=70), max_size=20))
def test_a_text_hashes_alike_in_any_batch(first, second):
    """The report compares the hashed ids of different parts: a text's hash may not depend
    on its neighbours (a longer id widens the packed rows), nor on being long."""
    one, two = _texts.hashes(pa.array(first, pa.string())), _texts.hashes(
        pa.array(second, pa.large_string()))
    for i, text in enumerate(first):
        for j, other in enumerate(second):
            if text == other:
                assert one[i] == two[j]

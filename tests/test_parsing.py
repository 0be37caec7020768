"""One parser for dates, months and numbers: the loader, the metrics and the Excel layer give
the same answer for the same cell (issue 12, items 1, 11, 12 and 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl import roi, udfs
from rxxl._excel import dates_of
from rxxl.constants import (
    EARLIEST_EVENT_DATE,
    EVENT_DATE_DAYS_AHEAD,
    MAX_AMOUNT,
    MAX_QUANTITY,
)
from rxxl.data import DataValidationError, load_table, validate_table
from rxxl.errors import InputError, InputTypeError
from rxxl.parsing import parse_dates, parse_month

VALUE_ERROR = "#VALUE! "


def column(*values):
    return [[v] for v in values]


# --- the proof of one parser: one table through the three layers -----------------------------

# (cell text, the date it means or None if refused, whether it reads only as an Excel serial)
# Worked out by hand: 46326 days after Excel's epoch 1899-12-30 is 2026-10-31 (46326 =
# 45658 (2025-01-01, Microsoft's own example) + 365 + 303, the day of the year of Oct 31 less 1).
TEXTS = [
    ("2026-10-31", "2026-10-31", False),
    ("2026-1-5", "2026-01-05", False),
    ("10/31/2026", "2026-10-31", False),
    ("1/5/2026", "2026-01-05", False),
    (" 2026-10-31 ", "2026-10-31", False),
    ("2026-10-31 13:45", "2026-10-31", False),
    ("2026-10-31T13:45:00", "2026-10-31", False),
    ("2026-10-31T13:45:00Z", "2026-10-31", False),
    ("2026-10-31T23:30:00-05:00", "2026-10-31", False),  # the date as written, not in UTC
    ("10/31/2026 1:45 PM", "2026-10-31", False),
    ("46326", "2026-10-31", True),
    ("46326.75", "2026-10-31", True),
    ("2028-02-29", "2028-02-29", False),
    # refused by every layer
    ("03/04/26", None, False),           # March 4 or April 3, of 1926 or 2026?
    ("10/31/26", None, False),
    ("31/10/2026", None, False),         # day first
    ("2026-W01-1", None, False),         # ISO week date
    ("2026-01-01xyz", None, False),
    ("2026", None, False),               # a year
    ("20260101", None, False),           # YYYYMMDD
    ("2026-10", None, False),            # a month, not a date
    ("2026-02-30", None, False),
    ("2027-02-29", None, False),
    ("Oct 31, 2026", None, False),
    ("31-Oct-2026", None, False),
    ("2026/10/31", None, False),
    ("60", None, False),                 # Excel's phantom 1900-02-29
    ("3000000", None, False),            # beyond Excel's last date
    ("1e4", None, False),
    ("-5", None, False),
    ("tomorrow", None, False),
    ("", None, False),
]


def _loader_answers(texts: list[str], tmp_path: Path) -> list[str | None]:
    """Each text as the start_date of an entity row in a CSV; None where the loader refuses."""
    frame = pd.DataFrame({"entity_id": [f"E{i}" for i in range(len(texts))],
                          "entity_type": "DSH", "start_date": texts, "end_date": ""})
    path = tmp_path / "entity.csv"
    frame.to_csv(path, index=False)
    try:
        loaded = load_table(path, "entity", max_problems=len(texts))
    except DataValidationError as error:
        refused = {problem.row - 2 for problem in error.problems}  # header is line 1
        good = [i for i in range(len(texts)) if i not in refused]
        answers: list[str | None] = [None] * len(texts)
        if good:
            loaded = load_table(frame.iloc[good], "entity")
            for i, day in zip(good, loaded["start_date"], strict=True):
                answers[i] = day.strftime("%Y-%m-%d")
        return answers
    return [day.strftime("%Y-%m-%d") for day in loaded["start_date"]]


def _python_answer(text: str) -> str | None:
    try:
        day = parse_dates([text], "dates")[0]
    except (InputError, InputTypeError):
        return None
    # roi reads its dates through the same parser; an XNPV over two flows confirms it.
    assert roi.xnpv(0.0, [-1, 1], [str(day), text]) == 0.0
    return str(day)


def _excel_answer(text: str) -> str | None:
    try:
        day = dates_of("dates", np.array([text], dtype=object))[0]
    except (InputError, InputTypeError):
        return None
    return str(day)


def test_one_table_of_texts_gets_the_same_answer_from_every_layer(tmp_path):
    loader = _loader_answers([text for text, _, _ in TEXTS], tmp_path)
    for (text, meant, serial), from_file in zip(TEXTS, loader, strict=True):
        assert from_file == meant, f"loader on {text!r}"
        assert _excel_answer(text) == meant, f"Excel layer on {text!r}"
        # From Python a number is no date unless the caller says it is an Excel serial.
        assert _python_answer(text) == (None if serial else meant), f"metrics on {text!r}"
        if meant is not None:
            assert str(parse_dates([text], "dates", serials=True)[0]) == meant


# Cells that are not text: (value, the date it means or None, only as an Excel serial)
VALUES = [
    (dt.date(2026, 10, 31), "2026-10-31", False),
    (dt.datetime(2026, 10, 31, 23, 59), "2026-10-31", False),
    (pd.Timestamp("2026-10-31 08:00"), "2026-10-31", False),
    (pd.Timestamp("2026-10-31 23:30", tz="America/New_York"), "2026-10-31", False),
    (np.datetime64("2026-10-31T08:00"), "2026-10-31", False),
    (46326, "2026-10-31", True),
    (46326.5, "2026-10-31", True),
    (2026, None, False),       # a year typed into a date cell, not 1905-07-18
    (20261031, None, False),   # YYYYMMDD
    (60, None, False),
    (True, None, False),
]


def test_one_table_of_cell_values_gets_the_same_answer_from_every_layer():
    values = [v for v, _, _ in VALUES]
    frame = pd.DataFrame({"entity_id": [f"E{i}" for i in range(len(values))],
                          "entity_type": "DSH", "start_date": pd.Series(values, dtype=object),
                          "end_date": None})
    with pytest.raises(DataValidationError) as caught:
        validate_table(frame, "entity", max_problems=50)
    refused = {problem.row - 1 for problem in caught.value.problems}
    good = [i for i in range(len(values)) if i not in refused]
    loaded = validate_table(frame.iloc[good], "entity")["start_date"].dt.strftime("%Y-%m-%d")
    from_file = dict(zip(good, loaded, strict=True))
    for i, (value, meant, serial) in enumerate(VALUES):
        assert from_file.get(i) == meant, f"loader on {value!r}"
        assert _excel_answer(value) == meant, f"Excel layer on {value!r}"
        try:
            python = str(parse_dates([value], "dates")[0])
        except (InputError, InputTypeError):
            python = None
        assert python == (None if serial else meant), f"metrics on {value!r}"


FORMS = {
    "iso": "{d:%Y-%m-%d}", "us": "{d.month}/{d.day}/{d:%Y}", "iso_time": "{d:%Y-%m-%d}T{d:%H:%M}",
    "us_time": "{d:%m/%d/%Y} {d:%I:%M %p}",
}


@settings(max_examples=30, deadline=None)
@given(st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)),
       st.sampled_from(sorted(FORMS)))
def test_any_date_written_either_way_reads_back_in_every_layer(moment, form):
    text = FORMS[form].format(d=moment)
    day = np.datetime64(moment.date(), "D")
    assert parse_dates([text], "dates")[0] == day
    assert dates_of("dates", np.array([text], dtype=object))[0] == day
    frame = pd.DataFrame({"entity_id": ["E1"], "entity_type": ["DSH"], "start_date": [text],
                          "end_date": [None]})
    assert validate_table(frame, "entity").loc[0, "start_date"] == pd.Timestamp(day)


# --- item 1: each entry point refuses what would have to be guessed ---------------------------

GUESSES = ["03/04/26", "2026-W01-1", "2026-01-01xyz", "2026", "20260101"]


def test_xnpv_refuses_an_ambiguous_date_and_names_it():
    with pytest.raises(InputTypeError, match=r"dates: .*position 1.*'03/04/26'") as caught:
        roi.xnpv(0.1, [-100, 110], ["03/04/26", "04/03/26"])
    assert "2026-10-31" in str(caught.value) and "10/31/2026" in str(caught.value)


@pytest.mark.parametrize("text", GUESSES)
def test_every_entry_point_refuses_a_guess(text, tmp_path):
    with pytest.raises(InputTypeError, match="position 2"):
        roi.xnpv(0.1, [-100, 110], ["2026-01-01", text])
    with pytest.raises(InputTypeError, match="position 2"):
        roi.xirr([-100, 110], ["2026-01-01", text])
    for message in (udfs.RX_XNPV(0.1, column(-100, 110), column("2026-01-01", text)),
                    udfs.RX_XIRR(column(-100, 110), column("2026-01-01", text))):
        assert message.startswith(VALUE_ERROR) and repr(text) in message, message
        assert "cell 2" in message
    assert _loader_answers([text], tmp_path) == [None]


def test_the_message_says_what_a_year_or_yyyymmdd_looks_like():
    with pytest.raises(InputTypeError, match="looks like a year"):
        parse_dates(["2026"], "dates")
    with pytest.raises(InputTypeError, match="2026-01-01"):
        parse_dates(["20260101"], "dates")
    with pytest.raises(InputTypeError, match="two-digit year"):
        parse_dates(["03/04/26"], "dates")


def test_numbers_are_dates_only_where_the_caller_says_they_are_excel_serials():
    with pytest.raises(InputTypeError, match="from_excel_serial"):
        parse_dates([45000], "dates")
    assert str(parse_dates([45000], "dates", serials=True)[0]) == "2023-03-15"
    # The RX_ functions are the Excel layer: a cell holding 45000 is a serial there.
    assert udfs.RX_XNPV(0.0, column(-1, 1), column(45000, 45001)) == 0.0


def test_blank_and_other_types_name_the_position():
    with pytest.raises(InputError, match="position 2 is blank"):
        parse_dates(["2026-01-01", None], "dates")
    with pytest.raises(InputTypeError, match="position 1"):
        parse_dates([object()], "dates")


# --- item 13: months ---------------------------------------------------------------------------


def test_month_accepts_only_yyyy_mm():
    assert parse_month("2026-10", "--month") == pd.Period("2026-10", "M")
    assert parse_month(" 2026-1 ", "--month") == pd.Period("2026-01", "M")
    for text in ["2026", "2026Q4", "2026-10-15", "Oct 2026", "202610", "2026-13", "10/2026",
                 "", "2026-10-01 00:00:00"]:
        with pytest.raises(InputError, match="write it as YYYY-MM"):
            parse_month(text, "--month")


def test_month_from_a_date_where_the_caller_allows_a_date():
    for value in ["2026-10-15", "10/15/2026", "2026-10-01 00:00:00", dt.date(2026, 10, 15),
                  dt.datetime(2026, 10, 1), "2026-10"]:
        assert parse_month(value, "REPORT_MONTH", dates=True) == pd.Period("2026-10", "M")
    for text in ["2026", "2026Q4", "46296"]:
        with pytest.raises(InputError, match="write it as YYYY-MM"):
            parse_month(text, "REPORT_MONTH", dates=True)


@pytest.mark.parametrize("month", ["2026", "2026Q4", "2026-10-15"])
def test_cli_report_refuses_a_month_it_would_guess(month, tmp_path, capsys):
    from rxxl.cli import main

    code = main(["report", "--data", str(tmp_path), "--month", month, "--out",
                 str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--month {month!r}" in err and "YYYY-MM" in err
    assert not (tmp_path / "out").exists()


# --- item 13: a percent sign only in rate columns -----------------------------------------------


def _purchase(**cells) -> pd.DataFrame:
    row = dict(month="2026-10", ndc="00002759701", drug_name="Olanzapine 10 mg vial",
               quantity="12", unit_cost_actual="45.10", account="GPO")
    return pd.DataFrame([{**row, **cells}])


def test_a_percent_sign_in_a_quantity_is_refused():
    with pytest.raises(DataValidationError) as caught:
        validate_table(_purchase(quantity="12%"), "drug_purchases")
    message = caught.value.problems[0].message
    assert 'column "quantity"' in message and '"12%" is not a number' in message
    assert "%" not in message.split("write", 1)[1]  # the form offered has no percent


def test_a_percent_sign_in_a_rate_is_read_as_excel_stores_it():
    rates = pd.DataFrame([dict(request_id="CR-1", request_name="robot", period="0",
                               cash_flow="-1", discount_rate="6.5%")])
    assert validate_table(rates, "capital_requests")["discount_rate"].tolist() == [0.065]


def test_which_columns_take_a_percent_sign():
    from rxxl.data.contracts import TABLES

    percent = {(t.name, c.name) for t in TABLES.values() for c in t.columns if c.percent}
    assert percent == {("capital_requests", "discount_rate")}


# --- item 12: amounts beyond any plausible value ------------------------------------------------


def _budget(**cells) -> pd.DataFrame:
    row = dict(month="2026-10", cost_center="7010", line="Drugs", line_type="expense",
               budget="125000", actual="131250")
    return pd.DataFrame([{**row, **cells}])


@pytest.mark.parametrize("amount", ["1e308", "-1e308", "100000000001", "$1,000,000,000,000"])
def test_an_implausible_amount_is_refused_at_load(amount, tmp_path):
    path = tmp_path / "budget_lines.csv"
    _budget(actual=amount).to_csv(path, index=False)
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "budget_lines")
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (2, "actual")
    assert f'{path}, line 2, column "actual"' in problem.message
    assert "beyond" in problem.message and "100,000,000,000" in problem.message


def test_the_largest_plausible_amount_loads():
    assert MAX_AMOUNT == 1e11
    got = validate_table(_budget(budget=str(MAX_AMOUNT), actual=str(-MAX_AMOUNT)),
                         "budget_lines")
    assert got.loc[0, ["budget", "actual"]].tolist() == [1e11, -1e11]


def test_typed_amounts_and_quantities_are_bounded_too():
    with pytest.raises(DataValidationError, match="beyond"):
        validate_table(_budget(budget=1e308), "budget_lines")
    with pytest.raises(DataValidationError, match="beyond"):
        validate_table(_purchase(quantity=MAX_QUANTITY * 10), "drug_purchases")
    assert validate_table(_purchase(quantity=-MAX_QUANTITY), "drug_purchases")[
        "quantity"].tolist() == [-MAX_QUANTITY]


# --- item 11: dates in Parquet -------------------------------------------------------------------

DAY = dt.date(2026, 10, 1)
DAYS_SINCE_1970 = 20727  # 2026-10-01 - 1970-01-01: 56 years, 14 leap days: 56*365+14+273


def _encounters_parquet(path: Path, dates: pa.Array) -> Path:
    pq.write_table(pa.table({"patient_id": pa.array(["P1"] * len(dates)),
                             "site_id": pa.array(["S1"] * len(dates)),
                             "encounter_date": dates}), path)
    return path


@pytest.mark.parametrize("dates", [
    pa.array([DAY], pa.date32()),
    pa.array([DAY], pa.date64()),
    pa.array([dt.datetime(2026, 10, 1, 13)], pa.timestamp("s")),
    pa.array([dt.datetime(2026, 10, 1, 13)], pa.timestamp("ms")),
    pa.array([dt.datetime(2026, 10, 1, 13)], pa.timestamp("us")),
    pa.array([dt.datetime(2026, 10, 1, 13)], pa.timestamp("ns")),
    pa.array([dt.datetime(2026, 10, 1, 3)], pa.timestamp("us", tz="UTC")),
], ids=["date32", "date64", "ts_s", "ts_ms", "ts_us", "ts_ns", "ts_utc"])
def test_parquet_date_types_are_read_as_dates(dates, tmp_path):
    path = _encounters_parquet(tmp_path / "e.parquet", dates)
    assert load_table(path, "encounters")["encounter_date"].tolist() == [pd.Timestamp(DAY)]


def test_parquet_open_end_dates_are_read():
    table = pa.table({"entity_id": ["E1"], "entity_type": ["DSH"],
                      "start_date": pa.array([dt.date(2020, 1, 1)], pa.date32()),
                      "end_date": pa.array([dt.date(9999, 12, 31)], pa.date32())})
    got = validate_table(table.to_pandas(date_as_object=False), "entity")
    assert got.loc[0, "end_date"] == pd.Timestamp("9999-12-31")


@pytest.mark.parametrize("kind", [pa.int32(), pa.int64(), pa.float64()])
def test_integer_dates_in_parquet_are_refused_not_read_as_serials(kind, tmp_path):
    # Read as an Excel serial, 20727 is 1956-09-29 (1899-12-30 + 20727 days).
    path = _encounters_parquet(tmp_path / "e.parquet", pa.array([DAYS_SINCE_1970], kind))
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "encounters")
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (1, "encounter_date")
    message = problem.message
    assert "days since 1970" in message and "Excel serial" in message
    assert "date32" in message or "date type" in message
    assert "1956" not in message


def test_service_dates_outside_plausible_bounds_name_file_row_and_column(tmp_path):
    from tests.test_data_loading import SAMPLES

    assert EARLIEST_EVENT_DATE == "2000-01-01"
    late = (dt.date.today() + dt.timedelta(days=EVENT_DATE_DAYS_AHEAD + 1)).isoformat()
    ahead = (dt.date.today() + dt.timedelta(days=EVENT_DATE_DAYS_AHEAD)).isoformat()
    frame = pd.DataFrame(SAMPLES["claims"])
    frame["service_date"] = ["1999-12-31", late, ahead]
    path = tmp_path / "claims.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as caught:
        load_table(path, "claims")
    assert caught.value.total == 2
    early, future = caught.value.problems
    assert (early.row, early.column) == (2, "service_date")
    assert f'{path}, line 2, column "service_date"' in early.message
    assert "before 2000-01-01" in early.message
    assert (future.row, future.column) == (3, "service_date")
    assert "after today" in future.message
    frame["service_date"] = ["2000-01-01", ahead, ahead]
    frame.to_csv(path, index=False)
    assert len(load_table(path, "claims")) == 3


def test_a_days_since_1970_serial_mix_up_is_caught_by_the_bounds():
    # The same integers in an Excel sheet are serials, which the loader reads; the bounds
    # catch the mix-up: serial 20727 is 1956-09-29.
    frame = pd.DataFrame({"patient_id": ["P1"], "site_id": ["S1"],
                          "encounter_date": pd.Series([DAYS_SINCE_1970], dtype=object)})
    with pytest.raises(DataValidationError, match="before 2000-01-01"):
        validate_table(frame, "encounters")

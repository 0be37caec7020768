"""The month's commentary (rxxl.reports.commentary): hand-written golden sentences for each
kind of month, the formatter's known values, and properties of every generated text."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxxl.errors import InputError
from rxxl.reports.commentary import (
    DRIVER_WORDS,
    DenialSpike,
    Driver,
    Exceptions,
    Figure,
    KpiFlag,
    MonthFacts,
    drivers_from_table,
    format_figure,
    month_commentary,
)

NAN = float("nan")
OCT = pd.Period("2026-10", "M")


def usd(value: float) -> Figure:
    return Figure(value, "dollars")


def pct(value: float) -> Figure:
    return Figure(value, "percent")


def month(spend: float, budget: float, when: pd.Period = OCT, **rest) -> MonthFacts:
    """A month whose variance is spend - budget and variance % is variance / budget (the
    facts refuse any other); NaN in, NaN out."""
    over = spend - budget
    return MonthFacts(when, usd(spend), usd(budget), usd(over),
                      pct(over / budget if budget else NAN), **rest)


def text(facts: MonthFacts, max_sentences: int = 8) -> list[str]:
    return [s.text for s in month_commentary(facts, max_sentences)]


# --- the formatter: known values, each rounding worked by hand -------------------------------

FORMATS = [
    # value, kind, noun, expected                  # why
    (0, "dollars", None, "$0"),
    (950.4, "dollars", None, "$950"),               # under $1,000: whole dollars
    (999.5, "dollars", None, "$1.0k"),              # 999.5 -> $1,000 (half up) is not < 1,000
    (4_250, "dollars", None, "$4.3k"),              # 4.25k, half up -> 4.3k
    (9_949, "dollars", None, "$9.9k"),              # 9.949k -> 9.9k
    (9_950, "dollars", None, "$10k"),               # 9.95k -> 10.0k is not < 10: whole k
    (671_234, "dollars", None, "$671k"),            # 671.234k -> 671k
    (999_499, "dollars", None, "$999k"),            # 999.499k -> 999k
    (999_500, "dollars", None, "$1.00M"),           # 999.5k -> 1000k is not < 1000: millions
    (2_501_000, "dollars", None, "$2.50M"),         # 2.501M, 2 decimals -> 2.50M
    (1_830_000, "dollars", None, "$1.83M"),
    (9_995_000, "dollars", None, "$10.0M"),         # 9.995M -> 10.00 is not < 10: 1 decimal
    (12_449_999, "dollars", None, "$12.4M"),
    (125_000_000, "dollars", None, "$125M"),
    (999_500_000, "dollars", None, "$1.00B"),
    (-4_250, "dollars", None, "-$4.3k"),
    (-0.3, "dollars", None, "$0"),                  # shows as zero: no "-$0"
    (0.3667, "percent", None, "37%"),               # 36.67% -> whole above 10%
    (0.082, "percent", None, "8.2%"),               # one decimal under 10%
    (0.0995, "percent", None, "10%"),               # 9.95% -> 10.0 is not < 10: whole
    (0.0004, "percent", None, "0.0%"),
    (-0.08, "percent", None, "-8.0%"),
    (12.5, "percent", None, "1,250%"),
    (12, "count", "claim", "12 claims"),
    (1, "count", "claim", "1 claim"),
    (0, "count", "claim", "0 claims"),
    (1_234, "count", "drug line", "1,234 drug lines"),
    (3, "count", "pharmacy", "3 pharmacies"),
    (2, "count", "box", "2 boxes"),
    (7, "count", None, "7"),
    (52.4, "days", None, "52 days"),
    (4.45, "days", None, "4.5 days"),               # half up
    (6.25, "turns", None, "6.3 turns"),             # half up
    (14, "turns", None, "14.0 turns"),
    (NAN, "dollars", None, "n/a"),
]


@pytest.mark.parametrize(("value", "kind", "noun", "expected"), FORMATS)
def test_format_figure_known_values(value, kind, noun, expected):
    assert format_figure(Figure(value, kind, noun=noun)) == expected


def test_format_figure_options():
    assert format_figure(usd(-671_000), sign=False) == "$671k"
    assert format_figure(Figure(10, "turns"), unit=False) == "10.0"
    assert format_figure(Figure(12, "count", noun="claim"), unit=False) == "12"
    assert format_figure(Figure(26, "days"), unit=False) == "26"


# --- golden months ---------------------------------------------------------------------------

DEMO = month(
    2_501_000, 1_830_000,
    drivers=[
        Driver("inventory_timing", None, "RUMC-OP", usd(550_000), pct(0.82)),
        Driver("price", "Privigen", None, usd(110_000), pct(0.164), pct(0.36),
               reason="shortage pricing"),
        Driver("workload_volume", None, "RUMC", usd(48_000), pct(0.07)),
        Driver("account_mix", "Humira", "Clinic B", usd(30_000), pct(0.045),
               accounts="WAC instead of 340B"),
        Driver("utilization", "Keytruda", "Infusion", usd(-40_000), pct(-0.06)),
    ],
    timing_next_month=usd(560_000), capture_340b=usd(42_000),
    kpi_flags=[KpiFlag("Inventory turns", Figure(6.2, "turns"),
                       (Figure(10, "turns"), Figure(14, "turns")), "U", "RUMC-OP"),
               KpiFlag("Generic dispensing rate", pct(0.93), pct(0.9), "F")],
    denial_spike=DenialSpike("Aetna", "prior authorization", pct(0.124), pct(0.041)),
    exceptions=Exceptions(Figure(37, "count"), usd(12_300)),
    not_closed=Figure(2, "count"))

DEMO_TEXT = [
    "Drug spend was $2.50M against a $1.83M budget, $671k (37%) over.",
    "These figures cover closed lines only: 2 drug lines are not closed yet.",
    "Most of it (82%) is timing: a $550k forward buy at RUMC-OP (an inventory build).",
    "Privigen cost 36% more per unit than budgeted (shortage pricing), adding $110k.",
    "Inventory turns at RUMC-OP came in at 6.2 turns, below the band of 10.0 to 14.0 turns.",
    "Denials from Aetna rose to 12% of claims from a 4.1% baseline, mostly for prior"
    " authorization.",
    "The 340B audit flagged 37 claims as exceptions, with $12k at stake.",
    "Expect the $560k of inventory timing across all locations to reverse in November as"
    " the stock is used.",
]


def test_timing_led_month_reads_like_the_director():
    assert text(DEMO) == DEMO_TEXT


def test_the_docs_example_is_the_demo_month():
    doc = Path(__file__).resolve().parents[1] / "docs" / "commentary.md"
    quoted = " ".join(line[2:] for line in doc.read_text(encoding="utf-8").splitlines()
                      if line.startswith("> "))
    assert quoted == " ".join(DEMO_TEXT)


def test_room_for_fewer_sentences_keeps_the_headline_and_the_largest_drivers():
    assert text(DEMO, 5) == [DEMO_TEXT[0], DEMO_TEXT[1], DEMO_TEXT[2], DEMO_TEXT[3],
                             DEMO_TEXT[7]]
    assert text(DEMO, 1) == [DEMO_TEXT[0]]


def test_with_room_the_smaller_drivers_and_340b_capture_follow():
    assert text(DEMO, 20) == DEMO_TEXT[:4] + [
        "More workload than budgeted at RUMC added $48k.",
        "Keytruda use ran below budget for the workload at Infusion, taking $40k off.",
        "Less 340B capture added $42k, the largest item Humira at Clinic B bought on WAC"
        " instead of 340B ($30k).",
    ] + DEMO_TEXT[4:]


def test_timing_without_a_reversal_figure_says_when_it_reverses():
    facts = month(2_501_000, 1_830_000, drivers=[
        Driver("inventory_timing", "Keytruda", "RUMC-OP", usd(550_000), pct(0.82))])
    assert text(facts)[1] == ("Most of it (82%) is timing: a $550k forward buy of Keytruda at"
                              " RUMC-OP (an inventory build), which should reverse as the"
                              " stock is used in November.")


def test_price_led_month_over_budget():
    facts = month(
        2_100_000, 1_900_000,
        drivers=[Driver("price", "Privigen", None, usd(150_000), pct(0.75), pct(0.36),
                        reason="shortage pricing"),
                 Driver("workload_volume", None, "RUMC", usd(40_000), pct(0.2)),
                 Driver("utilization", "Keytruda", "Infusion", usd(-20_000), pct(-0.1))])
    assert text(facts) == [
        "Drug spend was $2.10M against a $1.90M budget, $200k (11%) over.",
        "Most of it (75%) is price: Privigen cost 36% more per unit than budgeted (shortage"
        " pricing), adding $150k.",
        "More workload than budgeted at RUMC added $40k.",
        "Keytruda use ran below budget for the workload at Infusion, taking $20k off.",
    ]


def test_under_budget_month():
    facts = month(
        1_600_000, 1_830_000,
        drivers=[Driver("discontinued_drug", "Zantac", None, usd(-120_000), pct(0.52)),
                 Driver("returns", None, "RUMC", usd(-60_000), pct(0.26)),
                 Driver("price", "Keytruda", None, usd(15_000), pct(-0.065)),
                 Driver("new_drug", "Leqembi", "RUMC", usd(-11_500), pct(0.05))])
    # 15,000 >= 10,000 and >= 5% of 230,000 (11,500): material; so is 11,500 exactly.
    assert text(facts) == [
        "Drug spend was $1.60M against a $1.83M budget, $230k (13%) under.",
        "Most of it (52%) is a discontinued drug: Zantac, budgeted but not bought, took"
        " $120k off.",
        "Returns at RUMC took $60k off.",
        "Higher prices on Keytruda added $15k.",
        "Leqembi, a new drug not in the budget at RUMC, took $12k off (net returns).",
    ]


@pytest.mark.parametrize("variance_", [0.0, 0.3, -0.4])
def test_on_budget_says_so_without_a_zero_dollar_variance(variance_):
    facts = month(1_830_000 + variance_, 1_830_000)
    assert text(facts) == ["Drug spend was $1.83M, on budget."]


#: One driver in a month $1.00M over ($2.83M against $1.83M): share 10% reads alone, share
#: 60% in the month's direction reads after "Most of it (60%) is ...".
DRIVER_SENTENCES = [
    # driver, drug, location, amount, unit cost change, accounts, share -> sentence
    ("price", None, "RUMC", 100_000, 0.05, None, 0.1,
     "Unit costs at RUMC ran 5.0% above budget, adding $100k."),
    ("price", "Humira", None, -100_000, -0.05, None, -0.1,
     "Humira cost 5.0% less per unit than budgeted, saving $100k."),
    ("price", None, None, 600_000, None, None, 0.6,
     "Most of it (60%) is price: higher prices added $600k."),
    ("workload_volume", None, None, -100_000, None, None, -0.1,
     "Less workload than budgeted took $100k off."),
    ("utilization", None, "Infusion", 600_000, None, None, 0.6,
     "Most of it (60%) is utilization: drug use ran above budget for the workload at"
     " Infusion, adding $600k."),
    ("account_mix", None, "Clinic B", 100_000, None, "WAC instead of 340B", 0.1,
     "Buying drugs at Clinic B on WAC instead of 340B added $100k."),
    ("account_mix", "Humira", None, -100_000, None, None, -0.1,
     "A shift in purchasing accounts for Humira took $100k off."),
    ("new_drug", "Leqembi", "RUMC", 600_000, None, None, 0.6,
     "Most of it (60%) is a new drug: Leqembi, not in the budget at RUMC, added $600k."),
    ("new_drug", None, None, 100_000, None, None, 0.1, "New drugs with no budget added $100k."),
    ("discontinued_drug", None, "RUMC", -100_000, None, None, -0.1,
     "Drugs budgeted but not bought at RUMC took $100k off."),
    ("discontinued_drug", "Zantac", None, 100_000, None, None, 0.1,
     "Zantac, no longer in the budget, added $100k."),
    ("returns", "Privigen", "RUMC", -100_000, None, None, -0.1,
     "Returns of Privigen at RUMC took $100k off."),
    ("returns", None, None, 600_000, None, None, 0.6,
     "Most of it (60%) is returns: lower returns than budgeted added $600k."),
    ("inventory_timing", "Keytruda", None, 100_000, None, None, 0.1,
     "Timing added $100k: a forward buy of Keytruda (an inventory build), which should"
     " reverse as the stock is used in November."),
    ("inventory_timing", None, "RUMC-OP", 1_000_000, None, None, 1.0,
     "All of it is timing: a $1.00M forward buy at RUMC-OP (an inventory build), which"
     " should reverse as the stock is used in November."),
]


@pytest.mark.parametrize(("kind", "drug", "where", "amount", "change", "accounts", "share",
                          "expected"), DRIVER_SENTENCES)
def test_each_driver_reads_alone_and_after_a_lead(kind, drug, where, amount, change,
                                                  accounts, share, expected):
    driver = Driver(kind, drug, where, usd(amount), pct(share),
                    None if change is None else pct(change), accounts)
    assert text(month(2_830_000, 1_830_000, drivers=[driver])) == [
        "Drug spend was $2.83M against a $1.83M budget, $1.00M (55%) over.", expected]


def test_close_to_budget_with_offsetting_drivers():
    facts = month(
        1_834_000, 1_830_000, pd.Period("2026-12", "M"),
        drivers=[Driver("price", "Humira", None, usd(60_000), pct(15.0)),
                 Driver("inventory_timing", None, "RUMC-OP", usd(-56_000), pct(-14.0))],
        timing_next_month=usd(-56_000))
    assert text(facts) == [
        "Drug spend was $1.83M against a $1.83M budget, $4.0k (0.2%) over, close to budget.",
        "Higher prices on Humira added $60k.",
        "Timing took $56k off: an inventory draw-down at RUMC-OP (stock used from the shelf"
        " rather than bought).",
        "Expect $56k of catch-up purchases in January to restock what was drawn from"
        " inventory.",
    ]


def test_a_negative_driver_in_an_over_budget_month():
    facts = month(
        1_930_000, 1_830_000,
        drivers=[Driver("inventory_timing", None, "RUMC-OP", usd(-60_000), pct(-0.6)),
                 Driver("price", "Humira", "Clinic B", usd(160_000), pct(1.6), pct(0.12))])
    assert text(facts) == [
        "Drug spend was $1.93M against a $1.83M budget, $100k (5.5%) over.",
        "Price more than explains it: Humira at Clinic B cost 12% more per unit than budgeted,"
        " adding $160k.",
        "Timing took $60k off: an inventory draw-down at RUMC-OP (stock used from the shelf"
        " rather than bought), which purchases should make up in November.",
    ]


def test_zero_and_immaterial_drivers_are_left_out():
    facts = month(
        2_000_000, 1_830_000,
        drivers=[Driver("price", None, None, usd(0), pct(0)),
                 Driver("returns", "Privigen", None, usd(9_999), pct(0.06)),
                 Driver("utilization", None, None, usd(NAN), pct(NAN))])
    assert text(facts) == [
        "Drug spend was $2.00M against a $1.83M budget, $170k (9.3%) over.",
        "No single driver stands out: the variance is spread across many lines.",
    ]


def test_no_drivers_at_all():
    facts = month(2_000_000, 1_830_000)
    assert text(facts) == [
        "Drug spend was $2.00M against a $1.83M budget, $170k (9.3%) over.",
        "No driver detail is available to explain it.",
    ]


def test_month_without_purchases():
    facts = month(0, 1_830_000)
    assert text(facts) == ["No drug spend was posted this month against a $1.83M budget."]


def test_spend_not_available_while_lines_are_open():
    facts = month(NAN, 1_830_000, not_closed=Figure(3, "count"))
    assert text(facts) == ["Drug spend for the month is not available yet.",
                           "The month is still open: 3 drug lines are not closed yet."]


def test_one_line_not_closed_and_no_budget():
    facts = month(2_501_000, NAN, not_closed=Figure(1, "count"))
    assert text(facts) == ["Drug spend was $2.50M, with no drug budget for the month.",
                           "These figures cover closed lines only: 1 drug line is not closed"
                           " yet."]


def test_net_credit_month():
    facts = month(-5_000, 10_000)
    assert text(facts) == ["Drug spend was a net credit of $5.0k (returns above purchases)"
                           " against a $10k budget, $15k (150%) under.",
                           "No driver detail is available to explain it."]


def test_kpis_denials_and_exceptions():
    facts = month(
        1_830_000, 1_830_000,
        kpi_flags=[KpiFlag("Days on hand", Figure(52, "days"),
                           (Figure(26, "days"), Figure(37, "days")), "U", "Clinic B"),
                   KpiFlag("initial denial rate", pct(0.061), pct(0.05), "U"),
                   KpiFlag("Inventory turns", Figure(12, "turns"),
                           (Figure(10, "turns"), Figure(14, "turns")), "F"),
                   KpiFlag("340B savings", usd(NAN), None, "U")],
        denial_spike=DenialSpike("Medicaid", None, pct(0.09)),
        exceptions=Exceptions(Figure(1, "count"), usd(NAN)))
    assert text(facts) == [
        "Drug spend was $1.83M, on budget.",
        "Days on hand at Clinic B came in at 52 days, above the band of 26 to 37 days.",
        "Initial denial rate came in at 6.1%, above the 5.0% target.",
        "Denials from Medicaid spiked to 9.0% of claims.",
        "The 340B audit flagged 1 claim as an exception.",
    ]


def test_no_exceptions_no_sentence():
    facts = month(1_830_000, 1_830_000, exceptions=Exceptions(Figure(0, "count"), usd(0)),
                  not_closed=Figure(0, "count"))
    assert text(facts) == ["Drug spend was $1.83M, on budget."]


def test_340b_capture():
    over = month(2_000_000, 1_830_000,
                 drivers=[Driver("account_mix", "Humira", None, usd(-25_000), pct(-0.15),
                                 accounts="340B instead of WAC")],
                 capture_340b=usd(-25_000))
    assert text(over)[1:] == ["More 340B capture saved $25k: Humira bought on 340B instead of"
                              " WAC."]
    small = month(2_000_000, 1_830_000,
                  drivers=[Driver("account_mix", "Humira", None, usd(30_000), pct(0.18))],
                  capture_340b=usd(5_000))
    # capture is immaterial ($5k < $10k): not said, nor is its account-mix item.
    assert text(small)[1:] == ["No single driver stands out: the variance is spread across"
                               " many lines."]
    alone = month(2_000_000, 1_830_000,
                  drivers=[Driver("account_mix", "Humira", "Clinic B", usd(30_000), pct(0.18),
                                  accounts="WAC instead of 340B")])
    assert text(alone)[1:] == ["Buying Humira at Clinic B on WAC instead of 340B added $30k."]


def test_every_sentence_lists_the_figures_it_prints_with_their_cells():
    facts = MonthFacts(OCT, Figure(2_501_000, "dollars", "'Summary'!$C$5"),
                       Figure(1_830_000, "dollars", "'Summary'!$D$5"),
                       Figure(671_000, "dollars", "'Summary'!$E$5"),
                       Figure(671_000 / 1_830_000, "percent", "'Summary'!$F$5"))
    headline = month_commentary(facts)[0]
    assert [f.cell for f in headline.figures] == [
        "'Summary'!$C$5", "'Summary'!$D$5", "'Summary'!$E$5", "'Summary'!$F$5"]
    assert headline.topic == "headline"


def test_drivers_from_table():
    rows = pd.DataFrame({
        "driver": ["inventory_timing", "price"], "drug": [None, "Privigen"],
        "location": ["RUMC-OP", None], "amount": [550_000.0, 110_000.0],
        "share_of_variance": [0.82, 0.164], "unit_cost_change": [NAN, 0.36],
        "accounts": [None, None]})
    drivers = drivers_from_table(rows, ["'Drivers'!$K$7", "'Drivers'!$K$8"],
                                 ["'Drivers'!$L$7", "'Drivers'!$L$8"])
    assert drivers[0] == Driver("inventory_timing", None, "RUMC-OP",
                                Figure(550_000, "dollars", "'Drivers'!$K$7"),
                                Figure(0.82, "percent", "'Drivers'!$L$7"))
    assert drivers[1].unit_cost_change == Figure(0.36, "percent")
    with pytest.raises(InputError, match="share_of_variance"):
        drivers_from_table(rows.drop(columns="share_of_variance"))
    with pytest.raises(InputError, match="one cell per row"):
        drivers_from_table(rows, ["'Drivers'!$K$7"])


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Figure(1.0, "euros"), "kind 'euros'"),
    (lambda: Figure(math.inf, "dollars"), "infinite"),
    (lambda: Figure(True, "count"), "must be a number"),
    (lambda: Figure("12", "count"), "must be a number"),
    (lambda: Figure(2.5, "count"), "whole number"),
    (lambda: Driver("mix", None, None, usd(1), pct(1)), "'mix' is not one of"),
    (lambda: KpiFlag("GDR", pct(0.8), pct(0.9), "bad"), "flag 'bad'"),
    (lambda: MonthFacts("October", usd(1), usd(1), usd(0), pct(0)), "is not a month"),
    (lambda: MonthFacts(pd.Period("2026Q4", "Q"), usd(1), usd(1), usd(0), pct(0)),
     "is not a month"),
    (lambda: month_commentary(DEMO, 0), "max_sentences"),
    (lambda: month_commentary(DEMO, 2.5), "max_sentences"),
    (lambda: month_commentary(DEMO, True), "max_sentences"),
])
def test_bad_input_raises_input_error(build, message):
    with pytest.raises(InputError, match=message):
        build()


def test_a_variance_that_is_not_spend_less_budget_is_refused():
    with pytest.raises(InputError, match="variance is not spend - budget"):
        MonthFacts(OCT, usd(1_600_000), usd(1_830_000), usd(230_000), pct(0.1257))
    with pytest.raises(InputError, match="variance_pct is not variance / budget"):
        MonthFacts(OCT, usd(1_600_000), usd(1_830_000), usd(-230_000), pct(-12.57))
    # a missing piece is not checked: it is said to be missing
    MonthFacts(OCT, usd(1_600_000), usd(NAN), usd(NAN), pct(NAN))


def test_month_accepts_text():
    assert MonthFacts("2026-10", usd(1), usd(1), usd(0), pct(0)).month == OCT


# --- properties of every generated text ------------------------------------------------------

#: A number in the text: a $-amount with its k/M/B, or a plain number with an optional %.
#: "340B" (the program's name) is a word, not a number.
NUMBER = re.compile(r"(?<![\w$.,])(\$\d+(?:[.,]\d+)*[kMB]?|\d+(?:[.,]\d+)*%?)(?!\w)")

names = st.sampled_from(["Privigen", "Keytruda", "Humira", "RUMC-OP", "Clinic B", "Infusion"])
maybe_name = st.none() | names
money = st.one_of(st.just(0.0), st.just(NAN), st.floats(-5e6, 5e6), st.floats(-2e4, 2e4),
                  st.floats(-1, 1))
fraction = st.one_of(st.just(0.0), st.just(NAN), st.floats(-3, 3), st.floats(-0.2, 0.2))
counts = st.one_of(st.just(NAN), st.integers(0, 3), st.integers(0, 5000)).map(float)


class Cells:
    """Gives every generated figure its own cell, so a printed figure can be traced back."""

    def __init__(self) -> None:
        self.made: dict[str, Figure] = {}

    def __call__(self, value: float, kind: str, noun: str | None = None) -> Figure:
        figure = Figure(value, kind, f"'Sheet'!$A${len(self.made) + 1}", noun)
        self.made[figure.cell] = figure
        return figure


@st.composite
def month_facts(draw) -> tuple[MonthFacts, Cells]:
    cell = Cells()
    drivers = [Driver(draw(st.sampled_from(sorted(DRIVER_WORDS))), draw(maybe_name),
                      draw(maybe_name), cell(draw(money), "dollars"),
                      cell(draw(fraction), "percent"),
                      draw(st.none() | fraction.map(lambda v: cell(v, "percent"))),
                      draw(st.none() | st.just("WAC instead of 340B")),
                      draw(st.none() | st.just("shortage pricing")))
               for _ in range(draw(st.integers(0, 6)))]
    measure, kind, low, high = draw(st.sampled_from([
        ("Inventory turns", "turns", 10.0, 14.0), ("Days on hand", "days", 26.0, 37.0),
        ("Initial denial rate", "percent", 0.0, 0.05)]))
    low, high = cell(low, kind), cell(high, kind)
    flags = [KpiFlag(measure, cell(draw(st.floats(0, 40)), kind),
                     draw(st.sampled_from([(low, high), high, None])),
                     draw(st.sampled_from(["F", "U", None])), draw(maybe_name))
             for _ in range(draw(st.integers(0, 3)))]
    spend, budget = draw(money), draw(money)
    # the facts hold variance = spend - budget, variance % = variance / |budget| (or missing)
    over = draw(st.sampled_from([spend - budget, NAN]))
    share = over / abs(budget) if abs(budget) >= 0.01 else NAN  # no overflow to inf
    facts = MonthFacts(
        pd.Period(draw(st.sampled_from(["2026-10", "2026-12", "2027-01"])), "M"),
        cell(spend, "dollars"), cell(budget, "dollars"), cell(over, "dollars"),
        cell(draw(st.sampled_from([share, NAN])), "percent"), drivers,
        draw(st.none() | money.map(lambda v: cell(v, "dollars"))),
        draw(st.none() | money.map(lambda v: cell(v, "dollars"))),
        flags,
        draw(st.none() | st.builds(DenialSpike, names, st.none() | st.just("coding"),
                                   fraction.map(lambda v: cell(v, "percent")),
                                   st.none() | fraction.map(lambda v: cell(v, "percent")))),
        draw(st.none() | st.builds(Exceptions, counts.map(lambda v: cell(v, "count", "claim")),
                                   st.none() | money.map(lambda v: cell(v, "dollars")))),
        draw(st.none() | counts.map(lambda v: cell(v, "count"))))
    return facts, cell


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(month_facts(), st.integers(1, 10))
def test_every_number_in_the_text_is_a_figure_of_the_facts(generated, max_sentences):
    facts, cells = generated
    sentences = month_commentary(facts, max_sentences)
    assert 1 <= len(sentences) <= max_sentences
    assert sentences[0].topic == "headline"
    for sentence in sentences:
        printed = NUMBER.findall(sentence.text)
        expected = [format_figure(f, sign=False, unit=False) for f in sentence.figures]
        assert printed == expected, sentence.text
        for figure in sentence.figures:
            made = cells.made[figure.cell]  # a figure of the facts, by its cell
            assert (figure.value, figure.kind) == (made.value, made.kind)
            assert not figure.missing
    assert month_commentary(facts, max_sentences) == sentences  # deterministic


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(month_facts())
def test_every_text_reads_cleanly(generated):
    facts, _ = generated
    for sentence in month_commentary(facts, 10):
        words = sentence.text
        assert words[0].isupper() and words.endswith(".") and not words.endswith(".."), words
        for bad in ("nan", "None", "n/a", "-$", "$0 ", "$0.", "$0,", " 1 claims", " 1 drug lines",
                    "  ", " ,", " .", ",.", ":.", "( ", " )", " and.", " and,", "over, close"
                    " to budget.under"):
            assert bad not in words, (bad, words)
        assert not re.search(r"\b(\w+) \1\b", words), words  # no "a a", "the the"
        if sentence.topic not in ("kpi", "denials"):  # a band or a baseline may be 0%
            assert not re.search(r"(?<![\w.])0(\.0)?%", words), words  # no "0%" or "0.0%"

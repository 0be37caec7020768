"""The month's written commentary: a few plain-English sentences a pharmacy director can read
out to the CFO, built from the package's own figures (issue 14, "The commentary").

The engine is pure text: it takes :class:`MonthFacts` (each number a :class:`Figure` that
knows the cell of the package showing it) and returns :class:`Sentence` objects. It never
computes a number that it prints: every number in the text is one figure of the facts,
printed by the one formatter :func:`format_figure`, and each sentence lists the figures it
prints, in order, so the report can link or check every number against its cell. A sentence
that needs a number the facts lack is not written; the fix is to add the number to the facts.

What the text says, in this order
    1. The headline: spend against budget and the variance in dollars and percent, with the
       direction in words ("over", "under", "on budget"; never "-$5k over").
    2. Drug lines not yet closed, when there are any (the figures cover closed lines only).
    3. The material drivers, largest first, each with its dollars and where (drug, location,
       account): timing called timing, price with its unit-cost change, workload, utilization,
       new and discontinued drugs, returns. The first driver carries "Most of it (82%) is ..."
       when it explains at least half of the variance in the same direction.
    4. 340B capture (the account-mix total), when material, naming its largest item.
    5. Unfavorable KPIs (inventory outside its band at a location, a rate past its target),
       a denial spike at a payer, 340B audit exceptions.
    6. What reverses next month (the timing total).

Which sentences are kept
    ``max_sentences`` caps the count; the headline is always kept. When there are more
    candidates than room, a fixed priority decides (headline, lines not closed, the two
    largest drivers, the reversal, the denial spike, inventory bands, exceptions, then the
    rest), and the kept sentences are printed in the order above. Same facts, same text.

Materiality (:data:`rxxl.constants.MATERIALITY_AMOUNT`, :data:`~rxxl.constants.MATERIALITY_PERCENT`)
    The month's variance is *material* by :func:`rxxl.variance.is_material` (both $10k and
    5% of budget). A driver, the 340B capture total and the timing reversal are material when
    their dollars are at least $10k **and** at least 5% of the month's variance (any share
    when the variance is zero, since offsetting drivers are then the story). Immaterial items
    are left out; a zero or missing one always is.

NaN / missing policy
    A figure whose value is NaN is missing: the sentence (or the part of it) that would print
    it is left out, never printed as "nan" or 0. Missing spend reads "Drug spend for the month
    is not available yet."; a missing or zero budget reads "with no drug budget". An
    infinite value, an unknown figure kind or driver, a fractional count, a variance that is
    not spend - budget (or a variance % that is not variance / budget), or a
    ``max_sentences`` below 1 raise :class:`~rxxl.errors.InputError`.

References
----------
.. [1] Schumock GT et al., "National trends in prescription drug expenditures and
   projections for 2016", *Am J Health-Syst Pharm* 73 (2016) e357 (ASHP's annual report: drug
   expense growth told as price, utilization and new drugs), https://doi.org/10.2146/ajhp160205
.. [2] rxxl ``shared/DOMAIN.md`` §1 (variance sign and materiality) and ``shared/REPORT.md``
   (executive summary).

Examples
--------
>>> facts = MonthFacts(
...     month=pd.Period("2026-10", "M"),
...     spend=Figure(2_501_000, "dollars"), budget=Figure(1_830_000, "dollars"),
...     variance=Figure(671_000, "dollars"), variance_pct=Figure(671 / 1830, "percent"),
...     drivers=[Driver("inventory_timing", None, "RUMC-OP", Figure(550_000, "dollars"),
...                     Figure(0.82, "percent"))])
>>> print(" ".join(s.text for s in month_commentary(facts)))  # doctest: +NORMALIZE_WHITESPACE
Drug spend was $2.50M against a $1.83M budget, $671k (37%) over. Most of it (82%) is
timing: a $550k forward buy at RUMC-OP (an inventory build), which should reverse as the
stock is used in November.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from rxxl import variance
from rxxl.constants import FAVORABLE, MATERIALITY_AMOUNT, MATERIALITY_PERCENT, UNFAVORABLE
from rxxl.errors import InputError
from rxxl.parsing import parse_month

DOLLARS, PERCENT, COUNT, DAYS, TURNS = "dollars", "percent", "count", "days", "turns"
KINDS = (DOLLARS, PERCENT, COUNT, DAYS, TURNS)

#: The drivers of :func:`rxxl.drug_bridge.largest_drivers`, and the word a lead-in uses.
DRIVER_WORDS = {
    "inventory_timing": "timing", "returns": "returns", "new_drug": "a new drug",
    "discontinued_drug": "a discontinued drug", "workload_volume": "workload",
    "utilization": "utilization", "account_mix": "account mix", "price": "price",
}


# --- the facts --------------------------------------------------------------------------------

def _check_value(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what}: the value must be a number (got {type(value).__name__});"
                         " pass NaN for a figure that is missing")
    value = float(value)
    if math.isinf(value):
        raise InputError(f"{what}: the value is infinite; pass NaN for a figure that is"
                         " missing or undefined")
    return value


@dataclass(frozen=True)
class Figure:
    """A number the commentary may print, and the cell of the package that shows it.

    ``value`` is in the figure's own unit: dollars, a fraction for percent (0.37 is 37%), a
    whole number for a count, days, or turns a year. NaN means missing. ``noun`` names what a
    count counts, singular ("claim", "drug line"); :func:`format_figure` makes it plural.
    """

    value: float
    kind: str
    cell: str | None = None
    noun: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"Figure kind {self.kind!r} is not one of {', '.join(KINDS)}")
        value = _check_value(self.value, f"Figure ({self.kind}, cell {self.cell})")
        if self.kind == COUNT and not math.isnan(value) and value != round(value):
            raise InputError(f"Figure (count, cell {self.cell}): a count must be a whole"
                             " number; round it where it is computed")
        object.__setattr__(self, "value", value)

    @property
    def missing(self) -> bool:
        return math.isnan(self.value)


@dataclass(frozen=True)
class Driver:
    """One row of the drug-spend bridge's largest drivers, with its figures.

    ``amount`` is the driver's dollars (actual - budget: positive adds to spend), ``share``
    its share of the month's variance. ``unit_cost_change`` (price drivers) is actual against
    budget unit cost as a fraction; ``accounts`` (account mix) says which way the buying
    moved, e.g. "WAC instead of 340B"; ``reason``, when known, a cause in a few words
    ("shortage pricing"), printed in parentheses.
    """

    driver: str
    drug: str | None
    location: str | None
    amount: Figure
    share: Figure
    unit_cost_change: Figure | None = None
    accounts: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.driver not in DRIVER_WORDS:
            raise InputError(f"Driver {self.driver!r} is not one of "
                             f"{', '.join(DRIVER_WORDS)}; use the names of largest_drivers")


@dataclass(frozen=True)
class KpiFlag:
    """A KPI tile's flag: ``target`` is one figure, or (low, high) for a band KPI."""

    measure: str
    value: Figure
    target: Figure | tuple[Figure, Figure] | None
    flag: str | None
    where: str | None = None

    def __post_init__(self) -> None:
        if self.flag not in (FAVORABLE, UNFAVORABLE, None):
            raise InputError(f"KpiFlag {self.measure!r}: flag {self.flag!r} is not"
                             f" {FAVORABLE!r}, {UNFAVORABLE!r} or None")


@dataclass(frozen=True)
class DenialSpike:
    """A payer whose denial rate is out of control this month (rate and its baseline)."""

    payer: str
    reason: str | None
    rate: Figure
    baseline: Figure | None = None


@dataclass(frozen=True)
class Exceptions:
    """The 340B audit's exceptions of the month: claims (a count) and dollars at stake."""

    claims: Figure
    dollars: Figure | None = None


@dataclass(frozen=True)
class MonthFacts:
    """Everything the commentary may say about a month; lists are stored as tuples."""

    month: pd.Period
    spend: Figure
    budget: Figure
    variance: Figure
    variance_pct: Figure
    drivers: Sequence[Driver] = ()
    timing_next_month: Figure | None = None
    capture_340b: Figure | None = None
    kpi_flags: Sequence[KpiFlag] = ()
    denial_spike: DenialSpike | None = None
    exceptions: Exceptions | None = None
    not_closed: Figure | None = None

    def __post_init__(self) -> None:
        month = self.month
        if not (isinstance(month, pd.Period) and month.freqstr == "M"):
            month = parse_month(month, "MonthFacts month")  # the one rule: YYYY-MM, no guess
        object.__setattr__(self, "month", month)
        self._check_variance()
        object.__setattr__(self, "drivers", tuple(self.drivers))
        object.__setattr__(self, "kpi_flags", tuple(self.kpi_flags))

    def _check_variance(self) -> None:
        """The headline says "over" or "under" from the variance figure, so a variance that
        is not spend - budget (a sign flipped, budget - actual) would print a wrong word."""
        spend, budget = self.spend.value, self.budget.value
        over, share = self.variance.value, self.variance_pct.value
        if not math.isnan(spend + budget + over) and not math.isclose(
                over, spend - budget, rel_tol=1e-9, abs_tol=0.005):
            raise InputError("MonthFacts variance is not spend - budget; pass actual - budget"
                             " (positive = over budget), as rxxl.variance.variance gives it")
        if not math.isnan(budget + over + share) and budget != 0 and not math.isclose(
                share, over / abs(budget), rel_tol=1e-6, abs_tol=1e-9):
            raise InputError("MonthFacts variance_pct is not variance / budget; pass it as a"
                             " fraction (0.37 for 37%), as rxxl.variance.variance_pct gives it")


@dataclass(frozen=True)
class Sentence:
    """One sentence of the commentary and the figures it prints, in the order printed."""

    text: str
    figures: tuple[Figure, ...] = ()
    topic: str = ""


# --- the one formatter -------------------------------------------------------------------------

def _round(value: float, digits: int) -> Decimal:
    """Half-up rounding, as a reader rounds ($2.5k is $3k, not banker's $2k)."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


#: (scale, decimals, limit, suffix): a magnitude prints at the first step whose *rounded*
#: value stays under the limit, so $999.6k is "$1.00M", never "$1000k", and 9.96% is "10%".
_Steps = Sequence[tuple[float, int, float, str]]
_DOLLAR_STEPS: _Steps = [
    (1, 0, 1000, ""), (1e3, 1, 10, "k"), (1e3, 0, 1000, "k"), (1e6, 2, 10, "M"),
    (1e6, 1, 100, "M"), (1e6, 0, 1000, "M"), (1e9, 2, 10, "B"), (1e9, 1, 100, "B"),
    (1e9, 0, math.inf, "B")]
_PERCENT_STEPS: _Steps = [(0.01, 1, 10, "%"), (0.01, 0, math.inf, "%")]
_DAYS_STEPS: _Steps = [(1, 1, 10, ""), (1, 0, math.inf, "")]
_TURNS_STEPS: _Steps = [(1, 1, math.inf, "")]


def _scaled(magnitude: float, steps: _Steps) -> str:
    for scale, digits, limit, suffix in steps:
        rounded = _round(magnitude / scale, digits)
        if rounded < limit:
            return f"{rounded:,.{digits}f}{suffix}"
    raise AssertionError("the last step has no limit")  # pragma: no cover


def _plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    return noun + "s"


def format_figure(figure: Figure, *, sign: bool = True, unit: bool = True) -> str:
    """A figure as the commentary prints it: the one formatter of the text.

    =========  ===========================================================================
    kind       printed as
    =========  ===========================================================================
    dollars    under $1,000 whole dollars ("$950"); under $10k one decimal of k ("$4.2k");
               then whole k ("$671k"); millions with 2, 1 or 0 decimals under $10M, $100M,
               $1B ("$2.50M", "$12.4M", "$125M"); then billions alike
    percent    a fraction shown as percent: one decimal under 10% ("8.2%"), else whole ("37%")
    count      whole, with thousands separators and its noun ("12 claims", "1 claim")
    days       one decimal under 10, else whole ("4.5 days", "52 days")
    turns      one decimal ("6.2 turns")
    =========  ===========================================================================

    Rounding is half up. A negative value gets a leading "-" (``sign=False`` prints the
    magnitude: the commentary says the direction in words). ``unit=False`` leaves out a
    count's, days' or turns' noun (the low end of a band, "10.0 to 14.0 turns"). A missing
    figure prints "n/a".

    Examples
    --------
    >>> format_figure(Figure(671_234, "dollars"))
    '$671k'
    >>> format_figure(Figure(2_501_000, "dollars")), format_figure(Figure(999_600, "dollars"))
    ('$2.50M', '$1.00M')
    >>> credit = Figure(-4_250, "dollars")
    >>> format_figure(credit), format_figure(credit, sign=False)
    ('-$4.3k', '$4.3k')
    >>> format_figure(Figure(0.3667, "percent")), format_figure(Figure(0.082, "percent"))
    ('37%', '8.2%')
    >>> [format_figure(Figure(n, "count", noun="claim")) for n in (12, 1)]
    ['12 claims', '1 claim']
    >>> format_figure(Figure(6.21, "turns")), format_figure(Figure(10, "turns"), unit=False)
    ('6.2 turns', '10.0')
    >>> format_figure(Figure(float("nan"), "days"))
    'n/a'
    """
    if figure.missing:
        return "n/a"
    magnitude = abs(figure.value)
    noun = None
    if figure.kind == DOLLARS:
        text = "$" + _scaled(magnitude, _DOLLAR_STEPS)
    elif figure.kind == PERCENT:
        text = _scaled(magnitude, _PERCENT_STEPS)
    elif figure.kind == COUNT:
        text = f"{int(_round(magnitude, 0)):,}"
        noun = figure.noun and (figure.noun if text == "1" else _plural(figure.noun))
    elif figure.kind == DAYS:
        text = _scaled(magnitude, _DAYS_STEPS)
        noun = "days"  # under 10 days prints a decimal ("1.0 days"), so never singular
    else:
        text = _scaled(magnitude, _TURNS_STEPS)
        noun = "turns"
    if unit and noun:
        text = f"{text} {noun}"
    negative = figure.value < 0 and any(c in "123456789" for c in text)
    return "-" + text if sign and negative else text


# --- building sentences ------------------------------------------------------------------------

def _shows(figure: Figure | None) -> bool:
    """Whether the figure is present and prints as something other than zero."""
    return figure is not None and not figure.missing and any(
        c in "123456789" for c in format_figure(figure, unit=False))


class _Text:
    """A sentence under construction: each number goes in through :meth:`num`, so the text
    and its figures cannot drift apart."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.figures: list[Figure] = []

    def add(self, *texts: str) -> _Text:
        self.parts.extend(texts)
        return self

    def num(self, figure: Figure, *, unit: bool = True) -> _Text:
        self.figures.append(figure)
        self.parts.append(format_figure(figure, sign=False, unit=unit))
        return self

    def sentence(self, topic: str) -> Sentence:
        text = "".join(self.parts).strip()
        text = text[0].upper() + text[1:]
        return Sentence(text if text.endswith(".") else text + ".", tuple(self.figures), topic)


def _at(where: str | None) -> str:
    return f" at {where}" if where else ""


def _material(amount: Figure | None, month_variance: Figure) -> bool:
    """Material: at least MATERIALITY_AMOUNT dollars and MATERIALITY_PERCENT of the month's
    variance (any share when the variance is zero or missing)."""
    if not _shows(amount) or abs(amount.value) < MATERIALITY_AMOUNT:
        return False
    base = month_variance.value
    return (math.isnan(base) or base == 0
            or abs(amount.value) >= MATERIALITY_PERCENT * abs(base))


def _headline(facts: MonthFacts) -> Sentence:
    spend, budget, over = facts.spend, facts.budget, facts.variance
    text = _Text()
    if spend.missing:
        return text.add("Drug spend for the month is not available yet").sentence("headline")
    has_budget = _shows(budget) and budget.value > 0
    if not _shows(spend):
        text.add("No drug spend was posted this month")
        if has_budget:
            text.add(" against a ").num(budget).add(" budget")
        return text.sentence("headline")
    text.add("Drug spend was ")
    if spend.value < 0:
        text.add("a net credit of ").num(spend).add(" (returns above purchases)")
    else:
        text.num(spend)
    if not has_budget:
        return text.add(", with no drug budget for the month").sentence("headline")
    if not _shows(over):
        return text.add(", on budget").sentence("headline")
    text.add(" against a ").num(budget).add(" budget, ").num(over)
    if _shows(facts.variance_pct):
        text.add(" (").num(facts.variance_pct).add(")")
    text.add(" over" if over.value > 0 else " under")
    if not variance.is_material(spend.value, budget.value):
        text.add(", close to budget")
    return text.sentence("headline")


def _driver_body(d: Driver, led: bool, reversal_said: bool,
                 next_month: str) -> tuple[_Text, bool]:
    """The driver's clause, and whether it starts with a name (kept capitalized after a
    colon). Positive amounts add to spend; negative ones take it off, said in words."""
    up, t, amount = d.amount.value > 0, _Text(), d.amount
    where = _at(d.location)
    of_drug = f" of {d.drug}" if d.drug else ""
    reason = f" ({d.reason})" if d.reason else ""
    effect = " added " if up else " took "
    off = "" if up else " off"
    kind = d.driver
    if kind == "inventory_timing":
        # After a lead ("Most of it is timing: ") the amount goes with the buy; alone, the
        # sentence names the timing first so it is not a fragment.
        what = "forward buy" if up else "inventory draw-down"
        if led:
            t.add("a ").num(amount).add(f" {what}")
        else:
            t.add(f"timing{effect}").num(amount).add(f"{off}: a{'n' if not up else ''} {what}")
        t.add(f"{of_drug}{where} ")
        t.add("(an inventory build)" if up else "(stock used from the shelf rather than bought)")
        if not reversal_said:
            t.add(f", which should reverse as the stock is used in {next_month}" if up
                  else f", which purchases should make up in {next_month}")
        return t, False
    if kind == "price":
        change = d.unit_cost_change
        if _shows(change):
            more = change.value > 0
            if d.drug:
                t.add(f"{d.drug}{where} cost ").num(change)
                t.add(f" {'more' if more else 'less'} per unit than budgeted{reason}, ")
            else:
                t.add(f"unit costs{where} ran ").num(change)
                t.add(f" {'above' if more else 'below'} budget{reason}, ")
            t.add("adding " if up else "saving ").num(amount)
            return t, bool(d.drug)
        t.add("higher" if up else "lower").add(f" prices{' on ' + d.drug if d.drug else ''}"
                                               f"{where}{reason}{effect}").num(amount).add(off)
        return t, False
    if kind == "workload_volume":
        t.add("more" if up else "less").add(f" workload than budgeted{where}"
                                            f"{' for ' + d.drug if d.drug else ''}{effect}")
        return t.num(amount).add(off), False
    if kind == "utilization":
        t.add(f"{d.drug or 'drug'} use ran {'above' if up else 'below'} budget for the"
              f" workload{where}, {'adding' if up else 'taking'} ").num(amount).add(off)
        return t, bool(d.drug)
    if kind == "account_mix":
        if d.accounts:
            t.add(f"buying {d.drug or 'drugs'}{where} on {d.accounts}{effect}")
        else:
            t.add(f"a shift in purchasing accounts{' for ' + d.drug if d.drug else ''}"
                  f"{where}{effect}")
        return t.num(amount).add(off), False
    if kind == "new_drug":
        if d.drug:  # after "Most of it is a new drug: " the name needs no "a new drug" again
            t.add(f"{d.drug}, {'not in' if led else 'a new drug not in'} the budget{where},"
                  f"{effect}")
        else:
            t.add(f"new drugs with no budget{where}{effect}")
        t.num(amount).add(off if up else " off (net returns)")
        return t, bool(d.drug)
    if kind == "discontinued_drug":
        if d.drug:
            t.add(f"{d.drug}, " + ("no longer in the budget" if up
                                   else "budgeted but not bought") + f"{where},{effect}")
        else:
            t.add(("discontinued drugs" if up else "drugs budgeted but not bought")
                  + f"{where}{effect}")
        return t.num(amount).add(off), bool(d.drug)
    # returns: a negative amount is credits coming back; positive, fewer credits than budgeted
    if up:
        t.add(f"lower returns{of_drug}{where} than budgeted added ")
    else:
        t.add(f"returns{of_drug}{where} took ")
    return t.num(amount).add(off), False


def _lead(d: Driver, month_variance: Figure, material_month: bool) -> _Text | None:
    """ "Most of it (82%) is timing: " when the first driver explains at least half of a
    material variance in its direction."""
    share = d.share
    if not (material_month and _shows(share) and _shows(month_variance)
            and (d.amount.value > 0) == (month_variance.value > 0) and share.value >= 0.5):
        return None
    word = DRIVER_WORDS[d.driver]
    shown = format_figure(share, sign=False)
    if shown == "100%":
        return _Text().add(f"All of it is {word}: ")
    if share.value > 1:
        return _Text().add(f"{word.capitalize()} more than explains it: ")
    return _Text().add("Most of it (").num(share).add(f") is {word}: ")


def _driver_sentence(d: Driver, lead: _Text | None, reversal_said: bool,
                     next_month: str) -> Sentence:
    body, named = _driver_body(d, lead is not None, reversal_said, next_month)
    if lead is None:
        return body.sentence(d.driver)
    if not named:
        body.parts[0] = body.parts[0][:1].lower() + body.parts[0][1:]
    lead.parts.extend(body.parts)
    lead.figures.extend(body.figures)
    return lead.sentence(d.driver)


def _capture_sentence(total: Figure, largest: Driver | None) -> Sentence:
    more = total.value < 0  # negative: more bought on 340B, spend lower
    t = _Text().add("more" if more else "less").add(" 340B capture ")
    t.add("saved " if more else "added ").num(total)
    if largest is not None and (largest.amount.value < 0) == more:
        thing = " ".join(filter(None, [largest.drug, _at(largest.location).strip()]))
        if thing:
            how = f" bought on {largest.accounts}" if largest.accounts else ""
            if format_figure(largest.amount) == format_figure(total):
                t.add(f": {thing}{how}")
            else:
                t.add(f", the largest item {thing}{how} (").num(largest.amount).add(")")
    return t.sentence("capture_340b")


def _kpi_sentence(k: KpiFlag) -> Sentence | None:
    if k.flag != UNFAVORABLE or k.value.missing:
        return None
    measure = k.measure[:1].upper() + k.measure[1:]
    t = _Text().add(f"{measure}{_at(k.where)} came in at ").num(k.value)
    value = k.value.value
    if isinstance(k.target, tuple):
        low, high = k.target
        if not (low.missing or high.missing):
            side = "below" if value < low.value else "above" if value > high.value else "against"
            t.add(f", {side} the band of ").num(low, unit=False).add(" to ").num(high)
            return t.sentence("kpi")
    elif k.target is not None and not k.target.missing:
        side = "above" if value > k.target.value else "below" if value < k.target.value else "at"
        t.add(f", {side} the ").num(k.target).add(" target")
        return t.sentence("kpi")
    return t.add(", flagged unfavorable").sentence("kpi")


def _denial_sentence(spike: DenialSpike) -> Sentence | None:
    if not _shows(spike.rate):
        return None
    t = _Text().add(f"Denials from {spike.payer} ")
    base = spike.baseline
    if base is not None and not base.missing:
        rose = spike.rate.value > base.value
        t.add("rose to " if rose else "ran at ").num(spike.rate).add(" of claims ")
        t.add("from a " if rose else "against a ").num(base).add(" baseline")
    else:
        t.add("spiked to ").num(spike.rate).add(" of claims")
    if spike.reason:
        t.add(f", mostly for {spike.reason}")
    return t.sentence("denials")


def _exceptions_sentence(found: Exceptions) -> Sentence | None:
    claims = found.claims
    if not _shows(claims) or claims.value < 0:
        return None
    if not claims.noun:
        claims = dataclasses.replace(claims, noun="claim")
    one = format_figure(claims, unit=False) == "1"
    t = _Text().add("The 340B audit flagged ").num(claims)
    t.add(" as an exception" if one else " as exceptions")
    if _shows(found.dollars):
        t.add(", with ").num(found.dollars).add(" at stake")
    return t.sentence("exceptions")


def _not_closed_sentence(count: Figure, spend_known: bool) -> Sentence | None:
    if not _shows(count) or count.value < 0:
        return None
    if not count.noun:
        count = dataclasses.replace(count, noun="drug line")
    verb = " is" if format_figure(count, unit=False) == "1" else " are"
    opening = ("These figures cover closed lines only: " if spend_known
               else "The month is still open: ")
    return _Text().add(opening).num(count).add(verb, " not closed yet").sentence("not_closed")


def _reversal_sentence(timing: Figure, next_month: str) -> Sentence:
    t = _Text()
    if timing.value > 0:
        t.add("Expect the ").num(timing)
        t.add(f" of inventory timing across all locations to reverse in {next_month} as the"
              " stock is used")
    else:
        t.add("Expect ").num(timing).add(f" of catch-up purchases in {next_month} to restock"
                                         " what was drawn from inventory")
    return t.sentence("reversal")


# --- the commentary ----------------------------------------------------------------------------

#: Priority of each kind of sentence when there is no room for all (lower keeps first).
_PRIORITY = {"headline": 0, "not_closed": 1, "driver0": 2, "driver1": 3, "reversal": 4,
             "denials": 5, "kpi_band": 6, "exceptions": 7, "driver2": 8, "capture_340b": 9,
             "kpi": 10, "driver": 11}


def month_commentary(facts: MonthFacts, max_sentences: int = 8) -> list[Sentence]:
    """The month's commentary: at most ``max_sentences`` sentences, the headline first.

    Parameters
    ----------
    facts : MonthFacts
        The month's figures, each with the cell that shows it.
    max_sentences : int, default 8
        Most sentences to return, >= 1; five to eight read like a director's summary.

    Returns
    -------
    list of Sentence
        In reading order; ``" ".join(s.text for s in result)`` is the paragraph. Every number
        in a sentence's text is :func:`format_figure` (``sign=False``) of the sentence's
        figures, in order.

    Raises
    ------
    InputError
        ``max_sentences`` not a whole number >= 1.

    Examples
    --------
    >>> facts = MonthFacts(pd.Period("2026-10", "M"), Figure(1_700_000, "dollars"),
    ...     Figure(1_830_000, "dollars"), Figure(-130_000, "dollars"), Figure(-13 / 183, "percent"),
    ...     drivers=[Driver("price", "Keytruda", None, Figure(-90_000, "dollars"),
    ...                     Figure(0.69, "percent"), Figure(-0.08, "percent"))],
    ...     exceptions=Exceptions(Figure(1, "count"), Figure(2_400, "dollars")))
    >>> print(" ".join(s.text for s in month_commentary(facts)))  # doctest: +NORMALIZE_WHITESPACE
    Drug spend was $1.70M against a $1.83M budget, $130k (7.1%) under. Most of it (69%) is
    price: Keytruda cost 8.0% less per unit than budgeted, saving $90k. The 340B audit
    flagged 1 claim as an exception, with $2.4k at stake.
    """
    if isinstance(max_sentences, bool) or not isinstance(max_sentences, numbers.Integral) \
            or max_sentences < 1:
        raise InputError(f"max_sentences must be a whole number of at least 1 (got"
                         f" {max_sentences!r}); the headline alone is 1")
    next_month = (facts.month + 1).strftime("%B")
    month_var = facts.variance
    material_month = (_shows(facts.spend) and _shows(facts.budget) and _shows(month_var)
                      and bool(variance.is_material(facts.spend.value, facts.budget.value)))
    reversal = (facts.timing_next_month if _material(facts.timing_next_month, month_var)
                else None)
    # (order, priority, sentence): order (section, position) is reading order, priority
    # decides what is kept.
    found: list[tuple[tuple[int, int], int, Sentence]] = [((0, 0), 0, _headline(facts))]

    def add(order: tuple[int, int], key: str, sentence: Sentence | None) -> None:
        if sentence is not None:
            found.append((order, _PRIORITY[key], sentence))

    if facts.not_closed is not None:
        add((1, 0), "not_closed", _not_closed_sentence(facts.not_closed, not facts.spend.missing))
    capture = facts.capture_340b
    merge_mix = capture is not None  # the account-mix drivers are told by the 340B total
    # Largest first whatever order they came in (stable, so ties keep the caller's order).
    drivers = sorted((d for d in facts.drivers if _shows(d.amount)),
                     key=lambda d: -abs(d.amount.value))
    shown = [d for d in drivers if _material(d.amount, month_var)
             and not (merge_mix and d.driver == "account_mix")]
    for rank, d in enumerate(shown):
        lead = _lead(d, month_var, material_month) if rank == 0 else None
        add((2, rank), f"driver{rank}" if rank < 3 else "driver",
            _driver_sentence(d, lead, reversal is not None, next_month))
    if merge_mix and _material(capture, month_var):
        mix = [d for d in drivers if d.driver == "account_mix"]
        add((3, 0), "capture_340b", _capture_sentence(capture, mix[0] if mix else None))
    if material_month and not shown and not (merge_mix and _material(capture, month_var)):
        text = ("No single driver stands out: the variance is spread across many lines"
                if facts.drivers else "No driver detail is available to explain it")
        add((2, 0), "driver0", Sentence(text + ".", (), "drivers"))
    for i, k in enumerate(facts.kpi_flags):
        band = isinstance(k.target, tuple)
        add((4, i), "kpi_band" if band else "kpi", _kpi_sentence(k))
    if facts.denial_spike is not None:
        add((5, 0), "denials", _denial_sentence(facts.denial_spike))
    if facts.exceptions is not None:
        add((6, 0), "exceptions", _exceptions_sentence(facts.exceptions))
    if reversal is not None:
        add((7, 0), "reversal", _reversal_sentence(reversal, next_month))
    kept = sorted(found, key=lambda item: (item[1], item[0]))[:max_sentences]
    return [s for _, _, s in sorted(kept, key=lambda item: item[0])]


def drivers_from_table(table: pd.DataFrame, amount_cells: Sequence[str | None] | None = None,
                       share_cells: Sequence[str | None] | None = None) -> list[Driver]:
    """:class:`Driver` facts from ``largest_drivers(bridge)`` rows, largest first.

    ``table`` has the columns driver, drug, location, amount, share_of_variance (share as a
    fraction) and, optionally, unit_cost_change and accounts; a missing drug or location is
    None. ``amount_cells`` / ``share_cells`` are the cells showing each row's figures.

    Examples
    --------
    >>> rows = pd.DataFrame({"driver": ["price"], "drug": ["Privigen"], "location": [None],
    ...                      "amount": [110_000.0], "share_of_variance": [0.16]})
    >>> drivers_from_table(rows, ["'Drivers'!$K$7"])[0].amount.cell
    "'Drivers'!$K$7"
    """
    missing = {"driver", "drug", "location", "amount", "share_of_variance"} - set(table.columns)
    if missing:
        raise InputError(f"drivers table lacks column(s) {', '.join(sorted(missing))}; pass"
                         " the rows of rxxl.drug_bridge.largest_drivers")
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    amounts = list(amount_cells) if amount_cells is not None else [None] * len(rows)
    shares = list(share_cells) if share_cells is not None else [None] * len(rows)
    if len(amounts) != len(rows) or len(shares) != len(rows):
        raise InputError(f"drivers table has {len(rows)} rows but {len(amounts)} amount cells"
                         f" and {len(shares)} share cells; pass one cell per row")

    def number(value: object, kind: str, cell: str | None) -> Figure:
        return Figure(float("nan") if value is None else value, kind, cell)

    # A handful of rows (the largest drivers), not data: building one fact per row is fine.
    return [Driver(str(r["driver"]), r["drug"], r["location"],
                   number(r["amount"], DOLLARS, a), number(r["share_of_variance"], PERCENT, s),
                   (number(r["unit_cost_change"], PERCENT, None)
                    if r.get("unit_cost_change") is not None else None),
                   r.get("accounts"))
            for r, a, s in zip(rows, amounts, shares, strict=True)]


__all__ = ["Figure", "Driver", "KpiFlag", "DenialSpike", "Exceptions", "MonthFacts", "Sentence",
           "format_figure", "month_commentary", "drivers_from_table", "KINDS", "DRIVER_WORDS"]

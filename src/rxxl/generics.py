"""Generic dispensing: classify claims as generic or brand, and the rates built on that.

Definitions follow ``shared/DOMAIN.md`` §2. A claim is classified from either of two codes:

* the Medi-Span multi-source ("MONY") code: M, N and O are brands, Y is a generic
  [resdac.org, "Multi-Source Code"];
* the FDA marketing category of the NDC Directory: ANDA and NDA AUTHORIZED GENERIC are
  generics, NDA and BLA brands, rxxl's own ``BIOSIMILAR`` tag a biosimilar, the NDC
  Directory's other categories (OTC monograph, unapproved drug, ...; ``FDA_OTHER``) "other".
  Text in none of these lists (``"Brand"``) is refused: counting it as "other" would leave
  it out of the rate silently.

Codes are compared case-insensitively, with surrounding whitespace trimmed and inner runs of
whitespace read as one space. Classification works on the distinct codes only and maps them
back with one array lookup, so a million claims cost no more Python work than a dozen.

Shape policy
    Categories and weights are one line per claim: a scalar, a list, an ndarray, a pandas
    Series or an Excel range of one row or one column (a list of lists). A range with several
    rows *and* columns raises :class:`~rxxl.errors.InputError`. The rates return a Python
    float; :func:`classify` and :func:`generic_switch_opportunity` return one value per line
    as a 1-D ndarray; :func:`thirty_day_equivalents` is element-wise and keeps the input's
    shape (a Series stays a Series).

NaN policy
    A blank category (``None``, NaN, empty text) is *unclassified*: :func:`classify` returns
    ``None`` for it and the rates raise by default (``unclassified="exclude"`` leaves such
    claims out). A blank or negative weight raises, because a claim of unknown size would
    make any rate silently wrong. A rate with no claims in its denominator is NaN (Excel
    shows #DIV/0!).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rxxl._arrays import (
    as_float_array,
    as_label_vector,
    as_vector,
    ratio,
    require_non_negative,
    require_same_length,
    scaled_to_largest,
)
from rxxl.constants import (
    DAYS_PER_30_DAY_EQUIVALENT,
    FDA_BIOSIMILAR,
    FDA_BRAND,
    FDA_GENERIC,
    FDA_OTHER,
    MONY_BRAND,
    MONY_CODES,
    MONY_GENERIC,
    MONY_MULTISOURCE_BRAND,
)
from rxxl.errors import InputError, InputTypeError

__all__ = [
    "GENERIC",
    "BRAND",
    "BIOSIMILAR",
    "OTHER",
    "classify",
    "generic_dispensing_rate",
    "generic_efficiency_rate",
    "biosimilar_rate",
    "thirty_day_equivalents",
    "generic_switch_opportunity",
]

#: The classes :func:`classify` returns.
GENERIC = "generic"
BRAND = "brand"
BIOSIMILAR = "biosimilar"
OTHER = "other"

_SCHEMES = ("auto", "mony", "fda")
_OTHER_AS = ("exclude", "brand", "generic")
_BIOSIMILAR_AS = ("brand", "generic", "exclude")
_UNCLASSIFIED = ("raise", "exclude")
_MONY_LISTED = ", ".join(sorted(MONY_CODES))
_FDA_LISTED = ", ".join([*sorted(FDA_GENERIC), *sorted(FDA_BRAND), FDA_BIOSIMILAR])
#: The FDA category of a reference biologic, the denominator's other half in biosimilar_rate.
_REFERENCE_BIOLOGIC = "BLA"
#: How many positions an error message lists before it says "...".
_POSITIONS_SHOWN = 5


# --- Reading category codes -------------------------------------------------------------------


class _Codes:
    """Category cells reduced to their distinct normalized codes.

    ``row_code[i]`` indexes ``codes`` for line ``i``; -1 marks a blank cell. Everything
    downstream maps the few distinct codes and gathers per line with ``table[row_code]``.
    """

    def __init__(self, categories: Any, name: str) -> None:
        cells = as_label_vector(categories, name)
        if cells.size == 0:
            raise InputError(f"{name}: no values given")
        row_code, distinct = pd.factorize(cells, use_na_sentinel=True)
        # factorize already set blanks aside: every distinct value left must be text.
        not_text = np.array([not isinstance(v, str) for v in distinct], dtype=bool)
        cleaned = (
            pd.Series(np.where(not_text, "", distinct), dtype=object)
            .str.strip()
            .str.replace(r"\s+", " ", regex=True)
            .str.upper()
        )
        if not_text.any():
            code = int(np.flatnonzero(not_text)[0])
            position = int(np.flatnonzero(row_code == code)[0]) + 1
            cell = distinct[code]
            raise InputTypeError(
                f"{name}: expected a category as text at position {position},"
                f" got {type(cell).__name__} {cell!r}"
            )
        blank = (cleaned == "").to_numpy()
        if blank.any():
            # Excel hands over empty text for cleared cells: the same as a blank cell.
            row_code = np.where(blank[row_code] & (row_code >= 0), -1, row_code)
        self.name = name
        self.row_code = row_code
        self.codes = cleaned.to_numpy(dtype=object)
        self.used = ~blank
        self.missing = row_code < 0

    def per_line(self, table: np.ndarray, blank_value: Any) -> np.ndarray:
        """Gather ``table[code]`` for every line, ``blank_value`` for blank lines."""
        # The appended slot is what index -1 (a blank line) picks.
        return np.append(table, np.array([blank_value], dtype=table.dtype))[self.row_code]

    def first_line_with(self, code_mask: np.ndarray) -> int:
        """1-based position of the first line whose code is flagged in ``code_mask``."""
        return int(np.flatnonzero(code_mask[self.row_code] & ~self.missing)[0]) + 1

    def scheme(self, requested: str) -> str:
        """Resolve ``scheme="auto"``; an explicit scheme is returned unchanged."""
        _require_option(requested, _SCHEMES, "scheme")
        if requested != "auto":
            return requested
        codes = pd.Series(self.codes[self.used], dtype=object)
        single_letter = (codes.str.len() == 1).to_numpy()
        if single_letter.all():
            # An unknown letter then raises under "mony" instead of silently turning every
            # claim into an FDA "other" and the rate into #DIV/0!.
            return "mony"
        mony_letter = codes.isin(MONY_CODES).to_numpy()
        if mony_letter.any():
            used_mask = self.used.copy()
            used_mask[self.used] = mony_letter
            mony_at = self.first_line_with(used_mask)
            used_mask[self.used] = ~single_letter
            fda_at = self.first_line_with(used_mask)
            raise InputError(
                f"{self.name}: cannot tell the coding scheme: Medi-Span code"
                f" {self.codes[self.row_code[mony_at - 1]]!r} at position {mony_at} and FDA"
                f" category {self.codes[self.row_code[fda_at - 1]]!r} at position {fda_at};"
                " use one scheme per range or pass scheme='mony' or scheme='fda'"
            )
        return "fda"

    def require_mony(self) -> None:
        """Raise :class:`InputError` naming the first code that is not M, N, O or Y."""
        found = self._first_unknown(MONY_CODES)
        if found:
            raise InputError(
                f"{self.name}: unknown Medi-Span multi-source code {found[1]!r} at position"
                f" {found[0]}; valid codes are {_MONY_LISTED}"
            )

    def require_fda(self) -> None:
        """Raise :class:`InputError` naming the first code in none of the FDA lists."""
        found = self._first_unknown(FDA_GENERIC | FDA_BRAND | FDA_OTHER | {FDA_BIOSIMILAR})
        if found:
            raise InputError(
                f"{self.name}: unknown category {found[1]!r} at position {found[0]}; use"
                f" Medi-Span codes {_MONY_LISTED} or FDA marketing categories {_FDA_LISTED},"
                " or an excluded NDC Directory category (OTC MONOGRAPH DRUG, UNAPPROVED DRUG"
                " OTHER, ...)"
            )

    def _first_unknown(self, listed: frozenset[str]) -> tuple[int, str] | None:
        """Position (1-based) and text of the first used code not in ``listed``."""
        unknown = self.used & ~np.isin(self.codes, list(listed))
        if not unknown.any():
            return None
        position = self.first_line_with(unknown)
        return position, self.codes[self.row_code[position - 1]]

    def require_classified(self, unclassified: str) -> None:
        """Apply the ``unclassified`` policy to blank lines."""
        _require_option(unclassified, _UNCLASSIFIED, "unclassified")
        if self.missing.all():
            raise InputError(f"{self.name}: every value is blank")
        if unclassified == "raise" and self.missing.any():
            positions = np.flatnonzero(self.missing) + 1
            raise InputError(
                f"{self.name}: {positions.size} blank value(s) at {_listed(positions)};"
                " classify or filter them, or pass unclassified='exclude' to leave them out"
            )


def _listed(positions: np.ndarray) -> str:
    shown = ", ".join(str(p) for p in positions[:_POSITIONS_SHOWN])
    more = ", ..." if positions.size > _POSITIONS_SHOWN else ""
    return f"position{'s' if positions.size > 1 else ''} {shown}{more}"


def _require_option(value: Any, options: tuple[str, ...], name: str) -> None:
    if value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise InputError(f"{name}: expected one of {listed}, got {value!r}")


def _classes_of_codes(codes: _Codes, scheme: str, other_as: str) -> np.ndarray:
    """The class of each distinct code (an object array aligned with ``codes.codes``)."""
    _require_option(other_as, _OTHER_AS, "other_as")
    resolved = codes.scheme(scheme)
    values = codes.codes
    if resolved == "mony":
        codes.require_mony()
        classes = np.where(np.isin(values, list(MONY_BRAND)), BRAND, GENERIC)
    else:
        codes.require_fda()
        classes = np.select(
            [
                np.isin(values, list(FDA_GENERIC)),
                np.isin(values, list(FDA_BRAND)),
                values == FDA_BIOSIMILAR,
            ],
            [GENERIC, BRAND, BIOSIMILAR],
            default={"exclude": OTHER, "brand": BRAND, "generic": GENERIC}[other_as],
        )
    return classes.astype(object)


def _claim_weights(weights: Any, lines: int, codes_name: str) -> np.ndarray | None:
    if weights is None:
        return None
    w = as_vector(weights, "weights")
    require_same_length(**{codes_name: np.empty(lines), "weights": w})
    blank = np.isnan(w)
    if blank.any():
        raise InputError(
            f"weights: blank weight at {_listed(np.flatnonzero(blank) + 1)};"
            " enter 0 to leave a claim out"
        )
    unusable = (w < 0) | np.isinf(w)
    if unusable.any():
        position = int(np.flatnonzero(unusable)[0])
        raise InputError(
            f"weights: {float(w[position])!r} at position {position + 1} is not a claim weight;"
            " weights are claim counts or 30-day equivalents, finite and 0 or more"
        )
    return w


def _totals(bucket: np.ndarray, weights: np.ndarray | None, buckets: int) -> np.ndarray:
    """Claims (or weight) per bucket, in one pass.

    The weights are scaled to the largest first: only shares of these totals are used, and
    weights near 1e308 would otherwise sum to inf (1e308 / inf = 0, a wrong rate).
    """
    if weights is not None:
        weights = scaled_to_largest(weights)
    return np.bincount(bucket, weights=weights, minlength=buckets).astype(float)


# --- Public functions -------------------------------------------------------------------------


def classify(categories: Any, *, scheme: str = "auto", other_as: str = "exclude") -> np.ndarray:
    """Classify each claim as ``"generic"``, ``"brand"``, ``"biosimilar"`` or ``"other"``.

    Parameters
    ----------
    categories : text or sequence of text
        One code per claim: Medi-Span multi-source codes (M, N, O, Y) or FDA marketing
        categories (ANDA, NDA AUTHORIZED GENERIC, NDA, BLA, BIOSIMILAR, ...). Case and
        surrounding whitespace do not matter. Blank cells are allowed.
    scheme : {"auto", "mony", "fda"}
        ``"mony"``: M, N, O are brands and Y generic; any other code raises.
        ``"fda"``: ANDA and NDA AUTHORIZED GENERIC are generic, NDA and BLA brand, BIOSIMILAR
        biosimilar, the other NDC Directory categories (``FDA_OTHER``) other, any other text
        raises. ``"auto"`` (default) reads the range as MONY codes
        when every non-blank value is a single letter (so an unknown letter raises), as FDA
        categories otherwise, and raises when MONY letters and FDA categories are mixed.
    other_as : {"exclude", "brand", "generic"}
        Label for the other NDC Directory categories (``FDA_OTHER``): ``"exclude"``
        (default) keeps them ``"other"`` so the rates leave them out; ``"brand"`` or
        ``"generic"`` counts them so.

    Returns
    -------
    numpy.ndarray of object
        One label per claim, ``None`` for a blank cell.

    Raises
    ------
    InputError
        An unknown MONY code or FDA category (naming the value, its position and the valid
        codes), mixed
        schemes under ``"auto"``, no values, or a 2-D range.
    InputTypeError
        A cell that is not text (a number, TRUE/FALSE).

    Notes
    -----
    An authorized generic is an NDA product (42 CFR 447.502 counts it with the innovator
    drugs for rebates) but it is dispensed as a generic, so rxxl counts it as one. The NDC
    Directory files 351(k) biosimilars under BLA; the caller tags them ``BIOSIMILAR``.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §2, Generic dispensing.
    .. [2] ResDAC, "Multi-Source Code" (Medi-Span MDDB field A1 position 89),
       https://resdac.org/cms-data/variables/multi-source-code
    .. [3] 42 CFR 447.502, definitions of "authorized generic drug" and "innovator multiple
       source drug".

    Examples
    --------
    >>> classify(["Y", "n", " O ", None, "M"])
    array(['generic', 'brand', 'brand', None, 'brand'], dtype=object)
    >>> classify(["ANDA", "NDA Authorized Generic", "BLA", "BIOSIMILAR", "OTC MONOGRAPH FINAL"])
    array(['generic', 'generic', 'brand', 'biosimilar', 'other'], dtype=object)
    >>> classify(["Y", "Q"])
    Traceback (most recent call last):
    ...
    rxxl.errors.InputError: categories: unknown Medi-Span multi-source code 'Q' at position 2; valid codes are M, N, O, Y
    """  # noqa: E501
    codes = _Codes(categories, "categories")
    classes = _classes_of_codes(codes, scheme, other_as)
    return codes.per_line(classes, None)


def generic_dispensing_rate(
    categories: Any,
    weights: Any = None,
    *,
    scheme: str = "auto",
    other_as: str = "exclude",
    biosimilar_as: str = "brand",
    unclassified: str = "raise",
) -> float:
    r"""Generic dispensing rate (GDR): the share of claims dispensed as a generic.

    .. math:: \mathrm{GDR} = \frac{\sum w_{generic}}{\sum w_{generic} + \sum w_{brand}
              (+ \sum w_{biosimilar})}

    where :math:`w` is 1 per claim (the published definition, by count) or the given weight
    (for example 30-day equivalents, see :func:`thirty_day_equivalents`).

    Parameters
    ----------
    categories : text or sequence of text
        One MONY code or FDA marketing category per claim; see :func:`classify`.
    weights : number or sequence of numbers, optional
        Per-claim claim counts or 30-day equivalents, same length as ``categories``, 0 or
        more, never blank. Default: every claim counts 1.
    scheme : {"auto", "mony", "fda"}
        See :func:`classify`.
    other_as : {"exclude", "brand", "generic"}
        FDA categories outside generic/brand/biosimilar (OTC monograph, unapproved):
        ``"exclude"`` (default) leaves them out of numerator and denominator.
    biosimilar_as : {"brand", "generic", "exclude"}
        Where biosimilars count. Default ``"brand"``: in the denominator only, as CMS treats
        them mostly like brands (*judgement*); :func:`biosimilar_rate` reports them apart.
    unclassified : {"raise", "exclude"}
        Blank categories raise (default, the message lists them) or are left out.

    Returns
    -------
    float
        In [0, 1]; NaN when no claim is generic, brand or (counted) biosimilar.

    Raises
    ------
    InputError
        Blank categories with ``unclassified="raise"``, every category blank, an unknown
        MONY code, lengths that differ, blank or negative weights, an unknown option.
    InputTypeError
        Text in ``weights`` or a number in ``categories``.

    See Also
    --------
    rxxl.constants.GDR_BENCHMARK : about 90% of US prescriptions are generic.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §2, Generic dispensing.
    .. [2] Liberman JN, Roebuck MC. Prescription drug costs and the generic dispensing ratio.
       J Manag Care Pharm. 2010;16(7):502-506. doi:10.18553/jmcp.2010.16.7.502
    .. [3] ResDAC, "Multi-Source Code", https://resdac.org/cms-data/variables/multi-source-code
    .. [4] Association for Accessible Medicines / IQVIA, U.S. Generic & Biosimilar Medicines
       Savings Reports 2017-2019 (about 90% of prescriptions dispensed are generics).

    Examples
    --------
    Eight claims by MONY code, six of them generic:

    >>> generic_dispensing_rate(["Y", "Y", "N", "Y", "O", "Y", "Y", "Y"])
    0.75

    Weighted by 30-day equivalents (a 90-day generic counts three times):

    >>> generic_dispensing_rate(["Y", "N"], thirty_day_equivalents([90, 30]))
    0.75

    FDA categories; the OTC monograph claim is left out by default:

    >>> generic_dispensing_rate(["ANDA", "NDA", "OTC MONOGRAPH FINAL", "NDA AUTHORIZED GENERIC"])
    0.6666666666666666
    >>> generic_dispensing_rate(["Y", None])
    Traceback (most recent call last):
    ...
    rxxl.errors.InputError: categories: 1 blank value(s) at position 2; classify or filter them, or pass unclassified='exclude' to leave them out
    >>> generic_dispensing_rate(["Y", None], unclassified="exclude")
    1.0
    """  # noqa: E501
    _require_option(biosimilar_as, _BIOSIMILAR_AS, "biosimilar_as")
    codes = _Codes(categories, "categories")
    classes = _classes_of_codes(codes, scheme, other_as)
    w = _claim_weights(weights, codes.row_code.size, "categories")
    codes.require_classified(unclassified)
    order = (GENERIC, BRAND, BIOSIMILAR, OTHER)
    bucket = codes.per_line(np.array([order.index(c) for c in classes], dtype=np.intp), len(order))
    generic, brand, biosimilar, _other, _blank = _totals(bucket, w, len(order) + 1)
    if biosimilar_as == "brand":
        brand += biosimilar
    elif biosimilar_as == "generic":
        generic += biosimilar
    return float(ratio(generic, generic + brand))


def generic_efficiency_rate(
    mony_codes: Any, weights: Any = None, *, unclassified: str = "raise"
) -> float:
    r"""Generic efficiency: the share of multi-source claims dispensed as a generic.

    .. math:: \mathrm{GER} = \frac{\sum w_Y}{\sum w_O + \sum w_Y}

    Single-source brands (N, M) have no generic to switch to, so they are left out: the rate
    measures how often a generic was dispensed when one was available (*common practice*).

    Parameters
    ----------
    mony_codes : text or sequence of text
        Medi-Span multi-source codes M, N, O, Y, one per claim (any other code raises).
    weights : number or sequence of numbers, optional
        Per-claim counts or 30-day equivalents; see :func:`generic_dispensing_rate`.
    unclassified : {"raise", "exclude"}
        Blank codes raise (default) or are left out.

    Returns
    -------
    float
        In [0, 1]; NaN when there are no multi-source (O or Y) claims.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §2, Generic dispensing ("generic efficiency").
    .. [2] ResDAC, "Multi-Source Code", https://resdac.org/cms-data/variables/multi-source-code

    Examples
    --------
    >>> generic_efficiency_rate(["Y", "Y", "Y", "O", "N", "N"])
    0.75
    >>> generic_efficiency_rate(["N", "M"])
    nan
    """
    codes = _Codes(mony_codes, "mony_codes")
    codes.require_mony()
    w = _claim_weights(weights, codes.row_code.size, "mony_codes")
    codes.require_classified(unclassified)
    # Buckets: 0 generic (Y), 1 original brand with generics (O), 2 single source, 3 blank.
    table = np.select(
        [np.isin(codes.codes, list(MONY_GENERIC)), codes.codes == MONY_MULTISOURCE_BRAND],
        [0, 1],
        default=2,
    ).astype(np.intp)
    generic, original_brand, _single_source, _blank = _totals(codes.per_line(table, 3), w, 4)
    return float(ratio(generic, generic + original_brand))


def biosimilar_rate(categories: Any, weights: Any = None, *, unclassified: str = "raise") -> float:
    r"""Biosimilar adoption: the share of biologic claims dispensed as a biosimilar.

    .. math:: \frac{\sum w_{BIOSIMILAR}}{\sum w_{BIOSIMILAR} + \sum w_{BLA}}

    Read under the FDA scheme: ``BIOSIMILAR`` is rxxl's tag for a 351(k) biosimilar, ``BLA``
    the reference biologic. Restrict the claims to molecules that *have* a biosimilar (the
    reference products and their biosimilars) before calling; otherwise every biologic
    without a competitor dilutes the rate.

    Parameters
    ----------
    categories : text or sequence of text
        FDA marketing categories, one per claim; categories other than BLA and BIOSIMILAR
        (ANDA, NDA, ...) are left out.
    weights : number or sequence of numbers, optional
        Per-claim counts, units or 30-day equivalents; see :func:`generic_dispensing_rate`.
    unclassified : {"raise", "exclude"}
        Blank categories raise (default) or are left out.

    Returns
    -------
    float
        In [0, 1]; NaN when there are no BLA or BIOSIMILAR claims.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §2 (biosimilars reported as their own rate, *judgement*).
    .. [2] Association for Accessible Medicines / IQVIA, U.S. Generic & Biosimilar Medicines
       Savings Reports.

    Examples
    --------
    >>> biosimilar_rate(["BLA", "BIOSIMILAR", "biosimilar", "BLA", "ANDA"])
    0.5
    >>> biosimilar_rate(["ANDA", "NDA"])
    nan
    """
    codes = _Codes(categories, "categories")
    w = _claim_weights(weights, codes.row_code.size, "categories")
    codes.require_classified(unclassified)
    # Buckets: 0 biosimilar, 1 reference biologic (BLA), 2 anything else, 3 blank.
    table = np.select(
        [codes.codes == FDA_BIOSIMILAR, codes.codes == _REFERENCE_BIOLOGIC], [0, 1], default=2
    ).astype(np.intp)
    biosimilar, reference, _other, _blank = _totals(codes.per_line(table, 3), w, 4)
    return float(ratio(biosimilar, biosimilar + reference))


def thirty_day_equivalents(days_supply: Any) -> Any:
    """Convert days supply to 30-day equivalent prescriptions: ``days_supply / 30``.

    A 90-day fill counts as three 30-day prescriptions, so a plan that moves patients to
    90-day fills does not see its GDR move for that reason alone (JMCP 2010 adjusts every
    claim count this way). Short fills count pro rata (7 days = 7/30); clip at 1 first if
    your contract counts every fill as at least one prescription.

    Parameters
    ----------
    days_supply : number, sequence, ndarray, Series or 2-D range
        Days supplied per claim, 0 or more. Blank cells give NaN.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Same shape as the input: a float for a scalar, a Series (same index) for a Series.

    Raises
    ------
    InputError
        A negative days supply, or no values.
    InputTypeError
        Text or TRUE/FALSE in ``days_supply``.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §2 (GDR by 30-day equivalents).
    .. [2] Liberman JN, Roebuck MC. J Manag Care Pharm. 2010;16(7):502-506 ("All claims counts
       were adjusted to 30-day equivalents").

    Examples
    --------
    >>> thirty_day_equivalents([30, 90, 15, None])
    array([1. , 3. , 0.5, nan])
    >>> thirty_day_equivalents(84)
    2.8
    """
    days = as_float_array(days_supply, "days_supply")
    if days.size == 0:
        raise InputError("days_supply: no values given")
    require_non_negative(days, "days_supply", "days supply is 0 or more")
    equivalents = days / DAYS_PER_30_DAY_EQUIVALENT
    if isinstance(days_supply, pd.Series):
        return pd.Series(equivalents, index=days_supply.index, name=days_supply.name)
    if equivalents.ndim == 0:
        return float(equivalents)
    return equivalents


def generic_switch_opportunity(
    categories: Any, quantity: Any, brand_unit_cost: Any, generic_unit_cost: Any
) -> np.ndarray:
    r"""Per-line savings if each original brand with generics available were dispensed generic.

    .. math:: s_i = \begin{cases} \max(0, b_i - g_i) \times q_i & \text{MONY code O} \\
              0 & \text{otherwise} \end{cases}

    Only code O (original brand, generics available) has a generic to switch to; N and M
    have none and Y already is one. Sum the result for the total opportunity. A generic that
    costs more than the brand saves nothing, so that line is 0, never negative.

    Parameters
    ----------
    categories : text or sequence of text
        Medi-Span multi-source codes M, N, O, Y, one per line; a blank code counts as not O.
    quantity : number or sequence of numbers
        Units dispensed per line (0 or more).
    brand_unit_cost, generic_unit_cost : number or sequence of numbers
        Acquisition cost per unit of the brand and of its generic (0 or more). Required on O
        lines; blank is fine on other lines.

    Returns
    -------
    numpy.ndarray of float
        One saving per line, 0 on every line that is not O.

    Raises
    ------
    InputError
        An O line with a blank quantity or cost (naming the position and argument), a
        negative quantity or cost, an unknown MONY code, lengths that differ, no values.
    InputTypeError
        Text in a numeric argument.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §2 ("Opportunity").
    .. [2] ResDAC, "Multi-Source Code", https://resdac.org/cms-data/variables/multi-source-code

    Examples
    --------
    >>> savings = generic_switch_opportunity(
    ...     ["O", "Y", "N", "O"], [30, 60, 30, 10], [5.0, None, 12.0, 2.0], [0.5, 0.1, None, 2.5]
    ... )
    >>> savings
    array([135.,   0.,   0.,   0.])
    >>> float(savings.sum())
    135.0
    """
    codes = _Codes(categories, "categories")
    codes.require_mony()
    numbers = {
        "quantity": as_vector(quantity, "quantity"),
        "brand_unit_cost": as_vector(brand_unit_cost, "brand_unit_cost"),
        "generic_unit_cost": as_vector(generic_unit_cost, "generic_unit_cost"),
    }
    require_same_length(categories=codes.row_code, **numbers)
    switchable = codes.per_line(codes.codes == MONY_MULTISOURCE_BRAND, False)
    for name, values in numbers.items():
        blank = switchable & np.isnan(values)
        if blank.any():
            raise InputError(
                f"{name}: blank at {_listed(np.flatnonzero(blank) + 1)}, a line with MONY code"
                " O (brand with generics available); enter it or filter the line out"
            )
        require_non_negative(values, name, "quantities and unit costs are 0 or more")
    saving_per_unit = np.maximum(numbers["brand_unit_cost"] - numbers["generic_unit_cost"], 0.0)
    # np.where keeps NaN costs on lines that are not O from leaking into their 0.
    return np.where(switchable, saving_per_unit * numbers["quantity"], 0.0)

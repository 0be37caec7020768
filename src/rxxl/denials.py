"""Claim denial analytics: denial rates, root-cause categories, Pareto and p-charts
(``shared/DOMAIN.md`` §4).

Definitions
    - An *initial* claim has no ``original_claim_id``; a resubmission repeats a denied claim
      under a new ``claim_id`` with ``original_claim_id`` set.
    - A claim is a *denial* when its status is ``denied`` and its reason is not a
      contractual adjustment or patient cost sharing (CARC 45 and 1/2/3 are not denials).
      A denied claim with an unknown code, or with no code at all, is still a denial
      (category ``"unmapped"``): nothing is dropped.
    - *Initial denial rate* = initially denied claims / initial claims submitted, by count
      and by billed dollars. *Final denial rate* counts the initial denials that no paid
      resubmission overturned.
    - Reason codes come from ``reject_code`` (NCPDP 511-FB, pharmacy claims) or, when that is
      blank, ``carc_code`` (CARC with group, medical claims); the lookup table is
      ``rxxl/reference_data/denial_codes.csv``.

Shape policy
    The table functions take a claims DataFrame (the claims contract's columns; only
    ``status``, ``service_date`` and ``billed_amount`` are required, plus ``reject_code``,
    ``carc_code``, ``original_claim_id`` and ``claim_id`` when present) and return
    DataFrames. ``month`` is derived from ``service_date`` as ``"YYYY-MM"`` text.
    :func:`p_chart` takes two equal-length sequences (or Series, whose index it keeps).
    Missing required columns, unknown grouping keys and counts that cannot be counts raise
    :class:`~rxxl.errors.InputError`.

NaN policy
    A rate with nothing submitted is NaN (undefined; Excel shows #DIV/0!), never 0. Such a
    period gets NaN control limits and is never flagged out of control. A missing
    ``billed_amount`` counts as $0. A blank or missing count in :func:`p_chart` means a
    period with no data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rxxl._arrays import ratio, scaled_to_largest
from rxxl.errors import InputError

__all__ = [
    "describe_reason",
    "denial_codes",
    "denial_rate",
    "classify_denials",
    "denial_rates",
    "p_chart",
    "denial_trend",
    "denial_counts",
    "trend_from_counts",
    "pareto",
    "top_findings",
]

NCPDP = "ncpdp"
CARC = "carc"
UNMAPPED = "unmapped"
CARC_GROUPS = ("CO", "PR", "OA", "PI")
#: Grouping keys accepted by :func:`denial_rates`; the last two split denials by reason.
GROUP_KEYS = ("payer", "payer_type", "site_id", "month", "reason_code", "category")
REASON_KEYS = ("reason_code", "category")
#: Sigma multiple of the p-chart control limits.
SIGMAS = 3.0

_CARC_RE = re.compile(r"^(CO|PR|OA|PI)?[\s\-_]*([0-9A-Z]+)$")


# --- Reason codes ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _codes() -> pd.DataFrame:
    with resources.files("rxxl").joinpath("reference_data/denial_codes.csv").open(
        encoding="utf-8"
    ) as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    table["is_denial"] = table["is_denial"].str.strip().str.lower().eq("true")
    return table


def denial_codes() -> pd.DataFrame:
    """Return the reason code table: system (ncpdp|carc), code, description, category,
    is_denial.

    Examples
    --------
    >>> codes = denial_codes()
    >>> codes.loc[(codes.system == "ncpdp") & (codes.code == "75"), "category"].item()
    'authorization'
    """
    return _codes().copy()


@functools.lru_cache(maxsize=1)
def _lookup() -> dict[tuple[str, str], tuple[str, str, bool]]:
    table = _codes()
    return {
        (s, c): (d, cat, bool(den))
        for s, c, d, cat, den in zip(
            table["system"], table["code"], table["description"], table["category"],
            table["is_denial"], strict=True,
        )
    }


def _normalize(code: Any, system: str | None = None) -> tuple[str | None, str | None, str | None]:
    """Return (system, group, code) of one raw code; (None, None, None) for a blank."""
    if code is None or (isinstance(code, float) and np.isnan(code)) or code is pd.NA:
        return None, None, None
    whole = (isinstance(code, (int, np.integer)) and not isinstance(code, bool)) or (
        isinstance(code, (float, np.floating)) and float(code).is_integer())
    if whole and 0 <= int(code) <= 99:
        # A number is how Excel (and a CSV reader) keeps a typed 07: NCPDP codes are two
        # characters, so 7 is spelled 07 before the usual rule below.
        text = f"{int(code):02d}"
    elif whole:
        text = str(int(code))
    else:
        text = str(code)
    text = text.strip().upper()
    if not text:
        return None, None, None
    lookup = _lookup()
    if system != CARC:
        compact = re.sub(r"\s+", "", text)
        if system == NCPDP:
            if compact.isdigit() and len(compact) == 1:
                compact = "0" + compact  # NCPDP codes are two characters: 7 is 07
            return NCPDP, None, compact
        if (NCPDP, compact) in lookup:
            return NCPDP, None, compact
    match = _CARC_RE.match(text)
    if match is None:
        # Not a code shape we know: keep it as given (it will be unmapped).
        return system or CARC, None, re.sub(r"\s+", " ", text)
    group, number = match.group(1), match.group(2)
    if number.isdigit():
        number = str(int(number))
    return CARC, group, number


def _reason_code(system: str | None, group: str | None, code: str | None) -> str | None:
    if code is None:
        return None
    return f"{group}-{code}" if group else code


def describe_reason(code: Any, system: str | None = None) -> dict[str, Any]:
    """Describe one NCPDP reject code or CARC code.

    Spelling is forgiving: surrounding spaces and case are ignored, and a CARC code may carry
    its group (CO, PR, OA, PI) with a dash, a space or nothing (``"CO-197"``, ``"co 197"``,
    ``"CO197"``). Without ``system`` a code is NCPDP when it is a known NCPDP code of exactly
    that spelling (NCPDP codes are two characters: ``"07"``, ``"75"``, ``"MR"``), otherwise
    CARC; so ``"75"`` is NCPDP and ``"197"`` or ``"4"`` are CARC. A whole *number* from 0 to
    99 is spelled with two digits first (``7`` is ``"07"``), because a spreadsheet or a CSV
    reader turns a typed ``07`` into the number 7. Pass ``system="carc"`` for a bare CARC
    number that is also an NCPDP code (``"22"``, or the number 4).

    Parameters
    ----------
    code : str or int
        The code as found on the claim.
    system : {"ncpdp", "carc"}, optional
        Force the code system.

    Returns
    -------
    dict
        ``system``, ``code`` (normalized, without group), ``group`` (or None),
        ``description``, ``category`` and ``is_denial``. An unknown code is kept with category
        ``"unmapped"`` and ``is_denial`` True (a denied claim with an unknown code is still a
        denial); a blank code gives system None and category ``"unmapped"``.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §4, Claim denials (NCPDP 511-FB reject codes; X12 claim
       adjustment reason codes and group codes).

    Examples
    --------
    >>> describe_reason(" mr ")["description"]
    'Product not on formulary'
    >>> r = describe_reason("co 197")
    >>> r["system"], r["group"], r["code"], r["category"]
    ('carc', 'CO', '197', 'authorization')
    >>> describe_reason("PR-2")["is_denial"]
    False
    >>> describe_reason(7)["code"], describe_reason(7.0)["description"]
    ('07', 'Missing or invalid cardholder ID')
    >>> describe_reason(4, "carc")["code"]
    '4'
    >>> describe_reason("ZZ9")["category"]
    'unmapped'
    """
    if system is not None:
        system = str(system).strip().lower()
        if system not in (NCPDP, CARC):
            raise InputError(f'system: {system!r} is not "ncpdp" or "carc"')
    sys_, group, norm = _normalize(code, system)
    found = _lookup().get((sys_, norm)) if norm is not None else None
    description, category, is_denial = found if found else ("", UNMAPPED, True)
    return {
        "system": sys_,
        "code": norm,
        "group": group,
        "description": description,
        "category": category,
        "is_denial": is_denial,
    }


def denial_rate(statuses: Any, amounts: Any = None) -> float:
    r"""Share of claims denied, by count or (with ``amounts``) by dollars.

    .. math:: \text{denial rate} = \frac{\sum_{\text{denied}} w_i}{\sum_{\text{all}} w_i}

    with :math:`w_i = 1` by count or the claim's billed amount by dollars. Give initial
    claims only for the initial denial rate.

    Parameters
    ----------
    statuses : sequence of str
        ``"paid"`` or ``"denied"`` per claim (case and surrounding spaces ignored).
    amounts : sequence of numbers, optional
        Billed amount per claim, not negative.

    Returns
    -------
    float
        The rate, 0 to 1; NaN when there are no claims or the amounts sum to 0.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §4, Claim denials.

    Examples
    --------
    >>> denial_rate(["paid", "Denied", "paid", "paid"])
    0.25
    >>> denial_rate(["paid", "denied"], [300.0, 100.0])
    0.25
    """
    text = pd.Series(np.asarray(statuses, dtype=object).reshape(-1), dtype=object)
    norm = text.where(text.isna(), text.astype(str).str.strip().str.lower())
    bad = ~norm.isin(["paid", "denied"]).to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(f'statuses: cell {first + 1} holds {text.iloc[first]!r}; expected '
                         '"paid" or "denied"')
    denied = norm.eq("denied").to_numpy()
    if amounts is None:
        weights = np.ones(denied.size)
    else:
        weights, _ = _counts("amounts", amounts)
        if weights.size != denied.size:
            raise InputError(f"statuses and amounts: {denied.size} and {weights.size} values;"
                             " give one amount per claim")
        if np.isnan(weights).any():
            raise InputError("amounts: a claim has no amount")
    weights = scaled_to_largest(weights)  # so that amounts near 1e308 do not sum to inf
    return float(ratio(weights[denied].sum(), weights.sum()))


# --- Claims ---------------------------------------------------------------------------------
#
# Twenty million claims are analysed as integer codes: each text column is factorized once,
# each distinct reason code is described once, and counts are np.bincount over combined
# group keys. Building object or string columns per claim costs minutes at that size.


def _require(claims: Any, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(claims, pd.DataFrame):
        raise InputError("claims: expected a pandas DataFrame of claims")
    missing = [c for c in columns if c not in claims.columns]
    if missing:
        raise InputError(f"claims: missing column(s) {', '.join(missing)}")
    return claims


def _factorize(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes (-1 for a missing value) and the distinct values."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return (values.cat.codes.to_numpy(dtype=np.int64),
                values.cat.categories.astype(object).tolist())
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), pd.Series(uniques, dtype=object).tolist()


def _text_is(values: pd.Series, wanted: str) -> np.ndarray:
    """Per claim: the text, trimmed and lower-cased, equals ``wanted`` (each distinct value
    is compared once)."""
    codes, uniques = _factorize(values)
    hit = np.array([isinstance(u, str) and u.strip().lower() == wanted for u in uniques] + [False])
    return hit[codes]


def _blank(values: pd.Series) -> np.ndarray:
    codes, uniques = _factorize(values)
    # Tens of thousands of distinct ids (the resubmissions' originals): judged as one array.
    distinct = pd.Series(uniques, dtype=object)
    blank = distinct.isna() | distinct.astype(str).str.strip().eq("")
    return np.append(blank.to_numpy(dtype=bool), True)[codes]


@dataclass
class _Reasons:
    """Each claim's reason as an index into a table of distinct reasons (-1: no code)."""

    index: np.ndarray
    code: list[str]
    system: list[str]
    category: list[str]
    is_denial: np.ndarray


def _reasons(claims: pd.DataFrame) -> _Reasons:
    table: dict[tuple[str, str], int] = {}
    code: list[str] = []
    system: list[str] = []
    category: list[str] = []
    denial: list[bool] = []
    index = np.full(len(claims), -1, dtype=np.int64)
    # CARC first, then NCPDP on top: reject_code wins where both are filled.
    for column, system_name in (("carc_code", CARC), ("reject_code", NCPDP)):
        if column not in claims.columns:
            continue
        codes, uniques = _factorize(claims[column])
        mapping = np.full(len(uniques) + 1, -1, dtype=np.int64)
        for position, raw in enumerate(uniques):
            found = describe_reason(raw, system_name)
            reason = _reason_code(found["system"], found["group"], found["code"])
            if reason is None:
                continue
            key = (found["system"], reason)
            if key not in table:
                table[key] = len(code)
                code.append(reason)
                system.append(found["system"])
                category.append(found["category"])
                denial.append(found["is_denial"])
            mapping[position] = table[key]
        mapped = mapping[codes]
        index = np.where(mapped >= 0, mapped, index)
    return _Reasons(index, code, system, category, np.array(denial + [True], dtype=bool))


def _final_denials(claims: pd.DataFrame, denial: np.ndarray, initial: np.ndarray,
                   paid: np.ndarray) -> np.ndarray:
    """Initial denials that no paid resubmission overturned.

    A resubmission names the claim it repeats in ``original_claim_id``, which may itself be a
    resubmission; links are followed back to the initial claim (a cycle stops after 20
    levels). Only denied claims and resubmissions can be on such a chain, so only their ids
    are looked up.
    """
    final = denial & initial
    if initial.all() or "claim_id" not in claims.columns:
        return final
    on_chain = np.flatnonzero(denial | ~initial)
    ids = pa.array(claims["claim_id"].iloc[on_chain].astype(object).to_numpy(), pa.string())
    ids = pc.utf8_trim_whitespace(ids)
    resubmitted = np.flatnonzero(~initial)
    originals = pc.utf8_trim_whitespace(pa.array(
        claims["original_claim_id"].iloc[resubmitted].astype(object).to_numpy(), pa.string()))
    found = pc.index_in(originals, value_set=ids).fill_null(-1).to_numpy(zero_copy_only=False)
    parent = np.full(len(claims), -1, dtype=np.int64)
    parent[resubmitted] = np.where(found >= 0, on_chain[np.maximum(found, 0)], -1)
    root = parent[resubmitted]
    for _ in range(20):
        up = (root >= 0) & ~initial[np.maximum(root, 0)]
        if not up.any():
            break
        root[up] = parent[root[up]]
    overturned = root[paid[resubmitted] & (root >= 0)]
    final[overturned] = False
    return final


@dataclass
class _Classified:
    """Per-claim flags and reasons, all numpy."""

    denied_status: np.ndarray
    reasons: _Reasons
    is_denial: np.ndarray
    is_initial: np.ndarray
    finally_denied: np.ndarray


def _classify(claims: pd.DataFrame) -> _Classified:
    _require(claims, ["status"])
    denied = _text_is(claims["status"], "denied")
    reasons = _reasons(claims)
    is_denial = denied & reasons.is_denial[reasons.index]
    if "original_claim_id" in claims.columns:
        initial = _blank(claims["original_claim_id"])
    else:
        initial = np.ones(len(claims), dtype=bool)
    final = _final_denials(claims, is_denial, initial, _text_is(claims["status"], "paid"))
    return _Classified(denied, reasons, is_denial, initial, final)


def classify_denials(claims: pd.DataFrame) -> pd.DataFrame:
    """Classify each claim: reason code, root-cause category, denial and resubmission flags.

    Parameters
    ----------
    claims : DataFrame
        Claims with at least ``status``; ``reject_code``, ``carc_code``,
        ``original_claim_id`` and ``claim_id`` are used when present.

    Returns
    -------
    DataFrame
        Aligned with ``claims`` (same index): ``reason_code`` (NCPDP code, or CARC with its
        group such as ``"CO-197"``; ``reject_code`` wins when both are filled; missing
        when neither is), ``system``, ``category`` (``"unmapped"`` for an unknown or missing code
        of a denied claim), ``is_denial`` (status denied and the reason is not an adjustment
        such as CO-45 or PR-1/2/3), ``is_initial`` (no ``original_claim_id``) and
        ``finally_denied`` (an initial denial that no paid resubmission, following
        ``original_claim_id`` links back to it, overturned).

    Examples
    --------
    >>> claims = pd.DataFrame({
    ...     "claim_id": ["A", "B", "C", "D", "E"],
    ...     "status": ["paid", "denied", "denied", "denied", "paid"],
    ...     "reject_code": ["", "75", None, None, None],
    ...     "carc_code": [None, None, "co-45", None, None],
    ...     "original_claim_id": [None, None, None, None, "B"],
    ... })
    >>> classify_denials(claims)[["reason_code", "category", "is_denial", "finally_denied"]]
      reason_code                category  is_denial  finally_denied
    0         NaN                     NaN      False           False
    1          75           authorization       True           False
    2       CO-45  contractual adjustment      False           False
    3         NaN                unmapped       True            True
    4         NaN                     NaN      False           False
    """
    flags = _classify(claims)
    reasons = flags.reasons
    code = np.array([*reasons.code, None], dtype=object)
    system = np.array([*reasons.system, None], dtype=object)
    category = np.array([*reasons.category, None], dtype=object)[reasons.index]
    category[flags.denied_status & (reasons.index < 0)] = UNMAPPED
    return pd.DataFrame(
        {
            "reason_code": code[reasons.index],
            "system": system[reasons.index],
            "category": category,
            "is_denial": flags.is_denial,
            "is_initial": flags.is_initial,
            "finally_denied": flags.finally_denied,
        },
        index=claims.index,
    )


def _month_numbers(claims: pd.DataFrame) -> np.ndarray:
    """Months since 1970-01 of each claim's service date."""
    dates = pd.to_datetime(claims["service_date"], errors="coerce")
    if dates.isna().any():
        raise InputError("claims: service_date has missing or unreadable dates")
    days = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    if not days.size:
        return days
    # A month of claims spans a few hundred days: the month of each day once, then looked
    # up (a calendar conversion per claim costs ten times more).
    first = int(days.min())
    span = np.arange(first, int(days.max()) + 1).astype("datetime64[D]")
    return span.astype("datetime64[M]").astype(np.int64)[days - first]


def _month_label(number: int) -> str:
    return str(np.datetime64(int(number), "M"))


def _sorted_key(codes: np.ndarray, labels: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Recode so the codes order like the labels as text, a missing label last."""
    has_missing = bool((codes < 0).any())
    order = sorted(range(len(labels)), key=lambda i: str(labels[i]))
    rank = np.empty(len(labels) + 1, dtype=np.int64)
    rank[order] = np.arange(len(labels))
    rank[-1] = len(labels)  # code -1 (missing) picks the last entry
    ordered = [labels[i] for i in order] + ([None] if has_missing else [])
    return rank[codes], np.array(ordered, dtype=object)


@dataclass
class _Encoded:
    """Claims reduced to what the rate tables count, keys as sorted integer codes."""

    flags: _Classified
    dollars: np.ndarray
    keys: dict[str, tuple[np.ndarray, np.ndarray]]
    months: list[str]


def _encode(claims: pd.DataFrame, keys: Sequence[str]) -> _Encoded:
    needed = ["status", "billed_amount"]
    if "month" in keys:
        needed.append("service_date")
    needed += [k for k in keys if k not in ("month", *REASON_KEYS)]
    _require(claims, needed)
    flags = _classify(claims)
    dollars = pd.to_numeric(claims["billed_amount"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan)
    dollars = np.where(np.isnan(dollars), 0.0, dollars)
    encoded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    months: list[str] = []
    for key in keys:
        if key == "month":
            numbers = _month_numbers(claims)
            first = int(numbers.min()) if numbers.size else 0
            last = int(numbers.max()) if numbers.size else -1
            months = [_month_label(m) for m in range(first, last + 1)]
            encoded[key] = (numbers - first, np.array(months, dtype=object))
        elif key == "reason_code":
            encoded[key] = _sorted_key(flags.reasons.index, flags.reasons.code)
        elif key == "category":
            names = sorted(set(flags.reasons.category) | {UNMAPPED})
            lookup = {name: i for i, name in enumerate(names)}
            per_reason = np.array([lookup[c] for c in flags.reasons.category]
                                  + [lookup[UNMAPPED]], dtype=np.int64)
            encoded[key] = (per_reason[flags.reasons.index], np.array(names, dtype=object))
        else:
            encoded[key] = _sorted_key(*_factorize(claims[key]))
    return _Encoded(flags, dollars, encoded, months)


def _keys(by: Any) -> list[str]:
    keys = [by] if isinstance(by, str) else list(by)
    bad = [k for k in keys if k not in GROUP_KEYS]
    if bad or not keys or len(set(keys)) != len(keys):
        raise InputError(
            f"by: {bad or keys!r} is not a list of distinct keys from {', '.join(GROUP_KEYS)}"
        )
    return keys


def _group_sums(encoded: _Encoded, keys: list[str], rows: np.ndarray,
                weights: dict[str, np.ndarray]) -> pd.DataFrame:
    """Sum each weight over ``rows`` per combination of ``keys``; one row per combination
    that has rows, in key order."""
    sizes = [len(encoded.keys[k][1]) for k in keys]
    if keys:
        group = np.ravel_multi_index([encoded.keys[k][0][rows] for k in keys], sizes)
    else:
        group = np.zeros(int(rows.sum()), dtype=np.int64)
    cells = int(np.prod(sizes)) if keys else 1
    # A dense count per cell is fastest while the grid is small against the claims; with many
    # keys of many values the few combinations present are factorized instead.
    if cells <= max(4 * group.size, 1 << 16):
        present_cells = np.flatnonzero(np.bincount(group, minlength=cells))
        position = np.full(cells, -1, dtype=np.int64)
        position[present_cells] = np.arange(present_cells.size)
        group = position[group]
    else:
        present_cells, group = np.unique(group, return_inverse=True)
    table = {}
    if keys:
        for key, codes in zip(keys, np.unravel_index(present_cells, sizes), strict=True):
            table[key] = encoded.keys[key][1][codes]
    for name, weight in weights.items():
        table[name] = np.bincount(group, weights=weight[rows], minlength=present_cells.size)
    return pd.DataFrame(table)


def _month_range(months: pd.Series) -> list[str]:
    if months.empty:
        return []
    periods = pd.PeriodIndex(pd.unique(months), freq="M")
    return [str(p) for p in pd.period_range(periods.min(), periods.max(), freq="M")]


def denial_rates(claims: pd.DataFrame, by: Any = ("payer", "month"), *,
                 hfma: bool = False) -> pd.DataFrame:
    r"""Initial and final denial rates per group, by count and by billed dollars.

    .. math::
        \text{denial rate} = \frac{\text{initial claims denied}}{\text{initial claims
        submitted}},\qquad
        \text{HFMA rate}_m = \frac{\text{denied}_m}{\tfrac13\sum_{k=1}^{3}
        \text{submitted}_{m-k}}

    Parameters
    ----------
    claims : DataFrame
        Claims (module shape policy).
    by : str or sequence of str
        Grouping keys from ``payer``, ``payer_type``, ``site_id``, ``month``,
        ``reason_code``, ``category``. The reason keys split the *denials*: a row's
        ``submitted`` is then all initial claims of its other keys (the share of submitted
        claims denied for that reason).
    hfma : bool
        Add ``hfma_denominator``, the average submitted of the three calendar months before
        the month of the same group (a month without claims counts 0; NaN when the data
        do not reach three months back), and ``hfma_denial_rate``, the HFMA Claim Integrity
        Task Force variant. Requires ``month`` in ``by``.

    Returns
    -------
    DataFrame
        One row per group present, sorted by the keys (text order, a missing key last): the
        keys, ``submitted``, ``denied``, ``denial_rate``, ``submitted_dollars``,
        ``denied_dollars``, ``dollar_denial_rate``, ``final_denied``, ``final_denial_rate``;
        rates are NaN when nothing was submitted; dollars are rounded to cents.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §4; HFMA Claim Integrity Task Force, standard denial
       metrics (three-month average denominator).

    Examples
    --------
    >>> claims = pd.DataFrame({
    ...     "payer": ["A", "A", "A", "B"],
    ...     "service_date": ["2026-01-05"] * 4,
    ...     "status": ["paid", "denied", "paid", "denied"],
    ...     "reject_code": [None, "75", None, "70"],
    ...     "billed_amount": [100.0, 300.0, 100.0, 50.0],
    ... })
    >>> denial_rates(claims)[["payer", "month", "submitted", "denied", "denial_rate",
    ...                       "dollar_denial_rate"]]
      payer    month  submitted  denied  denial_rate  dollar_denial_rate
    0     A  2026-01          3       1     0.333333                 0.6
    1     B  2026-01          1       1     1.000000                 1.0
    """
    keys = _keys(by)
    if hfma and "month" not in keys:
        raise InputError('hfma: the HFMA variant needs "month" in by')
    return _rates(_encode(claims, keys), keys, hfma=hfma)


def _rates(encoded: _Encoded, keys: list[str], *, hfma: bool = False) -> pd.DataFrame:
    flags = encoded.flags
    initial = flags.is_initial
    base_keys = [k for k in keys if k not in REASON_KEYS]
    ones = np.ones(initial.size)
    denied_weights = {
        "denied": flags.is_denial.astype(float),
        "denied_dollars": np.where(flags.is_denial, encoded.dollars, 0.0),
        "final_denied": flags.finally_denied.astype(float),
    }
    base = _group_sums(encoded, base_keys, initial,
                       {"submitted": ones, "submitted_dollars": encoded.dollars})
    if len(base_keys) == len(keys):
        counts = _group_sums(encoded, keys, initial, denied_weights)
        table = pd.concat([base, counts.drop(columns=keys)], axis=1)
    else:
        counts = _group_sums(encoded, keys, initial & flags.is_denial, denied_weights)
        if base_keys:
            table = counts.merge(base, on=base_keys, how="left")
        else:
            table = counts.assign(submitted=base["submitted"].sum(),
                                  submitted_dollars=base["submitted_dollars"].sum())
    if hfma:
        table = _add_hfma(table, base, [k for k in base_keys if k != "month"], encoded.months)
    table["denial_rate"] = ratio(table["denied"], table["submitted"])
    table["dollar_denial_rate"] = ratio(table["denied_dollars"], table["submitted_dollars"])
    table["final_denial_rate"] = ratio(table["final_denied"], table["submitted"])
    columns = [*keys, "submitted", "denied", "denial_rate", "submitted_dollars",
               "denied_dollars", "dollar_denial_rate", "final_denied", "final_denial_rate"]
    if hfma:
        columns += ["hfma_denominator", "hfma_denial_rate"]
        table["hfma_denial_rate"] = ratio(table["denied"], table["hfma_denominator"])
    table = table[columns].reset_index(drop=True)
    for name in ("submitted", "denied", "final_denied"):
        table[name] = table[name].astype("int64")
    for name in ("submitted_dollars", "denied_dollars"):
        table[name] = table[name].round(2)
    return table


def _add_hfma(table: pd.DataFrame, base: pd.DataFrame, other: list[str],
              months: list[str]) -> pd.DataFrame:
    """Average submitted of the three prior calendar months, per group of ``other`` keys."""
    if base.empty:
        return table.assign(hfma_denominator=np.nan)
    index = other or ["_all"]
    if not other:
        base = base.assign(_all=0)
    wide = base.pivot_table(index=index, columns="month", values="submitted",
                            aggfunc="sum", fill_value=0, dropna=False, observed=True)
    wide = wide.reindex(columns=months, fill_value=0)
    prior = wide.T.shift(1).rolling(3, min_periods=3).mean().T
    long = prior.stack(future_stack=True).rename("hfma_denominator").reset_index()
    if not other:
        long = long.drop(columns="_all")
    return table.merge(long, on=[*other, "month"], how="left")


# --- Control chart ------------------------------------------------------------------------


def _counts(name: str, values: Any) -> tuple[np.ndarray, pd.Index | None]:
    index = values.index if isinstance(values, pd.Series) else None
    try:
        array = pd.to_numeric(pd.Series(np.asarray(values, dtype=object).reshape(-1)),
                              errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected numbers, got {exc}") from None
    if np.any(array[~np.isnan(array)] < 0):
        raise InputError(f"{name}: values cannot be negative")
    return array, index


def p_chart(submitted: Any, denied: Any) -> pd.DataFrame:
    r"""p-chart (proportion control chart) of denial rates, with per-period limits.

    .. math::
        p_i = \frac{d_i}{n_i},\qquad
        \text{UCL}_i, \text{LCL}_i = \bar p \pm 3\sqrt{\frac{\bar p(1-\bar p)}{n_i}}

    clipped to [0, 1]. A period is out of control when its rate is above its UCL or below its
    LCL.

    The center line :math:`\bar p = \sum d_i / \sum n_i` uses *revised* limits (the standard
    Shewhart practice of removing assignable causes): periods above their UCL are set aside,
    :math:`\bar p` is recomputed from the rest, and this repeats until no more periods are
    set aside; the periods are then flagged against the final limits. Without the revision
    one spike month inflates :math:`\bar p`, which widens nothing in large samples but
    shifts the center up, so every normal month can fall below the LCL and be flagged.

    Parameters
    ----------
    submitted, denied : sequence, ndarray or Series
        Claims submitted and denied per period, same length. A missing count means a period
        without data. ``denied`` may not exceed ``submitted``.

    Returns
    -------
    DataFrame
        Per period (index of ``submitted`` if a Series): ``submitted``, ``denied``, ``rate``,
        ``center_line``, ``ucl``, ``lcl``, ``out_of_control``. A period with nothing submitted
        has NaN rate and limits and is not flagged; with no data at all the center line is
        NaN. A single period is its own center line and is never flagged.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §4; D. C. Montgomery, *Introduction to Statistical
       Quality Control*, control charts for fraction nonconforming (revised limits).

    Examples
    --------
    >>> chart = p_chart([100, 100, 100], [10, 10, 10])
    >>> chart[["rate", "center_line", "ucl", "lcl"]].round(4).iloc[0].tolist()
    [0.1, 0.1, 0.19, 0.01]
    >>> p_chart([1000] * 6, [50, 52, 48, 51, 49, 250])["out_of_control"].tolist()
    [False, False, False, False, False, True]
    """
    n, index = _counts("submitted", submitted)
    d, _ = _counts("denied", denied)
    if n.shape != d.shape:
        raise InputError(f"submitted and denied: {n.size} and {d.size} values; give one of "
                         "each per period")
    n = np.where(np.isnan(n), 0.0, n)
    d = np.where(np.isnan(d), 0.0, d)
    if np.any(d > n):
        first = int(np.flatnonzero(d > n)[0]) + 1
        raise InputError(f"denied: more denied than submitted in period {first}")
    rate = ratio(d, n)
    has = n > 0
    keep = has.copy()
    center = np.nan
    ucl = lcl = np.full(n.shape, np.nan)
    for _ in range(n.size + 1):
        if not keep.any():
            break
        center = d[keep].sum() / n[keep].sum()
        ucl, lcl = _limits(center, n)
        above = keep & (rate > ucl)
        if not above.any():
            break
        keep &= ~above
    out = has & ((rate > ucl) | (rate < lcl))
    return pd.DataFrame(
        {
            "submitted": n,
            "denied": d,
            "rate": rate,
            "center_line": np.full(n.shape, center),
            "ucl": ucl,
            "lcl": lcl,
            "out_of_control": out,
        },
        index=index,
    )


def _limits(center: float, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where(n > 0, np.sqrt(center * (1 - center) / np.where(n > 0, n, 1.0)),
                         np.nan)
    ucl = np.clip(center + SIGMAS * sigma, 0.0, 1.0)
    lcl = np.clip(center - SIGMAS * sigma, 0.0, 1.0)
    # Tiny float error must not flag a rate equal to a center of exactly 0 or 1.
    return ucl, lcl


# --- Trend, Pareto, findings ----------------------------------------------------------------

_TREND_KEYS = ("payer", "reason_code", "site_id", "payer_type", "category")


def denial_trend(claims: pd.DataFrame, by: str = "payer") -> pd.DataFrame:
    """Monthly initial denial rates per group with a p-chart per group.

    Parameters
    ----------
    claims : DataFrame
        Claims (module shape policy).
    by : {"payer", "reason_code", "site_id", "payer_type", "category"}
        The group. For ``reason_code`` and ``category`` the denominator is all initial
        claims of the month (share of submitted claims denied for that reason).

    Returns
    -------
    DataFrame
        One row per group and month of the overall month range (a month without claims for
        the group has ``submitted`` 0, NaN rate, and is not flagged): ``<by>``, ``month``,
        ``submitted``, ``denied``, ``denial_rate``, ``center_line``, ``ucl``, ``lcl``,
        ``out_of_control``, ``mom_change`` (rate minus the previous month's rate),
        ``denied_dollars`` (billed dollars at risk) and ``submitted_dollars``, in cents.

    Examples
    --------
    >>> claims = pd.DataFrame({
    ...     "payer": ["A", "A", "A"],
    ...     "service_date": ["2026-01-05", "2026-01-09", "2026-03-02"],
    ...     "status": ["paid", "denied", "paid"],
    ...     "reject_code": [None, "75", None],
    ...     "billed_amount": [100.0, 300.0, 100.0],
    ... })
    >>> denial_trend(claims)[["payer", "month", "submitted", "denial_rate"]]
      payer    month  submitted  denial_rate
    0     A  2026-01          2          0.5
    1     A  2026-02          0          NaN
    2     A  2026-03          1          0.0
    """
    if by not in _TREND_KEYS:
        raise InputError(f"by: {by!r} is not one of {', '.join(_TREND_KEYS)}")
    _require(claims, ["service_date"])
    return trend_from_counts(denial_counts(claims, by), by)


_COUNT_COLUMNS = ("submitted", "denied", "submitted_dollars", "denied_dollars")


def denial_counts(claims: pd.DataFrame, by: str = "payer", *,
                  count: str | None = None) -> pd.DataFrame:
    """Initial claims submitted and denied per group and month, summable across parts.

    The trend of twenty million claims need not hold them all at once: count each part (a
    month's file, say) and pass the concatenated counts to :func:`trend_from_counts`.

    Parameters
    ----------
    claims : DataFrame
        Claims (module shape policy).
    by : {"payer", "reason_code", "site_id", "payer_type", "category"}
    count : str, optional
        A column counting the claims each row stands for, as in a part collapsed by
        :func:`rxxl.data.collapsed.load_collapsed`; ``billed_amount`` is then their total.

    Returns
    -------
    DataFrame
        ``<by>``, ``month``, ``submitted``, ``denied``, ``submitted_dollars``,
        ``denied_dollars``. Each month of the claims also comes as a row of all initial
        claims whose ``<by>`` is ``"(all)"``; for the reason keys, ``submitted`` is 0 on the
        reason rows and those rows are the denominators.

    Examples
    --------
    >>> claims = pd.DataFrame({
    ...     "payer": ["A", "A", "B"], "service_date": ["2026-01-05"] * 3,
    ...     "status": ["paid", "denied", "paid"], "reject_code": [None, "75", None],
    ...     "billed_amount": [100.0, 300.0, 50.0]})
    >>> denial_counts(claims)[["payer", "month", "submitted", "denied"]]
       payer    month  submitted  denied
    0      A  2026-01          2       1
    1      B  2026-01          1       0
    2  (all)  2026-01          3       1
    """
    if by not in _TREND_KEYS:
        raise InputError(f"by: {by!r} is not one of {', '.join(_TREND_KEYS)}")
    encoded = _encode(claims, [by, "month"])
    flags = encoded.flags
    initial = flags.is_initial
    denied = initial & flags.is_denial
    codes, labels = encoded.keys[by]
    months, month_labels = encoded.keys["month"]
    span = len(month_labels)
    # The counts of a part are the hot loop of a 24-month trend: each claim gets one cell
    # (group x month) and every sum is one bincount over the counted claims.
    claims_per_row = (np.ones(len(claims)) if count is None
                      else claims[count].to_numpy(dtype=float))
    rows = denied if by in REASON_KEYS else initial
    cell = (codes * span + months)[rows]
    sums = _cell_sums(cell, len(labels) * span, denied[rows], encoded.dollars[rows],
                      claims_per_row[rows])
    present = np.flatnonzero(sums["submitted"])
    counts = pd.DataFrame({by: labels[present // span] if span else labels[:0],
                           "month": month_labels[present % span] if span else month_labels})
    for name in _COUNT_COLUMNS:
        counts[name] = sums[name][present]
    if by in REASON_KEYS:
        counts = counts.assign(submitted=0, submitted_dollars=0.0)
    # Every month of the claims, also one with resubmissions only, so the trend's months
    # are the data's months.
    monthly = pd.DataFrame({by: ALL, "month": month_labels,
                            **_cell_sums(months[initial], span, denied[initial],
                                         encoded.dollars[initial],
                                         claims_per_row[initial])})
    return pd.concat([counts, monthly[counts.columns]], ignore_index=True)


def _cell_sums(cell: np.ndarray, cells: int, denied: np.ndarray, dollars: np.ndarray,
               claims: np.ndarray) -> dict[str, np.ndarray]:
    """Claims, denials and their billed dollars (to the cent) per cell number; ``claims``:
    the claims each row stands for."""
    return {
        "submitted": np.bincount(cell, weights=claims, minlength=cells).astype(np.int64),
        "denied": np.bincount(cell, weights=np.where(denied, claims, 0.0),
                              minlength=cells).astype(np.int64),
        "submitted_dollars": np.bincount(cell, weights=dollars, minlength=cells).round(2),
        "denied_dollars": np.bincount(cell, weights=np.where(denied, dollars, 0.0),
                                      minlength=cells).round(2),
    }


#: The group label of the monthly totals in :func:`denial_counts` by a reason key.
ALL = "(all)"


def trend_from_counts(counts: pd.DataFrame, by: str = "payer") -> pd.DataFrame:
    """The trend table of :func:`denial_trend` from :func:`denial_counts` of one or more parts
    (their counts are summed per group and month).

    Examples
    --------
    >>> parts = [pd.DataFrame({"payer": ["A"], "month": ["2026-01"], "submitted": [100],
    ...                        "denied": [6], "submitted_dollars": [1e4],
    ...                        "denied_dollars": [600.0]}),
    ...          pd.DataFrame({"payer": ["A"], "month": ["2026-02"], "submitted": [100],
    ...                        "denied": [30], "submitted_dollars": [1e4],
    ...                        "denied_dollars": [3e3]})]
    >>> trend_from_counts(pd.concat(parts))[["month", "denial_rate", "mom_change"]]
         month  denial_rate  mom_change
    0  2026-01         0.06         NaN
    1  2026-02         0.30        0.24
    """
    if by not in _TREND_KEYS:
        raise InputError(f"by: {by!r} is not one of {', '.join(_TREND_KEYS)}")
    _require(counts, [by, "month", *_COUNT_COLUMNS])
    counts = counts.groupby([by, "month"], dropna=False, sort=False)[list(_COUNT_COLUMNS)] \
        .sum().reset_index()
    months = _month_range(counts["month"])
    is_total = counts[by].eq(ALL).fillna(False).to_numpy(dtype=bool)
    totals = counts[is_total].set_index("month") if by in REASON_KEYS else None
    counts = counts[~is_total]
    groups = sorted(pd.unique(counts[by]).tolist(), key=lambda g: (g is None or g != g, str(g)))
    grid = pd.MultiIndex.from_product([groups, months], names=[by, "month"])
    table = counts.set_index([by, "month"]).reindex(grid)
    if totals is not None:
        # Denominator: every initial claim of the month, also in months without this reason.
        for name in ("submitted", "submitted_dollars"):
            table[name] = totals[name].reindex(grid.get_level_values("month")).to_numpy()
    table = table.reset_index()
    for name in _COUNT_COLUMNS:
        table[name] = table[name].fillna(0)
    table["submitted"] = table["submitted"].astype("int64")
    table["denied"] = table["denied"].astype("int64")
    for name in ("submitted_dollars", "denied_dollars"):
        table[name] = table[name].astype(float).round(2)
    table["denial_rate"] = ratio(table["denied"], table["submitted"])
    span = len(months)
    charts = [p_chart(table["submitted"].to_numpy()[i:i + span],
                      table["denied"].to_numpy()[i:i + span])
              for i in range(0, len(table), span)]
    for name in ("center_line", "ucl", "lcl", "out_of_control"):
        values = [chart[name].to_numpy() for chart in charts]
        table[name] = np.concatenate(values) if values else np.array([], dtype=float)
    table["out_of_control"] = table["out_of_control"].astype(bool)
    rate = table["denial_rate"].to_numpy()
    previous = np.concatenate([[np.nan], rate[:-1]])
    first_month = np.arange(len(table)) % max(span, 1) == 0
    table["mom_change"] = np.where(first_month, np.nan, rate - previous)
    return table[[by, "month", "submitted", "denied", "denial_rate", "center_line", "ucl",
                  "lcl", "out_of_control", "mom_change", "denied_dollars",
                  "submitted_dollars"]].reset_index(drop=True)


def pareto(claims: pd.DataFrame, by: str = "reason_code") -> pd.DataFrame:
    """Pareto table of initial denials: the few reasons behind most denials.

    Parameters
    ----------
    claims : DataFrame
        Claims (module shape policy).
    by : {"reason_code", "category", "payer", "payer_type", "site_id"}
        What to rank. Denied claims without a code rank as reason ``"(no code)"``.

    Returns
    -------
    DataFrame
        ``<by>``, ``description`` and ``category`` (for reason codes), ``count``, ``share``
        (of all initial denials), ``cumulative_share``, ``denied_dollars``; sorted by count,
        then dollars, descending.

    Examples
    --------
    >>> claims = pd.DataFrame({
    ...     "status": ["denied", "denied", "denied", "paid"],
    ...     "reject_code": ["75", "75", "70", None],
    ...     "billed_amount": [10.0, 20.0, 5.0, 8.0],
    ... })
    >>> pareto(claims)[["reason_code", "category", "count", "cumulative_share"]]
      reason_code       category  count  cumulative_share
    0          75  authorization      2          0.666667
    1          70       coverage      1          1.000000
    """
    allowed = ("reason_code", "category", "payer", "payer_type", "site_id")
    if by not in allowed:
        raise InputError(f"by: {by!r} is not one of {', '.join(allowed)}")
    encoded = _encode(claims, [by])
    flags = encoded.flags
    denials = flags.is_initial & flags.is_denial
    table = _group_sums(encoded, [by], denials,
                        {"count": np.ones(denials.size), "denied_dollars": encoded.dollars})
    table["count"] = table["count"].astype("int64")
    table["denied_dollars"] = table["denied_dollars"].round(2)
    if by == "reason_code":
        reasons = flags.reasons
        where = {code: i for i, code in enumerate(reasons.code)}
        table["category"] = [reasons.category[where[c]] if c in where else UNMAPPED
                             for c in table["reason_code"]]
        table["description"] = [
            describe_reason(c, reasons.system[where[c]])["description"] if c in where else ""
            for c in table["reason_code"]]
        table["reason_code"] = table["reason_code"].fillna("(no code)")
        columns = ["reason_code", "description", "category"]
    else:
        columns = [by]
    table = table.sort_values(["count", "denied_dollars", by],
                              ascending=[False, False, True], kind="stable",
                              key=lambda s: s.astype(str) if s.name == by else s)
    total = table["count"].sum()
    table["share"] = ratio(table["count"], np.full(len(table), total))
    table["cumulative_share"] = table["share"].cumsum()
    return table[[*columns, "count", "share", "cumulative_share", "denied_dollars"]] \
        .reset_index(drop=True)


def top_findings(trend: pd.DataFrame, n: int = 5) -> list[str]:
    """Plain-English sentences for the out-of-control months of a :func:`denial_trend`.

    Months above the UCL come first, ranked by excess denials (denied minus expected at
    the center line); then months below the LCL.

    Examples
    --------
    >>> trend = pd.DataFrame({"payer": ["Humana Medicare Part D"], "month": ["2026-10"],
    ...     "submitted": [1662], "denied": [412], "denial_rate": [412 / 1662],
    ...     "center_line": [0.061], "ucl": [0.080], "lcl": [0.042],
    ...     "out_of_control": [True]})
    >>> print(top_findings(trend)[0])
    Humana Medicare Part D, 2026-10: 24.8% denied vs 6.1% expected (UCL 8.0%), 412 of 1,662 claims
    """
    if not isinstance(trend, pd.DataFrame) or "out_of_control" not in trend.columns:
        raise InputError("trend: expected the table denial_trend returns")
    group = trend.columns[0]
    flagged = trend[trend["out_of_control"].astype(bool)].copy()
    flagged["excess"] = flagged["denied"] - flagged["center_line"] * flagged["submitted"]
    flagged["high"] = flagged["denial_rate"] > flagged["center_line"]
    flagged = flagged.sort_values(["high", "excess"], ascending=[False, False], kind="stable")
    lines = []
    for values in flagged.head(max(int(n), 0)).to_dict("records"):
        if values["high"]:
            limit = f"UCL {values['ucl']:.1%}"
        else:
            limit = f"LCL {values['lcl']:.1%}"
        lines.append(
            f"{values[group]}, "
            f"{values['month']}: {values['denial_rate']:.1%} denied vs "
            f"{values['center_line']:.1%} expected ({limit}), "
            f"{int(values['denied']):,} of {int(values['submitted']):,} claims"
        )
    return lines

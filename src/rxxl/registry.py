"""340B registry reconciliation: what HRSA's database (OPAIS) says against what was billed.

Inaccurate registration records are the most common finding of HRSA's 340B audits (issue 17).
This module sets the ``entity`` and ``sites`` reference tables (the entity's OPAIS records)
against the 340B claims of a period and lists four kinds of finding, each a stable reason
code with plain words (:data:`REASON_TEXT`), as the claim checks of :mod:`rxxl.audit340b`
have:

=======================  ================================================================
reason                   the finding
=======================  ================================================================
STALE_REGISTRATION       a site or contract pharmacy registered for all or part of the
                         period, with no 340B claim there in the period
UNREGISTERED_ACTIVITY    340B claims at a site not registered to the claim's entity on the
                         service date, by site and month, with claims and dollars
WRONG_ENTITY             340B claims at a site registered on the service date to *another*
                         entity than the one the claim is billed under, by site and month
REGISTRATION_CHANGE      an entity or site registration that starts or ends inside the
                         period, or ends within :data:`~rxxl.constants.REGISTRATION_WATCH_DAYS`
                         days after it (recertification and termination watch)
=======================  ================================================================

Definitions (docs/340b-registry.md gives the sources):

- **A 340B claim** is :func:`rxxl.audit340b.is_340b_claim`, what the audit checks as one: a
  claim on the 340B account, except a denied pharmacy claim (not dispensed under that claim). Denied
  medical claims were administered and count.
- **The claim's entity** is ``claims.entity_id``; when blank, the entity its site is
  registered to, by the audit's rule: the registration active on the service date names it,
  else a site registered to one entity only (at another time) names it; a site registered to
  several entities names none (the audit's ENTITY_UNKNOWN, not a registry finding unless the
  site is registered to nobody on the date).
- **Registered on a day**: a ``sites`` row of the site and entity covers the day *and* the
  entity's own registration (an ``entity`` row) covers it. When HRSA terminates an entity, or
  its registration lapses at a missed recertification, its child sites and contract
  pharmacies go with it, whatever the site rows say.
- **UNREGISTERED_ACTIVITY and WRONG_ENTITY split the audit's SITE_NOT_REGISTERED and
  ENTITY_INACTIVE claims** and never both name one claim: a site registered on the date to
  another entity (and not to the claim's) is WRONG_ENTITY, because the fix is the billing
  entity; a site registered to no entity on the date is UNREGISTERED_ACTIVITY, because the
  fix is a registration (or a repayment). The ``detail`` column says which case of
  :data:`DETAIL_TEXT` it is.
- **A stale registration** is a site registered (as above) for some of the period with no
  340B claim at it in the period, on any day and under any entity: claims off its
  registered days or under another entity are already UNREGISTERED_ACTIVITY or
  WRONG_ENTITY, and one problem is not listed twice.
- **Dollars at stake** are the audit's: quantity x (WAC - 340B unit cost) per claim, rounded
  to the cent, summed where known; ``claims_without_costs`` counts the claims whose WAC or
  340B cost is blank. It is what buying the drug at WAC instead of the 340B price would
  have cost: the manufacturer repayment a diversion finding puts at stake.
- **The watch window** runs from the day after the period to
  ``REGISTRATION_WATCH_DAYS`` days after the period's end, or after ``today`` when a later
  day is given (a package reconciled after the month closed still warns 90 days ahead of
  the day it is read).

Everything is vectorized: the claims are reduced to the period's 340B claims once, then each
rule is a merge on the small registration tables and an interval comparison.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rxxl import audit340b
from rxxl.constants import REGISTRATION_WATCH_DAYS
from rxxl.data.contracts import TABLES
from rxxl.data.validate import validate_table
from rxxl.errors import InputError
from rxxl.parsing import parse_dates

__all__ = ["DETAIL_TEXT", "REASONS", "REASON_TEXT", "reconcile_registry", "summarize_registry"]

#: Reason codes in the order findings are listed.
REASONS = ("UNREGISTERED_ACTIVITY", "WRONG_ENTITY", "STALE_REGISTRATION", "REGISTRATION_CHANGE")
#: Each reason code in plain words, as a report shows it.
REASON_TEXT: dict[str, str] = {
    "UNREGISTERED_ACTIVITY": "340B claims at a site not registered to the entity on the "
                             "service date",
    "WRONG_ENTITY": "340B claims billed under another entity than the one the site is "
                    "registered to on the service date",
    "STALE_REGISTRATION": "Site or contract pharmacy registered in the period with no 340B "
                          "claims in the period",
    "REGISTRATION_CHANGE": "Registration that starts or ends in the period, or ends within "
                           f"{REGISTRATION_WATCH_DAYS} days after it",
}
#: The case of each finding (the ``detail`` column), in plain words.
DETAIL_TEXT: dict[str, str] = {
    "site_unknown": "The site is in no registration",
    "entity_unknown": "No entity on the claim, and the site is registered to none on the "
                      "service date",
    "site_not_for_entity": "The site is not registered to this entity",
    "outside_site_registration": "The site's registration to the entity does not cover the "
                                 "service date",
    "entity_not_registered": "The entity's own registration does not cover the service date",
    "registered_to_other": "The site is registered to another entity on the service date",
    "no_340b_claims": "No 340B claims at the site in the period",
    "entity_starts": "The entity's registration starts in the period",
    "entity_ends": "The entity's registration ends in the period",
    "entity_ends_soon": "The entity's registration ends within "
                        f"{REGISTRATION_WATCH_DAYS} days after the period",
    "site_starts": "The site's registration starts in the period",
    "site_ends": "The site's registration ends in the period",
    "site_ends_soon": "The site's registration ends within "
                      f"{REGISTRATION_WATCH_DAYS} days after the period",
}
#: The columns of :func:`reconcile_registry`'s result.
COLUMNS = ("reason", "reason_text", "detail", "entity_id", "site_id", "site_type",
           "registered_entity_id", "month", "claims", "dollars_at_risk",
           "claims_without_costs", "start_date", "end_date")
#: The claims columns read (``entity_id`` may be absent).
CLAIM_COLUMNS = ("service_date", "site_id", "account", "claim_type", "status", "quantity",
                 "unit_cost_340b", "unit_cost_wac", "entity_id")

_OPEN_END = np.iinfo(np.int64).max


def reconcile_registry(
    claims: pd.DataFrame,
    entities: pd.DataFrame,
    sites: pd.DataFrame,
    period_start: Any,
    period_end: Any,
    *,
    today: Any = None,
) -> pd.DataFrame:
    """Reconcile the 340B registrations with the period's 340B claims.

    Parameters
    ----------
    claims : DataFrame
        Claims (``rxxl.data.load_table(..., "claims")``, or any frame with the columns of
        :data:`CLAIM_COLUMNS`; ``entity_id`` is optional). Claims outside the period are
        ignored.
    entities, sites : DataFrame
        The ``entity`` and ``sites`` reference tables (OPAIS registrations).
    period_start, period_end : date-like
        First and last day of the period (both included), e.g. ``"2026-10-01"``,
        ``"2026-10-31"``.
    today : date-like, optional
        The day the reconciliation is read; when after the period, the watch window of
        REGISTRATION_CHANGE runs to ``today`` + 90 days instead of period end + 90 days.

    Returns
    -------
    DataFrame
        One row per finding, with the columns of :data:`COLUMNS`: ``reason`` and
        ``reason_text`` (:data:`REASON_TEXT`); ``detail`` (:data:`DETAIL_TEXT`);
        ``entity_id`` (the claim's or the registration's); ``site_id`` (blank on an
        entity's registration change) and ``site_type``; ``registered_entity_id`` (WRONG_ENTITY:
        the entity the site is registered to); ``month`` (``YYYY-MM``: the service month of
        claim findings, the month of the start or end of a change; blank for a stale
        registration, which is about the whole period); ``claims`` (claim findings: their
        count; stale: 0); ``dollars_at_risk`` and ``claims_without_costs`` (claim findings);
        ``start_date`` and ``end_date`` (the registration of a stale or changing one; blank
        end while open). Sorted by reason (in :data:`REASONS` order), entity, site, month.

    Raises
    ------
    InputError
        A missing column or a bad cell of a table (``DataValidationError``, naming the
        table, row and column), or a period that ends before it starts.

    Examples
    --------
    >>> entities = pd.DataFrame({"entity_id": ["DSH000001"], "entity_type": ["DSH"],
    ...                          "start_date": ["2020-01-01"], "end_date": [None]})
    >>> sites = pd.DataFrame({"site_id": ["CLINIC"], "entity_id": ["DSH000001"],
    ...                       "site_type": ["child"], "start_date": ["2026-01-01"],
    ...                       "end_date": ["2026-09-15"], "medicaid_arrangement": [None]})
    >>> claims = pd.DataFrame({"service_date": ["2026-09-20"], "site_id": ["CLINIC"],
    ...     "account": ["340B"], "claim_type": ["medical"], "status": ["paid"],
    ...     "quantity": [2.0], "unit_cost_340b": [40.0], "unit_cost_wac": [100.0],
    ...     "entity_id": ["DSH000001"]})
    >>> found = reconcile_registry(claims, entities, sites, "2026-09-01", "2026-09-30")
    >>> found[["reason", "site_id", "month", "claims", "dollars_at_risk"]]
                      reason site_id    month  claims  dollars_at_risk
    0  UNREGISTERED_ACTIVITY  CLINIC  2026-09       1            120.0
    1    REGISTRATION_CHANGE  CLINIC  2026-09    <NA>              NaN
    """
    first, last, watch_end = _period(period_start, period_end, today)
    entities = validate_table(entities, "entity", source="entities")
    sites = validate_table(sites, "sites", source="sites")
    claims = validate_table(claims, TABLES["claims"].subset(CLAIM_COLUMNS), source="claims")

    books = _Books(entities, sites)
    used = _claims_340b(claims, first, last)
    used["entity"] = books.claim_entities(used)
    found = [
        _activity_findings(used, books),
        _stale_findings(used, books, first, last),
        _change_findings(books, first, last, watch_end),
    ]
    return _finish(pd.concat([f for f in found if len(f)], ignore_index=True)
                   if any(len(f) for f in found) else pd.DataFrame())


def summarize_registry(findings: pd.DataFrame) -> pd.DataFrame:
    """The reconciliation's findings counted by reason: every reason, found or not.

    Parameters
    ----------
    findings : DataFrame
        :func:`reconcile_registry` output.

    Returns
    -------
    DataFrame
        One row per reason of :data:`REASONS`, in that order: ``reason``, ``reason_text``,
        ``findings`` (rows), ``sites`` (distinct sites named), ``claims`` and
        ``dollars_at_risk`` (claim findings; 0 where none), ``claims_without_costs``.

    Examples
    --------
    >>> found = pd.DataFrame({"reason": ["WRONG_ENTITY", "WRONG_ENTITY"],
    ...                       "site_id": ["A", "A"], "claims": [2, 3],
    ...                       "dollars_at_risk": [10.0, 5.5], "claims_without_costs": [0, 1]})
    >>> summarize_registry(found)[["reason", "findings", "sites", "claims", "dollars_at_risk"]]
                      reason  findings  sites  claims  dollars_at_risk
    0  UNREGISTERED_ACTIVITY         0      0       0              0.0
    1           WRONG_ENTITY         2      1       5             15.5
    2     STALE_REGISTRATION         0      0       0              0.0
    3    REGISTRATION_CHANGE         0      0       0              0.0
    """
    missing = [c for c in ("reason", "site_id", "claims", "dollars_at_risk",
                           "claims_without_costs") if c not in findings.columns]
    if missing:
        raise InputError(f"findings: columns missing: {', '.join(missing)}; pass what "
                         "reconcile_registry returns")
    grouped = findings.groupby("reason", sort=False)
    summary = pd.DataFrame({
        "findings": grouped.size(),
        "sites": grouped["site_id"].nunique(),
        "claims": grouped["claims"].sum(min_count=0),
        "dollars_at_risk": grouped["dollars_at_risk"].sum(min_count=0),
        "claims_without_costs": grouped["claims_without_costs"].sum(min_count=0),
    }).reindex(list(REASONS))
    summary = summary.fillna(0)
    summary = summary.astype({"findings": "int64", "sites": "int64", "claims": "int64",
                              "claims_without_costs": "int64", "dollars_at_risk": "float64"})
    summary.insert(0, "reason_text", [REASON_TEXT[r] for r in REASONS])
    return summary.rename_axis("reason").reset_index()


# --- the period and the 340B claims --------------------------------------------------------------


def _period(period_start: Any, period_end: Any, today: Any) -> tuple[int, int, int]:
    """First and last day of the period and the watch window's last day, as day numbers."""
    first, last = parse_dates([period_start, period_end], "period_start, period_end").astype(
        np.int64)
    if last < first:
        raise InputError(
            f"period_end {_day_text(last)} is before period_start {_day_text(first)}; give "
            "the first and the last day of the period, in that order")
    anchor = last
    if today is not None:
        anchor = max(last, int(parse_dates([today], "today").astype(np.int64)[0]))
    return int(first), int(last), int(anchor) + REGISTRATION_WATCH_DAYS


def _day_text(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _days(dates: pd.Series) -> np.ndarray:
    return dates.to_numpy(dtype="datetime64[D]").astype(np.int64)


def _claims_340b(claims: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """The period's 340B claims (as the audit counts them), one row each: service day, site,
    the entity on the claim (blank: none), and the dollars at stake."""
    day = _days(claims["service_date"])
    rows = np.flatnonzero(audit340b.is_340b_claim(claims) & (day >= first) & (day <= last))
    picked = claims.iloc[rows]
    given = (picked["entity_id"].astype(object).to_numpy() if "entity_id" in picked
             else np.full(len(rows), None, dtype=object))
    return pd.DataFrame({
        "day": day[rows],
        "site_id": picked["site_id"].astype(object).to_numpy(),
        "given_entity": given,
        "dollars": audit340b.dollars_at_stake(picked),
    })


# --- the registrations ---------------------------------------------------------------------------


class _Books:
    """The registrations as day-number intervals: raw site rows, and the effective ones (a
    site row cut to the days its entity is registered too)."""

    def __init__(self, entities: pd.DataFrame, sites: pd.DataFrame) -> None:
        self.entity_rows = _intervals(entities, entity_id=_ids(entities["entity_id"]))
        self.site_rows = _intervals(sites, site_id=_ids(sites["site_id"]),
                                    entity_id=_ids(sites["entity_id"]),
                                    site_type=sites["site_type"].astype(object).to_numpy())
        self.site_rows["row"] = np.arange(len(self.site_rows))
        pieces = self.site_rows.merge(self.entity_rows, on="entity_id", suffixes=("", "_e"))
        pieces["start"] = np.maximum(pieces["start"], pieces["start_e"])
        pieces["end"] = np.minimum(pieces["end"], pieces["end_e"])
        self.effective = pieces.loc[pieces["start"] <= pieces["end"],
                                    ["row", "site_id", "entity_id", "start", "end"]]

    def claim_entities(self, used: pd.DataFrame) -> np.ndarray:
        """Each claim's entity: the one on the claim, else the site's (the audit's rule);
        None when it cannot be told."""
        entity = used["given_entity"].to_numpy(dtype=object).copy()
        blank = np.flatnonzero(pd.isna(entity))
        if blank.size == 0:
            return entity
        rows = pd.DataFrame({"claim": blank, "site_id": used["site_id"].to_numpy()[blank],
                             "day": used["day"].to_numpy()[blank]}).merge(
            self.site_rows[["site_id", "entity_id", "start", "end"]], on="site_id")
        rows["active"] = (rows["start"] <= rows["day"]) & (rows["day"] <= rows["end"])
        active = rows[rows["active"]].groupby("claim")["entity_id"].agg(["first", "nunique"])
        anytime = rows.groupby("claim")["entity_id"].agg(["first", "nunique"])
        # Registered on the date names the entity; else a site of one entity only names it.
        choice = anytime.join(active.add_suffix("_active"), how="left")
        on_date = choice["nunique_active"].notna().to_numpy()
        unique = np.where(on_date, choice["nunique_active"].fillna(0) == 1,
                          choice["nunique"] == 1)
        named = np.where(on_date, choice["first_active"], choice["first"])
        entity[choice.index.to_numpy()] = np.where(unique, named, None)
        return entity


def _ids(values: pd.Series) -> np.ndarray:
    return values.astype(object).to_numpy()


def _intervals(table: pd.DataFrame, **columns: np.ndarray) -> pd.DataFrame:
    end = table["end_date"].to_numpy(dtype="datetime64[D]")
    return pd.DataFrame({
        **columns,
        "start": _days(table["start_date"]),
        "end": np.where(np.isnat(end), _OPEN_END, end.astype(np.int64)),
        "start_date": table["start_date"].to_numpy(dtype="datetime64[ns]"),
        "end_date": table["end_date"].to_numpy(dtype="datetime64[ns]"),
    })


def _covering(claims: pd.DataFrame, periods: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Pairs of (claim, period row) with the same ``on`` keys whose period covers the day."""
    pairs = claims.merge(periods, on=on, suffixes=("", "_reg"))
    return pairs[(pairs["start"] <= pairs["day"]) & (pairs["day"] <= pairs["end"])]


# --- the findings --------------------------------------------------------------------------------


def _activity_findings(used: pd.DataFrame, books: _Books) -> pd.DataFrame:
    """UNREGISTERED_ACTIVITY and WRONG_ENTITY, by entity, site and month."""
    claims = used.assign(claim=np.arange(len(used)))
    # Every registration of the claim's site in force on the service date (a site has one
    # or two rows: the merge stays about as long as the claims).
    on_date = _covering(claims[["claim", "site_id", "entity", "day"]], books.effective,
                        ["site_id"])
    own = (on_date["entity_id"] == on_date["entity"]).to_numpy(dtype=bool, na_value=False)
    registered = np.zeros(len(claims), dtype=bool)
    registered[on_date["claim"].to_numpy()[own]] = True
    other = on_date[~own].drop_duplicates("claim")  # whose, the first when several
    registered_to = np.full(len(claims), None, dtype=object)
    registered_to[other["claim"].to_numpy()] = other["entity_id"].to_numpy(dtype=object)
    unknown_entity = claims["entity"].isna().to_numpy()
    # A site registered on the date while the claim's entity cannot be told (a site of
    # several entities) is the audit's ENTITY_UNKNOWN, not a registration finding.
    wrong = ~registered & ~unknown_entity & pd.notna(registered_to)
    unregistered = ~registered & pd.isna(registered_to)
    flagged = claims[wrong | unregistered].assign(
        reason=np.where(wrong, "WRONG_ENTITY", "UNREGISTERED_ACTIVITY")[wrong | unregistered],
        registered_entity_id=registered_to[wrong | unregistered],
    )
    if flagged.empty:
        return pd.DataFrame()
    flagged["detail"] = _unregistered_detail(flagged, books)
    flagged["month"] = (flagged["day"].to_numpy().astype("datetime64[D]")
                        .astype("datetime64[M]").astype(str))
    flagged["unknown_cost"] = flagged["dollars"].isna().to_numpy()
    keys = ["reason", "entity", "site_id", "registered_entity_id", "detail", "month"]
    grouped = flagged.groupby(keys, dropna=False, sort=False)
    found = grouped.agg(claims=("claim", "size"), dollars_at_risk=("dollars", "sum"),
                        claims_without_costs=("unknown_cost", "sum")).reset_index()
    found = found.rename(columns={"entity": "entity_id"})
    types = books.site_rows.drop_duplicates("site_id").set_index("site_id")["site_type"]
    found["site_type"] = found["site_id"].map(types)
    return found


def _unregistered_detail(flagged: pd.DataFrame, books: _Books) -> np.ndarray:
    """Which case of DETAIL_TEXT each flagged claim is."""
    keys = flagged[["claim", "site_id", "entity", "day"]].rename(columns={"entity": "entity_id"})
    # The site's own row for the entity covers the date: only the entity's registration
    # is missing. A row for the entity at other times: outside the site's registration.
    covered = flagged["claim"].isin(
        _covering(keys, books.site_rows, ["site_id", "entity_id"])["claim"]).to_numpy()
    pairs = books.site_rows[["site_id", "entity_id"]].drop_duplicates()
    has_pair = flagged["claim"].isin(keys.merge(pairs, on=["site_id", "entity_id"])["claim"])
    site_known = flagged["site_id"].isin(books.site_rows["site_id"]).to_numpy()
    no_entity = flagged["entity"].isna().to_numpy()
    case = np.select([~site_known, no_entity, covered, has_pair.to_numpy()],
                     ["site_unknown", "entity_unknown", "entity_not_registered",
                      "outside_site_registration"],
                     "site_not_for_entity").astype(object)
    return np.where(flagged["reason"] == "WRONG_ENTITY", "registered_to_other", case)


def _stale_findings(used: pd.DataFrame, books: _Books, first: int, last: int) -> pd.DataFrame:
    """STALE_REGISTRATION: per site and entity registered (effectively) for some of the
    period, no 340B claim at the site in the period."""
    pieces = books.effective.assign(start=np.maximum(books.effective["start"], first),
                                    end=np.minimum(books.effective["end"], last))
    pieces = pieces[pieces["start"] <= pieces["end"]]
    if pieces.empty:
        return pd.DataFrame()
    rows = books.site_rows[books.site_rows["row"].isin(pieces["row"])]
    per_site = rows.groupby(["site_id", "entity_id"], sort=False).agg(
        site_type=("site_type", "first"), start_date=("start_date", "min"),
        end_date=("end_date", lambda e: e.max() if e.notna().all() else pd.NaT),
    ).reset_index()
    # Any 340B claim at the site in the period uses it, on a registered day or not, under
    # its entity or another: claims outside the registration are UNREGISTERED_ACTIVITY,
    # under another entity WRONG_ENTITY, and one problem is not listed twice.
    stale = per_site[~per_site["site_id"].isin(used["site_id"].unique())]
    return stale.assign(reason="STALE_REGISTRATION", detail="no_340b_claims", claims=0)


def _change_findings(books: _Books, first: int, last: int, watch_end: int) -> pd.DataFrame:
    """REGISTRATION_CHANGE: starts and ends in the period, ends in the watch window."""
    found = []
    for kind, rows in (("entity", books.entity_rows),
                       ("site", books.site_rows.drop(columns="row"))):
        events = (
            ("starts", rows["start"], (rows["start"] >= first) & (rows["start"] <= last)),
            ("ends", rows["end"], (rows["end"] >= first) & (rows["end"] <= last)),
            ("ends_soon", rows["end"], (rows["end"] > last) & (rows["end"] <= watch_end)),
        )
        for event, day, hit in events:
            picked = rows[hit.to_numpy()]
            found.append(picked.assign(
                reason="REGISTRATION_CHANGE", detail=f"{kind}_{event}",
                month=day[hit].to_numpy().astype("datetime64[D]").astype("datetime64[M]")
                .astype(str)))
    return pd.concat(found, ignore_index=True).drop(columns=["start", "end"])


def _finish(found: pd.DataFrame) -> pd.DataFrame:
    """The findings in the documented columns, dtypes and order."""
    for column in COLUMNS:
        if column not in found:
            found[column] = None
    found = found.loc[:, list(COLUMNS)].copy()
    found["reason_text"] = found["reason"].map(REASON_TEXT)
    found["detail"] = found["detail"].map(DETAIL_TEXT)
    for column in ("reason", "reason_text", "detail", "entity_id", "site_id", "site_type",
                   "registered_entity_id", "month"):
        found[column] = found[column].astype("string")
    for column in ("claims", "claims_without_costs"):
        found[column] = pd.array(found[column].to_numpy(dtype=object), dtype="Int64")
    found["dollars_at_risk"] = pd.to_numeric(found["dollars_at_risk"], errors="raise").astype(
        float)
    for column in ("start_date", "end_date"):
        found[column] = pd.to_datetime(found[column]).astype("datetime64[us]")
    order = found["reason"].map({r: i for i, r in enumerate(REASONS)})
    found = found.assign(_order=order).sort_values(
        ["_order", "entity_id", "site_id", "month", "detail"], na_position="first",
        kind="stable")
    return found.drop(columns="_order").reset_index(drop=True)

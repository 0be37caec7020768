"""The 340B split-billing accumulator of mixed-use areas, and its check against purchases.

A mixed-use area (a hospital outpatient department, an infusion center, an entity-owned
pharmacy) dispenses 340B-eligible and ineligible patients from one neutral inventory. The
*replenishment model* (virtual inventory) reorders what was used on the account the use
qualifies for: every dispensation accumulates per 11-digit NDC and location, in billing units;
eligible 340B use accumulates to the 340B account, other use to the GPO account -- or to WAC
where the GPO prohibition binds (DSH, children's and free-standing cancer hospitals at their
registered sites) -- and only whole packages are reordered: the remainder carries forward
(docs/340b-accumulator.md, with its sources).

:func:`accumulate` keeps the accumulator per NDC x location x account x month;
:func:`replenishment` compares it with the packages actually bought on each account and names
the 340B months where the two part:

==================  ==================================================================
finding             the 340B row of an NDC, location and month
==================  ==================================================================
OVER_REPLENISHED    more packages bought on 340B than eligible use made due: 340B stock
                    not supported by eligible use (diversion exposure)
UNDER_REPLENISHED   fewer packages bought on 340B than due: eligible use replenished on
                    GPO or WAC (savings left behind)
==================  ==================================================================

Choices (each in docs/340b-accumulator.md):

- **Which use is 340B-eligible** is the audit's word (:func:`rxxl.audit340b.audit_claims`):
  a claim on the 340B account that the audit found compliant. A 340B claim with a finding
  (violation *or* review) accumulates off 340B until it is resolved: replenishing it on 340B
  would be the diversion the accumulator exists to prevent.
- **Where ineligible use goes.** A claim on GPO or WAC stays on its account; a 340B claim
  that is not eligible moves to GPO. GPO use goes to WAC where the GPO prohibition binds: for
  a GPO claim, where the audit found ``GPO_PROHIBITION``; for a former 340B claim, when its
  entity is a DSH/PED/CAN hospital and the audit found it registered, at a registered site,
  outpatient (no ``ENTITY_INACTIVE``, ``SITE_NOT_REGISTERED`` or ``INPATIENT``), and when its
  entity cannot be told (``ENTITY_UNKNOWN``: a GPO buy could not be shown to be allowed).
- **What counts as use.** A paid claim; a denied *medical* claim too (the dose was given from
  the shared stock: the audit checks it for the same reason), unless ``denied_medical_given``
  is False. A denied pharmacy claim was not dispensed and adds nothing.
- **Reversals.** A claim named by a later claim's ``original_claim_id`` was reversed and
  replaced: its units, if they counted, come off the accumulator in the replacing claim's
  month (the month the reversal reached it), and the replacement counts on its own.
- **Whole packages.** Packages ordered to date = floor(highest cumulative units to date /
  package size): a reversal never un-orders a package, so the balance carried
  (cumulative units - packages x size) goes negative when a reversal takes back units already
  reordered -- units the next eligible use must fill before another package is due.
- **The accumulator starts at zero** in the first month of the claims given: pass the history
  since it was last reset (the ``months`` option then limits what is returned).

Everything is vectorized: the claims become integer-coded events, a group-by sums them per key
and month, and the carry forward is a cumulative sum, a cumulative maximum and a floor
division per key.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from rxxl.audit340b import COMPLIANT, GPO_PROHIBITED_TYPES
from rxxl.errors import InputError

ACCOUNTS = ("340B", "GPO", "WAC")
OVER_REPLENISHED, UNDER_REPLENISHED = "OVER_REPLENISHED", "UNDER_REPLENISHED"
#: Each finding in plain words, as a report shows it.
FINDINGS: dict[str, str] = {
    OVER_REPLENISHED: "More packages bought on 340B than eligible use made due: 340B stock "
                      "not supported by eligible use (diversion exposure)",
    UNDER_REPLENISHED: "Fewer packages bought on 340B than eligible use made due: eligible "
                       "use replenished on GPO or WAC (savings left behind)",
}
#: Each finding's short name, as a table's column shows it.
FINDING_NAMES: dict[str, str] = {OVER_REPLENISHED: "Over-replenished",
                                 UNDER_REPLENISHED: "Under-replenished"}
#: Units within this of a package boundary count as reaching it (float sums of fractional
#: doses such as 0.1 mL must not lose a package to rounding).
_UNIT_TOLERANCE = 1e-9

CLAIM_COLUMNS = ("claim_id", "service_date", "ndc", "quantity", "site_id", "account",
                 "claim_type", "status", "unit_cost_340b", "unit_cost_wac")
AUDIT_COLUMNS = ("entity_id", "status", "reasons")
DRUG_COLUMNS = ("ndc", "package_size")
PURCHASE_COLUMNS = ("month", "ndc", "quantity", "unit_cost_actual", "account", "location")
KEY = ["ndc", "location", "account"]


def accumulate(
    claims: pd.DataFrame,
    drugs: pd.DataFrame,
    audit: pd.DataFrame,
    entity: pd.DataFrame,
    *,
    location: pd.Series | None = None,
    opening: pd.DataFrame | None = None,
    months: Iterable[str] | None = None,
    denied_medical_given: bool = True,
) -> pd.DataFrame:
    """The replenishment accumulator per NDC, location, account and month.

    Parameters
    ----------
    claims : DataFrame
        Claims as ``rxxl.data.load_table(..., "claims")`` loads them (``original_claim_id``
        optional: without it no claim was reversed).
    drugs : DataFrame
        The ``drugs`` table: ``package_size`` (billing units per package) per NDC.
    audit : DataFrame
        :func:`rxxl.audit340b.audit_claims` of these claims (same rows, same order).
    entity : DataFrame
        The ``entity`` reference table (the entity type decides the GPO prohibition).
    location : Series, optional
        Each claim's inventory location, aligned with ``claims``. Default: the claims'
        ``location`` column when they have one (its blanks: the ``site_id``), else
        ``site_id``.
    opening : DataFrame, optional
        The balance the accumulator opens with, carried from before the first month of
        the claims: ``ndc``, ``location``, ``account`` and ``units_carried`` (the
        ``accumulator_balances`` table's rows for the month before). Default: zero.
    months : iterable of str, optional
        ``YYYY-MM`` months to return (the accumulation still runs over every claim given).
    denied_medical_given : bool
        A denied medical claim's dose was given and counts as use (default).

    Returns
    -------
    DataFrame
        One row per ``ndc, location, account`` that had use, and ``month`` (``YYYY-MM``,
        every month from the key's first use, or the first month when it opened with a
        balance, to the last month of the claims): ``units`` used in the month (net of
        reversals), ``cumulative_units`` (the opening balance and the use since),
        ``packages_due`` (whole packages the month's use completes), ``units_carried``
        (the balance carried to the next month; negative after a reversal of reordered
        units), ``package_size``, and ``unit_cost_340b`` / ``unit_cost_wac`` (the month's
        claims' unit costs, weighted by units; NaN when unknown), sorted by key and month.

    Raises
    ------
    InputError
        A missing column, an audit that does not match the claims, an NDC with 340B use
        and no package size, or a package size that is not positive.

    Examples
    --------
    Package of 10 units; 7 + 6 units in September, 9 in October:

    >>> claims = pd.DataFrame({
    ...     "claim_id": ["A", "B", "C"], "service_date": pd.to_datetime(
    ...         ["2026-09-02", "2026-09-20", "2026-10-05"]),
    ...     "ndc": "00006148230", "quantity": [7.0, 6.0, 9.0], "site_id": "S1",
    ...     "account": "340B", "claim_type": "medical", "status": "paid",
    ...     "unit_cost_340b": 50.0, "unit_cost_wac": 120.0})
    >>> audit = pd.DataFrame({"entity_id": "E1", "status": "compliant", "reasons": ""},
    ...                      index=claims.index)
    >>> entity = pd.DataFrame({"entity_id": ["E1"], "entity_type": ["DSH"]})
    >>> drugs = pd.DataFrame({"ndc": ["00006148230"], "package_size": [10.0]})
    >>> accumulate(claims, drugs, audit, entity)[["month", "units", "packages_due",
    ...                                           "units_carried"]]
         month  units  packages_due  units_carried
    0  2026-09   13.0             1            3.0
    1  2026-10    9.0             1            2.0
    """
    _require(claims, CLAIM_COLUMNS, "claims", "load claims with rxxl.data.load_table")
    _require(audit, AUDIT_COLUMNS, "audit", "pass rxxl.audit340b.audit_claims(claims, ...)")
    _require(drugs, DRUG_COLUMNS, "drugs", "add the drugs table's package_size column")
    _require(entity, ("entity_id", "entity_type"), "entity", "pass the entity reference table")
    if len(audit) != len(claims) or not audit.index.equals(claims.index):
        raise InputError(f"audit: {len(audit):,} rows for {len(claims):,} claims; pass the "
                         "audit_claims result of exactly these claims, in their order")
    where = _locations(claims, location)
    events = _events(claims, audit, entity, where, denied_medical_given)
    if opening is not None:
        _add_opening(events, opening)
    return _accumulate(events, drugs, months)


def _require(frame: pd.DataFrame, columns: Iterable[str], table: str, fix: str) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise InputError(f"{table}: missing column(s) {', '.join(missing)}; {fix}")


def inventory_locations(claims: pd.DataFrame) -> pd.Series:
    """Each claim's inventory location as the accumulator keys it: the ``location`` column
    (the dispensing inventory) where filled, else the ``site_id`` (a claim without one draws
    on its site's own stock).

    >>> inventory_locations(pd.DataFrame({"site_id": ["CLINIC", "CLINIC"],
    ...                                   "location": ["INFUSION", None]})).tolist()
    ['INFUSION', 'CLINIC']
    """
    if "location" not in claims:
        return claims["site_id"]
    return claims["location"].astype(object).where(claims["location"].notna(),
                                                   claims["site_id"])


def _locations(claims: pd.DataFrame, location: pd.Series | None) -> pd.Series:
    if location is None:
        location = inventory_locations(claims)
    elif len(location) != len(claims) or not location.index.equals(claims.index):
        raise InputError("location: give one inventory location per claim, with the claims' "
                         "index")
    blank = location.isna().to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise InputError(f"claims row {row + 1}: no inventory location (site_id or location "
                         "blank); fill it so the use can accumulate where it was dispensed")
    return location


def _is(values: pd.Series, label: str) -> np.ndarray:
    return (values == label).to_numpy(dtype=bool, na_value=False)


def _has(reasons: pd.Series, code: str) -> np.ndarray:
    """Whether each audit row lists ``code`` (reasons are joined by ';'); few distinct
    reason lists occur, so each is looked at once."""
    codes, distinct = pd.factorize(reasons, use_na_sentinel=False)
    listed = np.array([isinstance(text, str) and code in text.split(";") for text in distinct],
                      dtype=bool)
    return listed[codes] if len(distinct) else np.zeros(len(reasons), dtype=bool)


class _Events:
    """Unit movements as integer codes: ``frame`` has ``ndc``, ``location`` (codes into
    ``ndcs`` and ``locations``), ``account`` (index into ACCOUNTS), ``month`` (period
    ordinal), ``units`` and the units' ``cost_340b`` and ``cost_wac`` in dollars."""

    def __init__(self, frame: pd.DataFrame, ndcs: np.ndarray, locations: np.ndarray) -> None:
        self.frame, self.ndcs, self.locations = frame, ndcs, locations


def accumulation_accounts(claims: pd.DataFrame, audit: pd.DataFrame,
                          entity: pd.DataFrame) -> np.ndarray:
    """The account each claim's use accumulates to (module notes): ``340B`` for eligible
    340B use, else ``GPO`` or, where the GPO prohibition binds, ``WAC``."""
    return np.asarray(ACCOUNTS, dtype=object)[_account_codes(claims, audit, entity)]


def _account_codes(claims: pd.DataFrame, audit: pd.DataFrame,
                   entity: pd.DataFrame) -> np.ndarray:
    """Index into ACCOUNTS of each claim's accumulation account."""
    reasons = audit["reasons"]
    on_340b, on_gpo = _is(claims["account"], "340B"), _is(claims["account"], "GPO")
    eligible = on_340b & _is(audit["status"], COMPLIANT)
    types = entity.drop_duplicates("entity_id").set_index("entity_id")["entity_type"]
    entity_code, entity_ids = pd.factorize(audit["entity_id"])
    prohibited = np.append(pd.Index(entity_ids).map(types).isin(GPO_PROHIBITED_TYPES), False)
    bound_former_340b = (prohibited[entity_code] & ~_has(reasons, "ENTITY_INACTIVE")
                         & ~_has(reasons, "SITE_NOT_REGISTERED") & ~_has(reasons, "INPATIENT")
                         ) | _has(reasons, "ENTITY_UNKNOWN")
    to_wac = (on_gpo & _has(reasons, "GPO_PROHIBITION")) | (
        on_340b & ~eligible & bound_former_340b) | _is(claims["account"], "WAC")
    account = np.where(eligible, 0, np.where(to_wac, 2, 1)).astype(np.int8)
    unknown = ~(on_340b | on_gpo | _is(claims["account"], "WAC"))
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        raise InputError(f"claims row {row + 1}: account is not 340B, GPO or WAC; load claims "
                         "with rxxl.data.load_table")
    return account


def _events(claims: pd.DataFrame, audit: pd.DataFrame, entity: pd.DataFrame,
            location: pd.Series, denied_medical_given: bool) -> _Events:
    """One row per unit movement: each counted claim in its own month, and each reversal
    (a counted claim that a later claim replaced) with the opposite sign in the month of
    its replacement."""
    status = claims["status"]
    counted = _is(status, "paid") | (denied_medical_given & _is(claims["claim_type"], "medical")
                                     & _is(status, "denied"))

    account = _account_codes(claims, audit, entity)
    ndc, ndcs = pd.factorize(claims["ndc"])
    where, locations = pd.factorize(location)
    used = np.where(counted, claims["quantity"].to_numpy(dtype=float), 0.0)
    month = claims["service_date"].dt.to_period("M").array.asi8
    frame = pd.DataFrame({
        "ndc": ndc, "location": where, "account": account, "month": month, "units": used,
        "cost_340b": used * claims["unit_cost_340b"].to_numpy(dtype=float, na_value=np.nan),
        "cost_wac": used * claims["unit_cost_wac"].to_numpy(dtype=float, na_value=np.nan),
        "opening": 0.0,
    })
    events = _Events(frame, np.asarray(ndcs, dtype=object), np.asarray(locations, dtype=object))
    if "original_claim_id" not in claims:
        return events
    rebill = np.flatnonzero(claims["original_claim_id"].notna().to_numpy())
    if rebill.size == 0:
        return events
    # Few claims are rebills: look the replaced ones up from the rebills' side.
    replaced_by = pd.Series(month[rebill],
                            index=claims["original_claim_id"].iloc[rebill].astype(str).to_numpy())
    replaced_by = replaced_by[~replaced_by.index.duplicated()]
    replaced = np.flatnonzero(claims["claim_id"].isin(replaced_by.index).to_numpy() & counted)
    if replaced.size == 0:
        return events
    reversals = frame.iloc[replaced].copy()
    reversals["month"] = replaced_by.loc[
        claims["claim_id"].iloc[replaced].astype(str).to_numpy()].to_numpy()
    reversals["units"] = -reversals["units"]
    # A reversal takes units back; it says nothing about the month's prices.
    reversals["cost_340b"] = reversals["cost_wac"] = 0.0
    events.frame = pd.concat([frame, reversals], ignore_index=True)
    return events


def _add_opening(events: _Events, opening: pd.DataFrame) -> None:
    """The opening balances as events of the first month: no use, no price, the units
    carried in ``opening``."""
    _require(opening, ("ndc", "location", "account", "units_carried"), "opening",
             "pass the accumulator_balances rows of the month before the claims")
    account = pd.Index(ACCOUNTS).get_indexer(opening["account"].astype(str))
    if (account < 0).any():
        row = int(np.flatnonzero(account < 0)[0])
        raise InputError(f"opening row {row + 1}: account {opening['account'].iloc[row]!r} is "
                         "not 340B, GPO or WAC")
    carried = opening["units_carried"].to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(carried).any():
        row = int(np.flatnonzero(np.isnan(carried))[0])
        raise InputError(f"opening row {row + 1}: units_carried is blank; give the units "
                         "carried (0 for none)")
    keys = opening[["ndc", "location"]].astype(str).assign(account=account)
    if keys.duplicated().any():
        row = int(np.flatnonzero(keys.duplicated().to_numpy())[0])
        raise InputError(f"opening row {row + 1}: NDC {keys['ndc'].iloc[row]} at "
                         f"{keys['location'].iloc[row]} on {ACCOUNTS[account[row]]} is listed "
                         "twice; give one balance per NDC, location and account")
    frame = events.frame
    if frame.empty:
        return
    ndcs = pd.Index(events.ndcs.astype(str)).append(
        pd.Index(keys["ndc"]).difference(events.ndcs.astype(str)))
    locations = pd.Index(events.locations.astype(str)).append(
        pd.Index(keys["location"]).difference(events.locations.astype(str)))
    rows = pd.DataFrame({
        "ndc": ndcs.get_indexer(keys["ndc"]), "location": locations.get_indexer(
            keys["location"]), "account": account.astype(np.int8),
        "month": int(frame["month"].min()), "units": 0.0, "cost_340b": 0.0,
        "cost_wac": 0.0, "opening": carried})
    events.frame = pd.concat([frame, rows], ignore_index=True)
    events.ndcs = np.asarray(ndcs, dtype=object)
    events.locations = np.asarray(locations, dtype=object)


def _package_sizes(drugs: pd.DataFrame, events: _Events) -> np.ndarray:
    """Package size per NDC code of the events; refuses what would make a 340B package
    unknown."""
    table = drugs[["ndc", "package_size"]].copy()
    table["ndc"] = table["ndc"].astype(str)
    duplicated = table["ndc"].duplicated()
    if duplicated.any():
        ndc = table["ndc"][duplicated].iloc[0]
        raise InputError(f"drugs: NDC {ndc} is listed more than once; keep one row per NDC")
    size = table.set_index("ndc")["package_size"].astype(float)
    bad = size[size.notna() & (size <= 0)]
    if len(bad):
        row = int(np.flatnonzero(table["ndc"].to_numpy() == bad.index[0])[0])
        raise InputError(f"drugs row {row + 1} (NDC {bad.index[0]}): package_size "
                         f"{bad.iloc[0]:g} is not positive; give the billing units per "
                         "package (e.g. 10 for a 10-vial carton billed per vial)")
    per_code = size.reindex(events.ndcs.astype(str)).to_numpy()
    frame = events.frame
    used_340b = np.unique(frame["ndc"].to_numpy()[(frame["account"].to_numpy() == 0) & (
        (frame["units"].to_numpy() != 0) | (frame["opening"].to_numpy() != 0))])
    missing = used_340b[np.isnan(per_code[used_340b])]
    if missing.size:
        ndc = str(events.ndcs[missing[0]])
        listed = "has no package_size" if ndc in size.index else "is not in the drugs table"
        raise InputError(f"drugs: NDC {ndc} has 340B use but {listed}; add its billing units "
                         "per package so its whole packages can be counted")
    return per_code


def _accumulate(events: _Events, drugs: pd.DataFrame,
                months: Iterable[str] | None) -> pd.DataFrame:
    columns = ["ndc", "location", "account", "month", "units", "cumulative_units",
               "packages_due", "units_carried", "package_size", "unit_cost_340b",
               "unit_cost_wac"]
    frame = events.frame
    if frame.empty:
        return pd.DataFrame(columns=columns)
    size = _package_sizes(drugs, events)
    # One integer per key (ndc, location, account) and one per key and month.
    key = ((frame["ndc"].to_numpy(np.int64) * len(events.locations)
            + frame["location"].to_numpy(np.int64)) * len(ACCOUNTS)
           + frame["account"].to_numpy(np.int64))
    month = frame["month"].to_numpy(np.int64)
    first_month, last = int(month.min()), int(month.max())
    cell = key * (last - first_month + 1) + (month - first_month)
    units = frame["units"].to_numpy()
    cost_340b, cost_wac = frame["cost_340b"].to_numpy(), frame["cost_wac"].to_numpy()
    sums = pd.DataFrame({
        "cell": cell, "units": units,
        "cost_340b": np.nan_to_num(cost_340b), "priced_340b": np.where(np.isnan(cost_340b),
                                                                       0.0, units),
        "cost_wac": np.nan_to_num(cost_wac), "priced_wac": np.where(np.isnan(cost_wac), 0.0,
                                                                    units),
        "opening": frame["opening"].to_numpy(),
    }).groupby("cell", sort=True).sum()
    cells = sums.index.to_numpy()
    cell_key, cell_month = np.divmod(cells, last - first_month + 1)
    cell_month = cell_month + first_month

    # Every month from each key's first use to the last month: the balance carries through
    # months without use.
    keys, key_code = np.unique(cell_key, return_inverse=True)
    first = np.full(len(keys), np.iinfo(np.int64).max)
    np.minimum.at(first, key_code, cell_month)
    span = last - first + 1
    start = np.cumsum(span) - span
    grid_key = np.repeat(np.arange(len(keys)), span)
    grid_month = np.repeat(first, span) + np.arange(span.sum()) - np.repeat(start, span)
    at = start[key_code] + cell_month - first[key_code]

    n = len(grid_key)
    used, opened = np.zeros(n), np.zeros(n)
    used[at] = sums["units"].to_numpy()
    opened[at] = sums["opening"].to_numpy()
    unit_340b, unit_wac = np.full(n, np.nan), np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_340b[at] = sums["cost_340b"].to_numpy() / sums["priced_340b"].to_numpy()
        unit_wac[at] = sums["cost_wac"].to_numpy() / sums["priced_wac"].to_numpy()
    ndc_location, account = np.divmod(keys[grid_key], len(ACCOUNTS))
    ndc, location = np.divmod(ndc_location, len(events.locations))
    package = size[ndc]

    # Packages ordered to date follow the highest cumulative use so far: a reversal lowers
    # the balance, never the packages already ordered.
    # An opening balance below zero (a reversal of reordered units) must be refilled
    # before another package is due: packages follow the highest of zero and the use.
    new_key = np.r_[True, grid_key[1:] != grid_key[:-1]]
    cumulative = pd.Series(used + opened).groupby(grid_key).cumsum().to_numpy()
    highest = np.maximum(pd.Series(cumulative).groupby(grid_key).cummax().to_numpy(), 0.0)
    with np.errstate(invalid="ignore"):
        ordered = np.floor(highest / package + _UNIT_TOLERANCE)
    before = np.where(new_key, 0.0, np.r_[0.0, ordered[:-1]])
    result = pd.DataFrame({
        "ndc": events.ndcs[ndc].astype(str),
        "location": events.locations[location].astype(str),
        "account": np.asarray(ACCOUNTS, dtype=object)[account],
        "month": pd.PeriodIndex.from_ordinals(grid_month, freq="M").astype(str),
        "units": used,
        "cumulative_units": cumulative,
        "packages_due": pd.array(np.where(np.isnan(ordered), np.nan, ordered - before),
                                 dtype="Int64"),
        "units_carried": np.round(cumulative - ordered * package, 9),
        "package_size": package,
        # Weighted means of prices given to 4 decimals: 6 keep them exact to the eye
        # (6.64, not 6.639999999999999).
        "unit_cost_340b": np.round(np.where(np.isfinite(unit_340b), unit_340b, np.nan), 6),
        "unit_cost_wac": np.round(np.where(np.isfinite(unit_wac), unit_wac, np.nan), 6),
    })
    if months is not None:
        result = result[result["month"].isin(_months(months))]
    return result.sort_values([*KEY, "month"], ignore_index=True)[columns]


def _months(months: Iterable[str]) -> list[str]:
    wanted = []
    for value in months:
        try:
            wanted.append(str(pd.Period(str(value), freq="M")))
        except ValueError:
            raise InputError(f"months: {value!r} is not a month; give YYYY-MM") from None
    return wanted


def replenishment(accumulated: pd.DataFrame, purchases: pd.DataFrame, *,
                  physical: Iterable[str] = ()) -> pd.DataFrame:
    """Packages due by the accumulator against packages bought, per NDC, location, account
    and month, with the 340B findings and their dollars.

    Parameters
    ----------
    accumulated : DataFrame
        :func:`accumulate` output.
    purchases : DataFrame
        The ``drug_purchases`` table (``location`` filled on every row of the months
        compared; ``quantity`` in packages, net of returns).
    physical : iterable of str, optional
        Locations that keep a physical 340B inventory, bought ahead of use, instead of the
        replenishment model (``locations.replenishment`` false): their rows are listed, with
        no finding.

    Returns
    -------
    DataFrame
        One row per ``ndc, location, account, month`` of the accumulated months with use or
        a purchase: ``packages_due``, ``packages_bought``, ``difference`` (bought - due),
        ``cumulative_difference`` (the same, to date, from the first accumulated month),
        ``units_carried``; ``finding`` (``OVER_REPLENISHED``, ``UNDER_REPLENISHED`` or
        None: 340B rows of replenishment locations only) and ``finding_text``; ``packages_over`` and
        ``exposure_dollars`` (excess 340B packages x the 340B purchase's price per package);
        ``packages_under`` and ``savings_left_behind`` (missing 340B packages x (GPO/WAC
        price - 340B price) per package).

    Notes
    -----
    Prices per package, in this order of preference: the 340B price is that of the month's
    340B purchase of the NDC at the location, else the month's claims' 340B unit cost x
    package size; the price the shortfall was bought at instead is the month's GPO and WAC
    purchases of the NDC at the location (weighted by packages), else the claims' WAC unit
    cost x package size (what a GPO-prohibited entity pays, and an upper bound otherwise).
    Dollars are NaN where no price is known.

    The comparison is by month: an order placed early the next month for use late in this
    one shows as under- then over-replenished; ``cumulative_difference`` shows whether the
    two even out.
    """
    _require(accumulated, [*KEY, "month", "packages_due", "units_carried", "package_size",
                           "unit_cost_340b", "unit_cost_wac"], "accumulated",
             "pass the accumulate() result")
    _require(purchases, PURCHASE_COLUMNS, "drug_purchases", "load it with "
             "rxxl.data.load_table(..., 'drug_purchases')")
    months = set(accumulated["month"])
    bought = purchases.assign(month=_purchase_months(purchases))
    bought = bought[bought["month"].isin(months)]
    blank = bought["location"].isna().to_numpy()
    if blank.any():
        row = int(bought.index[blank][0])
        raise InputError(f"drug_purchases row {row + 1}: location is blank; the accumulator "
                         "compares purchases per location: fill the receiving location")
    quantity = bought["quantity"].to_numpy(dtype=float)
    price = bought["unit_cost_actual"].to_numpy(dtype=float, na_value=np.nan)
    # A month's price is that of what was bought (returns carry the credit price).
    priced = (quantity > 0) & ~np.isnan(price)
    bought = pd.DataFrame({
        "ndc": bought["ndc"].astype(str).to_numpy(dtype=object),
        "location": bought["location"].astype(str).to_numpy(dtype=object),
        "account": bought["account"].astype(str).to_numpy(dtype=object),
        "month": bought["month"].to_numpy(dtype=object),
        "packages_bought": quantity,
        "spent": np.where(priced, quantity * np.nan_to_num(price), 0.0),
        "priced": np.where(priced, quantity, 0.0),
    }).groupby([*KEY, "month"], as_index=False).sum()
    bought["package_price"] = bought["spent"] / bought["priced"].where(bought["priced"] > 0)

    frame = accumulated[[*KEY, "month", "packages_due", "units_carried", "package_size",
                         "unit_cost_340b", "unit_cost_wac"]].merge(
        bought[[*KEY, "month", "packages_bought", "package_price", "spent", "priced"]],
        on=[*KEY, "month"], how="outer", indicator=True)
    # A purchase without use is due nothing; a use without a package size stays unknown.
    bought_only = (frame.pop("_merge") == "right_only").to_numpy()
    frame["packages_due"] = np.where(bought_only, 0.0, frame["packages_due"].astype(float))
    frame["units_carried"] = np.where(bought_only, 0.0, frame["units_carried"])
    frame["packages_bought"] = frame["packages_bought"].fillna(0.0)
    frame = frame.sort_values([*KEY, "month"], ignore_index=True)
    frame["difference"] = frame["packages_bought"] - frame["packages_due"]
    frame["cumulative_difference"] = frame.groupby(KEY, sort=False)["difference"].cumsum()

    # The price the shortfall was bought at instead: the month's GPO and WAC purchases.
    other = frame[frame["account"] != "340B"].groupby(["ndc", "location", "month"])[
        ["spent", "priced"]].sum()
    other_price = (other["spent"] / other["priced"].where(other["priced"] > 0)).rename(
        "other_price")
    frame = frame.join(other_price, on=["ndc", "location", "month"])
    claims_340b = frame["unit_cost_340b"] * frame["package_size"]
    claims_wac = frame["unit_cost_wac"] * frame["package_size"]
    price_340b = frame["package_price"].where(frame["packages_bought"] > 0, claims_340b)
    price_340b = price_340b.fillna(claims_340b)
    price_other = frame["other_price"].fillna(claims_wac)

    on_340b = ((frame["account"] == "340B") & ~frame["location"].isin(list(physical))
               ).to_numpy()
    difference = frame["difference"].to_numpy()
    over = on_340b & (difference > _UNIT_TOLERANCE)
    under = on_340b & (difference < -_UNIT_TOLERANCE)
    finding = np.where(over, OVER_REPLENISHED, np.where(under, UNDER_REPLENISHED, None))
    frame["finding"] = pd.Series(finding, dtype=object).where(over | under, None)
    frame["finding_text"] = frame["finding"].map(FINDINGS)
    frame["packages_over"] = np.where(over, difference, 0.0)
    frame["exposure_dollars"] = np.round(frame["packages_over"] * price_340b.where(over, 0.0), 2)
    frame["packages_under"] = np.where(under, -difference, 0.0)
    frame["savings_left_behind"] = np.round(
        frame["packages_under"] * (price_other - price_340b).where(under, 0.0), 2)
    return frame[[*KEY, "month", "packages_due", "packages_bought", "difference",
                  "cumulative_difference", "units_carried", "finding", "finding_text",
                  "packages_over", "exposure_dollars", "packages_under",
                  "savings_left_behind"]]


def physical_locations(locations: pd.DataFrame | None) -> list[str]:
    """The locations that keep a physical 340B inventory: the ``locations`` table's rows
    with ``replenishment`` false (none without the table or the column).

    >>> physical_locations(pd.DataFrame({"location": ["OP", "INF"],
    ...                                  "replenishment": [False, None]}))
    ['OP']
    """
    if locations is None or "replenishment" not in locations:
        return []
    apart = locations["replenishment"].eq(False).to_numpy(dtype=bool, na_value=False)
    return locations.loc[apart, "location"].astype(str).tolist()


def _purchase_months(purchases: pd.DataFrame) -> np.ndarray:
    month = purchases["month"]
    if pd.api.types.is_datetime64_any_dtype(month):
        return month.dt.to_period("M").astype(str).to_numpy(dtype=object)
    try:
        return pd.PeriodIndex(month.astype(str), freq="M").astype(str).to_numpy(dtype=object)
    except (ValueError, TypeError):
        raise InputError("drug_purchases: month is not a month (YYYY-MM); load the table "
                         "with rxxl.data.load_table") from None

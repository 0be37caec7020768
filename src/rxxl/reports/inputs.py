"""Loading a data folder for the monthly package, one claims part at a time.

Twenty million claims do not fit the package's memory budget at once. Each claims part (a
month's file, say) is loaded with the few columns the 24-month trends need, counted, and
dropped; the report month's claims are kept whole. The 340B reference tables are loaded
after that pass, and the earlier of the last ``AUDIT_MONTHS`` months are audited part by part
from the columns the checks read, so that only counts of them are kept.
A table that is absent is a data note on the cover, never a failure; a table that breaks its
contract stops the run with every problem listed (:class:`rxxl.data.DataValidationError`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from rxxl import _texts, audit340b, denials, generics
from rxxl.data import load_reference, load_table
from rxxl.data.parts import give_back_memory
from rxxl.data.readers import part_files
from rxxl.errors import InputError
from rxxl.parsing import parse_month

FINANCE_TABLES = ("budget_lines", "drug_purchases", "inventory_snapshots", "capital_requests",
                  "drugs")
#: Tables a data folder may leave out, and what the cover says when it does.
OPTIONAL_TABLES = {
    "locations": "drug purchases are not put to cost centers, so they are not reconciled to"
                 " the GL drug lines.",
}
#: Months of claims the 340B audit covers, ending with the report month. Auditing a month
#: means loading every column of its million claims and checking them against the encounters
#: (about 3 s a month on the large sample); six months show the trend within the budget.
AUDIT_MONTHS = 6
#: Claims columns the 24-month counts read.
TREND_COLUMNS = ("service_date", "payer", "payer_type", "site_id", "status", "reject_code",
                 "carc_code", "billed_amount", "original_claim_id", "ndc", "account",
                 "quantity", "unit_cost_340b", "unit_cost_wac")


@dataclass
class Inputs:
    """Everything the package is computed from."""

    folder: Path
    month: pd.Period
    tables: dict[str, pd.DataFrame | None]
    reference: dict[str, pd.DataFrame] | None
    claims: pd.DataFrame | None
    #: The 340B audit of ``claims``, row for row (None without reference tables or claims).
    audit: pd.DataFrame | None
    #: The audit of the last AUDIT_MONTHS months, one row per month.
    audit_by_month: pd.DataFrame
    denial_counts: pd.DataFrame
    monthly_claims: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    last_claim_date: pd.Timestamp | None = None
    #: The policy the audit ran with (the 340B sheet's Audit parameters show it).
    audit_policy: audit340b.AuditPolicy = field(default_factory=audit340b.AuditPolicy)

    @property
    def months(self) -> pd.PeriodIndex:
        """The 24 months that end with the report month."""
        return pd.period_range(end=self.month, periods=24, freq="M")


def find_table(folder: Path, name: str) -> Path | None:
    """The file or folder of parts a data folder holds for the table ``name``, if any."""
    for candidate in (folder / f"{name}.csv", folder / f"{name}.parquet",
                      folder / f"{name}.xlsx", folder / name):
        if candidate.exists():
            return candidate
    return None


def claim_parts(folder: Path) -> list[Path]:
    source = find_table(folder, "claims")
    if source is None:
        return []
    return part_files(source) if source.is_dir() else [source]


def load_inputs(folder: Path, month: str, *,
                progress: Callable[[str], None] | None = None) -> Inputs:
    """Load and validate the data folder for the package of ``month`` (``YYYY-MM``)."""
    # The month first: a month that would have to be guessed fails before any file is read.
    period = parse_month(month, "--month")
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such data folder; give the folder that holds"
                         " claims/, budget_lines.csv and the other tables")
    step = progress or (lambda _: None)
    policy = audit340b.AuditPolicy()
    notes: list[str] = []
    tables: dict[str, pd.DataFrame | None] = {}
    for name in FINANCE_TABLES:
        step(f"loading {name}")
        source = find_table(folder, name)
        tables[name] = load_table(source, name) if source is not None else None
        if source is None:
            notes.append(f"No {name} table in {folder}: its sheet is empty this month.")
    for name, missing in OPTIONAL_TABLES.items():
        source = find_table(folder, name)
        tables[name] = load_table(source, name) if source is not None else None
        if source is None:
            notes.append(f"No {name} table in {folder}: {missing}")
    check_locations(tables, period)
    window = pd.period_range(end=period, periods=24, freq="M")
    first_audited = (period - (AUDIT_MONTHS - 1)).start_time
    claims = _count_claims(folder, period, window[0].start_time, first_audited, tables["drugs"],
                           step)
    _refuse_uncovered_month(period, tables, claims)
    if not claims.counts:
        notes.append(f"No claims for the 24 months to {period}: denial, generic and 340B"
                     " figures are empty.")
    elif claims.month is None:
        notes.append(f"No claims in {period}: this month's denial, generic and 340B figures"
                     " are empty.")

    # The reference tables come after the claims' first pass, so that their loading and the
    # report month's, the two largest, never hold memory at the same time.
    reference, audit, by_month = None, None, []
    if find_table(folder, "entity") is None:
        notes.append(f"No 340B reference tables in {folder}: the 340B audit was not run.")
    else:
        step("loading 340B reference tables")
        reference = _encounters_from(load_reference(folder), first_audited - pd.Timedelta(
            days=policy.lookback_days))
        give_back_memory()
        for part in claims.earlier_audited:
            step(f"auditing claims {part.name}")
            earlier = _rows(load_table(part, "claims", columns=audit340b.CHECKED_COLUMNS),
                            lambda dates: (dates >= first_audited) & (dates < period.start_time))
            by_month.append(audit340b.audit_by_month(audit340b.audit_claims(earlier, reference,
                                                                            policy)))
            del earlier
            give_back_memory()
        if claims.month is not None:
            step(f"auditing the claims of {period}")
            audit = audit340b.audit_claims(claims.month, reference, policy)
            by_month.append(audit340b.audit_by_month(audit))
    return Inputs(
        folder=folder, month=period, tables=tables, reference=reference, claims=claims.month,
        audit=audit, audit_by_month=audit340b.combine_by_month(by_month),
        denial_counts=(pd.concat(claims.counts, ignore_index=True) if claims.counts
                       else pd.DataFrame(columns=["payer", "month", "submitted", "denied",
                                                  "submitted_dollars", "denied_dollars"])),
        monthly_claims=(pd.concat(claims.monthly).groupby("month").sum() if claims.monthly
                        else pd.DataFrame()),
        notes=notes, last_claim_date=claims.last_date, audit_policy=policy,
    )


#: The dated tables and the column that dates their rows.
_DATED = {"budget_lines": "month", "drug_purchases": "month",
          "inventory_snapshots": "snapshot_date"}


def _refuse_uncovered_month(period: pd.Period, tables: dict[str, pd.DataFrame | None],
                            claims: _ClaimsPass) -> None:
    """A package of a month no table holds would be all blanks that read as a quiet month
    (a mistyped year, most often): refused, naming the months the data covers."""
    covered = []
    for name, column in _DATED.items():
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        months = frame[column].dt.to_period("M")
        if (months == period).any():
            return
        covered.append(f"{name} {months.min()} to {months.max()}")
    if claims.month is not None:
        return
    if claims.counts:
        months = pd.concat(claims.counts)["month"].astype(str)
        covered.append(f"claims {months.min()} to {months.max()}")
    raise InputError(f"no data for {period}: no budget lines, purchases, inventory or claims"
                     f" of that month ({'; '.join(covered) or 'the tables are empty'});"
                     " give a month the data covers")


#: Codes listed in full in a message before "and N more".
_LISTED = 10


def listed_codes(codes, *, sort: bool = True, where: str = "") -> str:
    """Codes or names (locations, cost centers, NDCs, cells: never patient data) for a
    message or a data note: the first ten in full (sorted, unless ``sort`` is False), then
    "and n more" and ``where`` the rest are to be seen.

    >>> listed_codes(["B", "A"])
    'A, B'
    >>> listed_codes([f"C{i:02}" for i in range(12)], sort=False, where=" (Budget sheet)")
    'C00, C01, C02, C03, C04, C05, C06, C07, C08, C09 and 2 more (Budget sheet)'
    """
    codes = sorted(map(str, codes)) if sort else list(map(str, codes))
    more = f" and {len(codes) - _LISTED:,} more{where}" if len(codes) > _LISTED else ""
    return ", ".join(codes[:_LISTED]) + more


def check_locations(tables: dict[str, pd.DataFrame | None], month: pd.Period) -> None:
    """Refuse a ``locations`` table that cannot put the month's purchases to cost centers.

    Every location of ``month``'s drug purchases and inventory snapshots must be listed
    (a blank purchase location is left to the reconciliation, which names it), and every
    listed cost center must be one that ``budget_lines`` has (any month), spelled exactly
    the same; without a locations table nothing is checked.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame or None
        The loaded finance tables (``locations``, ``drug_purchases``,
        ``inventory_snapshots``, ``budget_lines``), None for one that is absent.
    month : pandas.Period
        The report month.

    Raises
    ------
    rxxl.errors.InputError
        Naming the missing location codes or the unknown cost centers, and the fix.

    Examples
    --------
    >>> locations = pd.DataFrame({"location": ["MAIN-IP"], "cost_center": ["7010"]})
    >>> purchases = pd.DataFrame({"month": pd.to_datetime(["2026-10-01"]),
    ...                           "location": ["INFUSION"]})
    >>> check_locations({"locations": locations, "drug_purchases": purchases},
    ...                 pd.Period("2026-10"))
    Traceback (most recent call last):
    ...
    rxxl.errors.InputError: locations: 1 location(s) of the drug purchases or inventory \
snapshots of 2026-10 are not in the locations table: INFUSION; add a row for each with the \
cost center its purchases post to (as budget_lines names it)
    """
    locations = tables.get("locations")
    if locations is None:
        return
    listed = set(locations["location"].dropna())
    used: set[str] = set()
    for name, column in (("drug_purchases", "month"), ("inventory_snapshots", "snapshot_date")):
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        in_month = (frame[column].dt.to_period("M") == month).to_numpy()
        used |= set(frame.loc[in_month, "location"].dropna().unique())
    missing = used - listed
    if missing:
        raise InputError(
            f"locations: {len(missing):,} location(s) of the drug purchases or inventory"
            f" snapshots of {month} are not in the locations table: {listed_codes(missing)}; add a"
            " row for each with the cost center its purchases post to (as budget_lines names"
            " it)")
    budget_lines = tables.get("budget_lines")
    if budget_lines is None:
        return
    unknown = set(locations["cost_center"].dropna()) - set(budget_lines["cost_center"].dropna())
    if unknown:
        raise InputError(
            f"locations: {len(unknown):,} cost center(s) are not in budget_lines:"
            f" {listed_codes(unknown)}; write each exactly as budget_lines.cost_center spells it"
            " (code and name), or add the cost center's lines to budget_lines")


@dataclass
class _ClaimsPass:
    """What one pass over the claims parts gives."""

    counts: list[pd.DataFrame] = field(default_factory=list)
    monthly: list[pd.DataFrame] = field(default_factory=list)
    #: The report month's claims, whole (None: no claims that month).
    month: pd.DataFrame | None = None
    #: Parts with claims of the audited months before the report month.
    earlier_audited: list[Path] = field(default_factory=list)
    last_date: pd.Timestamp | None = None


def _count_claims(folder: Path, period: pd.Period, first: pd.Timestamp,
                  first_audited: pd.Timestamp, drugs: pd.DataFrame | None,
                  step: Callable[[str], None]) -> _ClaimsPass:
    """Count each part's claims of the 24 months, note which parts hold earlier audited
    months, and keep the report month's claims whole."""
    found, kept = _ClaimsPass(), []
    parts = claim_parts(folder)
    hashes = []
    for part in parts:
        step(f"counting claims {part.name}")
        claims = load_table(part, "claims", columns=(*TREND_COLUMNS, "claim_id"),
                            categorical=True)
        hashes.append(_id_hashes(claims["claim_id"]))
        claims = claims.drop(columns="claim_id")
        dates = claims["service_date"]
        if len(claims):
            top = dates.max()
            found.last_date = top if found.last_date is None else max(found.last_date, top)
        claims = claims[((dates >= first) & (dates <= period.end_time)).to_numpy()]
        if claims.empty:
            continue
        found.counts.append(denials.denial_counts(claims, "payer"))
        found.monthly.append(_monthly_claims(claims, drugs))
        dates = claims["service_date"]
        if ((dates >= first_audited) & (dates < period.start_time)).any():
            found.earlier_audited.append(part)
        in_month = (dates >= period.start_time).any()
        del claims, dates
        if in_month:
            step(f"loading the claims of {period} from {part.name}")
            whole = load_table(part, "claims")
            kept.append(_rows(whole, (whole["service_date"].dt.to_period("M") == period)))
            del whole
        give_back_memory()
    found.month = pd.concat(kept, ignore_index=True) if len(kept) > 1 else (
        kept[0].reset_index(drop=True) if kept else None)
    _refuse_claims_in_two_parts(parts, hashes)
    return found


def _id_hashes(ids: pd.Series) -> np.ndarray:
    """A part's claim ids as sorted 64-bit hashes: 8 bytes a claim instead of a string, so
    23.5 million ids take 190 MB. A part's own ids are distinct (its contract)."""
    hashed = _id_hashes_unsorted(ids)
    hashed.sort()
    return hashed


def _id_hashes_unsorted(ids: pd.Series) -> np.ndarray:
    # Packed words hashed in NumPy: a million ids in 0.05 s (pandas' hash_array: 0.3 s).
    return _texts.hashes(pa.array(ids.astype("string[pyarrow]").array))


def _refuse_claims_in_two_parts(parts: list[Path], hashes: list[np.ndarray]) -> None:
    """Stop when a claim id is in more than one part (an overlapping export would count the
    claim twice in every figure). Hashes find the candidates; the ids of the parts that
    share one are then compared, so a hash collision refuses nothing."""
    if len(parts) < 2:
        return
    every = np.concatenate(hashes)
    every.sort()
    shared = np.unique(every[1:][every[1:] == every[:-1]])
    del every
    if not len(shared):
        return
    involved = [(part, ids) for part, ids in zip(parts, hashes, strict=True)
                if np.isin(ids, shared, assume_unique=True).any()]
    # Few parts share an id; only theirs are read again, and only the id column.
    frames = []
    for position, (part, _ids) in enumerate(involved):
        claim_ids = load_table(part, "claims", columns=["claim_id"])["claim_id"]
        candidates = np.isin(_id_hashes_unsorted(claim_ids), shared)
        frames.append(pd.DataFrame({"claim_id": claim_ids[candidates].astype(str).to_numpy(),
                                    "part": position}))
    candidates = pd.concat(frames, ignore_index=True)
    repeated = candidates[candidates["claim_id"].duplicated(keep=False)]
    if repeated.empty:
        return
    pairs = repeated.groupby("claim_id", sort=True)["part"].agg(tuple)
    lines = []
    for key, ids in pairs.groupby(pairs, sort=True):
        names = " and ".join(involved[i][0].name for i in key)
        examples = ", ".join(ids.index[:3])
        lines.append(f"{names} share {len(ids):,} (e.g. {examples})")
    raise InputError(
        f"claims: {len(pairs):,} claim ids appear in more than one part of"
        f" {parts[0].parent}: {'; '.join(lines)}. Each claim would be counted once per part;"
        " remove the overlap (export each month once, or delete the copied rows from one"
        f" part) and run the report again; `rxxl validate claims {parts[0].parent}` lists"
        " every row."
    )


def _rows(frame: pd.DataFrame, keep: Callable[[pd.Series], Any] | Any) -> pd.DataFrame:
    """``frame``'s rows where ``keep`` (a mask, or a function of the service dates) holds;
    ``frame`` itself when that is every row, as a part that is one month is: a million
    claims copied for nothing would be a third of a gigabyte."""
    mask = np.asarray(keep(frame["service_date"]) if callable(keep) else keep, dtype=bool)
    return frame if mask.all() else frame[mask]


def _encounters_from(reference: dict[str, pd.DataFrame], first_day: pd.Timestamp
                     ) -> dict[str, pd.DataFrame]:
    """The reference tables with only the encounters that a look-back can reach: years of
    visits before the audited months cost memory and can qualify no claim."""
    encounters = reference["encounters"]
    recent = (encounters["encounter_date"] >= first_day).to_numpy()
    if recent.all():
        return reference
    return {**reference, "encounters": encounters[recent].reset_index(drop=True)}


def generic_labels(claims: pd.DataFrame, drugs: pd.DataFrame | None) -> np.ndarray:
    """Each claim's generic / brand / None (drug not on the formulary table) label."""
    if drugs is None or claims.empty:
        return np.full(len(claims), None, dtype=object)
    # A month has a million claims and a few thousand NDCs: classify each NDC once.
    codes, ndcs = pd.factorize(claims["ndc"], use_na_sentinel=True)
    mony = drugs.drop_duplicates("ndc").set_index("ndc")["mony_code"]
    per_ndc = pd.Series(ndcs).map(mony)
    labels = np.full(len(ndcs) + 1, None, dtype=object)  # the last slot: no NDC
    known = per_ndc.notna().to_numpy()
    if known.any():
        labels[:-1][known] = generics.classify(per_ndc[known].astype(str).to_numpy(),
                                               scheme="mony")
    return labels[codes]


def _monthly_claims(claims: pd.DataFrame, drugs: pd.DataFrame | None) -> pd.DataFrame:
    """Per month: paid claims dispensed as generic and as brand, and 340B savings."""
    # Status and account are categoricals: comparing them compares codes, not text.
    paid = claims["status"].eq("paid").to_numpy(dtype=bool, na_value=False)
    labels = generic_labels(claims, drugs)
    month = claims["service_date"].dt.to_period("M")
    on_340b = claims["account"].eq("340B").to_numpy(dtype=bool, na_value=False) & paid
    saving = ((claims["unit_cost_wac"] - claims["unit_cost_340b"]).fillna(0.0)
              * claims["quantity"].fillna(0.0)).to_numpy()
    frame = pd.DataFrame({
        "month": month.array.asi8,
        "generic": (paid & (labels == "generic")).astype(np.int64),
        "brand": (paid & (labels == "brand")).astype(np.int64),
        "savings_340b": np.where(on_340b, saving, 0.0),
    }).groupby("month").sum()
    frame.index = pd.PeriodIndex.from_ordinals(frame.index, freq="M").astype(str)
    frame.index.name = "month"
    return frame

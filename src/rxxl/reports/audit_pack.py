"""``rxxl audit-pack``: the evidence an HRSA auditor works from, for a period of months.

An HRSA audit starts with a data request: the covered entity's *340B universe* of the sample
period (every 340B drug dispensed or administered, with the patient, prescriber, site, drug,
quantity and payer), then tracers (about 10 claims per 340B ID) that the auditor follows from
the dispensing record back to the qualifying encounter, the prescriber's eligibility, the
purchase on the 340B account and the Medicaid billing (HRSA, "Program Integrity: audits of
covered entities", https://www.hrsa.gov/opa/program-integrity; the FY2026 data request list,
https://perspectives.cps.com/article-hrsa-changes-340b-data-request-list-fy26). The pack holds
that evidence, computed by the same rules as every other rxxl output:

- the claim universe of the period (``claim_universe.csv``; masked patients);
- the tracer sample, seeded and reproducible, each claim traced end to end;
- the registry reconciliation (:func:`rxxl.registry.reconcile_registry`);
- the split-billing accumulator against purchases (:mod:`rxxl.accumulator`);
- the findings by reason with dollars at stake;
- the policy parameters, rule version and each reference table's date and rows.

:func:`compute_pack` computes the tables; :func:`build_audit_pack` writes them, as a workbook
and CSVs, into one folder that appears whole or not at all
(:mod:`rxxl.reports.pack_book`, :mod:`rxxl.reports.delivery`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rxxl import accumulator, audit340b, exposure, registry, savings
from rxxl.constants import TRACER_SEED, TRACERS_PER_ENTITY
from rxxl.data import load_reference, load_table
from rxxl.data.contracts import SITE_TYPE_NAMES
from rxxl.errors import InputError
from rxxl.outputs import append_csv, write_table
from rxxl.parsing import parse_month
from rxxl.reports.audit_sheet import REFERENCE_DATES, describe_reasons, reference_text, rule_rows
from rxxl.reports.delivery import (
    STAGING_PREFIX,
    check_output_folder,
    locked_output,
    put_folder_in_place,
    remove_stale_staging,
)
from rxxl.reports.detail import Pseudonyms, masking_note
from rxxl.reports.inputs import claim_parts, find_table
from rxxl.reports.pack_book import CSV_FILES, universe_counts, write_pack_workbook

#: The universe's columns, in the order of HRSA's data request (claim, date, 340B ID, site,
#: patient, prescriber, drug, quantity, payer) and then the audit's result.
UNIVERSE_COLUMNS = (
    "claim_id", "service_date", "entity_id", "site_id", "patient_id", "prescriber_npi",
    "ndc", "drug_name", "quantity", "claim_type", "patient_status", "payer", "payer_type",
    "payer_state", "billing_npi", "modifiers", "account", "status", "audit_status",
    "reasons", "dollars_at_risk", "exposure_kind", "exposure_reason", "exposure_dollars",
    "encounter_date", "encounter_site_id",
)


@dataclass
class Pack:
    """The pack's tables, as :func:`compute_pack` returns them (the universe itself is
    written to a CSV as the months are read; here are its counts)."""

    first: pd.Period
    last: pd.Period
    universe_rows: int
    universe_counts: pd.DataFrame
    tracers: pd.DataFrame
    findings: pd.DataFrame
    exposure: pd.DataFrame
    savings: pd.DataFrame
    registry: pd.DataFrame
    replenishment: pd.DataFrame
    accumulator: pd.DataFrame
    parameters: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return pack_name(self.first, self.last)


def pack_name(first: pd.Period, last: pd.Period) -> str:
    """The pack's folder (and workbook) name: ``340B audit pack 2026-05 to 2026-10``."""
    return f"340B audit pack {first} to {last}"


def parse_period(first: str, last: str) -> tuple[pd.Period, pd.Period]:
    """The pack's months from ``--from`` and ``--to`` (``YYYY-MM``), in order."""
    start, end = parse_month(first, "--from"), parse_month(last, "--to")
    if end < start:
        raise InputError(f"--to {end} is before --from {start}; give the first month of the"
                         " period with --from and the last with --to")
    return start, end


def compute_pack(folder: str | os.PathLike, first: pd.Period, last: pd.Period,
                 universe_csv: str | os.PathLike, *,
                 tracers_per_entity: int = TRACERS_PER_ENTITY, seed: int = TRACER_SEED,
                 mask_patients: bool = True,
                 policy: audit340b.AuditPolicy | None = None,
                 progress: Callable[[str], None] | None = None) -> Pack:
    """Read the data folder's claims of the period part by part, write the claim universe to
    ``universe_csv`` as it goes, and compute every other table of the pack.

    Each claims part (a month's file) is loaded, audited and reduced before the next is
    read: to its universe rows (written out), counts, findings, its tracer candidates (an
    entity's sample of the period is among its months' samples:
    :func:`rxxl.audit340b.audit_sample`), its 340B claims' registry columns and the
    accumulator's columns. Memory grows with the accumulator's columns of the period, not
    with every column of every claim.

    Parameters
    ----------
    folder : path
        A data folder (``claims/`` or ``claims.*``, the six 340B reference tables, and
        optionally ``drugs`` and ``drug_purchases`` for the accumulator).
    first, last : Period
        The period's first and last month (both included).
    universe_csv : path
        Where the claim universe is written (a new file).
    tracers_per_entity, seed : int
        The tracer sample's size per 340B ID and the seed of its draw: the same seed, the
        same claims.
    mask_patients : bool
        Patients as pseudonyms (``PT-000001`` in order of first appearance in the period's
        claims), the same in every file of the pack.

    Raises
    ------
    InputError
        No such folder, no claims or reference tables, no claims in the period, or a table
        that breaks its contract (every problem listed).
    """
    step = progress or (lambda _: None)
    folder = Path(folder)
    policy = policy or audit340b.AuditPolicy()
    if not folder.is_dir():
        raise InputError(f"{folder}: no such data folder; give the folder that holds claims/"
                         " and the 340B reference tables")
    if find_table(folder, "entity") is None:
        raise InputError(f"{folder}: no 340B reference tables (entity, sites, prescribers,"
                         " encounters, mef, orphan_drugs); the audit pack needs them")
    parts = claim_parts(folder)
    if not parts:
        raise InputError(f"{folder}: no claims (claims/ or claims.csv/.parquet/.xlsx)")
    start, end = first.start_time, last.end_time.normalize()
    inside, covered = _parts_in_period(parts, start, end)
    if not inside:
        raise InputError(f"{folder}: no claims from {first} to {last}; the claims cover"
                         f" {covered}: choose months in it")
    step("loading 340B reference tables")
    reference = load_reference(folder)
    tables = {name: _optional(folder, name)
              for name in ("drugs", "drug_purchases", "accumulator_balances", "locations")}
    patients = Pseudonyms("PT") if mask_patients else None
    kept = _Kept(reference)
    with open(universe_csv, "wb") as universe:
        for part, rows in inside:
            step(f"auditing claims {part.name}")
            claims = load_table(part, "claims")
            if rows is not None and not rows.all():
                claims = claims[rows].reset_index(drop=True)
            audit = audit340b.audit_claims(claims, reference, policy)
            shown = (patients.of(claims["patient_id"]) if patients is not None
                     else claims["patient_id"].to_numpy(dtype=object))
            kept.add(claims, audit, shown, universe, tracers_per_entity, seed)
            del claims, audit
    step("reconciling the registry")
    found = registry.reconcile_registry(kept.frame("registry"), reference["entity"],
                                        reference["sites"], start, end)
    notes: list[str] = []
    claims, audit = kept.frame("accumulator"), kept.frame("accumulator_audit")
    accumulated, replenished = _replenishment(claims, audit, reference, tables, first, last,
                                              notes)
    del claims, audit
    step("tracing the sample")
    candidates = kept.frame("audit")
    sample = audit340b.audit_sample(candidates, tracers_per_entity, seed)
    tracers = trace(sample, kept.frame("claims"), candidates, reference,
                    np.concatenate(kept.tables["patients"]), tables["drug_purchases"],
                    replenished)
    return Pack(
        first=first, last=last, universe_rows=kept.universe_rows,
        universe_counts=kept.universe_counts(), tracers=tracers,
        findings=_findings(kept.frame("findings"), kept.frame("exposure_by_reason")),
        exposure=kept.frame("exposure_by_kind"),
        savings=_named(kept.frame("savings"), reference["entity"]), registry=found,
        replenishment=replenished, accumulator=accumulated,
        parameters=_parameters(folder, reference, first, last, policy, mask_patients,
                               tracers_per_entity, seed, kept.claims),
        notes=notes,
    )


class _Kept:
    """What the pack keeps of each month's claims once they are audited."""

    def __init__(self, reference: dict[str, pd.DataFrame]) -> None:
        self.reference = reference
        self.tables: dict[str, list] = {name: [] for name in (
            "registry", "accumulator", "accumulator_audit", "claims", "audit", "patients",
            "findings", "counts", "exposure_by_reason", "exposure_by_kind", "savings")}
        self.universe_rows = 0
        self.claims = 0

    def add(self, claims: pd.DataFrame, audit: pd.DataFrame, patients: np.ndarray,
            universe, per_entity: int, seed: int) -> None:
        on_340b = audit340b.is_340b_claim(claims)
        costs = exposure.claim_exposure(claims, audit, self.reference)
        self.tables["exposure_by_reason"].append(exposure.summarize_exposure(costs, "reason"))
        self.tables["exposure_by_kind"].append(exposure.summarize_exposure(costs, "kind"))
        self.tables["savings"].append(savings.summarize_savings(
            savings.claim_savings(claims, audit, self.reference, costs), by="entity"))
        rows = _universe(claims, audit.join(costs.drop(columns="claim_id", errors="ignore")),
                         patients, on_340b)
        append_csv(rows, universe, header=self.universe_rows == 0)
        self.universe_rows += len(rows)
        self.claims += len(claims)
        self.tables["counts"].append(universe_counts(rows))
        self.tables["findings"].append(audit340b.summarize_findings(audit, by="reason"))
        self.tables["registry"].append(claims.loc[on_340b, [
            key for key in dict.fromkeys((*registry.CLAIM_COLUMNS, "entity_id"))
            if key in claims]])
        self.tables["accumulator"].append(claims[[
            key for key in dict.fromkeys((*accumulator.CLAIM_COLUMNS, "original_claim_id",
                                          "location")) if key in claims]])
        self.tables["accumulator_audit"].append(audit[list(accumulator.AUDIT_COLUMNS)])
        # The month's tracer candidates, whole: the period's sample is drawn among them.
        picked = pd.Index(claims["claim_id"]).get_indexer(
            audit340b.audit_sample(audit, per_entity, seed)["claim_id"])
        self.tables["claims"].append(claims.iloc[picked])
        self.tables["audit"].append(audit.iloc[picked])
        self.tables["patients"].append(patients[picked])

    def frame(self, name: str) -> pd.DataFrame:
        frames = self.tables[name]
        # Summaries of the months add up, key by key (counts and dollars).
        keys = {"findings": ["reason"], "exposure_by_reason": ["reason", "kind", "text"],
                "exposure_by_kind": ["kind", "text"], "savings": ["entity_id"]}.get(name)
        if keys:
            # Cents added month by month pick up float noise (5331.040000000001): the sums
            # are dollars, to the cent.
            return pd.concat(frames).groupby(keys, sort=False, dropna=False).sum(
                numeric_only=True).round(2).reset_index()
        return pd.concat(frames, ignore_index=True)

    def universe_counts(self) -> pd.DataFrame:
        counts = pd.concat(self.tables["counts"], ignore_index=True)
        return counts.groupby(["month", "entity_id"], as_index=False).sum()


def _parts_in_period(parts: list[Path], start: pd.Timestamp, end: pd.Timestamp
                     ) -> tuple[list[tuple[Path, np.ndarray | None]], str]:
    """The parts with claims in the period, each with which of its rows are (None: all); and
    the months all the claims cover (``2024-11 to 2026-10``, for a message). Only the dates
    are read, and of a Parquet part with date statistics not even those when its dates lie
    wholly inside or outside the period."""
    inside, earliest, latest = [], [], []
    for part in parts:
        known = _parquet_dates(part)
        if known is not None:
            earliest.append(known[0])
            latest.append(known[1])
            if known[1] < start or known[0] > end:
                continue
            if start <= known[0] and known[1] <= end:
                inside.append((part, None))
                continue
        dates = load_table(part, "claims", columns=["service_date"])["service_date"]
        if len(dates) and known is None:
            earliest.append(dates.min())
            latest.append(dates.max())
        rows = ((dates >= start) & (dates <= end)).to_numpy()
        if rows.any():
            inside.append((part, rows))
    covered = (f"{min(earliest).to_period('M')} to {max(latest).to_period('M')}" if earliest
               else "no dates")
    return inside, covered


def _parquet_dates(part: Path) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last service date of a Parquet part from its row groups' statistics;
    None when it is not Parquet, has no such statistics, or its dates are not dates."""
    if part.suffix.lower() != ".parquet":
        return None
    try:
        meta = pq.ParquetFile(part).metadata
        column = meta.schema.names.index("service_date")
        stats = [meta.row_group(i).column(column).statistics for i in range(meta.num_row_groups)]
    except (OSError, ValueError, pa.ArrowException):
        return None  # the full load names the problem
    if not stats or any(s is None or not s.has_min_max for s in stats):
        return None
    lows, highs = [s.min for s in stats], [s.max for s in stats]
    if not all(isinstance(v, dt.date) for v in (*lows, *highs)):
        return None
    return pd.Timestamp(min(lows)), pd.Timestamp(max(highs))


def _optional(folder: Path, name: str) -> pd.DataFrame | None:
    source = find_table(folder, name)
    return load_table(source, name) if source is not None else None


def _universe(claims: pd.DataFrame, audit: pd.DataFrame, patients: np.ndarray,
              on_340b: np.ndarray) -> pd.DataFrame:
    """The 340B claims with HRSA's universe fields and the audit's result."""
    rows = np.flatnonzero(on_340b)
    picked = claims.iloc[rows]
    out = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    for key in UNIVERSE_COLUMNS:
        if key == "patient_id":
            out[key] = patients[rows]
        elif key == "audit_status":
            out[key] = audit["status"].iloc[rows].astype(str).to_numpy()
        elif key in ("entity_id", "reasons", "dollars_at_risk", "encounter_date",
                     "encounter_site_id"):
            out[key] = audit[key].iloc[rows].to_numpy()
        elif key in picked:
            out[key] = picked[key].to_numpy()
        else:
            out[key] = None
    return out


def _findings(counted: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Claims and dollars at stake by reason (:func:`rxxl.audit340b.summarize_findings`),
    every reason listed (zero where none fired), with its severity and plain words, and the
    exposure attributed to it (:func:`rxxl.exposure.summarize_exposure`: each claim once,
    under the reason that costs most)."""
    counted = counted.set_index("reason") if "reason" in counted else counted
    rows = pd.DataFrame({"reason": list(audit340b.REASONS)})
    rows["severity"] = rows["reason"].map(audit340b.REASONS)
    rows["description"] = rows["reason"].map(audit340b.REASON_TEXT)
    for column in ("claims", "dollars_at_risk", "claims_without_costs"):
        values = counted[column] if column in counted else pd.Series(dtype=float)
        rows[column] = rows["reason"].map(values).fillna(0)
    rows["claims"] = rows["claims"].astype(int)
    rows["claims_without_costs"] = rows["claims_without_costs"].astype(int)
    costs = costs.set_index("reason")
    rows["exposure_kind"] = rows["reason"].map(costs["kind"])
    rows["exposure_claims"] = rows["reason"].map(costs["claims"]).fillna(0).astype(int)
    rows["exposure_dollars"] = rows["reason"].map(costs["exposure_dollars"]).fillna(0.0)
    rows["upper_bound_dollars"] = rows["reason"].map(costs["upper_bound_dollars"]).fillna(0.0)
    return rows


def _replenishment(claims: pd.DataFrame, audit: pd.DataFrame,
                   reference: dict[str, pd.DataFrame],
                   tables: dict[str, pd.DataFrame | None], first: pd.Period, last: pd.Period,
                   notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accumulator over the period, opened with the ``accumulator_balances`` of the
    month before (at zero, with a note, without them), and its check against the period's
    purchases; empty, with a note, without drugs or purchases."""
    drugs, purchases = tables["drugs"], tables["drug_purchases"]
    if drugs is None or purchases is None:
        missing = " and ".join(name for name, table in (("drugs", drugs),
                                                         ("drug_purchases", purchases))
                               if table is None)
        notes.append(f"No {missing} table: the accumulator and replenishment check are not"
                     " in the pack.")
        return pd.DataFrame(), pd.DataFrame()
    accumulated = accumulator.accumulate(claims, drugs, audit, reference["entity"],
                                         opening=_opening(tables["accumulator_balances"],
                                                          first, notes))
    months = purchases["month"].dt.to_period("M")
    bought = purchases[(months >= first) & (months <= last)]
    return accumulated, accumulator.replenishment(
        accumulated, bought, physical=_physical(tables["locations"], notes))


def _physical(locations: pd.DataFrame | None, notes: list[str]) -> list[str]:
    """Locations that keep a physical 340B inventory (``locations.replenishment`` false)."""
    apart = accumulator.physical_locations(locations)
    if apart:
        notes.append(f"{', '.join(apart)} keep{'s' if len(apart) == 1 else ''} a physical 340B"
                     " inventory (locations.replenishment false): listed in the accumulator,"
                     " not compared with it.")
    return apart


def _named(frame: pd.DataFrame, entity: pd.DataFrame) -> pd.DataFrame:
    """The frame with the covered entity's name after its 340B ID (blank when unnamed)."""
    if frame.empty or "entity_name" not in entity:
        return frame
    names = entity.drop_duplicates("entity_id").set_index("entity_id")["entity_name"]
    named = frame.copy()
    named.insert(named.columns.get_loc("entity_id") + 1, "entity_name",
                 named["entity_id"].map(names).astype(object).to_numpy())
    return named


def _opening(balances: pd.DataFrame | None, first: pd.Period,
             notes: list[str]) -> pd.DataFrame | None:
    """The balances the accumulator opens the period with: those of the month before."""
    before = first - 1
    if balances is None:
        notes.append(f"No accumulator_balances table: the accumulator starts at zero in {first};"
                     " units carried from before show as differences of up to a package in"
                     " the first months.")
        return None
    opening = balances[balances["month"].dt.to_period("M") == before]
    if opening.empty:
        notes.append(f"accumulator_balances has no balances for {before}: the accumulator "
                     f"starts at zero in {first}.")
        return None
    notes.append(f"The accumulator opens with the accumulator_balances of {before} "
                 f"({len(opening):,} NDC and location lines).")
    return opening


# --- tracers -------------------------------------------------------------------------------


def trace(sample: pd.DataFrame, claims: pd.DataFrame, audit: pd.DataFrame,
          reference: dict[str, pd.DataFrame], patients: np.ndarray,
          purchases: pd.DataFrame | None, replenished: pd.DataFrame) -> pd.DataFrame:
    """Each tracer claim followed end to end, one row each.

    claim -> the site's registration to the claim's 340B ID on the service date -> the
    qualifying encounter (date and site) -> the prescriber's eligibility listing -> the
    purchase record on the claim's account and the accumulator's month for the NDC and
    location -> the payer and, for Medicaid, the Medicaid Exclusion File's listing.
    ``patients`` are the claims' patients as the pack shows them, row for row.
    """
    rows = pd.Index(claims["claim_id"]).get_indexer(sample["claim_id"])
    picked = claims.iloc[rows].reset_index(drop=True)
    found = audit.iloc[rows].reset_index(drop=True)
    day = picked["service_date"]
    entity = found["entity_id"].astype(object)
    out = pd.DataFrame({"entity_id": entity.to_numpy()})
    out["claim_id"] = picked["claim_id"].to_numpy()
    out["service_date"] = day.to_numpy()
    out["patient_id"] = patients[rows]
    for key in ("ndc", "drug_name", "quantity", "site_id"):
        out[key] = picked[key].to_numpy()
    out["site_registration"] = _listing(reference["sites"], {"site_id": picked["site_id"]},
                                        entity, day, "site_type")
    out["encounter_date"] = found["encounter_date"].to_numpy()
    out["encounter_site_id"] = found["encounter_site_id"].to_numpy(dtype=object,
                                                                   na_value=None)
    out["prescriber_npi"] = picked["prescriber_npi"].to_numpy()
    out["prescriber_eligibility"] = _listing(reference["prescribers"],
                                             {"npi": picked["prescriber_npi"]}, entity, day)
    out["account"] = picked["account"].to_numpy()
    codes, labels = audit340b.purchase_records(picked, purchases)
    out["purchase_record"] = labels[codes]
    out["accumulator"] = _accumulator_text(
        picked, accumulator.accumulation_accounts(picked, found, reference["entity"]),
        replenished)
    out["payer_type"] = picked["payer_type"].to_numpy()
    out["billing_npi"] = picked["billing_npi"].to_numpy()
    out["medicaid_status"] = audit340b.medicaid_status(picked, reference)
    out["status"] = found["status"].astype(str).to_numpy()
    out["reasons"] = found["reasons"].to_numpy()
    out["description"] = describe_reasons(found["reasons"])
    out["dollars_at_risk"] = found["dollars_at_risk"].to_numpy()
    return out


def _listing(table: pd.DataFrame, keys: dict[str, pd.Series], entity: pd.Series,
             day: pd.Series, kind: str | None = None) -> np.ndarray:
    """The listing (registration or eligibility) of each claim's key to its 340B ID that
    covers the service date, as ``Child site, 2020-01-01, no end date``; else what there
    is."""
    (column, values), = keys.items()
    asked = pd.DataFrame({"row": np.arange(len(day)), column: values.astype(object).to_numpy(),
                          "entity_id": entity.to_numpy(), "day": day.to_numpy()})
    rows = asked.merge(table.assign(**{column: table[column].astype(object),
                                       "entity_id": table["entity_id"].astype(object)}),
                       on=[column, "entity_id"], how="inner")
    covers = (rows["start_date"] <= rows["day"]) & (
        rows["end_date"].isna() | (rows["day"] <= rows["end_date"]))
    period = rows["start_date"].dt.strftime("%Y-%m-%d") + (
        " to " + rows["end_date"].dt.strftime("%Y-%m-%d")).fillna(", no end date")
    text = (rows[kind].astype(str).map(lambda code: SITE_TYPE_NAMES.get(code, code)) + ", "
            + period) if kind else period
    rows = rows.assign(text=np.where(covers, text, "not on the date (listed " + period + ")"),
                       covers=covers)
    # The listing that covers the date first; else the listing nearest in time.
    rows = rows.sort_values(["row", "covers", "start_date"], ascending=[True, False, False])
    chosen = rows.drop_duplicates("row").set_index("row")["text"]
    return chosen.reindex(range(len(day))).fillna("not listed for the 340B ID").to_numpy(
        dtype=object)


def _accumulator_text(picked: pd.DataFrame, accounts: np.ndarray,
                      replenished: pd.DataFrame) -> np.ndarray:
    """The accumulator's month of each claim's NDC and location on the account its use
    accumulated to (``accounts``: a violating 340B claim's is GPO or WAC): packages due,
    bought and the units carried."""
    if replenished.empty:
        return np.full(len(picked), "no accumulator (no drugs or drug_purchases table)",
                       dtype=object)
    location = accumulator.inventory_locations(picked)
    asked = pd.DataFrame({
        "row": np.arange(len(picked)), "ndc": picked["ndc"].astype(object).to_numpy(),
        "location": location.astype(object).to_numpy(),
        "account": accounts,
        "month": picked["service_date"].dt.to_period("M").astype(str).to_numpy()})
    keyed = replenished.assign(**{key: replenished[key].astype(object)
                                  for key in ("ndc", "location", "account", "month")})
    rows = asked.merge(keyed, on=["ndc", "location", "account", "month"], how="left")
    text = (rows["month"] + " " + rows["account"] + " at " + rows["location"].astype(str)
            + ": " + rows["packages_due"].map("{:,.0f}".format) + " due, "
            + rows["packages_bought"].map("{:,.0f}".format) + " bought, "
            + rows["units_carried"].map("{:,.2f}".format) + " units carried")
    finding = rows["finding"].fillna("") if "finding" in rows else ""
    text = text + np.where(finding != "", " (" + finding + ")", "")
    return np.where(rows["packages_due"].notna(), text,
                    "not in the accumulator").astype(object)


# --- parameters ----------------------------------------------------------------------------


def _parameters(folder: Path, reference: dict[str, pd.DataFrame], first: pd.Period,
                last: pd.Period, policy: audit340b.AuditPolicy, mask_patients: bool,
                per_entity: int, seed: int, claims: int) -> pd.DataFrame:
    """How the pack was made, one ``parameter``, ``value`` row each: what an auditor asks
    first, and what reproduces it."""
    rows = [
        ("Period", f"{first} to {last} ({(last - first).n + 1} months); {claims:,} claims"),
        ("Look-back window (days)", f"{policy.lookback_days}: an encounter at a site"
         " registered to the claim's entity, on the service date or up to"
         f" {policy.lookback_days} days before it"),
        ("Observation stays", "outpatient (policy)" if policy.observation_is_outpatient
         else "inpatient (policy)"),
        ("Orphan drug exclusion", "checked for CAH, SCH, RRC and CAN entities"
         if policy.check_orphan_drugs else "not checked (policy)"),
        *rule_rows(policy, first, last),
        ("Patient masking", masking_note(mask_patients, False, brief=True)),
        ("Tracer sample", f"up to {per_entity} 340B claims per 340B ID of the period, a"
         f" seeded random draw (seed {seed}): the same claims every run on the same data"),
        ("Accumulator", "started at zero on the period's first day; whole packages, the"
         " remainder carried (docs/340b-accumulator.md)"),
        ("Registry watch window", "registrations ending within"
         f" {registry.REGISTRATION_WATCH_DAYS} days after the period are listed"),
        ("Reproduce", f"rxxl audit-pack --data {folder} --from {first} --to {last}"
         f" --tracers {per_entity} --seed {seed}"),
    ]
    for name, (about, columns) in REFERENCE_DATES.items():
        rows.append((f"Reference: {name}", reference_text(reference, folder, name, about,
                                                          columns)))
    return pd.DataFrame(rows, columns=["parameter", "value"])


# --- writing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PackSummary:
    path: Path
    line: str


def build_audit_pack(data_dir: str | os.PathLike, first: str, last: str,
                     out_dir: str | os.PathLike, *, tracers_per_entity: int = TRACERS_PER_ENTITY,
                     seed: int = TRACER_SEED, mask_patients: bool = True,
                     policy: audit340b.AuditPolicy | None = None,
                     progress: Callable[[str], None] | None = None) -> PackSummary:
    """Compute the pack of ``first``..``last`` (``YYYY-MM``) and write it into ``out_dir``
    as the folder ``340B audit pack FIRST to LAST``: the workbook of the same name and the
    CSVs of :data:`CSV_FILES`.

    The folder is written in a staging folder inside ``out_dir`` and renamed into place
    whole; an earlier pack of the same period is replaced only then, so a failed or stopped
    run leaves it as it was (:mod:`rxxl.reports.delivery`). ``out_dir`` is locked while the
    run writes, and must not be the data folder nor inside a folder of input parts.
    """
    step = progress or (lambda _: None)
    start, end = parse_period(first, last)
    if tracers_per_entity < 1:
        raise InputError("--tracers: at least 1 claim per 340B ID")
    out = Path(out_dir)
    check_output_folder(Path(data_dir), out, None)
    with locked_output(out):
        remove_stale_staging(out)
        started = time.perf_counter()
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        try:
            folder = staging / pack_name(start, end)
            folder.mkdir()
            pack = compute_pack(data_dir, start, end, folder / CSV_FILES["universe"],
                                tracers_per_entity=tracers_per_entity, seed=seed,
                                mask_patients=mask_patients, policy=policy, progress=step)
            for table, name in CSV_FILES.items():
                if table != "universe":
                    step(f"writing {name}")
                    write_table(getattr(pack, table), folder / name)
            step("writing the workbook")
            write_pack_workbook(pack, folder / f"{pack.name}.xlsx")
            put_folder_in_place(folder, out, staging / "earlier")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        violations = int(pack.universe_counts["violations"].sum())
        step(f"done in {time.perf_counter() - started:.1f} s")
        return PackSummary(out / pack.name, (
            f"{pack.name}: {pack.universe_rows:,} 340B claims ({violations:,} violations),"
            f" {len(pack.tracers)} tracers, {len(pack.registry)} registry findings,"
            f" {int(pack.replenishment.get('finding', pd.Series(dtype=object)).notna().sum())}"
            " replenishment findings"))

"""The 340B sheet's auditor tables: the audit parameters and the tracer sample.

An HRSA auditor first asks how the audit was run (look-back window, months, rule version,
the reference data and its dates, how patients are masked), then traces a sample of 340B
claims from the dispensing record back to the purchase. Both tables are computed here from
:class:`~rxxl.reports.inputs.Inputs`; the claim detail (:mod:`rxxl.reports.detail`) shows
the same parameters and fields, with the same masking.
"""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path

import numpy as np
import pandas as pd

import rxxl
from rxxl import audit340b, rules
from rxxl.reports.detail import masked_identifiers, masking_note, shown
from rxxl.reports.inputs import Inputs

#: The tracer sample's size per 340B ID (audit_sample's default), shown as a parameter.
SAMPLE_PER_ENTITY = inspect.signature(audit340b.audit_sample).parameters[
    "claims_per_entity"].default
SAMPLE_SEED = inspect.signature(audit340b.audit_sample).parameters["seed"].default
#: What each reference table is, in the auditor's words, and the columns that date its rows.
REFERENCE_DATES = {
    "entity": ("340B registrations (OPAIS)", ("start_date", "end_date")),
    "sites": ("registered sites and contract pharmacies", ("start_date", "end_date")),
    "prescribers": ("eligible prescribers", ("start_date", "end_date")),
    "encounters": ("patient encounters", ("encounter_date",)),
    "mef": ("Medicaid Exclusion File", ("quarter_start",)),
    "orphan_drugs": ("orphan-designated drugs", ()),
}


def audit_parameters(inputs: Inputs, *, mask_patients: bool = True,
                     deidentify: bool = False) -> pd.DataFrame:
    """How the month's 340B audit was run: one ``parameter``, ``value`` row each.

    The look-back window and the other policy choices the audit ran with (the Part B
    modifier's policy dates among them), the months audited, the rule set version (the rxxl
    version and its reason codes) and the rule versions in force over the months
    (:func:`rule_rows`), the patient
    masking, the tracer sample's draw, and each reference table with its file, file date
    (the file's modification date: the contracts have no as-of column), rows used and the
    latest date in its rows.

    Examples
    --------
    See ``tests/test_report_340b.py``.
    """
    policy = inputs.audit_policy
    months = inputs.audit_by_month["month"].astype(str)
    audited = (f"{months.iloc[0]} to {months.iloc[-1]} ({len(months)} months with claims);"
               f" exceptions, tracer sample and claim detail: {inputs.month}"
               ) if len(months) else "none"
    days = policy.lookback_days
    rows = [
        ("Look-back window (days)", f"{days}: an encounter at a site registered to the"
         f" claim's entity, on the service date or up to {days} days before it"),
        ("Months audited", audited),
        ("Observation stays", "outpatient (policy)" if policy.observation_is_outpatient
         else "inpatient (policy)"),
        ("Orphan drug exclusion", "checked for CAH, SCH, RRC and CAN entities"
         if policy.check_orphan_drugs else "not checked (policy)"),
        *rule_rows(policy, pd.Period(months.iloc[0], "M") if len(months) else None,
                   pd.Period(months.iloc[-1], "M") if len(months) else None),
        ("Patient masking", masking_note(mask_patients, deidentify, brief=True)),
        ("Tracer sample", f"up to {SAMPLE_PER_ENTITY} 340B claims per 340B ID of"
         f" {inputs.month}, a seeded random draw (seed {SAMPLE_SEED}), the same every run"),
    ]
    for name, (about, columns) in REFERENCE_DATES.items():
        rows.append((f"Reference: {name}", reference_text(inputs.reference, inputs.folder, name,
                                                          about, columns)))
    return pd.DataFrame(rows, columns=["parameter", "value"])


def rule_rows(policy: audit340b.AuditPolicy, first: pd.Period | None,
              last: pd.Period | None) -> list[tuple[str, str]]:
    """The audit parameters' rows on the rules: the Part B modifier policy, the rule set
    version, and the rule versions in force over the months ``first`` to ``last``
    (:func:`rxxl.rules.rules_in_force`; None: no months audited).

    >>> for row in rule_rows(audit340b.AuditPolicy(), pd.Period("2025-01", "M"),
    ...                      pd.Period("2025-03", "M"))[2:]:
    ...     print(row[0], "|", row[1][:48])
    ...     print("ending", row[1][-58:])
    Rule versions in force | 2025-01-01 to 2025-03-31: ENTITY_UNKNOWN/1992-11
    ending MISSING_340B_MODIFIER/2025-01, WRONG_340B_MODIFIER/2025-01
    """
    rows = [("Part B 340B modifier", rules.modifier_policy_text(policy)),
            ("Rule set version", f"rxxl {rxxl.__version__}: {len(audit340b.REASONS)} reason"
             " codes (rxxl.audit340b, rxxl.rules; docs/340b-audit.md)")]
    if first is None or last is None:
        return [*rows, ("Rule versions in force", "none (no months audited)")]
    start, end = first.start_time.date(), last.end_time.date()
    versions = rules.rules_in_force(start, end, policy)["version"]
    return [*rows, ("Rule versions in force", f"{start} to {end}: " + ", ".join(versions))]


def reference_text(reference: dict[str, pd.DataFrame] | None, folder: Path, name: str,
                   about: str, columns: tuple[str, ...]) -> str:
    """A reference table as an auditor asks for it: what it is, its file and the file's
    date, the rows used and the latest date in them."""
    table = (reference or {}).get(name)
    if table is None:
        return f"{about}: not loaded"
    source = _reference_source(folder, name)
    parts = [about]
    if source is not None:
        parts.append(f"{source.name}{'/' if source.is_dir() else ''} (file saved "
                     f"{_file_date(source)})")
    parts.append(f"{len(table):,} rows used")
    dates = [table[column].max() for column in columns if column in table]
    dates = [date for date in dates if pd.notna(date)]
    if dates:
        parts.append(f"latest date in the rows {max(dates):%Y-%m-%d}")
    return "; ".join(parts)


def _reference_source(folder: Path, name: str) -> Path | None:
    """The file or folder of parts a reference table was read from (the places
    :func:`rxxl.data.load_reference` looks, in its order)."""
    for candidate in (folder / f"{name}.csv", folder / f"{name}.parquet", folder / name):
        if candidate.exists():
            return candidate
    return None


def _file_date(path: Path) -> str:
    """The modification date of a file, or the latest of a folder's parts."""
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    latest = max((p.stat().st_mtime for p in files), default=path.stat().st_mtime)
    return dt.datetime.fromtimestamp(latest).strftime("%Y-%m-%d")


#: The tracer sample's columns from the claims, as they are.
_CLAIM_FIELDS = ("site_id", "ndc", "drug_name", "quantity", "billing_npi", "modifiers")


def tracer_sample(inputs: Inputs, *, mask_patients: bool = True,
                  deidentify: bool = False) -> pd.DataFrame:
    """The tracer audit sample with every field an auditor traces.

    :func:`rxxl.audit340b.audit_sample`'s claims (up to 10 per 340B ID) with, from the
    claims: NDC, drug, quantity, prescriber NPI, patient (masked as in the claim detail),
    billing NPI, modifiers; from the audit: the qualifying encounter's date and site; from
    ``drug_purchases``: the purchase record (:func:`rxxl.audit340b.purchase_records`); and
    the reasons in words (``description``).

    Returns
    -------
    DataFrame
        ``entity_id, claim_id, service_date, patient_id, prescriber_npi, encounter_date,
        encounter_site_id, site_id, ndc, drug_name, quantity, billing_npi, modifiers,
        payer_type, account, purchase_record, status, dollars_at_risk, reasons,
        description``.
    """
    audit, claims = inputs.audit, inputs.claims
    sample = audit340b.audit_sample(audit)
    # The sample's claims by position in the month's claims (claim ids are unique).
    rows = pd.Index(claims["claim_id"]).get_indexer(sample["claim_id"])
    masked = masked_identifiers(claims, mask_patients, deidentify, audit)
    out = pd.DataFrame({"entity_id": sample["entity_id"].to_numpy(dtype=object)})
    for key in ("claim_id", "service_date", "patient_id", "prescriber_npi", "encounter_date"):
        out[key] = shown(masked[key], rows)
    for key in ("service_date", "encounter_date"):
        out[key] = pd.to_datetime(out[key])
    out["encounter_site_id"] = audit["encounter_site_id"].iloc[rows].to_numpy(dtype=object,
                                                                               na_value=None)
    picked = claims.iloc[rows]
    for key in _CLAIM_FIELDS:
        values = picked[key] if key in picked else pd.Series(None, index=picked.index)
        out[key] = values.to_numpy(dtype=object, na_value=None) if key != "quantity" else (
            values.to_numpy(dtype=float, na_value=np.nan))
    for key in ("payer_type", "account", "status", "reasons", "dollars_at_risk"):
        out[key] = sample[key].to_numpy()
    codes, labels = audit340b.purchase_records(picked, inputs.tables.get("drug_purchases"))
    out["purchase_record"] = labels[codes]
    out["status"] = out["status"].astype(str)
    out["description"] = describe_reasons(out["reasons"])
    return out


def describe_reasons(reasons: pd.Series) -> np.ndarray:
    """Each ``;``-joined list of reason codes in plain words (``REASON_TEXT``), ``; ``-joined;
    blank for none.

    >>> describe_reasons(pd.Series(["INPATIENT", "", "INPATIENT;ORPHAN_DRUG"])).tolist()[:2]
    ['Inpatient at administration', None]
    """
    codes, distinct = pd.factorize(reasons.fillna("").astype(str))
    labels = [("; ".join(audit340b.REASON_TEXT.get(code, code) for code in text.split(";"))
               if text else None) for text in distinct]
    return np.array([*labels, None], dtype=object)[codes]

"""The 340B audit's rules with their effective dates, citations and versions.

Every reason code of :mod:`rxxl.audit340b` is one or more dated rule versions here: the
source it rests on (statute, Federal Register rule, CMS or HRSA guidance, with a URL) and the
dates it is in force. A rule version is named ``REASON/YYYY-MM`` after the month it took
effect. :func:`rules_in_force` lists the versions that applied to a period of claims: the
audit's parameters print them, so a finding can be traced to the text it enforces.

The Medicare Part B 340B modifier is the rule that changes with the date of service and the
entity type (CMS, not HRSA, requires it; docs/340b-audit.md, "Rules, dates and sources"):

==========================  ==================  ==================  =====================
entity type                 2018-01 .. 2023-12  2024-01 .. 2024-12  from 2025-01
==========================  ==================  ==================  =====================
DSH, RRC                    JG (TB accepted)    JG or TB            TB (JG no longer valid)
SCH                         JG or TB            JG or TB            TB (JG no longer valid)
PED, CAN                    TB                  TB                  TB (JG no longer valid)
CAH                         (policy date)       TB (policy date)    TB (policy date)
FQHC, other                 (policy date)       JG or TB (policy)   TB (policy date)
==========================  ==================  ==================  =====================

Before 2018-01-01 no modifier was required; before 2024 none of CAHs and non-hospital
entities (held then only from a policy date set earlier than 2024). The 340B entity type
does not say how Medicare pays the hospital, so the audit accepts what that cannot rule
out: TB at a DSH or RRC (a hospital paid as a rural sole community hospital may register
with HRSA as a DSH, and then reports TB), either modifier at an SCH (TB if rural, JG if
urban). Where the sources disagree, the audit follows a dated policy setting
(:class:`RulePolicy`):

- ``cah_modifier_from``: CMS's first Part B inflation rebate guidance (2022-12-20) did not
  name critical access hospitals (paid at 101% of reasonable cost, never under the OPPS);
  the revised guidance (2023-03) requires TB from 2024-01-01. Default 2024-01-01 (the CMS
  revision); None: CAH claims are not held to a modifier.
- ``non_hospital_modifier_from``: the guidance holds every covered entity billing Part B,
  grantees included (FQHC, Ryan White, hemophilia), from "no later than" 2024-01-01, for
  *separately payable* drugs; a health center's drugs paid inside the FQHC prospective
  payment are not separately payable, and the claims data cannot tell the two apart.
  Default 2024-01-01 (the stricter, CMS reading); a later date (the day the entity started),
  or None where the entity's Part B drugs are all bundled.

Examples
--------
>>> import datetime as dt
>>> versions = rules_in_force(dt.date(2024, 11, 1), dt.date(2025, 2, 28))
>>> versions.loc[versions["reason"] == "MISSING_340B_MODIFIER", "version"].tolist()
['MISSING_340B_MODIFIER/2024-01', 'MISSING_340B_MODIFIER/2025-01']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from rxxl.errors import InputError

USC_256B = "https://www.law.cornell.edu/uscode/text/42/256b"
HRSA_REQUIREMENTS = "https://www.hrsa.gov/opa/program-requirements"
HRSA_MEF = "https://www.hrsa.gov/opa/program-requirements/medicaid-exclusion"
CONTRACT_PHARMACY_2010 = ("https://www.federalregister.gov/documents/2010/03/05/2010-4755/"
                          "notice-regarding-340b-drug-pricing-program-contract-pharmacy-services")
OPPS_2018 = ("https://www.federalregister.gov/documents/2017/11/13/2017-23932/medicare-program-"
             "hospital-outpatient-prospective-payment-and-ambulatory-surgical-center-payment")
OPPS_2024 = ("https://www.federalregister.gov/documents/2023/11/22/2023-24293/medicare-program-"
             "hospital-outpatient-prospective-payment-and-ambulatory-surgical-center-payment")
IRA_MODIFIER_GUIDANCE = ("https://www.cms.gov/inflation-reduction-act-and-medicare/"
                         "part-b-inflation-rebate-guidance")

#: The Veterans Health Care Act of 1992 (Pub. L. 102-585, sec. 602) created 340B.
STATUTE = dt.date(1992, 11, 4)
#: The Affordable Care Act (Pub. L. 111-148, sec. 7101-7102) added the orphan drug exclusion
#: for the entity types it made eligible.
ACA = dt.date(2010, 3, 23)
#: CY2018 OPPS final rule: JG / TB on 340B-acquired drugs from this date of service.
MODIFIERS_FROM = dt.date(2018, 1, 1)
#: The IRA's Part B inflation rebate guidance: every covered entity billing Part B from this
#: date of service (CMS's "no later than").
ALL_ENTITIES_FROM = dt.date(2024, 1, 1)
#: CY2024 OPPS final rule: TB for every 340B-acquired drug from this date of service; JG is
#: no longer a 340B modifier.
TB_FOR_ALL_FROM = dt.date(2025, 1, 1)
#: The hospitals that report TB whenever a modifier is required: children's and PPS-exempt
#: cancer hospitals (excepted from the 2018 payment cut) and critical access hospitals
#: (TB from 2024 in the revised guidance). A rural SCH also reports TB, but the SCH entity
#: type does not say rural.
TB_HOSPITAL_TYPES = ("PED", "CAN", "CAH")


@dataclass(frozen=True)
class Rule:
    """One version of one reason code's rule: in force from ``effective_from`` to
    ``effective_to`` (inclusive; None while in force)."""

    reason: str
    effective_from: dt.date
    effective_to: dt.date | None
    citation: str
    url: str

    @property
    def version(self) -> str:
        return f"{self.reason}/{self.effective_from:%Y-%m}"


_DAY_BEFORE_ALL = ALL_ENTITIES_FROM - dt.timedelta(days=1)
_DAY_BEFORE_TB = TB_FOR_ALL_FROM - dt.timedelta(days=1)
_PATIENT = ("42 USC 256b(a)(5)(B) (no resale or transfer to a non-patient); HRSA patient "
            "definition, 61 FR 55156 (1996-10-24)")

#: Every rule version, in the order of ``audit340b.REASONS``.
RULES: tuple[Rule, ...] = (
    Rule("ENTITY_UNKNOWN", STATUTE, None,
         "42 USC 256b(a)(4): each 340B drug belongs to one covered entity; rxxl holds for "
         "review a claim it cannot attribute to one", USC_256B),
    Rule("ENTITY_INACTIVE", STATUTE, None,
         "42 USC 256b(a)(4), (a)(9): a covered entity is one registered with HRSA (340B OPAIS)",
         HRSA_REQUIREMENTS),
    Rule("SITE_NOT_REGISTERED", STATUTE, None,
         "HRSA outpatient facility guidelines, 59 FR 47884 (1994-09-19): off-site outpatient "
         "facilities are registered in OPAIS", HRSA_REQUIREMENTS),
    Rule("NO_QUALIFYING_ENCOUNTER", STATUTE, None, _PATIENT, HRSA_REQUIREMENTS),
    Rule("PRESCRIBER_NOT_ELIGIBLE", STATUTE, None, _PATIENT, HRSA_REQUIREMENTS),
    Rule("INPATIENT", STATUTE, None,
         "42 USC 256b(b)(1): 340B covers covered outpatient drugs (42 USC 1396r-8(k))",
         USC_256B),
    Rule("MEDICAID_DUPLICATE_DISCOUNT", STATUTE, None,
         "42 USC 256b(a)(5)(A) (no duplicate discount); HRSA Medicaid Exclusion File",
         HRSA_MEF),
    Rule("MEF_CARVE_IN_NOT_340B", STATUTE, None,
         "HRSA Medicaid Exclusion File: a carve-in listing bills Medicaid FFS for 340B drugs "
         "under the listed number", HRSA_MEF),
    Rule("MEF_CONFLICT", STATUTE, None,
         "HRSA Medicaid Exclusion File; rxxl holds for review a billing number listed both "
         "carve-in and carve-out", HRSA_MEF),
    Rule("CONTRACT_PHARMACY_MEDICAID", dt.date(2010, 3, 5), None,
         "HRSA contract pharmacy guidance, 75 FR 10272 (2010-03-05): no Medicaid at a contract "
         "pharmacy without an arrangement reported to HRSA", CONTRACT_PHARMACY_2010),
    Rule("GPO_PROHIBITION", STATUTE, None,
         "42 USC 256b(a)(4)(L)(iii), (M): DSH, children's and cancer hospitals buy no covered "
         "outpatient drug through a GPO; HRSA Policy Release 2013-1", USC_256B),
    Rule("ORPHAN_DRUG", ACA, None,
         "42 USC 256b(e) (ACA sec. 7101-7102; HCERA sec. 2302): orphan drugs excluded for "
         "CAH, SCH, RRC and CAN entities", USC_256B),
    Rule("MISSING_340B_MODIFIER", MODIFIERS_FROM, _DAY_BEFORE_ALL,
         "CY2018 OPPS final rule, 82 FR 52356 (2017-11-13): hospitals paid under the OPPS "
         "report JG, or TB if excepted (rural SCH, children's, PPS-exempt cancer)", OPPS_2018),
    Rule("MISSING_340B_MODIFIER", ALL_ENTITIES_FROM, _DAY_BEFORE_TB,
         "CMS Part B inflation rebate guidance, use of the 340B modifier (2022-12-20, rev. "
         "2023-03): every covered entity billing Part B, JG or TB; CY2024 OPPS final rule, "
         "88 FR 81540", IRA_MODIFIER_GUIDANCE),
    Rule("MISSING_340B_MODIFIER", TB_FOR_ALL_FROM, None,
         "CY2024 OPPS final rule, 88 FR 81540 (2023-11-22): TB on every 340B-acquired drug "
         "from 2025-01-01; CMS Part B inflation rebate guidance", OPPS_2024),
    Rule("WRONG_340B_MODIFIER", MODIFIERS_FROM, _DAY_BEFORE_ALL,
         "CY2018 OPPS final rule, 82 FR 52356: children's and PPS-exempt cancer hospitals "
         "report TB, not JG", OPPS_2018),
    Rule("WRONG_340B_MODIFIER", ALL_ENTITIES_FROM, _DAY_BEFORE_TB,
         "CMS Part B inflation rebate guidance (rev. 2023-03): children's, PPS-exempt cancer "
         "and critical access hospitals report TB", IRA_MODIFIER_GUIDANCE),
    Rule("WRONG_340B_MODIFIER", TB_FOR_ALL_FROM, None,
         "CY2024 OPPS final rule, 88 FR 81540: TB only from 2025-01-01; JG no longer "
         "identifies a 340B drug", OPPS_2024),
)


class RulePolicy(Protocol):
    """The policy settings the rules depend on (``audit340b.AuditPolicy`` has them)."""

    check_orphan_drugs: bool
    cah_modifier_from: dt.date | None
    non_hospital_modifier_from: dt.date | None


def rules_in_force(start: dt.date, end: dt.date, policy: RulePolicy | None = None
                   ) -> pd.DataFrame:
    """The rule versions that applied to claims with service dates from ``start`` to ``end``.

    A version applies when its dates overlap the period::

        effective_from <= end  and  (effective_to is None or effective_to >= start)

    The orphan drug rule is left out when the policy does not check it.

    Parameters
    ----------
    start, end : datetime.date
        First and last service date of the claims audited (inclusive).
    policy : RulePolicy, optional
        ``audit340b.AuditPolicy`` (default: orphan drugs checked).

    Returns
    -------
    DataFrame
        ``reason, version, effective_from, effective_to, citation, url``, in the order of
        :data:`RULES` (the reasons' order, oldest version first).

    Examples
    --------
    >>> import datetime as dt
    >>> in_force = rules_in_force(dt.date(2023, 12, 1), dt.date(2024, 1, 31))
    >>> in_force.loc[in_force["reason"] == "WRONG_340B_MODIFIER", "version"].tolist()
    ['WRONG_340B_MODIFIER/2018-01', 'WRONG_340B_MODIFIER/2024-01']
    """
    start, end = _date(start, "start"), _date(end, "end")
    if end < start:
        raise InputError(f"rules_in_force: the period ends ({end}) before it starts ({start})")
    checks_orphans = True if policy is None else bool(policy.check_orphan_drugs)
    return pd.DataFrame(
        [(rule.reason, rule.version, rule.effective_from, rule.effective_to, rule.citation,
          rule.url) for rule in RULES
         if rule.effective_from <= end
         and (rule.effective_to is None or rule.effective_to >= start)
         and (checks_orphans or rule.reason != "ORPHAN_DRUG")],
        columns=["reason", "version", "effective_from", "effective_to", "citation", "url"])


# --- the Part B modifier by period and entity type ------------------------------------------

_HOSPITALS = ("DSH", "RRC", "SCH", "PED", "CAN")
#: The entity types, in ``data.contracts.ENTITY_TYPES``' words; any other type is "other".
MODIFIER_ENTITY_TYPES = ("DSH", "RRC", "SCH", "PED", "CAN", "CAH", "FQHC", "other")
#: Per period (first day) and entity type: the modifier CMS requires, the ones the audit
#: accepts, and the policy setting that dates the requirement (None: held from the period's
#: start). Before 2024 CMS required nothing of CAHs and non-hospital entities: they are held
#: in that period only from a policy date chosen earlier than 2024 (an entity that started
#: early, as CMS encouraged).
_CAH_BEFORE_2024 = ("not required (policy date)", "TB", "cah_modifier_from")
_GRANTEE_BEFORE_2024 = ("not required (policy date)", "JG;TB", "non_hospital_modifier_from")
_MODIFIER_TABLE = {
    MODIFIERS_FROM: {
        "DSH": ("JG", "JG;TB", None), "RRC": ("JG", "JG;TB", None),
        "SCH": ("JG (urban) or TB (rural)", "JG;TB", None),
        "PED": ("TB", "TB", None), "CAN": ("TB", "TB", None),
        "CAH": _CAH_BEFORE_2024, "FQHC": _GRANTEE_BEFORE_2024, "other": _GRANTEE_BEFORE_2024,
    },
    ALL_ENTITIES_FROM: {
        **{t: ("JG or TB", "JG;TB", None) for t in ("DSH", "RRC", "SCH")},
        "PED": ("TB", "TB", None), "CAN": ("TB", "TB", None),
        "CAH": ("TB", "TB", "cah_modifier_from"),
        "FQHC": ("JG or TB", "JG;TB", "non_hospital_modifier_from"),
        "other": ("JG or TB", "JG;TB", "non_hospital_modifier_from"),
    },
    TB_FOR_ALL_FROM: {
        **{t: ("TB", "TB", None) for t in _HOSPITALS},
        "CAH": ("TB", "TB", "cah_modifier_from"),
        "FQHC": ("TB", "TB", "non_hospital_modifier_from"),
        "other": ("TB", "TB", "non_hospital_modifier_from"),
    },
}
_PERIOD_ENDS = {MODIFIERS_FROM: _DAY_BEFORE_ALL, ALL_ENTITIES_FROM: _DAY_BEFORE_TB,
                TB_FOR_ALL_FROM: None}


def part_b_modifier_rules() -> pd.DataFrame:
    """The Part B 340B modifier requirement by period and entity type, as a table.

    Returns
    -------
    DataFrame
        One row per period and entity type: ``effective_from, effective_to`` (None: in
        force), ``entity_type``, ``required`` (CMS's words), ``accepted`` (the modifiers the
        audit takes as compliant, ";"-joined), ``no_longer_valid`` ("JG" from 2025),
        ``held_from_setting`` (the ``AuditPolicy`` date that starts the requirement, blank
        when held from the period's start).

    Examples
    --------
    >>> table = part_b_modifier_rules()
    >>> table.loc[table["entity_type"] == "CAH", ["effective_from", "accepted",
    ...                                           "held_from_setting"]]
       effective_from accepted  held_from_setting
    5      2018-01-01       TB  cah_modifier_from
    13     2024-01-01       TB  cah_modifier_from
    21     2025-01-01       TB  cah_modifier_from
    """
    rows = [(start, _PERIOD_ENDS[start], entity_type, required, accepted,
             "JG" if start >= TB_FOR_ALL_FROM else "", setting or "")
            for start, by_type in _MODIFIER_TABLE.items()
            for entity_type, (required, accepted, setting) in by_type.items()]
    return pd.DataFrame(rows, columns=["effective_from", "effective_to", "entity_type",
                                       "required", "accepted", "no_longer_valid",
                                       "held_from_setting"])


def part_b_modifier_findings(
    day: np.ndarray, entity_type: np.ndarray, has_jg: np.ndarray, has_tb: np.ndarray,
    policy: RulePolicy,
) -> tuple[np.ndarray, np.ndarray]:
    """Which 340B Medicare Part B claims miss the modifier, or carry the wrong one.

    For each claim, with the period ``p`` its service date falls in and its entity type
    ``t`` (:func:`part_b_modifier_rules`)::

        held    = a modifier is required in (p, t) and the date is on or after the
                  policy setting that dates it
        missing = held and neither JG nor TB
        wrong   = held and JG or TB, but none of those accepted in (p, t)

    Parameters
    ----------
    day : ndarray of datetime64[D] or int
        Service dates (days since 1970-01-01 as integers are accepted).
    entity_type : ndarray of str, or pandas.Categorical
        The entity type of each claim's entity (unknown types and blanks count as "other").
    has_jg, has_tb : ndarray of bool
        Whether each claim carries the JG / TB modifier.
    policy : RulePolicy

    Returns
    -------
    tuple of ndarray of bool
        ``(missing, wrong)``.

    Examples
    --------
    >>> import datetime as dt, types
    >>> policy = types.SimpleNamespace(check_orphan_drugs=True,
    ...     cah_modifier_from=dt.date(2024, 1, 1), non_hospital_modifier_from=None)
    >>> days = np.array(["2017-12-31", "2018-01-01", "2025-01-01", "2025-01-01"],
    ...                 dtype="datetime64[D]")
    >>> missing, wrong = part_b_modifier_findings(days, np.array(["DSH", "DSH", "DSH", "FQHC"]),
    ...     np.array([False, False, True, True]), np.zeros(4, dtype=bool), policy)
    >>> missing.tolist(), wrong.tolist()
    ([False, True, False, False], [False, False, True, False])
    """
    day = np.asarray(day)
    day = day.astype("datetime64[D]").astype(np.int64) if day.dtype.kind == "M" else day
    starts = list(_MODIFIER_TABLE)
    period = np.searchsorted(_days(starts), day, side="right") - 1
    types = pd.Index(MODIFIER_ENTITY_TYPES)
    if isinstance(entity_type, pd.Categorical):  # a million claims, a few types: look up those
        kind = np.append(types.get_indexer(entity_type.categories), -1)[entity_type.codes]
    else:
        kind = types.get_indexer(pd.Index(np.asarray(entity_type, dtype=object)))
    kind = np.where(kind < 0, MODIFIER_ENTITY_TYPES.index("other"), kind)
    # Small lookup tables [period, type]; a claim before 2018 reads a row of "not held".
    shape = (len(starts) + 1, len(MODIFIER_ENTITY_TYPES))
    held_from = np.full(shape, np.iinfo(np.int64).max, dtype=np.int64)
    accepts_jg, accepts_tb = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    for p, start in enumerate(starts):
        for t, entity in enumerate(MODIFIER_ENTITY_TYPES):
            _required, accepted, setting = _MODIFIER_TABLE[start][entity]
            held_from[p, t] = _held_from(start, setting, policy)
            accepts_jg[p, t], accepts_tb[p, t] = "JG" in accepted, "TB" in accepted
    row = np.where(period >= 0, period, len(starts))
    held = day >= held_from[row, kind]
    accepted = (has_jg & accepts_jg[row, kind]) | (has_tb & accepts_tb[row, kind])
    missing = held & ~has_jg & ~has_tb
    wrong = held & (has_jg | has_tb) & ~accepted
    return missing, wrong


def modifier_policy_text(policy: RulePolicy) -> str:
    """The modifier policy settings in words, as the audit parameters print them.

    >>> import datetime as dt, types
    >>> text = modifier_policy_text(types.SimpleNamespace(
    ...     cah_modifier_from=dt.date(2024, 1, 1), non_hospital_modifier_from=None))
    >>> for part in text.split("; "):
    ...     print(part)
    JG or TB from 2018-01-01 by entity type, TB only from 2025-01-01 (JG no longer valid)
    CAH claims held from 2024-01-01 (policy)
    FQHC and other non-hospital entities not held (policy)
    """
    def held(setting: dt.date | None, who: str) -> str:
        return f"{who} held from {setting:%Y-%m-%d} (policy)" if setting else (
            f"{who} not held (policy)")

    return (f"JG or TB from {MODIFIERS_FROM} by entity type, TB only from {TB_FOR_ALL_FROM}"
            " (JG no longer valid); "
            + held(policy.cah_modifier_from, "CAH claims") + "; "
            + held(policy.non_hospital_modifier_from,
                   "FQHC and other non-hospital entities"))


def check_policy_dates(policy: RulePolicy) -> None:
    """Refuse a modifier policy setting that is not a date or None."""
    for name in ("cah_modifier_from", "non_hospital_modifier_from"):
        value = getattr(policy, name)
        if value is not None and not isinstance(value, dt.date):
            raise InputError(f"{name}: expected a date (the first service date the "
                             f"requirement applies to) or None, got {value!r}")


def _held_from(start: dt.date, setting: str | None, policy: RulePolicy) -> int:
    """The first day (days since 1970) a period's requirement holds for an entity type."""
    if setting is None:
        return int(_days([start])[0])
    chosen = getattr(policy, setting)
    return np.iinfo(np.int64).max if chosen is None else int(_days([max(start, chosen)])[0])


def _days(dates: list[dt.date]) -> np.ndarray:
    return np.array(dates, dtype="datetime64[D]").astype(np.int64)


def _date(value: object, name: str) -> dt.date:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise InputError(f"rules_in_force: {name} must be a date, got {value!r}")
    return stamp.date()

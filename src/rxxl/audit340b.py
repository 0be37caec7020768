"""340B compliance checks on every claim, with reasons and dollars at stake.

The statute's integrity rules (42 USC 256b(a)(5)): a 340B drug goes only to the entity's own
patients (no diversion) and never also earns a Medicaid rebate (no duplicate discount); plus
the GPO prohibition for DSH, children's and cancer hospitals and the orphan drug exclusion for
rural and cancer hospitals (DOMAIN.md §6, hrsa.gov/opa). Each rule is a stable reason code:

=============================  ==========  =====================================================
reason                         severity    the claim
=============================  ==========  =====================================================
ENTITY_INACTIVE                violation   340B; its entity is not registered on the date
SITE_NOT_REGISTERED            violation   340B; its site is unknown or not registered to the
                                           entity on the date
NO_QUALIFYING_ENCOUNTER        violation   340B; the patient had no encounter at a site
                                           registered to the entity in the look-back window
PRESCRIBER_NOT_ELIGIBLE        violation   340B; the prescriber is not on the entity's list
INPATIENT                      violation   340B; inpatient at administration (observation per
                                           policy, outpatient by default)
MEDICAID_DUPLICATE_DISCOUNT    violation   340B Medicaid FFS outpatient, while the MEF does not
                                           list the entity, state and billing NPI as carve-in
                                           that quarter (precedence below)
MEF_CARVE_IN_NOT_340B          review      Medicaid FFS outpatient under a carve-in listing,
                                           not on 340B
MEF_CONFLICT                   review      Medicaid FFS outpatient whose deciding MEF rows say
                                           both carve-in and carve-out that quarter
CONTRACT_PHARMACY_MEDICAID     violation   340B Medicaid (FFS or MCO) at a contract pharmacy
                                           without a reported Medicaid arrangement
GPO_PROHIBITION                violation   GPO account, outpatient, at a site registered to a
                                           DSH/PED/CAN entity participating on the date
ORPHAN_DRUG                    violation   CAH/SCH/RRC/CAN entity, orphan-listed NDC, 340B
MISSING_340B_MODIFIER          violation   340B Medicare Part B without JG or TB, where the
                                           date and entity type require one
WRONG_340B_MODIFIER            violation   340B Medicare Part B with JG or TB, but not the one
                                           required (JG from 2025; JG at a children's,
                                           cancer or, from 2024, critical access hospital)
ENTITY_UNKNOWN                 review      no entity on the claim and its site is registered to
                                           several entities, or to none on the account's books
=============================  ==========  =====================================================

Choices (documented in the README):

- A claim's entity is ``claims.entity_id``; when blank, the entity its site is registered to
  (the registration active on the service date wins; if several remain, ENTITY_UNKNOWN).
- Denied *pharmacy* claims were not dispensed under that claim and are not checked
  (``checked`` is False); denied medical claims were administered and are checked.
- An encounter counts when it is at a site registered to the claim's entity on the
  encounter date, and falls within ``lookback_days`` before the service date (inclusive of
  both ends).
- **Reading the MEF.** HRSA's rule: a site (340B ID) that carves in lists each Medicaid
  state it bills and the billing number(s) it puts on the bill to that state (the billing
  NPI, the state Medicaid number, or both); every drug billed to Medicaid FFS under a
  listed number must then be 340B, and a carved-out number is not listed at all
  (hrsa.gov/opa/program-requirements/medicaid-exclusion; 340B OPAIS help, "Medicaid
  Exclusion File(s)"). The decision belongs to the billing number on the bill. Claims carry
  the billing NPI, not the Medicaid number, so for each outpatient Medicaid FFS claim, with
  the rows of its entity, payer state and service quarter:

  1. the rows naming the claim's billing NPI decide (with or without a Medicaid number);
  2. only when no row names that NPI, the rows without an NPI (a Medicaid number only)
     decide: they cover every NPI of that entity and state;
  3. no row at all is carve-out (HRSA lists only carve-in numbers; ``carve_in`` false rows
     say so explicitly).

  The most specific listing wins: a carve-out row for one NPI beats a carve-in row for
  every NPI, and the other way round. When the deciding rows disagree (one NPI carved in
  under one Medicaid number and out under another; or two Medicaid-number-only rows, one
  in, one out, for an NPI no row names), the claim, which carries no Medicaid number,
  cannot be decided: ``MEF_CONFLICT``, for review, on 340B or not, and neither MEF finding.
  This is not refused at load: an entity may hold two Medicaid numbers in one state, and
  only the claims that meet the conflict are affected. Two rows with the same key are
  refused at load by the ``mef`` contract.
- **The MEF rules reach outpatient claims only.** Inpatient drugs are not covered
  outpatient drugs and earn no Medicaid rebate, so neither duplicate discount nor the
  carve-in rule applies: an inpatient 340B claim is ``INPATIENT``, an inpatient claim on
  GPO or WAC under a carve-in listing is compliant. Observation follows the policy
  (outpatient by default).
- **The GPO prohibition binds a participating entity.** It fires on an outpatient GPO claim
  only when the entity (DSH, PED, CAN) is registered on the service date *and* the site is
  registered to it on that date. A GPO purchase after the entity's participation ended, or
  at a site not (or no longer) registered, is not a GPO violation: HRSA lets an off-site
  outpatient facility that is not registered buy on a GPO with a separate wholesaler
  account (hrsa.gov/opa FAQs, GPO prohibition; Policy Release 2013-1). Those claims are not
  340B claims, so ``ENTITY_INACTIVE`` and ``SITE_NOT_REGISTERED`` (340B only) do not fire
  either. Not checked: the separate account, and an unregistered location inside the
  parent's four walls (still bound), which the data cannot show.
- **Exception rate** (:func:`audit_by_month`): checked 340B claims with a finding / checked
  340B claims. The reasons that fire on claims not on 340B (``REASONS_OFF_340B``) count as
  exceptions but stay out of the rate.
- **The Part B modifier follows CMS's dates** (:mod:`rxxl.rules`): none before 2018; from
  2018 hospitals paid under the OPPS (JG, or TB at children's and cancer hospitals); from
  2024 every covered entity (CAHs TB; FQHC and other entities per the policy's dates); from
  2025 TB only. The versions in force over a period: :func:`rxxl.rules.rules_in_force`.
- Dollars at stake = quantity x (WAC - 340B unit cost) on every non-compliant claim, NaN where
  a cost is unknown.

Everything is vectorized: interval checks are merges on small reference tables, and the
encounter look-back is one binary search of sorted (patient, entity, date) keys.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rxxl import rules
from rxxl.errors import InputError

COMPLIANT, VIOLATION, REVIEW = "compliant", "violation", "review"
STATUSES = [COMPLIANT, REVIEW, VIOLATION]

#: Reason codes in the order they are listed on a claim, with their severity.
REASONS: dict[str, str] = {
    "ENTITY_UNKNOWN": REVIEW,
    "ENTITY_INACTIVE": VIOLATION,
    "SITE_NOT_REGISTERED": VIOLATION,
    "NO_QUALIFYING_ENCOUNTER": VIOLATION,
    "PRESCRIBER_NOT_ELIGIBLE": VIOLATION,
    "INPATIENT": VIOLATION,
    "MEDICAID_DUPLICATE_DISCOUNT": VIOLATION,
    "MEF_CARVE_IN_NOT_340B": REVIEW,
    "MEF_CONFLICT": REVIEW,
    "CONTRACT_PHARMACY_MEDICAID": VIOLATION,
    "GPO_PROHIBITION": VIOLATION,
    "ORPHAN_DRUG": VIOLATION,
    "MISSING_340B_MODIFIER": VIOLATION,
    "WRONG_340B_MODIFIER": VIOLATION,
}
#: Each reason code in plain words, as reports and the claim detail show it.
REASON_TEXT: dict[str, str] = {
    "ENTITY_UNKNOWN": "No entity on the claim, and its site is registered to several "
                      "entities or to none",
    "ENTITY_INACTIVE": "The entity was not registered for 340B on the service date",
    "SITE_NOT_REGISTERED": "The site is unknown or not registered to the entity on the date",
    "NO_QUALIFYING_ENCOUNTER": "No encounter of the patient at a registered site of the "
                               "entity in the look-back window",
    "PRESCRIBER_NOT_ELIGIBLE": "The prescriber is not on the entity's list on the date",
    "INPATIENT": "Inpatient at administration",
    "MEDICAID_DUPLICATE_DISCOUNT": "340B Medicaid fee-for-service without a carve-in listing "
                                   "on the Medicaid Exclusion File",
    "MEF_CARVE_IN_NOT_340B": "Medicaid fee-for-service under a carve-in listing, but not on "
                             "340B",
    "MEF_CONFLICT": "The Medicaid Exclusion File lists the claim's billing number as both "
                    "carve-in and carve-out that quarter",
    "CONTRACT_PHARMACY_MEDICAID": "340B Medicaid at a contract pharmacy without a reported "
                                  "arrangement",
    "GPO_PROHIBITION": "Outpatient drug bought on the GPO account at a registered site of a "
                       "participating DSH, children's or cancer hospital",
    "ORPHAN_DRUG": "Orphan-listed drug on 340B at a rural, sole community or cancer hospital",
    "MISSING_340B_MODIFIER": "340B Medicare Part B claim without the JG or TB modifier its "
                             "date and entity type require",
    "WRONG_340B_MODIFIER": "340B Medicare Part B claim with a 340B modifier not valid for its "
                           "date and entity type (TB only from 2025; TB at children's, cancer "
                           "and critical access hospitals)",
}
#: The reasons that can fire on a claim *not* on the 340B account (the rest are about 340B
#: use): they count as exceptions but stay out of the exception rate (:func:`audit_by_month`).
REASONS_OFF_340B = ("MEF_CARVE_IN_NOT_340B", "MEF_CONFLICT", "GPO_PROHIBITION")
GPO_PROHIBITED_TYPES = frozenset({"DSH", "PED", "CAN"})
ORPHAN_EXCLUDED_TYPES = frozenset({"CAH", "SCH", "RRC", "CAN"})
PART_B_340B_MODIFIERS = frozenset({"JG", "TB"})
DEFAULT_LOOKBACK_DAYS = 365
REFERENCE_TABLES = ("entity", "sites", "prescribers", "encounters", "mef", "orphan_drugs")
#: The claims columns the checks read (``entity_id`` may be absent); a caller that only
#: counts the outcome can load just these, without ``claim_id``.
CHECKED_COLUMNS = ("service_date", "ndc", "quantity", "patient_id", "prescriber_npi",
                   "site_id", "patient_status", "payer_type", "payer_state", "billing_npi",
                   "account", "modifiers", "claim_type", "status", "unit_cost_340b",
                   "unit_cost_wac", "entity_id")


@dataclass(frozen=True)
class AuditPolicy:
    """The entity's written policy choices that the checks depend on."""

    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    #: Observation stays count as outpatient (the common written policy) unless False.
    observation_is_outpatient: bool = True
    #: The orphan drug exclusion's reach is contested in court: a policy switch.
    check_orphan_drugs: bool = True
    #: First service date a CAH's 340B Part B claims need TB (None: not held). CMS's first
    #: inflation rebate guidance left CAHs out; its revision holds them from 2024-01-01.
    cah_modifier_from: dt.date | None = rules.ALL_ENTITIES_FROM
    #: First service date FQHC and other non-hospital entities' 340B Part B claims need JG or
    #: TB (None: not held, e.g. every Part B drug bundled in the FQHC prospective payment).
    #: CMS: "no later than" 2024-01-01, for separately payable drugs.
    non_hospital_modifier_from: dt.date | None = rules.ALL_ENTITIES_FROM


def audit_claims(
    claims: pd.DataFrame,
    reference: dict[str, pd.DataFrame],
    policy: AuditPolicy | None = None,
) -> pd.DataFrame:
    """Check every claim against the 340B rules.

    Parameters
    ----------
    claims : DataFrame
        Claims as loaded by ``rxxl.data.load_table(..., "claims")``.
    reference : dict of DataFrame
        The six 340B reference tables, as ``rxxl.data.load_reference`` returns them.
    policy : AuditPolicy, optional
        Look-back window, observation status, orphan drug check, the Part B modifier's
        dates for CAH and non-hospital entities.

    Returns
    -------
    DataFrame
        One row per claim, in the claims' order: ``claim_id`` (when the claims have it: a
        count by month needs no identifiers), ``service_date, entity_id,
        site_id, payer_type, account, checked, status, reasons`` (codes joined by ";", empty
        when compliant), ``dollars_at_risk``, and the qualifying encounter a tracer audit
        shows: ``encounter_date`` and ``encounter_site_id`` of the patient's latest
        encounter that qualified the claim (at a site registered to its entity, within the
        look-back window; blank where none did or the claim was not checked for one: not
        on 340B, not checked, or its entity unknown).

    References
    ----------
    42 USC 256b(a)(5); HRSA 1996 patient definition (61 FR 55156); DOMAIN.md §6; each
    rule's source and dates: :data:`rxxl.rules.RULES`.

    Examples
    --------
    >>> from rxxl.data.synthetic import generate
    >>> from rxxl.data import load_table, load_reference
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "sample"
    >>> _ = generate(folder)
    >>> audit = audit_claims(load_table(folder / "claims", "claims"), load_reference(folder))
    >>> audit["status"].value_counts().to_dict()
    {'compliant': 61225, 'violation': 92, 'review': 6}
    """
    policy = policy or AuditPolicy()
    if policy.lookback_days < 0:
        raise InputError("lookback_days: the look-back window is 0 days or more")
    rules.check_policy_dates(policy)
    missing = [name for name in REFERENCE_TABLES if name not in reference]
    if missing:
        raise InputError(f"reference tables missing: {', '.join(missing)}")

    n = len(claims)
    day = _days(claims["service_date"])
    books = _Registry(reference, claims)
    # Coding millions of encounters' patient ids is Arrow's work, which lets go of the GIL:
    # it runs on the second core while the other checks run on the first.
    with ThreadPoolExecutor(max_workers=1) as pool:
        visits = pool.submit(books.visits, claims["patient_id"], day, policy.lookback_days)
        found, site, entity, checked, scope = _findings(claims, reference, policy, books, day)
        # The encounter that qualified each claim is kept: a tracer audit shows it.
        qualified, visit_day, visit_site = books.qualifying_encounter(
            visits.result(), entity, day, policy.lookback_days, scope)
    found["NO_QUALIFYING_ENCOUNTER"] = scope & ~qualified

    reasons, status = _reasons_and_status(found, n)
    dollars = np.where(status != STATUSES.index(COMPLIANT), dollars_at_stake(claims), 0.0)

    return pd.DataFrame(
        {
            **({"claim_id": _text(claims["claim_id"])} if "claim_id" in claims else {}),
            "service_date": claims["service_date"].array,
            "entity_id": books.entity_ids(entity),
            "site_id": _text(claims["site_id"]),
            "payer_type": _text(claims["payer_type"]),
            "account": _text(claims["account"]),
            "checked": checked,
            "status": pd.Categorical.from_codes(status, categories=STATUSES),
            "reasons": reasons,
            "dollars_at_risk": dollars,
            "encounter_date": pd.to_datetime(np.where(
                qualified, visit_day, _NAT).astype("datetime64[D]")).array,
            "encounter_site_id": books.site_ids_of(visit_site),
        },
        index=claims.index,
    )


def _findings(
    claims: pd.DataFrame, reference: dict[str, pd.DataFrame], policy: AuditPolicy,
    books: _Registry, day: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every finding but the encounter look-back (``NO_QUALIFYING_ENCOUNTER`` still False);
    and each claim's site and entity codes, whether it is checked, and the scope of the
    340B checks."""
    site = books.site_code(claims["site_id"])
    entity, entity_unknown = books.claim_entities(claims, site, day)
    on_340b = _is(claims["account"], "340B")
    checked = is_checked(claims)
    inpatient = _inpatient(claims, policy)
    known = entity >= 0
    gpo_prohibited = known & books.entity_flag(GPO_PROHIBITED_TYPES)[np.clip(entity, 0, None)]
    orphan_excluded = known & books.entity_flag(ORPHAN_EXCLUDED_TYPES)[np.clip(entity, 0, None)]

    scope = checked & on_340b & ~entity_unknown
    # Participation on the service date: the entity registered and the site registered to it.
    active = books.entity_active(entity, day)
    registered = books.site_registered(site, entity, day)
    found = {code: np.zeros(len(day), dtype=bool) for code in REASONS}
    found["ENTITY_UNKNOWN"] = checked & on_340b & entity_unknown
    found["ENTITY_INACTIVE"] = scope & ~active
    found["SITE_NOT_REGISTERED"] = scope & ~registered
    found["PRESCRIBER_NOT_ELIGIBLE"] = scope & ~books.prescriber_eligible(
        claims["prescriber_npi"], entity, day, scope
    )
    found["INPATIENT"] = scope & inpatient

    # The MEF concerns covered outpatient drugs: inpatient drugs earn no Medicaid rebate.
    medicaid_ffs = (checked & _is(claims["payer_type"], "medicaid_ffs") & ~entity_unknown
                    & ~inpatient)
    carve_in, carve_out = books.mef_listing(claims, entity, day, medicaid_ffs)
    found["MEDICAID_DUPLICATE_DISCOUNT"] = medicaid_ffs & on_340b & carve_out
    found["MEF_CARVE_IN_NOT_340B"] = medicaid_ffs & ~on_340b & carve_in
    found["MEF_CONFLICT"] = medicaid_ffs & ~carve_in & ~carve_out

    medicaid = _is(claims["payer_type"], "medicaid_ffs") | _is(claims["payer_type"], "medicaid_mco")
    pharmacy, arranged = books.contract_pharmacy(site, entity, day, scope & medicaid)
    found["CONTRACT_PHARMACY_MEDICAID"] = scope & medicaid & pharmacy & ~arranged
    # The prohibition binds a participating entity at its registered sites; a GPO purchase
    # outside participation is no 340B claim and no GPO violation.
    found["GPO_PROHIBITION"] = (
        checked & _is(claims["account"], "GPO") & ~inpatient & gpo_prohibited & active
        & registered
    )
    if policy.check_orphan_drugs:
        orphan = pc.is_in(_arrow(claims["ndc"]), value_set=_arrow(reference["orphan_drugs"]["ndc"]))
        found["ORPHAN_DRUG"] = (
            scope & _numpy(orphan, False) & orphan_excluded
        )
    part_b = scope & _is(claims["payer_type"], "medicare_b")
    has_jg, has_tb = _340b_modifiers(claims, part_b)
    missing, wrong = rules.part_b_modifier_findings(day, books.entity_type_of(entity), has_jg,
                                                    has_tb, policy)
    found["MISSING_340B_MODIFIER"] = part_b & missing
    found["WRONG_340B_MODIFIER"] = part_b & wrong

    return found, site, entity, checked, scope


# --- building blocks ----------------------------------------------------------------------------
# Identifiers become integer codes once (pyarrow hashes them in C); every check after that
# is integer arithmetic, merges on integer keys against small reference tables, or a binary
# search. Code -1 means "not in the reference".


# Claims loaded with ``categorical=True`` (as ``rxxl audit340b`` loads them) carry codes as
# Categoricals: those are coded through their few categories, never text by text.


def _arrow(values: pd.Series) -> pa.ChunkedArray:
    array = pa.array(values.astype("string[pyarrow]").array)
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _numpy(array: pa.ChunkedArray | pa.Array, fill: object) -> np.ndarray:
    return array.fill_null(fill).to_numpy(zero_copy_only=False)


def _codes(values: pd.Series, vocabulary: pa.Array) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        coded = _codes(pd.Series(values.cat.categories), vocabulary)
        # Category codes are -1 for a blank: the appended -1 answers it.
        return np.append(coded, -1)[values.cat.codes.to_numpy()]
    return _numpy(pc.index_in(_arrow(values), value_set=vocabulary), -1).astype(np.int64)


def _distinct(values: pd.Series) -> pa.Array:
    """The distinct values of a column, blank left out."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = pd.Series(values.cat.categories)
    return pc.unique(_arrow(values)).drop_null()


def _patient_codes(patients: pd.Series, visits: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The claims' patients as codes, and the visits' patients in the same numbering (-1 for
    a blank, and for a patient no claim names). One hash pass over the claims gives both
    their codes and the vocabulary the visits are looked up in."""
    encoded = pc.dictionary_encode(_arrow(patients)).combine_chunks()
    claim_patient = _numpy(encoded.indices, -1).astype(np.int64)
    return claim_patient, _codes(visits, encoded.dictionary)


def _text(values: pd.Series) -> pd.arrays.ArrowStringArray:
    """A column of the audit's result as text, however the claims carried it."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pd.array(pa.array(values.array).cast(pa.string()), dtype="string[pyarrow]")
    return values.array


def is_checked(claims: pd.DataFrame) -> np.ndarray:
    """Claims the audit checks: all but denied pharmacy claims (a denied pharmacy claim was
    not dispensed under that claim; a denied medical claim was still administered)."""
    return ~(_is(claims["claim_type"], "pharmacy") & _is(claims["status"], "denied"))


def is_340b_claim(claims: pd.DataFrame) -> np.ndarray:
    """A 340B claim as the audit counts one: checked (:func:`is_checked`) and on the 340B
    account. The registry reconciliation (:mod:`rxxl.registry`) counts the same claims."""
    return _is(claims["account"], "340B") & is_checked(claims)


def dollars_at_stake(claims: pd.DataFrame) -> np.ndarray:
    """Each claim's dollars at stake: quantity x (WAC - 340B unit cost), rounded to the cent
    (NaN when a cost is missing)."""
    quantity = claims["quantity"].to_numpy(dtype=float)
    spread = (claims["unit_cost_wac"].to_numpy(dtype=float, na_value=np.nan)
              - claims["unit_cost_340b"].to_numpy(dtype=float, na_value=np.nan))
    return np.round(quantity * spread, 2)


def _inpatient(claims: pd.DataFrame, policy: AuditPolicy) -> np.ndarray:
    """Inpatient at administration; observation too when the policy says so."""
    inpatient = _is(claims["patient_status"], "inpatient")
    if not policy.observation_is_outpatient:
        inpatient = inpatient | _is(claims["patient_status"], "observation")
    return inpatient


def medicaid_status(claims: pd.DataFrame, reference: dict[str, pd.DataFrame],
                    policy: AuditPolicy | None = None) -> np.ndarray:
    """Each claim's Medicaid billing in words, as the audit reads the Medicaid Exclusion File.

    A tracer follows a 340B claim to its Medicaid billing: an outpatient Medicaid
    fee-for-service claim is carve-in when the MEF lists its entity, state and billing NPI
    for the quarter, carve-out when it does not, and in conflict when the deciding rows say
    both (the precedence of :func:`audit_claims`, by the same code); the MEF does not reach
    Medicaid managed care nor inpatient drugs.

    Parameters
    ----------
    claims : DataFrame
        ``service_date, site_id, payer_type, payer_state, billing_npi, patient_status`` (and
        ``entity_id`` when the claims carry it).
    reference : dict of DataFrame
        The ``entity``, ``sites``, ``prescribers`` and ``mef`` reference tables.

    Examples
    --------
    >>> reference = {
    ...     "entity": pd.DataFrame({"entity_id": ["DSH1"], "entity_type": ["DSH"],
    ...         "start_date": pd.to_datetime(["2020-01-01"]), "end_date": pd.NaT}),
    ...     "sites": pd.DataFrame({"site_id": ["S1"], "entity_id": ["DSH1"],
    ...         "site_type": ["parent"], "start_date": pd.to_datetime(["2020-01-01"]),
    ...         "end_date": pd.NaT, "medicaid_arrangement": [None]}),
    ...     "prescribers": pd.DataFrame({"npi": [], "entity_id": []}),
    ...     "mef": pd.DataFrame({"entity_id": ["DSH1"], "state": ["OH"],
    ...         "billing_npi": ["1000000004"], "quarter_start": pd.to_datetime(["2026-10-01"]),
    ...         "carve_in": [True]})}
    >>> claims = pd.DataFrame({"service_date": pd.to_datetime(["2026-10-05"] * 4),
    ...     "site_id": "S1", "entity_id": "DSH1", "payer_state": "OH",
    ...     "payer_type": ["medicaid_ffs", "medicaid_ffs", "medicaid_mco", "commercial"],
    ...     "billing_npi": ["1000000004", "1000000012", "1000000004", "1000000004"],
    ...     "patient_status": "outpatient"})
    >>> for text in medicaid_status(claims, reference):
    ...     print(text)
    Medicaid fee-for-service (OH): carve-in, listed on the MEF for 2026-10
    Medicaid fee-for-service (OH): carve-out, not listed as carve-in for 2026-10
    Medicaid managed care (OH): the MEF does not apply
    not Medicaid
    """
    policy = policy or AuditPolicy()
    n = len(claims)
    day = _days(claims["service_date"])
    books = _Registry(reference, claims)
    entity, unknown = books.claim_entities(claims, books.site_code(claims["site_id"]), day)
    inpatient = _inpatient(claims, policy)
    ffs = _is(claims["payer_type"], "medicaid_ffs")
    decided = ffs & ~unknown & ~inpatient
    carve_in, carve_out = books.mef_listing(claims, entity, day, decided)
    state = claims["payer_state"].astype(object).fillna("no state").astype(str).to_numpy()
    quarter = _quarter_start(day).astype("datetime64[D]").astype("datetime64[M]").astype(str)
    fee = "Medicaid fee-for-service (" + state + "): "
    out = np.full(n, "not Medicaid", dtype=object)
    out[_is(claims["payer_type"], "medicaid_mco")] = (
        "Medicaid managed care (" + state + "): the MEF does not apply")[
        _is(claims["payer_type"], "medicaid_mco")]
    for where, text in (
            (ffs & inpatient, fee + "inpatient, no rebate: the MEF does not apply"),
            (ffs & unknown, fee + "entity unknown, the MEF cannot be read"),
            (decided & carve_in, fee + "carve-in, listed on the MEF for " + quarter),
            (decided & carve_out, fee + "carve-out, not listed as carve-in for " + quarter),
            (decided & ~carve_in & ~carve_out,
             fee + "the MEF lists the billing NPI as both carve-in and carve-out for "
             + quarter)):
        out[where] = text[where]
    return out


def _is(values: pd.Series, label: str) -> np.ndarray:
    return (values == label).to_numpy(dtype=bool, na_value=False)


def _days(dates: pd.Series) -> np.ndarray:
    return dates.to_numpy(dtype="datetime64[D]").astype(np.int64)


_OPEN_END = np.iinfo(np.int64).max
#: NumPy's NaT as an integer day.
_NAT = np.iinfo(np.int64).min


def _periods(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    start = _days(table["start_date"])
    end = table["end_date"].to_numpy(dtype="datetime64[D]")
    return start, np.where(np.isnat(end), _OPEN_END, end.astype(np.int64))


@dataclass(frozen=True)
class _Visits:
    """Encounters coded for the look-back search: each claim's patient code (-1 blank), and
    per usable visit its patient code, site code and day."""

    claim_patient: np.ndarray
    patient: np.ndarray
    site: np.ndarray
    day: np.ndarray


class _Registry:
    """The reference tables as integer codes, and the checks that look things up in them."""

    def __init__(self, reference: dict[str, pd.DataFrame], claims: pd.DataFrame) -> None:
        ids = [reference[name]["entity_id"] for name in ("entity", "sites", "prescribers", "mef")]
        if "entity_id" in claims:
            ids.append(claims["entity_id"])
        self.entities = pc.unique(pa.chunked_array([_distinct(series) for series in ids]))
        entity = reference["entity"]
        types = pd.Series(entity["entity_type"].astype(str).to_numpy(),
                          index=entity["entity_id"].astype(str).to_numpy())
        types = types[~types.index.duplicated()]
        self.entity_types = types.reindex(self.entities.to_pylist()).fillna("").to_numpy(
            dtype=object)
        self.entity_rows = self._with_periods(entity, entity=self.entity_code(entity["entity_id"]))

        sites = reference["sites"]
        self.site_ids = _distinct(sites["site_id"])
        self.site_rows = self._with_periods(
            sites,
            site=self.site_code(sites["site_id"]),
            entity=self.entity_code(sites["entity_id"]),
            contract_pharmacy=_is(sites["site_type"], "contract_pharmacy"),
            arrangement=sites["medicaid_arrangement"].fillna(False).to_numpy(dtype=bool),
        )
        self.reference = reference

    @staticmethod
    def _with_periods(table: pd.DataFrame, **columns: np.ndarray) -> pd.DataFrame:
        start, end = _periods(table)
        return pd.DataFrame({**columns, "start": start, "end": end})

    def entity_flag(self, types: frozenset[str]) -> np.ndarray:
        """Per entity code: whether the entity is of one of ``types``."""
        return np.isin(self.entity_types, list(types))

    def entity_code(self, values: pd.Series) -> np.ndarray:
        return _codes(values, self.entities)

    def entity_type_of(self, entity: np.ndarray) -> pd.Categorical:
        """Each claim's entity type (blank where the entity is unknown), coded per entity
        once rather than text per claim."""
        kinds = pd.Index(pd.unique(self.entity_types[self.entity_types != ""]))
        per_entity = np.append(kinds.get_indexer(pd.Index(self.entity_types)), -1)
        return pd.Categorical.from_codes(per_entity[np.where(entity >= 0, entity, -1)],
                                         categories=kinds)

    def site_code(self, values: pd.Series) -> np.ndarray:
        return _codes(values, self.site_ids)

    def entity_ids(self, codes: np.ndarray) -> pd.arrays.ArrowStringArray:
        return _ids(self.entities, codes)

    def site_ids_of(self, codes: np.ndarray) -> pd.arrays.ArrowStringArray:
        return _ids(self.site_ids, codes)

    def claim_entities(
        self, claims: pd.DataFrame, site: np.ndarray, day: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each claim's entity code, and whether it could not be told."""
        given = (claims["entity_id"].notna().to_numpy() if "entity_id" in claims
                 else np.zeros(len(claims), dtype=bool))
        entity = self.entity_code(claims["entity_id"]) if "entity_id" in claims else np.full(
            len(claims), -1, dtype=np.int64)
        unknown = np.zeros(len(claims), dtype=bool)
        needed = np.flatnonzero(~given)
        if needed.size == 0:
            return entity, unknown
        rows = pd.DataFrame({"row": needed, "site": site[needed], "day": day[needed]}).merge(
            self.site_rows[["site", "entity", "start", "end"]], on="site"
        )
        rows["active"] = (rows["start"] <= rows["day"]) & (rows["day"] <= rows["end"])
        # The registration active on the service date names the entity; a site registered
        # to one entity only (at another time) still names it; anything else is ambiguous.
        active = rows[rows["active"]].groupby("row")["entity"].agg(["first", "nunique"])
        anytime = rows.groupby("row")["entity"].agg(["first", "nunique"])
        choice = anytime.join(active.add_suffix("_active"), how="left")
        has_active = choice["nunique_active"].notna().to_numpy()
        picked = np.where(has_active, choice["first_active"].fillna(-1), choice["first"])
        ambiguous = np.where(has_active, choice["nunique_active"].fillna(0) > 1,
                             choice["nunique"] > 1)
        chosen = choice.index.to_numpy()
        entity[chosen] = np.where(ambiguous, -1, picked).astype(np.int64)
        unknown[chosen[ambiguous]] = True
        # A site no registry knows, and no entity on the claim: nothing to attribute it to.
        attributed = np.zeros(len(claims), dtype=bool)
        attributed[chosen] = True
        unknown[needed[~attributed[needed]]] = True
        return entity, unknown

    def entity_active(self, entity: np.ndarray, day: np.ndarray) -> np.ndarray:
        return _covered({"entity": entity}, day, self.entity_rows)

    def site_registered(self, site: np.ndarray, entity: np.ndarray, day: np.ndarray) -> np.ndarray:
        return _covered({"site": site, "entity": entity}, day, self.site_rows)

    def prescriber_eligible(
        self, npi: pd.Series, entity: np.ndarray, day: np.ndarray, scope: np.ndarray
    ) -> np.ndarray:
        prescribers = self.reference["prescribers"]
        npis = _distinct(prescribers["npi"])
        start, end = _periods(prescribers)
        listed = pd.DataFrame({"npi": _codes(prescribers["npi"], npis),
                               "entity": self.entity_code(prescribers["entity_id"]),
                               "start": start, "end": end})
        eligible = np.zeros(len(day), dtype=bool)
        rows = np.flatnonzero(scope)
        eligible[rows] = _covered(
            {"npi": _codes(npi.iloc[rows], npis), "entity": entity[rows]}, day[rows], listed
        )
        return eligible

    def visits(self, patients: pd.Series, day: np.ndarray, lookback_days: int) -> _Visits:
        """The encounters that may qualify some claim (inside the look-back window of the
        earliest to the latest service date), their patients coded by the claims' patients.
        A visit outside a given claim's own window never qualifies it (the search below
        takes the latest visit on or before the claim's date and tests its age), so narrowing
        by all claims' dates gives the same answers as narrowing by the claims in scope."""
        encounters = self.reference["encounters"]
        if encounters.empty or len(day) == 0:
            return _Visits(_patient_codes(patients, patients.iloc[:0])[0],
                           *(np.zeros(0, np.int64) for _ in range(3)))
        visit_day = _days(encounters["encounter_date"])
        window = np.flatnonzero((visit_day >= day.min() - lookback_days)
                                & (visit_day <= day.max()))
        claim_patient, visit_patient = _patient_codes(patients,
                                                      encounters["patient_id"].iloc[window])
        keep = window[visit_patient >= 0]
        return _Visits(claim_patient, visit_patient[visit_patient >= 0],
                       self.site_code(encounters["site_id"].iloc[keep]), visit_day[keep])

    def qualifying_encounter(
        self, visits: _Visits, entity: np.ndarray, day: np.ndarray, lookback_days: int,
        scope: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Whether each claim's patient had an encounter at a site registered to the claim's
        entity (on the encounter date) within ``lookback_days`` before the service date, and
        which: the latest such encounter's day (days since 1970) and site code (-1 where
        none qualified; of two on the same day at different sites, either).

        The encounters table has no encounter id: patient, site and date name the visit."""
        result = np.zeros(len(day), dtype=bool)
        visit_on = np.zeros(len(day), dtype=np.int64)
        visit_at = np.full(len(day), -1, dtype=np.int64)
        rows = np.flatnonzero(scope & (entity >= 0))
        if rows.size == 0 or visits.patient.size == 0:
            return result, visit_on, visit_at
        claim_patient = visits.claim_patient[rows]
        visits = pd.DataFrame({
            "patient": visits.patient, "site": visits.site, "day": visits.day,
        }).merge(self.site_rows[["site", "entity", "start", "end"]], on="site")
        visits = visits[(visits["start"] <= visits["day"]) & (visits["day"] <= visits["end"])]
        if visits.empty:
            return result, visit_on, visit_at

        # One sorted array of (patient, entity, day) packed into int64: the latest visit on
        # or before a claim's date is one binary search.
        entities = len(self.entities)
        origin = min(int(visits["day"].min()), int(day[rows].min()))
        origin -= lookback_days + 1
        span = max(int(visits["day"].max()), int(day[rows].max()))
        span = span - origin + 1
        pair = visits["patient"].to_numpy(np.int64) * entities + visits["entity"].to_numpy(np.int64)
        keys = pair * span + (visits["day"].to_numpy(np.int64) - origin)
        order = np.argsort(keys, kind="stable")
        packed, sites = keys[order], visits["site"].to_numpy(np.int64)[order]
        claim_pair = claim_patient.astype(np.int64) * entities + entity[rows]
        claim_packed = claim_pair * span + (day[rows] - origin)
        position = np.searchsorted(packed, claim_packed, side="right") - 1
        at = np.clip(position, 0, None)
        latest = packed[at]
        ok = (position >= 0) & (latest // span == claim_pair) & (
            claim_packed - latest <= lookback_days
        )
        result[rows] = ok
        visit_on[rows[ok]] = latest[ok] % span + origin
        visit_at[rows[ok]] = sites[at[ok]]
        return result, visit_on, visit_at

    def mef_listing(
        self, claims: pd.DataFrame, entity: np.ndarray, day: np.ndarray, scope: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whether the MEF carves each claim's entity, state and billing NPI in, or out, for
        the quarter of its service date; neither when its rows disagree.

        The most specific listing wins: the rows naming the claim's billing NPI decide; the
        rows without an NPI (a Medicaid number only: every NPI of that entity and state)
        decide only for an NPI no row names. No row at all is carve-out (HRSA lists only
        carve-in). Rows at the deciding level that say both carve-in and carve-out leave the
        claim undecided (``MEF_CONFLICT``).
        """
        carve_in = np.zeros(len(day), dtype=bool)
        carve_out = scope.copy()
        rows = np.flatnonzero(scope)
        mef = self.reference["mef"]
        if rows.size == 0 or mef.empty:
            return carve_in, carve_out
        asked = pd.DataFrame({
            "row": rows,
            "entity": entity[rows],
            "state": claims["payer_state"].iloc[rows].astype(object).to_numpy(),
            "npi": claims["billing_npi"].iloc[rows].astype(object).to_numpy(),
            "quarter": _quarter_start(day[rows]),
        })
        table = pd.DataFrame({
            "entity": self.entity_code(mef["entity_id"]),
            "state": mef["state"].astype(object).to_numpy(),
            "npi": mef["billing_npi"].astype(object).to_numpy(),
            "quarter": _days(mef["quarter_start"]),
            "carve_in": mef["carve_in"].to_numpy(dtype=bool),
        })
        any_npi = table["npi"].isna().to_numpy()
        exact = asked.merge(table[~any_npi], on=["entity", "state", "npi", "quarter"])
        undecided = asked[~asked["row"].isin(exact["row"])]
        wide = undecided.merge(table[any_npi].drop(columns="npi"),
                               on=["entity", "state", "quarter"])
        # Per claim, the deciding rows' carve-in flags: all true, all false, or both.
        said = pd.concat([exact, wide]).groupby("row")["carve_in"].agg(["min", "max"])
        listed = said.index.to_numpy()
        carve_in[listed] = said["min"].to_numpy(dtype=bool)
        carve_out[listed] = ~said["max"].to_numpy(dtype=bool)
        return carve_in, carve_out

    def contract_pharmacy(
        self, site: np.ndarray, entity: np.ndarray, day: np.ndarray, scope: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whether each claim's site is a contract pharmacy of its entity on the service
        date, and whether it has a Medicaid arrangement reported to HRSA."""
        pharmacies = self.site_rows[self.site_rows["contract_pharmacy"]]
        is_pharmacy = np.zeros(len(day), dtype=bool)
        arranged = np.zeros(len(day), dtype=bool)
        rows = np.flatnonzero(scope)
        is_pharmacy[rows] = _covered({"site": site[rows], "entity": entity[rows]}, day[rows],
                                     pharmacies)
        with_arrangement = pharmacies[pharmacies["arrangement"]]
        arranged[rows] = _covered({"site": site[rows], "entity": entity[rows]}, day[rows],
                                  with_arrangement)
        return is_pharmacy, arranged


def _ids(vocabulary: pa.Array, codes: np.ndarray) -> pd.arrays.ArrowStringArray:
    """The identifiers of integer codes, missing for code -1."""
    if len(vocabulary) == 0:
        return pd.array([None] * len(codes), dtype="string[pyarrow]")
    taken = vocabulary.take(pa.array(np.clip(codes, 0, None)))
    return pd.array(pc.if_else(pa.array(codes >= 0), taken, None), dtype="string[pyarrow]")


def _covered(keys: dict[str, np.ndarray], day: np.ndarray, periods: pd.DataFrame) -> np.ndarray:
    """Whether a period row with the same integer keys covers each claim's day."""
    asked = pd.DataFrame({**keys, "row": np.arange(len(day)), "day": day})
    rows = asked.merge(periods[[*keys, "start", "end"]], on=list(keys))
    inside = (rows["start"].to_numpy() <= rows["day"].to_numpy()) & (
        rows["day"].to_numpy() <= rows["end"].to_numpy()
    )
    covered = np.zeros(len(day), dtype=bool)
    covered[rows["row"].to_numpy()[inside]] = True
    return covered


def _quarter_start(day: np.ndarray) -> np.ndarray:
    months = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return (months - months % 3).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _340b_modifiers(claims: pd.DataFrame, scope: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each claim in ``scope`` carries JG, and TB (False outside the scope)."""
    has = {modifier: np.zeros(len(claims), dtype=bool) for modifier in PART_B_340B_MODIFIERS}
    rows = np.flatnonzero(scope)
    if "modifiers" not in claims or rows.size == 0:
        return has["JG"], has["TB"]
    text = claims["modifiers"].iloc[rows].astype("string").fillna("").str.upper()
    # Modifiers come as "JG", "JG;KX", "KX, TB": any separator, whole tokens only.
    padded = " " + text.str.replace(r"[^A-Z0-9]+", " ", regex=True) + " "
    for modifier in PART_B_340B_MODIFIERS:
        has[modifier][rows] = padded.str.contains(f" {modifier} ", regex=False).to_numpy(
            dtype=bool)
    return has["JG"], has["TB"]


def _reasons_and_status(found: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    codes = list(found)
    bits = np.zeros(n, dtype=np.int64)
    for i, code in enumerate(codes):
        bits |= found[code].astype(np.int64) << i
    # Few distinct combinations occur: label each once, then index by the bits themselves.
    present = np.flatnonzero(np.bincount(bits, minlength=1 << len(codes)))
    labels, statuses = [], []
    for mask in present:
        listed = [code for i, code in enumerate(codes) if mask >> i & 1]
        labels.append(";".join(listed))
        severities = {REASONS[code] for code in listed}
        worst = VIOLATION if VIOLATION in severities else REVIEW if severities else COMPLIANT
        statuses.append(STATUSES.index(worst))
    label_of = np.empty(1 << len(codes), dtype=object)
    status_of = np.zeros(1 << len(codes), dtype=np.int8)
    label_of[present], status_of[present] = labels, statuses
    return label_of[bits], status_of[bits]


# --- summaries ---------------------------------------------------------------------------------


def summarize_findings(audit: pd.DataFrame, by: str = "reason") -> pd.DataFrame:
    """Count and dollars of non-compliant claims by reason, site, entity or month.

    Each claim counts once per reason it carries when ``by="reason"``; dollars at stake are
    summed where known, with the count of claims whose dollars are unknown.
    """
    findings = audit[audit["status"] != COMPLIANT]
    if by == "reason":
        findings = findings.assign(reason=findings["reasons"].str.split(";")).explode("reason")
        key = "reason"
    elif by == "month":
        findings = findings.assign(month=findings["service_date"].dt.to_period("M").astype(str))
        key = "month"
    elif by in ("site", "entity"):
        key = f"{by}_id"
    else:
        raise InputError(f"by: expected reason, site, entity or month, got {by!r}")
    grouped = findings.groupby(key, observed=True, dropna=False)
    summary = pd.DataFrame(
        {
            "claims": grouped.size(),
            "violations": grouped["status"].apply(lambda s: int((s == VIOLATION).sum())),
            "dollars_at_risk": grouped["dollars_at_risk"].sum(min_count=0),
            "claims_without_costs": grouped["dollars_at_risk"].apply(lambda s: int(s.isna().sum())),
        }
    ).reset_index()
    return summary.sort_values(["dollars_at_risk", "claims"], ascending=False, ignore_index=True)


def audit_by_month(audit: pd.DataFrame) -> pd.DataFrame:
    """The audit's outcome per service month: the trend a 340B coordinator watches.

    Parameters
    ----------
    audit : DataFrame
        ``audit_claims`` output (any number of months).

    Returns
    -------
    DataFrame
        One row per month (``YYYY-MM``, ascending): ``checked`` claims, of which
        ``checked_340b`` on the 340B account; ``review`` and ``violations`` claims;
        ``exceptions_340b``, the checked 340B claims with a finding; ``exceptions`` (review
        + violations, on any account); ``exception_rate``; ``dollars_at_risk`` summed where
        known.

    Notes
    -----
    The exception rate is the share of the claims the 340B rules were applied to that
    broke one::

        exception_rate = exceptions_340b / checked_340b     (NaN when checked_340b = 0)

    Every rule but two is about a claim filled from 340B stock, so the checked 340B claims
    are the population. The two that find claims *not* on 340B -- ``GPO_PROHIBITION`` (a
    GPO purchase) and ``MEF_CARVE_IN_NOT_340B`` (a carve-in claim not on 340B; and
    ``MEF_CONFLICT`` on such a claim) -- are findings about purchasing, not a share of
    340B use: they count in ``exceptions``, ``review``/``violations`` and the dollars, and
    stay out of the rate (a non-340B claim in the denominator would dilute it with claims
    the 340B rules never applied to).

    Examples
    --------
    >>> audit = pd.DataFrame({
    ...     "service_date": pd.to_datetime(["2026-09-03", "2026-09-10", "2026-09-20",
    ...                                     "2026-10-01"]),
    ...     "account": ["340B", "340B", "GPO", "340B"], "checked": [True, True, True, False],
    ...     "status": ["violation", "compliant", "violation", "compliant"],
    ...     "dollars_at_risk": [120.0, 0.0, 80.0, 0.0]})
    >>> audit_by_month(audit)[["month", "checked", "exceptions", "exception_rate"]]
         month  checked  exceptions  exception_rate
    0  2026-09        3           2             0.5
    1  2026-10        0           0             NaN
    """
    checked_340b = audit["checked"].to_numpy(dtype=bool) & _is(audit["account"], "340B")
    frame = pd.DataFrame({
        "month": audit["service_date"].dt.to_period("M").array.asi8,
        "checked": audit["checked"].to_numpy(dtype=bool).astype(np.int64),
        "checked_340b": checked_340b.astype(np.int64),
        "review": _is(audit["status"], REVIEW).astype(np.int64),
        "violations": _is(audit["status"], VIOLATION).astype(np.int64),
        "exceptions_340b": (checked_340b & ~_is(audit["status"], COMPLIANT)).astype(np.int64),
        "dollars_at_risk": audit["dollars_at_risk"].to_numpy(dtype=float),
    })
    summary = frame.groupby("month", sort=True).sum(min_count=0)
    summary.index = pd.PeriodIndex.from_ordinals(summary.index, freq="M").astype(str)
    return _with_rates(summary.rename_axis("month"))


_MONTH_COUNTS = ["checked", "checked_340b", "review", "violations", "exceptions_340b",
                 "dollars_at_risk"]


def combine_by_month(summaries: list[pd.DataFrame]) -> pd.DataFrame:
    """Add up :func:`audit_by_month` summaries of parts of the claims (files that split a
    month between them), as if the parts had been audited together.

    >>> part = pd.DataFrame({"month": ["2026-10"], "checked": [4], "checked_340b": [2],
    ...                      "review": [0], "violations": [1], "exceptions_340b": [1],
    ...                      "dollars_at_risk": [50.0]})
    >>> combine_by_month([part, part])[["month", "checked", "exception_rate"]]
         month  checked  exception_rate
    0  2026-10        8             0.5
    """
    if not summaries:
        return _with_rates(pd.DataFrame(columns=_MONTH_COUNTS, index=pd.Index([], name="month")))
    total = pd.concat(summaries).groupby("month", sort=True)[_MONTH_COUNTS].sum(min_count=0)
    return _with_rates(total)


def _with_rates(counts: pd.DataFrame) -> pd.DataFrame:
    counts = counts[_MONTH_COUNTS].copy()
    counts["exceptions"] = counts["review"] + counts["violations"]
    counts["exception_rate"] = counts["exceptions_340b"] / counts["checked_340b"].where(
        counts["checked_340b"] > 0)
    return counts.reset_index()


def audit_sample(
    audit: pd.DataFrame, claims_per_entity: int = 10, seed: int = 340
) -> pd.DataFrame:
    """A seeded random sample of 340B claims per entity for a tracer audit (HRSA auditors
    trace about 10 prescriptions per 340B ID from dispensing back to purchase): drawn from the
    340B claims the audit checked, so never a denied pharmacy claim, which was not
    dispensed.

    Each claim's place in the draw is a seeded hash of its claim id (:func:`draw_keys`), and
    an entity's sample is its ``claims_per_entity`` claims of lowest key: the same claims,
    whatever the order or the files the claims come in, and the sample of a period is the
    sample of the months' samples put together (the audit pack draws month by month).

    >>> audit = pd.DataFrame({"claim_id": [f"C{i}" for i in range(6)], "account": "340B",
    ...     "checked": True, "entity_id": ["E1"] * 4 + ["E2"] * 2,
    ...     "service_date": pd.to_datetime("2026-10-01")})
    >>> whole = audit_sample(audit, 2)
    >>> parts = audit_sample(pd.concat([audit_sample(audit.iloc[:3], 2),
    ...                                 audit_sample(audit.iloc[3:], 2)]), 2)
    >>> whole["claim_id"].tolist() == parts["claim_id"].tolist()
    True
    """
    rows = np.flatnonzero(_is(audit["account"], "340B") & audit["checked"].to_numpy(bool)
                          & audit["entity_id"].notna().to_numpy())
    entity, _ = pd.factorize(audit["entity_id"].iloc[rows], sort=True)
    order = np.lexsort((draw_keys(audit["claim_id"].iloc[rows], seed), entity))
    # Within each entity (sorted), the first claims_per_entity of the draw.
    sorted_entity = entity[order]
    starts = np.flatnonzero(np.r_[True, sorted_entity[1:] != sorted_entity[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    chosen = rows[order[rank < claims_per_entity]]
    return audit.iloc[chosen].sort_values(["entity_id", "service_date", "claim_id"],
                                          ignore_index=True)


def draw_keys(claim_ids: pd.Series, seed: int) -> np.ndarray:
    """Each claim's place in a seeded random draw: SipHash of the claim id keyed by the seed
    (pandas' ``hash_array``), the same on every machine and run."""
    key = f"{seed % 10**16:016d}"
    return pd.util.hash_array(claim_ids.astype(str).to_numpy(dtype=object), hash_key=key)


#: Purchase lines a claim's purchase record lists, largest first, before "and N more".
PURCHASE_LINES_LISTED = 2


def purchase_records(
    claims: pd.DataFrame, purchases: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each claim's purchase record: the ``drug_purchases`` lines that replenished it.

    A tracer audit follows a 340B claim back to the purchase on the 340B account: the lines
    of the claim's NDC on the claim's account in its service month. When the claim's site is
    itself a purchasing location (a contract pharmacy), its own line is the record, or
    ``none at <site> ...``; for any other site every location's lines are listed, since the
    data contracts hold no site-to-location map (the largest ``PURCHASE_LINES_LISTED`` by
    dollars, and how many more). No line at all is ``none on the <account> account in
    <month>``.

    Parameters
    ----------
    claims : DataFrame
        ``ndc``, ``account``, ``service_date`` and ``site_id`` of the claims.
    purchases : DataFrame or None
        ``drug_purchases`` as loaded (None: no such table).

    Returns
    -------
    tuple of ndarray
        ``(codes, labels)``: claim ``i``'s record is ``labels[codes[i]]``; each distinct
        NDC, account, month and site is labelled once.

    Examples
    --------
    >>> claims = pd.DataFrame({"ndc": ["00001", "00001", "00002", "00003"],
    ...     "account": ["340B"] * 4, "site_id": ["CLINIC", "CP-1", "CLINIC", "CP-1"],
    ...     "service_date": pd.to_datetime(["2026-10-03", "2026-10-09", "2026-10-05",
    ...                                     "2026-10-05"])})
    >>> purchases = pd.DataFrame({"ndc": ["00001", "00001", "00001", "00003"],
    ...     "account": ["340B", "340B", "GPO", "340B"], "location": ["MAIN", "CP-1", "MAIN",
    ...     "MAIN"], "month": pd.to_datetime(["2026-10-01"] * 4),
    ...     "quantity": [4.0, 1.0, 2.0, 3.0], "unit_cost_actual": [10.0, 12.5, 20.0, 1.0]})
    >>> codes, labels = purchase_records(claims, purchases)
    >>> for label in labels[codes]:
    ...     print(label)
    2026-10 340B, every location: MAIN 4 packages ($40.00); CP-1 1 package ($12.50)
    2026-10 340B at CP-1: 1 package ($12.50)
    none on the 340B account in 2026-10
    none at CP-1 on the 340B account in 2026-10
    """
    keys = pd.DataFrame({
        "ndc": claims["ndc"].astype(object).to_numpy(),
        "account": claims["account"].astype(object).to_numpy(),
        "month": claims["service_date"].dt.to_period("M").astype(str).to_numpy(),
        "site": claims["site_id"].astype(object).to_numpy(),
    })
    codes, distinct = pd.MultiIndex.from_frame(keys).factorize()
    distinct = distinct.to_frame(index=False, name=list(keys.columns))
    if purchases is None:
        return codes, np.array(["no drug_purchases table"] * len(distinct) + [None], dtype=object)
    lines = pd.DataFrame({
        "ndc": purchases["ndc"].astype(object).to_numpy(),
        "account": purchases["account"].astype(object).to_numpy(),
        "month": purchases["month"].dt.to_period("M").astype(str).to_numpy(),
        "location": purchases["location"].astype(object).fillna("(no location)").to_numpy(),
        "quantity": purchases["quantity"].to_numpy(dtype=float),
        "dollars": (purchases["quantity"] * purchases["unit_cost_actual"]).to_numpy(dtype=float),
    })
    site = distinct["site"].astype(object).to_numpy()
    account = distinct["account"].astype(str).to_numpy(dtype=object)
    month = distinct["month"].to_numpy(dtype=object)
    buys = np.isin(site, lines["location"].unique())
    found = distinct.reset_index(names="key").merge(lines, on=["ndc", "account", "month"])
    # A site that buys for itself is traced to its own line only.
    found = found[~buys[found["key"].to_numpy()] | (found["location"] == found["site"])]
    # Largest first, at most PURCHASE_LINES_LISTED of them and the count of the rest.
    found = found.sort_values(["key", "dollars", "location"], ascending=[True, False, True])
    rank = found.groupby("key").cumcount().to_numpy()
    more = pd.Series(rank >= PURCHASE_LINES_LISTED).groupby(found["key"].to_numpy()).sum()
    found = found[rank < PURCHASE_LINES_LISTED]
    quantity = found["quantity"]
    counted = pd.Series(np.where(quantity % 1 == 0, quantity.map("{:,.0f}".format),
                                 quantity.map("{:,.2f}".format)), index=found.index)
    units = pd.Series(np.where(quantity == 1, " package ($", " packages ($"), index=found.index)
    amount = counted + units + found["dollars"].map("{:,.2f}".format) + ")"
    own = buys[found["key"].to_numpy()]
    text = pd.Series(np.where(own, amount, found["location"] + " " + amount), index=found.index)
    listed = text.groupby(found["key"]).agg("; ".join)
    extra = more.reindex(listed.index).to_numpy()
    listed = listed + np.where(extra > 0, "; and " + extra.astype(str) + np.where(
        extra == 1, " more location", " more locations"), "")
    labels = np.where(buys, "none at " + site.astype(str) + " on the " + account
                      + " account in " + month,
                      "none on the " + account + " account in " + month).astype(object)
    at = listed.index.to_numpy()
    labels[at] = (month[at] + " " + account[at]
                  + np.where(buys[at], " at " + site[at].astype(str) + ": ", ", every location: ")
                  + listed.to_numpy(dtype=object))
    return codes, np.append(labels, None)

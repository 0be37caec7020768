"""One month of claims: who, where, what, which payer, which purchasing account, what it
cost and what was paid; then adjudication (denials at each payer's stable rate, the planted
spike) and resubmissions.

Columns live as numpy arrays of integer codes until the month is written, so a million
claims are a few dozen vector operations. Every clean claim is compliant by construction:
the 340B account is used only where every 340B rule allows it (see :func:`assign_accounts`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from rxxl import rules
from rxxl.data.synthetic._common import (
    Calendar,
    choose_in_pools,
    choose_within_groups,
    day,
    digits_array,
    quarter_start,
    shuffled_order,
    spread_within_groups,
    take_text,
)
from rxxl.data.synthetic.formulary import Formulary
from rxxl.data.synthetic.organization import (
    CONTRACT_PHARMACY,
    INFUSION,
    INPATIENT,
    OBSERVATION,
    OP_PHARMACY,
    Organization,
    mef_key,
)

ACCOUNTS = ("340B", "GPO", "WAC")
A340B, GPO, WAC = 0, 1, 2
STATUSES = ("paid", "denied")
PATIENT_STATUS = ("outpatient", "inpatient", "observation")
MODIFIER_PREFIX = ("", "JG", "TB", "UD")
MODIFIER_SUFFIX = ("", "JZ", "JW")
MODIFIERS = tuple(";".join(x for x in (p, s) if x)
                  for p in MODIFIER_PREFIX for s in MODIFIER_SUFFIX)
JG, TB, UD = 1, 2, 3

# NCPDP reject codes of denied pharmacy claims, their shares, and how often the pharmacy
# resubmits and gets paid (after a prior authorization, a DUR override, a corrected ID).
REJECT_CODES = ("75", "79", "70", "76", "88", "MR", "65", "41", "69", "19")
REJECT_SHARES = np.array([0.25, 0.17, 0.14, 0.11, 0.08, 0.07, 0.07, 0.05, 0.03, 0.03])
REJECT_RESUBMIT = np.array([0.70, 0.10, 0.30, 0.50, 0.60, 0.30, 0.40, 0.80, 0.30, 0.80])
# CARC codes (group CO) of denied medical claims. CO-45 and PR-1/2/3 are not denials.
CARC_CODES = ("CO-16", "CO-197", "CO-50", "CO-4", "CO-96", "CO-11", "CO-151", "CO-18",
              "CO-22", "CO-27", "CO-29")
CARC_SHARES = np.array([0.22, 0.20, 0.14, 0.10, 0.08, 0.08, 0.05, 0.04, 0.04, 0.03, 0.02])
CARC_RESUBMIT = np.array([0.80, 0.50, 0.40, 0.90, 0.20, 0.80, 0.60, 0.0, 0.70, 0.30, 0.10])
SPIKE_REJECT_CODE = "75"
#: Initial denial rate of the spike payer in the spike month.
SPIKE_RATE = 0.25

#: Share of claims from patients the entity has never seen, and of prescriptions written by
#: prescribers on no entity's list, by channel.
OUTSIDE_PATIENTS = np.array([0.25, 0.20, 0.05, 0.0, 0.0])
COMMUNITY_PRESCRIBERS = np.array([0.12, 0.12, 0.03, 0.0, 0.0])
#: Winter months are busier (respiratory season); July the quietest.
SEASON = np.array([1.08, 1.06, 1.02, 0.99, 0.97, 0.95, 0.94, 0.96, 0.98, 1.00, 1.02, 1.06])
GROWTH_PER_YEAR = 0.06
TB_FOR_ALL = day(rules.TB_FOR_ALL_FROM.isoformat())
#: What the entity pays on each paid 340B fill at a contract pharmacy: the pharmacy's
#: dispensing fee, a flat fee plus a share of what the payer paid (the hybrid of the flat
#: and percentage models of pharmacy services agreements), and the TPA's fee per captured
#: claim (the transactional model). docs/340b-exposure.md gives the sources.
CP_DISPENSING_FEE = 15.00
CP_DISPENSING_SHARE = 0.03
TPA_FEE_PER_CLAIM = 5.50


def month_volumes(calendar: Calendar, latest: int, rng: np.random.Generator) -> np.ndarray:
    """Initial claims per month: the latest month's volume walked back with growth and
    seasonality, plus a little noise.

    Parameters
    ----------
    calendar : Calendar
        The 24 reporting months.
    latest : int
        Initial claims in the latest month.
    rng : numpy.random.Generator
        The volume stream.

    Returns
    -------
    numpy.ndarray
        Claims per month (int64), oldest first.
    """
    age = calendar.latest - np.arange(len(calendar))
    season = SEASON[calendar.month_of_year - 1] / SEASON[calendar.month_of_year[-1] - 1]
    expected = latest * (1 + GROWTH_PER_YEAR) ** (-age / 12) * season
    noise = 1 + np.clip(rng.normal(0, 0.01, len(calendar)), -0.02, 0.02)
    noise[-1] = 1.0
    return np.round(expected * noise).astype(np.int64)


class Claims:
    """A month of claims as parallel arrays (see :data:`COLUMNS` for their names).

    Codes index the organization's and formulary's tables (site, payer, drug, NPI); -1
    means blank. ``original`` is the row of a resubmission's original and ``planted`` the
    index of the planted flavor (-1: clean).
    """

    COLUMNS = (
        "day", "entity", "channel", "site", "location", "patient", "prescriber", "drug",
        "payer", "billing", "entity_override", "account", "modifier", "scc", "quantity",
        "days_supply", "unit_wac", "unit_340b", "billed", "would_pay", "status", "reject",
        "carc", "original", "planted", "outside", "community", "patient_status",
    )

    def __init__(self, **columns: np.ndarray) -> None:
        self.__dict__.update(columns)

    def __len__(self) -> int:
        return len(self.day)

    def take(self, rows: np.ndarray) -> Claims:
        """The claims at ``rows`` (a new object)."""
        return Claims(**{c: getattr(self, c)[rows] for c in self.COLUMNS})

    def append(self, other: Claims) -> Claims:
        """These claims followed by ``other``'s (a new object)."""
        return Claims(**{c: np.concatenate([getattr(self, c), getattr(other, c)])
                         for c in self.COLUMNS})


def generate_month(org: Organization, form: Formulary, month: int, n: int,
                   rng: np.random.Generator) -> Claims:
    """Clean claims of one month, before planting and adjudication.

    Parameters
    ----------
    org : Organization
        Entities, sites, prescribers, payers and patients.
    form : Formulary
        Drugs and prices.
    month : int
        Index of the month (0 is the oldest).
    n : int
        Number of initial claims.
    rng : numpy.random.Generator
        The month's stream.

    Returns
    -------
    Claims
        Rows in service date order, every one compliant with the 340B rules.
    """
    cal = org.calendar
    n_entities = len(org.entities)
    shares = np.array([e.share for e in org.entities])
    entity = rng.choice(n_entities, n, p=shares / shares.sum())
    channel_mix = np.array([e.channel_mix for e in org.entities])
    channel = choose_within_groups(rng, entity, channel_mix)
    site = choose_within_groups(rng, entity * 5 + channel, org.site_weights(month))
    # Rows come in service date order (the weekend shift of infusions moves a few by a day
    # or two), so a month's file reads like a claims extract.
    days = np.sort(cal.start[month] + rng.integers(0, cal.days[month], n))
    days = _weekdays_for_infusions(days, channel == INFUSION, cal.start[month])

    outside = rng.random(n) < OUTSIDE_PATIENTS[channel]
    patient = np.where(outside, org.n_established + org.outside_lottery.draw(rng, entity),
                       org.established_lottery.draw(rng, entity))

    community = rng.random(n) < np.where(outside, 0.7, COMMUNITY_PRESCRIBERS[channel])
    members, offsets, cumulative = org.prescriber_pools(month)
    listed = members[choose_in_pools(rng, entity, offsets, cumulative)]
    prescriber = np.where(community, rng.choice(org.community_codes, n), listed)

    # Each entity's channel gets its drugs in proportion, so a small hospital's monthly
    # drug cost does not swing on whether two or five costly infusions came up.
    mix = np.select([org.entity_type == "PED", org.entity_type == "CAH"], [1, 2], 0)
    by_entity = drug_weights(form).reshape(3, 5, form.n)[mix].reshape(-1, form.n)
    drug = spread_within_groups(rng, entity * 5 + channel, by_entity)
    pharmacy = (channel == OP_PHARMACY) | (channel == CONTRACT_PHARMACY)
    quantity, days_supply = _quantities(form, drug, pharmacy, month, rng)

    klass = np.where(pharmacy, 0, np.where(channel == INFUSION, 1, 2))
    payer = choose_within_groups(rng, entity * 3 + klass, org.payer_mix)

    patient_status = np.where(channel == INPATIENT, 1, np.where(channel == OBSERVATION, 2, 0))
    claims = Claims(
        day=days, entity=entity, channel=channel, site=site,
        location=org.location_of[site, channel], patient=patient, prescriber=prescriber,
        drug=drug, payer=payer, billing=org.site_npi_code[site],
        entity_override=np.where(org.site_is_cp[site], entity, -1),
        account=np.full(n, WAC), modifier=np.zeros(n, dtype=np.int64),
        scc=np.full(n, -1), quantity=quantity, days_supply=days_supply,
        unit_wac=form.wac[month, drug] * form.cost_factor[month, drug],
        unit_340b=form.price_340b[month, drug] * form.cost_factor[month, drug],
        billed=np.zeros(n), would_pay=np.zeros(n), status=np.zeros(n, dtype=np.int64),
        reject=np.full(n, -1), carc=np.full(n, -1), original=np.full(n, -1),
        planted=np.full(n, -1), outside=outside, community=community,
        patient_status=patient_status,
    )
    jz = rng.random(n)
    claims.modifier = np.where(channel == INFUSION, np.where(jz < 0.55, 1, np.where(
        jz < 0.60, 2, 0)), 0)
    assign_accounts(org, form, claims, rng)
    price(org, claims)
    return claims


def drug_weights(form: Formulary) -> np.ndarray:
    """Weights of what is dispensed where.

    Parameters
    ----------
    form : Formulary
        Drugs with their channels, pediatric use and weights.

    Returns
    -------
    numpy.ndarray
        (3 mixes x 5 channels) x products. Mixes: 0 adult hospitals, 1 the children's
        hospital (no adult-only drugs, more of the drugs common in children), 2 the
        critical access hospital (no infusion costing over $5,000 a dose: those patients
        go to a cancer or infusion center).
    """
    weights = np.zeros((15, form.n))
    letters = ("R", "R", "I", "H", "H")
    per_claim = form.dose * form.wac[-1]
    for mix in (0, 1, 2):
        factor = np.ones(form.n)
        if mix == 1:
            factor[form.pediatric == "A"] = 0.0
            factor[form.pediatric == "K"] = 4.0
        else:
            factor[form.pediatric == "P"] = 0.0
        if mix == 2:
            factor[per_claim > 5_000] = 0.0
        for channel, letter in enumerate(letters):
            weights[mix * 5 + channel] = form.weight * factor * form.in_channel(letter)
    return weights


def _weekdays_for_infusions(days: np.ndarray, infusion: np.ndarray, first: int) -> np.ndarray:
    """Infusion centers and clinics are closed at weekends: move those visits to Friday
    (or to Monday when Friday is in the previous month)."""
    weekday = (days + 3) % 7  # day 0 (1970-01-01) was a Thursday; Monday is 0
    back = np.where(weekday == 5, 1, np.where(weekday == 6, 2, 0))
    moved = days - back
    moved = np.where(moved < first, days + np.where(weekday == 5, 2, 1), moved)
    return np.where(infusion, moved, days)


def _quantities(form: Formulary, drug: np.ndarray, pharmacy: np.ndarray, month: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Billing units and days supply: 30- or 90-day fills of maintenance drugs (specialty
    drugs 30 days only), fixed courses of acute ones, weight-based doses of infusions."""
    n = len(drug)
    acute = form.acute_days[drug]
    specialty = form.wac[month, drug] > 50
    ninety = (rng.random(n) < 0.25) & ~specialty & (acute == 0)
    supply = np.where(acute > 0, acute, np.where(ninety, 90, 30))
    units = np.where(acute > 0, form.dose[drug], form.dose[drug] * supply / 30)
    dose = np.maximum(1, np.round(form.dose[drug] * rng.uniform(0.8, 1.2, n)))
    quantity = np.where(pharmacy, units, dose).astype(np.float64)
    return quantity, np.where(pharmacy, supply, -1)


def claim_entity(claims: Claims) -> np.ndarray:
    """Each claim's entity: its ``entity_id`` where filled, else its site's entity.

    Parameters
    ----------
    claims : Claims

    Returns
    -------
    numpy.ndarray
        Entity index per claim.
    """
    return np.where(claims.entity_override >= 0, claims.entity_override, claims.entity)


def carve_in_listed(org: Organization, claims: Claims, mef: np.ndarray) -> np.ndarray:
    """Medicaid fee-for-service claims whose entity, state, billing NPI and quarter the MEF
    lists as carve-in.

    Parameters
    ----------
    org : Organization
    claims : Claims
    mef : numpy.ndarray
        Carve-in listings from :meth:`Organization.mef_keys`.

    Returns
    -------
    numpy.ndarray
        Boolean per claim.
    """
    ffs = org.payer_type[claims.payer] == "medicaid_ffs"
    keys = mef_key(claim_entity(claims), org.payer_state[claims.payer] == "OH",
                   org.npi_table[claims.billing], quarter_start(claims.day))
    return ffs & np.isin(keys, mef)


def assign_accounts(org: Organization, form: Formulary, claims: Claims,
                    rng: np.random.Generator) -> None:
    """Choose each clean claim's purchasing account so that no 340B rule is broken.

    A claim is on 340B stock only when it qualifies (established patient, listed
    prescriber, outpatient, site registered and entity active on the day) and nothing
    forbids it: a carved-out Medicaid FFS claim, Medicaid at a contract pharmacy without an
    arrangement, or an orphan drug at an entity under the orphan exclusion. A Medicaid FFS
    claim billed under a carve-in listing must be 340B, so one that cannot be is moved to a
    Medicaid managed care plan (a patient's coverage is the world's choice, not ours, but
    it keeps the sample clean). Outpatient non-340B claims of DSH and children's hospitals
    use WAC, never GPO; inpatient claims use GPO; observation uses WAC.

    Parameters
    ----------
    org : Organization
    form : Formulary
    claims : Claims
        Changed in place: ``account`` (and ``payer`` where moved), modifiers and SCC.
    rng : numpy.random.Generator
    """
    mef = org.mef_keys()
    entity = claim_entity(claims)
    outpatient = (claims.channel == OP_PHARMACY) | (claims.channel == CONTRACT_PHARMACY) | (
        claims.channel == INFUSION)
    qualified = (
        outpatient & ~claims.outside & ~claims.community
        & org.site_registered(claims.site, claims.day)
        & org.entity_active(entity, claims.day)
    )
    orphan_blocked = form.orphan[claims.drug] & org.orphan_excluded[entity]
    medicaid = np.isin(org.payer_type[claims.payer], ["medicaid_ffs", "medicaid_mco"])
    cp_blocked = org.site_is_cp[claims.site] & ~org.site_arrangement[claims.site] & medicaid
    carve_in = carve_in_listed(org, claims, mef)
    move = carve_in & (~qualified | orphan_blocked | cp_blocked)
    if move.any():
        claims.payer = np.where(move, rng.choice(org.pa_mcos, len(claims)), claims.payer)
        carve_in = carve_in & ~move
    ffs = org.payer_type[claims.payer] == "medicaid_ffs"
    on_340b = qualified & ~orphan_blocked & ~cp_blocked & ~(ffs & ~carve_in)
    outpatient_other = np.where(org.site_is_cp[claims.site] | org.gpo_prohibited[entity],
                                WAC, GPO)
    claims.account = np.where(
        on_340b, A340B,
        np.where(claims.channel == INPATIENT, GPO,
                 np.where(claims.channel == OBSERVATION, WAC, outpatient_other)))
    set_340b_flags(org, claims)


def set_340b_flags(org: Organization, claims: Claims, rows: np.ndarray | None = None) -> None:
    """Set the modifiers and submission clarification codes that follow from the account.

    JG/TB on Medicare Part B lines from 340B stock (TB for children's, cancer and critical
    access hospitals, and for everyone from 2025: :mod:`rxxl.rules`), UD on Medicaid lines
    from 340B stock, NCPDP SCC 20 on Medicaid pharmacy claims from 340B stock; JZ/JW (drug
    waste) are kept.

    Parameters
    ----------
    org : Organization
    claims : Claims
        Changed in place.
    rows : numpy.ndarray, optional
        The rows to set (default all).
    """
    if rows is None:
        rows = np.arange(len(claims))
    on_340b = claims.account[rows] == A340B
    payer_type = org.payer_type[claims.payer[rows]]
    medicaid = np.isin(payer_type, ["medicaid_ffs", "medicaid_mco"])
    medical = claims.channel[rows] == INFUSION
    entity_type = org.entity_type[claims.entity[rows]]
    tb = np.isin(entity_type, rules.TB_HOSPITAL_TYPES) | (claims.day[rows] >= TB_FOR_ALL)
    prefix = np.where(on_340b & (payer_type == "medicare_b"), np.where(tb, TB, JG),
                      np.where(on_340b & medicaid & medical, UD, 0))
    prefix = np.where(medical, prefix, 0)
    suffix = claims.modifier[rows] % 3
    claims.modifier[rows] = prefix * 3 + suffix
    pharmacy = ~medical & (claims.channel[rows] != INPATIENT) & (
        claims.channel[rows] != OBSERVATION)
    claims.scc[rows] = np.where(pharmacy & on_340b & medicaid, 0, -1)


def price(org: Organization, claims: Claims, rows: np.ndarray | None = None) -> None:
    """Set billed charges and what the payer pays when it pays.

    Pharmacy claims are paid at a WAC-based rate plus a dispensing fee (Medicaid FFS pays
    340B actual cost plus its professional fee on 340B claims); medical claims are billed
    at the chargemaster and paid at ASP+6% (Medicare B), a commercial markup, or
    Medicaid's rate.

    Parameters
    ----------
    org : Organization
    claims : Claims
        Changed in place: ``billed`` and ``would_pay``.
    rows : numpy.ndarray, optional
        The rows to price (default all).
    """
    if rows is None:
        rows = np.arange(len(claims))
    qty = claims.quantity[rows]
    wac = claims.unit_wac[rows] * qty
    cost340 = claims.unit_340b[rows] * qty
    payer_type = org.payer_type[claims.payer[rows]]
    on_340b = claims.account[rows] == A340B
    pharmacy = (claims.channel[rows] == OP_PHARMACY) | (claims.channel[rows] == CONTRACT_PHARMACY)
    billed = np.where(pharmacy, wac * 1.25 + 11.50, wac * 2.75)
    pharmacy_paid = np.select(
        [payer_type == "medicare_d", payer_type == "commercial",
         payer_type == "medicaid_ffs", payer_type == "medicaid_mco"],
        [wac * 1.03 + 2.10, wac * 1.06 + 1.75,
         np.where(on_340b, cost340, wac * 0.98) + 10.49, wac * 1.01 + 3.00],
        billed * 0.40)
    medical_paid = np.select(
        [payer_type == "medicare_b", payer_type == "commercial",
         payer_type == "medicaid_ffs", payer_type == "medicaid_mco", payer_type == "other"],
        [wac * 1.023, wac * 1.55, np.where(on_340b, cost340 * 1.02, wac * 0.92), wac * 1.02,
         wac * 1.10],
        billed * 0.25)
    claims.billed[rows] = np.round(billed, 2)
    claims.would_pay[rows] = np.round(np.minimum(np.where(pharmacy, pharmacy_paid,
                                                          medical_paid), billed), 2)


def adjudicate(org: Organization, claims: Claims, month: int, spike: bool,
               rng: np.random.Generator) -> Claims:
    """Deny claims at each payer's stable initial denial rate, plant the denial spike, and
    append the paid resubmissions of some denials.

    The number of denials per payer and month is the expected count plus binomial-sized
    noise held within 1.3 standard deviations, so a p-chart of the sample shows the planted
    spike and nothing else out of control. Planted compliance claims are never denied.

    Parameters
    ----------
    org : Organization
    claims : Claims
        The month's clean and planted claims; ``status`` and codes are set in place.
    month : int
        Index of the month.
    spike : bool
        Whether this is the month of the denial spike.
    rng : numpy.random.Generator

    Returns
    -------
    Claims
        The claims followed by the resubmissions.
    """
    payers = len(org.payers)
    counts = np.bincount(claims.payer, minlength=payers)
    rate = org.payer_denial
    sd = np.sqrt(counts * rate * (1 - rate))
    z = np.clip(rng.normal(0, 1, payers), -1.3, 1.3)
    denials = np.clip(np.round(counts * rate + z * sd), 0, None).astype(np.int64)
    extra = np.zeros(payers, dtype=np.int64)
    if spike:
        j = org.spike_payer
        extra[j] = int(round(counts[j] * (SPIKE_RATE - rate[j])))
    eligible = np.flatnonzero(claims.planted < 0)
    rows = eligible[shuffled_order(rng, claims.payer[eligible])]
    group_start = np.searchsorted(claims.payer[rows], np.arange(payers))
    rank = np.arange(len(rows)) - group_start[claims.payer[rows]]
    denied_rows = rows[rank < (denials + extra)[claims.payer[rows]]]
    spike_rows = rows[(rank >= denials[claims.payer[rows]])
                      & (rank < (denials + extra)[claims.payer[rows]])]
    pharmacy = (claims.channel == OP_PHARMACY) | (claims.channel == CONTRACT_PHARMACY)
    claims.status[denied_rows] = 1
    k = len(denied_rows)
    reject = rng.choice(len(REJECT_CODES), k, p=REJECT_SHARES)
    carc = rng.choice(len(CARC_CODES), k, p=CARC_SHARES)
    is_pharmacy = pharmacy[denied_rows]
    claims.reject[denied_rows] = np.where(is_pharmacy, reject, -1)
    claims.carc[denied_rows] = np.where(is_pharmacy, -1, carc)
    claims.reject[spike_rows] = REJECT_CODES.index(SPIKE_REJECT_CODE)
    chance = np.where(is_pharmacy, REJECT_RESUBMIT[np.maximum(claims.reject[denied_rows], 0)],
                      CARC_RESUBMIT[np.maximum(claims.carc[denied_rows], 0)])
    resubmitted = denied_rows[rng.random(k) < chance]
    again = claims.take(resubmitted)
    again.status[:] = 0
    again.reject[:] = -1
    again.carc[:] = -1
    again.original = resubmitted.copy()
    return claims.append(again)


def claim_numbers(claims: Claims, calendar: Calendar, month: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Claim numbers: month (YYMM), claim type (1 pharmacy, 2 medical) and a scrambled
    sequence, so ids are unique across the 24 months and reveal no order.

    Parameters
    ----------
    claims : Claims
    calendar : Calendar
    month : int
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        One int64 per claim; the claim id is ``C`` and the number in 12 digits.
    """
    label = calendar.labels[month]
    yymm = int(label[2:4]) * 100 + int(label[5:7])
    medical = (claims.channel != OP_PHARMACY) & (claims.channel != CONTRACT_PHARMACY)
    sequence = rng.permutation(len(claims))
    return (yymm * 10 + 1 + medical) * 10**7 + sequence


def to_arrow(org: Organization, form: Formulary, claims: Claims, numbers: np.ndarray,
             patient_ids: pa.Array, npi_text: pa.Array) -> pa.Table:
    """The month's claims as an Arrow table in the contract's column order.

    Parameters
    ----------
    org : Organization
    form : Formulary
    claims : Claims
    numbers : numpy.ndarray
        Claim numbers from :func:`claim_numbers`.
    patient_ids, npi_text : pyarrow.Array
        Text of every patient number and every NPI code.

    Returns
    -------
    pyarrow.Table
        Rows in service date order, resubmissions last; repeated text dictionary-encoded.
    """
    c = claims
    resubmission = np.flatnonzero(c.original >= 0)
    # Resubmissions name their originals: a small dictionary, one index per resubmission.
    indices = np.full(len(c), -1, dtype=np.int64)
    indices[resubmission] = np.arange(len(resubmission))
    original_text = take_text(digits_array("C", numbers[c.original[resubmission]], 12),
                              indices)
    pharmacy = (c.channel == OP_PHARMACY) | (c.channel == CONTRACT_PHARMACY)
    paid = np.where(c.status == 1, 0.0, c.would_pay)
    states = sorted(set(org.payer_state) - {""})
    state_of_payer = np.array([states.index(s) if s else -1 for s in org.payer_state])
    entity_ids = [e.entity_id for e in org.entities]
    # Fees are invoiced on paid 340B fills at contract pharmacies only; blank elsewhere.
    fee_owed = (c.channel == CONTRACT_PHARMACY) & (c.account == A340B) & (c.status == 0)
    dispensing_fee = np.round(CP_DISPENSING_FEE + CP_DISPENSING_SHARE * paid, 2)
    return pa.table({
        "claim_id": digits_array("C", numbers, 12),
        "service_date": pa.array(c.day.astype("int32"), pa.int32()).cast(pa.date32()),
        "ndc": take_text(list(form.ndc), c.drug),
        "drug_name": take_text(list(form.name), c.drug),
        "quantity": pa.array(c.quantity, pa.float64()),
        "patient_id": patient_ids.take(pa.array(c.patient)),
        "prescriber_npi": take_text(npi_text, c.prescriber),
        "site_id": take_text(org.site_ids, c.site),
        "location": take_text([loc.code for loc in org.locations], c.location),
        "patient_status": take_text(list(PATIENT_STATUS), c.patient_status),
        "payer": take_text(org.payer_names, c.payer),
        "payer_type": take_text(list(org.payer_type), c.payer),
        "payer_state": take_text(states, state_of_payer[c.payer]),
        "billing_npi": take_text(npi_text, c.billing),
        "account": take_text(list(ACCOUNTS), c.account),
        "modifiers": take_text(list(MODIFIERS), np.where(c.modifier == 0, -1, c.modifier)),
        "claim_type": take_text(["pharmacy", "medical"], np.where(pharmacy, 0, 1)),
        "status": take_text(list(STATUSES), c.status),
        "reject_code": take_text(list(REJECT_CODES), c.reject),
        "carc_code": take_text(list(CARC_CODES), c.carc),
        "billed_amount": pa.array(c.billed, pa.float64()),
        "paid_amount": pa.array(paid, pa.float64()),
        "unit_cost_340b": pa.array(np.round(c.unit_340b, 4), pa.float64()),
        "unit_cost_wac": pa.array(np.round(c.unit_wac, 4), pa.float64()),
        "days_supply": pa.array(c.days_supply.astype(np.int32), pa.int32(),
                                mask=c.days_supply < 0),
        "submission_clarification_code": take_text(["20"], c.scc),
        "original_claim_id": original_text,
        "entity_id": take_text(entity_ids, c.entity_override),
        "dispensing_fee": pa.array(dispensing_fee, pa.float64(), mask=~fee_owed),
        "tpa_fee": pa.array(np.full(len(c), TPA_FEE_PER_CLAIM), pa.float64(), mask=~fee_owed),
    })

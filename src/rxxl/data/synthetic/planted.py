"""Planted problems: claims that each break exactly one 340B rule, placed in the latest
month and spread over history, plus the manifest entries that name them.

A planted claim starts as a clean claim that is 340B-ready in every other respect (an
established patient, a listed prescriber, a registered site of an active entity) and gets
one change: the field that breaks its rule. Payers are limited to the ones that bring no
second rule along (no Medicaid where the rule is not about Medicaid, no Medicare Part B
where the JG/TB modifier could be in question).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rxxl.data.synthetic._common import Size, stream
from rxxl.data.synthetic.claims import (
    A340B,
    GPO,
    WAC,
    Claims,
    _quantities,
    claim_entity,
    price,
    set_340b_flags,
)
from rxxl.data.synthetic.formulary import Formulary
from rxxl.data.synthetic.organization import (
    CONTRACT_PHARMACY,
    INFUSION,
    OP_PHARMACY,
    Organization,
)

DSH, PED, CAH, RRC = range(4)


@dataclass(frozen=True)
class Flavor:
    """One way of breaking one rule."""

    id: str
    expected: str
    kind: str
    description: str
    #: Which claims of a month can carry it: a row mask.
    template: Callable[[Context], np.ndarray]
    #: The change that breaks the rule (rows of the month's claims).
    mutate: Callable[[Context, np.ndarray], None]
    #: Months it can happen in: a mask over the 24 months (None: all).
    months: Callable[[Organization], np.ndarray] | None = None
    entity: int | None = None
    site_id: str | None = None


class Context:
    """What a template or mutation needs about the month being generated.

    Templates look at a random subset of the month's rows (all of a small month): a few
    tens of thousands of rows hold plenty of candidates for every flavor, and scanning a
    million rows seventeen times a month would cost more than generating them.
    """

    SCAN = 80_000

    def __init__(self, org: Organization, form: Formulary, claims: Claims, month: int,
                 rng: np.random.Generator, planter: Planter) -> None:
        self.org, self.form, self.claims, self.month = org, form, claims, month
        self.rng, self.planter = rng, planter
        n = len(claims)
        sub = (np.arange(n) if n <= self.SCAN
               else np.sort(rng.choice(n, self.SCAN, replace=False)))
        self.sub = sub
        c = claims.take(sub)
        self.site, self.channel, self.account = c.site, c.channel, c.account
        self.patient_status = c.patient_status
        self.entity = claim_entity(c)
        self.payer_type = org.payer_type[c.payer]
        self.free = (c.planted < 0) & (c.original < 0)
        self.on_340b = self.free & (c.account == A340B)
        outpatient = np.isin(c.channel, [OP_PHARMACY, CONTRACT_PHARMACY, INFUSION])
        self.ready = self.free & outpatient & ~c.outside & ~c.community & ~form.orphan[c.drug]
        self.site_ok = org.site_registered(c.site, c.day)
        self.entity_ok = org.entity_active(self.entity, c.day)
        self.plain_payer = np.isin(self.payer_type, ["commercial", "medicare_d"])
        self.commercial = self.payer_type == "commercial"

    def taken(self, positions: np.ndarray) -> None:
        """Rows (positions in the subset) now planted: no longer templates."""
        for mask in (self.free, self.on_340b, self.ready):
            mask[positions] = False

    def entity_of(self, rows: np.ndarray) -> np.ndarray:
        c = self.claims
        return np.where(c.entity_override[rows] >= 0, c.entity_override[rows], c.entity[rows])


# --- mutations ---------------------------------------------------------------------------------


def _to_340b(ctx: Context, rows: np.ndarray) -> None:
    ctx.claims.account[rows] = A340B
    set_340b_flags(ctx.org, ctx.claims, rows)
    price(ctx.org, ctx.claims, rows)


def _attribute(ctx: Context, rows: np.ndarray) -> None:
    ctx.claims.entity_override[rows] = ctx.entity_of(rows)


def _move_to_site(site_id: str) -> Callable[[Context, np.ndarray], None]:
    def mutate(ctx: Context, rows: np.ndarray) -> None:
        org, c = ctx.org, ctx.claims
        site = org.site_index[site_id]
        _attribute(ctx, rows)
        c.site[rows] = site
        c.location[rows] = org.location_of[site, c.channel[rows]]
        if org.site_is_cp[site]:
            c.billing[rows] = org.site_npi_code[site]
        _to_340b(ctx, rows)
    return mutate


def _before_registration(ctx: Context, rows: np.ndarray) -> None:
    _attribute(ctx, rows)
    _to_340b(ctx, rows)


def _new_patients(ctx: Context, rows: np.ndarray, other_entity: bool) -> None:
    """Give each claim a patient of its own whose encounters cannot qualify it: seen only
    at another entity, or seen by this entity more than 365 days before."""
    org, c, rng = ctx.org, ctx.claims, ctx.rng
    patients = ctx.planter.new_patients(len(rows))
    c.patient[rows] = patients
    entity = ctx.entity_of(rows)
    if other_entity:
        where = (entity + 1 + rng.integers(0, len(org.entities) - 1, len(rows))) % len(
            org.entities)
        recent = c.day[rows] - rng.integers(20, 200, len(rows))
    else:
        where = entity
        recent = c.day[rows] - rng.integers(400, 541, len(rows))
    earlier = recent - rng.integers(90, 300, len(rows))
    site = org.parent_site[where]
    ctx.planter.add_encounters(np.concatenate([patients, patients]),
                               np.concatenate([site, site]),
                               np.concatenate([recent, earlier]))


def _community_prescriber(ctx: Context, rows: np.ndarray) -> None:
    ctx.claims.prescriber[rows] = ctx.rng.choice(ctx.org.community_codes, len(rows))


def _ineligible_listed(ctx: Context, rows: np.ndarray) -> None:
    org, cal = ctx.org, ctx.org.calendar
    entity = ctx.entity_of(rows)
    for e in np.unique(entity):
        mine = rows[entity == e]
        pool = org.ineligible_listed(int(e), int(cal.start[ctx.month]), int(cal.end[ctx.month]))
        ctx.claims.prescriber[mine] = ctx.rng.choice(pool, len(mine))


def _inpatient(ctx: Context, rows: np.ndarray) -> None:
    ctx.claims.patient_status[rows] = 1


def _payer(name: str, account: int = A340B) -> Callable[[Context, np.ndarray], None]:
    def mutate(ctx: Context, rows: np.ndarray) -> None:
        ctx.claims.payer[rows] = ctx.org.payer_names.index(name)
        ctx.claims.account[rows] = account
        set_340b_flags(ctx.org, ctx.claims, rows)
        price(ctx.org, ctx.claims, rows)
    return mutate


def _medicaid_mco(ctx: Context, rows: np.ndarray) -> None:
    ctx.claims.payer[rows] = ctx.rng.choice(ctx.org.pa_mcos, len(rows))
    set_340b_flags(ctx.org, ctx.claims, rows)
    price(ctx.org, ctx.claims, rows)


def _gpo(ctx: Context, rows: np.ndarray) -> None:
    ctx.claims.account[rows] = GPO
    set_340b_flags(ctx.org, ctx.claims, rows)
    price(ctx.org, ctx.claims, rows)


def _orphan_drug(ctx: Context, rows: np.ndarray) -> None:
    form, c, m = ctx.form, ctx.claims, ctx.month
    pharmacy = c.channel[rows] != INFUSION
    retail = np.flatnonzero(form.orphan & form.in_channel("R") & (form.pediatric != "P"))
    infused = np.flatnonzero(form.orphan & form.in_channel("I") & (form.pediatric != "P"))
    drug = np.where(pharmacy, ctx.rng.choice(retail, len(rows)),
                    ctx.rng.choice(infused, len(rows)))
    c.drug[rows] = drug
    c.quantity[rows], c.days_supply[rows] = _quantities(form, drug, pharmacy, m, ctx.rng)
    c.unit_wac[rows] = form.wac[m, drug] * form.cost_factor[m, drug]
    c.unit_340b[rows] = form.price_340b[m, drug] * form.cost_factor[m, drug]
    price(ctx.org, c, rows)


def _strip_modifier(ctx: Context, rows: np.ndarray) -> None:
    ctx.claims.modifier[rows] = ctx.claims.modifier[rows] % 3


# --- months ------------------------------------------------------------------------------------


def _whole_months(org: Organization, periods: list[tuple[int, int]]) -> np.ndarray:
    cal = org.calendar
    mask = np.zeros(len(cal), dtype=bool)
    for start, end in periods:
        mask |= (cal.start >= start) & (cal.end <= end)
    return mask


def _rrc_inactive(org: Organization) -> np.ndarray:
    return _whole_months(org, org.rrc_inactive)


def _cranberry_unregistered(org: Organization) -> np.ndarray:
    opened, registered = org.cranberry
    return _whole_months(org, [(opened, registered - 1)])


def _after_oakmont(org: Organization) -> np.ndarray:
    return _whole_months(org, [(org.oakmont_end + 1, 10**7)])


def _before_carve_in(org: Organization) -> np.ndarray:
    return _whole_months(org, [(0, org.carve_in_from - 1)])


# --- the flavors ---------------------------------------------------------------------------


def _is(ctx: Context, *channels: int) -> np.ndarray:
    return np.isin(ctx.channel, channels)


FLAVORS: tuple[Flavor, ...] = (
    Flavor("P01", "ENTITY_INACTIVE", "340B diversion",
           "340B claims of Allegheny Ridge Regional Medical Center (RRC390045) while its 340B "
           "registration had lapsed (missed recertification) or after it was terminated: the "
           "entity is not active on the service date.",
           lambda x: x.ready & (x.entity == RRC) & x.site_ok & ~x.entity_ok & x.plain_payer,
           _to_340b, _rrc_inactive, RRC),
    Flavor("P02", "SITE_NOT_REGISTERED", "340B diversion",
           "340B infusions at Riverside Infusion Center - Cranberry (DSH390001-06) after it "
           "opened but before its registration took effect.",
           lambda x: x.ready & (x.site == x.org.site_index["DSH390001-06"])
           & ~x.site_ok & x.entity_ok & x.commercial,
           _before_registration, _cranberry_unregistered, DSH, "DSH390001-06"),
    Flavor("P03", "SITE_NOT_REGISTERED", "340B diversion",
           "340B administrations billed under Riverside Family Medicine - Oakmont "
           "(DSH390001-05) after its registration ended (the clinic closed).",
           lambda x: x.on_340b & (x.entity == DSH) & _is(x, INFUSION) & x.commercial,
           _move_to_site("DSH390001-05"), _after_oakmont, DSH, "DSH390001-05"),
    Flavor("P04", "SITE_NOT_REGISTERED", "340B diversion",
           "340B prescriptions of the medical center filled at Rite Care Pharmacy #118 "
           "(CP-3970418), a pharmacy registered as a contract pharmacy for no entity.",
           lambda x: x.on_340b & (x.entity == DSH) & _is(x, CONTRACT_PHARMACY) & x.plain_payer,
           _move_to_site("CP-3970418"), None, DSH, "CP-3970418"),
    Flavor("P05", "NO_QUALIFYING_ENCOUNTER", "340B diversion",
           "340B claims for patients whose last encounter at the entity was 400-540 days "
           "before the service date.",
           lambda x: x.on_340b & x.plain_payer,
           lambda x, r: _new_patients(x, r, other_entity=False)),
    Flavor("P06", "NO_QUALIFYING_ENCOUNTER", "340B diversion",
           "340B claims for patients seen only at another entity of the system (no record of "
           "care at the claim's entity).",
           lambda x: x.on_340b & x.plain_payer,
           lambda x, r: _new_patients(x, r, other_entity=True)),
    Flavor("P07", "PRESCRIBER_NOT_ELIGIBLE", "340B diversion",
           "340B claims written by community prescribers on no entity's eligible list.",
           lambda x: x.on_340b & x.plain_payer, _community_prescriber),
    Flavor("P08", "PRESCRIBER_NOT_ELIGIBLE", "340B diversion",
           "340B claims written by prescribers who had left the entity or are eligible only "
           "at another entity.",
           lambda x: x.on_340b & x.plain_payer, _ineligible_listed),
    Flavor("P09", "INPATIENT", "340B diversion",
           "340B-stock administrations to patients who were inpatients at the time.",
           lambda x: x.on_340b & _is(x, INFUSION) & x.commercial
           & ~np.isin(x.site, _clinics(x.org)),
           _inpatient),
    Flavor("P10", "MEDICAID_DUPLICATE_DISCOUNT", "340B duplicate discount",
           "Laurel Valley Community Hospital (CAH391305), which carves Medicaid FFS out, "
           "billed Pennsylvania Medicaid FFS for drugs from 340B stock.",
           lambda x: x.on_340b & (x.entity == CAH) & _is(x, INFUSION) & x.commercial,
           _payer("Pennsylvania Medical Assistance (FFS)"), None, CAH),
    Flavor("P11", "MEDICAID_DUPLICATE_DISCOUNT", "340B duplicate discount",
           "Riverside University Medical Center billed Ohio Medicaid FFS (carved out in Ohio) "
           "for drugs from 340B stock.",
           lambda x: x.on_340b & (x.entity == DSH) & _is(x, OP_PHARMACY, INFUSION)
           & x.commercial,
           _payer("Ohio Department of Medicaid (FFS)"), None, DSH),
    Flavor("P12", "MEDICAID_DUPLICATE_DISCOUNT", "340B duplicate discount",
           "Riverside Children's Hospital billed Pennsylvania Medicaid FFS from 340B stock in "
           "quarters before its carve-in took effect.",
           lambda x: x.on_340b & (x.entity == PED) & _is(x, OP_PHARMACY, INFUSION)
           & x.commercial,
           _payer("Pennsylvania Medical Assistance (FFS)"), _before_carve_in, PED),
    Flavor("P13", "CONTRACT_PHARMACY_MEDICAID", "340B duplicate discount",
           "Medicaid managed care prescriptions filled from 340B stock at contract pharmacies "
           "that have no Medicaid arrangement.",
           lambda x: x.on_340b & _is(x, CONTRACT_PHARMACY)
           & ~x.org.site_arrangement[x.site] & x.plain_payer,
           _medicaid_mco),
    Flavor("P14", "GPO_PROHIBITION", "340B GPO prohibition",
           "Riverside University Medical Center (DSH) dispensed or administered outpatient "
           "drugs bought on its GPO account.",
           lambda x: x.free & (x.entity == DSH) & _is(x, OP_PHARMACY, INFUSION)
           & (x.patient_status == 0) & (x.payer_type != "medicaid_ffs")
           & np.isin(x.account, [A340B, WAC]),
           _gpo, None, DSH),
    Flavor("P15", "ORPHAN_DRUG", "340B orphan drug exclusion",
           "Laurel Valley Community Hospital (CAH) used 340B stock for orphan-designated "
           "drugs.",
           lambda x: x.on_340b & (x.entity == CAH) & _is(x, CONTRACT_PHARMACY, INFUSION)
           & x.plain_payer,
           _orphan_drug, None, CAH),
    Flavor("P16", "MISSING_340B_MODIFIER", "340B billing",
           "Medicare Part B lines from 340B stock billed without the JG or TB modifier.",
           lambda x: x.on_340b & (x.payer_type == "medicare_b"), _strip_modifier),
    Flavor("P17", "MEF_CARVE_IN_NOT_340B", "340B duplicate discount",
           "Pennsylvania Medicaid FFS claims billed under the medical center's carve-in MEF "
           "listing but filled from WAC stock (review: carve-in means all Medicaid FFS is "
           "340B).",
           lambda x: x.on_340b & (x.entity == DSH) & _is(x, OP_PHARMACY, INFUSION)
           & x.commercial,
           _payer("Pennsylvania Medical Assistance (FFS)", account=WAC), None, DSH),
)


def _clinics(org: Organization) -> np.ndarray:
    return np.array([i for i, s in enumerate(org.all_sites) if s.kind == "clinic"])


class Planter:
    """Schedules the planted claims over the months, plants them month by month, and
    keeps the encounters of the patients it invents.

    Parameters
    ----------
    seed : int
    size : Size
        Sets how many claims of each flavor go in the latest month and over history.
    org : Organization
    """

    def __init__(self, seed: int, size: Size, org: Organization) -> None:
        self.org = org
        rng = stream(seed, size.name, "planted-schedule")
        cal = org.calendar
        self.schedule = np.zeros((len(FLAVORS), len(cal)), dtype=np.int64)
        for f, flavor in enumerate(FLAVORS):
            allowed = (flavor.months(org) if flavor.months is not None
                       else np.ones(len(cal), dtype=bool))
            if allowed[cal.latest]:
                self.schedule[f, cal.latest] = size.planted_latest
            history = np.flatnonzero(allowed[: cal.latest])
            if len(history) == 0:
                continue
            chosen = rng.choice(history, min(len(history), size.planted_history),
                                replace=False)
            spread = rng.choice(chosen, size.planted_history - len(chosen))
            months = np.concatenate([chosen, spread])
            self.schedule[f] += np.bincount(months, minlength=len(cal))
        self._next_patient = org.n_patients
        self._encounters: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        #: claim numbers per flavor, filled as months are written.
        self.claim_numbers: list[list[np.ndarray]] = [[] for _ in FLAVORS]
        self.shortfall: dict[str, int] = {}

    def new_patients(self, count: int) -> np.ndarray:
        """Numbers of ``count`` patients nobody else has."""
        first = self._next_patient
        self._next_patient += count
        if self._next_patient > self.org.n_patients + self.org.planted_patient_room:
            raise RuntimeError("out of patient numbers for planted claims")
        return np.arange(first, first + count)

    def add_encounters(self, patients: np.ndarray, sites: np.ndarray, days: np.ndarray
                       ) -> None:
        """Record encounters of invented patients (patients, sites, day numbers)."""
        self._encounters.append((patients, sites, days))

    def encounters(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All recorded encounters: (patients, sites, day numbers)."""
        if not self._encounters:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        return tuple(np.concatenate(parts) for parts in zip(*self._encounters, strict=True))

    @property
    def patients_used(self) -> int:
        """Patient numbers in use (established, outside and invented)."""
        return self._next_patient

    def plant(self, form: Formulary, claims: Claims, month: int, rng: np.random.Generator
              ) -> None:
        """Turn the month's scheduled number of clean claims into planted ones.

        Parameters
        ----------
        form : Formulary
        claims : Claims
            The month's clean claims; changed in place (``planted`` marks the flavor).
        month : int
        rng : numpy.random.Generator
        """
        if not self.schedule[:, month].any():
            return
        ctx = Context(self.org, form, claims, month, rng, self)
        for f, flavor in enumerate(FLAVORS):
            want = int(self.schedule[f, month])
            if not want:
                continue
            candidates = np.flatnonzero(flavor.template(ctx))
            if len(candidates) < want:
                self.shortfall[flavor.id] = self.shortfall.get(flavor.id, 0) + want - len(
                    candidates)
            positions = np.sort(rng.choice(candidates, min(want, len(candidates)),
                                           replace=False))
            if len(positions):
                rows = ctx.sub[positions]
                flavor.mutate(ctx, rows)
                claims.planted[rows] = f
                ctx.taken(positions)

    def record(self, claims: Claims, numbers: np.ndarray) -> None:
        """Remember the claim numbers of the month's planted claims.

        Parameters
        ----------
        claims : Claims
            The month's adjudicated claims.
        numbers : numpy.ndarray
            Their claim numbers.
        """
        for f in range(len(FLAVORS)):
            rows = np.flatnonzero(claims.planted == f)
            # Resubmissions copy their original's flag; planted claims are never denied,
            # so every flagged row is an original.
            rows = rows[claims.original[rows] < 0]
            if len(rows):
                self.claim_numbers[f].append(numbers[rows])

    def manifest_entries(self) -> list[dict]:
        """The manifest's entries for the planted claims, one per flavor.

        Returns
        -------
        list of dict
            id, kind, expected reason code, description, identifiers (claim ids, entity,
            site), count and the months the claims fall in.
        """
        entries = []
        for f, flavor in enumerate(FLAVORS):
            numbers = (np.sort(np.concatenate(self.claim_numbers[f]))
                       if self.claim_numbers[f] else np.zeros(0, dtype=np.int64))
            identifiers: dict = {"claim_ids": [f"C{n:012d}" for n in numbers]}
            if flavor.entity is not None:
                identifiers["entity_id"] = self.org.entities[flavor.entity].entity_id
            if flavor.site_id is not None:
                identifiers["site_id"] = flavor.site_id
            # Claim numbers start with the service month's YYMM.
            yymm = sorted({int(n) // 10**8 for n in numbers})
            months = [f"20{m // 100:02d}-{m % 100:02d}" for m in yymm]
            entries.append({
                "id": flavor.id,
                "kind": flavor.kind,
                "expected": flavor.expected,
                "description": flavor.description,
                "identifiers": identifiers,
                "count": len(numbers),
                "details": {"months": months},
            })
        return entries

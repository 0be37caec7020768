"""The health system: covered entities, their registered sites and contract pharmacies,
eligible prescribers, payers, the Medicaid Exclusion File, patients and their encounters.

Four covered entities in western Pennsylvania share one enterprise MRN and one pharmacy
department: an academic DSH hospital (the parent), a children's hospital, a critical access
hospital and a rural referral center. Everything that changes during the 24 months is
placed relative to the calendar, so any ``end_month`` gives the same story:

* the DSH opens an infusion center five months in and registers it at the next quarter,
  and closes a family medicine clinic (its replacement registers the day after);
* the critical access hospital adds a contract pharmacy;
* the rural referral center misses its recertification for one quarter and is terminated
  at the end of the month before the latest one;
* the children's hospital switches Medicaid fee-for-service from carve-out to carve-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rxxl.data.synthetic._common import (
    Calendar,
    Lottery,
    Size,
    choose_within_groups,
    day,
    digits_array,
    make_npis,
    pooled_cumulative,
    quarter_start,
    scatter,
    stream,
)

#: A day number far after any window: "no end date".
OPEN = 10**7

# Claim channels.
OP_PHARMACY, CONTRACT_PHARMACY, INFUSION, INPATIENT, OBSERVATION = range(5)
CHANNELS = ("outpatient pharmacy", "contract pharmacy", "infusion/clinic", "inpatient",
            "observation")
PHARMACY_CHANNELS = (OP_PHARMACY, CONTRACT_PHARMACY)

ENTITY_TYPES = ("DSH", "PED", "CAH", "RRC")
#: Entity types under the GPO prohibition and the orphan drug exclusion (DOMAIN.md §6).
GPO_PROHIBITED = ("DSH", "PED", "CAN")
ORPHAN_EXCLUDED = ("CAH", "SCH", "RRC", "CAN")


@dataclass
class Entity:
    entity_id: str
    entity_type: str
    name: str
    short: str
    share: float
    channel_mix: tuple[float, float, float, float, float]
    #: Registration periods as (start day, end day or OPEN).
    periods: list[tuple[int, int]] = field(default_factory=list)
    npi: int = 0
    medicaid_number: str = ""


@dataclass
class Site:
    site_id: str
    entity: int
    site_type: str
    name: str
    kind: str  # hospital, infusion, clinic, contract_pharmacy
    reg_start: int
    reg_end: int = OPEN
    #: Days on which the site dispenses or administers (claims); default: while registered.
    open_from: int | None = None
    open_until: int | None = None
    medicaid_arrangement: bool | None = None
    npi: int = 0
    encounter_weight: float = 0.0
    #: Relative share of the entity's claims in each channel.
    channel_weight: tuple[float, float, float, float, float] = (0, 0, 0, 0, 0)

    @property
    def first_claim_day(self) -> int:
        return self.reg_start if self.open_from is None else self.open_from

    @property
    def last_claim_day(self) -> int:
        return self.reg_end if self.open_until is None else self.open_until


@dataclass(frozen=True)
class Payer:
    name: str
    payer_type: str
    state: str
    #: "pharmacy", "medical" or "both".
    claims: str
    #: Baseline initial denial rate.
    denial_rate: float
    weight: float


PAYERS: tuple[Payer, ...] = (
    Payer("Humana Medicare Part D", "medicare_d", "PA", "pharmacy", 0.060, 0.40),
    Payer("SilverScript (CVS Caremark) Part D", "medicare_d", "PA", "pharmacy", 0.052, 0.30),
    Payer("AARP MedicareRx (UnitedHealthcare) Part D", "medicare_d", "PA", "pharmacy", 0.055,
          0.30),
    Payer("Express Scripts", "commercial", "PA", "pharmacy", 0.070, 0.38),
    Payer("CVS Caremark", "commercial", "PA", "pharmacy", 0.078, 0.34),
    Payer("OptumRx", "commercial", "PA", "pharmacy", 0.064, 0.28),
    Payer("Highmark Blue Shield", "commercial", "PA", "medical", 0.058, 0.34),
    Payer("UPMC Health Plan", "commercial", "PA", "medical", 0.054, 0.22),
    Payer("Aetna", "commercial", "PA", "medical", 0.088, 0.16),
    Payer("UnitedHealthcare", "commercial", "PA", "medical", 0.115, 0.16),
    Payer("Cigna", "commercial", "PA", "medical", 0.079, 0.12),
    Payer("Medicare Part B (Novitas Solutions JL)", "medicare_b", "", "medical", 0.040, 1.0),
    Payer("Medicare Part A (Novitas Solutions JL)", "other", "", "medical", 0.030, 1.0),
    Payer("Pennsylvania Medical Assistance (FFS)", "medicaid_ffs", "PA", "both", 0.090, 1.0),
    Payer("Ohio Department of Medicaid (FFS)", "medicaid_ffs", "OH", "both", 0.110, 1.0),
    Payer("UPMC for You", "medicaid_mco", "PA", "both", 0.075, 0.42),
    Payer("Highmark Wholecare", "medicaid_mco", "PA", "both", 0.085, 0.30),
    Payer("AmeriHealth Caritas Pennsylvania", "medicaid_mco", "PA", "both", 0.095, 0.28),
    Payer("Self pay", "self_pay", "", "both", 0.0, 1.0),
)
PAYER_TYPE_NAMES = tuple(dict.fromkeys(p.payer_type for p in PAYERS))
#: The payer and NCPDP reject code of the planted denial spike.
SPIKE_PAYER = "Humana Medicare Part D"


@dataclass
class Location:
    code: str
    cost_center: str
    #: Normal days on hand at this location (10-14 turns).
    days_on_hand: float
    #: Readable name (the ``locations`` table's location_name).
    name: str = ""


COST_CENTERS = {
    "7010": "7010 RUMC Inpatient Pharmacy",
    "7020": "7020 RUMC Infusion Center Pharmacy",
    "7030": "7030 RUMC Outpatient Pharmacy",
    "7040": "7040 RUMC 340B Program",
    "7110": "7110 RCH Pharmacy",
    "7210": "7210 LVCH Pharmacy",
    "7310": "7310 ARMC Pharmacy",
}

#: The location whose stock is built up in the latest month (a forward buy).
OVERSTOCK_LOCATION = "RUMC-OP"


class Organization:
    """Entities, sites, locations, prescribers, payers, MEF, patients and encounters.

    Parameters
    ----------
    seed : int
    size : Size
        Sets the numbers of prescribers and patients.
    calendar : Calendar
        The 24 months; every change during them is placed relative to it.
    """

    def __init__(self, seed: int, size: Size, calendar: Calendar) -> None:
        self.calendar = calendar
        self.size = size
        cal = calendar
        rng = stream(seed, size.name, "organization")
        self._identifiers(rng)
        cranberry_open = int(cal.start[5])
        cranberry_registered = cal.quarter_start_on_or_after(7)
        oakmont_end = cal.quarter_start_on_or_after(13) - 1
        walmart_start = cal.quarter_start_on_or_after(4)
        lapse_start = cal.quarter_start_on_or_after(9)
        lapse_index = int(cal.month_index(np.array([lapse_start]))[0])
        rrc_back = cal.quarter_start_on_or_after(lapse_index + 3)
        rrc_terminated = int(cal.start[cal.latest]) - 1
        self.carve_in_from = cal.quarter_start_on_or_after(11)
        self.rrc_inactive = [(lapse_start, rrc_back - 1), (rrc_terminated + 1, OPEN)]
        self.cranberry = (cranberry_open, cranberry_registered)
        self.oakmont_end = oakmont_end

        self.entities = [
            Entity("DSH390001", "DSH", "Riverside University Medical Center", "RUMC", 0.56,
                   (0.25, 0.37, 0.21, 0.13, 0.04), [(day("1996-04-01"), OPEN)]),
            Entity("PED393301", "PED", "Riverside Children's Hospital", "RCH", 0.15,
                   (0.24, 0.18, 0.28, 0.24, 0.06), [(day("2011-01-01"), OPEN)]),
            Entity("CAH391305", "CAH", "Laurel Valley Community Hospital", "LVCH", 0.09,
                   (0.0, 0.58, 0.18, 0.18, 0.06), [(day("2011-04-01"), OPEN)]),
            Entity("RRC390045", "RRC", "Allegheny Ridge Regional Medical Center", "ARMC", 0.20,
                   (0.22, 0.36, 0.22, 0.15, 0.05),
                   [(day("2011-07-01"), lapse_start - 1), (rrc_back, rrc_terminated)]),
        ]
        for i, entity in enumerate(self.entities):
            entity.npi = int(self._org_npis[i])
            entity.medicaid_number = f"1{self._org_npis[i] % 10**8:08d}0001"

        cp = iter(self._org_npis[len(self.entities):])
        D, P, C, R = 0, 1, 2, 3  # entity indices, named like their types
        S = Site
        self.sites: list[Site] = [
            # Riverside University Medical Center (DSH)
            S("DSH390001", D, "parent", "Riverside University Medical Center", "hospital",
              day("1996-04-01"), encounter_weight=0.30, channel_weight=(1, 0, 0.22, 1, 1)),
            S("DSH390001-01", D, "child", "Riverside Cancer Institute Infusion Center",
              "infusion", day("2004-07-01"), encounter_weight=0.16,
              channel_weight=(0, 0, 0.55, 0, 0)),
            S("DSH390001-02", D, "child", "Riverside Ambulatory Care Pavilion", "clinic",
              day("2009-01-01"), encounter_weight=0.14, channel_weight=(0, 0, 0.04, 0, 0)),
            S("DSH390001-03", D, "child", "Riverside Internal Medicine Associates - Shadyside",
              "clinic", day("2012-10-01"), encounter_weight=0.14,
              channel_weight=(0, 0, 0.03, 0, 0)),
            S("DSH390001-04", D, "child", "Riverside Heart and Vascular Institute", "clinic",
              day("2015-04-01"), encounter_weight=0.10, channel_weight=(0, 0, 0.03, 0, 0)),
            S("DSH390001-05", D, "child", "Riverside Family Medicine - Oakmont", "clinic",
              day("2013-01-01"), oakmont_end, encounter_weight=0.08,
              channel_weight=(0, 0, 0.03, 0, 0)),
            S("DSH390001-06", D, "child", "Riverside Infusion Center - Cranberry", "infusion",
              cranberry_registered, open_from=cranberry_open, encounter_weight=0.04,
              channel_weight=(0, 0, 0.14, 0, 0)),
            S("DSH390001-07", D, "child", "Riverside Family Medicine - Verona", "clinic",
              oakmont_end + 1, encounter_weight=0.06, channel_weight=(0, 0, 0.03, 0, 0)),
            S("CP-3901847", D, "contract_pharmacy", "Walgreens #04512", "contract_pharmacy",
              day("2014-04-01"), medicaid_arrangement=False, npi=next(cp),
              channel_weight=(0, 0.32, 0, 0, 0)),
            S("CP-3922105", D, "contract_pharmacy", "CVS Pharmacy #01754", "contract_pharmacy",
              day("2016-10-01"), medicaid_arrangement=False, npi=next(cp),
              channel_weight=(0, 0.22, 0, 0, 0)),
            S("CP-3910378", D, "contract_pharmacy", "Giant Eagle Pharmacy #0612",
              "contract_pharmacy", day("2017-01-01"), medicaid_arrangement=True,
              npi=next(cp), channel_weight=(0, 0.26, 0, 0, 0)),
            S("CP-4433021", D, "contract_pharmacy", "Accredo Health Group (specialty)",
              "contract_pharmacy", day("2018-07-01"), medicaid_arrangement=False,
              npi=next(cp), channel_weight=(0, 0.20, 0, 0, 0)),
            # Riverside Children's Hospital (PED)
            S("PED393301", P, "parent", "Riverside Children's Hospital", "hospital",
              day("2011-01-01"), encounter_weight=0.36, channel_weight=(1, 0, 0.30, 1, 1)),
            S("PED393301-01", P, "child",
              "Riverside Children's Hematology/Oncology Infusion Center", "infusion",
              day("2013-07-01"), encounter_weight=0.18, channel_weight=(0, 0, 0.55, 0, 0)),
            S("PED393301-02", P, "child", "Riverside Children's Specialty Care - North Hills",
              "clinic", day("2016-01-01"), encounter_weight=0.26,
              channel_weight=(0, 0, 0.09, 0, 0)),
            S("PED393301-03", P, "child", "Riverside Children's Primary Care - Wexford",
              "clinic", day("2019-04-01"), encounter_weight=0.20,
              channel_weight=(0, 0, 0.06, 0, 0)),
            S("CP-3914466", P, "contract_pharmacy", "Giant Eagle Pharmacy #4027",
              "contract_pharmacy", day("2017-04-01"), medicaid_arrangement=False,
              npi=next(cp), channel_weight=(0, 0.55, 0, 0, 0)),
            S("CP-3909312", P, "contract_pharmacy", "Walgreens #07734", "contract_pharmacy",
              day("2019-01-01"), medicaid_arrangement=False, npi=next(cp),
              channel_weight=(0, 0.45, 0, 0, 0)),
            # Laurel Valley Community Hospital (CAH)
            S("CAH391305", C, "parent", "Laurel Valley Community Hospital", "hospital",
              day("2011-04-01"), encounter_weight=0.45, channel_weight=(0, 0, 0.8, 1, 1)),
            S("CAH391305-01", C, "child", "Laurel Valley Rural Health Clinic - Ligonier",
              "clinic", day("2012-01-01"), encounter_weight=0.35,
              channel_weight=(0, 0, 0.12, 0, 0)),
            S("CAH391305-02", C, "child", "Laurel Valley Rural Health Clinic - Stahlstown",
              "clinic", day("2018-10-01"), encounter_weight=0.20,
              channel_weight=(0, 0, 0.08, 0, 0)),
            S("CP-3946620", C, "contract_pharmacy", "Ligonier Family Pharmacy",
              "contract_pharmacy", day("2012-07-01"), medicaid_arrangement=False,
              npi=next(cp), channel_weight=(0, 0.6, 0, 0, 0)),
            S("CP-3938851", C, "contract_pharmacy", "Walmart Pharmacy #10-2174",
              "contract_pharmacy", walmart_start, medicaid_arrangement=False, npi=next(cp),
              channel_weight=(0, 0.4, 0, 0, 0)),
            # Allegheny Ridge Regional Medical Center (RRC)
            S("RRC390045", R, "parent", "Allegheny Ridge Regional Medical Center", "hospital",
              day("2011-07-01"), encounter_weight=0.40, channel_weight=(1, 0, 0.3, 1, 1)),
            S("RRC390045-01", R, "child", "Allegheny Ridge Cancer Center", "infusion",
              day("2014-01-01"), encounter_weight=0.20, channel_weight=(0, 0, 0.6, 0, 0)),
            S("RRC390045-02", R, "child", "Allegheny Ridge Primary Care - Somerset", "clinic",
              day("2016-07-01"), encounter_weight=0.40, channel_weight=(0, 0, 0.1, 0, 0)),
            S("CP-3922871", R, "contract_pharmacy", "CVS Pharmacy #02231", "contract_pharmacy",
              day("2015-01-01"), medicaid_arrangement=False, npi=next(cp),
              channel_weight=(0, 0.55, 0, 0, 0)),
            S("CP-3938852", R, "contract_pharmacy", "Walmart Pharmacy #10-5521",
              "contract_pharmacy", day("2017-10-01"), medicaid_arrangement=False,
              npi=next(cp), channel_weight=(0, 0.45, 0, 0, 0)),
        ]
        for site in self.sites:
            if site.site_type != "contract_pharmacy":
                site.npi = self.entities[site.entity].npi
        #: A pharmacy that is registered for no entity (planted: unregistered site).
        self.unregistered_pharmacy = Site(
            "CP-3970418", D, "contract_pharmacy", "Rite Care Pharmacy #118",
            "contract_pharmacy", OPEN, npi=next(cp), medicaid_arrangement=False)
        self.all_sites = [*self.sites, self.unregistered_pharmacy]
        self.site_index = {s.site_id: i for i, s in enumerate(self.all_sites)}
        self._locations()
        self._arrays()
        self._prescribers(seed)
        self._payers()
        self._patients(seed)

    # --- identifiers -------------------------------------------------------------------------

    def _identifiers(self, rng: np.random.Generator) -> None:
        size = self.size
        people = size.listed_prescribers + size.community_prescribers
        # One affine spread gives every NPI of the sample (people, then organizations) a
        # distinct nine-digit base; organizations' bases start with 1 too, as most do.
        shift = int(rng.integers(0, 10**7))
        bases = (scatter(people + 40, 10**8) + shift) % 10**8 + 10**8
        npis = make_npis(bases)
        self._people_npis = npis[:people]
        self._org_npis = npis[people:]

    # --- sites and locations --------------------------------------------------------------------

    def _locations(self) -> None:
        # The medical center keeps three stocks; the smaller hospitals one pharmacy each.
        # The Cranberry infusion center is a satellite supplied daily from RUMC-INF.
        spec = [
            ("RUMC-IP", "7010", 30.0, "RUMC inpatient pharmacy"),
            ("RUMC-INF", "7020", 27.0, "RUMC infusion center pharmacy"),
            ("RUMC-OP", "7030", 31.0, "RUMC outpatient pharmacy"),
            ("RCH-RX", "7110", 31.0, "RCH pharmacy"),
            ("LVCH-RX", "7210", 34.0, "LVCH pharmacy"),
            ("ARMC-RX", "7310", 30.0, "ARMC pharmacy"),
        ]
        self.locations = [Location(*row) for row in spec]
        self.stocked_locations = len(self.locations)
        hospital_cc = {0: "7040", 1: "7110", 2: "7210", 3: "7310"}
        for site in self.all_sites:
            if site.site_type == "contract_pharmacy":
                self.locations.append(Location(site.site_id, hospital_cc[site.entity], 0.0,
                                               site.name))
        self.location_index = {loc.code: i for i, loc in enumerate(self.locations)}
        single = {1: "RCH-RX", 2: "LVCH-RX", 3: "ARMC-RX"}
        n_sites = len(self.all_sites)
        self.location_of = np.full((n_sites, 5), -1, dtype=np.int64)
        for i, site in enumerate(self.all_sites):
            if site.site_type == "contract_pharmacy":
                self.location_of[i, CONTRACT_PHARMACY] = self.location_index[site.site_id]
            elif site.entity in single:
                self.location_of[i, :] = self.location_index[single[site.entity]]
            else:
                self.location_of[i, OP_PHARMACY] = self.location_index["RUMC-OP"]
                self.location_of[i, INPATIENT] = self.location_index["RUMC-IP"]
                self.location_of[i, OBSERVATION] = self.location_index["RUMC-IP"]
                self.location_of[i, INFUSION] = self.location_index["RUMC-INF"]

    def _arrays(self) -> None:
        sites = self.all_sites
        self.site_entity = np.array([s.entity for s in sites])
        self.site_reg_start = np.array([s.reg_start for s in sites], dtype=np.int64)
        self.site_reg_end = np.array([s.reg_end for s in sites], dtype=np.int64)
        self.site_is_cp = np.array([s.site_type == "contract_pharmacy" for s in sites])
        self.site_arrangement = np.array([bool(s.medicaid_arrangement) for s in sites])
        self.site_npi = np.array([s.npi for s in sites], dtype=np.int64)
        self.site_ids = [s.site_id for s in sites]
        self.entity_type = np.array([e.entity_type for e in self.entities])
        self.entity_npi = np.array([e.npi for e in self.entities], dtype=np.int64)
        self.gpo_prohibited = np.isin(self.entity_type, GPO_PROHIBITED)
        self.orphan_excluded = np.isin(self.entity_type, ORPHAN_EXCLUDED)
        self.parent_site = np.array([
            next(i for i, s in enumerate(sites) if s.entity == e and s.site_type == "parent")
            for e in range(len(self.entities))
        ])

    def site_registered(self, site: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Whether each site is registered (for its entity) on each day.

        Parameters
        ----------
        site : numpy.ndarray
            Site indices.
        days : numpy.ndarray
            Day numbers.

        Returns
        -------
        numpy.ndarray
            Boolean per element.
        """
        return (self.site_reg_start[site] <= days) & (days <= self.site_reg_end[site])

    def entity_active(self, entity: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Whether each entity is registered in OPAIS on each day.

        Parameters
        ----------
        entity : numpy.ndarray
            Entity indices.
        days : numpy.ndarray
            Day numbers.

        Returns
        -------
        numpy.ndarray
            Boolean per element.
        """
        active = np.zeros(len(entity), dtype=bool)
        for e, ent in enumerate(self.entities):
            rows = entity == e
            for start, end in ent.periods:
                active[rows] |= (start <= days[rows]) & (days[rows] <= end)
        return active

    def site_weights(self, month: int) -> np.ndarray:
        """Where the month's claims happen.

        Parameters
        ----------
        month : int

        Returns
        -------
        numpy.ndarray
            (entity x channel) x site weights; a site takes claims only in months it is
            open for the whole month.
        """
        cal = self.calendar
        first, last = cal.start[month], cal.end[month]
        weights = np.zeros((len(self.entities) * 5, len(self.all_sites)))
        for i, site in enumerate(self.sites):
            # A site takes claims in a month it is open for the whole month.
            if site.first_claim_day <= first and site.last_claim_day >= last:
                for channel in range(5):
                    weights[site.entity * 5 + channel, i] = site.channel_weight[channel]
        return weights

    # --- prescribers -----------------------------------------------------------------------

    def _prescribers(self, seed: int) -> None:
        rng = stream(seed, self.size.name, "prescribers")
        cal = self.calendar
        listed = self.size.listed_prescribers
        shares = np.array([e.share for e in self.entities])
        # Small hospitals still need a medical staff: no entity below 8% of the list.
        shares = np.maximum(shares, 0.08)
        entity = rng.choice(len(self.entities), listed, p=shares / shares.sum())
        start = rng.integers(day("2006-01-01"), cal.first_day - 90, listed)
        end = np.full(listed, OPEN, dtype=np.int64)
        kind = rng.random(listed)
        hires = kind < 0.12
        hire_month = rng.integers(1, len(cal) - 3, listed)
        start = np.where(hires, cal.start[hire_month], start)
        leavers = (kind >= 0.12) & (kind < 0.24)
        leave_month = rng.integers(1, len(cal) - 3, listed)
        end = np.where(leavers, cal.end[leave_month], end)
        rows_npi = list(self._people_npis[:listed])
        rows_entity = list(entity)
        rows_start, rows_end = list(start), list(end)
        # Faculty of the medical center who also staff the children's hospital.
        dual = np.flatnonzero((entity == 0) & (rng.random(listed) < 0.10))
        rows_npi += list(self._people_npis[dual])
        rows_entity += [1] * len(dual)
        rows_start += list(np.maximum(start[dual], day("2012-01-01")))
        rows_end += list(end[dual])
        self.prescriber_npi = np.array(rows_npi, dtype=np.int64)
        self.prescriber_entity = np.array(rows_entity)
        self.prescriber_start = np.array(rows_start, dtype=np.int64)
        self.prescriber_end = np.array(rows_end, dtype=np.int64)
        self.prescriber_weight = rng.gamma(0.9, 1.0, len(rows_npi)) + 0.02
        self.community_npis = self._people_npis[listed:]
        # All NPIs that appear on claims, indexed: listed prescribers (unique NPIs), then
        # community prescribers, then organizations (billing NPIs).
        self.npi_table = np.concatenate([
            self._people_npis, self.site_npi, self.entity_npi,
        ])
        self.npi_code_of = {int(v): i for i, v in enumerate(self.npi_table)}
        self.prescriber_code = np.array([self.npi_code_of[int(v)] for v in rows_npi])
        self.community_codes = np.arange(listed, listed + len(self.community_npis))
        self.site_npi_code = np.array([self.npi_code_of[int(v)] for v in self.site_npi])

    def prescriber_pools(self, month: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per entity, the prescribers eligible for the whole month.

        Parameters
        ----------
        month : int

        Returns
        -------
        tuple of numpy.ndarray
            Members (NPI codes), pool offsets and scaled cumulative weights, for
            ``choose_in_pools``.
        """
        cal = self.calendar
        eligible = (self.prescriber_start <= cal.start[month]) & (
            self.prescriber_end >= cal.end[month])
        rows = np.flatnonzero(eligible)
        rows = rows[np.argsort(self.prescriber_entity[rows], kind="stable")]
        offsets, cumulative = pooled_cumulative(
            self.prescriber_entity[rows], self.prescriber_weight[rows], len(self.entities))
        return self.prescriber_code[rows], offsets, cumulative

    def ineligible_listed(self, entity: int, first: int, last: int) -> np.ndarray:
        """Listed prescribers who are not eligible for an entity during a period.

        Parameters
        ----------
        entity : int
        first, last : int
            Day numbers of the period.

        Returns
        -------
        numpy.ndarray
            NPI codes of prescribers with no eligibility at ``entity`` on any day of
            [first, last]: they left, or they are another entity's.
        """
        rows = self.prescriber_entity == entity
        overlaps = rows & (self.prescriber_start <= last) & (self.prescriber_end >= first)
        bad = np.unique(self.prescriber_code[overlaps])
        return np.setdiff1d(np.unique(self.prescriber_code), bad)

    # --- payers and the Medicaid Exclusion File ---------------------------------------------

    def _payers(self) -> None:
        self.payers = PAYERS
        self.payer_type = np.array([p.payer_type for p in PAYERS])
        self.payer_state = np.array([p.state for p in PAYERS])
        self.payer_names = [p.name for p in PAYERS]
        self.payer_denial = np.array([p.denial_rate for p in PAYERS])
        self.pa_mcos = np.flatnonzero((self.payer_type == "medicaid_mco")
                                      & (self.payer_state == "PA"))
        self.spike_payer = self.payer_names.index(SPIKE_PAYER)
        # Payer mix by entity and claim class (pharmacy, outpatient medical, inpatient).
        mixes = {
            "pharmacy": {"medicare_d": 0.30, "commercial": 0.35, "medicaid_ffs": 0.07,
                         "medicaid_mco": 0.24, "self_pay": 0.04},
            "medical": {"medicare_b": 0.38, "commercial": 0.36, "medicaid_ffs": 0.06,
                        "medicaid_mco": 0.17, "self_pay": 0.03},
            "inpatient": {"other": 0.40, "commercial": 0.31, "medicaid_ffs": 0.05,
                          "medicaid_mco": 0.22, "self_pay": 0.02},
        }
        children = {
            "pharmacy": {"commercial": 0.44, "medicaid_ffs": 0.10, "medicaid_mco": 0.43,
                         "self_pay": 0.03},
            "medical": {"commercial": 0.45, "medicaid_ffs": 0.11, "medicaid_mco": 0.41,
                        "self_pay": 0.03},
            "inpatient": {"commercial": 0.44, "medicaid_ffs": 0.09, "medicaid_mco": 0.45,
                          "self_pay": 0.02},
        }
        # Share of Medicaid fee-for-service from Ohio (the medical center is near the line).
        ohio = {0: 0.22, 1: 0.15, 2: 0.0, 3: 0.0}
        matrix = np.zeros((len(self.entities) * 3, len(PAYERS)))
        for e, entity in enumerate(self.entities):
            for k, klass in enumerate(("pharmacy", "medical", "inpatient")):
                mix = (children if entity.entity_type == "PED" else mixes)[klass]
                kind = "pharmacy" if klass == "pharmacy" else "medical"
                for j, payer in enumerate(PAYERS):
                    if payer.claims not in (kind, "both"):
                        continue
                    type_share = mix.get(payer.payer_type, 0.0)
                    if payer.payer_type == "medicaid_ffs":
                        state_share = ohio[e] if payer.state == "OH" else 1 - ohio[e]
                        matrix[e * 3 + k, j] = type_share * state_share
                        continue
                    same = [p for p in PAYERS if p.payer_type == payer.payer_type
                            and p.claims in (kind, "both")]
                    matrix[e * 3 + k, j] = type_share * payer.weight / sum(p.weight
                                                                            for p in same)
        self.payer_mix = matrix

    def mef_table(self) -> pd.DataFrame:
        """The ``mef`` table: Medicaid Exclusion File rows for every quarter of the window.

        The medical center carves Pennsylvania in (under its NPI and Medicaid number, and
        under the contract pharmacy with a Medicaid arrangement) and Ohio out; the
        children's hospital switches from carve-out to carve-in; the critical access
        hospital carves out; the rural referral center is not listed.

        Returns
        -------
        pandas.DataFrame
            Quarter starts as day numbers, carve_in as booleans.
        """
        cal = self.calendar
        quarters = np.unique(quarter_start(np.arange(cal.first_day, cal.last_day + 1, 28)))
        quarters = np.unique(np.concatenate([quarters, quarter_start(np.array([cal.last_day]))]))
        rows = []
        dsh, ped, cah = self.entities[0], self.entities[1], self.entities[2]
        giant_eagle = self.all_sites[self.site_index["CP-3910378"]]
        for q in quarters:
            rows.append((dsh.entity_id, "PA", dsh.npi, dsh.medicaid_number, q, True))
            rows.append((dsh.entity_id, "OH", dsh.npi, "", q, False))
            rows.append((dsh.entity_id, "PA", giant_eagle.npi, "", q, True))
            rows.append((ped.entity_id, "PA", ped.npi, ped.medicaid_number, q,
                         bool(q >= self.carve_in_from)))
            rows.append((cah.entity_id, "PA", cah.npi, cah.medicaid_number, q, False))
        return pd.DataFrame(rows, columns=["entity_id", "state", "billing_npi",
                                           "medicaid_number", "quarter_start", "carve_in"])

    def mef_keys(self) -> np.ndarray:
        """Carve-in listings as integer keys.

        Returns
        -------
        numpy.ndarray
            One :func:`mef_key` per carve-in row of :meth:`mef_table`.
        """
        mef = self.mef_table()
        mef = mef[mef["carve_in"]]
        entity = mef["entity_id"].map({e.entity_id: i for i, e in enumerate(self.entities)})
        return mef_key(entity.to_numpy(), (mef["state"] == "OH").to_numpy().astype(int),
                       mef["billing_npi"].to_numpy(dtype=np.int64),
                       mef["quarter_start"].to_numpy(dtype=np.int64))

    # --- patients and encounters -------------------------------------------------------------

    def _patients(self, seed: int) -> None:
        size = self.size
        rng = stream(seed, size.name, "patients")
        counts = np.array([max(60, round(size.claims_latest * e.share * size.patients_per_claim))
                           for e in self.entities])
        outside = np.maximum(20, np.round(counts * size.outside_patient_share)).astype(int)
        self.established_offsets = np.concatenate([[0], np.cumsum(counts)])
        n_est = int(counts.sum())
        self.outside_offsets = n_est + np.concatenate([[0], np.cumsum(outside)])
        n_all = int(self.outside_offsets[-1])
        self.patient_entity = np.concatenate([np.repeat(np.arange(len(counts)), counts),
                                              np.repeat(np.arange(len(counts)), outside)])
        #: Patients' claim propensity: a few patients on many drugs, most on one or two.
        weight = rng.gamma(0.8, 1.0, n_all) + 0.05
        self.established_lottery = Lottery(self.patient_entity[:n_est], weight[:n_est],
                                           len(counts))
        self.outside_lottery = Lottery(self.patient_entity[n_est:], weight[n_est:],
                                       len(counts))
        self.n_established = n_est
        self.n_patients = n_all
        #: Room for the patients planted claims need (numbered after everyone else).
        self.planted_patient_room = 50_000
        numbers = scatter(n_all + self.planted_patient_room, 10**8)
        self.patient_numbers = numbers
        self._encounters(rng)

    def patient_ids(self, count: int | None = None):
        """Patient ids.

        Parameters
        ----------
        count : int, optional
            How many (default: every patient number, including the room kept for planted
            claims' patients).

        Returns
        -------
        pyarrow.StringArray
            ``MRN`` and eight digits, indexed by patient number.
        """
        numbers = self.patient_numbers if count is None else self.patient_numbers[:count]
        return digits_array("MRN", numbers, 8)

    def _encounters(self, rng: np.random.Generator) -> None:
        """Visits of every established patient from before the window to its end, never
        more than 300 days apart, each at a site registered on the visit day and for the
        365 days after it: any claim in the window then has a qualifying encounter, however
        a checker reads "registered site"."""
        cal = self.calendar
        n = self.n_established
        first = cal.first_day - rng.integers(30, 331, n)
        days_list, who_list = [first], [np.arange(n)]
        current, who = first, np.arange(n)
        while len(who):
            gaps = np.minimum(15 + rng.gamma(2.0, 45.0, len(who)), 300).astype(np.int64)
            current = current + gaps
            keep = current <= cal.last_day
            current, who = current[keep], who[keep]
            days_list.append(current)
            who_list.append(who)
        days = np.concatenate(days_list)
        patient = np.concatenate(who_list)
        entity = self.patient_entity[patient]
        weights = np.zeros((len(self.entities), len(self.all_sites)))
        for i, site in enumerate(self.sites):
            weights[site.entity, i] = site.encounter_weight
        site = choose_within_groups(rng, entity, weights)
        ok = self.site_registered(site, days) & self.site_registered(site, days + 365)
        site = np.where(ok, site, self.parent_site[entity])
        order = np.lexsort((patient, days))
        self.encounter_patient = patient[order]
        self.encounter_site = site[order]
        self.encounter_day = days[order]

    # --- reference tables --------------------------------------------------------------------

    def locations_table(self) -> pd.DataFrame:
        """The ``locations`` table: each location's code, the cost center its purchases post
        to (as budget_lines names it) and a readable name.

        Returns
        -------
        pandas.DataFrame
        """
        return pd.DataFrame({
            "location": [loc.code for loc in self.locations],
            "cost_center": [COST_CENTERS[loc.cost_center] for loc in self.locations],
            "location_name": [loc.name for loc in self.locations],
            # The outpatient pharmacy keeps a physical 340B inventory; every other location,
            # contract pharmacies included, replenishes from the accumulator.
            "replenishment": ["false" if loc.code == OVERSTOCK_LOCATION else "true"
                              for loc in self.locations],
        })

    def entity_table(self) -> pd.DataFrame:
        """The ``entity`` table (dates as day numbers, :data:`OPEN` for no end)."""
        rows = []
        for e in self.entities:
            for start, end in e.periods:
                rows.append((e.entity_id, e.entity_type, start, end, e.name))
        return pd.DataFrame(rows, columns=["entity_id", "entity_type", "start_date",
                                           "end_date", "entity_name"])

    def sites_table(self) -> pd.DataFrame:
        """The ``sites`` table (dates as day numbers, :data:`OPEN` for no end)."""
        rows = []
        for s in self.sites:
            arrangement = ("" if s.medicaid_arrangement is None
                           else ("true" if s.medicaid_arrangement else "false"))
            rows.append((s.site_id, self.entities[s.entity].entity_id, s.site_type,
                         s.reg_start, s.reg_end, arrangement, s.name))
        return pd.DataFrame(rows, columns=["site_id", "entity_id", "site_type", "start_date",
                                           "end_date", "medicaid_arrangement", "site_name"])

    def prescribers_table(self) -> pd.DataFrame:
        """The ``prescribers`` table (dates as day numbers, :data:`OPEN` for no end)."""
        frame = pd.DataFrame({
            "npi": self.prescriber_npi,
            "entity_id": [self.entities[e].entity_id for e in self.prescriber_entity],
            "start_date": self.prescriber_start,
            "end_date": self.prescriber_end,
        })
        return frame.sort_values(["entity_id", "npi", "start_date"], kind="stable")


def mef_key(entity: np.ndarray, ohio: np.ndarray, npi: np.ndarray, quarter: np.ndarray
            ) -> np.ndarray:
    """One integer per MEF listing.

    Parameters
    ----------
    entity : numpy.ndarray
        Entity indices.
    ohio : numpy.ndarray
        1 for Ohio, 0 for Pennsylvania.
    npi : numpy.ndarray
        Billing NPIs (10-digit integers).
    quarter : numpy.ndarray
        Day numbers of quarter starts.

    Returns
    -------
    numpy.ndarray
        int64 keys, equal exactly where all four are equal.
    """
    return ((np.asarray(quarter, dtype=np.int64) * 8 + np.asarray(entity) * 2
             + np.asarray(ohio)) * 10**10 + np.asarray(npi, dtype=np.int64))

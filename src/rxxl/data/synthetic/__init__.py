"""A deterministic synthetic health system for demos, tests and benchmarks.

:func:`generate` writes 24 months of pharmacy and medical drug claims, the 340B reference
tables, the formulary and the finance tables of four covered entities (an academic DSH
hospital, a children's hospital, a critical access hospital and a rural referral center)
with their clinics, infusion centers and contract pharmacies, plus known planted problems
listed in ``manifest.json``: diverted claims of every kind, duplicate discounts, a GPO
purchase for outpatient use, an orphan drug on 340B at the critical access hospital, a
missing JG/TB modifier, a carve-in Medicaid claim off 340B, a denial spike, a drug price
spike and an overstocked location.

The modules: ``organization`` (entities, sites, prescribers, payers, MEF, patients and
encounters), ``formulary`` (drugs and prices), ``claims`` (one month of claims and their
adjudication), ``planted`` (the planted claims), ``finance`` (purchases, inventory, budget,
capital requests) and ``generator`` (files, manifest, swap into place).
"""

from rxxl.data.synthetic._common import GENERATOR_VERSION, SIZES
from rxxl.data.synthetic.generator import generate

__all__ = ["generate", "GENERATOR_VERSION", "SIZES"]

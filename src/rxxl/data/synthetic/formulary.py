"""The formulary: real drug names with brand/generic pairs, MONY codes, FDA marketing
categories, package sizes, list prices (WAC) and 340B and GPO acquisition prices.

The formulary is the same for every seed: a health system's drug list does not change
because a sample was drawn differently. NDC product and package codes are invented (the
labeler codes are real companies'), so no NDC here is a claim about a real package.

Prices are per billing unit (a tablet, an mL, a vial, a pen ...) as of the latest month;
:class:`Formulary` walks them back in time with a January list-price increase for brands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rxxl.data.synthetic._common import Calendar

# Channels a product is used in: R retail/contract pharmacy (NCPDP), I outpatient
# infusion or clinic administration (medical claims), H inpatient and observation.
# Pediatric use: "A" adult drug (rare at the children's hospital), "K" common in children,
# "P" children's hospital only, "" the same everywhere.


@dataclass(frozen=True)
class Group:
    """Therapeutically equivalent products (a brand, its generics or biosimilars)."""

    gpi: str
    therapeutic_class: str
    category: str
    channels: str
    weight: float
    #: Units per claim: for pharmacy, units per 30 days (``acute`` claims: per course).
    dose: float
    products: tuple[tuple, ...]
    acute_days: int = 0
    pediatric: str = ""
    orphan: bool = False
    #: Share of the group's claims that go to brand (N/M/O) products.
    brand_share: float | None = None


ONC = "Oncology & immunotherapy"
BIO = "Biologics & specialty"
IGB = "Immune globulin & blood products"
ABX = "Anti-infectives"
ACG = "Anticoagulants & antiplatelets"
DIA = "Diabetes"
RSP = "Respiratory"
CVS = "Cardiovascular"
HIV = "HIV & hepatitis"
CNS = "CNS & pain"
ANE = "Anesthesia & critical care"
SUP = "Supportive care"
OTH = "Other"

# A group weight of 0 keeps products on the formulary without claims: costly drugs given a
# few times a year (thrombolytics, reversal agents, nusinersen), one dose of which would
# swamp a month of a small sample's costs.
#
# Product tuple: (drug name, MONY, FDA marketing category, labeler code, package size in
# billing units, WAC per billing unit in $, 340B pricing note)
# where the note is "" (priced by rule) or "penny" (340B price $0.01 per unit).
GROUPS: tuple[Group, ...] = (
    # --- Oncology infusions --------------------------------------------------------------
    Group("21357050", "Antineoplastic - PD-1 inhibitor", ONC, "I", 6.0, 8, (
        ("Keytruda (pembrolizumab) 100 mg/4 mL vial", "N", "BLA", "00006", 4, 1446.38, ""),
    ), pediatric="A"),
    Group("21357055", "Antineoplastic - PD-1 inhibitor", ONC, "I", 2.6, 24, (
        ("Opdivo (nivolumab) 240 mg/24 mL vial", "N", "BLA", "00003", 24, 298.75, ""),
    ), pediatric="A"),
    Group("21357060", "Antineoplastic - PD-L1 inhibitor", ONC, "I", 1.2, 20, (
        ("Tecentriq (atezolizumab) 1,200 mg/20 mL vial", "N", "BLA", "50242", 20, 549.20, ""),
    ), pediatric="A"),
    Group("21357065", "Antineoplastic - PD-L1 inhibitor", ONC, "I", 0.8, 30, (
        ("Imfinzi (durvalumab) 500 mg/10 mL vial", "N", "BLA", "00310", 10, 428.30, ""),
    ), pediatric="A"),
    Group("21353020", "Antineoplastic - anti-CD38", ONC, "I", 1.6, 56, (
        ("Darzalex (daratumumab) 400 mg/20 mL vial", "N", "BLA", "57894", 20, 133.02, ""),
    ), pediatric="A", orphan=True),
    Group("21353025", "Antineoplastic - anti-CD38", ONC, "I", 1.2, 15, (
        ("Darzalex Faspro (daratumumab-hyaluronidase) 1,800 mg/15 mL vial", "N", "BLA",
         "57894", 15, 613.40, ""),
    ), pediatric="A", orphan=True),
    Group("21353010", "Antineoplastic - anti-CD20", ONC, "I", 2.2, 70, (
        ("Rituxan (rituximab) 500 mg/50 mL vial", "O", "BLA", "50242", 50, 96.12, ""),
        ("Truxima (rituximab-abbs) 500 mg/50 mL vial", "N", "BIOSIMILAR", "63459", 50,
         72.40, ""),
        ("Ruxience (rituximab-pvvr) 500 mg/50 mL vial", "N", "BIOSIMILAR", "00069", 50,
         70.08, ""),
    ), orphan=True, brand_share=0.35),
    Group("21402010", "Antineoplastic - HER2 antibody", ONC, "I", 1.8, 3, (
        ("Herceptin (trastuzumab) 150 mg vial", "O", "BLA", "50242", 1, 1712.50, ""),
        ("Ogivri (trastuzumab-dkst) 150 mg vial", "N", "BIOSIMILAR", "67457", 1, 1285.00, ""),
        ("Kanjinti (trastuzumab-anns) 150 mg vial", "N", "BIOSIMILAR", "55513", 1, 1198.60,
         ""),
    ), pediatric="A", brand_share=0.4),
    Group("21335010", "Antineoplastic - VEGF antibody", ONC, "I", 1.8, 16, (
        ("Avastin (bevacizumab) 400 mg/16 mL vial", "O", "BLA", "50242", 16, 178.40, ""),
        ("Mvasi (bevacizumab-awwb) 400 mg/16 mL vial", "N", "BIOSIMILAR", "55513", 16,
         118.75, ""),
        ("Zirabev (bevacizumab-bvzr) 400 mg/16 mL vial", "N", "BIOSIMILAR", "00069", 16,
         106.25, ""),
    ), pediatric="A", brand_share=0.3),
    Group("21100020", "Antineoplastic - platinum", ONC, "IH", 2.0, 60, (
        ("carboplatin 450 mg/45 mL vial", "Y", "ANDA", "00703", 45, 1.02, ""),
        ("carboplatin 450 mg/45 mL vial", "Y", "ANDA", "16729", 45, 0.94, ""),
    )),
    Group("21100010", "Antineoplastic - platinum", ONC, "I", 1.0, 100, (
        ("cisplatin 50 mg/50 mL vial", "Y", "ANDA", "63323", 50, 0.62, ""),
    )),
    Group("21100030", "Antineoplastic - platinum", ONC, "I", 1.2, 34, (
        ("oxaliplatin 100 mg/20 mL vial", "Y", "ANDA", "25021", 20, 2.48, ""),
        ("oxaliplatin 100 mg/20 mL vial", "Y", "ANDA", "16729", 20, 2.31, ""),
    ), pediatric="A"),
    Group("21500050", "Antineoplastic - taxane", ONC, "I", 1.6, 50, (
        ("paclitaxel 300 mg/50 mL vial", "Y", "ANDA", "00703", 50, 1.12, ""),
        ("paclitaxel 300 mg/50 mL vial", "Y", "ANDA", "45963", 50, 1.05, ""),
    ), pediatric="A"),
    Group("21500040", "Antineoplastic - taxane", ONC, "I", 0.8, 6, (
        ("docetaxel 80 mg/4 mL vial", "Y", "ANDA", "16729", 4, 24.80, ""),
    ), pediatric="A"),
    Group("21300030", "Antineoplastic - antimetabolite", ONC, "I", 1.0, 2, (
        ("gemcitabine 1 g vial", "Y", "ANDA", "00409", 1, 18.40, ""),
    ), pediatric="A"),
    Group("21300020", "Antineoplastic - antimetabolite", ONC, "I", 1.2, 100, (
        ("fluorouracil 2.5 g/50 mL vial", "Y", "ANDA", "63323", 50, 0.31, ""),
    ), pediatric="A"),
    Group("21300070", "Antineoplastic - antifolate", ONC, "I", 1.0, 2, (
        ("Alimta (pemetrexed) 500 mg vial", "O", "NDA", "00002", 1, 3412.80, ""),
        ("pemetrexed 500 mg vial", "Y", "ANDA", "60505", 1, 148.00, ""),
    ), pediatric="A", brand_share=0.08),
    Group("21530010", "Antineoplastic - proteasome inhibitor", ONC, "I", 1.0, 1, (
        ("Velcade (bortezomib) 3.5 mg vial", "O", "NDA", "63020", 1, 1810.00, ""),
        ("bortezomib 3.5 mg vial", "Y", "ANDA", "63323", 1, 612.00, ""),
    ), pediatric="A", orphan=True, brand_share=0.15),
    Group("21300005", "Antineoplastic - hypomethylating agent", ONC, "I", 0.6, 2, (
        ("Vidaza (azacitidine) 100 mg vial", "O", "NDA", "59572", 1, 885.00, ""),
        ("azacitidine 100 mg vial", "Y", "ANDA", "43598", 1, 152.00, ""),
    ), pediatric="A", orphan=True, brand_share=0.1),
    Group("21101010", "Antineoplastic - alkylating agent", ONC, "IH", 0.9, 1, (
        ("cyclophosphamide 1 g vial", "Y", "ANDA", "10019", 1, 94.60, ""),
    )),
    Group("21200010", "Antineoplastic - anthracycline", ONC, "IH", 0.7, 50, (
        ("doxorubicin 50 mg/25 mL vial", "Y", "ANDA", "00069", 25, 1.22, ""),
    )),
    Group("21759010", "Chemotherapy rescue agent", SUP, "I", 1.0, 2, (
        ("leucovorin calcium 350 mg vial", "Y", "ANDA", "55150", 1, 17.80, ""),
    )),
    # --- Oral oncology (specialty pharmacy) -----------------------------------------------
    Group("21532050", "Antineoplastic - BTK inhibitor", ONC, "R", 1.0, 28, (
        ("Imbruvica (ibrutinib) 420 mg tablet", "N", "NDA", "57962", 28, 473.17, ""),
    ), pediatric="A", orphan=True),
    Group("21450050", "Antineoplastic - immunomodulator", ONC, "R", 0.9, 21, (
        ("Revlimid (lenalidomide) 10 mg capsule", "O", "NDA", "59572", 28, 905.30, ""),
        ("lenalidomide 10 mg capsule", "Y", "ANDA", "43598", 28, 712.00, ""),
    ), pediatric="A", orphan=True, brand_share=0.45),
    Group("21533060", "Antineoplastic - JAK inhibitor", ONC, "R", 0.7, 60, (
        ("Jakafi (ruxolitinib) 20 mg tablet", "N", "NDA", "50881", 60, 266.85, ""),
    ), pediatric="A", orphan=True),
    Group("21531035", "Antineoplastic - tyrosine kinase inhibitor", ONC, "R", 0.8, 30, (
        ("Gleevec (imatinib) 400 mg tablet", "O", "NDA", "00078", 30, 391.40, ""),
        ("imatinib 400 mg tablet", "Y", "ANDA", "47335", 30, 9.85, ""),
    ), orphan=True, brand_share=0.06),
    Group("21402025", "Antineoplastic - antiandrogen", ONC, "R", 0.8, 120, (
        ("Xtandi (enzalutamide) 40 mg capsule", "N", "NDA", "00469", 120, 119.22, ""),
    ), pediatric="A"),
    Group("21531830", "Antineoplastic - CDK4/6 inhibitor", ONC, "R", 0.7, 21, (
        ("Ibrance (palbociclib) 125 mg capsule", "N", "NDA", "00069", 21, 708.11, ""),
    ), pediatric="A"),
    # --- Supportive care ------------------------------------------------------------------
    Group("82401560", "Colony stimulating factor", SUP, "I", 3.0, 1, (
        ("Neulasta Onpro (pegfilgrastim) 6 mg/0.6 mL kit", "O", "BLA", "55513", 1, 6930.00,
         ""),
        ("Fulphila (pegfilgrastim-jmdb) 6 mg/0.6 mL syringe", "N", "BIOSIMILAR", "67457", 1,
         4206.00, ""),
        ("Udenyca (pegfilgrastim-cbqv) 6 mg/0.6 mL syringe", "N", "BIOSIMILAR", "70114", 1,
         4175.00, ""),
    ), brand_share=0.45),
    Group("82401520", "Colony stimulating factor", SUP, "I", 0.8, 1, (
        ("Zarxio (filgrastim-sndz) 480 mcg/0.8 mL syringe", "N", "BIOSIMILAR", "61314", 1,
         563.40, ""),
    )),
    Group("82401010", "Erythropoiesis stimulating agent", SUP, "I", 1.2, 4, (
        ("Procrit (epoetin alfa) 10,000 units/mL vial", "O", "BLA", "59676", 1, 164.20, ""),
        ("Retacrit (epoetin alfa-epbx) 10,000 units/mL vial", "N", "BIOSIMILAR", "00069", 1,
         112.60, ""),
    ), brand_share=0.3),
    Group("50250065", "Antiemetic - 5-HT3 antagonist", SUP, "IH", 6.0, 4, (
        ("ondansetron 4 mg/2 mL vial", "Y", "ANDA", "00409", 2, 0.56, ""),
        ("ondansetron 4 mg/2 mL vial", "Y", "ANDA", "63323", 2, 0.49, ""),
    ), pediatric="K"),
    Group("50250070", "Antiemetic - 5-HT3 antagonist", SUP, "I", 1.6, 5, (
        ("palonosetron 0.25 mg/5 mL vial", "Y", "ANDA", "00143", 5, 8.96, ""),
    )),
    Group("50280020", "Antiemetic - NK1 antagonist", SUP, "IH", 1.8, 1, (
        ("Emend (fosaprepitant) 150 mg vial", "O", "NDA", "00006", 1, 331.50, ""),
        ("fosaprepitant 150 mg vial", "Y", "ANDA", "68180", 1, 39.80, ""),
    ), brand_share=0.07),
    Group("22100020", "Corticosteroid", SUP, "IH", 5.0, 1, (
        ("dexamethasone sodium phosphate 10 mg/mL vial", "Y", "ANDA", "63323", 1, 1.18, ""),
        ("dexamethasone sodium phosphate 10 mg/mL vial", "Y", "ANDA", "00641", 1, 1.26, ""),
    ), pediatric="K"),
    # --- Biologics and specialty ----------------------------------------------------------
    Group("52505040", "Immunomodulator - TNF blocker", BIO, "I", 3.2, 5, (
        ("Remicade (infliximab) 100 mg vial", "O", "BLA", "57894", 1, 1301.52, ""),
        ("Inflectra (infliximab-dyyb) 100 mg vial", "N", "BIOSIMILAR", "00069", 1, 946.28, ""),
        ("Renflexis (infliximab-abda) 100 mg vial", "N", "BIOSIMILAR", "78206", 1, 753.39, ""),
    ), brand_share=0.4),
    Group("52505065", "Immunomodulator - integrin antagonist", BIO, "I", 1.2, 1, (
        ("Entyvio (vedolizumab) 300 mg vial", "N", "BLA", "64764", 1, 7238.00, ""),
    )),
    Group("62405560", "Multiple sclerosis agent - anti-CD20", BIO, "I", 0.7, 20, (
        ("Ocrevus (ocrelizumab) 300 mg/10 mL vial", "N", "BLA", "50242", 10, 1640.32, ""),
    ), pediatric="A"),
    Group("85802030", "Complement inhibitor", BIO, "I", 0.25, 90, (
        ("Soliris (eculizumab) 300 mg/30 mL vial", "N", "BLA", "25682", 30, 217.43, ""),
    ), orphan=True),
    Group("66290010", "Immunomodulator - T-cell costimulation", BIO, "I", 0.6, 3, (
        ("Orencia (abatacept) 250 mg vial", "N", "BLA", "00003", 1, 1152.40, ""),
    ), pediatric="A"),
    Group("66270070", "Immunomodulator - IL-6 antagonist", BIO, "I", 0.6, 28, (
        ("Actemra (tocilizumab) 400 mg/20 mL vial", "N", "BLA", "50242", 20, 135.26, ""),
    )),
    Group("30042030", "Bone density regulator - RANKL inhibitor", BIO, "I", 1.6, 1, (
        ("Prolia (denosumab) 60 mg/mL syringe", "O", "BLA", "55513", 1, 1632.90, ""),
        ("Jubbonti (denosumab-bbdz) 60 mg/mL syringe", "N", "BIOSIMILAR", "61314", 1,
         1224.70, ""),
    ), pediatric="A", brand_share=0.7),
    Group("44603050", "Anti-IgE antibody", BIO, "I", 0.8, 2, (
        ("Xolair (omalizumab) 150 mg/mL syringe", "N", "BLA", "50242", 1, 1548.90, ""),
    )),
    Group("66270050", "Immunomodulator - TNF blocker", BIO, "R", 1.4, 2, (
        ("Humira Pen (adalimumab) 40 mg/0.4 mL", "O", "BLA", "00074", 2, 3461.09, ""),
        ("Hyrimoz (adalimumab-adaz) 40 mg/0.4 mL pen", "N", "BIOSIMILAR", "61314", 2,
         1038.33, ""),
    ), pediatric="A", brand_share=0.35),
    Group("66270040", "Immunomodulator - TNF blocker", BIO, "R", 0.8, 4, (
        ("Enbrel SureClick (etanercept) 50 mg/mL", "N", "BLA", "58406", 4, 1896.15, ""),
    ), pediatric="A"),
    Group("90278530", "Immunomodulator - IL-4/IL-13 antagonist", BIO, "R", 1.2, 2, (
        ("Dupixent (dupilumab) 300 mg/2 mL pen", "N", "BLA", "00024", 2, 1852.10, ""),
    )),
    Group("90250585", "Immunomodulator - IL-12/23 antagonist", BIO, "R", 0.6, 1, (
        ("Stelara (ustekinumab) 90 mg/mL syringe", "O", "BLA", "57894", 1, 25498.00, ""),
        ("Wezlana (ustekinumab-auub) 90 mg/mL syringe", "N", "BIOSIMILAR", "55513", 1,
         4589.00, ""),
    ), pediatric="A", brand_share=0.5),
    # --- Immune globulin and blood products -------------------------------------------------
    Group("19100020", "Immune globulin IV", IGB, "IH", 3.2, 700, (
        ("Privigen (immune globulin IV 10%) 20 g/200 mL", "N", "BLA", "44206", 200, 14.80,
         ""),
    )),
    Group("19100030", "Immune globulin IV", IGB, "IH", 0.8, 700, (
        ("Gamunex-C (immune globulin 10%) 10 g/100 mL", "N", "BLA", "13533", 100, 14.20, ""),
    )),
    Group("19100040", "Immune globulin IV", IGB, "I", 0.5, 700, (
        ("Octagam 10% (immune globulin IV) 10 g/100 mL", "N", "BLA", "68982", 100, 13.60,
         ""),
    )),
    Group("85100010", "Plasma expander - albumin", IGB, "H", 1.6, 100, (
        ("Albutein 25% (albumin human) 12.5 g/50 mL", "N", "BLA", "68516", 50, 1.92, ""),
    )),
    Group("85150030", "Prothrombin complex concentrate", IGB, "H", 0.0, 2500, (
        ("Kcentra (prothrombin complex concentrate) 500 units", "N", "BLA", "63833", 500,
         2.55, ""),
    ), pediatric="A"),
    Group("83337020", "Anticoagulant reversal agent", IGB, "H", 0.0, 4, (
        ("Andexxa (andexanet alfa) 200 mg vial", "N", "BLA", "69448", 1, 3300.00, ""),
    ), pediatric="A"),
    Group("85602010", "Thrombolytic", IGB, "H", 0.0, 1, (
        ("Activase (alteplase) 100 mg vial", "N", "BLA", "50242", 1, 10487.40, ""),
    ), pediatric="A"),
    Group("85602030", "Thrombolytic", IGB, "H", 0.0, 1, (
        ("TNKase (tenecteplase) 50 mg vial", "N", "BLA", "50242", 1, 9184.80, ""),
    ), pediatric="A"),
    Group("82300020", "Iron replacement", SUP, "IH", 2.0, 10, (
        ("Venofer (iron sucrose) 100 mg/5 mL vial", "N", "NDA", "00517", 50, 9.12, ""),
    )),
    Group("82300040", "Iron replacement", SUP, "I", 1.0, 15, (
        ("Injectafer (ferric carboxymaltose) 750 mg/15 mL vial", "N", "NDA", "00517", 15,
         78.67, ""),
    ), pediatric="A"),
    # --- Pediatric ---------------------------------------------------------------------------
    Group("19501060", "RSV monoclonal antibody", BIO, "I", 1.0, 1, (
        ("Synagis (palivizumab) 100 mg/mL vial", "N", "BLA", "66658", 1, 2984.00, ""),
    ), pediatric="P"),
    Group("19501070", "RSV monoclonal antibody", BIO, "I", 1.4, 1, (
        ("Beyfortus (nirsevimab-alip) 100 mg/mL syringe", "N", "BLA", "49281", 1, 519.46, ""),
    ), pediatric="P"),
    Group("74102070", "Spinal muscular atrophy agent", BIO, "I", 0.0, 1, (
        ("Spinraza (nusinersen) 12 mg/5 mL vial", "N", "NDA", "64406", 1, 136250.00, ""),
    ), pediatric="P", orphan=True),
    Group("01200020", "Aminopenicillin", ABX, "R", 1.0, 100, (
        ("amoxicillin 400 mg/5 mL suspension, 100 mL", "Y", "ANDA", "65862", 100, 0.034, ""),
        ("amoxicillin 400 mg/5 mL suspension, 100 mL", "Y", "ANDA", "43598", 100, 0.031, ""),
    ), acute_days=10, pediatric="P"),
    # --- Anti-infectives -------------------------------------------------------------------
    Group("16000040", "Glycopeptide antibiotic", ABX, "H", 4.0, 2, (
        ("vancomycin 1 g vial", "Y", "ANDA", "00409", 10, 7.48, ""),
        ("vancomycin 1 g vial", "Y", "ANDA", "63323", 10, 6.95, ""),
    ), pediatric="K"),
    Group("02100020", "Cephalosporin - 1st generation", ABX, "H", 5.0, 1, (
        ("cefazolin 2 g vial", "Y", "ANDA", "00143", 25, 4.12, ""),
        ("cefazolin 2 g vial", "Y", "ANDA", "25021", 25, 3.86, ""),
    ), pediatric="K"),
    Group("02300080", "Cephalosporin - 3rd generation", ABX, "IH", 4.0, 1, (
        ("ceftriaxone 1 g vial", "Y", "ANDA", "00409", 25, 1.62, ""),
        ("ceftriaxone 1 g vial", "Y", "ANDA", "68180", 25, 1.48, ""),
    ), pediatric="K"),
    Group("01995002", "Penicillin combination", ABX, "H", 3.2, 3, (
        ("Zosyn (piperacillin-tazobactam) 3.375 g vial", "O", "NDA", "00206", 10, 26.30, ""),
        ("piperacillin-tazobactam 3.375 g vial", "Y", "ANDA", "60505", 10, 6.82, ""),
    ), pediatric="K", brand_share=0.04),
    Group("02150050", "Carbapenem", ABX, "H", 1.6, 3, (
        ("meropenem 1 g vial", "Y", "ANDA", "00409", 10, 10.96, ""),
    )),
    Group("02150020", "Carbapenem", ABX, "I", 0.8, 1, (
        ("Invanz (ertapenem) 1 g vial", "O", "NDA", "00006", 1, 120.40, ""),
        ("ertapenem 1 g vial", "Y", "ANDA", "55150", 1, 34.70, ""),
    ), pediatric="A", brand_share=0.06),
    Group("02400020", "Cephalosporin - 4th generation", ABX, "H", 1.6, 2, (
        ("cefepime 2 g vial", "Y", "ANDA", "25021", 10, 9.04, ""),
    )),
    Group("16240030", "Lipopeptide antibiotic", ABX, "IH", 0.8, 1, (
        ("Cubicin RF (daptomycin) 500 mg vial", "O", "NDA", "67919", 1, 391.20, ""),
        ("daptomycin 500 mg vial", "Y", "ANDA", "43598", 1, 64.80, ""),
    ), pediatric="A", brand_share=0.05),
    Group("11600050", "Antifungal - echinocandin", ABX, "H", 0.5, 1, (
        ("micafungin 100 mg vial", "Y", "ANDA", "00781", 10, 45.10, ""),
    )),
    Group("01200010", "Aminopenicillin", ABX, "R", 3.0, 30, (
        ("amoxicillin 500 mg capsule", "Y", "ANDA", "65862", 500, 0.118, ""),
        ("amoxicillin 500 mg capsule", "Y", "ANDA", "00093", 500, 0.124, ""),
    ), acute_days=10, pediatric="K"),
    Group("01990002", "Penicillin combination", ABX, "R", 2.2, 20, (
        ("amoxicillin-clavulanate 875-125 mg tablet", "Y", "ANDA", "00781", 20, 0.81, ""),
        ("amoxicillin-clavulanate 875-125 mg tablet", "Y", "ANDA", "65862", 20, 0.77, ""),
    ), acute_days=10),
    Group("03400010", "Macrolide", ABX, "R", 2.4, 6, (
        ("azithromycin 250 mg tablet", "Y", "ANDA", "00093", 30, 0.92, ""),
        ("azithromycin 250 mg tablet", "Y", "ANDA", "59762", 30, 1.04, ""),
    ), acute_days=5, pediatric="K"),
    Group("02100030", "Cephalosporin - 1st generation", ABX, "R", 1.8, 28, (
        ("cephalexin 500 mg capsule", "Y", "ANDA", "65862", 100, 0.26, ""),
    ), acute_days=7),
    Group("04000020", "Tetracycline", ABX, "R", 1.4, 20, (
        ("doxycycline hyclate 100 mg capsule", "Y", "ANDA", "53489", 50, 0.41, ""),
    ), acute_days=10, pediatric="A"),
    Group("05000020", "Fluoroquinolone", ABX, "R", 1.2, 14, (
        ("ciprofloxacin 500 mg tablet", "Y", "ANDA", "16729", 100, 0.15, ""),
    ), acute_days=7, pediatric="A"),
    Group("16000070", "Urinary anti-infective", ABX, "R", 1.0, 10, (
        ("nitrofurantoin monohydrate-macrocrystals 100 mg capsule", "Y", "ANDA", "47781",
         100, 0.82, ""),
    ), acute_days=5, pediatric="A"),
    Group("16000230", "Sulfonamide combination", ABX, "R", 1.2, 20, (
        ("sulfamethoxazole-trimethoprim 800-160 mg tablet", "Y", "ANDA", "53746", 100, 0.12,
         ""),
    ), acute_days=10),
    # --- Anticoagulants and antiplatelets ---------------------------------------------------
    Group("83370010", "Anticoagulant - factor Xa inhibitor", ACG, "R", 5.0, 60, (
        ("Eliquis (apixaban) 5 mg tablet", "M", "NDA", "00003", 60, 9.84, ""),
    ), pediatric="A"),
    Group("83370060", "Anticoagulant - factor Xa inhibitor", ACG, "R", 2.4, 30, (
        ("Xarelto (rivaroxaban) 20 mg tablet", "M", "NDA", "50458", 30, 18.16, ""),
    ), pediatric="A"),
    Group("83200030", "Anticoagulant - coumarin", ACG, "R", 1.6, 30, (
        ("warfarin 5 mg tablet", "Y", "ANDA", "51672", 100, 0.32, ""),
    ), pediatric="A"),
    Group("85158020", "Antiplatelet - P2Y12 inhibitor", ACG, "R", 2.0, 30, (
        ("Plavix (clopidogrel) 75 mg tablet", "O", "NDA", "63653", 30, 7.52, ""),
        ("clopidogrel 75 mg tablet", "Y", "ANDA", "65862", 90, 0.12, ""),
        ("clopidogrel 75 mg tablet", "Y", "ANDA", "55111", 90, 0.11, ""),
    ), pediatric="A", brand_share=0.03),
    Group("85158080", "Antiplatelet - P2Y12 inhibitor", ACG, "R", 0.8, 60, (
        ("Brilinta (ticagrelor) 90 mg tablet", "N", "NDA", "00186", 60, 8.66, ""),
    ), pediatric="A"),
    Group("83100020", "Anticoagulant - heparin", ACG, "H", 6.0, 3, (
        ("heparin sodium 5,000 units/mL vial", "Y", "ANDA", "63323", 25, 1.12, ""),
        ("heparin sodium 5,000 units/mL vial", "Y", "ANDA", "00409", 25, 1.21, ""),
    ), pediatric="K"),
    Group("83101020", "Anticoagulant - low molecular weight heparin", ACG, "RH", 4.0, 10, (
        ("Lovenox (enoxaparin) 40 mg/0.4 mL syringe", "O", "NDA", "00075", 10, 48.20, ""),
        ("enoxaparin 40 mg/0.4 mL syringe", "Y", "ANDA", "00548", 10, 4.86, ""),
        ("enoxaparin 40 mg/0.4 mL syringe", "Y", "ANDA", "00781", 10, 4.62, ""),
    ), acute_days=10, pediatric="A", brand_share=0.05),
    # --- Diabetes ----------------------------------------------------------------------------
    Group("27250050", "Biguanide", DIA, "R", 7.0, 60, (
        ("metformin 500 mg tablet", "Y", "ANDA", "65162", 1000, 0.031, ""),
        ("metformin 500 mg tablet", "Y", "ANDA", "23155", 1000, 0.029, ""),
    ), pediatric="A"),
    Group("27250051", "Biguanide", DIA, "R", 2.5, 60, (
        ("metformin ER 500 mg tablet", "Y", "ANDA", "00378", 100, 0.098, ""),
    ), pediatric="A"),
    Group("27200030", "Sulfonylurea", DIA, "R", 1.8, 60, (
        ("glipizide 5 mg tablet", "Y", "ANDA", "00093", 100, 0.062, ""),
    ), pediatric="A"),
    Group("27550070", "DPP-4 inhibitor", DIA, "R", 1.6, 30, (
        ("Januvia (sitagliptin) 100 mg tablet", "N", "NDA", "00006", 30, 19.84, ""),
    ), pediatric="A"),
    Group("27700050", "SGLT2 inhibitor", DIA, "R", 2.2, 30, (
        ("Jardiance (empagliflozin) 10 mg tablet", "N", "NDA", "00597", 30, 21.64, ""),
    ), pediatric="A"),
    Group("27700020", "SGLT2 inhibitor", DIA, "R", 1.4, 30, (
        ("Farxiga (dapagliflozin) 10 mg tablet", "O", "NDA", "00310", 30, 21.22, ""),
        ("dapagliflozin 10 mg tablet", "Y", "NDA AUTHORIZED GENERIC", "66993", 30, 8.88, ""),
    ), pediatric="A", brand_share=0.4),
    Group("27170070", "GLP-1 receptor agonist", DIA, "R", 2.6, 3, (
        ("Ozempic (semaglutide) 2 mg/3 mL pen", "N", "NDA", "00169", 3, 332.53, ""),
    ), pediatric="A"),
    Group("27170020", "GLP-1 receptor agonist", DIA, "R", 1.2, 4, (
        ("Trulicity (dulaglutide) 1.5 mg/0.5 mL pen", "N", "BLA", "00002", 4, 246.46, ""),
    ), pediatric="A"),
    Group("27170090", "GIP/GLP-1 receptor agonist", DIA, "R", 1.6, 4, (
        ("Mounjaro (tirzepatide) 5 mg/0.5 mL pen", "N", "NDA", "00002", 4, 264.66, ""),
    ), pediatric="A"),
    Group("27104003", "Insulin - long acting", DIA, "R", 2.6, 10, (
        ("Lantus (insulin glargine) 100 units/mL, 10 mL vial", "O", "BLA", "00088", 10, 6.49,
         "penny"),
        ("Semglee (insulin glargine-yfgn) 100 units/mL, 10 mL vial", "N", "BIOSIMILAR",
         "49502", 10, 9.85, ""),
    ), brand_share=0.6),
    Group("27104002", "Insulin - rapid acting", DIA, "R", 1.0, 10, (
        ("Humalog (insulin lispro) 100 units/mL, 10 mL vial", "N", "BLA", "00002", 10, 6.64,
         "penny"),
    ), pediatric="K"),
    Group("27104004", "Insulin - rapid acting", DIA, "R", 0.8, 10, (
        ("Novolog (insulin aspart) 100 units/mL, 10 mL vial", "N", "BLA", "00169", 10, 7.23,
         "penny"),
    ), pediatric="K"),
    Group("27104010", "Insulin - short acting", DIA, "H", 2.0, 3, (
        ("Humulin R (insulin regular human) 100 units/mL, 10 mL vial", "N", "BLA", "00002",
         10, 14.86, ""),
        ("Novolin R (insulin regular human) 100 units/mL, 10 mL vial", "N", "BLA", "00169",
         10, 13.65, ""),
    ), pediatric="K"),
    # --- Respiratory -------------------------------------------------------------------------
    Group("44209902", "Inhaled corticosteroid-LABA", RSP, "R", 2.0, 1, (
        ("Advair Diskus (fluticasone-salmeterol) 250-50 mcg inhaler", "O", "NDA", "00173", 1,
         507.60, "penny"),
        ("Wixela Inhub (fluticasone-salmeterol) 250-50 mcg inhaler", "Y", "ANDA", "00378", 1,
         96.80, ""),
    ), brand_share=0.12),
    Group("44209903", "Inhaled corticosteroid-LABA", RSP, "R", 1.8, 1, (
        ("Symbicort (budesonide-formoterol) 160-4.5 mcg inhaler", "O", "NDA", "00186", 1,
         328.40, "penny"),
        ("budesonide-formoterol 160-4.5 mcg inhaler", "Y", "NDA AUTHORIZED GENERIC", "66993",
         1, 262.70, ""),
        ("Breyna (budesonide-formoterol) 160-4.5 mcg inhaler", "Y", "ANDA", "00378", 1,
         229.90, ""),
    ), brand_share=0.15),
    Group("44201010", "Short-acting beta agonist", RSP, "R", 4.0, 1, (
        ("Ventolin HFA (albuterol) 90 mcg inhaler", "O", "NDA", "00173", 1, 57.03, "penny"),
        ("albuterol sulfate HFA 90 mcg inhaler", "Y", "ANDA", "69097", 1, 25.40, ""),
        ("albuterol sulfate HFA 90 mcg inhaler", "Y", "NDA AUTHORIZED GENERIC", "00093", 1,
         31.20, ""),
    ), pediatric="K", brand_share=0.1),
    Group("44100080", "Long-acting anticholinergic", RSP, "R", 1.2, 30, (
        ("Spiriva HandiHaler (tiotropium) 18 mcg capsule", "N", "NDA", "00597", 30, 17.86,
         ""),
    ), pediatric="A"),
    Group("44209906", "Inhaled triple therapy", RSP, "R", 1.0, 1, (
        ("Trelegy Ellipta (fluticasone-umeclidinium-vilanterol) 100-62.5-25 mcg", "N", "NDA",
         "00173", 1, 731.90, ""),
    ), pediatric="A"),
    Group("44505050", "Leukotriene receptor antagonist", RSP, "R", 2.4, 30, (
        ("montelukast 10 mg tablet", "Y", "ANDA", "16729", 90, 0.15, ""),
        ("montelukast 10 mg tablet", "Y", "ANDA", "33342", 90, 0.14, ""),
    ), pediatric="K"),
    # --- Cardiovascular ----------------------------------------------------------------------
    Group("39400010", "HMG-CoA reductase inhibitor", CVS, "R", 6.0, 30, (
        ("Lipitor (atorvastatin) 40 mg tablet", "O", "NDA", "00071", 90, 14.75, ""),
        ("atorvastatin 40 mg tablet", "Y", "NDA AUTHORIZED GENERIC", "59762", 90, 0.31, ""),
        ("atorvastatin 40 mg tablet", "Y", "ANDA", "55111", 90, 0.09, ""),
        ("atorvastatin 40 mg tablet", "Y", "ANDA", "65862", 90, 0.08, ""),
    ), pediatric="A", brand_share=0.03),
    Group("39400011", "HMG-CoA reductase inhibitor", CVS, "R", 3.0, 30, (
        ("atorvastatin 20 mg tablet", "Y", "ANDA", "55111", 90, 0.07, ""),
        ("atorvastatin 20 mg tablet", "Y", "ANDA", "68180", 90, 0.07, ""),
    ), pediatric="A"),
    Group("39400060", "HMG-CoA reductase inhibitor", CVS, "R", 3.4, 30, (
        ("Crestor (rosuvastatin) 10 mg tablet", "O", "NDA", "00310", 90, 11.32, ""),
        ("rosuvastatin 10 mg tablet", "Y", "ANDA", "65862", 90, 0.09, ""),
        ("rosuvastatin 10 mg tablet", "Y", "ANDA", "62756", 90, 0.10, ""),
    ), pediatric="A", brand_share=0.03),
    Group("39400075", "HMG-CoA reductase inhibitor", CVS, "R", 1.8, 30, (
        ("simvastatin 20 mg tablet", "Y", "ANDA", "68180", 90, 0.05, ""),
    ), pediatric="A"),
    Group("39400065", "HMG-CoA reductase inhibitor", CVS, "R", 1.4, 30, (
        ("pravastatin 40 mg tablet", "Y", "ANDA", "68382", 90, 0.11, ""),
    ), pediatric="A"),
    Group("36100030", "ACE inhibitor", CVS, "R", 5.0, 30, (
        ("lisinopril 10 mg tablet", "Y", "ANDA", "68180", 1000, 0.038, ""),
        ("lisinopril 10 mg tablet", "Y", "ANDA", "00093", 1000, 0.041, ""),
    ), pediatric="A"),
    Group("34000003", "Calcium channel blocker", CVS, "R", 5.0, 30, (
        ("amlodipine 5 mg tablet", "Y", "ANDA", "33342", 1000, 0.029, ""),
        ("amlodipine 5 mg tablet", "Y", "ANDA", "68180", 1000, 0.032, ""),
    ), pediatric="A"),
    Group("33200030", "Beta blocker", CVS, "R", 3.6, 30, (
        ("Toprol-XL (metoprolol succinate ER) 50 mg tablet", "O", "NDA", "70515", 90, 2.94,
         ""),
        ("metoprolol succinate ER 50 mg tablet", "Y", "ANDA", "62332", 90, 0.30, ""),
        ("metoprolol succinate ER 50 mg tablet", "Y", "ANDA", "00378", 90, 0.33, ""),
    ), pediatric="A", brand_share=0.04),
    Group("36150040", "Angiotensin II receptor blocker", CVS, "R", 3.6, 30, (
        ("losartan 50 mg tablet", "Y", "ANDA", "13668", 1000, 0.09, ""),
        ("losartan 50 mg tablet", "Y", "ANDA", "65862", 1000, 0.085, ""),
    ), pediatric="A"),
    Group("37600040", "Thiazide diuretic", CVS, "R", 2.4, 30, (
        ("hydrochlorothiazide 25 mg tablet", "Y", "ANDA", "29300", 1000, 0.031, ""),
    ), pediatric="A"),
    Group("33300007", "Beta blocker", CVS, "R", 1.8, 60, (
        ("carvedilol 12.5 mg tablet", "Y", "ANDA", "68382", 500, 0.052, ""),
    ), pediatric="A"),
    Group("37200030", "Loop diuretic", CVS, "RH", 2.4, 30, (
        ("furosemide 40 mg tablet", "Y", "ANDA", "00054", 1000, 0.042, ""),
    ), pediatric="A"),
    Group("40992002", "Angiotensin receptor-neprilysin inhibitor", CVS, "R", 1.4, 60, (
        ("Entresto (sacubitril-valsartan) 97-103 mg tablet", "O", "NDA", "00078", 60, 12.05,
         ""),
        ("sacubitril-valsartan 97-103 mg tablet", "Y", "ANDA", "69539", 60, 3.82, ""),
    ), pediatric="A", brand_share=0.5),
    # --- HIV and hepatitis ----------------------------------------------------------------
    Group("12109903", "HIV integrase inhibitor combination", HIV, "R", 1.8, 30, (
        ("Biktarvy (bictegravir-emtricitabine-tenofovir alafenamide) 50-200-25 mg tablet",
         "N", "NDA", "61958", 30, 135.45, ""),
    ), pediatric="A"),
    Group("12109905", "HIV NRTI combination", HIV, "R", 0.8, 30, (
        ("Descovy (emtricitabine-tenofovir alafenamide) 200-25 mg tablet", "N", "NDA",
         "61958", 30, 79.62, ""),
    ), pediatric="A"),
    Group("12109904", "HIV integrase inhibitor combination", HIV, "R", 0.5, 30, (
        ("Triumeq (abacavir-dolutegravir-lamivudine) 600-50-300 mg tablet", "N", "NDA",
         "49702", 30, 118.41, ""),
    ), pediatric="A"),
    Group("12109902", "HIV NRTI combination", HIV, "R", 0.7, 30, (
        ("Truvada (emtricitabine-tenofovir disoproxil fumarate) 200-300 mg tablet", "O",
         "NDA", "61958", 30, 60.64, ""),
        ("emtricitabine-tenofovir disoproxil fumarate 200-300 mg tablet", "Y", "ANDA",
         "00093", 30, 1.68, ""),
    ), pediatric="A", brand_share=0.05),
    Group("12359902", "Hepatitis C antiviral combination", HIV, "R", 0.4, 28, (
        ("Epclusa (sofosbuvir-velpatasvir) 400-100 mg tablet", "O", "NDA", "61958", 28,
         895.83, ""),
        ("sofosbuvir-velpatasvir 400-100 mg tablet", "Y", "NDA AUTHORIZED GENERIC", "72626",
         28, 339.29, ""),
    ), pediatric="A", brand_share=0.3),
    # --- CNS and pain --------------------------------------------------------------------
    Group("58160070", "SSRI antidepressant", CNS, "R", 3.2, 30, (
        ("sertraline 50 mg tablet", "Y", "ANDA", "16714", 500, 0.062, ""),
        ("sertraline 50 mg tablet", "Y", "ANDA", "65862", 500, 0.058, ""),
    )),
    Group("58160034", "SSRI antidepressant", CNS, "R", 2.4, 30, (
        ("escitalopram 10 mg tablet", "Y", "ANDA", "00093", 100, 0.064, ""),
    )),
    Group("72600030", "Anticonvulsant", CNS, "R", 3.6, 90, (
        ("gabapentin 300 mg capsule", "Y", "ANDA", "27241", 500, 0.083, ""),
        ("gabapentin 300 mg capsule", "Y", "ANDA", "31722", 500, 0.079, ""),
    ), pediatric="A"),
    Group("72600043", "Anticonvulsant", CNS, "R", 1.6, 60, (
        ("levetiracetam 500 mg tablet", "Y", "ANDA", "68180", 120, 0.21, ""),
    ), pediatric="K"),
    Group("72600036", "Anticonvulsant", CNS, "R", 0.8, 60, (
        ("Vimpat (lacosamide) 200 mg tablet", "O", "NDA", "00131", 60, 21.85, ""),
        ("lacosamide 200 mg tablet", "Y", "ANDA", "43547", 60, 0.64, ""),
    ), brand_share=0.08),
    Group("59153070", "Atypical antipsychotic", CNS, "R", 1.4, 60, (
        ("quetiapine 100 mg tablet", "Y", "ANDA", "47335", 100, 0.10, ""),
    ), pediatric="A"),
    Group("58180025", "SNRI antidepressant", CNS, "R", 1.6, 30, (
        ("duloxetine 60 mg capsule", "Y", "ANDA", "31722", 90, 0.35, ""),
    ), pediatric="A"),
    Group("65200010", "Opioid dependence agent", CNS, "R", 1.2, 60, (
        ("Suboxone (buprenorphine-naloxone) 8-2 mg film", "O", "NDA", "12496", 30, 9.42, ""),
        ("buprenorphine-naloxone 8-2 mg film", "Y", "ANDA", "43598", 30, 4.78, ""),
    ), pediatric="A", brand_share=0.1),
    Group("65100025", "Opioid analgesic", CNS, "H", 3.0, 4, (
        ("fentanyl citrate 50 mcg/mL, 2 mL vial", "Y", "ANDA", "00409", 50, 0.92, ""),
    ), pediatric="K"),
    Group("65100075", "Opioid analgesic", CNS, "H", 2.4, 2, (
        ("hydromorphone 2 mg/mL, 1 mL vial", "Y", "ANDA", "00409", 25, 2.12, ""),
    )),
    Group("65100055", "Opioid analgesic", CNS, "H", 2.0, 2, (
        ("morphine sulfate 4 mg/mL, 1 mL syringe", "Y", "ANDA", "00641", 25, 1.84, ""),
    ), pediatric="K"),
    Group("66100037", "NSAID", CNS, "H", 1.6, 1, (
        ("ketorolac 30 mg/mL vial", "Y", "ANDA", "00143", 25, 0.82, ""),
    )),
    Group("64200010", "Analgesic - non-opioid", CNS, "H", 2.2, 100, (
        ("Ofirmev (acetaminophen) 1,000 mg/100 mL vial", "O", "NDA", "43825", 100, 0.42, ""),
        ("acetaminophen 1,000 mg/100 mL vial", "Y", "ANDA", "63323", 100, 0.10, ""),
    ), pediatric="K", brand_share=0.05),
    # --- Anesthesia and critical care ---------------------------------------------------------
    Group("70000060", "General anesthetic", ANE, "H", 3.0, 100, (
        ("Diprivan (propofol) 10 mg/mL, 100 mL vial", "O", "NDA", "63323", 100, 0.31, ""),
        ("propofol 10 mg/mL, 100 mL vial", "Y", "ANDA", "00409", 100, 0.22, ""),
    ), pediatric="K", brand_share=0.3),
    Group("57100060", "Benzodiazepine sedative", ANE, "H", 2.0, 4, (
        ("midazolam 1 mg/mL, 2 mL vial", "Y", "ANDA", "00641", 50, 0.71, ""),
    ), pediatric="K"),
    Group("60200030", "Sedative - alpha-2 agonist", ANE, "H", 1.2, 100, (
        ("Precedex (dexmedetomidine) 400 mcg/100 mL bottle", "O", "NDA", "00409", 100, 0.92,
         ""),
        ("dexmedetomidine 400 mcg/100 mL bottle", "Y", "ANDA", "25021", 100, 0.35, ""),
    ), brand_share=0.15),
    Group("38400020", "Vasopressor", ANE, "H", 1.4, 8, (
        ("Levophed (norepinephrine) 4 mg/4 mL vial", "O", "NDA", "00409", 40, 6.42, ""),
        ("norepinephrine 4 mg/4 mL vial", "Y", "ANDA", "70860", 40, 4.18, ""),
    ), brand_share=0.1),
    Group("74200050", "Neuromuscular blocker reversal", ANE, "H", 1.6, 2, (
        ("Bridion (sugammadex) 200 mg/2 mL vial", "N", "NDA", "00006", 20, 55.84, ""),
    )),
    Group("74200070", "Neuromuscular blocker", ANE, "H", 1.6, 5, (
        ("rocuronium 50 mg/5 mL vial", "Y", "ANDA", "00143", 50, 1.52, ""),
    ), pediatric="K"),
    Group("79700030", "Electrolyte replacement", ANE, "H", 2.6, 100, (
        ("potassium chloride 20 mEq/100 mL bag", "Y", "NDA", "00338", 2400, 0.061, ""),
    ), pediatric="K"),
    Group("79850010", "IV solution", ANE, "H", 4.0, 1000, (
        ("sodium chloride 0.9% 1,000 mL bag", "Y", "NDA", "00264", 12000, 0.0021, ""),
    ), pediatric="K"),
    Group("49270070", "Proton pump inhibitor", OTH, "H", 2.0, 1, (
        ("pantoprazole 40 mg vial", "Y", "ANDA", "55150", 25, 4.52, ""),
    )),
    Group("49200020", "H2 antagonist", OTH, "H", 1.4, 2, (
        ("famotidine 10 mg/mL, 2 mL vial", "Y", "ANDA", "00641", 50, 0.86, ""),
    ), pediatric="K"),
    Group("49270071", "Proton pump inhibitor", OTH, "R", 3.4, 30, (
        ("Protonix (pantoprazole) 40 mg tablet", "O", "NDA", "00008", 90, 12.14, ""),
        ("pantoprazole 40 mg tablet", "Y", "ANDA", "62175", 1000, 0.10, ""),
        ("pantoprazole 40 mg tablet", "Y", "ANDA", "31722", 1000, 0.11, ""),
    ), brand_share=0.02),
    Group("50250066", "Antiemetic - 5-HT3 antagonist", SUP, "R", 1.4, 12, (
        ("ondansetron ODT 4 mg tablet", "Y", "ANDA", "65862", 30, 0.21, ""),
    ), acute_days=4, pediatric="K"),
)

#: The product whose acquisition cost jumps in the price-spike month (shortage, bought off
#: contract): immune globulin is a top hospital spend and has had exactly such spikes.
PRICE_SPIKE_DRUG = "Privigen (immune globulin IV 10%) 20 g/200 mL"
PRICE_SPIKE_FACTOR = 1.36


class Formulary:
    """The drug list, with prices per month.

    Attributes are parallel arrays over products (index ``d``): ``ndc`` (11-digit text),
    ``name``, ``mony``, ``category`` (FDA marketing category), ``group`` code,
    ``therapeutic_class``, ``budget_category``, ``package_size``, ``channels``, ``weight``
    (share of its channel's claims), ``dose``, ``acute_days``, ``pediatric``, ``orphan``,
    and price matrices (months x products) ``wac``, ``price_340b``, ``price_gpo``.
    """

    def __init__(self, calendar: Calendar) -> None:
        rows = []
        for group in GROUPS:
            brands = [p for p in group.products if p[1] in "MNO"]
            others = [p for p in group.products if p[1] not in "MNO"]
            if group.brand_share is None or not brands or not others:
                shares = [1 / len(group.products)] * len(group.products)
            else:
                shares = [group.brand_share / len(brands) if p[1] in "MNO"
                          else (1 - group.brand_share) / len(others) for p in group.products]
            for product, share in zip(group.products, shares, strict=True):
                rows.append((group, product, share))
        # Fixed stream: the formulary is the same for every seed.
        rng = np.random.default_rng(340)
        n = len(rows)
        self.n = n
        self.name = np.array([p[0] for _, p, _ in rows], dtype=object)
        self.mony = np.array([p[1] for _, p, _ in rows], dtype=object)
        self.category = np.array([p[2] for _, p, _ in rows], dtype=object)
        labeler = [p[3] for _, p, _ in rows]
        self.package_size = np.array([p[4] for _, p, _ in rows], dtype=np.float64)
        wac_latest = np.array([p[5] for _, p, _ in rows], dtype=np.float64)
        penny = np.array([p[6] == "penny" for _, p, _ in rows])
        # A GPI-14-like code: the group's 8 digits and 6 more from its first product's name.
        self.group = np.array([g.gpi + f"{hash_name(g.products[0][0]) % 1000000:06d}"
                               for g, _, _ in rows], dtype=object)
        self.therapeutic_class = np.array([g.therapeutic_class for g, _, _ in rows],
                                          dtype=object)
        self.budget_category = np.array([g.category for g, _, _ in rows], dtype=object)
        self.channels = np.array([g.channels for g, _, _ in rows], dtype=object)
        self.weight = np.array([g.weight * s for g, _, s in rows], dtype=np.float64)
        self.dose = np.array([g.dose for g, _, _ in rows], dtype=np.float64)
        # Costly retail products are dispensed in whole packages (a month's bottle or pen
        # pack), so a pharmacy keeps no opened $10,000 bottle on its shelf.
        costly = np.array(["R" in g.channels and p[4] * p[5] > 300 for g, p, _ in rows])
        self.dose = np.where(costly, np.array([p[4] for _, p, _ in rows]), self.dose)
        self.acute_days = np.array([g.acute_days for g, _, _ in rows], dtype=np.int64)
        self.pediatric = np.array([g.pediatric for g, _, _ in rows], dtype=object)
        self.orphan = np.array([g.orphan for g, _, _ in rows])
        self.ndc = _ndcs(labeler, rng)
        brand = np.isin(self.mony, ["M", "N", "O"])
        biosimilar = self.category == "BIOSIMILAR"
        plasma = self.budget_category == IGB
        # 340B ceiling prices: brands lose the 23.1% basic rebate plus inflation penalties,
        # generics 13% plus penalties; plasma products only the basic rebate.
        ratio = np.where(brand, rng.uniform(0.25, 0.60, n), rng.uniform(0.50, 0.85, n))
        ratio = np.where(biosimilar, rng.uniform(0.55, 0.75, n), ratio)
        ratio = np.where(plasma, rng.uniform(0.74, 0.80, n), ratio)
        # GPO contracts: little off a brand's list price, a lot off a generic's.
        gpo_ratio = np.where(brand, rng.uniform(0.93, 0.98, n), rng.uniform(0.35, 0.75, n))
        gpo_ratio = np.where(biosimilar | plasma, rng.uniform(0.84, 0.92, n), gpo_ratio)
        # List price increases take effect in January: brands 3-7%, generics drift.
        increase = np.where(brand | biosimilar | plasma, rng.uniform(0.03, 0.07, n),
                            rng.uniform(-0.03, 0.02, n))
        self.january_increase = increase
        januaries_after = np.array([
            int(((calendar.month_of_year[m + 1:]) == 1).sum()) for m in range(len(calendar))
        ])
        factor = (1 + increase)[None, :] ** -januaries_after[:, None]
        self.wac = np.round(wac_latest[None, :] * factor, 4)
        self.price_340b = np.where(penny[None, :], 0.01, np.round(self.wac * ratio, 4))
        self.price_gpo = np.round(self.wac * gpo_ratio, 4)
        self.price_ratio_340b = ratio
        self.price_ratio_gpo = gpo_ratio
        self.list_price_latest = wac_latest
        self.penny = penny
        #: Products whose list price rises every January (brands, biosimilars, plasma).
        self.inflating = brand | biosimilar | plasma
        spike = int(np.flatnonzero(self.name == PRICE_SPIKE_DRUG)[0])
        self.spike_drug = spike
        #: Acquisition-cost multiplier per (month, product): 1 except the price spike.
        self.cost_factor = np.ones_like(self.wac)
        self.cost_factor[calendar.latest, spike] = PRICE_SPIKE_FACTOR

    def in_channel(self, letter: str) -> np.ndarray:
        """Products used in a channel.

        Parameters
        ----------
        letter : {"R", "I", "H"}
            Retail/contract pharmacy, infusion/clinic, inpatient.

        Returns
        -------
        numpy.ndarray
            Boolean per product.
        """
        return np.array([letter in c for c in self.channels])

    def drugs_table(self) -> pd.DataFrame:
        """The ``drugs`` table (formulary) of the data contract.

        Returns
        -------
        pandas.DataFrame
        """
        return pd.DataFrame({
            "ndc": self.ndc,
            "drug_name": self.name,
            "mony_code": self.mony,
            "marketing_category": self.category,
            "generic_group": self.group,
            "therapeutic_class": self.therapeutic_class,
            "package_size": self.package_size,
            "budget_line": [drug_line(category) for category in self.budget_category],
        })

    def orphan_table(self) -> pd.DataFrame:
        """The ``orphan_drugs`` table: NDCs of drugs with an orphan designation.

        Returns
        -------
        pandas.DataFrame
        """
        return pd.DataFrame({"ndc": self.ndc[self.orphan]})


def drug_line(category: str) -> str:
    """The budget line a budget category's purchases post to (``budget_lines.line`` of the
    drug lines, ``drugs.budget_line``): ``Drugs - <category>``.

    Examples
    --------
    >>> drug_line("Oncology")
    'Drugs - Oncology'
    """
    return f"Drugs - {category}"


def hash_name(text: str) -> int:
    """A stable (process-independent, unlike ``hash``) number for a name.

    Parameters
    ----------
    text : str

    Returns
    -------
    int
        The CRC-32 of the UTF-8 text.
    """
    import zlib

    return zlib.crc32(text.encode())


def _ndcs(labelers: list[str], rng: np.random.Generator) -> np.ndarray:
    """11-digit NDCs (5-4-2): the labeler's code, an invented product and package code."""
    seen: set[str] = set()
    out = []
    for labeler in labelers:
        while True:
            code = f"{labeler}{rng.integers(1000, 9999):04d}{rng.choice([1, 2, 10, 25, 30]):02d}"
            if code not in seen:
                seen.add(code)
                out.append(code)
                break
    return np.array(out, dtype=object)

"""Writing a synthetic sample: the files, the manifest, and the swap into place."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from rxxl.data.synthetic._common import (
    GENERATOR_VERSION,
    SIZES,
    Calendar,
    digits_array,
    iso,
    stream,
    take_text,
    write_parquet,
)
from rxxl.data.synthetic.claims import (
    SPIKE_RATE,
    SPIKE_REJECT_CODE,
    adjudicate,
    claim_numbers,
    generate_month,
    month_volumes,
    to_arrow,
)
from rxxl.data.synthetic.finance import Finance, capital_table, month_totals
from rxxl.data.synthetic.formulary import PRICE_SPIKE_FACTOR, Formulary, drug_line
from rxxl.data.synthetic.organization import (
    COST_CENTERS,
    OPEN,
    OVERSTOCK_LOCATION,
    Organization,
)
from rxxl.data.synthetic.planted import Planter
from rxxl.errors import InputError, InputTypeError

MANIFEST = "manifest.json"
GENERATOR_NAME = "rxxl.data.synthetic"
#: How the sample is built, for whoever checks it (also in the manifest).
CONVENTIONS = [
    "340B claims are claims on the 340B account; the entity, site, encounter, prescriber "
    "and inpatient rules apply to them only. Non-340B claims (outside prescribers, "
    "patients never seen, inpatient and observation use) need not pass them.",
    "entity_id is filled on contract pharmacy claims and on planted claims whose site "
    "does not identify the entity; otherwise the claim's entity is its site's.",
    "Qualifying encounter: an encounter of the patient at a site registered for the "
    "claim's entity, on or up to 365 days before the service date. Clean claims qualify "
    "whether the site must be registered on the encounter date or the service date.",
    "Inpatient claims are on the GPO account; observation claims on WAC; outpatient "
    "non-340B claims of DSH and children's hospitals on WAC, of the CAH and RRC on GPO.",
    "Medicaid FFS claims are on 340B exactly when the MEF lists the claim's entity, "
    "billing NPI, payer state and quarter as carve-in.",
    "Resubmissions repeat the denied claim (same service date) with a new claim_id, "
    "status paid and original_claim_id; initial claims are those without "
    "original_claim_id.",
    "Days on hand = days in month x (beginning + ending inventory) / 2 / cost of goods "
    "dispensed, where cost of goods = purchases - change in inventory - expired.",
]


def generate(out_dir: str | os.PathLike, *, size: str = "small", seed: int = 20261123,
             end_month: str = "2026-10") -> dict:
    """Write a synthetic health system's pharmacy data: 24 months of claims, the 340B
    reference tables, the formulary and the finance tables, with known planted problems.

    Parameters
    ----------
    out_dir : str or path-like
        Folder to write into. It is created if missing. In an earlier sample there (a folder
        with this generator's ``manifest.json``) the files the earlier sample wrote (listed in
        its manifest) are replaced or, when the new sample has no such file, removed; other
        files there are the user's and are left as they are (a new sample's file where a
        user's file is refuses the whole sample). Any other non-empty folder is refused, so
        a user's files are never overwritten or removed. The sample is written to a
        temporary folder beside ``out_dir`` and its files renamed into place.
    size : {"small", "large"}
        ``small``: about 2,600 claims in the latest month (a few seconds; the demo and the
        tests). ``large``: about 1,000,000 claims in the latest month and millions of
        encounters (a benchmark; written month by month to bound memory).
    seed : int
        Random seed. The same (seed, size, end_month) always gives the same files.
    end_month : str
        The latest month, ``YYYY-MM``; the sample covers the 24 months ending there.

    Returns
    -------
    dict
        The manifest (also written as ``manifest.json``): seed, size, end_month, months,
        row counts per table, generator version, the organization, and ``planted``: one
        entry per planted problem with its id, kind, plain-words description, expected
        finding (a 340B reason code, ``denial spike``, ``price spike`` or ``overstock``)
        and the identifiers that locate it (claim ids, payer, reject code, month, NDC,
        location, entity id).

    Raises
    ------
    rxxl.errors.InputError
        Unknown size, a malformed ``end_month``, a negative seed, an ``out_dir`` that holds
        files that are not an earlier sample, or a user's file where the sample writes one.
    rxxl.errors.InputTypeError
        A seed that is not an integer.

    Examples
    --------
    >>> manifest = generate("sample", size="small", seed=7)   # doctest: +SKIP
    >>> manifest["months"][-1]                                 # doctest: +SKIP
    '2026-10'
    >>> [p["expected"] for p in manifest["planted"]][:2]       # doctest: +SKIP
    ['ENTITY_INACTIVE', 'SITE_NOT_REGISTERED']
    """
    spec = _check_arguments(size, seed, end_month)
    out = Path(out_dir)
    earlier = _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.parent / f".{out.name}.rxxl-tmp-{os.getpid()}"
    if temporary.exists():
        shutil.rmtree(temporary)
    temporary.mkdir()
    try:
        manifest = _write_sample(temporary, spec, int(seed), end_month)
        _swap_into_place(temporary, out, earlier)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return manifest


def _check_arguments(size: str, seed: int, end_month: str):
    if size not in SIZES:
        raise InputError(f"size: {size!r} is not a sample size; use one of "
                         f"{', '.join(repr(s) for s in SIZES)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputTypeError(f"seed: expected a whole number, got {type(seed).__name__}")
    if seed < 0:
        raise InputError(f"seed: {seed} is negative; use a whole number 0 or more")
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(end_month))
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2002 <= int(match.group(1)) <= 2099:
        raise InputError(f"end_month: {end_month!r} is not a month; write it as YYYY-MM, "
                         "e.g. 2026-10")
    return SIZES[size]


def _check_target(out: Path) -> dict | None:
    """Refuse a file, or a non-empty folder that is not an earlier sample; return the
    earlier sample's manifest (None: no earlier sample)."""
    if out.exists() and not out.is_dir():
        raise InputError(f"out_dir: {out} is a file; give a folder for the sample")
    if not out.is_dir() or not any(out.iterdir()):
        return None
    earlier = _earlier_manifest(out)
    if earlier is None:
        raise InputError(
            f"out_dir: {out} is not empty and holds no {MANIFEST} of an earlier sample; "
            "choose an empty or new folder so no other files are overwritten")
    return earlier


def _earlier_manifest(out: Path) -> dict | None:
    """The manifest of a sample this generator wrote (its manifest says so): a folder with
    some other manifest.json is a user's, and is not replaced."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and manifest.get("generator") == GENERATOR_NAME:
        return manifest
    return None


def _written(manifest: dict) -> set[str]:
    """The files (relative POSIX paths) a sample's manifest says the generator wrote; from
    its table of files and months when the manifest predates the list."""
    if isinstance(manifest.get("written"), list):
        return {str(name) for name in manifest["written"]} | {MANIFEST}
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    months = manifest.get("months") if isinstance(manifest.get("months"), list) else []
    names = {MANIFEST}
    for pattern in files.values():
        pattern = str(pattern)
        names |= {pattern.replace("<YYYY-MM>", str(m)) for m in months} \
            if "<YYYY-MM>" in pattern else {pattern}
    return names


def _files_below(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")
            if path.is_file()}


def _swap_into_place(temporary: Path, out: Path, earlier: dict | None) -> None:
    """Move the new sample's files into ``out``: all at once into a new or empty folder;
    into an earlier sample file by file, replacing and removing only the earlier sample's
    own files. A run stopped midway leaves a manifest listing the files of both samples, so
    the next run recognises every file the generator wrote."""
    if earlier is None:
        if out.is_dir():
            out.rmdir()
        temporary.rename(out)
        return
    new = _files_below(temporary)
    owned = _written(earlier)
    clash = sorted(name for name in new - owned if (out / name).exists())
    if clash:
        raise InputError(
            f"out_dir: {out / clash[0]} is not a file of the earlier sample (its {MANIFEST}"
            " does not list it) but the new sample writes one there; move it away or choose"
            " another folder")
    interim = out / f".{MANIFEST}.rxxl-tmp"
    interim.write_text(json.dumps({**earlier, "written": sorted((owned | new) - {MANIFEST})},
                                  indent=2) + "\n", encoding="utf-8")
    os.replace(interim, out / MANIFEST)
    for name in sorted(new - {MANIFEST}):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary / name, out / name)
    os.replace(temporary / MANIFEST, out / MANIFEST)
    for name in sorted(owned - new):
        (out / name).unlink(missing_ok=True)
    for folder in sorted({(out / name).parent for name in owned - new} - {out}, reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()  # a folder of the sample's own (claims/) once emptied
    shutil.rmtree(temporary, ignore_errors=True)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def _dates(days: pd.Series) -> pd.Series:
    days = np.asarray(days, dtype=np.int64)
    text = iso(np.minimum(days, OPEN))
    return pd.Series(np.where(days >= OPEN, "", text))


def _write_sample(folder: Path, size, seed: int, end_month: str) -> dict:
    cal = Calendar(end_month)
    form = Formulary(cal)
    org = Organization(seed, size, cal)
    planter = Planter(seed, size, org)
    volumes = month_volumes(cal, size.claims_latest, stream(seed, size.name, "volumes"))
    patient_ids = org.patient_ids()
    npi_text = digits_array("", org.npi_table, 10)
    (folder / "claims").mkdir()
    totals, claim_counts = [], {}
    spike_payer_rates = []
    for m in range(len(cal)):
        rng = stream(seed, size.name, "claims", m)
        claims = generate_month(org, form, m, int(volumes[m]), rng)
        planter.plant(form, claims, m, rng)
        claims = adjudicate(org, claims, m, m == cal.latest, rng)
        numbers = claim_numbers(claims, cal, m, rng)
        planter.record(claims, numbers)
        table = to_arrow(org, form, claims, numbers, patient_ids, npi_text)
        write_parquet(table, folder / "claims" / f"{cal.labels[m]}.parquet",
                      ["service_date", "claim_id"])
        claim_counts[cal.labels[m]] = table.num_rows
        totals.append(month_totals(org, form, claims))
        initial = (claims.original < 0) & (claims.payer == org.spike_payer)
        spike_payer_rates.append(float(claims.status[initial].mean()) if initial.any()
                                 else 0.0)
        del table, claims

    encounters = _write_encounters(folder, org, planter, patient_ids)
    tables = {
        "entity": org.entity_table(),
        "sites": org.sites_table(),
        "prescribers": org.prescribers_table(),
        "mef": org.mef_table(),
        "orphan_drugs": form.orphan_table(),
        "drugs": form.drugs_table(),
        "locations": org.locations_table(),
    }
    for frame in (tables["entity"], tables["sites"], tables["prescribers"]):
        for column in ("start_date", "end_date"):
            frame[column] = _dates(frame[column]).to_numpy()
    tables["mef"]["quarter_start"] = iso(tables["mef"]["quarter_start"].to_numpy())
    tables["mef"]["carve_in"] = np.where(tables["mef"]["carve_in"], "true", "false")
    finance = Finance(seed, size, org, form, totals)
    tables["budget_lines"] = finance.budget_table()
    tables["drug_purchases"] = finance.purchases_table()
    tables["inventory_snapshots"] = finance.inventory_table()
    tables["accumulator_balances"] = finance.balances_table()
    tables["capital_requests"] = capital_table()
    for name, frame in tables.items():
        _csv(frame, folder / f"{name}.csv")

    manifest = _manifest(size, seed, end_month, cal, org, form, planter, finance,
                         claim_counts, encounters, tables, spike_payer_rates)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _write_encounters(folder: Path, org: Organization, planter: Planter,
                      patient_ids: pa.Array) -> int:
    extra_patient, extra_site, extra_day = planter.encounters()
    patient = np.concatenate([org.encounter_patient, extra_patient])
    site = np.concatenate([org.encounter_site, extra_site])
    days = np.concatenate([org.encounter_day, extra_day])
    order = np.lexsort((site, patient, days))
    table = pa.table({
        "patient_id": patient_ids.take(pa.array(patient[order])),
        "site_id": take_text(org.site_ids, site[order]),
        "encounter_date": pa.array(days[order].astype(np.int32)).cast(pa.date32()),
    })
    write_parquet(table, folder / "encounters.parquet", ["encounter_date", "patient_id"])
    return table.num_rows


def _manifest(size, seed, end_month, cal, org, form, planter, finance, claim_counts,
              encounters, tables, spike_payer_rates) -> dict:
    import rxxl

    planted = planter.manifest_entries()
    latest = cal.labels[-1]
    baseline = org.payer_denial[org.spike_payer]
    planted.append({
        "id": "P18",
        "kind": "denial spike",
        "expected": "denial spike",
        "description": (
            f"{org.payer_names[org.spike_payer]} rejected about {SPIKE_RATE:.0%} of the "
            f"pharmacy claims submitted in {latest} (normally about {baseline:.0%}), almost "
            f"all the extra with NCPDP reject code {SPIKE_REJECT_CODE} (prior authorization "
            "required) after a formulary change."),
        "identifiers": {"payer": org.payer_names[org.spike_payer],
                        "reject_code": SPIKE_REJECT_CODE, "month": latest},
        "details": {"baseline_rate": round(float(baseline), 4),
                    "initial_denial_rate_by_month": dict(zip(
                        cal.labels, (round(r, 4) for r in spike_payer_rates), strict=True))},
    })
    spike = finance.spike_summary()
    planted.append({
        "id": "P19",
        "kind": "price spike",
        "expected": "price spike",
        "description": (
            f"{form.name[form.spike_drug]} cost {PRICE_SPIKE_FACTOR - 1:.0%} more per "
            f"package in {latest} (shortage, bought off contract), on purchases and claims "
            "alike; the immune globulin lines of the cost centers that buy it (details: "
            "budget_lines; the infusion center's is the largest) go materially over budget "
            "on price."),
        "identifiers": {"ndc": str(form.ndc[form.spike_drug]), "month": latest,
                        "location": "RUMC-INF", "cost_center": "7020 RUMC Infusion Center "
                        "Pharmacy", "line": "Drugs - Immune globulin & blood products"},
        "details": {"factor": PRICE_SPIKE_FACTOR, "purchases": spike["spend"],
                    "cost_of_the_increase": spike["increase"],
                    "locations": spike["locations"],
                    "budget_lines": [{"cost_center": COST_CENTERS[org.locations[
                        org.location_index[code]].cost_center],
                        "line": drug_line(form.budget_category[form.spike_drug])}
                        for code in spike["locations"]]},
    })
    months = len(cal)
    doh = finance.days_on_hand(OVERSTOCK_LOCATION, months - 1)
    normal = float(np.median([finance.days_on_hand(OVERSTOCK_LOCATION, m)
                              for m in range(months - 1)]))
    planted.append({
        "id": "P20",
        "kind": "overstock",
        "expected": "overstock",
        "description": (
            f"{OVERSTOCK_LOCATION} (the medical center's outpatient pharmacy) made a forward "
            f"buy at the end of {latest}: ending inventory about "
            f"{finance.overstock_ending_ratio:.1f}x normal, days on hand about "
            f"{doh / normal:.1f}x normal for the month. The buy "
            "also shows as purchases over budget on its drug lines (cost center 7030)."),
        "identifiers": {"location": OVERSTOCK_LOCATION, "month": latest},
        "details": {"days_on_hand": round(doh, 1), "normal_days_on_hand": round(normal, 1),
                    "forward_buy": round(finance.overstock_extra, 2),
                    "days_on_hand_rule": "days in month x (beginning + ending inventory) / 2"
                                         " / cost of goods dispensed"},
    })
    replenished = finance.replenishment_planted
    for pid, side, code, words in (
            ("P21", "over", "OVER_REPLENISHED",
             "{k} more packages of {drug} bought on the 340B account at {location} in {month} "
             "than its eligible use made due: 340B stock no eligible patient used"),
            ("P22", "under", "UNDER_REPLENISHED",
             "{k} packages of {drug} that eligible 340B use at {location} made due in {month} "
             "bought on WAC instead of 340B: savings left behind")):
        planted_line = replenished[side]
        planted.append({
            "id": pid,
            "kind": f"{side}-replenishment",
            "expected": code,
            "description": words.format(k=replenished["packages"],
                                        drug=planted_line["drug_name"],
                                        location=replenished["location"],
                                        month=replenished["month"]),
            "identifiers": {"ndc": planted_line["ndc"], "location": replenished["location"],
                            "account": "340B", "month": replenished["month"]},
            "details": {"packages": replenished["packages"],
                        **{key: value for key, value in planted_line.items()
                           if key not in ("ndc", "drug_name")}},
        })
    rows = {name: int(len(frame)) for name, frame in tables.items()}
    rows["claims"] = int(sum(claim_counts.values()))
    rows["encounters"] = int(encounters)
    return {
        "generator": GENERATOR_NAME,
        "generator_version": GENERATOR_VERSION,
        "rxxl_version": rxxl.__version__,
        "seed": seed,
        "size": size.name,
        "end_month": end_month,
        "months": list(cal.labels),
        # Every file this sample wrote: a later sample into the folder replaces these only.
        "written": [*(f"claims/{month}.parquet" for month in claim_counts), "encounters.parquet",
                    *(f"{name}.csv" for name in tables)],
        "files": {
            "claims": "claims/<YYYY-MM>.parquet",
            "encounters": "encounters.parquet",
            **{name: f"{name}.csv" for name in tables},
        },
        "row_counts": rows,
        "claims_by_month": claim_counts,
        "organization": {
            "entities": [{"entity_id": e.entity_id, "entity_type": e.entity_type,
                          "name": e.name} for e in org.entities],
            "registered_sites": len(org.sites),
            "listed_prescribers": int(len(np.unique(org.prescriber_npi))),
            "community_prescribers": int(len(org.community_npis)),
            "patients": int(planter.patients_used),
            "formulary_products": int(form.n),
        },
        "conventions": CONVENTIONS,
        "planted": planted,
        # Flavors that found fewer template claims than scheduled (empty in every sample
        # tested; kept visible rather than silent).
        **({"planted_shortfall": planter.shortfall} if planter.shortfall else {}),
    }


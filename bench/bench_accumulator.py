"""Benchmark: the 340B split-billing accumulator (rxxl.accumulator) on a month of claims.

What is timed
-------------
*small sample*: for each month of the small synthetic sample (about 2,600 claims a month),
``accumulate`` (from loaded claims, their audit and the drugs table) and ``replenishment``
(against the month's drug purchases). Loading and the 340B audit are not timed: they have
their own benchmarks (bench_load.py, bench_audit340b.py).

*1M claims*: one month of 1,000,000 claims made here (the large sample takes long to generate
on a shared 2-core machine): 400 NDCs, 25 locations, the three accounts, 5% denied, 1% rebills
of an earlier claim, an audit verdict per claim (90% compliant, the rest with reasons that
route them to GPO or WAC), purchases per NDC x location x account. ``accumulate`` and
``replenishment`` are timed, best and median of ``--repeat`` runs.

Checks (exit status 1 when one fails): the units accumulated equal the units of the claims
that count (paid, denied medical, less the rebilled originals), and no balance carried is
negative (the made-up month has no reversal of an earlier month).

    python bench/bench_accumulator.py                  # small sample made in a temp folder
    python bench/bench_accumulator.py --repeat 5 --claims 2000000
    python bench/bench_accumulator.py --large /tmp/large   # also the large sample's latest month

*large sample* (``--large DIR``, a folder ``rxxl sample --size large`` wrote): its latest month's
claims loaded and audited (not timed), then ``accumulate`` (opened with the month before's
``accumulator_balances``) and ``replenishment`` timed.

The samples' months are opened with the balances of the month before, the outpatient pharmacy's
physical 340B inventory is left out of the comparison (``locations.replenishment``), and the
findings must be exactly the manifest's planted over- and under-replenishment.

Figures are printed and written to bench/results/accumulator.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import planted_replenishment, replenishment_found  # bench/ is on sys.path

from rxxl.accumulator import accumulate, physical_locations, replenishment
from rxxl.audit340b import audit_claims
from rxxl.data import load_reference, load_table
from rxxl.data.synthetic import generate

RESULTS = Path(__file__).parent / "results" / "accumulator.md"


def timed(repeat: int, function, *args) -> tuple[list[float], object]:
    seconds, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        seconds.append(time.perf_counter() - start)
    return seconds, result


def opening(balances: pd.DataFrame, month: str) -> pd.DataFrame | None:
    """The accumulator_balances rows of the month before ``month`` (None before the first)."""
    before = balances[balances["month"].dt.to_period("M") == pd.Period(month, "M") - 1]
    return before if len(before) else None


def planted(folder: Path) -> set[tuple]:
    return planted_replenishment(json.loads((folder / "manifest.json").read_text()))


def small_sample(repeat: int) -> tuple[list[tuple[str, int, float, float, int]], set, set]:
    rows, findings = [], set()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sample"
        generate(folder, size="small")
        reference = load_reference(folder)
        drugs = load_table(folder / "drugs.csv", "drugs")
        purchases = load_table(folder / "drug_purchases.csv", "drug_purchases")
        balances = load_table(folder / "accumulator_balances.csv", "accumulator_balances")
        physical = physical_locations(load_table(folder / "locations.csv", "locations"))
        for part in sorted((folder / "claims").iterdir()):
            claims = load_table(part, "claims")
            audit = audit_claims(claims, reference)
            acc_s, result = timed(repeat, lambda c=claims, a=audit, p=part: accumulate(
                c, drugs, a, reference["entity"], opening=opening(balances, p.stem)))
            rep_s, checked = timed(repeat, lambda r=result: replenishment(
                r, purchases, physical=physical))
            findings |= replenishment_found(checked)
            rows.append((part.stem, len(claims), min(acc_s), min(rep_s),
                         int(checked["finding"].notna().sum())))
        return rows, findings, planted(folder)


def large_month(folder: Path, repeat: int) -> tuple:
    reference = load_reference(folder)
    drugs = load_table(folder / "drugs.csv", "drugs")
    purchases = load_table(folder / "drug_purchases.csv", "drug_purchases")
    balances = load_table(folder / "accumulator_balances.csv", "accumulator_balances")
    latest = sorted((folder / "claims").iterdir())[-1]
    claims = load_table(latest, "claims")
    audit = audit_claims(claims, reference)
    start = opening(balances, latest.stem)
    physical = physical_locations(load_table(folder / "locations.csv", "locations"))
    acc_s, result = timed(repeat, lambda: accumulate(claims, drugs, audit, reference["entity"],
                                                     opening=start))
    rep_s, checked = timed(repeat, lambda: replenishment(result, purchases,
                                                         physical=physical))
    return (latest.stem, len(claims), acc_s, rep_s, len(checked), replenishment_found(checked),
            planted(folder), 0 if start is None else len(start))


def made_up_month(n: int, seed: int = 17) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(seed)
    ndcs = np.array([f"{i:011d}" for i in range(10_000_000, 10_000_400)])
    locations = np.array([f"LOC-{i:02d}" for i in range(25)])
    drug = rng.integers(0, len(ndcs), n)
    day = rng.integers(0, 30, n)
    account = rng.choice(np.array(["340B", "GPO", "WAC"]), n, p=[0.6, 0.3, 0.1])
    medical = rng.random(n) < 0.4
    denied = rng.random(n) < 0.05
    claims = pd.DataFrame({
        "claim_id": pd.array([f"C{i:09d}" for i in range(n)], dtype="string[pyarrow]"),
        "service_date": np.datetime64("2026-09-01") + day.astype("timedelta64[D]"),
        "ndc": pd.array(ndcs[drug], dtype="string[pyarrow]"),
        "quantity": rng.integers(1, 60, n).astype(float),
        "site_id": pd.array(locations[rng.integers(0, len(locations), n)],
                            dtype="string[pyarrow]"),
        "account": pd.Categorical(account, categories=["340B", "GPO", "WAC"]),
        "claim_type": pd.Categorical(np.where(medical, "medical", "pharmacy")),
        "status": pd.Categorical(np.where(denied, "denied", "paid")),
        "unit_cost_340b": np.round(rng.uniform(0.1, 40, len(ndcs))[drug], 4),
        "unit_cost_wac": np.round(rng.uniform(40, 120, len(ndcs))[drug], 4),
    })
    # 1% rebills: a later claim names an earlier one of the same month it replaces.
    rebills = rng.choice(n, n // 100, replace=False)
    original = np.full(n, None, dtype=object)
    original[rebills] = claims["claim_id"].to_numpy()[(rebills + 1) % n]
    claims["original_claim_id"] = pd.array(original, dtype="string[pyarrow]")
    verdict = rng.random(n)
    reasons = np.select([verdict < 0.04, verdict < 0.07, verdict < 0.10],
                        ["PRESCRIBER_NOT_ELIGIBLE", "SITE_NOT_REGISTERED", "INPATIENT"], "")
    audit = pd.DataFrame({
        "entity_id": pd.array(np.where(rng.random(n) < 0.5, "DSH1", "CAH1"),
                              dtype="string[pyarrow]"),
        "status": np.where(reasons == "", "compliant", "violation"),
        "reasons": reasons,
    })
    entity = pd.DataFrame({"entity_id": ["DSH1", "CAH1"], "entity_type": ["DSH", "CAH"]})
    drugs = pd.DataFrame({"ndc": ndcs, "package_size": rng.choice([1.0, 10, 25, 30, 100],
                                                                  len(ndcs))})
    keys = pd.MultiIndex.from_product([ndcs, locations, ["340B", "GPO", "WAC"]],
                                      names=["ndc", "location", "account"]).to_frame(index=False)
    purchases = keys.assign(month=pd.Timestamp("2026-09-01"),
                            quantity=rng.integers(0, 20, len(keys)).astype(float),
                            unit_cost_actual=np.round(rng.uniform(5, 900, len(keys)), 2))
    return claims, audit, entity, drugs, purchases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--large", type=Path, help="a large sample's folder")
    args = parser.parse_args()

    large = large_month(args.large, args.repeat) if args.large else None

    small, small_found, small_planted = small_sample(args.repeat)
    claims, audit, entity, drugs, purchases = made_up_month(args.claims)
    acc_s, result = timed(args.repeat, accumulate, claims, drugs, audit, entity)
    rep_s, checked = timed(args.repeat, replenishment, result, purchases)

    replaced = claims["claim_id"].isin(claims["original_claim_id"].dropna())
    counts = (claims["status"] == "paid") | (claims["claim_type"] == "medical")
    expected = claims.loc[counts & ~replaced, "quantity"].sum()
    failures = []
    if not np.isclose(result["units"].sum(), expected):
        failures.append(f"units {result['units'].sum():,.0f} != expected {expected:,.0f}")
    if (result["units_carried"] < 0).any():
        failures.append("a negative balance carried in a month without earlier reversals")
    if small_found != small_planted:
        failures.append(f"small sample: found {sorted(small_found)}, planted "
                        f"{sorted(small_planted)}")
    if large is not None and large[5] != large[6]:
        failures.append(f"large sample: {len(large[5])} findings, planted {sorted(large[6])}")

    lines = [
        "# Benchmark: the 340B split-billing accumulator",
        "",
        f"Measured {dt.date.today().isoformat()} by `python bench/bench_accumulator.py "
        f"--repeat {args.repeat} --claims {args.claims}"
        f"{' --large ' + str(args.large) if args.large else ''}` on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}, pandas "
        f"{pd.__version__}); a shared machine, so the best of {args.repeat} runs is the "
        "figure, the median beside it.",
        "",
        f"## One month of {args.claims:,} made-up claims",
        "",
        "| step | best s | median s | rows out |",
        "|---|---:|---:|---:|",
        f"| accumulate | {min(acc_s):.2f} | {statistics.median(acc_s):.2f} | {len(result):,} |",
        f"| replenishment ({len(purchases):,} purchase rows) | {min(rep_s):.2f} | "
        f"{statistics.median(rep_s):.2f} | {len(checked):,} |",
        "",
        "Checks: units accumulated equal the counted claims' units; no negative balance; on the "
        "samples, the findings are exactly the planted over- and under-replenishment "
        "(manifest P21, P22: NDC, location, month, finding and packages), no false alarm: "
        + ("passed." if not failures else "FAILED: " + "; ".join(failures)),
        "",
        *([] if large is None else [
            f"## The large sample's latest month ({large[0]}, {large[1]:,} claims)",
            "",
            "| step | best s | median s |",
            "|---|---:|---:|",
            f"| accumulate | {min(large[2]):.2f} | {statistics.median(large[2]):.2f} |",
            f"| replenishment ({large[4]:,} rows out) | {min(large[3]):.2f} | "
            f"{statistics.median(large[3]):.2f} |",
            "",
            f"Opened with the {large[7]:,} accumulator_balances lines of the month before. "
            f"Findings: {len(large[5])} ("
            + "; ".join(f"{f} {ndc} at {loc}, {p:g} packages" for _, ndc, loc, f, p
                        in sorted(large[5])) + f"); planted: {len(large[6])}.",
            "",
            "Loading the month and its 340B audit are not timed here (bench_load.py, "
            "bench_audit340b.py).",
            "",
        ]),
        "## The small synthetic sample, month by month",
        "",
        "Each month opened with the accumulator_balances of the month before.",
        "",
        "| month | claims | accumulate s | replenishment s | findings |",
        "|---|---:|---:|---:|---:|",
        *[f"| {m} | {n:,} | {a:.3f} | {r:.3f} | {k} |" for m, n, a, r, k in small],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

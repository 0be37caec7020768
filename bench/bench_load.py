"""Benchmark: load and validate a million claims from Parquet.

Builds a 1,000,000-row claims file of valid values (vectorized, seeded: ids repeat as they do
in real data: thousands of NDCs, a couple of thousand prescribers, tens of sites), then times
``rxxl.data.load_table`` over a few repeats in a fresh process, so that the peak memory
figure is the load's own and not the generator's.

    python bench/bench_load.py                 # 1,000,000 rows, 3 repeats, temp dir
    python bench/bench_load.py --rows 200000 --repeats 5 --keep out/   # keep the file
    python bench/bench_load.py --text          # every column written as text (as from CSV)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from _memory import peak_rss_mb  # bench/ is on sys.path when run as a script


def _npis(rng: np.random.Generator, n: int) -> np.ndarray:
    from rxxl.data import npi_check_digit

    bodies = (100_000_000 + rng.choice(900_000_000, size=n, replace=False)).astype(str)
    return np.array([body + npi_check_digit(body) for body in bodies])


def _codes(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "")


def build_claims(rows: int, seed: int = 340) -> pa.Table:
    """A claims table of ``rows`` valid rows, typed as a pharmacy system would export it."""
    rng = np.random.default_rng(seed)
    pick = rng.integers

    def choose(values, n=rows, p=None):
        values = np.asarray(values, dtype=object)
        return pa.array(values[rng.choice(len(values), size=n, p=p)], pa.string())

    ndcs = np.array([f"{lab:05d}{prod:04d}{pkg:02d}" for lab, prod, pkg in zip(
        pick(1, 99999, 3000), pick(0, 9999, 3000), pick(0, 99, 3000), strict=True)])
    ndc_index = pick(0, len(ndcs), rows)
    prescribers, billers = _npis(rng, 2000), _npis(rng, 20)
    denied = rng.random(rows) < 0.1
    pharmacy = rng.random(rows) < 0.6
    quantity = np.round(rng.gamma(2.0, 15.0, rows), 2)
    wac = np.round(rng.gamma(2.0, 20.0, rows), 4)
    blank = np.array("", dtype=object)
    states = np.array(["NY", "NJ", "CT", "PA", "MA", ""], dtype=object)
    return pa.table({
        "claim_id": _codes("C", np.arange(rows), 8),
        "service_date": pa.array(np.datetime64("2025-01-01") + pick(0, 730, rows),
                                 pa.date32()),
        "ndc": pa.array(ndcs[ndc_index]),
        "drug_name": pa.array(np.char.add("Drug ", ndc_index.astype(str)).astype(object)),
        "quantity": quantity,
        "patient_id": _codes("MRN", pick(0, 200_000, rows), 8),
        "prescriber_npi": choose(prescribers),
        "site_id": _codes("S", pick(0, 40, rows), 3),
        "patient_status": choose(["outpatient", "inpatient", "observation"], p=[.8, .15, .05]),
        "payer": _codes("Payer ", pick(0, 50, rows), 2),
        "payer_type": choose(["medicaid_ffs", "medicaid_mco", "medicare_b", "medicare_d",
                              "commercial", "self_pay", "other"]),
        "payer_state": pa.array(states[pick(0, len(states), rows)], pa.string()),
        "billing_npi": choose(billers),
        "account": choose(["340B", "GPO", "WAC"]),
        "modifiers": choose(["", "JG", "TB", "JG;JW"]),
        "claim_type": pa.array(np.where(pharmacy, "pharmacy", "medical").astype(object)),
        "status": pa.array(np.where(denied, "denied", "paid").astype(object)),
        "reject_code": pa.array(np.where(denied & pharmacy, "75", blank).astype(object)),
        "carc_code": pa.array(np.where(denied & ~pharmacy, "CO-197", blank).astype(object)),
        "billed_amount": np.round(quantity * wac * 1.4, 2),
        "paid_amount": np.where(denied, 0.0, np.round(quantity * wac * 1.1, 2)),
        "unit_cost_340b": np.round(wac * 0.5, 4),
        "unit_cost_wac": wac,
        "days_supply": pa.array(np.where(pharmacy, pick(1, 91, rows), 0), pa.int64()),
        "submission_clarification_code": choose(["", "", "", "20"]),
        "original_claim_id": pa.array(np.full(rows, "", dtype=object), pa.string()),
        "entity_id": choose(["DSH390001", "DSH390002", "CAN390003"]),
    })


def _as_text(table: pa.Table) -> pa.Table:
    return pa.table({name: pc.cast(col, pa.string()) for name, col in
                     zip(table.column_names, table.columns, strict=True)})


def time_load(path: str, repeats: int) -> dict:
    """Run in a fresh process: times of ``load_table`` and the process's peak memory."""
    import pyarrow as pa

    from rxxl.data import load_table

    baseline = peak_rss_mb()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        frame = load_table(path, "claims")
        times.append(time.perf_counter() - start)
        rows = len(frame)
        del frame
    return {"times": times, "rows": rows, "peak_rss_mb": peak_rss_mb(),
            "baseline_rss_mb": baseline,
            "arrow_pool_peak_mb": pa.default_memory_pool().max_memory() / 2**20}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="write the file here and keep it")
    parser.add_argument("--text", action="store_true", help="write every column as text")
    parser.add_argument("--time-only", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.time_only:
        print(json.dumps(time_load(args.time_only, args.repeats)))
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"claims_{args.rows}{'_text' if args.text else ''}.parquet"
        start = time.perf_counter()
        table = build_claims(args.rows)
        pq.write_table(_as_text(table) if args.text else table, path)
        del table
        built = time.perf_counter() - start
        size = path.stat().st_size / 2**20
        print(f"built {args.rows:,} claims in {built:.1f} s: {path.name}, {size:.0f} MiB")
        result = subprocess.run(
            [sys.executable, __file__, "--time-only", str(path), "--repeats",
             str(args.repeats)], check=True, capture_output=True, text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    times = figures["times"]
    print(f"load_table(claims, {figures['rows']:,} rows) over {len(times)} repeats:"
          f" best {min(times):.2f} s, median {statistics.median(times):.2f} s")
    print(f"peak memory: {figures['peak_rss_mb']:.0f} MiB resident"
          f" ({figures['baseline_rss_mb']:.0f} MiB after imports);"
          f" Arrow pool peak {figures['arrow_pool_peak_mb']:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the HRSA audit pack (``rxxl audit-pack``) on the large sample, against the bare
340B audit of the same months, with the planted problems as the check.

What is timed
-------------
For each period (default: the latest month, and the latest three months):

*pack*: ``rxxl.reports.audit_pack.build_audit_pack`` end to end -- claims streamed by month,
each audited, the universe written, registry, accumulator (opened with the month before's
``accumulator_balances``), tracers, exposure and savings, the workbook and CSVs -- in a fresh
process, so its peak memory (VmHWM) is its own.

*baseline*: the same months' claims loaded and audited (``load_table`` and
``audit340b.audit_claims``, month by month, the reference tables once), in a fresh process:
the floor the pack's own work sits on.

Checks (exit status 1 when one fails), each against the sample's ``manifest.json``:

- findings by reason are exactly the planted claims of the period, reason by reason;
- the universe's non-compliant claims are planted claims;
- the replenishment findings are exactly the planted over- and under-replenishment of the
  period (P21, P22 in the latest month): NDC, location, month, finding and packages.

    rxxl sample --size large --out /tmp/large            # once, about a minute
    python bench/bench_audit_pack.py                       # /tmp/large
    python bench/bench_audit_pack.py --sample DIR --period 2026-05:2026-10

Figures are printed and written to bench/results/audit_pack.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from _common import planted_replenishment, replenishment_found  # bench/ is on sys.path

RESULTS = Path(__file__).parent / "results" / "audit_pack.md"
BENCH = Path(__file__).parent

PACK = """
import sys, time, json
sys.path.insert(0, {bench!r})
from _memory import peak_rss_mb
from rxxl.reports.audit_pack import build_audit_pack
start = time.perf_counter()
summary = build_audit_pack({sample!r}, {first!r}, {last!r}, {out!r})
print(json.dumps({{"seconds": time.perf_counter() - start, "peak_mb": peak_rss_mb(),
                  "path": str(summary.path), "line": summary.line}}))
"""

BASELINE = """
import sys, time, json
from pathlib import Path
sys.path.insert(0, {bench!r})
from _memory import peak_rss_mb
from rxxl.audit340b import audit_claims
from rxxl.data import load_reference, load_table
start = time.perf_counter()
reference = load_reference({sample!r})
claims = 0
for month in {months!r}:
    part = load_table(Path({sample!r}) / "claims" / f"{{month}}.parquet", "claims")
    audit_claims(part, reference)
    claims += len(part)
    del part
print(json.dumps({{"seconds": time.perf_counter() - start, "peak_mb": peak_rss_mb(),
                  "claims": claims}}))
"""


def child(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    if done.returncode:
        raise SystemExit(f"the child run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def planted_claims(manifest: dict, months: set[str]) -> tuple[dict[str, int], set[str]]:
    """Planted claims of the months, counted by expected reason, and their ids."""
    counts: dict[str, int] = {}
    ids: set[str] = set()
    for problem in manifest["planted"]:
        inside = [i for i in problem.get("identifiers", {}).get("claim_ids", [])
                  if f"20{i[1:3]}-{i[3:5]}" in months]
        if inside:
            counts[problem["expected"]] = counts.get(problem["expected"], 0) + len(inside)
            ids.update(inside)
    return counts, ids


def check(pack: Path, manifest: dict, months: set[str]) -> list[str]:
    failures = []
    counts, ids = planted_claims(manifest, months)
    findings = pd.read_csv(pack / "findings_by_reason.csv").set_index("reason")["claims"]
    found = {reason: int(n) for reason, n in findings.items() if n > 0}
    if found != counts:
        failures.append(f"findings by reason {found} != planted {counts}")
    universe = pd.read_csv(pack / "claim_universe.csv", usecols=["claim_id", "audit_status"],
                           dtype=str)
    flagged = set(universe.loc[universe["audit_status"] != "compliant", "claim_id"])
    if not flagged <= ids:
        failures.append(f"{len(flagged - ids)} non-compliant universe claims not planted")
    replenished = pd.read_csv(pack / "replenishment.csv", dtype={"ndc": str})
    got = replenishment_found(replenished)
    want = planted_replenishment(manifest, months)
    if got != want:
        failures.append(f"replenishment findings {sorted(got)} != planted {sorted(want)}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("/tmp/large"))
    parser.add_argument("--period", action="append",
                        help="FROM:TO months (repeatable; default the latest 1 and 3)")
    args = parser.parse_args()
    manifest = json.loads((args.sample / "manifest.json").read_text())
    latest = pd.Period(manifest["months"][-1], "M")
    periods = [tuple(p.split(":")) for p in args.period] if args.period else [
        (str(latest), str(latest)), (str(latest - 2), str(latest))]

    rows, failures = [], []
    for first, last in periods:
        months = [str(m) for m in pd.period_range(first, last, freq="M")]
        with tempfile.TemporaryDirectory() as out:
            pack = child(PACK.format(bench=str(BENCH), sample=str(args.sample), first=first,
                                     last=last, out=out))
            problems = check(Path(pack["path"]), manifest, set(months))
        base = child(BASELINE.format(bench=str(BENCH), sample=str(args.sample),
                                     months=months))
        failures += [f"{first} to {last}: {p}" for p in problems]
        rows.append((first, last, base["claims"], pack, base, problems))
        print(f"{first} to {last}: pack {pack['seconds']:.1f} s / {pack['peak_mb']:,.0f} MB, "
              f"audit alone {base['seconds']:.1f} s / {base['peak_mb']:,.0f} MB; "
              + ("checks passed" if not problems else "; ".join(problems)), flush=True)

    lines = [
        "# Benchmark: the HRSA audit pack",
        "",
        f"Measured {dt.date.today().isoformat()} by `python bench/bench_audit_pack.py"
        f" --sample {args.sample}` on {os.cpu_count()} cores ({platform.machine()}, Python "
        f"{platform.python_version()}, pandas {pd.__version__}), one fresh process per run;"
        f" the large sample (seed {manifest['seed']}, {manifest['row_counts']['claims']:,}"
        f" claims, 24 months to {manifest['months'][-1]}).",
        "",
        "| period | claims | pack s | pack peak MB | audit alone s | audit alone peak MB |"
        " pack / audit |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *[f"| {a} to {b} | {n:,} | {p['seconds']:.1f} | {p['peak_mb']:,.0f} |"
          f" {q['seconds']:.1f} | {q['peak_mb']:,.0f} | {p['seconds'] / q['seconds']:.2f} |"
          for a, b, n, p, q, _ in rows],
        "",
        "*Audit alone*: the months' claims loaded and audited, nothing else (the pack's floor).",
        "",
        "Checks against the manifest (findings by reason = the planted claims of the period; "
        "no non-compliant universe claim that was not planted; replenishment findings = the "
        "planted P21 and P22 of the period, opened with the month before's balances): "
        + ("passed." if not failures else "FAILED: " + "; ".join(failures)),
        "",
        *[f"- {a} to {b}: {p['line']}" for a, b, _, p, _, _ in rows],
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

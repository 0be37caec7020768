"""Benchmark: the 340B claim detail workbook against XlsxWriter writing the same cells.

What is compared
----------------
*rxxl*: ``rxxl.reports.detail.write_claim_detail(claims, audit, path, month,
all_claims=True)`` on one month of the large sample: every claim, so the month's largest
detail sheet, end to end (choosing the rows, masking patients, converting the columns,
formats, table, print setup, writing, zipping and renaming into place).

*XlsxWriter*: plain ``xlsxwriter.Workbook(path, {"constant_memory": True, ...})`` writing the
same cells with ``write_row`` under a bold header row, nothing else: the time XlsxWriter
itself needs for those cells. Its cell values are prepared beforehand by independent pandas
code and are not timed; its header sits on the same row as rxxl's so that the data rows
have the same cell references. Both use the same string options (no string becomes a
formula, number or link), so the cells are the same.

Claims and reference are loaded and audited first in each run (not timed). Each run is a
fresh process, so that its memory is its own; runs alternate between the two writers so
that anything else on the machine weighs on both alike. Peak memory is the resident
high-water mark while writing (reset after loading, where Linux allows it) and, apart, the
peak of loading and auditing. After the first runs the two files' data rows are compared
cell for cell (the sheet XML without style indices, hashed); a difference fails the run.

Target (issue 6): the detail sheet in at most 1.5 times XlsxWriter's time, on medians.

    rxxl sample --size large --out /tmp/large       # once
    python bench/bench_report_writer.py             # /tmp/large, latest month, 3 repeats
    python bench/bench_report_writer.py --sample DIR --month 2026-10 --repeat 5

Figures go to bench/results/report_writer.json as well; the exit status is 1 when the files
differ or the target is missed.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from _common import (  # bench/ is on sys.path
    claims_month_file,
    comparison_parser,
    describe_machine,
    run_child,
    stats,
)
from _memory import peak_rss_mb

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "report_writer.json"
WRITERS = ("rxxl", "xlsxwriter")
TARGET_RATIO = 1.5
_STYLE_INDEX = re.compile(rb' s="\d+"')


def _reset_peak() -> bool:
    """Restart this process's resident high-water mark (Linux), so that the next peak is
    that of what follows; False where the system does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- one run of one writer, in a fresh process -------------------------------------------------


def _load(claims: Path, sample: Path):
    from rxxl.audit340b import audit_claims
    from rxxl.data import load_claims_and_reference

    frame, reference = load_claims_and_reference(claims, sample)
    audit = audit_claims(frame, reference)
    del reference
    gc.collect()
    return frame, audit


def run_rxxl(claims: Path, sample: Path, out: Path) -> dict:
    """``write_claim_detail`` of every claim; also of the findings only (the package's)."""
    from rxxl.reports.detail import write_claim_detail

    frame, audit = _load(claims, sample)
    month = claims.stem
    figures = {"load_peak_mb": peak_rss_mb(), "rss_before_mb": _rss_mb(),
               "peak_reset": _reset_peak()}
    start = time.perf_counter()
    summary = write_claim_detail(frame, audit, out, month, all_claims=True)
    figures["write_s"] = time.perf_counter() - start
    figures["write_peak_mb"] = peak_rss_mb()
    findings = write_claim_detail(frame, audit, out.with_name("findings.xlsx"), month)
    figures.update({
        "rows": summary.rows, "columns": 19, "sheets": len(summary.sheets),
        "file_mb": out.stat().st_size / 2**20,
        "findings_rows": findings.rows, "findings_write_s": findings.seconds,
    })
    return figures


def baseline_columns(frame, audit) -> tuple[list[str], list[list]]:
    """The detail sheet's header and cell values, one list per column, by plain pandas."""
    import numpy as np
    import pandas as pd

    from rxxl.reports.detail import NOT_CHECKED, REASON_TEXT, _columns

    def text(series):
        return series.astype("string").to_numpy(dtype=object, na_value=None).tolist()

    def number(series):
        return [None if np.isnan(v) else v for v in series.to_numpy(dtype=float).tolist()]

    patients = pd.factorize(frame["patient_id"])[0]
    reasons = audit["reasons"].astype("string")
    meaning = reasons.map(lambda codes: "; ".join(REASON_TEXT[c] for c in codes.split(";"))
                          if codes else None)
    finding = audit["status"].astype("string").where(audit["checked"], NOT_CHECKED)
    serial = (frame["service_date"] - pd.Timestamp("1899-12-30")).dt.days.astype(float)
    modifiers = frame["modifiers"] if "modifiers" in frame else pd.Series(pd.NA, frame.index)
    values = [
        text(frame["claim_id"]), number(serial), text(audit["entity_id"]),
        text(frame["site_id"]), [f"PT-{code + 1:06d}" for code in patients.tolist()],
        text(frame["prescriber_npi"]), text(frame["billing_npi"]), text(frame["ndc"]),
        text(frame["drug_name"]), number(frame["quantity"]), text(frame["payer"]),
        text(frame["payer_type"]), text(frame["account"]), text(frame["patient_status"]),
        text(modifiers), text(finding), text(reasons.replace("", None)),
        text(meaning), number(audit["dollars_at_risk"]),
    ]
    return [column.header for column in _columns(mask_patients=True)], values


def run_xlsxwriter(claims: Path, sample: Path, out: Path) -> dict:
    """Plain XlsxWriter constant_memory writing the same cells under a bold header."""
    import xlsxwriter

    from rxxl.reports.detail import HEADER_ROW

    frame, audit = _load(claims, sample)
    headers, values = baseline_columns(frame, audit)
    rows = len(frame)
    del frame, audit
    gc.collect()
    figures = {"load_peak_mb": peak_rss_mb(), "rss_before_mb": _rss_mb(),
               "peak_reset": _reset_peak()}
    start = time.perf_counter()
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True,
                                          "strings_to_formulas": False,
                                          "strings_to_numbers": False,
                                          "strings_to_urls": False})
    sheet = book.add_worksheet()
    sheet.write_row(HEADER_ROW, 0, headers, book.add_format({"bold": True}))
    for row, cells in enumerate(zip(*values, strict=True), start=HEADER_ROW + 1):
        sheet.write_row(row, 0, cells)
    book.close()
    figures["write_s"] = time.perf_counter() - start
    figures["write_peak_mb"] = peak_rss_mb()
    figures.update({"rows": rows, "columns": len(headers), "sheets": 1,
                    "file_mb": out.stat().st_size / 2**20})
    return figures


# --- checks -----------------------------------------------------------------------------------


def data_digest(workbook: Path, first_row: int) -> dict:
    """SHA-256 of the first sheet's rows from ``first_row`` (1-based) on, style indices
    removed, and the number of rows hashed: equal digests mean the same cells with the same
    values and types."""
    digest = hashlib.sha256()
    started, tail, rows = False, b"", 0
    with zipfile.ZipFile(workbook) as archive, archive.open("xl/worksheets/sheet1.xml") as xml:
        while chunk := xml.read(1 << 24):
            text = tail + chunk
            cut = text.rfind(b"</row>")
            if cut < 0:
                tail = text
                continue
            cut += len(b"</row>")
            body, tail = text[:cut], text[cut:]
            if not started:
                at = body.find(b'<row r="%d"' % first_row)
                if at < 0:
                    continue
                body, started = body[at:], True
            digest.update(_STYLE_INDEX.sub(b"", body))
            rows += body.count(b"<row ")
    return {"sha256": digest.hexdigest(), "rows": rows}


# --- the report -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = comparison_parser(__doc__.splitlines()[0], WRITERS, "writer")
    args = parser.parse_args(argv)

    if args.child:
        run = run_rxxl if args.child == "rxxl" else run_xlsxwriter
        print(json.dumps(run(args.claims, args.sample, args.out)))
        return 0

    claims = claims_month_file(args.sample, args.month)
    if args.repeat < 1:
        sys.exit("--repeat: 1 or more")
    machine = describe_machine(args.date, "xlsxwriter")

    from rxxl.reports.detail import HEADER_ROW

    runs: dict[str, list[dict]] = {writer: [] for writer in WRITERS}
    with tempfile.TemporaryDirectory() as scratch:
        for i in range(args.repeat):
            for writer in WRITERS:
                out = Path(scratch) / writer / f"{claims.stem}.xlsx"
                out.parent.mkdir(exist_ok=True)
                figures = run_child(__file__, writer, claims, args.sample, out)
                runs[writer].append(figures)
                print(f"run {i + 1}/{args.repeat} {writer:10}: {figures['write_s']:.1f} s,"
                      f" peak while writing {figures['write_peak_mb']:,.0f} MB,"
                      f" file {figures['file_mb']:,.0f} MB", flush=True)
            if i == 0:
                digests = {writer: data_digest(Path(scratch) / writer / f"{claims.stem}.xlsx",
                                               HEADER_ROW + 2) for writer in WRITERS}
    same_cells = (len({digest["sha256"] for digest in digests.values()}) == 1
                  and digests["rxxl"]["rows"] == runs["rxxl"][0]["rows"])

    summary = {writer: {"write_s": stats(runs[writer], "write_s"),
                        "write_peak_mb": max(run["write_peak_mb"] for run in runs[writer]),
                        "load_peak_mb": max(run["load_peak_mb"] for run in runs[writer])}
               for writer in WRITERS}
    ours, theirs = summary["rxxl"]["write_s"], summary["xlsxwriter"]["write_s"]
    ratio = {"best": ours["best"] / theirs["best"], "median": ours["median"] / theirs["median"]}
    targets = {"ratio_rxxl_to_xlsxwriter": [ratio["median"], TARGET_RATIO,
                                            ratio["median"] <= TARGET_RATIO],
               "same_cells": [same_cells, True, same_cells]}
    first = runs["rxxl"][0]
    findings = stats(runs["rxxl"], "findings_write_s")

    print(f"\nclaim detail of {claims}: {first['rows']:,} rows x {first['columns']} columns"
          f" ({first['rows'] * first['columns']:,} cells), {args.repeat} run(s) per writer,"
          f" {machine['cores']} cores, XlsxWriter {machine['xlsxwriter']}")
    header = f"{'writer':11} {'best s':>8} {'median s':>9} {'peak MB writing':>16} {'file MB':>8}"
    print(header)
    print("-" * len(header))
    for writer in WRITERS:
        row = summary[writer]
        print(f"{writer:11} {row['write_s']['best']:>8.1f} {row['write_s']['median']:>9.1f}"
              f" {row['write_peak_mb']:>16,.0f} {runs[writer][0]['file_mb']:>8,.0f}")
    print(f"ratio rxxl / XlsxWriter: {ratio['best']:.2f} (best) / {ratio['median']:.2f}"
          f" (median)")
    print(f"same cells in both files: {'yes' if same_cells else 'NO'}")
    print(f"findings only (the package's detail): {first['findings_rows']:,} rows in"
          f" {findings['median']:.2f} s (median)")
    print(f"peak of loading and auditing (not timed): {summary['rxxl']['load_peak_mb']:,.0f} MB")
    print(f"  {'PASS' if targets['ratio_rxxl_to_xlsxwriter'][2] else 'FAIL'}  rxxl / XlsxWriter"
          f" (median): {ratio['median']:.2f} x (target <= {TARGET_RATIO} x)")
    print(f"  {'PASS' if same_cells else 'FAIL'}  same cells")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "report_writer",
        "machine": machine,
        "sample": str(args.sample),
        "claims_file": str(claims),
        "rows": first["rows"],
        "columns": first["columns"],
        "repeat": args.repeat,
        "writers": summary,
        "findings_only": {"rows": first["findings_rows"], "write_s": findings},
        "runs": runs,
        "ratio_rxxl_to_xlsxwriter": ratio,
        "digests": digests,
        "targets": {key: {"value": value, "limit": limit, "pass": ok}
                    for key, (value, limit, ok) in targets.items()},
    }, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(BENCH.parent)}")
    return 0 if all(ok for _, _, ok in targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

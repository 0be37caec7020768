"""Benchmark: the large sample's monthly package, end to end (issue target: at most 60 s and
1.5 GB peak on this 2-core machine).

``rxxl.reports.monthly.build_report`` on the large synthetic health system: 24 claims parts
of about a million claims each are loaded and counted one at a time, the report month is
audited against 5.8M encounters, both workbooks are written.

    rxxl sample --size large --out /tmp/large       # about 50 s, once
    python bench/bench_report.py                    # /tmp/large, month 2026-10

Figures go to bench/results/report.json. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from _memory import peak_rss_mb  # bench/ is on sys.path when run as a script

from rxxl.reports.monthly import build_report

RESULTS = Path(__file__).resolve().parent / "results" / "report.json"
TARGET_SECONDS = 60.0
TARGET_PEAK_MB = 1536.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("/tmp/large"))
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--date", default=dt.date.today().isoformat())
    args = parser.parse_args()
    steps: list[tuple[float, str]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        summaries = build_report(args.sample, args.month, out, progress=lambda text: steps.append(
            (round(time.perf_counter() - started, 2), text)))
        seconds = time.perf_counter() - started
        sizes = {s.path.name: os.path.getsize(s.path) for s in summaries}
    peak = peak_rss_mb()
    for summary in summaries:
        print(summary.line)
    print(f"package built in {seconds:.1f} s (target {TARGET_SECONDS:.0f} s), peak "
          f"{peak:,.0f} MB (target {TARGET_PEAK_MB:,.0f} MB)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "date": args.date,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "month": args.month, "seconds": round(seconds, 1), "peak_mb": round(peak),
        "workbooks": sizes, "lines": [s.line for s in summaries],
        "steps": [f"{t:7.2f} s  {text}" for t, text in steps],
    }, indent=2) + "\n")
    return 0 if seconds <= TARGET_SECONDS and peak <= TARGET_PEAK_MB else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the synthetic health system generator (run by hand, not by pytest).

    python bench/bench_sample.py [--sizes small large] [--seed 20261123] [--keep DIR]

Each size is generated in a fresh child process, so its peak memory (the child's maximum
resident set size) is its own. Prints wall seconds, peak memory, the bytes written and
the row counts from the manifest. Targets on a 2-core machine: small in a few seconds;
large (about a million claims in the latest month) in about a minute, well under 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = f"""
import json, sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from _memory import peak_rss_mb
from rxxl.data.synthetic import generate
start = time.perf_counter()
manifest = generate(sys.argv[1], size=sys.argv[2], seed=int(sys.argv[3]))
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_mb": peak_rss_mb(),
                  "rows": manifest["row_counts"],
                  "latest_month_claims": manifest["claims_by_month"][manifest["months"][-1]]}}))
"""


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run(size: str, seed: int, where: Path) -> dict:
    out = where / f"sample-{size}"
    if out.exists():
        shutil.rmtree(out)
    done = subprocess.run([sys.executable, "-c", _CHILD, str(out), size, str(seed)],
                          check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["megabytes_written"] = _folder_bytes(out) / 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "large"])
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the samples here and keep them (default: a temporary "
                        "folder, removed afterwards)")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cores")
    where = args.keep or Path(tempfile.mkdtemp(prefix="rxxl-bench-"))
    where.mkdir(parents=True, exist_ok=True)
    try:
        for size in args.sizes:
            start = time.perf_counter()
            result = run(size, args.seed, where)
            wall = time.perf_counter() - start
            rows = result["rows"]
            print(f"\n{size}: {result['seconds']:.1f} s generating ({wall:.1f} s with "
                  f"interpreter start), peak memory {result['peak_mb']:,.0f} MB, "
                  f"{result['megabytes_written']:,.0f} MB written")
            print(f"  claims in the latest month: {result['latest_month_claims']:,}")
            for name, count in sorted(rows.items()):
                print(f"  {name:<22}{count:>14,}")
    finally:
        if args.keep is None:
            shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()

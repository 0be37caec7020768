"""Start-up cost of the RX_ functions: ``import rxxl.udfs`` beyond ``import xlwings``.

    python bench/bench_import.py [--repeat 10] [--baseline-src PATH]

Excel starts the UDF server, and restarts it on every "Reload", by importing the UDF
module; xlwings itself already brings numpy and pandas, so what rxxl adds is the import of
``rxxl.udfs`` after ``import xlwings``. Each measurement is a fresh Python process that
times ``import xlwings`` and then ``import rxxl.udfs`` with ``time.perf_counter`` (so the
interpreter's own start-up is not counted); the median of ``--repeat`` processes is kept.
``--baseline-src`` measures another checkout's ``src`` the same way, side by side (e.g. a
``git worktree`` of the commit before). Target: at most 0.2 s beyond ``import xlwings``.
Writes ``bench/results/import.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_SECONDS = 0.2
_PROBE = (
    "import time; t0 = time.perf_counter(); import xlwings; t1 = time.perf_counter();"
    " import rxxl.udfs; t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
)


def one_run(src: Path) -> tuple[float, float]:
    """Seconds for ``import xlwings`` and for ``import rxxl.udfs`` after it, in a new process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         env=env, check=True).stdout
    xlwings_seconds, rxxl_seconds = (float(v) for v in out.split())
    return xlwings_seconds, rxxl_seconds


def measure(src: Path, repeat: int) -> dict:
    """Median and range of both imports over ``repeat`` fresh processes."""
    runs = [one_run(src) for _ in range(repeat)]
    xlwings_times = [a for a, _ in runs]
    rxxl_times = [b for _, b in runs]
    return {
        "import_xlwings_median_s": round(statistics.median(xlwings_times), 3),
        "beyond_xlwings_median_s": round(statistics.median(rxxl_times), 3),
        "beyond_xlwings_min_s": round(min(rxxl_times), 3),
        "beyond_xlwings_max_s": round(max(rxxl_times), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "import.json")
    args = parser.parse_args()
    import xlwings

    record = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores,"
                   f" Python {platform.python_version()}",
        "xlwings": xlwings.__version__,
        "repeat": args.repeat,
        "target_beyond_xlwings_s": TARGET_SECONDS,
        "now": measure(HERE.parent / "src", args.repeat),
    }
    if args.baseline_src is not None:
        record["baseline"] = measure(args.baseline_src, args.repeat)
    record["meets_target"] = record["now"]["beyond_xlwings_median_s"] <= TARGET_SECONDS
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()

"""Installing and running the add-in on the PCs finance teams have (issue 16).

Start-up cost of the UDF module, the encoding of rxxl.conf, install checks under simulated
Windows layouts, the xlwings version floor and version drift between add-in and Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"


def _fresh_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- item 11: start-up -------------------------------------------------------------------


def test_importing_the_udf_module_does_not_import_scipy():
    # Excel starts the UDF server, and reloads it, by importing rxxl.udfs; scipy.optimize
    # alone costs about 0.25 s and is only needed when IRR's Newton search fails.
    loaded = json.loads(_fresh_python(
        "import sys, json, rxxl.udfs; print(json.dumps(sorted(sys.modules)))"))
    assert not [name for name in loaded if name == "scipy" or name.startswith("scipy.")]


def test_irr_still_falls_back_to_brent_after_the_lazy_import():
    # -100 + 230 / (1 + r) - 132 / (1 + r)^2 = 0 has roots 1 + r = 1.1 and 1.2
    # (-100 x 1.44 + 230 x 1.2 - 132 = -144 + 276 - 132 = 0). From the guess 5 (500%)
    # Newton does not land on either, so the bracketed search (scipy's brentq) runs and
    # finds the root nearer the guess, 20%.
    out = _fresh_python(
        "import sys; from rxxl import roi; "
        "print(roi.irr([-100.0, 230.0, -132.0], 5.0), 'scipy.optimize' in sys.modules)")
    rate, used_scipy = out.split()
    assert used_scipy == "True"
    assert float(rate) == pytest.approx(0.2, abs=1e-12)

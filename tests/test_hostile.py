"""Hostile inputs and faults against every command (issue 13): the CI subset of
``bench/hostile.py`` (its docstring says what is tried and how each outcome is judged).

Every case must end in a clear error or a good run: no traceback, no hang, no flood of
messages, no patient id in a message, no file lost and nothing left behind. The whole set
(about 300 cases) runs by hand; its figures are in bench/results/hostile.md and the README.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "bench" / "hostile.py"
_spec = importlib.util.spec_from_file_location("rxxl_bench_hostile", _PATH)
hostile = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = hostile
_spec.loader.exec_module(hostile)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> hostile.Sample:
    return hostile.make_sample(tmp_path_factory.mktemp("hostile"))


def test_quick_cases_are_all_cases(sample):
    names = {case.name for case in hostile.all_cases(sample)}
    assert set(hostile.QUICK) <= names
    assert len(names) == len(hostile.all_cases(sample)) > 250


def test_every_quick_case_ends_clearly(sample):
    cases = [c for c in hostile.all_cases(sample) if c.name in hostile.QUICK]
    outcomes = hostile.run(cases, sample, jobs=2, time_limit=90)
    defects = [f"{o.case}: {', '.join(o.verdicts)} {o.details} exit {o.exit_codes}"
               f" | {o.message}" for o in outcomes
               if any(v in hostile.DEFECTS for v in o.verdicts)]
    assert not defects, "\n".join(defects)


# The judge itself must be able to fail: planted defects, each seen.

def _judged(sample, case, before=None, after=None, codes=(2,), text="rxxl x: clear",
            hang=False):
    before = {"claims.csv": "a"} if before is None else before
    after = dict(before) if after is None else after
    return hostile._judge(case, sample, before, after, list(codes), [text], hang, 1.0)


def test_the_judge_sees_each_kind_of_defect(sample):
    case = hostile.Case("x", ["audit340b"], outputs=("out/audit.csv",))
    patient = sorted(sample.patient_ids)[0]
    assert _judged(sample, case).verdicts == ["clear error"]
    assert "PHI in messages" in _judged(sample, case, text=f"row 2: {patient} bad").verdicts
    assert "traceback" in _judged(sample, case, codes=(1,),
                                  text=hostile.TRACEBACK + "\nValueError").verdicts
    assert "hang" in _judged(sample, case, codes=(None,), hang=True).verdicts
    assert "flood" in _judged(sample, case, text="x\n" * 61).verdicts
    assert "unexpected" in _judged(sample, case, codes=(0,)).verdicts
    assert "data lost" in _judged(sample, case, after={}).verdicts
    # A declared output may change only when the run succeeds.
    changed = {"claims.csv": "a", "out/audit.csv": "b"}
    assert "data lost" in _judged(sample, case, before={**changed, "out/audit.csv": "c"},
                                  after=changed).verdicts
    ok = hostile.Case("y", ["audit340b"], outputs=("out/audit.csv",), error=False)
    assert _judged(sample, ok, before={**changed, "out/audit.csv": "c"}, after=changed,
                   codes=(0,)).verdicts == ["ok"]
    assert "left behind" in _judged(sample, case, after={"claims.csv": "a",
                                                         "reports/.rxxl-x/t": "d"}).verdicts

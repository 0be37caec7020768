"""Faults around the outputs: an output that is an input, kill -9 and SIGTERM during a run,
concurrent runs, a failed second rename, full disks, read-only files, folders as files and
Ctrl-C. In each case the earlier output survives, nothing half-written or temporary is left
behind (after the next run at the latest), no temporary file holds patient ids, and the
command prints one clear line (no traceback) with exit code 2, or 128 + the signal."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from rxxl.cli import main
from rxxl.data.synthetic import generate
from rxxl.reports.monthly import build_report, detail_name, package_name

MONTH = "2026-10"
PACKAGE = package_name(pd.Period(MONTH))
DETAIL = detail_name(pd.Period(MONTH))
SRC = Path(__file__).resolve().parents[1] / "src"
REFERENCE_FILES = ("entity.csv", "sites.csv", "prescribers.csv", "encounters.parquet",
                   "mef.csv", "orphan_drugs.csv")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faults") / "data"
    generate(folder, size="small")
    return folder


@pytest.fixture(scope="module")
def patient_ids(sample) -> set[str]:
    claims = pd.read_parquet(sample / "claims" / f"{MONTH}.parquet", columns=["patient_id"])
    return set(claims["patient_id"].astype(str))


@pytest.fixture(scope="module")
def earlier(sample, tmp_path_factory) -> dict[str, bytes]:
    """Both workbooks of an earlier (masked) run, by name."""
    out = tmp_path_factory.mktemp("earlier")
    build_report(sample, MONTH, out)
    return {p.name: p.read_bytes() for p in out.iterdir()}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _reference_copy(sample: Path, folder: Path) -> Path:
    folder.mkdir()
    for name in REFERENCE_FILES:
        shutil.copy(sample / name, folder / name)
    return folder


def _one_clean_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- No output may be an input ----------------------------------------------------------


def test_audit340b_refuses_to_write_over_its_claims_or_reference(sample, tmp_path, capsys):
    claims = tmp_path / "claims.csv"
    pd.read_parquet(sample / "claims" / f"{MONTH}.parquet").to_csv(claims, index=False)
    reference = _reference_copy(sample, tmp_path / "reference")
    before = _files(tmp_path)
    # A result named as a reference table (present, or its other format) is refused; one
    # beside them (audit.csv in the reference folder) would be allowed.
    for out in (claims, reference / "entity.csv", reference / "sites.parquet"):
        code = main(["audit340b", "--claims", str(claims), "--reference", str(reference),
                     "--out", str(out)])
        line = _one_clean_line(capsys.readouterr().err)
        assert code == 2 and str(out) in line and "input" in line, line
    # The same file by another spelling (a symlink, ./) is the same file.
    link = tmp_path / "link.csv"
    link.symlink_to(claims)
    for out in (link, tmp_path / "." / "claims.csv"):
        assert main(["audit340b", "--claims", str(claims), "--reference", str(reference),
                     "--out", str(out)]) == 2
        _one_clean_line(capsys.readouterr().err)
    link.unlink()
    assert _files(tmp_path) == before


def test_audit340b_and_denials_refuse_an_output_inside_a_folder_of_claims_parts(
        sample, tmp_path, capsys):
    parts = tmp_path / "claims"
    shutil.copytree(sample / "claims", parts)
    before = _files(tmp_path)
    # The next run would read the result as a part of the claims.
    assert main(["audit340b", "--claims", str(parts), "--reference", str(sample),
                 "--out", str(parts / "audit.csv")]) == 2
    assert "claims" in _one_clean_line(capsys.readouterr().err)
    assert main(["denials", "--claims", str(parts), "--out", str(parts / "x.csv")]) == 2
    _one_clean_line(capsys.readouterr().err)
    part = parts / f"{MONTH}.parquet"
    pd.read_parquet(part).to_csv(tmp_path / "one.csv", index=False)
    before = _files(tmp_path)
    assert main(["denials", "--claims", str(tmp_path / "one.csv"), "--out",
                 str(tmp_path / "one.csv")]) == 2
    _one_clean_line(capsys.readouterr().err)
    assert _files(tmp_path) == before


def test_report_refuses_an_output_folder_that_is_an_input(sample, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    templates = tmp_path / "templates"
    assert main(["templates", "build", "--out", str(templates)]) == 0
    capsys.readouterr()
    before = _files(tmp_path)
    for out, templates_option in ((data, []), (data / "claims", []),
                                  (templates, ["--templates", str(templates)])):
        code = main(["report", "--data", str(data), "--month", MONTH, "--out", str(out),
                     *templates_option])
        line = _one_clean_line(capsys.readouterr().err)
        assert code == 2 and str(out) in line, line
    assert _files(tmp_path) == before


def test_sample_never_removes_a_users_file_in_an_earlier_sample(tmp_path, capsys):
    folder = tmp_path / "sample"
    generate(folder, size="small", seed=1)
    (folder / "my notes.txt").write_text("keep me")
    (folder / "claims" / "my extract.csv").write_text("keep me too")
    generate(folder, size="small", seed=2)
    assert json.loads((folder / "manifest.json").read_text())["seed"] == 2
    assert (folder / "my notes.txt").read_text() == "keep me"
    assert (folder / "claims" / "my extract.csv").read_text() == "keep me too"
    # A file of the sample's own (listed in its manifest) is replaced; a month that the new
    # sample does not have is its own file too, and goes.
    generate(folder, size="small", seed=2, end_month="2026-09")
    assert not (folder / "claims" / "2026-10.parquet").exists()
    assert (folder / "claims" / "2024-10.parquet").exists()
    assert (folder / "my notes.txt").exists() and (folder / "claims" / "my extract.csv").exists()
    # A user's file where the new sample would write is refused, not overwritten.
    (folder / "claims" / "2026-10.parquet").write_text("a user's own file")
    before = _files(folder)
    assert main(["sample", "--out", str(folder), "--seed", "3"]) == 2
    line = _one_clean_line(capsys.readouterr().err)
    assert "2026-10.parquet" in line
    assert _files(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"]  # no temporary folder


# --- Kill -9, SIGTERM, Ctrl-C and concurrent runs of `rxxl report` ----------------------

#: Runs `rxxl report` with XlsxWriter's close held for a minute once every row of the claim
#: detail is in its temporary row file: argv[1] is created then, the rest is rxxl's argv.
SLOW_REPORT = textwrap.dedent("""
    import sys, time
    import xlsxwriter.workbook
    close = xlsxwriter.workbook.Workbook.close
    def held(self):
        open(sys.argv[1], "w").close()
        time.sleep(60)
        return close(self)
    xlsxwriter.workbook.Workbook.close = held
    from rxxl.cli import main
    sys.exit(main(sys.argv[2:]))
""")


def _start_slow_report(sample: Path, out: Path, tmp: Path, marker: Path,
                       *options: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(tmp)}
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_REPORT, str(marker), "report", "--data", str(sample),
         "--month", MONTH, "--out", str(out), "--all-claims", *options],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the report never reached the claim detail"
        time.sleep(0.05)
    return process


def _leftover_text(folder: Path) -> str:
    """Every file's text below ``folder``, the members of zip files (.xlsx) unpacked."""
    texts = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                texts += [archive.read(name).decode("utf-8", "replace")
                          for name in archive.namelist()]
        else:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


def _prepare(earlier: dict[str, bytes], tmp_path: Path) -> tuple[Path, Path]:
    out, tmp = tmp_path / "reports", tmp_path / "tmp"
    out.mkdir()
    tmp.mkdir()
    for name, content in earlier.items():
        (out / name).write_bytes(content)
    return out, tmp


@pytest.mark.parametrize("signum, code, name", [
    (signal.SIGTERM, 128 + signal.SIGTERM, "SIGTERM"),
    (signal.SIGINT, 130, "SIGINT"),
])
def test_sigterm_and_ctrl_c_stop_cleanly_and_a_second_run_is_refused_meanwhile(
        sample, earlier, patient_ids, tmp_path, capsys, signum, code, name):
    out, tmp = _prepare(earlier, tmp_path)
    process = _start_slow_report(sample, out, tmp, tmp_path / "marker", "--unmask-patients")
    # A second run into the same folder while the first writes: refused, nothing touched.
    assert main(["report", "--data", str(sample), "--month", MONTH, "--out", str(out)]) == 2
    line = _one_clean_line(capsys.readouterr().err)
    assert f"another rxxl report is writing to {out} (pid {process.pid})" in line, line
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == code
    line = _one_clean_line(err)
    assert line == f"rxxl report: stopped by {name}; earlier output untouched"
    assert _files(out) == earlier  # earlier workbooks intact, no staging, no lock left
    assert list(tmp.iterdir()) == []  # XlsxWriter's row file went with its folder


def test_kill_9_leaves_earlier_output_and_the_next_run_clears_what_it_left(
        sample, earlier, patient_ids, tmp_path):
    out, tmp = _prepare(earlier, tmp_path)
    process = _start_slow_report(sample, out, tmp, tmp_path / "marker", "--unmask-patients")
    rows = [p for p in tmp.rglob("*") if p.is_file()]
    assert rows and not any(p.is_relative_to(out) for p in rows)  # row files not in out
    process.kill()
    process.communicate(timeout=60)
    assert {name: (out / name).read_bytes() for name in earlier} == earlier
    env = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(tmp)}
    again = subprocess.run([sys.executable, "-m", "rxxl.cli", "report", "--data", str(sample),
                            "--month", MONTH, "--out", str(out)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(earlier)  # no staging left
    assert [p for p in tmp.rglob("*") if p.is_file()] == []
    leftover = _leftover_text(out) + _leftover_text(tmp)
    assert not [pid for pid in patient_ids if pid in leftover]


# --- The two workbooks as a pair --------------------------------------------------------


def test_failed_second_rename_restores_the_first_workbook(sample, earlier, tmp_path,
                                                          monkeypatch, capsys):
    out, _ = _prepare(earlier, tmp_path)
    replace = os.replace

    def detail_open_in_excel(source, target, *args, **kwargs):
        # As on Windows: a workbook open in Excel can be neither moved nor replaced.
        if out / DETAIL in (Path(source), Path(target)):
            raise PermissionError(errno.EACCES, "Permission denied", str(source), None,
                                  str(target))
        return replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", detail_open_in_excel)
    code = main(["report", "--data", str(sample), "--month", MONTH, "--out", str(out)])
    monkeypatch.undo()
    line = _one_clean_line(capsys.readouterr().err)
    assert code == 2 and str(out / DETAIL) in line, line
    assert _files(out) == earlier


def test_month_without_claims_removes_the_stale_claim_detail_of_that_month(
        sample, earlier, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    (data / "claims" / f"{MONTH}.parquet").unlink()  # the month's claims withdrawn
    out, _ = _prepare(earlier, tmp_path)
    (out / "340B claim detail 2026-09.xlsx").write_bytes(earlier[DETAIL])  # another month
    summaries = build_report(data, MONTH, out)
    assert [s.path.name for s in summaries] == [PACKAGE]
    assert sorted(p.name for p in out.iterdir()) == ["340B claim detail 2026-09.xlsx", PACKAGE]


# --- Operating-system errors: one line naming the path and the fix, exit 2 ---------------


def _audit(sample: Path, out: Path) -> int:
    return main(["audit340b", "--claims", str(sample / "claims" / f"{MONTH}.parquet"),
                 "--reference", str(sample), "--out", str(out)])


def test_output_that_is_a_folder_or_a_file_where_a_folder_belongs(sample, tmp_path, capsys):
    folder = tmp_path / "result.csv"
    folder.mkdir()
    assert _audit(sample, folder) == 2
    line = _one_clean_line(capsys.readouterr().err)
    assert str(folder) in line and "folder" in line, line
    file = tmp_path / "reports"
    file.write_text("a file, not a folder")
    assert main(["report", "--data", str(sample), "--month", MONTH, "--out", str(file)]) == 2
    line = _one_clean_line(capsys.readouterr().err)
    assert str(file) in line and "file" in line, line
    assert main(["sample", "--out", str(file / "sample")]) == 2
    _one_clean_line(capsys.readouterr().err)
    assert file.read_text() == "a file, not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "result.csv"]


def test_read_only_output_file_is_not_replaced(sample, tmp_path, capsys):
    out = tmp_path / "audit.csv"
    out.write_text("earlier")
    out.chmod(0o444)
    assert _audit(sample, out) == 2
    line = _one_clean_line(capsys.readouterr().err)
    assert str(out) in line and "read-only" in line, line
    assert out.read_text() == "earlier" and sorted(tmp_path.iterdir()) == [out]


def test_read_only_folder_and_full_disk(sample, tmp_path, monkeypatch, capsys):
    out = tmp_path / "audit.csv"
    out.write_text("earlier")
    import tempfile

    def read_only(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(Path(dir) / "x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert _audit(sample, out) == 2
    line = _one_clean_line(capsys.readouterr().err)
    assert str(tmp_path) in line and "permission" in line.lower(), line
    monkeypatch.undo()

    def disk_full(self, path, *args, **kwargs):
        Path(path).write_text("half a table")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    assert _audit(sample, out) == 2
    line = _one_clean_line(capsys.readouterr().err)
    assert str(out) in line and "full" in line, line
    assert out.read_text() == "earlier" and sorted(tmp_path.iterdir()) == [out]


def test_full_disk_during_the_report_leaves_the_earlier_report(sample, earlier, tmp_path,
                                                                monkeypatch, capsys):
    out, _ = _prepare(earlier, tmp_path)
    import xlsxwriter.workbook

    def disk_full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "close", disk_full)
    assert main(["report", "--data", str(sample), "--month", MONTH, "--out", str(out)]) == 2
    line = _one_clean_line(capsys.readouterr().err)
    assert str(out) in line and "full" in line, line
    assert _files(out) == earlier


def test_unreadable_template_is_one_line(sample, tmp_path, capsys):
    templates = tmp_path / "templates"
    (templates / "monthly_package.xlsx").mkdir(parents=True)  # a folder where a file belongs
    assert main(["report", "--data", str(sample), "--month", MONTH, "--out",
                 str(tmp_path / "out"), "--templates", str(templates)]) == 2
    line = _one_clean_line(capsys.readouterr().err)
    assert str(templates / "monthly_package.xlsx") in line, line
    assert not (tmp_path / "out").exists()


def test_ctrl_c_is_one_line_not_a_traceback(monkeypatch, capsys, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("rxxl.data.synthetic.generate", interrupted)
    assert main(["sample", "--out", str(tmp_path / "s")]) == 130
    assert _one_clean_line(capsys.readouterr().err) == \
        "rxxl sample: stopped by SIGINT; earlier output untouched"

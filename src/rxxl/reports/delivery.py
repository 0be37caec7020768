"""Delivering outputs into a folder: one run at a time, whole or not at all.

A report run writes its files to a staging folder inside the output folder (the same file
system, so a rename is atomic) and renames them into place together only when all are
complete; a run that fails, is stopped or killed leaves the earlier output as it was, and the
next run into the folder removes what a killed run left. The output folder is locked while a
run writes there (:mod:`rxxl.locking`), and is never the data folder nor inside a folder of
input parts. ``rxxl report`` and ``rxxl audit-pack`` deliver this way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from rxxl.data.contracts import TABLES
from rxxl.errors import InputError
from rxxl.locking import FileLock, FolderBusy
from rxxl.outputs import check_replaceable, refuse_inputs

#: Held in the output folder while a run writes there (see :mod:`rxxl.locking`).
LOCK_FILE = ".rxxl-report.lock"
#: A run's staging folder in the output folder (on its file system, so renames are atomic);
#: one left by a killed run is removed by the next run into the folder.
STAGING_PREFIX = ".rxxl-report-"


def check_output_folder(data: Path, out: Path, templates: str | os.PathLike | None) -> None:
    """The reports go to a folder of their own: not the data or templates folder, and not
    inside a folder of input parts (claims/), where the next run would read them."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file; --out names the folder for the reports")
    folders = [("data folder", data)] + ([("templates folder", Path(templates))]
                                         if templates is not None else [])
    for what, folder in folders:
        if out.resolve() == folder.resolve() or (
                out.exists() and folder.exists() and os.path.samefile(out, folder)):
            raise InputError(f"{out}: is the {what}; write the reports to a folder of their"
                             f" own, e.g. {folder / 'reports'}")
    if data.is_dir():
        refuse_inputs([out], [data / name for name in ("claims", *TABLES)
                              if (data / name).is_dir()])


@contextlib.contextmanager
def locked_output(out: Path) -> Iterator[None]:
    """Hold the output folder's lock (creating the folder; removed again if the run leaves
    nothing in it)."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out / LOCK_FILE)
    try:
        if not lock.acquire():
            raise FolderBusy(f"another rxxl report is writing to {out} (pid"
                             f" {lock.holder() or 'unknown'}); wait for it to finish, or"
                             " write to another folder")
        yield
    finally:
        lock.release()
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only when empty: a failed run into a new folder leaves none


def remove_stale_staging(out: Path) -> None:
    """Remove staging folders of earlier runs that were killed: with the folder's lock held
    no live run is writing there. (They may hold a detail workbook with patient ids.)"""
    for folder in out.iterdir():
        if folder.name.startswith(STAGING_PREFIX) and folder.is_dir() \
                and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


def put_in_place(staged: list[Path], out: Path, stale: list[Path], earlier: Path) -> None:
    """Rename the ``staged`` workbooks into ``out`` as a pair and remove the ``stale`` ones.

    Each earlier file of those names is first moved aside into the folder ``earlier`` (in the
    staging folder, so a kept backup goes with it); if any rename fails (on Windows, a
    workbook open in Excel cannot be moved), every earlier file is moved back and the new
    ones removed, so the folder holds the earlier pair or the new one, never a mix."""
    moves = [(source, out / source.name) for source in staged]
    moves += [(None, target) for target in stale if os.path.lexists(target)]
    for _, target in moves:
        check_replaceable(target)
    earlier.mkdir()
    done: list[tuple[Path, Path | None]] = []
    try:
        for source, target in moves:
            backup = None
            if os.path.lexists(target):
                backup = earlier / target.name
                os.replace(target, backup)
            done.append((target, backup))
            if source is not None:
                os.replace(source, target)
    except BaseException:
        for target, backup in reversed(done):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                elif os.path.lexists(target):
                    os.unlink(target)  # this run's new workbook, which had no earlier one
        raise


def put_folder_in_place(staged: Path, out: Path, earlier: Path) -> Path:
    """Rename the finished folder ``staged`` into ``out`` under its name, whole.

    An earlier folder of that name is first moved aside into ``earlier`` (inside the staging
    folder, removed with it); if the rename fails it is moved back, so ``out`` holds the
    earlier folder or the new one, never a mix. A file or a symlink of that name is refused:
    it is not an earlier output of this kind."""
    target = out / staged.name
    if os.path.lexists(target) and (os.path.islink(target) or not os.path.isdir(target)):
        raise InputError(f"{target}: is a file or a link, not an earlier pack; move it away or"
                         " write to another folder")
    earlier.mkdir()
    backup = None
    if os.path.lexists(target):
        backup = earlier / target.name
        os.replace(target, backup)
    try:
        os.replace(staged, target)
    except BaseException:
        if backup is not None:
            with contextlib.suppress(OSError):
                os.replace(backup, target)
        raise
    return target

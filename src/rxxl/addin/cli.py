"""``rxxl addin build | install | uninstall``: the add-in on the command line.

Wired into :mod:`rxxl.cli` with :func:`add_commands` and :func:`run`. Exit codes follow
the rest of the command line: 0 done, 2 could not be done (message on standard error).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rxxl.errors import RxxlError

#: Where ``rxxl addin build`` writes by default: the committed add-in of a source checkout.
DEFAULT_OUT = Path("addin") / "rxxl.xlam"


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``addin`` command and its subcommands to the ``rxxl`` parser."""
    addin = subparsers.add_parser(
        "addin",
        help="build, install or uninstall the Excel add-in (Rx Finance ribbon, RX_ functions)",
        description="The rxxl Excel add-in: an 'Rx Finance' ribbon tab and the RX_ functions,"
        " run by classic xlwings in desktop Excel on Windows (the ribbon also on macOS).",
    )
    actions = addin.add_subparsers(dest="addin_command", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build", help="build rxxl.xlam from its text sources (any system, reproducible)",
        description="Build rxxl.xlam from the ribbon XML and VBA sources shipped with rxxl,"
        " with the RX_ function wrappers generated from rxxl.udfs. Every VBA stream is"
        " checked to decompress to its source, or nothing is written.")
    build.add_argument("--out", type=Path, default=DEFAULT_OUT,
                       help="file to write (default %(default)s)")
    install = actions.add_parser(
        "install", help="put the add-in in Excel's start-up folder and write rxxl.conf",
        description="Build the add-in into Excel's start-up folder (XLSTART) and write the"
        " user's rxxl.conf with this Python interpreter and the UDF module rxxl.udfs."
        " Windows and macOS only.")
    install.add_argument("--from", dest="source", type=Path, default=None, metavar="FILE",
                         help="install this rxxl.xlam as it is (a copy IT built with `rxxl"
                         " addin build` and signed) instead of building one")
    actions.add_parser(
        "uninstall", help="remove the add-in and rxxl's settings",
        description="Remove rxxl.xlam from Excel's start-up folder and rxxl's settings from"
        " the user's rxxl.conf (other settings in it are kept). Windows and macOS only.")


def run(args: argparse.Namespace) -> int:
    """Run ``rxxl addin ...``; return the exit code."""
    from rxxl.addin import install as installer
    from rxxl.addin.build import AddinBuildError, build

    try:
        if args.addin_command == "build":
            print(f"rxxl addin build: {build(args.out)}")
        elif args.addin_command == "install":
            print("\n".join(installer.install(installer.locations(), source=args.source)))
        else:
            print("\n".join(installer.uninstall(installer.locations())))
    except (RxxlError, AddinBuildError, OSError) as exc:
        print(f"rxxl addin {args.addin_command}: {exc}", file=sys.stderr)
        return 2
    return 0

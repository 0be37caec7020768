"""Input tables: their contracts (:mod:`rxxl.data.contracts`), validated loading and the
synthetic health system.

:func:`load_table` reads a CSV, Parquet or xlsx file (or a directory of parts, or a
DataFrame), checks every cell and row against the table's contract and returns a frame with
exactly the contract's columns and normalized dtypes, or raises :class:`DataValidationError`
listing the problems by file, row and column. :func:`load_reference` does the same for the
six 340B reference tables of a folder.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rxxl.data.identifiers import (
        ndc_problem,
        normalize_ndc,
        npi_check_digit,
        npi_is_valid,
    )
    from rxxl.data.parts import map_parts
    from rxxl.data.readers import load_claims_and_reference, load_reference, load_table
    from rxxl.data.validate import DataValidationError, Problem, validate_table

# Imported on first use: `python -m rxxl.data.contracts` (which regenerates the docs) must
# not find its own module already imported, and `import rxxl.data` stays free of pyarrow.
_EXPORTS = {
    "DataValidationError": "validate",
    "Problem": "validate",
    "validate_table": "validate",
    "load_table": "readers",
    "load_reference": "readers",
    "load_claims_and_reference": "readers",
    "map_parts": "parts",
    "normalize_ndc": "identifiers",
    "ndc_problem": "identifiers",
    "npi_is_valid": "identifiers",
    "npi_check_digit": "identifiers",
}

__all__ = [
    "DataValidationError",
    "Problem",
    "load_claims_and_reference",
    "load_reference",
    "load_table",
    "map_parts",
    "ndc_problem",
    "normalize_ndc",
    "npi_check_digit",
    "npi_is_valid",
    "validate_table",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"rxxl.data.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'rxxl.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

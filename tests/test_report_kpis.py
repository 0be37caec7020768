"""The executive summary's KPI flags follow the written rules of docs/kpi-rules.md."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rxxl.data.synthetic import generate
from rxxl.reports import figures, kpis
from rxxl.reports.inputs import load_inputs

MONTH = "2026-10"
TURNS, DAYS = "Inventory turns (annual)", "Days on hand"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("kpi-sample")
    generate(folder, size="small")
    return folder


@pytest.fixture(scope="module")
def inputs(sample):
    return load_inputs(sample, MONTH)


def _tiles(inputs) -> dict[str, kpis.Kpi]:
    tiles = kpis.kpi_table(inputs, figures.spend_by_month(inputs),
                           figures.generic_figures(inputs), figures.inventory_figures(inputs),
                           figures.audit_figures(inputs))
    return {tile.measure: tile for tile in tiles}


def test_the_forward_buy_makes_turns_and_days_on_hand_unfavorable(inputs):
    # Manifest P20: RUMC-OP bought ahead at the end of the month; all locations together
    # still sit inside 10-14 turns, so a flag on the total alone reads F.
    tiles = _tiles(inputs)
    for measure in (TURNS, DAYS):
        assert tiles[measure].flag() == "U", measure

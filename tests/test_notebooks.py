"""The analysis notebooks run top to bottom against the test database, quickly and correctly."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from config.settings import DatabaseSettings
from tests.utils import sources

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
TIME_LIMIT_S = 30.0


def execute(
    path: Path, settings: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel pointed at the test database; return it with outputs."""
    monkeypatch.setenv("PLATOONS_DATABASE_URL", settings.dsn)  # the kernel inherits it
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's own migration warning
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=int(TIME_LIMIT_S),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


def printed(notebook: nbformat.NotebookNode) -> str:
    """Everything the notebook's cells printed to stdout."""
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOKS_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom_quickly(
    path: Path, settings: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    notebook = execute(path, settings, monkeypatch)
    assert time.monotonic() - started < TIME_LIMIT_S
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []


def test_deprived_adults_notebook_agrees_with_the_source_files(
    settings: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute(NOTEBOOKS_DIR / "deprived_adults.ipynb", settings, monkeypatch)
    text = printed(notebook)
    summary = json.loads(text[text.index("{") :])
    iod2025 = sources.csv(sources.IOD2025).set_index("lsoa21_code")["IMD_decile"]
    iod2019 = sources.csv(sources.FILE_1).set_index("LSOA code (2011)")[
        "Index of Multiple Deprivation (IMD) Decile"
    ]
    assert summary["current_edition"] == "IoD2025"
    assert summary["deprived_lsoas"] == {
        "IoD2025": int((iod2025 <= 2).sum()),
        "IoD2019": int((iod2019 <= 2).sum()),
    }
    # IoD2019 adults straight from the mid-2019 file: ages 18 to 90+ of the deprived LSOAs.
    population = sources.csv("population/population_mid2019_lsoa11_syoa.csv.gz")
    adults = population.set_index("lsoa11_code")[[str(a) for a in range(18, 90)] + ["90+"]].sum(
        axis=1
    )
    deprived_2011 = iod2019.index[iod2019 <= 2]
    assert summary["deprived_adults"]["IoD2019"] == pytest.approx(
        float(adults[deprived_2011].sum())
    )
    # The unchanged LSOAs, from the ONS 2011 -> 2021 lookup and the two index files.
    changes = sources.csv("lookups/lookup_lsoa11_lsoa21_ltla22.csv")
    unchanged = changes[changes["change_code"] == "U"]
    old = iod2019.reindex(unchanged["lsoa11_code"]).to_numpy() <= 2
    new = iod2025.reindex(unchanged["lsoa21_code"]).to_numpy() <= 2
    assert summary["unchanged_lsoas"] == len(unchanged)
    assert summary["unchanged_deprived_both"] == int((old & new).sum())
    assert summary["unchanged_entered"] == int((~old & new).sum())
    assert summary["unchanged_left"] == int((old & ~new).sum())

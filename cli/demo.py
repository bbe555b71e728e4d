"""``platoons demo``: everything the demo shows, each part labelled as what it is.

``make run`` runs this before serving, so a newcomer's first view has every job working: the
real demo extract (four districts), the EXAMPLE grant programmes and EXAMPLE register of assets
of community value, SYNTHETIC neighbourhood groups and organisers, and REAL council land and
buildings (Trafford's Transparency Code file), REAL street-level crime (police.uk), REAL
council payments and voluntary sector grants (Trafford's Transparency Code and 360Giving files)
and EXAMPLE neighbourhood areas and plan. Running it again leaves the same state.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from cli.connection import with_connection
from cli.console import console
from cli.load import load_crime_command, run_load
from cli.spending import load_grants, load_spending
from data import DEMO_DIR, NATIONAL_DIR

if TYPE_CHECKING:
    from data import land_and_buildings, synthetic

EXAMPLES_DIR = DEMO_DIR.parent / "examples"
PROGRAMMES_FILE = DEMO_DIR.parent / "programmes" / "examples.yaml"
ACV_EXAMPLE_FILE = EXAMPLES_DIR / "acv_register_example.csv"
LAND_FILES = (NATIONAL_DIR / "assets" / "trafford_council_land_and_building_assets.csv",)
# Greater Manchester Police's burglary extract covers Trafford and Manchester of the demo.
CRIME_FILES = (NATIONAL_DIR / "crime" / "gmp_burglary_2016-02_2019-01_points.csv.gz",)
# Trafford Council's payments (2024-25, 2025-26, 2026-27 to date) and its 360Giving grants.
SPENDING_FILES = tuple(sorted((NATIONAL_DIR / "spending").glob("trafford-supplier-spend-*.zip")))
GRANT_FILES = (NATIONAL_DIR / "grants" / "trafford_council_voluntary_sector_grants_360giving.csv",)
# The example areas first: the example plan belongs to one of them.
PLANNING_EXAMPLE_FILES = (
    EXAMPLES_DIR / "neighbourhood_areas_example.geojson",
    EXAMPLES_DIR / "neighbourhood_plans_example.csv",
)


def _label(kind: str, what: str) -> None:
    """Print one line of the demo's inventory: what was loaded and what kind of data it is."""
    colour = {"REAL": "green", "EXAMPLE": "yellow", "SYNTHETIC": "magenta"}[kind]
    console.print(f"[bold {colour}]{kind:>9}[/] {what}")


def load_programmes() -> int:
    """Save the example grant programmes (ids fixed in the file: saving again updates them)."""
    # Each part's modules are imported by the step that uses it, so that the other
    # ``platoons`` commands start without them.
    import yaml

    from geo.grants import checks as grants

    specs = [
        grants.ProgrammeSpec.model_validate(item)
        for item in yaml.safe_load(PROGRAMMES_FILE.read_text(encoding="utf-8"))
    ]

    async def save(conn: Any) -> int:
        for spec in specs:
            await grants.save_programme(conn, spec, actor="demo")
        return len(specs)

    return with_connection(save)


def load_acv_examples() -> tuple[int, int]:
    """Import the example ACV register; entries already there are left as they are."""
    from geo import assets

    text = ACV_EXAMPLE_FILE.read_text(encoding="utf-8")
    today = datetime.now(UTC).date()
    report = with_connection(
        lambda conn: assets.import_register(
            conn, text, "csv", ACV_EXAMPLE_FILE.name, "demo", today, is_example=True
        )
    )
    present = sum("already in the register" in reason for _, _, reason in report.skipped)
    return len(report.imported), present


def load_planning_examples(path: Path) -> tuple[int, int]:
    """Import one example planning file; entries already recorded are left as they are."""
    from data import planning

    today = datetime.now(UTC).date()
    report = with_connection(lambda conn: planning.import_file(conn, path, today, is_example=True))
    # "reference ... is already recorded" (an area), "... already has plan ..." (a plan).
    present = sum("already" in reason for _, _, reason in report.skipped)
    return len(report.imported), present


def load_synthetic(groups: int, organisers: int, seed: int) -> synthetic.SyntheticReport:
    """Replace the synthetic groups and organisers with the seeded generation."""
    from data import synthetic

    spec = synthetic.SyntheticSpec(
        groups=groups, organisers=organisers, seed=seed, as_of=datetime.now(UTC).date()
    )
    return with_connection(lambda conn: synthetic.generate(conn, spec))


def load_land(path: Path, today: date) -> land_and_buildings.LandImportReport:
    """Import one council's land-and-buildings file (real, published data)."""
    from data import land_and_buildings

    text = path.read_text(encoding="utf-8")
    return with_connection(
        lambda conn: land_and_buildings.import_land_and_buildings(
            conn, text, f"land-and-buildings:{path.name}", "demo", today
        )
    )


def demo(
    groups: Annotated[int, typer.Option(help="Synthetic neighbourhood groups.")] = 120,
    organisers: Annotated[int, typer.Option(help="Synthetic organisers.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 7,
) -> None:
    """Load the demo: the real extract, examples, synthetic groups, real land, crime and money."""
    run_load(DEMO_DIR)
    _label(
        "REAL",
        "deprivation, boundaries and postcodes of Trafford, Manchester, Blackpool, "
        "Wokingham (data/demo, published files filtered row by row)",
    )
    saved = load_programmes()
    _label(
        "EXAMPLE", f"{saved} illustrative grant programmes ({PROGRAMMES_FILE.name}): not real funds"
    )
    imported, present = load_acv_examples()
    _label(
        "EXAMPLE",
        f"register of assets of community value ({ACV_EXAMPLE_FILE.name}): {imported} imported, "
        f"{present} already there; invented names marked EXAMPLE",
    )
    report = load_synthetic(groups, organisers, seed)
    _label(
        "SYNTHETIC",
        f"{report.groups} neighbourhood groups and {report.organisers} organisers "
        "(is_synthetic, no real people) on the real geography",
    )
    today = datetime.now(UTC).date()
    for path in LAND_FILES:
        land = load_land(path, today)
        stored = len(land.inserted) + len(land.updated) + len(land.unchanged)
        _label(
            "REAL",
            f"council land and buildings ({escape(path.name)}, OGL v3.0): {stored} sites in the "
            f"register as recorded council-owned assets, {len(land.not_stored)} outside the "
            "demo districts not stored",
        )
    load_crime_command(list(CRIME_FILES), only_loaded_areas=True)
    _label(
        "REAL",
        "street-level crime (police.uk, OGL v3.0): Greater Manchester burglaries "
        "2016-02..2019-01 in the demo's districts (Trafford, Manchester); the rest not stored",
    )
    load_spending(list(SPENDING_FILES))
    _label(
        "REAL",
        "council payments line by line (Trafford Council, Transparency Code, OGL v3.0): "
        f"{len(SPENDING_FILES)} files, 2024-25 to 2026-27 to date",
    )
    load_grants(list(GRANT_FILES))
    _label(
        "REAL",
        "voluntary sector grants (Trafford Council, 360Giving, OGL v3.0), placed by area codes "
        "or postcode",
    )
    for path in PLANNING_EXAMPLE_FILES:
        imported, present = load_planning_examples(path)
        _label(
            "EXAMPLE",
            f"neighbourhood planning ({path.name}): {imported} imported, {present} already "
            "there; invented names marked EXAMPLE, areas drawn as squares on real geography",
        )

"""The layers import only what they may (docs: the lead's target architecture).

``app/`` imports only ``geo/`` and ``config/``; ``data/`` only ``geo/`` and ``config/``;
``geo/`` neither ``app/``, ``data/`` nor ``cli/``; ``config/`` no other layer; only ``cli/``
drives ``app/``, ``data/`` and ``geo/`` together. No router imports another router: what
routers share lives in ``app/`` modules. Migrations import only their own frozen helpers
(``data/migrations/``), never the live code, which changes while history does not. Every
import counts, those inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each layer and the layers it may import (itself included).
MAY_IMPORT: dict[str, frozenset[str]] = {
    "config": frozenset({"config"}),
    "geo": frozenset({"geo", "config"}),
    "data": frozenset({"data", "geo", "config"}),
    "app": frozenset({"app", "geo", "config"}),
    "cli": frozenset({"cli", "app", "data", "geo", "config"}),
}
ROUTERS = "app.routers"
MIGRATIONS = "data.migrations"


def module_name(path: Path) -> str:
    """The dotted module name of a file under ROOT (a package by its own name)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(module: str, source: str, is_package: bool) -> set[str]:
    """Every module ``source`` imports, absolute; ``from a import b`` gives ``a`` and ``a.b``."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def violations(module: str, imports: set[str]) -> list[str]:
    """What ``module`` imports that its layer may not, and any router importing another."""
    layer = module.split(".")[0]
    wrong = [
        f"{module} imports {name} ({layer}/ may not import {name.split('.')[0]}/)"
        for name in sorted(imports)
        if name.split(".")[0] in MAY_IMPORT and name.split(".")[0] not in MAY_IMPORT[layer]
    ]
    if module.startswith(f"{MIGRATIONS}."):
        wrong += [
            f"{module} imports {name} (a migration imports only data/migrations/)"
            for name in sorted(imports)
            if name.split(".")[0] in MAY_IMPORT
            and name != MIGRATIONS
            and not name.startswith(f"{MIGRATIONS}.")
        ]
    if module.startswith(f"{ROUTERS}."):
        own = module.split(".")[2]
        wrong += [
            f"{module} imports {name} (a router never imports another router)"
            for name in sorted(imports)
            if name.startswith(f"{ROUTERS}.") and name.split(".")[2] != own
        ]
    return wrong


def project_modules() -> list[Path]:
    """Every Python file of every layer."""
    return [path for layer in MAY_IMPORT for path in sorted((ROOT / layer).rglob("*.py"))]


def test_every_layer_imports_only_what_it_may() -> None:
    paths = project_modules()
    assert len(paths) > 50 and {p.relative_to(ROOT).parts[0] for p in paths} == set(MAY_IMPORT)
    found = []
    for path in paths:
        module = module_name(path)
        imports = imported_modules(
            module, path.read_text(encoding="utf-8"), path.stem == "__init__"
        )
        found += violations(module, imports)
    assert found == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "data.synthetic",
            "from app.settings import DatabaseSettings",
            "data/ may not import app/",
        ),
        ("geo.groups", "def f():\n    from data import loaders", "geo/ may not import data/"),
        ("geo.coverage", "import cli.main", "geo/ may not import cli/"),
        ("app.housekeeping", "from data.loaders import load_all", "app/ may not import data/"),
        ("config.settings", "from geo.errors import InvalidInput", "config/ may not import geo/"),
        ("app.routers.maps", "from app.routers.tiles import lend", "never imports another router"),
        ("app.routers.coverage", "from app.routers import groups", "never imports another router"),
        ("app.routers.maps", "from .tiles import lend", "never imports another router"),
        (
            "data.migrations.versions.0019_spending_speed",
            "from geo.sqlfiles import read_sql",
            "a migration imports only data/migrations/",
        ),
        (
            "data.migrations.versions.0001_foundation",
            "def upgrade():\n    from data.loaders import load_all",
            "a migration imports only data/migrations/",
        ),
    ],
)
def test_a_forbidden_import_is_caught(module: str, source: str, expected: str) -> None:
    found = violations(module, imported_modules(module, source, is_package=False))
    assert found and all(expected in line for line in found), found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("cli.load", "from app.main import create_app\nfrom data.loaders import load_all"),
        ("app.main", "from app.routers import groups, tiles"),  # the composition root
        ("app.routers.groups", "from app.dependencies import Rules\nfrom geo import groups"),
        ("data.synthetic", "from config.settings import DatabaseSettings"),
        ("geo.tiles", "import shapely\nfrom geo.collections import Collection"),
        (
            "data.migrations.versions.0006_assets_of_community_value",
            "from data.migrations.helpers import one_of\nfrom geoalchemy2 import Geometry",
        ),
    ],
)
def test_an_allowed_import_passes(module: str, source: str) -> None:
    assert violations(module, imported_modules(module, source, is_package=False)) == []

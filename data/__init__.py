"""Ingest: the source manifest, file readers, loaders, migrations and the demo extract."""

from importlib.resources import files
from pathlib import Path

# The small real extract shipped in the repository (four whole LADs): `platoons load demo`.
DEMO_DIR = Path(str(files("data").joinpath("demo")))
# The national raw files the project is built on, carried in the repository (SOURCES.md
# beside them): `platoons load england` and the all-England tests read them from here.
NATIONAL_DIR = Path(str(files("data").joinpath("national")))

"""Ingest: the source manifest, file readers, loaders, migrations and the demo extract."""

from importlib.resources import files
from pathlib import Path

# The small real extract shipped in the repository (four whole LADs): `platoons load demo`.
DEMO_DIR = Path(str(files("data").joinpath("demo")))

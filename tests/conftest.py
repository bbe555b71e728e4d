"""Session fixtures: a real PostGIS test database loaded with the demo extract."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app.main import create_app
from config.settings import DatabaseSettings
from data import DEMO_DIR, NATIONAL_DIR, schema
from data.loaders import load_all
from data.manifest import load_manifest
from data.readers import sha256_of
from tests.utils import sources
from tests.utils.databases import recreate_database
from tests.utils.service import service_settings


def _test_database_url() -> str:
    """Return the test database URL: PLATOONS_TEST_DATABASE_URL, else '<configured db>_test'."""
    explicit = os.environ.get("PLATOONS_TEST_DATABASE_URL")
    if explicit:
        return explicit
    url = make_url(DatabaseSettings().dsn)
    return url.set(database=f"{url.database}_test").render_as_string(hide_password=False)


def _england_dir() -> Path:
    """The national raw files: in the repository first, else PLATOONS_ENGLAND_DATA, else shared.

    ``data/national`` is carried in the repository, so a clone with nothing beside it runs
    every test; PLATOONS_ENGLAND_DATA and ``../shared/data/raw`` remain places to look for a
    checkout without it.
    """
    candidates = [NATIONAL_DIR]
    if os.environ.get("PLATOONS_ENGLAND_DATA"):
        candidates.append(Path(os.environ["PLATOONS_ENGLAND_DATA"]))
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw")
    for candidate in candidates:
        if (candidate / "iod2025").is_dir():
            return candidate
    return candidates[0]


ENGLAND_DIR = _england_dir()


@pytest.fixture(scope="session")
def settings() -> DatabaseSettings:
    """Create, migrate and load the test database; check it holds the whole extract."""
    url = _test_database_url()
    recreate_database(url)
    test_settings = DatabaseSettings(database_url=url)  # type: ignore[call-arg]
    schema.upgrade(test_settings.sqlalchemy_url)
    with psycopg.connect(test_settings.dsn) as conn:
        load_all(conn, DEMO_DIR)
        counts = dict(
            conn.execute("SELECT vintage, count(*) FROM lsoa GROUP BY vintage").fetchall()
        )
    assert counts == {
        2011: len(sources.csv(sources.FILE_1)),
        2021: len(sources.csv(sources.IOD2025)),
    }
    return test_settings


@pytest.fixture
def conn(settings: DatabaseSettings) -> Iterator[psycopg.Connection]:
    """A plain autocommit connection to the test database."""
    with psycopg.connect(settings.dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio (what uvicorn runs the service on)."""
    return "asyncio"


@pytest.fixture
async def aconn(settings: DatabaseSettings) -> AsyncIterator[psycopg.AsyncConnection]:
    """An async autocommit connection, as the service's pool lends them."""
    connection = await psycopg.AsyncConnection.connect(settings.dsn, autocommit=True)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def client(settings: DatabaseSettings) -> Iterator[TestClient]:
    """The application under test, with its lifespan (pool) running."""
    with TestClient(create_app(service_settings(settings))) as test_client:
        yield test_client


def _database_exists(url: str) -> bool:
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,))
        return row.fetchone() is not None


@pytest.fixture(scope="session")
def england_settings() -> DatabaseSettings:
    """A database holding all of England (both editions) from ENGLAND_DIR (data/national).

    Loading takes about 90 s, so the database is kept between runs and reloaded only when
    its recorded source checksums differ from the files (or it is missing or empty).
    """
    assert ENGLAND_DIR.is_dir(), f"the national data must be at {ENGLAND_DIR}"
    url = make_url(_test_database_url())
    url = url.set(database=f"{url.database}_england").render_as_string(hide_password=False)
    if not _database_exists(url):
        recreate_database(url)
    england = DatabaseSettings(database_url=url)  # type: ignore[call-arg]
    migrated_from = schema.current_revision(england.sqlalchemy_url)
    schema.upgrade(england.sqlalchemy_url)
    # A new migration may add tables a load derives, so reload after any migration too.
    schema_changed = migrated_from != schema.head_revision(england.sqlalchemy_url)
    expected = {d.path: sha256_of(ENGLAND_DIR / d.path) for d in load_manifest().dataset}
    with psycopg.connect(england.dsn) as conn:
        loaded = dict(conn.execute("SELECT source_file, sha256 FROM dataset_load").fetchall())
        if schema_changed or loaded != expected:
            load_all(conn, ENGLAND_DIR)
        (lsoas,) = conn.execute("SELECT count(*) FROM lsoa WHERE vintage = 2021").fetchone() or (0,)
    assert lsoas == 33755
    return england


@pytest.fixture(scope="session")
def england_client(england_settings: DatabaseSettings) -> Iterator[TestClient]:
    """The application serving all of England."""
    with TestClient(create_app(service_settings(england_settings))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def example_programmes(settings: DatabaseSettings) -> list[str]:
    """The example grant programmes, saved once into the demo database; their ids."""
    import asyncio

    import yaml

    from geo.grants import checks

    specs = yaml.safe_load(Path("data/programmes/examples.yaml").read_text(encoding="utf-8"))

    async def save() -> list[str]:
        async with await psycopg.AsyncConnection.connect(settings.dsn) as conn:
            saved = [
                await checks.save_programme(conn, checks.ProgrammeSpec.model_validate(s), "tests")
                for s in specs
            ]
            await conn.commit()
        return [p.id for p in saved]

    return asyncio.run(save())


@pytest.fixture(scope="session")
def example_assets(settings: DatabaseSettings) -> int:
    """The example Assets of Community Value register, imported once; the assets placed."""
    import asyncio
    from datetime import UTC, datetime

    from geo import assets

    path = Path("data/examples/acv_register_example.csv")

    async def load() -> int:
        async with await psycopg.AsyncConnection.connect(settings.dsn) as conn:
            # Other tests record assets of their own: look for the example entries themselves.
            cur = await conn.execute(
                "SELECT count(*) FROM asset WHERE reference LIKE 'EXAMPLE-ACV-%'"
            )
            (existing,) = await cur.fetchone() or (0,)
            if not existing:
                await assets.import_register(
                    conn,
                    path.read_text(encoding="utf-8"),
                    "csv",
                    path.name,
                    "tests",
                    datetime.now(UTC).date(),
                    is_example=True,
                )
            await conn.commit()
            cur = await conn.execute("SELECT count(*) FROM asset")
            (count,) = await cur.fetchone() or (0,)
        return int(count)

    return asyncio.run(load())


CRIME_DIR = Path(__file__).resolve().parents[1] / "data" / "national" / "crime"
GMP_BURGLARY = CRIME_DIR / "gmp_burglary_2016-02_2019-01_points.csv.gz"
MERSEYSIDE_SHOPLIFTING = CRIME_DIR / "merseyside_shoplifting_2019-05_2020-05_street.csv.gz"


@pytest.fixture(scope="session")
def crime_loaded(settings: DatabaseSettings) -> int:
    """Both police.uk files imported once into the demo database; the crimes stored."""
    from data.crime import load_crime

    with psycopg.connect(settings.dsn) as conn:
        report = load_crime(conn, [GMP_BURGLARY, MERSEYSIDE_SHOPLIFTING])
    assert report.crimes == 92_666 + 7_930
    return report.crimes

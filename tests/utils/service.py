"""The service's settings bundle for a test, built explicitly (never from ``os.environ``)."""

from __future__ import annotations

from config.settings import (
    DatabaseSettings,
    MapSettings,
    ReplicaSettings,
    SecuritySettings,
    ServerSettings,
    Settings,
)


def service_settings(
    database: DatabaseSettings,
    security: SecuritySettings | None = None,
    housekeeping: bool = False,
    replicas: ReplicaSettings | None = None,
    maps: MapSettings | None = None,
) -> Settings:
    """The settings ``create_app`` takes in tests: this database, and no daily jobs by default.

    The service's daily jobs write in the background; the suite runs them explicitly
    (tests/app/test_housekeeping.py), so no test sees writes it did not make. No read
    replicas and no tile archives unless given.
    """
    return Settings(
        database=database,
        server=ServerSettings(housekeeping=housekeeping),
        security=security or SecuritySettings(),
        replicas=replicas or ReplicaSettings(read_database_urls=[]),
        maps=maps or MapSettings(tile_archives={}),
    )

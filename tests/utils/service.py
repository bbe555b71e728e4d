"""The service's settings bundle for a test, built explicitly (never from ``os.environ``)."""

from __future__ import annotations

from config.settings import DatabaseSettings, SecuritySettings, ServerSettings, Settings


def service_settings(
    database: DatabaseSettings, security: SecuritySettings | None = None, housekeeping: bool = False
) -> Settings:
    """The settings ``create_app`` takes in tests: this database, and no daily jobs by default.

    The service's daily jobs write in the background; the suite runs them explicitly
    (tests/app/test_housekeeping.py), so no test sees writes it did not make.
    """
    return Settings(
        database=database,
        server=ServerSettings(housekeeping=housekeeping),
        security=security or SecuritySettings(),
    )

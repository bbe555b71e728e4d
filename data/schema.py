"""Create and migrate the database schema with Alembic (the only way the schema changes)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool


def alembic_config(sqlalchemy_url: str) -> Config:
    """Return an Alembic configuration for the packaged migrations and this database."""
    config = Config()
    config.set_main_option("script_location", "data:migrations")
    config.set_main_option("sqlalchemy.url", sqlalchemy_url.replace("%", "%%"))
    return config


def upgrade(sqlalchemy_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (the newest by default)."""
    command.upgrade(alembic_config(sqlalchemy_url), revision)


def current_revision(sqlalchemy_url: str) -> str | None:
    """Return the database's migration revision, or None if it has never been migrated."""
    engine = create_engine(sqlalchemy_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision(sqlalchemy_url: str) -> str | None:
    """Return the newest revision the packaged migrations define."""
    return ScriptDirectory.from_config(alembic_config(sqlalchemy_url)).get_current_head()

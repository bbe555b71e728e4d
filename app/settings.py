"""Service settings, read once from the environment (``PLATOONS_*``) or a ``.env`` file."""

from pydantic import AliasChoices, Field, PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/platoons"


class DatabaseSettings(BaseSettings):
    """Where the PostGIS database is and how many connections one process keeps."""

    model_config = SettingsConfigDict(env_prefix="PLATOONS_", env_file=".env", extra="ignore")

    # DATABASE_URL is honoured too: it is what hosting platforms and the README name.
    database_url: PostgresDsn = Field(
        default=PostgresDsn(DEFAULT_DATABASE_URL),
        validation_alias=AliasChoices("PLATOONS_DATABASE_URL", "DATABASE_URL"),
    )
    pool_min_size: int = Field(default=2, ge=1)
    pool_max_size: int = Field(default=20, ge=1)
    statement_timeout_ms: int = Field(default=15_000, ge=100)
    # How long a request waits for a pooled connection before answering 503.
    pool_timeout_seconds: float = Field(default=5.0, gt=0)

    @property
    def dsn(self) -> str:
        """Return the URL as a libpq connection string (what psycopg takes)."""
        return str(self.database_url)

    @property
    def sqlalchemy_url(self) -> str:
        """Return the URL with SQLAlchemy's psycopg 3 driver name (what Alembic takes)."""
        return self.dsn.replace("postgresql://", "postgresql+psycopg://", 1)


class ServerSettings(BaseSettings):
    """How the HTTP service presents itself."""

    model_config = SettingsConfigDict(env_prefix="PLATOONS_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    environment: str = "development"

"""Service settings, read once from the environment (``PLATOONS_*``) or a ``.env`` file."""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, PostgresDsn, field_validator
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


class SecuritySettings(BaseSettings):
    """The HTTP edge: body size limit, browser origins (CORS), page policy and request logs."""

    model_config = SettingsConfigDict(env_prefix="PLATOONS_", env_file=".env", extra="ignore")

    # Larger bodies get 413 before they are read. Drawn polygons are capped at 1 MB of GeoJSON
    # (geo/places.py), so 2 MiB leaves room for the rest of an application.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # Browser origins that may write and read private data, as a JSON list in the environment
    # (PLATOONS_CORS_ORIGINS='["https://grants.example.org"]'). None by default: only pages the
    # service serves itself (same origin) and non-browser clients write.
    cors_origins: list[str] = Field(default_factory=list)
    # Whether any origin may read public layers without credentials (GET/HEAD, ``*``).
    cors_public_read: bool = True
    # Pages that set their own Content-Security-Policy (the folium/Leaflet maps).
    csp_exempt_prefixes: list[str] = Field(default_factory=lambda: ["/maps"])
    log_format: Literal["json", "text"] = "json"
    access_log: bool = True

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        """Origins are scheme://host[:port]; a wildcard would let any site write."""
        for origin in origins:
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or "*" in origin
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username
            ):
                raise ValueError(
                    f"{origin!r} is not an origin such as https://grants.example.org "
                    "(scheme, host, optional port; no path; no wildcard)"
                )
        return [origin.lower() for origin in origins]

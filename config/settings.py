"""Settings, read once from the environment (``PLATOONS_*``) or a ``.env`` file.

One small class per concern; :class:`Settings` bundles what the web service takes.
"""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    PostgresDsn,
    SecretStr,
    field_validator,
    model_validator,
)
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
    # Daily jobs in the service (app/housekeeping.py): deadlines, coverage, snapshot. Turn off
    # where cron runs `platoons housekeeping` instead (and in the test suite).
    housekeeping: bool = True
    housekeeping_check_seconds: float = Field(default=600.0, ge=1.0)


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


class GroupSettings(BaseSettings):
    """Neighbourhood groups and organisers: activity window, area and abuse limits, HMAC key."""

    model_config = SettingsConfigDict(env_prefix="PLATOONS_", env_file=".env", extra="ignore")

    # A group is active when it recorded activity in the last N calendar months.
    group_active_months: int = Field(default=12, ge=1, le=120)
    # A neighbourhood, not a county: a group's area in km² (computed in EPSG:27700).
    group_max_area_km2: float = Field(default=50.0, gt=0)
    group_min_area_km2: float = Field(default=0.001, gt=0)
    # An organiser's patch spans several neighbourhoods.
    organiser_max_area_km2: float = Field(default=500.0, gt=0)
    # Abuse limits per sender (a keyed hash of the client address): one rating of a group per
    # this many days, ratings per rolling day, relay messages per rolling hour and day.
    group_rating_repeat_days: int = Field(default=30, ge=1)
    group_ratings_per_day: int = Field(default=5, ge=1)
    group_messages_per_hour: int = Field(default=5, ge=1)
    group_messages_per_day: int = Field(default=20, ge=1)
    # Key of the HMAC that turns a client address into the fingerprint kept for those limits
    # (the address itself is never stored). Must be set outside development.
    fingerprint_secret: SecretStr = SecretStr("development-only-fingerprint-key")

    @model_validator(mode="after")
    def _limits_in_order(self) -> "GroupSettings":
        """The minimum area is below the maximum; a day allows at least an hour's messages."""
        if self.group_min_area_km2 >= self.group_max_area_km2:
            raise ValueError("group_min_area_km2 must be below group_max_area_km2")
        if self.group_messages_per_day < self.group_messages_per_hour:
            raise ValueError("group_messages_per_day must be at least group_messages_per_hour")
        return self


class MapSettings(BaseSettings):
    """The map pages' optional basemap (off unless configured) and static tile archives."""

    model_config = SettingsConfigDict(env_prefix="PLATOONS_", env_file=".env", extra="ignore")

    basemap_url: str | None = Field(
        default=None,
        description="XYZ raster tile URL template, e.g. https://tiles.example.org/{z}/{x}/{y}.png",
    )
    basemap_attribution: str | None = Field(default=None, description="Credit shown for it.")
    basemap_max_zoom: int = Field(default=19, ge=0, le=24)
    # Static PMTiles archives (``platoons export-tiles``) drawn instead of the live tiles, by
    # collection id: PLATOONS_TILE_ARCHIVES='{"lsoa-iod2025": "https://cdn.example.org/a.pmtiles"}'.
    # Past an archive's deepest zoom, and for filtered layers, the maps use the live tiles.
    tile_archives: dict[str, str] = Field(default_factory=dict)
    # The box the map pages open on, in WGS84 (lon_min, lat_min, lon_max, lat_max), e.g. a
    # council's own districts: PLATOONS_MAP_HOME='[-2.479, 53.340, -2.147, 53.545]' (Trafford
    # and Manchester). Unset, each page opens on the extent of the data it shows.
    map_home: tuple[float, float, float, float] | None = None

    @model_validator(mode="after")
    def _home_on_the_globe(self) -> "MapSettings":
        """A home box has longitudes in [-180, 180] and latitudes in [-90, 90], each min < max."""
        if self.map_home is None:
            return self
        lon_min, lat_min, lon_max, lat_max = self.map_home
        if not (-180 <= lon_min < lon_max <= 180 and -90 <= lat_min < lat_max <= 90):
            raise ValueError(
                "PLATOONS_MAP_HOME must be [lon_min, lat_min, lon_max, lat_max] in degrees, "
                f"each min below its max: got {list(self.map_home)}"
            )
        return self

    @model_validator(mode="after")
    def _credited_template(self) -> "MapSettings":
        """A basemap needs its {z}/{x}/{y} placeholders and a credit (most licences demand it)."""
        if self.basemap_url is None:
            return self
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in self.basemap_url]
        if missing:
            raise ValueError(f"PLATOONS_BASEMAP_URL lacks {', '.join(missing)}")
        if not self.basemap_attribution:
            raise ValueError("PLATOONS_BASEMAP_URL needs PLATOONS_BASEMAP_ATTRIBUTION")
        return self


class ReplicaSettings(BaseSettings):
    """Streaming replicas to read from, how much lag is tolerated and how often it is checked."""

    model_config = SettingsConfigDict(env_prefix="PLATOONS_", env_file=".env", extra="ignore")

    # PLATOONS_READ_DATABASE_URLS='["postgresql://platoons@replica-1/platoons", ...]'
    # (app/replicas.py says which reads go there and when a replica is fit to answer).
    read_database_urls: list[PostgresDsn] = Field(default_factory=list)
    replica_max_lag_seconds: float = Field(default=10.0, gt=0)
    replica_check_seconds: float = Field(default=1.0, gt=0)


class Settings(BaseModel):
    """Every setting the web service takes, in one bundle: ``create_app(settings)``.

    Each part is read from the environment when not given, so ``Settings()`` is the
    service's configuration and a test builds its own with explicit parts.
    """

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    groups: GroupSettings = Field(default_factory=GroupSettings)
    maps: MapSettings = Field(default_factory=MapSettings)
    replicas: ReplicaSettings = Field(default_factory=ReplicaSettings)

"""The shapes of assets of community value: what callers send and what they are shown."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from geo import rights
from geo.drawn_areas import WORLD_BOUNDS, drawn_area_schema
from geo.figures import Coordinate
from geo.national_files import ImportReport  # noqa: F401 - the register import's report

Category = Literal[
    "pub",
    "shop",
    "post_office",
    "library",
    "park_green_space",
    "community_centre",
    "sports_facility",
    "other",
]


OwnerType = Literal[
    "central_government", "arms_length_body", "local_authority", "commercial", "charity", "other"
]


class AssetInput(BaseModel):
    """A new register entry, as an officer or group records it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    category: Category
    owner_type: OwnerType
    lon: float = Field(ge=-180, le=180, description="Longitude (EPSG:4326) of the asset.")
    lat: float = Field(ge=-90, le=90, description="Latitude (EPSG:4326) of the asset.")
    site: Annotated[dict[str, Any], WithJsonSchema(drawn_area_schema(WORLD_BOUNDS))] | None = Field(
        default=None,
        description="Optional GeoJSON Polygon/MultiPolygon of the site (EPSG:4326).",
    )
    address: str | None = Field(default=None, max_length=500)
    postcode: str | None = Field(default=None, max_length=10)
    uprn: int | None = Field(default=None, ge=1, le=999_999_999_999)
    description: str = Field(default="", max_length=5000)
    organisation: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)
    is_example: bool = False


class StepInput(BaseModel):
    """What a lifecycle step needs: when it took effect and the facts of that step."""

    model_config = ConfigDict(extra="forbid")

    effective_on: date | None = Field(
        default=None, description="When the step took effect (default today); never in the future."
    )
    group: str | None = Field(
        default=None, max_length=200, description="The nominating or community interest group."
    )
    body_type: str | None = Field(
        default=None,
        description=f"Nominating body: one of {', '.join(rights.NOMINATING_BODY_TYPES)}.",
        json_schema_extra={"enum": [*rights.NOMINATING_BODY_TYPES, None]},
    )
    local_electors: int | None = Field(default=None, ge=0, le=1_000_000)
    reason: str | None = Field(default=None, max_length=2000)
    exemption: str | None = Field(
        default=None,
        description=f"Exempt disposal: one of {', '.join(rights.EXEMPTIONS)}.",
        json_schema_extra={"enum": [*rights.EXEMPTIONS, None]},
    )
    to_community_interest_group: bool = False


class DeadlineOut(BaseModel):
    """A statutory date of the asset's current status."""

    kind: str
    period: str
    begins: date
    ends: date
    authority: str


class Asset(BaseModel):
    """A register entry with its derived place, lifecycle dates and what may happen next."""

    id: int
    reference: str
    name: str
    category: str
    owner_type: str
    description: str
    address: str | None
    postcode: str | None
    uprn: int | None
    organisation: str | None
    notes: str | None
    is_example: bool
    lon: Coordinate
    lat: Coordinate
    site: dict[str, Any] | None
    edition_code: str
    lsoa_code: str
    lad_code: str
    imd_decile: int | None
    status: rights.Status
    nominated_on: date | None
    nominating_group: str | None
    nominating_body_type: str | None
    decided_on: date | None
    listed_on: date | None
    decline_reason: str | None
    review_requested_on: date | None
    notice_received_on: date | None
    bid_requested_on: date | None
    interest_group: str | None
    disposed_on: date | None
    exemption: str | None
    removed_on: date | None
    removal_reason: str | None
    deadlines: list[DeadlineOut]
    next_steps: list[str] = Field(description="Steps legal today, given status and dates.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class AssetEvent(BaseModel):
    """One step in an asset's history."""

    id: int
    step: str
    from_status: str | None
    to_status: str
    effective_on: date
    recorded_on: date
    actor: str
    at: datetime
    details: dict[str, Any]


class Eligibility(BaseModel):
    """Whether a group may nominate the asset, or ask to be treated as a bidder, today."""

    asset_id: int
    group: str
    on: date
    status: str
    may_nominate: bool
    may_request_to_bid: bool
    window_ends: date | None
    reasons: list[str]


class UpcomingDeadline(BaseModel):
    """A deadline falling within the window asked for."""

    asset_id: int
    reference: str
    name: str
    lad_code: str
    status: str
    kind: str
    period: str
    ends: date
    authority: str
    # Set for deadlines that are not an asset's (neighbourhood planning): the event's UID and
    # its description replace the asset ones in the calendar feed.
    uid: str | None = Field(default=None, exclude=True)
    description: str | None = Field(default=None, exclude=True)

"""The shapes of neighbourhood groups: what callers send and what they are shown."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geo.drawn_areas import AreaFields
from geo.figures import COORDINATE, DISTANCE_M, AreaKm2, Coordinate, DistanceM, Rating
from geo.registry_rules import EMAIL_PATTERN, checked_email, checked_optional_phone

GroupKind = Literal[
    "new_group",
    "residents_association",
    "tenants_association",
    "scouts_guides",
    "social_enterprise",
    "charity",
    "community_interest_company",
    "faith_group",
    "other_not_for_dividend",
]


ActivityKind = Literal["meeting", "project", "event"]


RatingStatus = Literal["pending", "published", "rejected"]


Decision = Literal["publish", "reject"]


GROUP_REFERENCE = re.compile(r"^NG-[0-9]{6,18}$")


CODE_OF_CONDUCT_VERSION = "2026-1"


CODE_OF_CONDUCT_ISSUED_ON = date(2026, 1, 1)


CODE_OF_CONDUCT_TEXT = (
    "Neighbourhood code of conduct (version 2026-1)\n\n"
    "1. The group is open to everyone who lives in its area, whatever their background, "
    "and treats every member and neighbour with respect.\n"
    "2. The group is not for profit: any money it raises is used for its purposes, never "
    "shared out as dividends.\n"
    "3. The group is independent of political parties and does not campaign for any.\n"
    "4. The leader answers enquiries from people who ask to join, and keeps members' "
    "personal details private and safe.\n"
    "5. Activities are safe: the group follows safeguarding good practice for children and "
    "adults at risk, and the law.\n"
    "6. The group keeps an honest public listing: where and when it meets, and what it does.\n"
    "7. Disputes are settled openly and fairly; harassment, abuse and discrimination are not "
    "tolerated.\n"
)


# Activity this many years old can never make a group active; older dates are most likely
# typing errors, so they are refused rather than recorded.
MAX_ACTIVITY_AGE_YEARS = 5


class LeaderInput(BaseModel):
    """The group's named leader: the name is public; contact details and address are private."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200, description="Shown publicly.")
    email: str = Field(
        max_length=254,
        json_schema_extra={"pattern": EMAIL_PATTERN},
        description="Private: for enquiries.",
    )
    phone: str | None = Field(default=None, max_length=25, description="Private.")
    address: str | None = Field(default=None, max_length=500, description="Private.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        """An e-mail address of the usual shape."""
        return checked_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        """Digits, spaces, brackets, hyphens and a leading +."""
        return checked_optional_phone(value)


class CodeOfConductAcceptance(BaseModel):
    """The leader's acceptance of the neighbourhood code of conduct."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(max_length=20, description=f"The current is {CODE_OF_CONDUCT_VERSION}.")
    accepted_on: date


class GroupInput(AreaFields):
    """A new neighbourhood group, as its leader (or an officer) registers it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    kind: GroupKind = Field(description="A new group, or the kind of existing group.")
    registration_number: str | None = Field(
        default=None, max_length=50, description="Charity, company or society number, if any."
    )
    description: str = Field(default="", max_length=5000)
    meeting_place: str | None = Field(default=None, max_length=500)
    how_to_join: str | None = Field(default=None, max_length=2000)
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    leader: LeaderInput
    code_of_conduct: CodeOfConductAcceptance | None = Field(
        default=None,
        description=f"Required: the current version ({CODE_OF_CONDUCT_VERSION}) and when the "
        "leader accepted it (GET /groups/code-of-conduct).",
    )
    started_by_organiser: str | None = Field(
        default=None, max_length=20, description="Reference of the organiser who helped."
    )
    listed: bool = Field(default=True, description="Shown in the public listing and map.")

    @model_validator(mode="after")
    def _one_area(self) -> GroupInput:
        """Exactly one of geometry and lsoa_codes."""
        if (self.geometry is None) == (self.lsoa_codes is None):
            raise ValueError("give the area as exactly one of geometry or lsoa_codes")
        return self


class GroupChanges(AreaFields):
    """An edit of a group: only the fields given change (``null`` clears an optional one)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    kind: GroupKind | None = None
    registration_number: str | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=5000)
    meeting_place: str | None = Field(default=None, max_length=500)
    how_to_join: str | None = Field(default=None, max_length=2000)
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    leader: LeaderInput | None = None
    code_of_conduct: CodeOfConductAcceptance | None = None
    started_by_organiser: str | None = Field(default=None, max_length=20)
    listed: bool | None = None

    @model_validator(mode="after")
    def _at_most_one_area(self) -> GroupChanges:
        """At most one of geometry and lsoa_codes; required fields are never cleared."""
        if self.geometry is not None and self.lsoa_codes is not None:
            raise ValueError("give the new area as one of geometry or lsoa_codes, not both")
        for required in ("name", "kind", "description", "leader", "code_of_conduct", "listed"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be cleared")
        return self


class ActivityInput(BaseModel):
    """A meeting, project or event a group held."""

    model_config = ConfigDict(extra="forbid")

    kind: ActivityKind
    held_on: date = Field(description="When it happened: today or earlier.")
    title: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=5000)
    attendance: int | None = Field(default=None, ge=0, le=1_000_000)


class RatingInput(BaseModel):
    """A member of the public's rating of a group, with feedback."""

    model_config = ConfigDict(extra="forbid")

    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class ModerationInput(BaseModel):
    """An officer's decision on a rating."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision


class MessageInput(BaseModel):
    """A message to a group's leader through the relay form (to ask to join, or a question)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    # The pattern is documented; the validator checks it (after stripping) with its message.
    email: str = Field(max_length=254, json_schema_extra={"pattern": EMAIL_PATTERN})
    message: str = Field(min_length=2, max_length=5000)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        """An e-mail address of the usual shape (the leader replies to it)."""
        return checked_email(value)


class ManagerInput(BaseModel):
    """A group manager's API key to add to a group's managers."""

    model_config = ConfigDict(extra="forbid")

    key_id: int = Field(ge=1, le=2**63 - 1)


class _GroupListing(BaseModel):
    """What anyone may know about a group (its public listing)."""

    model_config = ConfigDict(extra="forbid")

    reference: str
    name: str
    kind: str
    registration_number: str | None
    description: str
    meeting_place: str | None
    how_to_join: str | None
    website: str | None
    leader_name: str
    join_url: str = Field(description="The relay form: ask to join without seeing contacts.")
    area_km2: AreaKm2
    lad_codes: list[str]
    principal_lad_code: str
    area_lsoa_codes: list[str] | None
    started_by_organiser: str | None
    active: bool = Field(description="Listed, with activity in the activity window.")
    last_activity_on: date | None
    rating_average: Rating | None
    rating_count: int
    is_synthetic: bool
    bbox: list[Coordinate] = Field(
        description=COORDINATE.describe("Extent of the area: lon/lat min, then max.")
    )
    geometry: dict[str, Any] | None = Field(
        default=None, description="The area (GeoJSON, CRS84); in single-group answers only."
    )


class GroupPublic(_GroupListing):
    """A group's public listing."""


class GroupPrivate(_GroupListing):
    """A group with its private fields, for admins, its districts' officers and its managers."""

    listed: bool
    leader_email: str
    leader_phone: str | None
    leader_address: str | None
    code_of_conduct_version: str
    code_of_conduct_accepted_on: date
    managers: list[int] = Field(description="API key ids of the group's managers.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class GroupPage(BaseModel):
    """One page of the public listing."""

    model_config = ConfigDict(extra="forbid")

    number_matched: int
    limit: int
    offset: int
    as_of: date
    groups: list[GroupPublic]


class NearbyGroup(BaseModel):
    """A group covering the point asked about, with how far its centre is."""

    model_config = ConfigDict(extra="forbid")

    distance_m: DistanceM = Field(
        description=DISTANCE_M.describe("From the point to the area's centroid (EPSG:27700).")
    )
    group: GroupPublic


class GroupsNear(BaseModel):
    """The active groups whose areas cover a point, nearest first."""

    model_config = ConfigDict(extra="forbid")

    lon: Coordinate
    lat: Coordinate
    postcode: str | None
    as_of: date
    groups: list[NearbyGroup]


class ActivityPublic(BaseModel):
    """What anyone may see of a group's activity."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    held_on: date
    title: str


class ActivityPrivate(BaseModel):
    """A group's activity record in full."""

    model_config = ConfigDict(extra="forbid")

    id: int
    kind: str
    held_on: date
    title: str
    description: str
    attendance: int | None
    recorded_by: str
    at: datetime


class RatingPublic(BaseModel):
    """A published rating (or the receipt of a new one, pending moderation)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    stars: int
    comment: str
    status: str
    rated_on: date


class RatingPrivate(RatingPublic):
    """A rating as its moderators see it, with the sender's keyed fingerprint."""

    rater_fingerprint: str
    created_at: datetime
    moderated_by: str | None
    moderated_at: datetime | None


class MessageReceipt(BaseModel):
    """That a relay message was received (the leader answers by e-mail)."""

    model_config = ConfigDict(extra="forbid")

    group: str
    received_at: datetime
    detail: str


class Message(BaseModel):
    """A message sent through a group's relay form."""

    model_config = ConfigDict(extra="forbid")

    id: int
    sender_name: str
    sender_email: str
    message: str
    created_at: datetime
    read_at: datetime | None


class CodeOfConduct(BaseModel):
    """The neighbourhood code of conduct groups accept."""

    model_config = ConfigDict(extra="forbid")

    version: str
    issued_on: date
    text: str


class Managers(BaseModel):
    """A group's managers (API key ids)."""

    model_config = ConfigDict(extra="forbid")

    reference: str
    managers: list[int]


CODE_OF_CONDUCT = CodeOfConduct(
    version=CODE_OF_CONDUCT_VERSION, issued_on=CODE_OF_CONDUCT_ISSUED_ON, text=CODE_OF_CONDUCT_TEXT
)

"""Neighbourhood planning: the request and response models of the API and the loaders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from geo.assets import models as assets_models
from geo.drawn_areas import WORLD_BOUNDS, DrawnArea, drawn_area_schema
from geo.figures import AreaHa
from geo.planning import rules
from geo.registry_rules import SPACE_CLASS

GROUP_PATTERN = r"^NG-[0-9]{6,18}$"
# Not white space (spelt out: geo.registry_rules.SPACE_CLASS), "<", ">", a quote nor NUL.
URL_PATTERN = rf'^https?://[^<>"\x00{SPACE_CLASS}]{{3,2000}}$'


class Document(BaseModel):
    """A document of a plan, as a link (Platoons stores no files)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=300)
    url: str = Field(pattern=URL_PATTERN, max_length=2000)
    stage: str | None = Field(default=None, max_length=40)


class AreaInput(BaseModel):
    """An application for a neighbourhood area, as an officer or a group manager records it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    geometry: DrawnArea = Field(
        description="GeoJSON Polygon or MultiPolygon in longitude, latitude (EPSG:4326)."
    )
    applicant_type: rules.ApplicantType
    applicant_name: str | None = Field(
        default=None, min_length=2, max_length=200, description="The parish council or forum."
    )
    group: str | None = Field(
        default=None, pattern=GROUP_PATTERN, description="A registered group's NG- reference."
    )
    whole_parish: bool = Field(
        default=False, description="A parish council applying for its whole parish (reg 5A)."
    )
    applied_on: date
    publicised_on: date | None = Field(
        default=None, description="When the authority first publicised it (reg 6)."
    )
    website: str | None = Field(default=None, pattern=URL_PATTERN, max_length=2000)
    is_example: bool = False


class StepInput(BaseModel):
    """What a step needs: the date it took effect and the facts of that step."""

    model_config = ConfigDict(extra="forbid")

    on: date | None = Field(default=None, description="When it took effect (default today).")
    reason: str | None = Field(default=None, max_length=2000)
    members: int | None = Field(default=None, ge=0, le=1_000_000)
    members_confirmed_on: date | None = None
    open_membership: bool = False
    written_constitution: bool = False
    referendum_passed: bool | None = None
    documents: list[Document] = Field(default_factory=list, max_length=50)


class ForumInput(BaseModel):
    """An application to be designated the neighbourhood forum of a designated area."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    group: str | None = Field(
        default=None, pattern=GROUP_PATTERN, description="A registered group applying as itself."
    )
    applied_on: date
    publicised_on: date | None = None
    members: int | None = Field(default=None, ge=0, le=1_000_000)
    members_confirmed_on: date | None = None
    open_membership: bool = False
    written_constitution: bool = False
    website: str | None = Field(default=None, pattern=URL_PATTERN, max_length=2000)
    is_example: bool = False


class PlanInput(BaseModel):
    """A neighbourhood plan started (in draft) by the area's qualifying body."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    drafted_on: date | None = None
    documents: list[Document] = Field(default_factory=list, max_length=50)
    is_example: bool = False


class ReceiptInput(BaseModel):
    """A levy receipt from development in the area, as an officer records it."""

    model_config = ConfigDict(extra="forbid")

    development: str = Field(min_length=2, max_length=300)
    amount: Decimal = Field(gt=0, le=Decimal("1000000000"), decimal_places=2)
    received_on: date
    plan_in_effect: bool = Field(
        description="Whether a neighbourhood plan was in effect when permission was first granted."
    )
    site: (
        Annotated[dict[str, Any], WithJsonSchema(drawn_area_schema(WORLD_BOUNDS, point=True))]
        | None
    ) = Field(default=None, description="GeoJSON Point, Polygon or MultiPolygon (EPSG:4326).")
    notes: str | None = Field(default=None, max_length=2000)


class DwellingsInput(BaseModel):
    """The council-tax dwellings in an area for one financial year, with the cap's index."""

    model_config = ConfigDict(extra="forbid")

    financial_year: int = Field(
        ge=2010, le=2100, description="2026 for 1 April 2026 - 31 March 2027."
    )
    dwellings: int = Field(ge=0, le=10_000_000)
    dwellings_source: str = Field(min_length=3, max_length=500)
    index_year: Decimal | None = Field(default=None, gt=0, le=Decimal("100000"))
    index_base: Decimal | None = Field(default=None, gt=0, le=Decimal("100000"))
    index_source: str | None = Field(default=None, max_length=500)


class DeadlineOut(assets_models.DeadlineOut):
    """A statutory date of the current stage, and whether it has passed."""

    passed: bool = False


class Forum(BaseModel):
    """A neighbourhood forum (application or designation) of an area."""

    id: int
    reference: str
    area_id: int
    area_reference: str
    name: str
    group_reference: str | None
    status: str
    applied_on: date
    publicised_on: date | None
    designated_on: date | None
    expires_on: date | None
    decided_on: date | None
    decided_late: bool
    ended_on: date | None
    members: int | None
    members_confirmed_on: date | None
    open_membership: bool
    written_constitution: bool
    website: str | None
    reason: str | None
    is_example: bool
    deadlines: list[DeadlineOut]
    next_deadline: DeadlineOut | None
    next_steps: list[str]
    version: int


class Plan(BaseModel):
    """A neighbourhood plan of an area and its stage."""

    id: int
    reference: str
    area_id: int
    area_reference: str
    name: str
    status: str
    consultation_started_on: date | None
    submitted_on: date | None
    publicised_on: date | None
    examination_started_on: date | None
    report_received_on: date | None
    referendum_ordered_on: date | None
    referendum_on: date | None
    made_on: date | None
    ended_on: date | None
    decided_late: bool
    reason: str | None
    documents: list[Document]
    is_example: bool
    deadlines: list[DeadlineOut]
    next_deadline: DeadlineOut | None
    next_steps: list[str]
    version: int


class Area(BaseModel):
    """A neighbourhood area application, its stage, forums and plans."""

    id: int
    reference: str
    name: str
    applicant_type: str
    applicant_name: str
    group_reference: str | None
    kind: str
    whole_parish: bool
    status: str
    applied_on: date
    publicised_on: date | None
    decided_on: date | None
    decided_late: bool
    reason: str | None
    area_ha: AreaHa
    lad_codes: list[str]
    principal_lad_code: str
    website: str | None
    is_example: bool
    geometry: dict[str, Any]
    deadlines: list[DeadlineOut]
    next_deadline: DeadlineOut | None
    next_steps: list[str]
    forums: list[Forum]
    plans: list[Plan]
    stage: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class PlanningEvent(BaseModel):
    """One step in the history of an area, its forums, plans or levy."""

    id: int
    entity: str
    entity_id: int
    step: str
    from_status: str | None
    to_status: str | None
    effective_on: date
    recorded_on: date
    actor: str
    at: datetime
    details: dict[str, Any]


class UpcomingPlanningDeadline(BaseModel):
    """A planning deadline falling within the window asked for."""

    area_id: int
    reference: str
    name: str
    lad_codes: list[str]
    entity: str
    entity_reference: str
    status: str
    kind: str
    period: str
    ends: date
    authority: str


class AreaAtPoint(BaseModel):
    """What a click on the map answers about a neighbourhood area."""

    id: int
    reference: str
    name: str
    status: str
    stage: str
    forum_reference: str | None
    forum_status: str | None
    next_deadline: DeadlineOut | None
    levy_year: str
    levy_total: Decimal | None
    levy_missing: list[str]

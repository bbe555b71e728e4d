"""The collection registry: every layer Platoons serves, declared once.

A :class:`Collection` says which serving table holds the layer's features, which rows belong
to it, its properties (each queryable, sortable and selectable), and how it tiles. The OGC API
Features and Tiles routers, TileJSON and the maps are generic over this registry: a new layer
(grant eligibility, assets, groups, coverage) becomes a collection by calling
:func:`register`, not by writing routes.

Identifiers (table and column names) come only from these declarations and are quoted with
``psycopg.sql.Identifier`` wherever they reach SQL; values are always bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from psycopg import sql

from geo.figures import (
    ADULTS,
    AREA_HA,
    AREA_KM2,
    LAD_MEASURE_FIGURES,
    RATE_PER_1000,
    RATING,
    SHARE,
    Figure,
)

PropertyType = Literal["string", "integer", "number", "boolean"]

IOD_DOMAINS: tuple[tuple[str, str], ...] = (
    ("imd", "Index of Multiple Deprivation"),
    ("income", "Income Deprivation"),
    ("employment", "Employment Deprivation"),
    ("education", "Education, Skills and Training Deprivation"),
    ("health", "Health Deprivation and Disability"),
    ("crime", "Crime"),
    ("barriers", "Barriers to Housing and Services"),
    ("living_environment", "Living Environment Deprivation"),
    ("idaci", "Income Deprivation Affecting Children Index"),
    ("idaopi", "Income Deprivation Affecting Older People Index"),
)
LAD_MEASURES: tuple[tuple[str, str], ...] = (
    ("average_rank", "population-weighted average of LSOA ranks (most deprived LSOA = N)"),
    ("average_score", "population-weighted average of LSOA scores"),
    ("extent", "weighted share of the population in the most deprived 30% of LSOAs"),
    ("local_concentration", "average rank of the most deprived LSOAs holding 10% of people"),
    ("proportion_most_deprived_10pct", "share of LSOAs in the most deprived 10% nationally"),
)


@dataclass(frozen=True)
class Property:
    """One attribute of a collection's features (a column of its serving table)."""

    name: str
    type: PropertyType
    description: str
    # How the value is shown (geo.figures): rounded in every serving query (items, GeoJSON and
    # MVT tiles); the serving table keeps full precision. None: shown as stored.
    figure: Figure | None = None

    @property
    def described(self) -> str:
        """The description with the figure's rounding rule, if it has one."""
        return self.description if self.figure is None else self.figure.describe(self.description)


@dataclass(frozen=True)
class Collection:
    """A layer served as an OGC API collection and as vector tiles."""

    id: str
    title: str
    description: str
    table: str
    # Rows of the table that belong to this collection: column -> required value.
    where: dict[str, str]
    properties: tuple[Property, ...]
    id_column: str = "code"
    # Integer feature id for vector tiles (MVT ids must be unsigned integers).
    tile_id_column: str = "fid"
    geometry_type: str = "MultiPolygon"
    # Properties carried by tiles; low zooms carry fewer to stay within the byte budget.
    tile_properties: tuple[str, ...] = ()
    low_zoom_tile_properties: tuple[str, ...] = ()
    minzoom: int = 0
    maxzoom: int = 16
    default_sort: tuple[str, ...] = ("code",)
    attribution: str = ""
    keywords: tuple[str, ...] = ()
    property_index: dict[str, Property] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "property_index", {p.name: p for p in self.properties})

    def property(self, name: str) -> Property | None:
        """Return the named property, or None if the collection has no such property."""
        return self.property_index.get(name)


IOD_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(English Indices of Deprivation, MHCLG). Source: Office for National Statistics "
    "licensed under the Open Government Licence v3.0. Contains OS data © Crown copyright and "
    "database right 2011-2024."
)

_REGISTRY: dict[str, Collection] = {}


def register(collection: Collection) -> Collection:
    """Add a collection to the registry (its id must be new)."""
    if collection.id in _REGISTRY:
        raise ValueError(f"collection {collection.id!r} is already registered")
    _REGISTRY[collection.id] = collection
    return collection


def shown_value(collection: Collection, name: str, column: sql.Composable) -> sql.Composable:
    """The SQL of a property's value as served: rounded by its figure's rule, if it has one."""
    prop = collection.property(name)
    return column if prop is None or prop.figure is None else prop.figure.sql(column)


def get_collection(collection_id: str) -> Collection | None:
    """Return the registered collection with this id, or None."""
    return _REGISTRY.get(collection_id)


def all_collections() -> list[Collection]:
    """Return every registered collection, in registration order."""
    return list(_REGISTRY.values())


def _lsoa_properties(with_scores: bool, supplementary: bool) -> tuple[Property, ...]:
    """Properties of an LSOA deprivation collection."""
    props = [
        Property("code", "string", "LSOA GSS code"),
        Property("name", "string", "LSOA name"),
        Property("lad_code", "string", "local authority district GSS code"),
        Property("lad_name", "string", "local authority district name"),
        Property("ward_code", "string", "electoral ward GSS code (best fit)"),
        Property("ward_name", "string", "electoral ward name"),
    ]
    if not with_scores:
        props.append(Property("population", "integer", "the edition's population denominator"))
    for code, title in IOD_DOMAINS:
        if code in ("idaci", "idaopi") and not supplementary:
            continue
        if with_scores:
            props.append(Property(f"{code}_score", "number", f"{title}: score"))
        props.append(Property(f"{code}_rank", "integer", f"{title}: rank (1 = most deprived)"))
        props.append(
            Property(f"{code}_decile", "integer", f"{title}: decile (1 = most deprived 10%)")
        )
    return tuple(props)


# The IMD measures an edition's own district summaries publish (lad_published_measure).
PUBLISHED_LAD_MEASURES: tuple[str, ...] = (
    "average_rank",
    "average_score",
    "proportion_most_deprived_10pct",
)


def _lad_properties(edition: str, published: bool) -> tuple[Property, ...]:
    """Properties of a LAD summary collection: computed measures, and the published ones."""
    props = [
        Property("code", "string", "local authority district GSS code"),
        Property("name", "string", "local authority district name"),
        Property("region_code", "string", "region GSS code"),
        Property("region_name", "string", "region name"),
        Property("lsoa_count", "integer", "LSOAs in the district"),
    ]
    for measure, description in LAD_MEASURES:
        props.append(
            Property(
                f"imd_{measure}",
                "number",
                f"IMD {description}, computed from the LSOA data",
                LAD_MEASURE_FIGURES[measure],
            )
        )
        props.append(
            Property(f"imd_{measure}_rank", "integer", f"rank among LADs of imd_{measure}")
        )
    if published:
        descriptions = dict(LAD_MEASURES)
        for measure in PUBLISHED_LAD_MEASURES:
            props.append(
                Property(
                    f"published_imd_{measure}",
                    "number",
                    f"IMD {descriptions[measure]}, as published by MHCLG ({edition} district "
                    "summaries)",
                )
            )
            props.append(
                Property(
                    f"published_imd_{measure}_rank",
                    "integer",
                    f"published rank among all {edition} districts of the IMD {measure} "
                    "(1 = most deprived), as published by MHCLG",
                )
            )
    return tuple(props)


def _register_deprivation_collections() -> None:
    """Declare the LSOA and LAD layers of both English index editions."""
    # published: whether the edition's own district summaries are loaded (sources.toml).
    editions = (
        ("IoD2025", "2025", "LSOA 2021", "LAD 2024", True, False, True),
        ("IoD2019", "2019", "LSOA 2011", "LAD 2019", False, True, False),
    )
    for edition, year, lsoa_geo, lad_geo, scores, supplementary, published in editions:
        slug = edition.lower()
        register(
            Collection(
                id=f"lsoa-{slug}",
                title=f"LSOAs with the English Indices of Deprivation {year}",
                description=(
                    f"{lsoa_geo} boundaries (England) with the IMD and every domain's "
                    f"{'score, ' if scores else ''}rank and decile of {edition}. Rank 1 and "
                    "decile 1 are the most deprived."
                ),
                table="lsoa_deprivation",
                where={"edition_code": edition},
                properties=_lsoa_properties(scores, supplementary),
                tile_properties=(
                    "code",
                    "name",
                    "lad_code",
                    "lad_name",
                    "imd_rank",
                    "imd_decile",
                    "income_decile",
                    "employment_decile",
                    "education_decile",
                    "health_decile",
                    "crime_decile",
                    "barriers_decile",
                    "living_environment_decile",
                ),
                # The MVT feature id encodes the code (E01006112 -> 1006112), so low zooms,
                # where tiles hold tens of thousands of LSOAs, carry only the decile.
                low_zoom_tile_properties=("imd_decile",),
                minzoom=5,
                maxzoom=16,
                attribution=IOD_ATTRIBUTION,
                keywords=("deprivation", "LSOA", edition),
            )
        )
        register(
            Collection(
                id=f"lad-{slug}",
                title=f"Local authority districts with IoD {year} summary measures",
                description=(
                    f"{lad_geo} boundaries (England) with the IMD summary measures of {edition} "
                    "(IoD technical report, Appendix N) computed from the LSOA data. Ranks "
                    "among LADs are given only when the whole edition is loaded; measures "
                    "whose inputs the sources lack are null."
                    + (
                        f" The published_imd_* properties are {edition}'s own district "
                        "summaries as MHCLG published them, ranked among all districts."
                        if published
                        else ""
                    )
                ),
                table="lad_deprivation",
                where={"edition_code": edition},
                properties=_lad_properties(edition, published),
                tile_properties=(
                    "code",
                    "name",
                    "imd_average_rank",
                    "imd_extent",
                    "imd_proportion_most_deprived_10pct",
                    *(
                        f"published_imd_{measure}_rank"
                        for measure in (PUBLISHED_LAD_MEASURES if published else ())
                    ),
                ),
                low_zoom_tile_properties=("code", "name", "imd_proportion_most_deprived_10pct"),
                minzoom=0,
                maxzoom=12,
                attribution=IOD_ATTRIBUTION,
                keywords=("deprivation", "local authority", edition),
            )
        )


_register_deprivation_collections()


register(
    Collection(
        id="grant-eligibility",
        title="Neighbourhood grant eligibility by LSOA",
        description=(
            "For each grant programme, every LSOA of its index edition's geography and whether "
            "it qualifies, assessed as a map click there would be (on its own, or as part of "
            "its ward or district for ward- and district-level programmes). Filter by "
            "programme_id. Example programmes are labelled as such in programme_name."
        ),
        table="programme_lsoa_eligibility",
        where={},
        properties=(
            Property("programme_id", "string", "grant programme id"),
            Property("programme_name", "string", "grant programme name"),
            Property("edition_code", "string", "index edition the programme uses"),
            Property("code", "string", "LSOA GSS code"),
            Property("name", "string", "LSOA name"),
            Property("lad_code", "string", "local authority district GSS code"),
            Property("ward_code", "string", "electoral ward GSS code (best fit)"),
            Property("imd_decile", "integer", "IMD decile (1 = most deprived 10%)"),
            Property("qualifies", "boolean", "whether the LSOA qualifies for the programme"),
            Property("assessed_as", "string", "the unit assessed: lsoa:, ward: or lad: and code"),
        ),
        id_column="feature_id",
        tile_properties=("programme_id", "code", "name", "qualifies", "imd_decile", "assessed_as"),
        low_zoom_tile_properties=("programme_id", "code", "qualifies"),
        minzoom=5,
        maxzoom=16,
        default_sort=("feature_id",),
        attribution=IOD_ATTRIBUTION,
        keywords=("grants", "eligibility", "deprivation"),
    )
)


register(
    Collection(
        id="assets-of-community-value",
        title="Assets of community value",
        description=(
            "Land and buildings nominated to or listed on councils' registers of assets of "
            "community value (Localism Act 2011, Part 5 Chapter 3), with their lifecycle "
            "status, their LSOA's IMD decile (IoD2025) and the next statutory deadline as of "
            "the last change. Example entries are flagged is_example."
        ),
        table="asset_serving",
        where={},
        properties=(
            Property("reference", "string", "register reference"),
            Property("name", "string", "asset name"),
            Property("category", "string", "pub, shop, library, park_green_space, ..."),
            Property("owner_type", "string", "commercial, local_authority, charity, ..."),
            Property("status", "string", "lifecycle status (nominated, listed, ...)"),
            Property("lsoa_code", "string", "LSOA 2021 GSS code containing the asset"),
            Property("lad_code", "string", "local authority district GSS code"),
            Property("imd_decile", "integer", "IMD 2025 decile of the LSOA (1 = most deprived)"),
            Property("next_deadline", "string", "next statutory deadline (ISO date)"),
            Property("next_deadline_kind", "string", "what the next deadline is"),
            Property("listed_on", "string", "listing date (ISO date)"),
            Property("is_example", "boolean", "whether the entry is illustrative example data"),
            Property("open_amenity_bids", "integer", "open bids by groups to run the amenity"),
        ),
        id_column="reference",
        geometry_type="Point",
        tile_properties=(
            "reference",
            "name",
            "category",
            "status",
            "imd_decile",
            "next_deadline",
            "next_deadline_kind",
            "open_amenity_bids",
        ),
        low_zoom_tile_properties=("reference", "category", "status", "next_deadline"),
        minzoom=0,
        maxzoom=16,
        default_sort=("reference",),
        attribution=IOD_ATTRIBUTION,
        keywords=("assets of community value", "community rights", "Localism Act 2011"),
    )
)


PLANNING_ATTRIBUTION = (
    "Neighbourhood planning: Platoons register (entries flagged is_example are illustrative "
    "example data). Statutory dates computed from the Town and Country Planning Act 1990 and "
    "the Neighbourhood Planning (General) Regulations 2012 (geo/planning/rules.py)."
)

register(
    Collection(
        id="neighbourhood-areas",
        title="Neighbourhood areas",
        description=(
            "Neighbourhood areas applied for or designated under s.61G of the Town and Country "
            "Planning Act 1990, with their stage (area, forum or plan) and the next statutory "
            "deadline as of the last change. Example entries are flagged is_example."
        ),
        table="neighbourhood_area_serving",
        where={},
        properties=(
            Property("reference", "string", "area reference (NA-...)"),
            Property("name", "string", "area name"),
            Property("status", "string", "applied, publicised, designated, refused, withdrawn"),
            Property("kind", "string", "standard, cross_authority or whole_parish"),
            Property("applicant_type", "string", "parish_council, prospective_forum, ..."),
            Property("applicant_name", "string", "the applicant"),
            Property("forum_reference", "string", "the area's latest forum (NF- or NG-)"),
            Property("forum_status", "string", "that forum's status"),
            Property("plan_reference", "string", "the area's latest plan (NP-...)"),
            Property("plan_status", "string", "that plan's stage"),
            Property("stage", "string", "the area's stage in one phrase"),
            Property("next_deadline", "string", "next statutory deadline (ISO date)"),
            Property("next_deadline_kind", "string", "what the next deadline is"),
            Property("lad_codes", "string", "districts the area touches (comma-separated)"),
            Property("area_ha", "number", "area in hectares (EPSG:27700)", AREA_HA),
            Property("is_example", "boolean", "whether the entry is illustrative example data"),
        ),
        id_column="reference",
        tile_properties=(
            "reference",
            "name",
            "status",
            "stage",
            "forum_status",
            "plan_status",
            "next_deadline",
            "next_deadline_kind",
        ),
        low_zoom_tile_properties=("reference", "status", "stage"),
        minzoom=5,
        maxzoom=16,
        default_sort=("reference",),
        attribution=PLANNING_ATTRIBUTION,
        keywords=("neighbourhood planning", "Localism Act 2011", "neighbourhood areas"),
    )
)


GROUP_ATTRIBUTION = (
    "Neighbourhood groups and organisers: Platoons register (entries flagged is_synthetic are "
    "generated test data on the real geography). Boundaries: Source: Office for National "
    "Statistics licensed under the Open Government Licence v3.0. Contains OS data © Crown "
    "copyright and database right 2011-2024."
)

register(
    Collection(
        id="neighbourhood-groups",
        title="Neighbourhood groups",
        description=(
            "Registered neighbourhood groups and the areas they cover, with their public "
            "listing only (the leader's contact details are never served). A group is active "
            "when it is listed and has recorded a meeting, project or event in the last 12 "
            "months (configurable). Generated groups are flagged is_synthetic."
        ),
        table="group_serving",
        where={},
        properties=(
            Property("reference", "string", "group reference"),
            Property("name", "string", "group name"),
            Property("kind", "string", "new_group, residents_association, charity, ..."),
            Property("description", "string", "what the group does"),
            Property("meeting_place", "string", "where the group meets"),
            Property("leader_name", "string", "the group's named leader"),
            Property("principal_lad_code", "string", "district holding most of the area"),
            Property("area_km2", "number", "area covered, km²", AREA_KM2),
            Property("active", "boolean", "activity recorded in the last 12 months"),
            Property("last_activity_on", "string", "date of the latest activity (ISO date)"),
            Property("rating_average", "number", "average of published ratings (1-5)", RATING),
            Property("rating_count", "integer", "number of published ratings"),
            Property("is_synthetic", "boolean", "whether the group is generated test data"),
        ),
        id_column="reference",
        tile_properties=("reference", "name", "kind", "active", "rating_average"),
        low_zoom_tile_properties=("reference", "active"),
        minzoom=5,
        maxzoom=16,
        default_sort=("reference",),
        attribution=GROUP_ATTRIBUTION,
        keywords=("neighbourhood groups", "community", "coverage"),
    )
)

register(
    Collection(
        id="community-organisers",
        title="Community organisers' patches",
        description=(
            "Trained community organisers and the patches they work, with their training "
            "centre and the number of groups they helped start (no contact details). "
            "Generated organisers are flagged is_synthetic."
        ),
        table="organiser_serving",
        where={},
        properties=(
            Property("reference", "string", "organiser reference"),
            Property("name", "string", "organiser's name"),
            Property("training_centre", "string", "where the organiser trained"),
            Property("trained_on", "string", "training completion date (ISO date)"),
            Property("active", "boolean", "whether the organiser is working"),
            Property("groups_started", "integer", "groups the organiser helped start"),
            Property("patch_area_km2", "number", "area of the patch, km²", AREA_KM2),
            Property("is_synthetic", "boolean", "whether the organiser is generated test data"),
        ),
        id_column="reference",
        tile_properties=("reference", "name", "active", "groups_started"),
        low_zoom_tile_properties=("reference", "active"),
        minzoom=5,
        maxzoom=16,
        default_sort=("reference",),
        attribution=GROUP_ATTRIBUTION,
        keywords=("community organisers", "coverage"),
    )
)


def _coverage_properties() -> tuple[Property, ...]:
    return (
        Property("code", "string", "LSOA 2021 GSS code"),
        Property("name", "string", "LSOA name"),
        Property("lad_code", "string", "local authority district GSS code"),
        Property("lad_name", "string", "local authority district name"),
        Property("imd_decile", "integer", "IMD 2025 decile (1 = most deprived 10%)"),
        Property(
            "adults", "number", "adults (18+), apportioned to LSOA 2021 (see population)", ADULTS
        ),
        Property(
            "covered_share", "number", "share of the area (and adults) in an active group", SHARE
        ),
        Property(
            "adults_covered", "number", "adults living where at least one group works", ADULTS
        ),
        Property("adults_uncovered", "number", "adults no active group reaches", ADULTS),
        Property("active_groups", "integer", "active groups working in the LSOA"),
        Property("organiser_share", "number", "share of the area in an organiser's patch", SHARE),
        Property(
            "adults_organiser_covered", "number", "adults inside an organiser's patch", ADULTS
        ),
        Property("organisers", "integer", "organisers whose patch touches the LSOA"),
        Property("cold_spot", "boolean", "IMD decile 1-2 with coverage below the threshold"),
        Property("as_of", "string", "date the 12-month activity test used (ISO date)"),
    )


_COVERAGE_DESCRIPTION = (
    "For each LSOA (IoD2025 geography), the share of its adults living inside the area of at "
    "least one active neighbourhood group, area-weighted in EPSG:27700 with the adult "
    "population loaded with the indices (mid-2019 estimates apportioned to 2021 LSOAs)."
)
_COVERAGE_TILE_PROPERTIES = (
    "code",
    "name",
    "imd_decile",
    "adults",
    "covered_share",
    "adults_uncovered",
    "active_groups",
    "cold_spot",
)

register(
    Collection(
        id="coverage-lsoa",
        title="Neighbourhood group coverage by LSOA",
        description=_COVERAGE_DESCRIPTION,
        table="lsoa_coverage",
        where={},
        properties=_coverage_properties(),
        tile_properties=_COVERAGE_TILE_PROPERTIES,
        low_zoom_tile_properties=("covered_share", "cold_spot"),
        minzoom=5,
        maxzoom=16,
        attribution=IOD_ATTRIBUTION,
        keywords=("coverage", "neighbourhood groups", "LSOA"),
    )
)

register(
    Collection(
        id="coverage-cold-spots",
        title="Cold spots: deprived LSOAs no group reaches",
        description=(
            "LSOAs in IMD 2025 deciles 1-2 whose coverage by active neighbourhood groups is "
            "below the default threshold; sort by -adults_uncovered for the ranking. "
            "/coverage/cold-spots takes other thresholds. " + _COVERAGE_DESCRIPTION
        ),
        table="lsoa_coverage",
        where={"cold_spot": "true"},
        properties=_coverage_properties(),
        tile_properties=_COVERAGE_TILE_PROPERTIES,
        low_zoom_tile_properties=("code", "adults_uncovered"),
        minzoom=5,
        maxzoom=16,
        default_sort=("code",),
        attribution=IOD_ATTRIBUTION,
        keywords=("coverage", "cold spots", "deprivation"),
    )
)

for _resolution in (6, 7, 8, 9):
    register(
        Collection(
            id=f"coverage-h3-r{_resolution}",
            title=f"Neighbourhood group coverage on the H3 grid, resolution {_resolution}",
            description=(
                f"Adults covered by active neighbourhood groups in each H3 cell of resolution "
                f"{_resolution}. Each resolution-9 cell holds the adults of the LSOA its centre "
                "falls in, shared equally among that LSOA's cells, and counts as covered when "
                "its centre lies in an active group's area; coarser cells sum their children."
            ),
            table="h3_coverage_serving",
            where={"resolution": str(_resolution)},
            properties=(
                Property("cell", "string", "H3 cell index"),
                Property("adults", "number", "adults (18+) in the cell", ADULTS),
                Property(
                    "adults_covered", "number", "adults inside an active group's area", ADULTS
                ),
                Property("covered_share", "number", "adults_covered / adults", SHARE),
                Property("deprived_adults", "number", "adults in IMD deciles 1-2", ADULTS),
                Property("deprived_adults_covered", "number", "of those, covered", ADULTS),
                Property(
                    "adults_organiser_covered", "number", "adults in an organiser's patch", ADULTS
                ),
            ),
            id_column="cell",
            geometry_type="Polygon",
            tile_properties=("cell", "adults", "covered_share", "deprived_adults"),
            low_zoom_tile_properties=("covered_share",),
            minzoom={6: 5, 7: 7, 8: 9, 9: 10}[_resolution],
            maxzoom=16,
            default_sort=("cell",),
            attribution=IOD_ATTRIBUTION,
            keywords=("coverage", "H3", "neighbourhood groups"),
        )
    )


CRIME_ATTRIBUTION = (
    "Street-level crime: data.police.uk, Contains public sector information licensed under the "
    "Open Government Licence v3.0. Locations are police.uk's anonymised map points. "
    "Boundaries: Source: Office for National Statistics licensed under the Open Government "
    "Licence v3.0. Contains OS data © Crown copyright and database right 2011-2024."
)

register(
    Collection(
        id="crime-points",
        title="Street-level crimes (police.uk map points)",
        description=(
            "Each crime police.uk published, at its anonymised map point (several crimes share "
            "a point; a point is never an exact address), with its month and type. Filter by "
            "month (YYYY-MM) and crime_type. Crimes without a location are not mapped. Months "
            "a force did not publish are absent, which means no data, not no crime."
        ),
        table="crime_point_serving",
        where={},
        properties=(
            Property("fid", "integer", "crime's row id"),
            Property("force", "string", "police force that published the crime"),
            Property("month", "string", "month recorded (YYYY-MM)"),
            Property("crime_type", "string", "police.uk crime type"),
            Property("location", "string", "police.uk's map point description (On or near ...)"),
            Property("lsoa11_code", "string", "LSOA 2011 code (police.uk's, or point in polygon)"),
            Property("lsoa21_code", "string", "LSOA 2021 code"),
            Property("ward_code", "string", "electoral ward GSS code"),
            Property("lad_code", "string", "local authority district GSS code"),
            Property("h3_cell", "string", "H3 cell of resolution 9 holding the point"),
        ),
        id_column="fid",
        geometry_type="Point",
        tile_properties=("month", "crime_type", "location"),
        low_zoom_tile_properties=("month", "crime_type"),
        minzoom=10,
        maxzoom=16,
        default_sort=("fid",),
        attribution=CRIME_ATTRIBUTION,
        keywords=("crime", "police.uk", "street-level crime"),
    )
)

register(
    Collection(
        id="crime-lsoa",
        title="Street-level crime by LSOA",
        description=(
            "Crimes held for each LSOA (2021 generation), and in the 12 months to the latest "
            "month its police force published, with the rate per 1,000 residents (the "
            "current edition's population). A crime's LSOA is police.uk's own where given."
        ),
        table="crime_lsoa_serving",
        where={},
        properties=(
            Property("code", "string", "LSOA 2021 GSS code"),
            Property("name", "string", "LSOA name"),
            Property("lad_code", "string", "local authority district GSS code"),
            Property("lad_name", "string", "local authority district name"),
            Property("first_month", "string", "first month the force's data holds (YYYY-MM)"),
            Property("last_month", "string", "latest month the force published (YYYY-MM)"),
            Property("crimes", "integer", "crimes held, all months"),
            Property("crimes_last_12_months", "integer", "crimes in the 12 months to last_month"),
            Property("residents", "number", "residents (current edition's population)", ADULTS),
            Property(
                "rate_per_1000_last_12_months",
                "number",
                "crimes per 1,000 residents",
                RATE_PER_1000,
            ),
        ),
        tile_properties=("code", "name", "crimes_last_12_months", "rate_per_1000_last_12_months"),
        low_zoom_tile_properties=("rate_per_1000_last_12_months",),
        minzoom=5,
        maxzoom=16,
        attribution=CRIME_ATTRIBUTION,
        keywords=("crime", "police.uk", "LSOA"),
    )
)

for _resolution in (7, 8, 9):
    register(
        Collection(
            id=f"crime-h3-r{_resolution}",
            title=f"Street-level crime on the H3 grid, resolution {_resolution}",
            description=(
                f"Crimes whose police.uk map point lies in each H3 cell of resolution "
                f"{_resolution} (cells with at least one crime), all months held and the 12 "
                "months to the latest month the force published."
            ),
            table="crime_h3_serving",
            where={"resolution": str(_resolution)},
            properties=(
                Property("cell", "string", "H3 cell index"),
                Property("crimes", "integer", "crimes held, all months"),
                Property("crimes_last_12_months", "integer", "crimes in the latest 12 months"),
            ),
            id_column="cell",
            geometry_type="Polygon",
            tile_properties=("cell", "crimes", "crimes_last_12_months"),
            low_zoom_tile_properties=("crimes_last_12_months",),
            minzoom={7: 7, 8: 9, 9: 10}[_resolution],
            maxzoom=16,
            default_sort=("cell",),
            attribution=CRIME_ATTRIBUTION,
            keywords=("crime", "H3", "police.uk"),
        )
    )

"""Neighbourhood groups: the registry, its public listing, activity, ratings and relay messages.

A neighbourhood group (the programme's definition) is a new group or an existing
not-for-dividend one (residents' association, scouts, social enterprise, charity) of people
living in a defined area, with a named leader who gives contact details and an address and
accepts the neighbourhood code of conduct. It is listed publicly so people can ask to join
(through a relay form: the leader's address is never shown), rate it and give feedback.

Private and public are two shapes, never one with fields blanked: :class:`GroupPublic` has no
field that could hold the leader's contact details, and :class:`GroupPrivate` is served only to
admins, officers whose districts the area touches, and the group's own managers (see
:func:`may_see_private`). The public map layer (``group_serving``) has no such column either.

Areas are drawn (a GeoJSON Polygon/MultiPolygon in lon/lat) or named (LSOA 2021 codes, whose
union is the area); either is validated (valid without repair, vertex, size and England
limits) and measured in EPSG:27700. A group is **active** on a date when it is listed and its
latest activity is no older than the activity window (:func:`geo.coverage.active_since`).

Every write locks the group's row, writes the group, the audit log, the map layer
(:func:`rewrite_group_serving`) and the coverage of the LSOAs it touches
(:func:`geo.coverage.refresh_group`) and bumps the data version, in one transaction.
"""

# The package re-exports the names callers used from the single module it replaced; new code
# imports from the module that defines a thing.
from geo.drawn_areas import (
    ENGLAND_SHARE_REQUIRED,
    LAD_M2_MIN,
    LAD_SHARE_MIN,
    MAX_LSOA_CODES,
    AreaFields,
    MeasuredArea,
    drawn_area_wkb,
    measure_area,
)
from geo.groups.access import (
    check_group_reference,
    client_fingerprint,
    may_see_private,
    require_may_edit,
    retry_after_seconds,
)
from geo.groups.messages import (
    list_messages,
    send_message,
)
from geo.groups.models import (
    CODE_OF_CONDUCT,
    CODE_OF_CONDUCT_ISSUED_ON,
    CODE_OF_CONDUCT_TEXT,
    CODE_OF_CONDUCT_VERSION,
    GROUP_REFERENCE,
    MAX_ACTIVITY_AGE_YEARS,
    ActivityInput,
    ActivityKind,
    ActivityPrivate,
    ActivityPublic,
    CodeOfConduct,
    CodeOfConductAcceptance,
    Decision,
    GroupChanges,
    GroupInput,
    GroupKind,
    GroupPage,
    GroupPrivate,
    GroupPublic,
    GroupsNear,
    LeaderInput,
    ManagerInput,
    Managers,
    Message,
    MessageInput,
    MessageReceipt,
    ModerationInput,
    NearbyGroup,
    RatingInput,
    RatingPrivate,
    RatingPublic,
    RatingStatus,
)
from geo.groups.ratings import (
    list_ratings,
    moderate_rating,
    rating_private_view,
    rating_public_view,
    submit_rating,
)
from geo.groups.reads import (
    get_group,
    group_row,
    group_select_params,
    groups_near,
    list_activities,
    list_groups,
    listing_fields,
    private_view,
    public_view,
    select_groups,
    visible_group_row,
)
from geo.groups.writes import (
    add_manager,
    check_code_of_conduct,
    create_group,
    group_audit_view,
    iso_date_or_none,
    keep_derived_in_step,
    lock_group_row,
    record_activity,
    refresh_group_coverage,
    rewrite_group_serving,
    started_by_organiser_id,
    update_group,
)
from geo.registry_rules import (
    DEFAULT_RULES,
    EMAIL,
    MAX_PAGE,
    PHONE,
    GroupRules,
    clean_text,
)

__all__ = [
    "ActivityInput",
    "ActivityKind",
    "ActivityPrivate",
    "ActivityPublic",
    "AreaFields",
    "CODE_OF_CONDUCT",
    "CODE_OF_CONDUCT_ISSUED_ON",
    "CODE_OF_CONDUCT_TEXT",
    "CODE_OF_CONDUCT_VERSION",
    "CodeOfConduct",
    "CodeOfConductAcceptance",
    "DEFAULT_RULES",
    "Decision",
    "EMAIL",
    "ENGLAND_SHARE_REQUIRED",
    "GROUP_REFERENCE",
    "GroupChanges",
    "GroupInput",
    "GroupKind",
    "GroupPage",
    "GroupPrivate",
    "GroupPublic",
    "GroupRules",
    "GroupsNear",
    "LAD_M2_MIN",
    "LAD_SHARE_MIN",
    "LeaderInput",
    "MAX_ACTIVITY_AGE_YEARS",
    "MAX_LSOA_CODES",
    "MAX_PAGE",
    "ManagerInput",
    "Managers",
    "MeasuredArea",
    "Message",
    "MessageInput",
    "MessageReceipt",
    "ModerationInput",
    "NearbyGroup",
    "PHONE",
    "RatingInput",
    "RatingPrivate",
    "RatingPublic",
    "RatingStatus",
    "add_manager",
    "check_code_of_conduct",
    "check_group_reference",
    "clean_text",
    "client_fingerprint",
    "create_group",
    "drawn_area_wkb",
    "get_group",
    "group_audit_view",
    "group_row",
    "group_select_params",
    "groups_near",
    "iso_date_or_none",
    "keep_derived_in_step",
    "list_activities",
    "list_groups",
    "list_messages",
    "list_ratings",
    "listing_fields",
    "lock_group_row",
    "may_see_private",
    "measure_area",
    "moderate_rating",
    "private_view",
    "public_view",
    "rating_private_view",
    "rating_public_view",
    "record_activity",
    "refresh_group_coverage",
    "require_may_edit",
    "retry_after_seconds",
    "rewrite_group_serving",
    "select_groups",
    "send_message",
    "started_by_organiser_id",
    "submit_rating",
    "update_group",
    "visible_group_row",
]

"""Neighbourhood groups: the registry, its public listing, activity, ratings and relay messages.

A neighbourhood group (the programme's definition) is a new group or an existing
not-for-dividend one (residents' association, scouts, social enterprise, charity) of people
living in a defined area, with a named leader who gives contact details and an address and
accepts the neighbourhood code of conduct. It is listed publicly so people can ask to join
(through a relay form: the leader's address is never shown), rate it and give feedback.

Private and public are two shapes, never one with fields blanked: :class:`GroupPublic` has no
field that could hold the leader's contact details, and :class:`GroupPrivate` is served only to
admins, officers whose districts the area touches, and the group's own managers (see
:func:`geo.groups.access.may_see_private`). The public map layer (``group_serving``) has no
such column either.

Areas are drawn (a GeoJSON Polygon/MultiPolygon in lon/lat) or named (LSOA 2021 codes, whose
union is the area); either is validated (valid without repair, vertex, size and England
limits) and measured in EPSG:27700. A group is **active** on a date when it is listed and its
latest activity is no older than the activity window (:func:`geo.coverage.active_since`).

Every write locks the group's row, writes the group, the audit log, the map layer
(:func:`rewrite_group_serving`) and the coverage of the LSOAs it touches
(:func:`geo.coverage.refresh_group`) and bumps the data version, in one transaction.
"""

# The package's interface: the names the web layer and other domains call, each defined in
# the module it is imported from here. Within the package, modules import from each other.
from geo.drawn_areas import (
    LAD_M2_MIN,
    LAD_SHARE_MIN,
    measure_area,
)
from geo.groups.access import (
    client_fingerprint,
)
from geo.groups.messages import (
    list_messages,
    send_message,
)
from geo.groups.models import (
    CODE_OF_CONDUCT,
    CODE_OF_CONDUCT_ISSUED_ON,
    CODE_OF_CONDUCT_VERSION,
    MAX_ACTIVITY_AGE_YEARS,
    ActivityInput,
    ActivityPrivate,
    ActivityPublic,
    CodeOfConduct,
    CodeOfConductAcceptance,
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
    RatingInput,
    RatingPrivate,
    RatingPublic,
    RatingStatus,
)
from geo.groups.ratings import (
    list_ratings,
    moderate_rating,
    submit_rating,
)
from geo.groups.reads import (
    get_group,
    groups_near,
    list_activities,
    list_groups,
)
from geo.groups.writes import (
    add_manager,
    create_group,
    record_activity,
    rewrite_group_serving,
    update_group,
)
from geo.registry_rules import (
    DEFAULT_RULES,
    MAX_PAGE,
    GroupRules,
)

__all__ = [
    "ActivityInput",
    "ActivityPrivate",
    "ActivityPublic",
    "CODE_OF_CONDUCT",
    "CODE_OF_CONDUCT_ISSUED_ON",
    "CODE_OF_CONDUCT_VERSION",
    "CodeOfConduct",
    "CodeOfConductAcceptance",
    "DEFAULT_RULES",
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
    "MAX_PAGE",
    "ManagerInput",
    "Managers",
    "Message",
    "MessageInput",
    "MessageReceipt",
    "ModerationInput",
    "RatingInput",
    "RatingPrivate",
    "RatingPublic",
    "RatingStatus",
    "add_manager",
    "client_fingerprint",
    "create_group",
    "get_group",
    "groups_near",
    "list_activities",
    "list_groups",
    "list_messages",
    "list_ratings",
    "measure_area",
    "moderate_rating",
    "record_activity",
    "rewrite_group_serving",
    "send_message",
    "submit_rating",
    "update_group",
]

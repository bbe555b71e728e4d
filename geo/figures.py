"""Figures for people: how many decimals each kind of public figure is given to, said once.

The database keeps every figure at full precision (an adult count apportioned by area is
506.05007002801176 there); what the service shows (JSON, GeoJSON, vector tiles, HTML) is
rounded to what the data supports, by the rule of its kind below, and the same rule is used
wherever the figure is built: in Python (:meth:`Figure.round`, the pydantic types
:data:`Adults`, :data:`Share`, ...) and in the serving SQL (:meth:`Figure.sql`, which the
collection registry's properties use for OGC items, GeoJSON and MVT tiles alike).

Both round half away from zero on the value's 15-significant-digit decimal form, which is
what PostgreSQL's ``round(x::numeric, n)`` does with a double precision ``x``, so a figure is
the same number whichever side rounded it. Counts stay integers; money is an exact decimal
in pence (:func:`pence`); published statistics keep the precision they were published with
(IoD scores have 3 decimals and are not rounded again; ranks and deciles are integers).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from psycopg import sql
from pydantic import GetJsonSchemaHandler, PlainSerializer
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

# Where the rules are explained to people, named in every field description that uses one.
RULES_REFERENCE = "README, Figures"


@dataclass(frozen=True)
class Figure:
    """One kind of public figure and the decimal places it is given to."""

    kind: str
    places: int
    # Why this precision, in a phrase for the README and the OpenAPI descriptions.
    reason: str

    @property
    def step(self) -> str:
        """The smallest step shown: "0.1", "0.0001", "1"."""
        return "1" if self.places == 0 else f"0.{'0' * (self.places - 1)}1"

    @property
    def note(self) -> str:
        """The rule as one sentence, appended to a field's description."""
        return f"Rounded to {self.step} ({self.reason}; {RULES_REFERENCE})."

    def describe(self, text: str) -> str:
        """A field description: ``text`` followed by the rule."""
        return f"{text.rstrip()} {self.note}"

    def round(self, value: float) -> float:
        """The figure as shown: ``value`` rounded half away from zero to ``places`` decimals."""
        exact = Decimal(f"{float(value):.15g}")
        return float(exact.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP))

    def round_or_none(self, value: float | None) -> float | None:
        """:meth:`round`, passing None through."""
        return None if value is None else self.round(value)

    def text(self, value: float) -> str:
        """The figure for a page: rounded, with thousands separators (``1,234.5``)."""
        return f"{self.round(value):,.{self.places}f}"

    def sql(self, expression: sql.Composable) -> sql.Composable:
        """The same rounding in SQL, as a double precision (MVT encodes numeric as text)."""
        return sql.SQL("round(({})::numeric, {})::double precision").format(
            expression, sql.Literal(self.places)
        )


# People apportioned by area (adults, residents) are estimates spread evenly over an LSOA:
# a tenth of a person keeps sums adding up without claiming more.
ADULTS = Figure("people", 1, "people apportioned by area are estimates")
SHARE = Figure("share", 4, "a share of 0 to 1; 0.0001 is a hundredth of a per cent")
AREA_KM2 = Figure("area (km²)", 2, "areas to 0.01 km², a hectare")
AREA_HA = Figure("area (ha)", 0, "areas to 0.01 km², a hectare")
# Crimes per 1,000 residents: one crime in an LSOA of about 1,600 residents moves the rate by
# about 0.6, so a tenth is finer than any single LSOA's rate can move.
RATE_PER_1000 = Figure("rate per 1,000", 1, "per 1,000 residents, to a tenth")
RATIO = Figure("ratio", 2, "a ratio of two counts, to a hundredth")
P_VALUE = Figure("p-value", 4, "a probability; 0.0 means below 0.00005")
RATING = Figure("rating", 1, "an average of whole-star ratings 1-5")
DISTANCE_M = Figure("distance (m)", 0, "metres in EPSG:27700")
# Longitude and latitude as GeoJSON geometries give them: 6 decimals, about 0.1 m.
COORDINATE = Figure("coordinate", 6, "degrees; 6 decimals is about 0.1 m")

# District summary measures computed by Platoons are given to the decimals MHCLG publishes its
# own in (the IoD2025 district summaries: average rank 2, average score 3, proportion 4), so a
# computed and a published figure compare like with like; local concentration is an average of
# ranks (2) and extent a share (4).
LAD_MEASURE_FIGURES: dict[str, Figure] = {
    "average_rank": Figure("average rank", 2, "as MHCLG publishes district average ranks"),
    "average_score": Figure("average score", 3, "as MHCLG publishes district average scores"),
    "extent": SHARE,
    "local_concentration": Figure("local concentration", 2, "an average of ranks, as ranks"),
    "proportion_most_deprived_10pct": SHARE,
}

PENNY = Decimal("0.01")
MONEY_NOTE = (
    f"Pounds to the penny, an exact decimal in a string, rounded half up ({RULES_REFERENCE})."
)


def pence(value: Decimal) -> Decimal:
    """Money as shown: an exact decimal rounded half up to the penny."""
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def _pence_text(value: Decimal) -> str:
    return str(pence(value))


class _Rule:
    """Pydantic metadata adding a rule's sentence to the JSON Schema description of a field."""

    def __init__(self, note: str) -> None:
        self.note = note

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        text = schema.get("description")
        schema["description"] = f"{text.rstrip()} {self.note}" if text else self.note
        return schema


def shown(figure: Figure) -> Any:
    """The pydantic metadata of a float field shown by ``figure``'s rule (in JSON only)."""
    return PlainSerializer(figure.round, return_type=float, when_used="json")


Adults = Annotated[float, shown(ADULTS), _Rule(ADULTS.note)]
Share = Annotated[float, shown(SHARE), _Rule(SHARE.note)]
AreaKm2 = Annotated[float, shown(AREA_KM2), _Rule(AREA_KM2.note)]
AreaHa = Annotated[float, shown(AREA_HA), _Rule(AREA_HA.note)]
RatePer1000 = Annotated[float, shown(RATE_PER_1000), _Rule(RATE_PER_1000.note)]
Ratio = Annotated[float, shown(RATIO), _Rule(RATIO.note)]
PValue = Annotated[float, shown(P_VALUE), _Rule(P_VALUE.note)]
Rating = Annotated[float, shown(RATING), _Rule(RATING.note)]
DistanceM = Annotated[float, shown(DISTANCE_M), _Rule(DISTANCE_M.note)]
Coordinate = Annotated[float, shown(COORDINATE), _Rule(COORDINATE.note)]
# Money: the amount as an exact decimal string in pence ("1234.50"), as pydantic writes a
# Decimal, rounded half up where a division made more decimals (pounds per resident).
Money = Annotated[
    Decimal, PlainSerializer(_pence_text, return_type=str, when_used="json"), _Rule(MONEY_NOTE)
]

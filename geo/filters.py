"""CQL2 filters (OGC API - Features Part 3) translated into parameterised SQL.

Parsing and validation are done by the maintained ``cql2`` library (text and JSON
encodings); this module walks the resulting CQL2-JSON tree and builds a
``psycopg.sql.Composed`` in which every property is a quoted identifier checked against the
collection's declared properties and every literal is a bound parameter. Nothing the caller
sends is ever pasted into SQL text.

Supported: logical (and, or, not), comparison (=, <>, <, <=, >, >=, like, between, in,
isNull) and the basic spatial functions (s_intersects, s_equals, s_disjoint, s_touches,
s_within, s_overlaps, s_crosses, s_contains) on the ``geometry`` property.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import cql2
import shapely
import shapely.geometry
from psycopg import sql

from geo.collections import Collection
from geo.crs import Crs, area_of_use, clip_to_area_of_use, within_area_of_use
from geo.errors import InvalidInput

GEOMETRY_PROPERTY = "geometry"
COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
SPATIAL = {
    "s_intersects": "ST_Intersects",
    "s_equals": "ST_Equals",
    "s_disjoint": "ST_Disjoint",
    "s_touches": "ST_Touches",
    "s_within": "ST_Within",
    "s_overlaps": "ST_Overlaps",
    "s_crosses": "ST_Crosses",
    "s_contains": "ST_Contains",
}
# Predicates whose answer for a feature (inside Great Britain) is the same when a literal
# argument is replaced by its part inside British National Grid's area of use, by position.
CLIP_EXACT_AS_FIRST = {"s_intersects", "s_disjoint", "s_touches", "s_contains"}
CLIP_EXACT_AS_SECOND = {"s_intersects", "s_disjoint", "s_touches", "s_within"}
MAX_FILTER_LENGTH = 20_000
# Where coordinates are meaningful in each served CRS (x/y order), so that a literal off the
# earth is a 400 rather than a PostGIS transformation error.
VALID_AREA = {
    4326: (-180.0, -90.0, 180.0, 90.0),
    27700: (-1_000_000.0, -1_000_000.0, 2_000_000.0, 2_500_000.0),
    3857: (-20_037_508.35, -20_048_966.11, 20_037_508.35, 20_048_966.11),
}
MAX_DEPTH = 50
# The cql2 parser (pest) recurses once per nesting level and overflows the process's stack (a
# crash, not an exception) at about 2,000 nested parentheses or 5,000 unary minuses; and on
# text that fails to parse it backtracks through every way of reading each open parenthesis,
# doubling the time with each level (3 s at 20 levels, an hour at 30; 17 ms at 10). CQL2 text
# is therefore measured before it is parsed: string literals out, then the deepest
# parentheses and the longest run of prefix operators (NOT, unary minus).
MAX_TEXT_PARENTHESES = 10
_CQL2_STRINGS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_CQL2_PREFIXES = re.compile(r"(?:(?:\bNOT\b|-)\s*){2,}", re.IGNORECASE)


def cql2_text_nesting(text: str) -> tuple[int, int]:
    """How deeply CQL2 text nests: its deepest parentheses and longest run of NOT / minus."""
    bare = _CQL2_STRINGS.sub("''", text)
    depth = deepest = 0
    for character in bare:
        if character == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif character == ")":
            depth = max(0, depth - 1)
    runs = (
        len(re.findall(r"NOT|-", m.group(0), re.IGNORECASE)) for m in _CQL2_PREFIXES.finditer(bare)
    )
    return deepest, max(runs, default=0)


def parse_filter(text: str, lang: str | None) -> dict[str, Any]:
    """Parse a ``filter`` parameter in CQL2 text (default) or CQL2 JSON into CQL2-JSON."""
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput(f"filter longer than {MAX_FILTER_LENGTH} characters", parameter="filter")
    if "\x00" in text:
        raise InvalidInput("filter contains a NUL character", parameter="filter")
    lang = (lang or "cql2-text").lower()
    if lang == "cql2-text":
        parentheses, prefixes = cql2_text_nesting(text)
        if parentheses > MAX_TEXT_PARENTHESES or prefixes > MAX_DEPTH:
            raise InvalidInput(
                f"filter nests too deeply (at most {MAX_TEXT_PARENTHESES} parentheses "
                f"and {MAX_DEPTH} NOTs or minus signs in a row)",
                parameter="filter",
            )
    try:
        if lang == "cql2-text":
            expression = cql2.Expr(text)
        elif lang == "cql2-json":
            expression = cql2.Expr(json.loads(text))
        else:
            raise InvalidInput(
                "filter-lang must be cql2-text or cql2-json", parameter="filter-lang"
            )
        tree = expression.to_json()
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 - cql2 raises a bare Exception with the parse error
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
        raise InvalidInput(f"invalid CQL2 filter: {first_line}", parameter="filter") from exc
    if not isinstance(tree, dict):
        raise InvalidInput("a CQL2 filter must be a boolean expression", parameter="filter")
    return tree


def filter_to_sql(
    tree: dict[str, Any], collection: Collection, crs: Crs, params: dict[str, Any]
) -> sql.Composable:
    """Translate a CQL2-JSON tree into a SQL condition on the collection's serving table.

    Literals become named placeholders whose values are added to ``params``. Geometry
    literals are in ``crs`` (``filter-crs``) and are transformed explicitly to the storage
    CRS (EPSG:27700) of the ``geom`` column.
    """
    return _Translator(collection, crs, params).boolean(tree, 0)


class _Translator:
    """Walks one CQL2-JSON tree; raises InvalidInput naming what is not supported."""

    def __init__(self, collection: Collection, crs: Crs, params: dict[str, Any]) -> None:
        self.collection = collection
        self.crs = crs
        self.params = params

    def param(self, value: Any) -> sql.Composable:
        """Bind a literal: a named placeholder, its value sent apart from the SQL text."""
        name = f"filter_{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def boolean(self, node: Any, depth: int) -> sql.Composable:
        if depth > MAX_DEPTH:
            raise InvalidInput("filter nested too deeply", parameter="filter")
        if isinstance(node, bool):
            return sql.SQL("TRUE" if node else "FALSE")
        if not isinstance(node, dict) or "op" not in node:
            raise InvalidInput("expected a predicate", parameter="filter")
        op = str(node["op"]).lower()
        args = node.get("args", [])
        if op in ("and", "or"):
            if not isinstance(args, list) or len(args) < 2:
                raise InvalidInput(f"{op} needs at least two arguments", parameter="filter")
            parts = [self.boolean(a, depth + 1) for a in args]
            joiner = sql.SQL(f" {op.upper()} ")
            return sql.SQL("({})").format(joiner.join(parts))
        if op == "not":
            return sql.SQL("(NOT {})").format(
                self.boolean(self._only_argument(args, op), depth + 1)
            )
        if op in COMPARISONS:
            left, right = self._two_arguments(args, op)
            return sql.SQL("({} {} {})").format(
                self.scalar(left), sql.SQL(COMPARISONS[op]), self.scalar(right, like=left)
            )
        if op == "like":
            left, right = self._two_arguments(args, op)
            self._require_string(left, op)
            if not isinstance(right, str):
                raise InvalidInput("a LIKE pattern must be a text literal", parameter="filter")
            return sql.SQL("({} LIKE {})").format(self.scalar(left), self.scalar(right, like=left))
        if op == "between":
            if len(args) != 3:
                raise InvalidInput("between takes three arguments", parameter="filter")
            value, low, high = args
            return sql.SQL("({} BETWEEN {} AND {})").format(
                self.scalar(value), self.scalar(low, like=value), self.scalar(high, like=value)
            )
        if op == "in":
            value, options = self._two_arguments(args, op)
            if not isinstance(options, list) or not options:
                raise InvalidInput("in needs a non-empty list", parameter="filter")
            items = sql.SQL(", ").join(self.scalar(o, like=value) for o in options)
            return sql.SQL("({} IN ({}))").format(self.scalar(value), items)
        if op == "isnull":
            return sql.SQL("({} IS NULL)").format(self.scalar(self._only_argument(args, op)))
        if op in SPATIAL:
            left, right = self._two_arguments(args, op)
            (left_sql, left_clipped), (right_sql, right_clipped) = (
                self.geometry(left),
                self.geometry(right),
            )
            # A literal reaching outside British National Grid's area of use is clipped to it
            # (see geometry()). The features all lie inside that area, so a predicate that
            # only asks where the literal meets them is unchanged by the clip; one about the
            # literal as a whole (equal to, overlapping, crossing or inside a feature) is not,
            # and is refused rather than answered wrongly.
            if (left_clipped and op not in CLIP_EXACT_AS_FIRST) or (
                right_clipped and op not in CLIP_EXACT_AS_SECOND
            ):
                raise InvalidInput(
                    f"{node['op']} with a geometry reaching outside Great Britain (where "
                    "British National Grid is defined) is not supported: clip the geometry to "
                    "Great Britain",
                    parameter="filter",
                )
            return sql.SQL("{}({}, {})").format(sql.SQL(SPATIAL[op]), left_sql, right_sql)
        raise InvalidInput(f"unsupported CQL2 operator {node['op']!r}", parameter="filter")

    def scalar(self, node: Any, like: Any = None) -> sql.Composable:
        """A property reference or a literal (typed like the property it is compared with)."""
        if isinstance(node, dict) and "property" in node:
            name = node["property"]
            if name == GEOMETRY_PROPERTY:
                raise InvalidInput("compare geometries with the s_* functions", parameter="filter")
            prop = self.collection.property(name)
            if prop is None:
                raise InvalidInput(
                    f"unknown property {name!r}; see /collections/{self.collection.id}/queryables",
                    parameter="filter",
                )
            other = self._type_of(like)
            if other is not None and _family(other) != _family(prop.type):
                raise InvalidInput(
                    f"cannot compare {like['property']} ({other}) with {name} ({prop.type})",
                    parameter="filter",
                )
            return sql.Identifier(name)
        if isinstance(node, dict | list):
            raise InvalidInput("unsupported expression in filter", parameter="filter")
        if isinstance(node, str) and "\x00" in node:
            raise InvalidInput("filter text contains a NUL character", parameter="filter")
        if isinstance(node, float) and not math.isfinite(node):
            raise InvalidInput("filter numbers must be finite", parameter="filter")
        expected = self._type_of(like)
        if node is not None and expected is not None:
            numeric = isinstance(node, int | float) and not isinstance(node, bool)
            if expected in ("integer", "number") and not numeric:
                raise InvalidInput(
                    f"{like['property']} is numeric; got {node!r}", parameter="filter"
                )
            if expected == "string" and not isinstance(node, str):
                raise InvalidInput(f"{like['property']} is text; got {node!r}", parameter="filter")
        return sql.SQL("NULL") if node is None else self.param(node)

    def geometry(self, node: Any) -> tuple[sql.Composable, bool]:
        """The geometry column, or a GeoJSON/bbox literal transformed to EPSG:27700.

        The flag says whether the literal reached outside British National Grid's area of use
        and was clipped to it (PostGIS cannot transform what lies far outside it).
        """
        if isinstance(node, dict) and node.get("property") == GEOMETRY_PROPERTY:
            return sql.Identifier("geom"), False
        if isinstance(node, dict) and "bbox" in node:
            try:
                box = [float(v) for v in node["bbox"]]
            except (TypeError, ValueError) as exc:
                raise InvalidInput("a BBOX has four numbers", parameter="filter") from exc
            if len(box) == 6:
                box = [box[0], box[1], box[3], box[4]]
            if len(box) != 4:
                raise InvalidInput("a BBOX has four numbers", parameter="filter")
            if self.crs.lat_first:
                box = [box[1], box[0], box[3], box[2]]
            self._check_range(box)
            inside = within_area_of_use((box[0], box[1], box[2], box[3]), self.crs)
            clipped = clip_to_area_of_use((box[0], box[1], box[2], box[3]), self.crs)
            if clipped is None:
                return sql.SQL("ST_GeomFromText('POLYGON EMPTY', 27700)"), True
            envelope = sql.SQL("ST_Transform(ST_MakeEnvelope({}, {}, {}, {}, {}), 27700)")
            return envelope.format(
                *[self.param(v) for v in clipped], sql.Literal(self.crs.srid)
            ), not inside
        if isinstance(node, dict) and "type" in node and "coordinates" in node:
            try:
                coordinates = shapely.get_coordinates(shapely.geometry.shape(node))
            except Exception as exc:  # noqa: BLE001 - shapely raises several types
                raise InvalidInput(
                    f"malformed geometry in filter: {exc}", parameter="filter"
                ) from exc
            if len(coordinates) == 0:
                raise InvalidInput("empty geometry in filter", parameter="filter")
            if self.crs.lat_first:
                coordinates = coordinates[:, ::-1]
            self._check_range(coordinates.ravel().tolist())
            shape = sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON({}), {})").format(
                self.param(json.dumps(node)), sql.Literal(self.crs.srid)
            )
            if self.crs.lat_first:
                shape = sql.SQL("ST_FlipCoordinates({})").format(shape)
            xs, ys = coordinates[:, 0], coordinates[:, 1]
            bounds = area_of_use(self.crs)
            reaches_out = bounds is not None and not within_area_of_use(
                (xs.min(), ys.min(), xs.max(), ys.max()), self.crs
            )
            if bounds is not None and reaches_out:
                # Only the part inside British National Grid's area of use can be transformed.
                shape = sql.SQL("ST_Intersection({}, ST_MakeEnvelope({}, {}, {}, {}, {}))").format(
                    shape, *[sql.Literal(v) for v in bounds], sql.Literal(self.crs.srid)
                )
            return sql.SQL("ST_Transform({}, 27700)").format(shape), reaches_out
        raise InvalidInput(
            "spatial functions compare `geometry` with a geometry", parameter="filter"
        )

    def _check_range(self, xy: list[float]) -> None:
        """Reject coordinates outside the CRS's valid area (PostGIS would fail on them)."""
        xmin, ymin, xmax, ymax = VALID_AREA[self.crs.srid]
        xs, ys = xy[0::2], xy[1::2]
        finite = all(math.isfinite(v) for v in xy)
        if not finite or min(xs) < xmin or max(xs) > xmax or min(ys) < ymin or max(ys) > ymax:
            raise InvalidInput(
                f"filter coordinates outside the valid area of {self.crs.uri}", parameter="filter"
            )

    def _type_of(self, node: Any) -> str | None:
        if isinstance(node, dict) and "property" in node:
            prop = self.collection.property(node["property"])
            return prop.type if prop else None
        return None

    def _require_string(self, node: Any, op: str) -> None:
        if self._type_of(node) != "string":
            raise InvalidInput(f"{op} applies to text properties", parameter="filter")

    @staticmethod
    def _only_argument(args: list[Any], op: str) -> Any:
        if len(args) != 1:
            raise InvalidInput(f"{op} takes one argument", parameter="filter")
        return args[0]

    @staticmethod
    def _two_arguments(args: list[Any], op: str) -> tuple[Any, Any]:
        if len(args) != 2:
            raise InvalidInput(f"{op} takes two arguments", parameter="filter")
        return args[0], args[1]


def _family(property_type: str) -> str:
    """Types that compare with each other: numbers with numbers, text with text."""
    return "number" if property_type in ("integer", "number") else property_type

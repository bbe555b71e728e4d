"""geo/figures.py: each kind's decimals, rounding as PostgreSQL rounds, and the pydantic types."""

from __future__ import annotations

import random
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql
from pydantic import BaseModel, Field

from geo import figures
from tests.utils import figures as rules

# Values whose rounding a careless rule gets wrong: exact halves (binary and decimal), negative
# halves, values just under a half, long apportioned figures, tiny and large ones.
AWKWARD = [
    0.125,
    2.5,
    -2.5,
    0.5,
    1.005,
    2.675,
    0.00005,
    -0.00005,
    0.44999999999999996,
    506.05007002801176,
    1693.218981862934,
    0.2727743535554572,
    12412.154355617555,
    1e-12,
    123456789.123456789,
    0.0,
]


def test_each_kind_has_the_readme_decimals() -> None:
    assert (
        figures.ADULTS.places,
        figures.SHARE.places,
        figures.AREA_KM2.places,
        figures.AREA_HA.places,
        figures.RATE_PER_1000.places,
        figures.RATIO.places,
        figures.P_VALUE.places,
        figures.RATING.places,
        figures.DISTANCE_M.places,
        figures.COORDINATE.places,
    ) == (
        rules.ADULTS,
        rules.SHARE,
        rules.AREA_KM2,
        rules.AREA_HA,
        rules.RATE_PER_1000,
        rules.RATIO,
        rules.P_VALUE,
        rules.RATING,
        rules.DISTANCE_M,
        rules.COORDINATE,
    )
    assert {k: f.places for k, f in figures.LAD_MEASURE_FIGURES.items()} == (
        rules.LAD_MEASURE_PLACES
    )


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (506.05007002801176, 1, 506.1),
        (0.125, 2, 0.13),  # half away from zero, not to even
        (2.5, 0, 3.0),
        (-2.5, 0, -3.0),
        (2.675, 2, 2.68),  # 2.67499999... in binary, 2.675 to 15 digits
        (0.27277435, 4, 0.2728),
        (0.0, 4, 0.0),
    ],
)
def test_round_is_half_away_from_zero(value: float, places: int, shown: float) -> None:
    figure = figures.Figure("test", places, "a test")
    assert figure.round(value) == shown
    assert figure.round_or_none(None) is None


def test_python_and_postgresql_round_alike(conn: psycopg.Connection) -> None:
    generator = random.Random(16)
    values = AWKWARD + [generator.uniform(-1e4, 1e4) for _ in range(300)]
    values += [generator.random() for _ in range(300)]
    for figure in (figures.ADULTS, figures.SHARE, figures.AREA_KM2, figures.AREA_HA):
        statement = sql.SQL(
            "SELECT {} FROM unnest(%s::float8[]) WITH ORDINALITY AS v(x, i) ORDER BY i"
        ).format(figure.sql(sql.Identifier("x")))
        in_sql = [r[0] for r in conn.execute(statement, (values,)).fetchall()]
        assert (
            in_sql
            == [figure.round(v) for v in values]
            == [rules.rounded(v, figure.places) for v in values]
        )
        assert all(isinstance(v, float) for v in in_sql)  # MVT encodes numeric as text


def test_text_and_description() -> None:
    assert figures.ADULTS.text(1234.56) == "1,234.6"
    assert figures.SHARE.text(0.5) == "0.5000"
    assert figures.SHARE.step == "0.0001" and figures.AREA_HA.step == "1"
    assert figures.ADULTS.describe("Adults.").startswith("Adults. Rounded to 0.1 (")
    assert "README, Figures" in figures.ADULTS.note


def test_pence_is_half_up() -> None:
    assert figures.pence(Decimal("0.125")) == Decimal("0.13")
    assert figures.pence(Decimal("-0.125")) == Decimal("-0.13")
    assert figures.pence(Decimal("10")) == Decimal("10.00")
    assert str(figures.pence(Decimal("1") / Decimal("3"))) == "0.33"


class _Example(BaseModel):
    adults: figures.Adults = Field(description=figures.ADULTS.describe("Adults here."))
    share: figures.Share
    area: figures.AreaKm2 | None = None


def test_models_keep_full_precision_and_show_the_rule() -> None:
    example = _Example(adults=506.05007002801176, share=0.2727743535554572, area=2.234448804631718)
    # The object keeps the full value (for any computation); its JSON shows the figure.
    assert example.adults == 506.05007002801176
    assert example.model_dump(mode="json") == {"adults": 506.1, "share": 0.2728, "area": 2.23}
    assert _Example(adults=1.0, share=0.0).model_dump(mode="json")["area"] is None
    schema = _Example.model_json_schema(mode="serialization")["properties"]
    assert schema["adults"]["description"].startswith("Adults here. Rounded to 0.1 ")
    assert schema["share"]["description"].startswith("Rounded to 0.0001 ")
    assert schema["area"]["anyOf"][0]["description"].startswith("Rounded to 0.01 ")


class _Payment(BaseModel):
    amount: figures.Money
    per_resident: figures.Money | None = None


def test_money_is_an_exact_string_in_pence() -> None:
    payment = _Payment(amount=Decimal("1234.5"), per_resident=Decimal(1000) / Decimal(3))
    assert payment.model_dump(mode="json") == {"amount": "1234.50", "per_resident": "333.33"}
    assert _Payment(amount=Decimal("0.125")).model_dump(mode="json")["amount"] == "0.13"
    schema = _Payment.model_json_schema(mode="serialization")["properties"]["amount"]
    assert schema["type"] == "string" and "to the penny" in schema["description"]

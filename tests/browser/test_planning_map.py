"""Neighbourhood planning on the coverage map in headless chromium: the areas overlay and the
click answer (stage, forum, next deadline, this year's levy portion).

One area is recorded through :mod:`geo.planning.areas` and :mod:`geo.planning.forums` as a
council would (applied, publicised, designated), with a forum application publicised a week
ago and a levy receipt; the expected
dates are worked here from the regulations' wording (6 weeks from first publicity, reg 9(d)),
not by the service's functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from pyproj import Transformer

from config.settings import DatabaseSettings
from geo.planning import areas, forums, receipts
from geo.planning.models import ForumInput, ReceiptInput, StepInput
from tests.browser.conftest import WatchedPage, off_the_browser_thread
from tests.geo.test_groups import square
from tests.utils import factories

CENTRE = (-2.32, 53.44)  # Trafford, more than 700 m from its edge
POPUP = ".leaflet-popup-content"
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


@dataclass(frozen=True)
class MapArea:
    """The area this module records and what the popup should say of it."""

    reference: str
    forum_reference: str
    representations_end: date


@pytest.fixture(scope="module")
def map_area(settings: DatabaseSettings) -> Iterator[MapArea]:
    made = factories.Made()
    today = factories.today()
    publicised = today - timedelta(days=7)

    async def record(aconn: psycopg.AsyncConnection) -> MapArea:
        officer = await made.key(aconn, "officer", ["E08000009"])
        x, y = TO_BNG.transform(*CENTRE)
        area = await factories.example_neighbourhood_area(
            aconn,
            officer.principal,
            "EXAMPLE map test neighbourhood area",
            square(x, y, 400),
            "EXAMPLE forum (browser tests)",
        )
        await areas.take_area_step(
            aconn, area.id, "designate", StepInput(on=date(2026, 3, 2)), officer.principal, today
        )
        forum = await forums.apply_forum(
            aconn,
            area.id,
            ForumInput(
                name="EXAMPLE forum (browser tests)",
                applied_on=publicised,
                publicised_on=publicised,
                is_example=True,
            ),
            officer.principal,
            today,
        )
        await receipts.record_receipt(
            aconn,
            area.id,
            ReceiptInput(
                development="EXAMPLE development",
                amount=Decimal("10000.00"),
                received_on=today - timedelta(days=1),
                plan_in_effect=True,
            ),
            officer.principal,
            today,
        )
        return MapArea(area.reference, forum.reference, publicised + timedelta(weeks=6))

    yield off_the_browser_thread(lambda: factories.run(settings.dsn, record))
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        made.drop(conn)


def test_a_click_in_an_area_shows_its_stage_forum_deadline_and_levy(
    watched: WatchedPage, live_server: str, map_area: MapArea
) -> None:
    watched.page.goto(f"{live_server}/maps/coverage")
    watched.settle()
    control = watched.page.inner_text(".leaflet-control-layers")
    assert "Neighbourhood planning areas" in control
    lon, lat = CENTRE
    watched.show(lon, lat, 15)
    watched.click_map(lon, lat)
    block = watched.page.locator(f"{POPUP} .platoons-planning")
    text = block.inner_text()
    assert map_area.reference in text and "area designated; forum publicised" in text
    assert f"forum {map_area.forum_reference} publicised" in text
    assert f"next deadline {map_area.representations_end.isoformat()}" in text
    assert "reg 9(d)" in text
    # 25% of £10,000 received with a plan in effect: £2,500.00, uncapped (reg 59A(3)).
    assert "£2500.00" in text
    assert watched.errors == [] and watched.off_host(live_server) == []
    watched.screenshot("planning-click")

"""The assets of community value map in headless chromium, against the demo data.

The register is the example file (``example_assets``, every entry labelled EXAMPLE) and one
asset this module records through :mod:`geo.assets` as a council and a group would (recorded,
nominated, listed, disposal notified a week ago), so the interim moratorium is open today and
a group may ask to be treated as a bidder. Two neighbourhood groups are registered through
:mod:`geo.groups` (one working in Trafford, one in Blackpool, which does not border it), so the
Group box's suggestions and the local-connection rule are seen in the page. Expected statuses
and dates are computed here from the register file and the statute's periods (``dateutil``),
not by the service's functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import psycopg
import pytest
import shapely.wkt
from dateutil.relativedelta import relativedelta

from app.maps import STATUS_COLOURS
from config.settings import DatabaseSettings
from geo import assets, groups
from tests.app.test_maps import EXAMPLE_REGISTER, register_status
from tests.browser.conftest import WatchedPage, off_the_browser_thread
from tests.utils import factories, sources

TRAFFORD, BLACKPOOL = "E08000009", "E06000009"
LAYER = "assets-of-community-value"
POINTS_2021 = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
IOD2025 = sources.csv(sources.IOD2025).set_index("lsoa21_code")
LOOKUP_2021 = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")
POSTCODES = sources.csv(sources.POSTCODES).set_index("postcode")
POPUP = ".leaflet-popup-content"
DAY = timedelta(days=1)


def weeks_from(start: date, weeks: int) -> date:
    """The last day of a period of ``weeks`` weeks beginning with ``start`` (s.95(6))."""
    return start + timedelta(weeks=weeks) - DAY


def months_from(start: date, months: int) -> date:
    """The last day of a period of ``months`` months beginning with ``start``."""
    return start + relativedelta(months=months) - DAY


def iso(text: str) -> date:
    return date.fromisoformat(text)


@dataclass(frozen=True)
class MapAsset:
    """The asset this module records, the group that may bid on it and its dates."""

    id: int
    reference: str
    lon: float
    lat: float
    lsoa_code: str
    group: str
    listed_on: date
    notice_on: date
    near_group: str  # registered, its area in the asset's district
    far_group: str  # registered, its area in Blackpool only


def trafford_lsoas_without_assets() -> list[str]:
    """Trafford LSOAs no example entry (nor the API tests' shared point) falls in, sorted."""
    taken = {"E01006144"}  # M32 0WR, where tests/utils/factories.py places its assets
    trafford = LOOKUP_2021.index[LOOKUP_2021["ltla24_code"] == TRAFFORD]
    return sorted(str(c) for c in trafford if c not in taken and c in POINTS_2021)


MAP_LSOA, BESIDE_LSOA = trafford_lsoas_without_assets()[:2]
BLACKPOOL_LSOA = sorted(LOOKUP_2021.index[LOOKUP_2021["ltla24_code"] == BLACKPOOL])[0]


def group_input(name: str, lsoa: str) -> groups.GroupInput:
    """A neighbourhood group working in one LSOA, its leader's contacts invented (EXAMPLE)."""
    return groups.GroupInput(
        name=name,
        kind="residents_association",
        description="EXAMPLE DATA registered by the browser tests",
        lsoa_codes=[lsoa],
        leader=groups.LeaderInput(name="Example Leader", email="leader@example.org"),
        code_of_conduct=groups.CodeOfConductAcceptance(
            version=groups.CODE_OF_CONDUCT_VERSION, accepted_on=factories.today()
        ),
    )


@pytest.fixture(scope="module")
def map_asset(settings: DatabaseSettings, example_assets: int) -> Iterator[MapAsset]:
    """Record an asset and take it to ``disposal_notified`` a week ago, through geo.assets."""
    made = factories.Made()
    today = factories.today()
    lon, lat = POINTS_2021[MAP_LSOA]

    async def record(aconn: psycopg.AsyncConnection) -> MapAsset:
        officer = await made.key(aconn, "officer", [TRAFFORD])
        blackpool_officer = await made.key(aconn, "officer", [BLACKPOOL])
        group = await made.key(aconn, "group_manager")
        tag = uuid.uuid4().hex[:6]
        near = await groups.create_group(
            aconn,
            group_input(f"EXAMPLE Map Test Neighbours {tag}", MAP_LSOA),
            officer.principal,
            today,
        )
        far = await groups.create_group(
            aconn,
            group_input(f"EXAMPLE Map Test Seafront {tag}", BLACKPOOL_LSOA),
            blackpool_officer.principal,
            today,
        )
        data = assets.AssetInput(
            name=f"EXAMPLE Map Test Hall {uuid.uuid4().hex[:6]}",
            category="community_centre",
            owner_type="local_authority",
            lon=lon,
            lat=lat,
            description="EXAMPLE DATA recorded by the browser tests",
            is_example=True,
        )
        asset = await assets.create_asset(aconn, data, officer.principal, today - 60 * DAY)
        nomination = assets.StepInput(body_type="parish_council")
        await assets.take_step(
            aconn, asset.id, "nominate", nomination, group.principal, today - 60 * DAY
        )
        await assets.take_step(
            aconn, asset.id, "list", assets.StepInput(), officer.principal, today - 30 * DAY
        )
        done = await assets.take_step(
            aconn,
            asset.id,
            "notify_disposal",
            assets.StepInput(),
            officer.principal,
            today - 7 * DAY,
        )
        return MapAsset(
            id=done.id,
            reference=done.reference,
            lon=lon,
            lat=lat,
            lsoa_code=done.lsoa_code,
            group=group.principal.name,
            listed_on=today - 30 * DAY,
            notice_on=today - 7 * DAY,
            near_group=near.name,
            far_group=far.name,
        )

    yield off_the_browser_thread(lambda: factories.run(settings.dsn, record))
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        made.drop(conn)


def example_point(reference: str) -> tuple[float, float]:
    """Where an example entry is: its point, else its postcode's centroid (the directory's)."""
    row = EXAMPLE_REGISTER.loc[reference]
    if row["point"]:
        x, y = shapely.wkt.loads(row["point"]).coords[0]
        return float(x), float(y)
    postcode = row["address-text"].rsplit(",", 1)[1].strip()
    return float(POSTCODES.loc[postcode, "lon"]), float(POSTCODES.loc[postcode, "lat"])


def example_deadlines(reference: str) -> list[tuple[str, date]]:
    """The statutory dates the example entry's status runs (Localism Act 2011; 2012 Regs)."""
    row = EXAMPLE_REGISTER.loc[reference]
    status = register_status(reference)
    if status == "nominated":
        return [("decision_due", weeks_from(iso(row["nomination-date"]), 8))]
    if status == "full_moratorium":
        notice = iso(row["notification-to-sell-date"])
        return [
            ("full_moratorium_ends", months_from(notice, 6)),
            ("protected_period_ends", months_from(notice, 18)),
            ("listing_expires", iso(row["expiry-date"])),
        ]
    if status == "listed":
        listed = iso(row["decision-date"])
        return [
            ("review_request_due", weeks_from(listed, 8)),
            ("listing_expires", iso(row["expiry-date"])),
        ]
    return []


def map_asset_deadlines(asset: MapAsset) -> list[tuple[str, date]]:
    return [
        ("interim_moratorium_ends", weeks_from(asset.notice_on, 6)),
        ("protected_period_ends", months_from(asset.notice_on, 18)),
        ("listing_expires", months_from(asset.listed_on, 60)),
    ]


def next_of(deadlines: list[tuple[str, date]], today: date) -> tuple[str, str]:
    """The first date not yet past, as the popup's data attributes hold it ('' for none)."""
    ahead = sorted((ends, kind) for kind, ends in deadlines if ends >= today)
    return (ahead[0][1], ahead[0][0].isoformat()) if ahead else ("", "")


def open_assets_map(watched: WatchedPage, live_server: str) -> None:
    watched.page.goto(f"{live_server}/maps/assets")
    watched.settle()


def asset_block(watched: WatchedPage, reference: str) -> dict[str, str]:
    """The data attributes of one asset's block in the open popup."""
    blocks = watched.evaluate(
        "() => [...window.PlatoonsMaps.lastPopup.querySelectorAll('.platoons-asset')]"
        ".map((b) => ({...b.dataset}))"
    )
    found = [b for b in blocks if b.get("reference") == reference]
    assert len(found) == 1, blocks
    return dict(found[0])


def verdict(watched: WatchedPage, reference: str) -> dict[str, object]:
    """What the popup says the group may do with one asset, and the reasons it gives."""
    return dict(
        watched.evaluate(
            """(reference) => {
              const block = [...window.PlatoonsMaps.lastPopup.querySelectorAll('.platoons-asset')]
                .find((b) => b.dataset.reference === reference);
              const v = block.querySelector('.platoons-group-verdict');
              if (!v) return {};
              return {...v.dataset,
                reasons: [...v.querySelectorAll('.platoons-reasons li')]
                  .map((li) => li.textContent),
                error: v.querySelector('.platoons-error')?.textContent || null};
            }""",
            reference,
        )
    )


def use_group(watched: WatchedPage, name: str) -> None:
    box = watched.page.locator(".platoons-group input")
    box.fill(name)
    box.press("Enter")
    watched.page.wait_for_function("(n) => window.PlatoonsMaps.group === n", arg=name.strip())


def test_assets_page_loads_from_its_own_host_without_errors(
    watched: WatchedPage, live_server: str, map_asset: MapAsset
) -> None:
    open_assets_map(watched, live_server)
    watched.assert_clean_and_tiled_from(live_server, LAYER)
    page = watched.page
    assert page.locator(".platoons-legend .platoons-swatch-dot").count() == len(STATUS_COLOURS)
    assert page.locator(".platoons-legend .platoons-compact li").count() == 10  # the deciles
    # Assets, deciles, districts; and the neighbourhood areas once any is recorded.
    planning = httpx.get(f"{live_server}/neighbourhood-areas", params={"limit": 1}).json()
    overlays = 3 + (1 if planning else 0)
    assert page.locator(".leaflet-control-layers-overlays input").count() == overlays
    assert page.locator(".platoons-search input").count() == 1
    assert page.locator(".platoons-group input").count() == 1
    credits = page.inner_text(".leaflet-control-attribution")
    assert "Open Government Licence v3.0" in credits and "Crown copyright" in credits
    # Over Trafford: every placed example entry and this module's asset has its marker.
    points = [example_point(f"EXAMPLE-ACV-00{i}") for i in (1, 2, 3, 4)]
    watched.evaluate(
        "(points) => window.PlatoonsMaps.map.fitBounds(points.map(([x, y]) => [y, x]), "
        "{animate: false, padding: [40, 40]})",
        [*points, (map_asset.lon, map_asset.lat)],
    )
    watched.settle()
    shown = watched.evaluate(f"() => window.PlatoonsMaps.layers['{LAYER}'].visibleCodes()")
    expected = {f"EXAMPLE-ACV-00{i}" for i in (1, 2, 3, 4)} | {map_asset.reference}
    assert expected <= set(shown)
    assert watched.errors == [] and watched.off_host(live_server) == []
    watched.screenshot("assets-page-trafford")


@pytest.mark.parametrize(
    "reference", ["map-asset", "EXAMPLE-ACV-002", "EXAMPLE-ACV-003", "EXAMPLE-ACV-004"]
)
def test_clicking_an_asset_shows_its_status_and_next_deadline(
    watched: WatchedPage, live_server: str, map_asset: MapAsset, reference: str
) -> None:
    today = factories.today()
    if reference == "map-asset":
        reference, (lon, lat) = map_asset.reference, (map_asset.lon, map_asset.lat)
        status, deadlines = "disposal_notified", map_asset_deadlines(map_asset)
    else:
        (lon, lat), status = example_point(reference), register_status(reference)
        deadlines = example_deadlines(reference)
    open_assets_map(watched, live_server)
    watched.show(lon, lat, 16)
    assert watched.colour_at(LAYER, lon, lat) == STATUS_COLOURS[status]
    watched.click_map(lon, lat)
    block = asset_block(watched, reference)
    assert block["status"] == status
    assert (block["nextDeadlineKind"], block["nextDeadline"]) == next_of(deadlines, today)
    # The same figures as the register's API gives, and no group answer until one is chosen.
    card = httpx.get(f"{live_server}/maps/assets/{block['assetId']}/card").json()
    assert card["reference"] == reference
    if reference == map_asset.reference:  # recorded at a point inside MAP_LSOA
        assert card["lsoa_code"] == MAP_LSOA
        assert card["imd_decile"] == IOD2025.loc[MAP_LSOA, "IMD_decile"]
    text = watched.page.locator(f"{POPUP} .platoons-asset[data-reference='{reference}']")
    assert card["name"] in text.inner_text() and "Group" in text.inner_text()
    assert verdict(watched, reference) == {}
    assert watched.errors == [] and watched.off_host(live_server) == []
    watched.screenshot(f"assets-click-{status}")


def test_the_group_box_asks_the_service_what_the_group_may_do(
    watched: WatchedPage, live_server: str, map_asset: MapAsset
) -> None:
    today = factories.today()
    open_assets_map(watched, live_server)
    use_group(watched, map_asset.group)
    watched.show(map_asset.lon, map_asset.lat, 16)
    watched.click_map(map_asset.lon, map_asset.lat)
    # Inside the interim moratorium (6 weeks beginning with the notice): it may ask to bid.
    said = verdict(watched, map_asset.reference)
    assert (said["group"], said["mayNominate"], said["mayBid"]) == (
        map_asset.group,
        "false",
        "true",
    )
    window_ends = weeks_from(map_asset.notice_on, 6)
    assert window_ends >= today
    popup = watched.page.locator(POPUP).inner_text()
    assert f"until {window_ends.isoformat()}" in popup
    answer = httpx.get(
        f"{live_server}/assets/{map_asset.id}/eligibility", params={"group": map_asset.group}
    ).json()
    assert said["reasons"] == answer["reasons"] and answer["may_request_to_bid"] is True
    watched.screenshot("assets-group-may-bid")

    # Another name: the open popup asks again, and shows the service's refusal.
    unknown = f"EXAMPLE No Such Group {uuid.uuid4().hex[:6]}"
    watched.evaluate("() => { window.PlatoonsMaps.lastPopup = null; }")
    use_group(watched, unknown)
    watched.page.wait_for_function(
        "() => window.PlatoonsMaps.lastPopup && window.PlatoonsMaps.lastPopup.dataset.ready"
    )
    refused = verdict(watched, map_asset.reference)
    assert refused["group"] == unknown and refused["error"]
    assert f"no community group named '{unknown}' is known" in str(refused["error"])

    # A shop the council did not list may be nominated again (by an eligible body).
    watched.evaluate("() => window.PlatoonsMaps.map.closePopup()")
    use_group(watched, map_asset.group)
    lon, lat = example_point("EXAMPLE-ACV-004")
    watched.show(lon, lat, 16)
    watched.click_map(lon, lat)
    said = verdict(watched, "EXAMPLE-ACV-004")
    assert (said["mayNominate"], said["mayBid"]) == ("true", "false")
    # The only console message is chromium's note of the service's 404 for the unknown group.
    assert len(watched.errors) == 1 and "status of 404" in watched.errors[0]
    assert watched.off_host(live_server) == []
    watched.screenshot("assets-group-may-nominate")


def test_a_click_beside_the_markers_shows_the_lsoa_there(
    watched: WatchedPage, live_server: str, map_asset: MapAsset
) -> None:
    lon, lat = POINTS_2021[BESIDE_LSOA]
    open_assets_map(watched, live_server)
    watched.show(lon, lat, 16)
    watched.click_map(lon, lat)
    block = watched.page.locator(f"{POPUP} .platoons-lsoa")
    assert block.get_attribute("data-lsoa-code") == BESIDE_LSOA
    assert block.get_attribute("data-imd-decile") == str(IOD2025.loc[BESIDE_LSOA, "IMD_decile"])
    assert watched.errors == []


def test_the_layer_control_hides_and_shows_the_layers(
    watched: WatchedPage, live_server: str, map_asset: MapAsset
) -> None:
    lon, lat = map_asset.lon, map_asset.lat
    open_assets_map(watched, live_server)
    watched.show(lon, lat, 15)
    on_map = "(key) => Boolean(window.PlatoonsMaps.layers[key]._map)"
    legend = "() => document.querySelector('.platoons-legend').innerText"
    assert watched.colour_at(LAYER, lon, lat) == STATUS_COLOURS["disposal_notified"]
    assert "by status" in watched.evaluate(legend)

    toggle = watched.page.locator(".leaflet-control-layers label", has_text="Assets of community")
    toggle.click()
    assert not watched.evaluate(on_map, LAYER)
    assert (
        watched.evaluate(
            "() => window.PlatoonsMaps.map.getPane('platoons-points')"
            ".querySelectorAll('canvas').length"
        )
        == 0
    )
    assert "by status" not in watched.evaluate(legend)
    watched.screenshot("assets-layers-no-markers")
    toggle.click()
    watched.settle()
    assert watched.colour_at(LAYER, lon, lat) == STATUS_COLOURS["disposal_notified"]
    assert "by status" in watched.evaluate(legend)

    deciles = watched.page.locator(".leaflet-control-layers label", has_text="LSOA deprivation")
    data_canvases = (
        "() => window.PlatoonsMaps.map.getPane('platoons-data').querySelectorAll('canvas').length"
    )
    assert watched.evaluate(data_canvases) > 0
    deciles.click()
    assert not watched.evaluate(on_map, "lsoa-iod2025")
    assert watched.evaluate(data_canvases) == 0
    assert "IMD decile" not in watched.evaluate(legend)
    watched.screenshot("assets-layers-no-deciles")
    deciles.click()
    watched.settle()
    assert watched.evaluate(on_map, "lsoa-iod2025") and watched.evaluate(data_canvases) > 0
    assert watched.errors == []


def test_postcode_search_on_the_assets_map(watched: WatchedPage, live_server: str) -> None:
    open_assets_map(watched, live_server)
    postcode = "M41 0RL"  # EXAMPLE-ACV-002's
    lsoa = str(POSTCODES.loc[postcode, "lsoa_code"])
    box = watched.page.locator(".platoons-search input")
    box.fill(postcode.lower())
    box.press("Enter")
    watched.page.wait_for_function("() => document.querySelector('.platoons-search').dataset.found")
    status = watched.page.inner_text(".platoons-search-status")
    assert postcode in status and f"({lsoa})" in status
    lon, lat = example_point("EXAMPLE-ACV-002")
    assert watched.evaluate(
        "([lon, lat]) => window.PlatoonsMaps.map.getBounds().contains([lat, lon])", [lon, lat]
    )
    assert watched.errors == [] and watched.off_host(live_server) == []


def test_the_group_box_offers_registered_groups_and_the_service_checks_their_connection(
    watched: WatchedPage, live_server: str, map_asset: MapAsset
) -> None:
    open_assets_map(watched, live_server)
    box = watched.page.locator(".platoons-group input")
    box.fill("Map Test Neighbours")  # typed; the registry's matching groups are offered
    watched.page.wait_for_function(
        "(name) => (window.PlatoonsMaps.groupSuggestions || []).includes(name)",
        arg=map_asset.near_group,
    )
    offered = watched.evaluate(
        "() => [...document.querySelectorAll('#platoons-groups option')].map((o) => o.value)"
    )
    assert map_asset.near_group in offered and map_asset.far_group not in offered
    use_group(watched, map_asset.near_group)
    watched.show(map_asset.lon, map_asset.lat, 16)
    watched.click_map(map_asset.lon, map_asset.lat)
    said = verdict(watched, map_asset.reference)
    assert (said["mayNominate"], said["mayBid"]) == ("false", "true")
    watched.screenshot("assets-registered-group-may-bid")

    # A group working only in Blackpool has no local connection with a Trafford asset.
    watched.evaluate("() => { window.PlatoonsMaps.lastPopup = null; }")
    use_group(watched, map_asset.far_group)
    watched.page.wait_for_function(
        "() => window.PlatoonsMaps.lastPopup && window.PlatoonsMaps.lastPopup.dataset.ready"
    )
    said = verdict(watched, map_asset.reference)
    assert (said["group"], said["mayNominate"], said["mayBid"]) == (
        map_asset.far_group,
        "false",
        "false",
    )
    answer = httpx.get(
        f"{live_server}/assets/{map_asset.id}/eligibility", params={"group": map_asset.far_group}
    ).json()
    assert said["reasons"] == answer["reasons"]
    assert any("local connection" in reason for reason in answer["reasons"])
    assert watched.errors == [] and watched.off_host(live_server) == []
    watched.screenshot("assets-registered-group-no-connection")

"""GET / for people (HTML: what Platoons is, the four maps, what is loaded) and for JSON
clients (the OGC landing page as before)."""

from __future__ import annotations

import re

import psycopg
from fastapi.testclient import TestClient

from config.settings import DatabaseSettings
from tests.utils.spending import load_trafford

MAPS = ("deprivation", "eligibility", "assets", "coverage")


def test_a_browser_gets_the_front_page(client: TestClient, settings: DatabaseSettings) -> None:
    response = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for name in MAPS:
        assert f'href="http://testserver/maps/{name}"' in page
        preview = re.search(rf'src="http://testserver(/static/previews/map-{name}\.png)"', page)
        assert preview is not None
        image = client.get(preview.group(1))
        assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'href="http://testserver/docs"' in page
    assert 'href="http://testserver/collections?f=html"' in page
    # What is loaded, from the database itself.
    with psycopg.connect(settings.dsn) as conn:
        editions = conn.execute(
            "SELECT e.title, count(d.code) FROM index_edition e"
            " JOIN lsoa_deprivation d ON d.edition_code = e.code GROUP BY e.title"
        ).fetchall()
        sources = conn.execute("SELECT source_file, licence FROM dataset_load").fetchall()
    assert len(editions) == 2
    for title, lsoas in editions:
        assert f"<strong>{title}</strong>" in page
        assert f"{lsoas:,} of England" in page
    for source_file, licence in sources:
        assert source_file in page and licence in page
    assert "Trafford (E08000009)" in page


def test_json_clients_still_get_the_ogc_landing_page(client: TestClient) -> None:
    for headers in ({}, {"Accept": "application/json"}):
        body = client.get("/", headers=headers).json()
        assert body["title"] == "Platoons"
        assert {link["rel"] for link in body["links"]} >= {
            "self",
            "service-desc",
            "conformance",
            "data",
        }
    assert client.get("/?f=json", headers={"Accept": "text/html"}).json()["title"] == "Platoons"


def test_the_front_page_counts_every_register_and_imported_file(
    client: TestClient, settings: DatabaseSettings, crime_loaded: int
) -> None:
    load_trafford(settings.dsn)
    page = client.get("/", headers={"Accept": "text/html"}).text
    rows = {
        (cells[0], cells[1]): (cells[2], cells[3])
        for cells in (
            [
                re.sub(r"<[^>]+>", "", cell).strip()
                for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
            ]
            for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
        )
        if len(cells) == 4
    }
    with psycopg.connect(settings.dsn) as conn:
        payments = conn.execute(
            "SELECT file_name, count(*) FROM spending_line l"
            " JOIN spending_file f ON f.id = l.file_id GROUP BY 1"
        ).fetchall()
        crimes = conn.execute("SELECT count(*) FROM crime").fetchone()
    assert payments
    for file_name, lines in payments:
        assert rows["council payments", file_name] == ("REAL", f"{lines:,}")
    crime_files = [
        (kind, n) for (register, _), (kind, n) in rows.items() if register == "street-level crime"
    ]
    assert {kind for kind, _ in crime_files} == {"REAL"}
    assert crimes == (sum(int(n.replace(",", "")) for _, n in crime_files),)
    assert all("/" not in source for register, source in rows if register == "street-level crime")

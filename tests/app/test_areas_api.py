"""The /lookup, /areas and /health routes over HTTP, including every kind of bad request."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.utils import figures, sources

TRAFFORD_POINT = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")["E01006112"]


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def test_lookup_returns_the_lsoa_lad_and_every_domain(client: TestClient) -> None:
    lon, lat = TRAFFORD_POINT
    body = client.get("/lookup", params={"lon": lon, "lat": lat}).json()
    assert body["edition"]["code"] == "IoD2025"
    assert body["lsoa"] == {"code": "E01006112", "name": "Trafford 001D", "vintage": 2021}
    assert body["lad"]["code"] == "E08000009"
    assert [v["domain"] for v in body["indices"]] == list(sources.IOD2025_DECILE_COLUMNS)
    assert "Open Government Licence" in body["attribution"]


def test_lookup_in_iod2019_uses_the_2011_geography(client: TestClient) -> None:
    lon, lat = TRAFFORD_POINT
    body = client.get("/lookup", params={"lon": lon, "lat": lat, "edition": "IoD2019"}).json()
    assert body["edition"]["code"] == "IoD2019"
    assert body["lsoa"]["vintage"] == 2011 and body["lad"]["vintage"] == 2019
    row = sources.csv(sources.FILE_1).set_index("LSOA code (2011)").loc[body["lsoa"]["code"]]
    imd = body["indices"][0]
    assert (imd["rank"], imd["decile"], imd["score"]) == (row.iloc[3], row.iloc[4], None)


def test_area_of_an_lsoa_and_of_a_lad(client: TestClient) -> None:
    lsoa = client.get("/areas/e01006112").json()  # codes are case-insensitive
    assert lsoa["type"] == "lsoa" and lsoa["lsoa"]["code"] == "E01006112"
    lad = client.get("/areas/E08000009", params={"edition": "IoD2019"}).json()
    assert lad["type"] == "lad" and lad["lad"]["name"] == "Trafford"
    assert lad["region_name"] == "North West"
    assert lad["lsoa_count"] == (sources.csv(sources.FILE_1).iloc[:, 2] == "E08000009").sum()


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"lon": 2.3522, "lat": 48.8566}, 404),  # Paris
        ({"lon": -4.0, "lat": 50.0}, 404),  # the sea off Cornwall
        ({"lon": -1.5, "lat": 52.0}, 404),  # England, but outside the demo extract
        # Where British National Grid cannot project a point (a 500 from PostGIS before).
        ({"lon": 93.80385659193001, "lat": 2.10749212413665e-18}, 404),
        ({"lon": -90, "lat": 0}, 404),
        ({"lon": 181, "lat": 52.0}, 422),
        ({"lon": -2.3, "lat": -91}, 422),
        ({"lon": "abc", "lat": 52.0}, 422),
        ({"lon": "nan", "lat": 52.0}, 422),
        ({"lon": "inf", "lat": 52.0}, 422),
        ({"lat": 52.0}, 422),
        ({"lon": -2.3, "lat": 53.45, "edition": "IoD1066"}, 404),
        ({"lon": -2.3, "lat": 53.45, "edition": "x' OR '1'='1"}, 422),
    ],
)
def test_bad_lookups_get_a_problem_body(client: TestClient, params: dict, status: int) -> None:
    assert_problem(client.get("/lookup", params=params), status)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("E01000001", 404),
        ("E12000002", 404),
        ("banana", 422),
        ("E01006112'; DROP TABLE lsoa;--", 422),
    ],
)
def test_bad_area_codes_get_a_problem_body(client: TestClient, code: str, status: int) -> None:
    response = client.get(f"/areas/{code}")
    assert_problem(response, status)
    assert "DROP" not in response.text  # the hostile input is not echoed back


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("E01006112' OR '1'='1", 422),  # longer than any GSS code: refused by its length
        ("E01006112'--", 422),  # the pattern of a GSS code refuses it
    ],
)
def test_sql_injection_in_the_code_is_refused_and_inert(
    client: TestClient, code: str, status: int
) -> None:
    body = assert_problem(client.get(f"/areas/{code}"), status)
    assert (body.get("parameter") or body["errors"][0]["parameter"]) == "code"
    after = client.get("/areas/E01006112")
    assert after.status_code == 200 and after.json()["lsoa"]["code"] == "E01006112"


def test_health_reports_the_editions_loaded(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    loaded = {e["code"]: e["lsoas_loaded"] for e in body["editions"]}
    assert loaded == {
        "IoD2019": len(sources.csv(sources.FILE_1)),
        "IoD2025": len(sources.csv(sources.IOD2025)),
    }


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/lookup", "/areas/{code}", "/health"} <= set(paths)


def test_an_unreachable_database_gives_503_with_retry_after() -> None:
    from app.main import create_app
    from config.settings import DatabaseSettings
    from tests.utils.service import service_settings

    # Port 1 on loopback: nothing listens there, so every connection is refused at once.
    down = DatabaseSettings(
        database_url="postgresql://postgres@127.0.0.1:1/platoons",  # type: ignore[arg-type]
        pool_timeout_seconds=0.5,
    )
    with TestClient(create_app(service_settings(down))) as down_client:
        response = down_client.get("/health")
    body = assert_problem(response, 503)
    assert response.headers["retry-after"] == "5"
    assert "127.0.0.1" not in body["detail"]  # connection details stay in the logs


PUBLISHED_COLUMNS = {
    "average_rank": ("average_rank", "rank_average_rank"),
    "average_score": ("average_score", "rank_average_score"),
    "proportion_most_deprived_10pct": ("proportion_bottom_decile", "rank_proportion_bottom_decile"),
}


def published_rows(lad: str) -> dict[str, dict]:
    """The published file's rows of one district, by domain code (read with pandas)."""
    frame = sources.published_lad_summaries()
    rows = frame[frame["area_code"] == lad]
    return {sources.PUBLISHED_INDICES[r["index_domain"]]: r for _, r in rows.iterrows()}


@pytest.mark.parametrize("lad", ["E08000009", "E08000003", "E06000009", "E06000041"])
def test_iod2025_districts_give_the_published_figures_where_none_are_computed(
    client: TestClient, lad: str
) -> None:
    body = client.get(f"/areas/{lad}", params={"edition": "IoD2025"}).json()
    published = published_rows(lad)
    assert len(published) == 10
    measures = {(m["domain"], m["measure"]): m for m in body["summary_measures"]}
    for domain, row in published.items():
        for measure, (value_column, rank_column) in PUBLISHED_COLUMNS.items():
            served = measures[(domain, measure)]
            # The demo loads four districts: ranks among all 296 are the published ones.
            assert served["rank"] == row[rank_column]
            assert served["rank_source"] == "published"
            assert served["rank_unavailable_reason"] is None
            if measure == "proportion_most_deprived_10pct" and domain not in ("idaci", "idaopi"):
                # Computed from the LSOA deciles, and equal to the published figure's rounding.
                # Shown to the 4 decimals MHCLG publishes it in, it is the published figure.
                assert served["source"] == "computed"
                assert served["value"] == figures.rounded(row[value_column], 4)
            else:
                # As published: the file's own decimals, unchanged (README, Figures).
                assert served["source"] == "published"
                places = figures.LAD_MEASURE_PLACES[measure]
                assert served["value"] == figures.rounded(row[value_column], places)
                assert figures.decimals(served["value"]) <= places
        for measure in ("extent", "local_concentration"):
            if domain in ("idaci", "idaopi"):
                assert (domain, measure) not in measures
                continue
            unavailable = measures[(domain, measure)]
            assert unavailable["value"] is None and unavailable["rank"] is None
            assert unavailable["source"] is None and unavailable["rank_source"] is None
            assert "population denominators" in unavailable["unavailable_reason"]
    assert [m["domain"] for m in body["summary_measures"]][::3][-2:] == ["idaci", "idaopi"]


def test_trafford_is_the_223rd_district_on_iod2025_imd_average_rank(client: TestClient) -> None:
    body = client.get("/areas/E08000009", params={"edition": "IoD2025"}).json()
    imd = {m["measure"]: m for m in body["summary_measures"] if m["domain"] == "imd"}
    assert (imd["average_rank"]["value"], imd["average_rank"]["rank"]) == (11881.22, 223)
    assert (imd["average_score"]["value"], imd["average_score"]["rank"]) == (14.972, 201)


def test_iod2019_district_answers_are_the_computed_measures_unchanged(
    client: TestClient, conn
) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/areas/E08000009", params={"edition": "IoD2019"}).json()
    stored = conn.execute(
        "SELECT m.domain_code, m.measure, m.value, m.rank, m.unavailable_reason,"
        " m.rank_unavailable_reason FROM lad_summary_measure m JOIN index_domain d"
        " ON d.edition_code = m.edition_code AND d.code = m.domain_code"
        " WHERE m.edition_code = 'IoD2019' AND m.lad_code = 'E08000009'"
        " ORDER BY d.sort_order, m.measure"
    ).fetchall()
    assert len(stored) == 10 * 5
    # The stored measures, each value shown to the decimals MHCLG publishes its measure in
    # (README, Figures); the database keeps full precision.
    assert [
        (
            m["domain"],
            m["measure"],
            m["value"],
            m["rank"],
            m["unavailable_reason"],
            m["rank_unavailable_reason"],
        )
        for m in body["summary_measures"]
    ] == [
        (
            domain,
            measure,
            None if value is None else figures.rounded(value, figures.LAD_MEASURE_PLACES[measure]),
            *rest,
        )
        for domain, measure, value, *rest in stored
    ]
    assert any(
        value is not None and figures.decimals(value) > figures.LAD_MEASURE_PLACES[measure]
        for _, measure, value, *_ in stored
    ), "the database keeps the full precision"
    for m in body["summary_measures"]:
        assert m["source"] == ("computed" if m["value"] is not None else None)
        assert m["rank_source"] is None  # a partial extract ranks no district

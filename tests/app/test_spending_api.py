"""The spending API over Trafford's real payments: totals equal pandas, lines add up, paging."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from config.settings import DatabaseSettings
from tests.utils import spending as trafford

YEAR_2025_26 = {"from": "2025-04-01", "to": "2026-03-31", "publisher": "trafford"}


@pytest.fixture(scope="module")
def loaded(settings: DatabaseSettings) -> None:
    trafford.load_trafford(settings.dsn)


@pytest.fixture(scope="module")
def frame():
    payments = trafford.payments(trafford.FILE_2025_26).copy()
    payments["key"] = trafford.key_of(payments["BeneficiaryName"])
    payments["service"] = payments["OrganisationalUnit"].mask(
        payments["OrganisationalUnit"] == "NA", "(none)"
    )
    return payments


def totals(client, by: str, **params) -> dict:
    response = client.get(
        "/spending/totals", params={**YEAR_2025_26, "by": by, "limit": 5000, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("by", "column"), [("beneficiary", "key"), ("service", "service")])
def test_totals_for_2025_26_equal_an_independent_pandas_computation(
    client, loaded, frame, by, column
):
    expected = trafford.totals_by(frame, column)
    body = totals(client, by)
    got = {t["key"]: (Decimal(t["amount"]), t["lines"]) for t in body["totals"]}
    assert got == expected
    assert body["groups"] == len(expected)
    assert Decimal(body["amount"]) == sum(frame["amount"], Decimal(0))
    assert body["lines"] == len(frame)
    amounts = [Decimal(t["amount"]) for t in body["totals"]]
    assert amounts == sorted(amounts, reverse=True)  # largest first


def test_a_partial_month_and_an_amount_filter_are_summed_from_the_lines(client, loaded, frame):
    # 2025-04-15..2025-05-20 is not whole months, so the month totals cannot answer it.
    window = frame[(frame["PaymentDate"] >= "2025-04-15") & (frame["PaymentDate"] <= "2025-05-20")]
    window = window[window["amount"] >= Decimal("1000")]
    body = totals(
        client, "service", **{"from": "2025-04-15", "to": "2025-05-20", "min_amount": 1000}
    )
    got = {t["key"]: (Decimal(t["amount"]), t["lines"]) for t in body["totals"]}
    assert got == trafford.totals_by(window, "service")


def test_the_lines_behind_each_total_add_up_to_it(client, loaded):
    for by in ("beneficiary", "service", "category", "month"):
        body = totals(client, by, limit=3)
        for total in body["totals"]:
            # httpx's params would replace the link's query string: append instead.
            page = client.get(total["lines_url"] + "&limit=1").json()
            assert Decimal(page["amount"]) == Decimal(total["amount"]), (by, total)
            assert page["matched"] == total["lines"], (by, total)


def test_paging_through_a_total_visits_each_line_once_and_adds_up(client, loaded):
    body = totals(client, "beneficiary")
    total = next(t for t in body["totals"] if 150 <= t["lines"] <= 400)
    seen: list[int] = []
    amount = Decimal(0)
    cursor = None
    while True:
        url = total["lines_url"] + "&limit=37" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).json()
        seen += [line["id"] for line in page["lines"]]
        amount += sum((Decimal(line["amount"]) for line in page["lines"]), Decimal(0))
        dates = [line["payment_date"] for line in page["lines"]]
        assert dates == sorted(dates, reverse=True)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == total["lines"]
    assert amount == Decimal(total["amount"])


def test_the_csv_export_of_a_query_holds_exactly_its_lines(client, loaded, frame):
    params = {**YEAR_2025_26, "beneficiary": "cherish"}
    json_page = client.get("/spending/lines", params={**params, "limit": 1}).json()
    response = client.get("/spending/lines.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == json_page["matched"]
    assert sum((Decimal(r["amount"]) for r in rows), Decimal(0)) == Decimal(json_page["amount"])
    expected = frame[frame["key"].str.startswith("cherish")]
    assert len(rows) == len(expected)


def test_beneficiary_search_matches_a_prefix_or_all_words(client, loaded, frame):
    words = client.get("/spending/lines", params={**YEAR_2025_26, "beneficiary": "care ltd"})
    expected = frame[
        frame["key"].str.startswith("care ltd")
        | (frame["key"].str.contains("care") & frame["key"].str.contains("ltd"))
    ]
    assert words.json()["matched"] == len(expected)


def test_the_over_500_filter_counts_what_the_code_requires(client, loaded, frame):
    body = client.get("/spending/lines", params={**YEAR_2025_26, "over_500": "true"}).json()
    assert body["matched"] == frame["amount"].map(lambda a: abs(a) > 500).sum()


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter"),
    [
        ("/spending/lines", {"min_amount": "lots"}, 422, "min_amount"),
        ("/spending/lines", {"from": "2025-13-01"}, 422, "from"),
        ("/spending/lines", {"from": "2025-05-01", "to": "2025-04-01"}, 400, "from"),
        ("/spending/lines", {"min_amount": "10", "max_amount": "5"}, 400, "min_amount"),
        # The cursor's and the beneficiary's documented patterns: refused by FastAPI (422).
        ("/spending/lines", {"cursor": "2025-01-01;drop"}, 422, "cursor"),
        ("/spending/lines", {"cursor": "2025-02-30.1"}, 422, "cursor"),
        ("/spending/lines", {"cursor": "2025-01-01.9999999999999999999"}, 422, "cursor"),
        ("/spending/lines", {"limit": "0"}, 422, "limit"),
        ("/spending/lines", {"beneficiary": "!!!"}, 422, "beneficiary"),
        ("/spending/lines", {"to": "0"}, 422, "to"),  # a date, not a Unix time
        ("/spending/totals", {"by": "colour"}, 422, "by"),
        ("/spending/totals", {}, 422, "by"),
        ("/spending/totals", {"by": "service", "order": "random"}, 422, "order"),
        ("/spending/lines.csv", {"from": "2025-05-01", "to": "2025-04-01"}, 400, "from"),
    ],
)
def test_bad_parameters_are_problems_naming_the_parameter(client, path, params, status, parameter):
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    named = body.get("parameter") or [e["parameter"] for e in body.get("errors", [])]
    assert parameter in named


def test_text_parameters_are_bound_never_spliced(client, loaded):
    hostile = "x' OR 1=1; DROP TABLE spending_line; --"
    for name in ("service", "category", "purpose", "beneficiary", "beneficiary_key"):
        response = client.get("/spending/lines", params={name: hostile})
        assert response.status_code == 200
        assert response.json()["matched"] == 0
    assert client.get("/spending/lines", params={"limit": 1}).json()["matched"] > 0

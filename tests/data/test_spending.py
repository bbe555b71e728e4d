"""Loading council payment files: Trafford's real zips, re-imports, and bad files refused whole."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from config.settings import DatabaseSettings
from data import spending
from geo.errors import LoadError
from tests.utils import spending as trafford

HEADER = (
    "OrganisationLabel,OrganisationURI,EffectiveDate,OrganisationalUnit,BeneficiaryName,"
    "BeneficiaryOtherID,PaymentDate,TransactionNumber,Amount,IrrecoverableVATAmount,Purpose,"
    "ProclassLabel,ProclassCode,InvoiceNumber,ProfitCentre,VATRegistrationNumber"
)
# Lines in Trafford's layout, written by these tests (not published data).
GOOD_LINES = [
    "Test Council,,2026-01-31,LIBRARIES,Example Books Ltd,1,2026-01-05,T1,500.00,0.00,Books,"
    "LIBRARIES : Books,100,I1,P1,NA",
    "Test Council,,2026-01-31,LIBRARIES,EXAMPLE BOOKS LIMITED,1,2026-01-06,T2,-750.25,0.00,"
    "Credit,LIBRARIES : Books,100,I2,P1,NA",
    "Test Council,,2026-01-31,NA,Redacted,Redacted,2026-02-01,T3,12.34,0.00,Care,NA,NA,I3,NA,NA",
]
TEST_PUBLISHER = "test-example"


@pytest.fixture(scope="module")
def loaded(settings: DatabaseSettings) -> list[spending.SpendingFileReport]:
    return trafford.load_trafford(settings.dsn)


@pytest.fixture
def example_publisher() -> spending.Publisher:
    """Trafford's declaration under a test key, so test files never mix with Trafford's."""
    return replace(spending.load_publishers()["trafford"], key=TEST_PUBLISHER)


@pytest.fixture
def clean_example(conn: psycopg.Connection):
    yield
    files = conn.execute("SELECT id FROM spending_file WHERE publisher = %s", (TEST_PUBLISHER,))
    for (file_id,) in files.fetchall():
        conn.execute(f"DROP TABLE spending_line_{int(file_id)}")  # the file's partition
    for table in ("spending_file", "spending_month_total", "spending_rollup"):
        conn.execute(f"DELETE FROM {table} WHERE publisher = %s", (TEST_PUBLISHER,))


# Each rollup level's columns (beside the file, publisher, £500 flag and redaction), computed
# here from the lines themselves.
LEVEL_COLUMNS = {
    "month": ["date_trunc('month', payment_date)::date"],
    "beneficiary": ["beneficiary_key"],
    "service": ["service"],
    "category": ["category"],
    "month_service": ["date_trunc('month', payment_date)::date", "service"],
    "month_category": ["date_trunc('month', payment_date)::date", "category"],
}
KEPT = ["month", "beneficiary_key", "service", "category"]


def publisher_months(conn: psycopg.Connection) -> list[tuple[str, Decimal, int]]:
    """The test publisher's month totals, month by month: (month, amount, lines)."""
    return conn.execute(
        "SELECT month::text, sum(amount), sum(lines) FROM spending_month_total"
        " WHERE publisher = %s GROUP BY month ORDER BY month",
        (TEST_PUBLISHER,),
    ).fetchall()


def assert_totals_are_sums_of_the_lines(conn: psycopg.Connection) -> None:
    """The month totals and every rollup level equal a GROUP BY over spending_line now."""
    detail = (
        "file_id, publisher, date_trunc('month', payment_date)::date, beneficiary_key, service,"
        " category, over_500, redacted"
    )
    month_totals = conn.execute(
        "SELECT file_id, publisher, month, beneficiary_key, service, category, over_500,"
        " redacted, amount, lines FROM spending_month_total"
    ).fetchall()
    from_lines = conn.execute(
        f"SELECT {detail}, sum(amount), count(*) FROM spending_line GROUP BY {detail}"
    ).fetchall()
    assert len(month_totals) == len(from_lines) > 0
    assert set(month_totals) == set(from_lines)
    assert {level for (level,) in conn.execute("SELECT DISTINCT level FROM spending_rollup")} == (
        set(LEVEL_COLUMNS)
    )
    for level, columns in LEVEL_COLUMNS.items():
        kept = [c for c in KEPT if any(c in column for column in columns)]
        keys = ", ".join(["file_id", "publisher", "over_500", "redacted", *columns])
        rollup = conn.execute(
            f"SELECT {', '.join(['file_id', 'publisher', 'over_500', 'redacted', *kept])},"
            " amount, lines FROM spending_rollup WHERE level = %s",
            (level,),
        ).fetchall()
        summed = conn.execute(
            f"SELECT {keys}, sum(amount), count(*) FROM spending_line GROUP BY {keys}"
        ).fetchall()
        assert len(rollup) == len(summed), level
        assert set(rollup) == set(summed), level
        # The columns a level leaves out are empty in it.
        left_out = [c for c in KEPT if c not in kept]
        assert conn.execute(
            "SELECT count(*) FROM spending_rollup WHERE level = %s AND "
            + " AND ".join(f"{c} IS NULL" for c in left_out),
            (level,),
        ).fetchone() == (len(rollup),)


def write_zip(path: Path, lines: list[str], header: str = HEADER) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(path.stem + ".csv", "\n".join([header, *lines]) + "\n")
    return path


def test_every_line_of_each_file_is_kept_with_its_provenance(loaded, conn):
    by_file = {r.path.name: r for r in loaded}
    for path in trafford.LOADED:
        frame = trafford.payments(path)
        report = by_file[path.name]
        assert report.lines == len(frame)
        assert report.total == sum(frame["amount"], Decimal(0))
        row = conn.execute(
            "SELECT f.sha256, f.member, count(l.*), min(l.line_number), max(l.line_number)"
            " FROM spending_file f JOIN spending_line l ON l.file_id = f.id"
            " WHERE f.file_name = %s GROUP BY f.sha256, f.member",
            (path.name,),
        ).fetchone()
        assert row == (
            spending.sha256_file(path),
            path.stem + ".csv",
            len(frame),
            2,
            len(frame) + 1,
        )


def test_a_line_keeps_the_published_values_exactly(loaded, conn):
    frame = trafford.payments(trafford.FILE_2025_26)
    for index in (0, 1000, len(frame) - 1):  # line = index + 2 (line 1 is the header)
        published = frame.iloc[index]
        row = conn.execute(
            "SELECT beneficiary_name, amount, payment_date::text, service, purpose, category,"
            " transaction_number, redacted, over_500"
            " FROM spending_line l JOIN spending_file f ON f.id = l.file_id"
            " WHERE f.file_name = %s AND l.line_number = %s",
            (trafford.FILE_2025_26.name, index + 2),
        ).fetchone()
        assert row == (
            published["BeneficiaryName"],
            Decimal(published["Amount"]),
            published["PaymentDate"],
            None if published["OrganisationalUnit"] == "NA" else published["OrganisationalUnit"],
            published["Purpose"],
            None if published["ProclassLabel"] == "NA" else published["ProclassLabel"],
            published["TransactionNumber"],
            published["BeneficiaryName"] == "Redacted",
            abs(Decimal(published["Amount"])) > 500,
        )


def test_redacted_lines_stay_redacted_and_credits_stay_negative(loaded, conn):
    frame = trafford.payments(trafford.FILE_2025_26)
    redacted, credits, over = conn.execute(
        "SELECT count(*) FILTER (WHERE redacted), count(*) FILTER (WHERE amount < 0),"
        " count(*) FILTER (WHERE over_500)"
        " FROM spending_line l JOIN spending_file f ON f.id = l.file_id WHERE f.file_name = %s",
        (trafford.FILE_2025_26.name,),
    ).fetchone()
    assert redacted == (frame["BeneficiaryName"] == "Redacted").sum()
    assert credits == (frame["amount"] < 0).sum()
    assert over == frame["amount"].map(lambda a: abs(a) > 500).sum()
    names = conn.execute(
        "SELECT DISTINCT beneficiary_name FROM spending_line WHERE redacted"
    ).fetchall()
    assert names == [("Redacted",)]


def test_re_importing_the_same_files_changes_nothing(loaded, conn, settings):
    def state():
        return conn.execute(
            "SELECT count(*), sum(amount), sum(id), (SELECT sum(lines) FROM spending_month_total),"
            " (SELECT string_agg(file_name || sha256 || loaded_at::text, ',' ORDER BY id)"
            "  FROM spending_file) FROM spending_line"
        ).fetchone()

    before = state()
    with psycopg.connect(settings.dsn) as again:
        reports = spending.load_spending(again, list(trafford.LOADED))
    assert [r.status for r in reports] == ["unchanged", "unchanged"]
    assert state() == before
    assert_totals_are_sums_of_the_lines(conn)


def test_the_month_totals_and_rollups_are_sums_of_the_lines_after_a_load(loaded, conn):
    assert_totals_are_sums_of_the_lines(conn)
    # The lines sit in one partition per file, and the ids stay unique across them.
    partitions = conn.execute(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'spending_line'::regclass"
    ).fetchone()
    assert partitions == conn.execute("SELECT count(*) FROM spending_file").fetchone()
    assert conn.execute("SELECT count(*) = count(DISTINCT id) FROM spending_line").fetchone() == (
        True,
    )


def test_a_changed_file_replaces_its_lines_whole(
    conn, settings, tmp_path, example_publisher, clean_example
):
    path = write_zip(tmp_path / "example-spend.zip", GOOD_LINES)
    with psycopg.connect(settings.dsn) as load:
        first = spending.load_spending_file(load, path, example_publisher)
        assert (first.status, first.lines, first.total) == ("loaded", 3, Decimal("-237.91"))
        write_zip(path, GOOD_LINES[:2])
        second = spending.load_spending_file(load, path, example_publisher)
    assert (second.status, second.lines) == ("replaced", 2)
    rows = conn.execute(
        "SELECT beneficiary_key, amount, over_500, service FROM spending_line"
        " WHERE publisher = %s ORDER BY line_number",
        (TEST_PUBLISHER,),
    ).fetchall()
    # £500.00 does not exceed £500; a £750.25 credit note does.
    assert rows == [
        ("example books ltd", Decimal("500.00"), False, "LIBRARIES"),
        ("example books ltd", Decimal("-750.25"), True, "LIBRARIES"),
    ]
    # February's line went with it.
    assert publisher_months(conn) == [("2026-01-01", Decimal("-250.25"), 2)]
    assert_totals_are_sums_of_the_lines(conn)


def test_files_loaded_at_once_keep_the_month_totals_right(
    conn, settings, tmp_path, example_publisher, clean_example
):
    # Three files whose lines share January 2026, loaded two at a time.
    paths = [
        write_zip(
            tmp_path / f"together-{n}.zip", [line.replace("T1", f"T1-{n}") for line in GOOD_LINES]
        )
        for n in range(3)
    ]
    reports = spending.load_spending_parallel(settings.dsn, paths, example_publisher, jobs=2)
    assert sorted(r.status for r in reports) == ["loaded"] * 3
    assert publisher_months(conn) == [
        ("2026-01-01", Decimal("-250.25") * 3, 6),
        ("2026-02-01", Decimal("12.34") * 3, 3),
    ]
    assert_totals_are_sums_of_the_lines(conn)


@pytest.mark.parametrize(
    ("lines", "header", "expected"),
    [
        (GOOD_LINES, HEADER.replace(",Amount,", ",Amt,"), "missing column(s) Amount (amount)"),
        (
            [GOOD_LINES[0], GOOD_LINES[1].replace("2026-01-06", "06/01/2026")],
            HEADER,
            "column PaymentDate (payment_date): not a date written YYYY-MM-DD at line(s) 3",
        ),
        (
            [GOOD_LINES[0].replace("2026-01-05", "2026-02-30"), GOOD_LINES[1]],
            HEADER,
            "column PaymentDate (payment_date): no such date at line(s) 2",
        ),
        (
            [
                GOOD_LINES[0],
                GOOD_LINES[1].replace("-750.25", "£750"),
                GOOD_LINES[2].replace("12.34", "1.234"),
            ],
            HEADER,
            "column Amount (amount): not an amount in pounds with at most two decimal places "
            "at line(s) 3, 4",
        ),
        (
            [GOOD_LINES[0].replace("Example Books Ltd", "NA")],
            HEADER,
            "column BeneficiaryName (beneficiary_name): no value at line(s) 2",
        ),
    ],
)
def test_a_bad_file_stops_with_file_column_and_lines_and_writes_nothing(
    conn, settings, tmp_path, example_publisher, clean_example, lines, header, expected
):
    path = write_zip(tmp_path / "bad-spend.zip", lines, header)
    before = conn.execute("SELECT count(*) FROM spending_line").fetchone()
    with psycopg.connect(settings.dsn) as load, pytest.raises(LoadError) as refused:
        spending.load_spending_file(load, path, example_publisher)
    assert str(path) in refused.value.message
    assert expected in refused.value.message
    assert conn.execute("SELECT count(*) FROM spending_line").fetchone() == before
    assert conn.execute(
        "SELECT count(*) FROM spending_file WHERE publisher = %s", (TEST_PUBLISHER,)
    ).fetchone() == (0,)


def test_a_zip_without_exactly_one_csv_is_refused(tmp_path, settings, example_publisher):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", HEADER + "\n")
        archive.writestr("b.csv", HEADER + "\n")
    with psycopg.connect(settings.dsn) as load, pytest.raises(LoadError, match="exactly one CSV"):
        spending.load_spending_file(load, path, example_publisher)


def test_a_file_no_publisher_declares_is_refused(tmp_path):
    with pytest.raises(LoadError, match="no single publisher"):
        spending.publisher_for(tmp_path / "elsewhere.zip", spending.load_publishers())
    with pytest.raises(LoadError, match="unknown publisher 'nowhere'"):
        spending.publisher_for(tmp_path / "x.zip", spending.load_publishers(), "nowhere")

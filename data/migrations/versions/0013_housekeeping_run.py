"""One row per daily housekeeping job and day: the claim that makes each run once.

Revision ID: 0013_housekeeping_run
Revises: 0016_published_lad_measures
Create Date: 2026-12-07

Every service process (``platoons serve --workers N``, several hosts) and the cron command
run the same daily jobs (app/housekeeping.py). A job claims its day by inserting its row in
the transaction that does the work: a second process's insert waits for the first's
transaction and then conflicts (so it skips), or succeeds if the first rolled back (so a
failed job is retried). ``ran_by`` names the host and process that did it.
"""

from alembic import op

revision = "0013_housekeeping_run"
down_revision = "0016_published_lad_measures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE housekeeping_run (
            day date NOT NULL,
            job text NOT NULL,
            ran_by text NOT NULL,
            did_work boolean NOT NULL,
            finished_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (day, job)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE housekeeping_run")

"""Agency workers: which worker holds which site's tick (a lease), and every tick's interval.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

``agency_sites`` has one row per site of the agency file: when its next tick is due and,
while a worker runs one, who holds it until when (``lease_owner``, ``lease_until``, the
tick's id in ``lease_tick``). Workers claim a due row with ``FOR UPDATE SKIP LOCKED``
(publish.ops.agency_run). ``agency_ticks`` records each tick's interval and outcome, so
that an operator (and the tests) can see that no site was ticked twice at once. Both are
agency-wide tables: they carry the site key as data, not as the store's scope.
Types are spelled out here rather than imported from the models, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OUTCOMES = ("running", "ok", "skipped", "incomplete", "failed", "timeout", "lost", "error")


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "agency_sites",
        sa.Column("key", sa.String(63), nullable=False),
        sa.Column("next_tick_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_tick", big_id, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_tick", big_id, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_agency_sites")),
    )
    op.create_index(op.f("ix_agency_sites_next_tick_at"), "agency_sites", ["next_tick_at"])
    outcomes = ", ".join(f"'{outcome}'" for outcome in OUTCOMES)
    op.create_table(
        "agency_ticks",
        sa.Column("id", big_id, nullable=False),
        sa.Column("site", sa.String(63), nullable=False),
        sa.Column("worker", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_ticks")),
        sa.CheckConstraint(f"outcome IN ({outcomes})", name=op.f("ck_agency_ticks_outcome")),
    )
    op.create_index(op.f("ix_agency_ticks_site_started_at"), "agency_ticks", ["site", "started_at"])


def downgrade() -> None:
    op.drop_table("agency_ticks")
    op.drop_table("agency_sites")

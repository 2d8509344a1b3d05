"""Scheduler runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Types are spelled out here rather than imported from the models, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = ("running", "ok", "skipped", "failed", "stopped")


def upgrade() -> None:
    statuses = ", ".join(f"'{status}'" for status in STATUSES)
    op.create_table(
        "scheduler_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_runs")),
        sa.CheckConstraint(f"status IN ({statuses})", name=op.f("ck_scheduler_runs_status")),
    )
    op.create_index(op.f("ix_scheduler_runs_started_at"), "scheduler_runs", ["started_at"])


def downgrade() -> None:
    op.drop_table("scheduler_runs")

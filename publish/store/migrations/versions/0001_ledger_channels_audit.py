"""Syndication ledger, channel state and audit events.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Types are spelled out here rather than imported from the models: a migration must keep
creating the schema it created on the day it was written, whatever the models become.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUSES = ("intent", "posted", "failed", "late", "skipped", "retracted")


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def _time(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    statuses = ", ".join(f"'{status}'" for status in STATUSES)
    op.create_table(
        "ledger",
        _id(),
        sa.Column("piece_id", sa.String(500), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("part_index", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        _time("claimed_until"),
        _time("sending_since"),
        sa.Column("remote_id", sa.String(200), nullable=True),
        sa.Column("remote_url", sa.Text(), nullable=True),
        sa.Column("reply_to_remote_id", sa.String(200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _time("created_at", nullable=False),
        _time("updated_at", nullable=False),
        _time("posted_at"),
        _time("released_at"),
        _time("retracted_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger")),
        sa.UniqueConstraint(
            "piece_id", "channel", "part_index", name=op.f("uq_ledger_piece_id_channel_part_index")
        ),
        sa.CheckConstraint(f"status IN ({statuses})", name=op.f("ck_ledger_status")),
        sa.CheckConstraint("part_index >= 0", name=op.f("ck_ledger_part_index")),
    )
    op.create_index(
        op.f("ix_ledger_status_next_attempt_at"), "ledger", ["status", "next_attempt_at"]
    )

    op.create_table(
        "channel_state",
        sa.Column("channel", sa.String(32), nullable=False),
        _time("paused_until"),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.Column("auth_problem", sa.Text(), nullable=True),
        _time("token_expires_at"),
        _time("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_state")),
    )

    op.create_table(
        "audit_events",
        _id(),
        _time("at", nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(500), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        op.f("ix_audit_events_subject_type_subject_id"),
        "audit_events",
        ["subject_type", "subject_id"],
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("channel_state")
    op.drop_table("ledger")

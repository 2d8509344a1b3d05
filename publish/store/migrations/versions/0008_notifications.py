"""Notifications: one row per event and recipient, so each is sent once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Types are spelled out here rather than imported from the models, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATUSES = "'pending', 'digest', 'sending', 'sent', 'failed', 'doubt'"


def _when(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("event_key", sa.String(600), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("recipient", sa.String(300), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _when("created_at", nullable=False),
        _when("not_before", nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        _when("sending_since"),
        sa.Column("batch", sa.String(64), nullable=True),
        sa.Column("message_id", sa.String(300), nullable=True),
        _when("sent_at"),
        sa.Column("error", sa.Text(), nullable=True),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "event_key", "recipient", name=op.f("uq_notifications_event_key_recipient")
        ),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_notifications_status")),
    )
    op.create_index(
        op.f("ix_notifications_status_not_before"), "notifications", ["status", "not_before"]
    )
    op.create_index(op.f("ix_notifications_created_at"), "notifications", ["created_at"])


def downgrade() -> None:
    op.drop_table("notifications")

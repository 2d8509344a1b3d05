"""Comments, our replies to them, and comment sync cursors.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Types are spelled out here rather than imported from the models, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATES = ("new", "approved", "rejected", "escalated", "silent", "resolved")
REPLY_STATUSES = ("pending", "queued", "sent", "failed")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    states = ", ".join(f"'{state}'" for state in STATES)
    op.create_table(
        "comments",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("remote_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("post_remote_id", sa.String(200), nullable=True),
        sa.Column("parent_remote_id", sa.String(200), nullable=True),
        sa.Column("piece_id", sa.String(500), nullable=True),
        sa.Column("post_slug", sa.String(500), nullable=True),
        sa.Column("author_handle", sa.String(200), nullable=True),
        sa.Column("author_name", sa.String(200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("permalink", sa.Text(), nullable=True),
        _when("created_at", nullable=False),
        _when("received_at", nullable=False),
        _when("edited_at"),
        _when("gone_at"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("spam", sa.Text(), nullable=True),
        sa.Column("escalated_to", sa.String(200), nullable=True),
        sa.Column("assigned_to", sa.String(200), nullable=True),
        _when("due_at"),
        _when("responded_at"),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint("channel", "remote_id", name=op.f("uq_comments_channel_remote_id")),
        sa.CheckConstraint(f"state IN ({states})", name=op.f("ck_comments_state")),
        sa.CheckConstraint("kind IN ('reply', 'mention')", name=op.f("ck_comments_kind")),
    )
    op.create_index(op.f("ix_comments_state_due_at"), "comments", ["state", "due_at"])
    op.create_index(
        op.f("ix_comments_channel_author_handle"), "comments", ["channel", "author_handle"]
    )
    statuses = ", ".join(f"'{status}'" for status in REPLY_STATUSES)
    op.create_table(
        "comment_replies",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("comment_id", _id(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("written_by", sa.String(200), nullable=False),
        _when("written_at", nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        _when("approved_at"),
        sa.Column("remote_id", sa.String(200), nullable=True),
        sa.Column("remote_url", sa.Text(), nullable=True),
        _when("posted_at"),
        sa.Column("error", sa.Text(), nullable=True),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_replies")),
        sa.CheckConstraint(f"status IN ({statuses})", name=op.f("ck_comment_replies_status")),
    )
    op.create_index(op.f("ix_comment_replies_comment_id"), "comment_replies", ["comment_id"])
    op.create_table(
        "sync_cursors",
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("cursor", sa.String(300), nullable=True),
        _when("refreshed_at"),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("channel", "source", name=op.f("pk_sync_cursors")),
    )


def downgrade() -> None:
    op.drop_table("sync_cursors")
    op.drop_table("comment_replies")
    op.drop_table("comments")

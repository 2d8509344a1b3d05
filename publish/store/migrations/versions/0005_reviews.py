"""The approval portal: review requests, their pieces, magic links and decisions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Types are spelled out here rather than imported from the models, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "review_requests",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("branch", sa.String(250), nullable=False),
        sa.Column("base", sa.String(250), nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        _when("requested_at", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_requests")),
    )
    op.create_table(
        "review_pieces",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("review_id", _id(), nullable=False),
        sa.Column("piece", sa.String(500), nullable=False),
        sa.Column("hash", sa.String(80), nullable=False),
        sa.Column("title", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_pieces")),
        sa.UniqueConstraint("review_id", "piece", name=op.f("uq_review_pieces_review_id_piece")),
    )
    op.create_table(
        "review_links",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("review_id", _id(), nullable=False),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _when("created_at", nullable=False),
        _when("expires_at", nullable=False),
        _when("sent_at"),
        _when("used_at"),
        sa.Column("session_hash", sa.String(64), nullable=True),
        _when("session_expires_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_review_links_token_hash")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_review_links_session_hash")),
    )
    op.create_index(op.f("ix_review_links_review_id"), "review_links", ["review_id"])
    op.create_table(
        "review_decisions",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("review_id", _id(), nullable=False),
        sa.Column("link_id", _id(), nullable=False),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("piece", sa.String(500), nullable=False),
        sa.Column("hash", sa.String(80), nullable=False),
        sa.Column("decision", sa.String(24), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("commit", sa.String(64), nullable=True),
        _when("decided_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
        sa.CheckConstraint(
            "decision IN ('approved', 'changes_requested')",
            name=op.f("ck_review_decisions_decision"),
        ),
    )
    op.create_index(op.f("ix_review_decisions_review_id"), "review_decisions", ["review_id"])


def downgrade() -> None:
    op.drop_table("review_decisions")
    op.drop_table("review_links")
    op.drop_table("review_pieces")
    op.drop_table("review_requests")

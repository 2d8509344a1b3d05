"""Desk accounts: users with roles, server-side sessions and login attempts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Types are spelled out here rather than imported from the models, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLES = ("admin", "moderator", "editor", "approver")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    roles = ", ".join(f"'{role}'" for role in ROLES)
    op.create_table(
        "desk_users",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        _when("locked_until"),
        _when("last_login_at"),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_desk_users_email")),
        sa.CheckConstraint(f"role IN ({roles})", name=op.f("ck_desk_users_role")),
    )
    op.create_table(
        "desk_sessions",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", _id(), nullable=False),
        _when("created_at", nullable=False),
        _when("expires_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_desk_sessions_token_hash")),
    )
    op.create_index(op.f("ix_desk_sessions_user_id"), "desk_sessions", ["user_id"])
    op.create_table(
        "desk_login_attempts",
        sa.Column("id", _id(), primary_key=True),
        _when("at", nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_login_attempts")),
    )
    op.create_index(op.f("ix_desk_login_attempts_email_at"), "desk_login_attempts", ["email", "at"])
    op.create_index(
        op.f("ix_desk_login_attempts_address_at"), "desk_login_attempts", ["address", "at"]
    )


def downgrade() -> None:
    op.drop_table("desk_login_attempts")
    op.drop_table("desk_sessions")
    op.drop_table("desk_users")

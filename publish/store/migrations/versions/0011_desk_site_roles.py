"""Desk roles per site: which account may do what on which client site (issue 20).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

An agency desk serves every site of the agency file from one database; an account is
agency-wide (``desk_users``), its role on each site is a row here. No row for a site: the
account sees nothing of that site. A one-site installation never reads this table: its
accounts keep ``desk_users.role``. The table is agency-wide itself (it names the site in
``site``; it is not filtered by a store's site scope).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ROLES = ("admin", "moderator", "editor", "approver")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    roles = ", ".join(f"'{role}'" for role in ROLES)
    op.create_table(
        "desk_site_roles",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("user_id", _id(), nullable=False),
        sa.Column("site", sa.String(63), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_site_roles")),
        sa.UniqueConstraint("user_id", "site", name=op.f("uq_desk_site_roles_user_id_site")),
        sa.CheckConstraint(f"role IN ({roles})", name=op.f("ck_desk_site_roles_role")),
    )
    op.create_index(op.f("ix_desk_site_roles_site"), "desk_site_roles", ["site"])


def downgrade() -> None:
    op.drop_table("desk_site_roles")

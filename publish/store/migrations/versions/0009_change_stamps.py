"""Indexes on ``updated_at``: what changed since the site data was last written.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08

The site data (``publish.site.sitedata``) is written before each build and again after
sync; at a million comments a full computation reads every approved comment. Before
computing, it compares a stamp of the store — the newest ``updated_at`` of comments,
our replies and the ledger, and the newest audit event — with the stamp it wrote the
file for; each of these is one step down an index (issue 24), so an idle tick costs
milliseconds. (The repeat key ``text_hash`` and its index came with 0006.)
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_comments_updated_at": ("comments", ["updated_at"]),
    "ix_comment_replies_updated_at": ("comment_replies", ["updated_at"]),
    "ix_ledger_updated_at": ("ledger", ["updated_at"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)

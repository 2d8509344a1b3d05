"""Comments at a million rows: a repeat key, and indexes that answer what the screens ask.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Each index follows a query plan (issue 24; the tests in
tests/publish/test_comment_queries.py assert the plans on SQLite and PostgreSQL):

- ``state, due_at, created_at, id``: the inbox, most urgent first, a page at a time
  (keyset); it replaces ``state, due_at``, its prefix. The site data's approved
  comments are found by its first column.
- ``state, channel, due_at, created_at, id``: the inbox of one channel.
- ``channel, post_remote_id, created_at, id``: the thread of one post, in order.
- ``kind, created_at``: the response-time report over a period.
- ``text_hash, created_at``: the spam repeat check, copies of a text in a time window.
- ``ledger (channel, remote_id)``: which of our posts a new comment is under.

``text_hash`` is the digest of the text as compared for repeats
(:func:`publish.moderation.triage.repeat_key`); existing rows are filled in batches here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from publish.moderation.triage import repeat_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 5000
INDEXES = {
    "ix_comments_state_due_at_created_at_id": ["state", "due_at", "created_at", "id"],
    "ix_comments_state_channel_due_at_created_at_id": [
        "state", "channel", "due_at", "created_at", "id",
    ],
    "ix_comments_channel_post_remote_id_created_at_id": [
        "channel", "post_remote_id", "created_at", "id",
    ],
    "ix_comments_kind_created_at": ["kind", "created_at"],
    "ix_comments_text_hash_created_at": ["text_hash", "created_at"],
}  # fmt: skip


def _backfill() -> None:
    connection = op.get_bind()
    comments = sa.table(
        "comments", sa.column("id", sa.Integer), sa.column("text", sa.Text),
        sa.column("text_hash", sa.String),
    )  # fmt: skip
    last = 0
    while True:
        rows = connection.execute(
            sa.select(comments.c.id, comments.c.text)
            .where(comments.c.id > last)
            .order_by(comments.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        keys = [{"row_id": row.id, "key": repeat_key(row.text)} for row in rows]
        keys = [k for k in keys if k["key"] is not None]
        if keys:
            connection.execute(
                comments.update()
                .where(comments.c.id == sa.bindparam("row_id"))
                .values(text_hash=sa.bindparam("key")),
                keys,
            )
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("text_hash", sa.String(64), nullable=True))
    _backfill()
    op.drop_index("ix_comments_state_due_at", table_name="comments")
    for name, columns in INDEXES.items():
        op.create_index(name, "comments", columns)
    op.create_index("ix_ledger_channel_remote_id", "ledger", ["channel", "remote_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_channel_remote_id", table_name="ledger")
    for name in INDEXES:
        op.drop_index(name, table_name="comments")
    op.create_index("ix_comments_state_due_at", "comments", ["state", "due_at"])
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("text_hash")

"""Every row that belongs to a site carries the site's key (issue 20).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

One database can now hold the rows of many sites (an agency's): the ledger, channel
state, audit log, scheduler runs, comments and our replies, sync cursors, review
requests (with their pieces, links and decisions: the portal looks links up on their
own) and notifications get a ``site`` column. Rows that existed before are a one-site
installation's: their key is ``''``, the server default, so the upgrade rewrites no row.

What was unique is unique per site: a piece id, a comment's remote id (one post that
mentions two clients is a comment in both sites' inboxes), a channel's state, a sync
cursor, a notification's event for one recipient. So is a network post recorded in the
ledger: the rule it keeps ("one post carries one part") is a rule of one site's ledger,
its check (``posts_of_others``) reads through the site's scoped session, and two sites
with their own test accounts or sandboxes can see the same remote ids; a global index
would fail with an integrity error that the site's own check cannot see or explain.

The indexes the screens use lead with ``site`` (an equality, so the range and the order
behind it still come from the index: the EXPLAIN tests in
tests/publish/store/test_comment_queries.py hold on both databases). SQLite cannot
change a table's constraints in place: batch mode rebuilds those tables.

A downgrade is possible only while every row is the one site's (``''``): the old keys
cannot hold two sites' rows, and dropping another site's rows is not a schema change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = (
    "ledger", "channel_state", "audit_events", "scheduler_runs", "comments",
    "comment_replies", "sync_cursors", "review_requests", "review_pieces", "review_links",
    "review_decisions", "notifications",
)  # fmt: skip

# table -> {old index: (new index, columns after site, unique)}
INDEXES: dict[str, dict[str, tuple[str, list[str], bool]]] = {
    "ledger": {
        "ix_ledger_status_next_attempt_at": (
            "ix_ledger_site_status_next_attempt_at", ["status", "next_attempt_at"], False),
        "ix_ledger_channel_remote_id": (
            "ix_ledger_site_channel_remote_id", ["channel", "remote_id"], True),
        "ix_ledger_updated_at": ("ix_ledger_site_updated_at", ["updated_at"], False),
    },
    "audit_events": {
        "ix_audit_events_subject_type_subject_id": (
            "ix_audit_events_site_subject_type_subject_id", ["subject_type", "subject_id"],
            False),
        "ix_audit_events_at": ("ix_audit_events_site_at", ["at"], False),
    },
    "scheduler_runs": {
        "ix_scheduler_runs_started_at": ("ix_scheduler_runs_site_started_at", ["started_at"],
                                         False),
    },
    "comments": {
        "ix_comments_state_due_at_created_at_id": (
            "ix_comments_site_state_due_at_created_at_id",
            ["state", "due_at", "created_at", "id"], False),
        "ix_comments_state_channel_due_at_created_at_id": (
            "ix_comments_site_state_channel_due_at_created_at_id",
            ["state", "channel", "due_at", "created_at", "id"], False),
        "ix_comments_channel_post_remote_id_created_at_id": (
            "ix_comments_site_channel_post_remote_id_created_at_id",
            ["channel", "post_remote_id", "created_at", "id"], False),
        "ix_comments_kind_created_at": (
            "ix_comments_site_kind_created_at", ["kind", "created_at"], False),
        "ix_comments_text_hash_created_at": (
            "ix_comments_site_text_hash_created_at", ["text_hash", "created_at"], False),
        "ix_comments_channel_author_handle": (
            "ix_comments_site_channel_author_handle", ["channel", "author_handle"], False),
        "ix_comments_updated_at": ("ix_comments_site_updated_at", ["updated_at"], False),
    },
    "comment_replies": {
        "ix_comment_replies_updated_at": (
            "ix_comment_replies_site_updated_at", ["updated_at"], False),
    },
    "notifications": {
        "ix_notifications_status_not_before": (
            "ix_notifications_site_status_not_before", ["status", "not_before"], False),
        "ix_notifications_created_at": (
            "ix_notifications_site_created_at", ["created_at"], False),
    },
}  # fmt: skip

# table -> (old unique constraint, new one, columns after site)
UNIQUES = {
    "ledger": ("uq_ledger_piece_id_channel_part_index",
               "uq_ledger_site_piece_id_channel_part_index",
               ["piece_id", "channel", "part_index"]),
    "comments": ("uq_comments_channel_remote_id", "uq_comments_site_channel_remote_id",
                 ["channel", "remote_id"]),
    "notifications": ("uq_notifications_event_key_recipient",
                      "uq_notifications_site_event_key_recipient",
                      ["event_key", "recipient"]),
}  # fmt: skip

# table -> primary key columns after site
PRIMARY_KEYS = {"channel_state": ["channel"], "sync_cursors": ["channel", "source"]}


def _site_column() -> sa.Column[str]:
    return sa.Column("site", sa.String(63), nullable=False, server_default="")


def upgrade() -> None:
    for table in TABLES:
        for old in INDEXES.get(table, {}):
            op.drop_index(old, table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.add_column(_site_column())
            if table in UNIQUES:
                old, new, columns = UNIQUES[table]
                batch.drop_constraint(old, type_="unique")
                batch.create_unique_constraint(new, ["site", *columns])
            if table in PRIMARY_KEYS:
                batch.drop_constraint(f"pk_{table}", type_="primary")
                batch.create_primary_key(f"pk_{table}", ["site", *PRIMARY_KEYS[table]])
        for new, columns, unique in INDEXES.get(table, {}).values():
            op.create_index(new, table, ["site", *columns], unique=unique)


def downgrade() -> None:
    connection = op.get_bind()
    for table in TABLES:
        other = connection.execute(
            sa.text(f"SELECT site FROM {table} WHERE site <> '' LIMIT 1")  # noqa: S608 - our own table names
        ).first()
        if other is not None:
            raise RuntimeError(
                f"cannot downgrade below 0010: {table} holds rows of site {other[0]!r}; "
                "the one-site schema can hold only the rows of site ''"
            )
    for table in TABLES:
        for new, _columns, _unique in INDEXES.get(table, {}).values():
            op.drop_index(new, table_name=table)
        with op.batch_alter_table(table) as batch:
            if table in PRIMARY_KEYS:
                batch.drop_constraint(f"pk_{table}", type_="primary")
                batch.create_primary_key(f"pk_{table}", PRIMARY_KEYS[table])
            if table in UNIQUES:
                old, new, columns = UNIQUES[table]
                batch.drop_constraint(new, type_="unique")
                batch.create_unique_constraint(old, columns)
            batch.drop_column("site")
        for old, (_new, columns, unique) in INDEXES.get(table, {}).items():
            op.create_index(old, table, columns, unique=unique)

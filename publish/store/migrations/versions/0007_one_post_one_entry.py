"""One network post is recorded for at most one ledger entry per channel.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Before issue 17, a duplicate refusal or a look-up after a crash could record a part as
posted with the post another piece's part carries (two snippets with the same words):
that part never went out. Such rows are found here first: on each channel the entry that
recorded the post first keeps it, and every later one becomes ``failed`` with a reason
that says what happened, so that a person releases it and it goes out, instead of the
upgrade failing on the new index. Each change is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "ix_ledger_channel_remote_id"

_ledger = sa.table(
    "ledger",
    sa.column("id", sa.BigInteger()),
    sa.column("piece_id", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("part_index", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("remote_id", sa.String()),
    sa.column("remote_url", sa.String()),
    sa.column("posted_at", sa.DateTime(timezone=True)),
    sa.column("error", sa.Text()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_audit = sa.table(
    "audit_events",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.String()),
    sa.column("details", sa.JSON()),
)


def _hand_back_borrowed_posts() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _ledger.c.id, _ledger.c.piece_id, _ledger.c.channel, _ledger.c.part_index,
            _ledger.c.status, _ledger.c.remote_id,
        )
        .where(_ledger.c.remote_id.is_not(None))
        .order_by(_ledger.c.channel, _ledger.c.remote_id, _ledger.c.posted_at, _ledger.c.id)
    ).all()
    first: dict[tuple[str, str], Any] = {}
    now = datetime.now(UTC)
    for row in rows:
        key = (row.channel, row.remote_id)
        if key not in first:
            first[key] = row
            continue
        owner = first[key]
        reason = (
            f"was recorded with post {row.remote_id}, which carries {owner.piece_id} "
            f"(part {owner.part_index + 1}); this part never went out: release it to send it"
        )
        connection.execute(
            sa.update(_ledger)
            .where(_ledger.c.id == row.id)
            .values(status="failed", remote_id=None, remote_url=None, posted_at=None,
                    error=reason, updated_at=now)
        )
        connection.execute(
            sa.insert(_audit).values(
                at=now, actor="system", action="ledger.failed", subject_type="piece",
                subject_id=row.piece_id,
                details={"entry_id": row.id, "channel": row.channel,
                         "part_index": row.part_index, "from": row.status, "to": "failed",
                         "error": reason},
            )
        )


def upgrade() -> None:
    _hand_back_borrowed_posts()
    # 0006 made the same columns a plain index for the comment sync's look-up
    op.drop_index(INDEX, table_name="ledger")
    op.create_index(INDEX, "ledger", ["channel", "remote_id"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="ledger")
    op.create_index(INDEX, "ledger", ["channel", "remote_id"])

"""Forgetting people: erasing one person's comments on request and purging what is older
than the retention period, replies and audit details included."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from publish.moderation.inbox import (
    REPLY_PIECE,
    SUBJECT,
    _get,
)
from publish.store import Store, audit, ledger
from publish.store.models import (
    ERASED_REASONS,
    AuditEvent,
    Comment,
    CommentReply,
    CommentState,
)

logger = logging.getLogger(__name__)


ERASED_TEXT = ""
# comments erased per transaction by retention
PURGE_BATCH = 500


def forget(store: Store, channel: str, handle: str, *, actor: str, now: datetime) -> int:
    """Erase a person's comments and personal data; the number of comments erased.

    The rows stay as tombstones (remote id only) so that sync never brings them back;
    the audit records that it happened, without the handle. Our replies to them lose
    any mention of the handle.
    """
    wanted = handle.removeprefix("@").casefold()
    with store.transaction() as session:
        comments = [
            c
            for c in session.scalars(select(Comment).where(Comment.channel == channel))
            if (c.author_handle or "").removeprefix("@").casefold() == wanted
        ]
        for comment in comments:
            _erase(session, comment, "forgotten", now)
        _scrub_replies(session, [c.id for c in comments], handle)
        if comments:
            audit.record(
                session,
                actor,
                "comment.forgotten",
                "person",
                channel,
                {"comments": [c.id for c in comments]},
                now,
            )
        _scrub_audit(session, handle)
    store.compact()
    return len(comments)


def _erase(session: Session, comment: Comment, reason: str, now: datetime) -> None:
    session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(
            author_handle=None,
            author_name=None,
            text=ERASED_TEXT,
            text_hash=None,
            permalink=None,
            reason=reason,
            gone_at=comment.gone_at or now,
            updated_at=now,
        )
    )


def _scrub_replies(session: Session, comment_ids: list[int], handle: str) -> None:
    if not comment_ids:
        return
    variants = {handle, handle.removeprefix("@"), "@" + handle.removeprefix("@")}
    for row in session.scalars(
        select(CommentReply).where(CommentReply.comment_id.in_(comment_ids))
    ):
        text = row.text
        for variant in sorted(variants, key=len, reverse=True):
            text = text.replace(variant, "[…]")
        if text != row.text:
            row.text = text
            entry = ledger.find(
                session, f"{REPLY_PIECE}{row.id}", _get(session, row.comment_id).channel
            )
            if entry is not None:
                entry.text = text


def _scrub_audit(session: Session, handle: str) -> None:
    """Audit details never hold handles by design; this makes sure of it for old rows."""
    bare = handle.removeprefix("@").casefold()
    for event in session.scalars(select(AuditEvent).where(AuditEvent.subject_type == SUBJECT)):
        if bare and bare in str(event.details).casefold():
            event.details = {"erased": True}


def purge(store: Store, retention_days: int, now: datetime) -> int:
    """Erase rejected comments older than ``retention_days``; the number erased.

    In batches of :data:`PURGE_BATCH`, each one short transaction with its audit event:
    the first purge of a store with years of spam would otherwise hold the write lock
    for as long as it takes to erase all of it, and the desk and sync would wait.
    """
    cutoff = now - timedelta(days=retention_days)
    total = 0
    while True:
        with store.transaction() as session:
            ids = list(
                session.scalars(
                    select(Comment.id)
                    .where(
                        Comment.state == CommentState.REJECTED.value,
                        Comment.received_at < cutoff,
                        or_(Comment.reason.is_(None), Comment.reason.not_in(ERASED_REASONS)),
                    )
                    .order_by(Comment.id)
                    .limit(PURGE_BATCH)
                )
            )
            if not ids:
                return total
            session.execute(
                update(Comment)
                .where(Comment.id.in_(ids))
                .values(
                    author_handle=None,
                    author_name=None,
                    text=ERASED_TEXT,
                    text_hash=None,
                    permalink=None,
                    reason="purged",
                    gone_at=func.coalesce(Comment.gone_at, now),
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            audit.record(
                session,
                audit.SYSTEM,
                "comment.purged",
                SUBJECT,
                "retention",
                {"comments": len(ids), "days": retention_days},
                now,
            )
        total += len(ids)

"""Moderation: the inbox — what a comment and our replies look like to a moderator, and
reading them (pages by keyset, one comment, a thread).

The decisions on a comment live in :mod:`publish.moderation.decisions`, our replies in
:mod:`publish.moderation.replies`, forgetting people in :mod:`publish.moderation.privacy`;
callers use the package's names (:mod:`publish.moderation`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from publish.store import Store
from publish.store.errors import NotFound
from publish.store.models import (
    Comment,
    CommentReply,
    CommentState,
)

if TYPE_CHECKING:  # the checks (and the guideline) load when a reply is checked
    from editorial.checks import TextFinding

logger = logging.getLogger(__name__)

SUBJECT = "comment"
REPLY_PIECE = "reply:"

# Why a comment gets no public answer; `silence` takes one of these.
SILENT_REASONS = {
    "troll": "provocation or trolling; an answer would feed it",
    "legal": "legal reasons; answering could be used against the client",
    "already-answered": "answered elsewhere (another comment, phone, e-mail)",
    "off-topic": "unrelated to the client or the post",
    "no-answer-needed": "praise or a remark that needs no answer",
    "private": "needs personal data; moved to a private channel",
}
# Decisions that end the comment's wait for a response, and from which states.
OPEN_STATES = (CommentState.NEW, CommentState.RESOLVED)
STATES = tuple(state.value for state in CommentState)


class ModerationError(Exception):
    """A moderation action that cannot be done as asked; the message says why."""


class NotAllowed(ModerationError):
    """The rules forbid it: replying while escalated, approving one's own sensitive reply."""


class ReplyRefused(ModerationError):
    """The reply text breaks the guideline; ``findings`` say where and why."""

    def __init__(self, findings: list[TextFinding]) -> None:
        self.findings = findings
        reasons = "; ".join(f.message for f in findings if f.severity == "error")
        super().__init__(f"reply refused: {reasons}")


@dataclass(frozen=True)
class ReplyView:
    """Our answer to a comment as the inbox shows it."""

    id: int
    text: str
    status: str
    written_by: str
    written_at: datetime
    approved_by: str | None
    remote_url: str | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["written_at"] = self.written_at.isoformat(timespec="seconds")
        return data


@dataclass(frozen=True)
class CommentView:
    """A comment as the inbox shows it: a snapshot, safe to use after the session ends."""

    id: int
    channel: str
    remote_id: str
    kind: str
    state: str
    category: str | None
    author_name: str | None
    author_handle: str | None
    text: str
    permalink: str | None
    created_at: datetime
    received_at: datetime
    due_at: datetime | None
    responded_at: datetime | None
    assigned_to: str | None
    escalated_to: str | None
    reason: str | None
    spam: str | None
    post_slug: str | None
    piece_id: str | None
    post_remote_id: str | None
    parent_remote_id: str | None
    hidden: bool
    edited: bool
    replies: list[ReplyView] = field(default_factory=list)

    def overdue(self, now: datetime) -> bool:
        """No response yet and the guideline's target has passed."""
        return self.responded_at is None and self.due_at is not None and self.due_at < now

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("created_at", "received_at", "due_at", "responded_at"):
            value = getattr(self, key)
            data[key] = value.isoformat(timespec="seconds") if value else None
        data["replies"] = [reply.to_dict() for reply in self.replies]
        return data


def _view(comment: Comment, replies: Iterable[CommentReply] = ()) -> CommentView:
    return CommentView(
        id=comment.id,
        channel=comment.channel,
        remote_id=comment.remote_id,
        kind=comment.kind,
        state=comment.state,
        category=comment.category,
        author_name=comment.author_name,
        author_handle=comment.author_handle,
        text=comment.text,
        permalink=comment.permalink,
        created_at=comment.created_at,
        received_at=comment.received_at,
        due_at=comment.due_at,
        responded_at=comment.responded_at,
        assigned_to=comment.assigned_to,
        escalated_to=comment.escalated_to,
        reason=comment.reason,
        spam=comment.spam,
        post_slug=comment.post_slug,
        piece_id=comment.piece_id,
        post_remote_id=comment.post_remote_id,
        parent_remote_id=comment.parent_remote_id,
        hidden=comment.hidden,
        edited=comment.edited_at is not None,
        replies=[
            ReplyView(
                id=r.id,
                text=r.text,
                status=r.status,
                written_by=r.written_by,
                written_at=r.written_at,
                approved_by=r.approved_by,
                remote_url=r.remote_url,
                error=r.error,
            )
            for r in replies
        ],
    )


def _replies(session: Session, ids: list[int]) -> dict[int, list[CommentReply]]:
    found: dict[int, list[CommentReply]] = {}
    if not ids:
        return found
    query = (
        select(CommentReply)
        .where(CommentReply.comment_id.in_(ids))
        .order_by(CommentReply.written_at, CommentReply.id)
    )
    for reply in session.scalars(query):
        found.setdefault(reply.comment_id, []).append(reply)
    return found


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox and the cursor of the next (None: this was the last)."""

    comments: list[CommentView]
    next_after: str | None


# a page of the inbox: what one screen shows
PAGE_SIZE = 50
_NO_DUE = "-"


def _key(due_at: datetime | None, created_at: datetime, comment_id: int) -> tuple[Any, ...]:
    """The inbox order: due first (oldest due first), then the undated; then arrival, id."""
    if due_at is None:
        return (1, created_at, created_at, comment_id)
    return (0, due_at, created_at, comment_id)


def _cursor_text(due_at: datetime | None, created_at: datetime, comment_id: int) -> str:
    due = due_at.isoformat() if due_at is not None else _NO_DUE
    return f"{due}~{created_at.isoformat()}~{comment_id}"


def _parse_cursor(text: str) -> tuple[datetime | None, datetime, int]:
    """A cursor as :class:`InboxPage` hands it out; anything else is refused by name."""
    try:
        due, created, comment_id = text.split("~")
        due_at = None if due == _NO_DUE else datetime.fromisoformat(due)
        created_at = datetime.fromisoformat(created)
        number = int(comment_id)
    except ValueError:
        raise ModerationError(
            f"inbox cursor {text[:80]!r} is not one the inbox handed out; start at the first page"
        ) from None
    if created_at.tzinfo is None or (due_at is not None and due_at.tzinfo is None):
        raise ModerationError(f"inbox cursor {text[:80]!r} has a time without a zone")
    return due_at, created_at, number


def inbox_page(
    store: Store,
    *,
    states: Iterable[str] | None = None,
    channel: str | None = None,
    category: str | None = None,
    overdue_at: datetime | None = None,
    assigned_to: str | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> InboxPage:
    """Comments to work on, the most urgent first (oldest due, then the undated by
    arrival), ``limit`` at a time after the cursor ``after``; by default the open ones
    (new, escalated).

    Each state is read in index order (``state[, channel], due_at, created_at, id``) up
    to one more than a page, with or without a due time, and the few candidates are
    merged here: no query sorts or reads the whole open backlog, however large. The
    filters are predicates of those index scans. ``overdue_at`` keeps only comments
    without a response whose due time is before it.
    """
    wanted = list(dict.fromkeys(states)) if states is not None else ["new", "escalated"]
    unknown = [state for state in wanted if state not in STATES]
    if unknown:
        raise ModerationError(f"unknown state {unknown[0]!r}; known: {', '.join(STATES)}")
    if limit < 1:
        raise ModerationError(f"an inbox page holds at least one comment, not {limit}")
    cursor = _parse_cursor(after) if after else None
    filters: list[Any] = []
    if channel:
        filters.append(Comment.channel == channel)
    if category:
        filters.append(Comment.category == category)
    if assigned_to:
        filters.append(Comment.assigned_to == assigned_to)
    if overdue_at is not None:
        filters += [Comment.responded_at.is_(None), Comment.due_at < overdue_at]
    keys = (Comment.due_at, Comment.created_at, Comment.id)
    with store.read() as session:
        candidates: list[tuple[Any, ...]] = []
        for state in wanted:
            dated = select(*keys).where(
                Comment.state == state, Comment.due_at.is_not(None), *filters
            )
            undated = select(*keys).where(
                Comment.state == state, Comment.due_at.is_(None), *filters
            )
            with_due = True
            if cursor is not None:
                due, created, number = cursor
                if due is None:
                    with_due = False  # the cursor is past every comment with a due time
                    undated = undated.where(
                        tuple_(Comment.created_at, Comment.id) > (created, number)
                    )
                else:
                    dated = dated.where(tuple_(*keys) > (due, created, number))
            parts = [dated.order_by(*keys)] if with_due else []
            if overdue_at is None:
                parts.append(undated.order_by(Comment.created_at, Comment.id))
            for part in parts:
                candidates += [tuple(row) for row in session.execute(part.limit(limit + 1))]
        candidates.sort(key=lambda row: _key(*row))
        chosen = candidates[:limit]
        ids = [row[2] for row in chosen]
        found = {c.id: c for c in session.scalars(select(Comment).where(Comment.id.in_(ids)))}
        replies = _replies(session, ids)
        views = [_view(found[i], replies.get(i, ())) for i in ids if i in found]
    more = len(candidates) > limit and chosen
    return InboxPage(views, _cursor_text(*chosen[-1]) if more else None)


def inbox(
    store: Store,
    *,
    states: Iterable[str] | None = None,
    channel: str | None = None,
    category: str | None = None,
    overdue_at: datetime | None = None,
    assigned_to: str | None = None,
) -> list[CommentView]:
    """Every comment :func:`inbox_page` would show, page after page (exports and tests;
    screens ask for one page)."""
    views: list[CommentView] = []
    after: str | None = None
    while True:
        page = inbox_page(
            store,
            states=states,
            channel=channel,
            category=category,
            overdue_at=overdue_at,
            assigned_to=assigned_to,
            after=after,
            limit=500,
        )
        views += page.comments
        if page.next_after is None:
            return views
        after = page.next_after


def _get(session: Session, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id, populate_existing=True)
    if comment is None:
        raise NotFound(f"no comment {comment_id}")
    return comment


def _locked(session: Session, comment_id: int) -> Comment:
    """The comment, its row locked until the transaction ends (PostgreSQL; SQLite's
    writers are serialised by BEGIN IMMEDIATE already)."""
    comment = session.get(Comment, comment_id, populate_existing=True, with_for_update=True)
    if comment is None:
        raise NotFound(f"no comment {comment_id}")
    return comment


def show(store: Store, comment_id: int) -> CommentView:
    """One comment with our replies to it."""
    with store.read() as session:
        comment = _get(session, comment_id)
        return _view(comment, _replies(session, [comment_id]).get(comment_id, ()))


def thread(store: Store, comment_id: int) -> list[CommentView]:
    """Every comment under the same network post, in order: the context of one comment
    (indexed: channel, post_remote_id, created_at, id)."""
    with store.read() as session:
        comment = _get(session, comment_id)
        query = (
            select(Comment)
            .where(
                Comment.channel == comment.channel,
                Comment.post_remote_id == comment.post_remote_id,
            )
            .order_by(Comment.created_at, Comment.id)
        )
        comments = list(session.scalars(query))
        replies = _replies(session, [c.id for c in comments])
        return [_view(c, replies.get(c.id, ())) for c in comments]

"""Moderation: the inbox, the decisions on each comment, and our replies.

A comment moves ``new → approved | rejected | escalated | silent`` and ``escalated →
resolved`` (a resolved comment can then be approved, rejected, silenced or answered).
``silent`` is a decision with a reason code, not neglect: no public answer is better
than a bad one. Every change is one conditional ``UPDATE … WHERE id=? AND state=?``
with a row-count check and an audit event in the same transaction, so two moderators
acting at once get one winner and one :class:`~publish.store.errors.Conflict` naming
what happened first, never a lost update.

Replies are checked against the guideline before they are stored (a forbidden phrase
refuses them, with the reason); in a category the guideline marks sensitive a second
person approves the reply first. Sending uses the syndication ledger (piece
``reply:<id>``) and the one delivery protocol of :mod:`publish.posting.delivery` that posts use
too: intent, lease (taken over from a dead worker), commit before the network call,
outcome; a send in doubt is looked up on the network before anything is sent again.

The first-response clock of a comment stops at the first reply on the network or the
first final decision (approved, rejected, silent, resolved); escalating does not stop
it, since the customer is still waiting.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from editorial.checks import TextFinding, check_text
from editorial.guideline import Guideline
from publish.posting import delivery
from publish.posting.channels import (
    Channel,
    RemotePost,
)
from publish.posting.syndication import WORKER
from publish.store import Store, audit, channel_state, ledger
from publish.store.errors import Conflict, NotFound
from publish.store.models import (
    ERASED_REASONS,
    AuditEvent,
    Comment,
    CommentReply,
    CommentState,
    LedgerEntry,
    ReplyStatus,
    Status,
)

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


# --- decisions -------------------------------------------------------------------------


def _last_actor(session: Session, comment_id: int) -> str:
    events = audit.events_for(session, SUBJECT, str(comment_id))
    if not events:
        return ""
    last = events[-1]
    return f" ({last.action.removeprefix('comment.')} by {last.actor} at " + (
        f"{last.at.isoformat(timespec='minutes')})"
    )


def _transition(
    store: Store,
    comment_id: int,
    allowed: Iterable[CommentState],
    action: str,
    *,
    actor: str,
    now: datetime,
    expected_state: str | None = None,
    values: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    responds: bool = False,
) -> CommentView:
    """The one place comments change state: conditional on the state, audited.

    ``expected_state`` is the state the actor saw (the desk's form, ``--expect``); when
    the comment is no longer in it, the change is refused as a conflict even if the
    new state would allow the action.
    """
    sources = [state.value for state in allowed]
    with store.transaction() as session:
        comment = _get(session, comment_id)
        current = comment.state
        if expected_state is not None and current != expected_state:
            raise Conflict(
                f"comment {comment_id} is {current} now, not {expected_state}"
                f"{_last_actor(session, comment_id)}; nothing changed"
            )
        if current not in sources or (expected_state is None and comment.erased):
            raise Conflict(
                f"cannot {action} comment {comment_id}: it is {current}"
                f"{_last_actor(session, comment_id)}; nothing changed"
            )
        changes = dict(values or {})
        if responds and comment.responded_at is None:
            changes["responded_at"] = now
        statement = (
            update(Comment)
            .where(Comment.id == comment_id, Comment.state == current)
            .values(updated_at=now, **changes)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], session.execute(statement)).rowcount != 1:
            raise Conflict(f"comment {comment_id} changed meanwhile; nothing changed")
        comment = _get(session, comment_id)
        audit.record(
            session,
            actor,
            f"comment.{action}",
            SUBJECT,
            str(comment_id),
            {"from": current, "to": comment.state, **(details or {})},
            now,
        )
        logger.info(
            "comment %s: %s by %s (%s → %s)", comment_id, action, actor, current, comment.state
        )
        return _view(comment, _replies(session, [comment_id]).get(comment_id, ()))


def approve(
    store: Store, comment_id: int, *, actor: str, now: datetime, expected_state: str | None = None
) -> CommentView:
    """Show the comment on the site (with our replies to it) from the next build on."""
    return _transition(
        store,
        comment_id,
        OPEN_STATES,
        "approve",
        actor=actor,
        now=now,
        expected_state=expected_state,
        values={"state": CommentState.APPROVED.value},
        responds=True,
    )


def reject(
    store: Store,
    comment_id: int,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    expected_state: str | None = None,
) -> CommentView:
    """Not shown on the site. An approved comment is withdrawn only with
    ``expected_state="approved"``: the actor must have seen that it is public."""
    allowed = [*OPEN_STATES]
    if expected_state == CommentState.APPROVED:
        allowed.append(CommentState.APPROVED)
    return _transition(
        store,
        comment_id,
        allowed,
        "reject",
        actor=actor,
        now=now,
        expected_state=expected_state,
        values={"state": CommentState.REJECTED.value, "reason": reason},
        details={"reason": reason},
        responds=True,
    )


def silence(
    store: Store,
    comment_id: int,
    *,
    actor: str,
    now: datetime,
    reason: str,
    expected_state: str | None = None,
) -> CommentView:
    """Decide to give no public answer, for one of :data:`SILENT_REASONS`."""
    if reason not in SILENT_REASONS:
        raise NotAllowed(
            f"unknown reason {reason!r} for silence; use one of {', '.join(SILENT_REASONS)}"
        )
    return _transition(
        store,
        comment_id,
        OPEN_STATES,
        "silence",
        actor=actor,
        now=now,
        expected_state=expected_state,
        values={"state": CommentState.SILENT.value, "reason": reason},
        details={"reason": reason},
        responds=True,
    )


def escalate(
    store: Store,
    comment_id: int,
    *,
    actor: str,
    now: datetime,
    contact: str | None = None,
    guideline: Guideline | None = None,
    expected_state: str | None = None,
) -> CommentView:
    """Hand the comment to a contact of the guideline; replies wait until it is resolved."""
    if contact is not None and guideline is not None and contact not in guideline.contacts:
        known = ", ".join(sorted(guideline.contacts)) or "none in the guideline"
        raise NotAllowed(f"unknown contact {contact!r}; known: {known}")
    values: dict[str, Any] = {"state": CommentState.ESCALATED.value}
    if contact is not None:
        values.update(escalated_to=contact, assigned_to=contact)
    return _transition(
        store,
        comment_id,
        [CommentState.NEW, CommentState.APPROVED],
        "escalate",
        actor=actor,
        now=now,
        expected_state=expected_state,
        values=values,
        details={"contact": contact},
    )


def resolve(
    store: Store, comment_id: int, *, actor: str, now: datetime, expected_state: str | None = None
) -> CommentView:
    """The escalation is settled; the comment can be answered or decided now."""
    return _transition(
        store,
        comment_id,
        [CommentState.ESCALATED],
        "resolve",
        actor=actor,
        now=now,
        expected_state=expected_state,
        values={"state": CommentState.RESOLVED.value},
        responds=True,
    )


def assign(
    store: Store,
    comment_id: int,
    *,
    actor: str,
    now: datetime,
    to: str,
    expected_state: str | None = None,
) -> CommentView:
    """Make one person responsible; the state stays as it is."""
    with store.transaction() as session:
        state = _get(session, comment_id).state
    return _transition(
        store,
        comment_id,
        [CommentState(state)],
        "assign",
        actor=actor,
        now=now,
        expected_state=expected_state,
        values={"assigned_to": to},
        details={"to": to},
    )


# --- replies ---------------------------------------------------------------------------


def check_reply(guideline: Guideline, channel: str, text: str) -> list[TextFinding]:
    """The guideline's findings on a reply text, as the desk shows them while typing."""
    if not text.strip():
        return [TextFinding("reply.empty", "error", "the reply is empty")]
    return check_text(text, channel, guideline, thread_part=True)


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def reply(
    store: Store,
    guideline: Guideline,
    comment_id: int,
    text: str,
    *,
    actor: str,
    now: datetime,
) -> ReplyView:
    """Store a checked reply: ``queued`` to go out, or ``pending`` a second person's approval.

    Asking twice for the same text gives the same reply (a re-run command never answers
    twice); a refused text raises :class:`ReplyRefused` and stores nothing.
    """
    with store.transaction() as session:
        comment = _get(session, comment_id)
        channel, category, state = comment.channel, comment.category, comment.state
        if state == CommentState.ESCALATED:
            raise NotAllowed(
                f"comment {comment_id} is escalated to {comment.escalated_to or 'a contact'}; "
                "it can be answered once the escalation is resolved "
                f"('dialogpress comment resolve {comment_id}')"
            )
        if state not in (CommentState.NEW, CommentState.APPROVED, CommentState.RESOLVED):
            raise NotAllowed(f"comment {comment_id} is {state}; it gets no public answer")
        if comment.gone_at is not None:
            raise NotAllowed(f"comment {comment_id} was deleted or hidden on the network")
        for existing in _replies(session, [comment_id]).get(comment_id, []):
            if _normal(existing.text) == _normal(text) and existing.status != ReplyStatus.FAILED:
                return _view(comment, [existing]).replies[0]
    findings = check_reply(guideline, channel, text)
    if any(f.severity == "error" for f in findings):
        raise ReplyRefused(findings)
    sensitive = guideline.is_sensitive(category)
    status = ReplyStatus.PENDING if sensitive else ReplyStatus.QUEUED
    with store.transaction() as session:
        # Two submissions of one answer at once (a double click, a re-run while the
        # first still runs) must store it once: the comment's row is locked and the
        # same text looked for again in the transaction that writes the reply.
        comment = _locked(session, comment_id)
        for existing in _replies(session, [comment_id]).get(comment_id, []):
            if _normal(existing.text) == _normal(text) and existing.status != ReplyStatus.FAILED:
                return _view(comment, [existing]).replies[0]
        row = CommentReply(
            comment_id=comment_id,
            text=text,
            status=status.value,
            written_by=actor,
            written_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            "comment.reply-written",
            SUBJECT,
            str(comment_id),
            {"reply_id": row.id, "status": status.value, "sensitive": sensitive},
            now,
        )
        return _view(_get(session, comment_id), [row]).replies[0]


def approve_reply(store: Store, reply_id: int, *, actor: str, now: datetime) -> ReplyView:
    """The second person's yes to a reply in a sensitive category; never the writer's own."""
    with store.transaction() as session:
        row = session.get(CommentReply, reply_id, populate_existing=True)
        if row is None:
            raise NotFound(f"no reply {reply_id}")
        if row.written_by == actor:
            raise NotAllowed(
                f"reply {reply_id} was written by {actor}; a second person must approve it"
            )
        changed = cast(
            CursorResult[Any],
            session.execute(
                update(CommentReply)
                .where(
                    CommentReply.id == reply_id, CommentReply.status == ReplyStatus.PENDING.value
                )
                .values(
                    status=ReplyStatus.QUEUED.value,
                    approved_by=actor,
                    approved_at=now,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        session.refresh(row)
        if changed != 1:
            raise Conflict(f"reply {reply_id} is {row.status}, not pending; nothing changed")
        audit.record(
            session,
            actor,
            "comment.reply-approved",
            SUBJECT,
            str(row.comment_id),
            {"reply_id": reply_id},
            now,
        )
        return _view(_get(session, row.comment_id), [row]).replies[0]


@dataclass
class ReplyOutcome:
    """What happened to one reply in one sending run."""

    reply_id: int
    comment_id: int
    channel: str
    status: str
    message: str = ""
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def send_replies(
    store: Store,
    channels: Mapping[str, Channel],
    now: datetime,
    *,
    actor: str = audit.SYSTEM,
    reply_ids: Iterable[int] | None = None,
) -> list[ReplyOutcome]:
    """Send every queued reply (or those in ``reply_ids``) exactly once."""
    with store.transaction() as session:
        query = select(CommentReply.id).where(CommentReply.status == ReplyStatus.QUEUED.value)
        if reply_ids is not None:
            query = query.where(CommentReply.id.in_(list(reply_ids)))
        ids = list(session.scalars(query.order_by(CommentReply.id)))
    return [_send(store, channels, reply_id, now, actor) for reply_id in ids]


def _reply_row(session: Session, reply_id: int) -> CommentReply:
    row = session.get(CommentReply, reply_id, populate_existing=True)
    if row is None:
        raise NotFound(f"no reply {reply_id}")
    return row


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _send(
    store: Store, channels: Mapping[str, Channel], reply_id: int, now: datetime, actor: str
) -> ReplyOutcome:
    with store.transaction() as session:
        row = session.get(CommentReply, reply_id, populate_existing=True)
        if row is None:
            raise NotFound(f"no reply {reply_id}")
        comment = _get(session, row.comment_id)
        out = ReplyOutcome(reply_id, comment.id, comment.channel, row.status)
        parent, text = comment.remote_id, row.text
        if row.status != ReplyStatus.QUEUED:
            return out
        entry = ledger.record_intent(
            session,
            f"{REPLY_PIECE}{reply_id}",
            comment.channel,
            0,
            _hash(text),
            text,
            now,
            actor=actor,
        )
        entry_id, status = entry.id, Status(entry.status)
        holder, sent_since = entry.claimed_by, entry.sending_since
        next_at = entry.next_attempt_at
        if status == Status.POSTED:
            _mark_sent(session, row, entry, now, actor)
            out.status, out.url = "sent", entry.remote_url
            return out
        if status == Status.FAILED:
            _mark_failed(session, row, entry.error or "failed", now)
            out.status, out.message = "failed", entry.error or ""
            return out
        paused = channel_state.is_paused(session, comment.channel, now)
    channel = channels.get(comment.channel)
    if channel is None or paused:
        out.status = "waiting"
        out.message = (
            f"{comment.channel} is paused" if paused else f"no credentials for {comment.channel}"
        )
        return out
    result = delivery.deliver(
        store,
        delivery.Entry(entry_id, holder, sent_since, next_at),
        channel,
        send=lambda: channel.reply(parent, text),
        find=lambda since: [found] if (found := channel.find_reply(parent, text)) else [],
        reply_to=parent,
        worker=WORKER,
        now=now,
        actor=actor,
    )
    if result.remote is not None:
        return _posted(store, reply_id, entry_id, result.remote, now, actor, out,
                       reconciled=result.status == "reconciled")
    if result.status == "failed":
        with store.transaction() as session:
            _mark_failed(session, _reply_row(session, reply_id), result.message, now)
    out.status, out.message = _REPLY_STATUS.get(result.status, "waiting"), result.message
    if result.status == "retry":
        out.message = f"will retry: {result.message}"
    logger.log(logging.WARNING if out.status in ("failed", "auth") else logging.INFO,
               "reply %s on %s: %s %s", reply_id, comment.channel, out.status, out.message)
    return out


# What a reply's outcome says for each result of the delivery protocol (see delivery.Result).
_REPLY_STATUS = {"failed": "failed", "auth": "auth", "busy": "busy"}


def _posted(
    store: Store,
    reply_id: int,
    entry_id: int,
    posted: RemotePost,
    now: datetime,
    actor: str,
    out: ReplyOutcome,
    reconciled: bool = False,
) -> ReplyOutcome:
    """The reply went out (its ledger entry says so now): the comment is answered."""
    with store.transaction() as session:
        entry = ledger.get(session, entry_id)
        row = _reply_row(session, reply_id)
        _mark_sent(session, row, entry, now, actor)
    out.status, out.url = ("reconciled" if reconciled else "sent"), posted.url
    logger.info("reply %s to comment %s sent: %s", reply_id, out.comment_id, posted.url)
    return out


def _mark_sent(
    session: Session, row: CommentReply, entry: LedgerEntry, now: datetime, actor: str
) -> None:
    if row.status == ReplyStatus.SENT:
        return
    session.execute(
        update(CommentReply)
        .where(CommentReply.id == row.id, CommentReply.status == ReplyStatus.QUEUED.value)
        .values(
            status=ReplyStatus.SENT.value,
            remote_id=entry.remote_id,
            remote_url=entry.remote_url,
            posted_at=now,
            updated_at=now,
        )
    )
    session.execute(
        update(Comment)
        .where(Comment.id == row.comment_id, Comment.responded_at.is_(None))
        .values(responded_at=now, updated_at=now)
    )
    audit.record(
        session,
        actor,
        "comment.replied",
        SUBJECT,
        str(row.comment_id),
        {"reply_id": row.id, "remote_id": entry.remote_id},
        now,
    )


def _mark_failed(session: Session, row: CommentReply, error: str, now: datetime) -> None:
    session.execute(
        update(CommentReply)
        .where(CommentReply.id == row.id, CommentReply.status == ReplyStatus.QUEUED.value)
        .values(status=ReplyStatus.FAILED.value, error=error, updated_at=now)
    )


# --- privacy ---------------------------------------------------------------------------

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

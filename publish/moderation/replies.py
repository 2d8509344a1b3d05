"""Our replies to comments: checked, approved, sent.

Replies are checked against the guideline before they are stored (a forbidden phrase
refuses them, with the reason); in a category the guideline marks sensitive a second
person approves the reply first. Sending uses the syndication ledger (piece
``reply:<id>``) and the one delivery protocol of :mod:`publish.posting.delivery` that posts use
too: intent, lease (taken over from a dead worker), commit before the network call,
outcome; a send in doubt is looked up on the network before anything is sent again.
A reply on the network stops the comment's first-response clock.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from editorial.checks import TextFinding, check_text
from editorial.guideline import Guideline
from publish.moderation.inbox import (
    REPLY_PIECE,
    SUBJECT,
    NotAllowed,
    ReplyRefused,
    ReplyView,
    _get,
    _locked,
    _replies,
    _view,
)
from publish.posting import delivery
from publish.posting.channels import (
    Channel,
    RemotePost,
)
from publish.posting.syndication import WORKER
from publish.store import Store, audit, channel_state, ledger
from publish.store.errors import Conflict, NotFound
from publish.store.models import (
    Comment,
    CommentReply,
    CommentState,
    LedgerEntry,
    ReplyStatus,
    Status,
)

logger = logging.getLogger(__name__)


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

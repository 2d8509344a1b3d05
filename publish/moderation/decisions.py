"""Decisions on a comment: approve, reject, silence (with a reason code), escalate,
resolve, assign.

A comment moves ``new → approved | rejected | escalated | silent`` and ``escalated →
resolved`` (a resolved comment can then be approved, rejected, silenced or answered).
``silent`` is a decision with a reason code, not neglect: no public answer is better
than a bad one. Every change is one conditional ``UPDATE … WHERE id=? AND state=?``
with a row-count check and an audit event in the same transaction, so two moderators
acting at once get one winner and one :class:`~publish.store.errors.Conflict` naming
what happened first, never a lost update.

The first-response clock of a comment stops at the first reply on the network or the
first final decision (approved, rejected, silent, resolved); escalating does not stop
it, since the customer is still waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from editorial.guideline import Guideline
from publish.moderation.inbox import (
    OPEN_STATES,
    SILENT_REASONS,
    SUBJECT,
    CommentView,
    NotAllowed,
    _get,
    _replies,
    _view,
)
from publish.store import Store, audit
from publish.store.errors import Conflict
from publish.store.models import (
    Comment,
    CommentState,
)

logger = logging.getLogger(__name__)


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

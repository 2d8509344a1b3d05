"""The audit log: who changed what and when, written in the same transaction as the change.

Because the event and the change commit together, the log never claims a change that
was rolled back and never misses one that happened. Subjects are typed strings
(``piece`` + piece id, ``channel`` + name, later ``comment`` + id) so that one query
answers "what happened to this piece" across the ledger and, later, moderation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publish.store.models import AuditEvent

# The actor of changes made by dialogpress itself (jobs, the scheduler) rather than a person.
SYSTEM = "dialogpress"


def record(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    details: Mapping[str, Any] | None,
    now: datetime,
) -> AuditEvent:
    """Add an event to the session's transaction; it commits or rolls back with the change."""
    event = AuditEvent(
        at=now,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=dict(details or {}),
    )
    session.add(event)
    session.flush()
    return event


def events_for(
    session: Session, subject_type: str, subject_id: str, limit: int | None = None
) -> list[AuditEvent]:
    """The history of one subject, oldest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def recent(
    session: Session,
    *,
    since: datetime | None = None,
    action: str | None = None,
    actor: str | None = None,
    subject_type: str | None = None,
    limit: int | None = 100,
) -> list[AuditEvent]:
    """The newest events first, optionally narrowed: what ``dialogpress audit`` lists."""
    query = select(AuditEvent)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if subject_type is not None:
        query = query.where(AuditEvent.subject_type == subject_type)
    return list(
        session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    )

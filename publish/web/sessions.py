"""Server-side desk sessions: the cookie carries a random token, the store its SHA-256.

Kept in the store rather than in a signed cookie so that logging out, a password reset
or an admin's action ends a session for real, on every worker of the WSGI server.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from publish.store.models import DeskSession, DeskUser


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(session: Session, user_id: int, now: datetime, lifetime: timedelta) -> str:
    """A new session for ``user_id``; returns the token for the cookie (shown only here)."""
    token = secrets.token_urlsafe(32)
    session.add(
        DeskSession(
            token_hash=_digest(token), user_id=user_id, created_at=now, expires_at=now + lifetime
        )
    )
    # expired sessions are of no use to anyone; clearing them here needs no extra job
    session.execute(delete(DeskSession).where(DeskSession.expires_at <= now))
    session.flush()
    return token


def user_for(session: Session, token: str, now: datetime) -> DeskUser | None:
    """The user a cookie's token belongs to, if the session is still valid."""
    found = session.execute(
        select(DeskUser)
        .join(DeskSession, DeskSession.user_id == DeskUser.id)
        .where(DeskSession.token_hash == _digest(token), DeskSession.expires_at > now)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    return found


def end(session: Session, token: str) -> None:
    session.execute(delete(DeskSession).where(DeskSession.token_hash == _digest(token)))


def end_all(session: Session, user_id: int) -> None:
    """End every session of a user (after a password change or reset)."""
    session.execute(delete(DeskSession).where(DeskSession.user_id == user_id))

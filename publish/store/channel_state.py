"""Whether a channel may be used: paused by a rate limit, or by credentials that stopped working.

A rate limit pauses the channel until the reset the network announced, then it runs by
itself again. Broken credentials pause it until a person has fixed them and calls
:func:`resume`: retrying with a revoked token only piles up errors (and, on Facebook,
can get the app flagged). The state lives in the database so that every worker
honours a pause another worker ran into.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publish.store import audit
from publish.store.inserts import insert_new
from publish.store.models import ChannelState

logger = logging.getLogger(__name__)

SUBJECT = "channel"


def get(session: Session, channel: str) -> ChannelState | None:
    """The stored state of ``channel``; None if nothing ever happened to it."""
    # a query, not session.get: the key is (site, channel) and the store adds the site
    return session.scalars(
        select(ChannelState)
        .where(ChannelState.channel == channel)
        .execution_options(populate_existing=True)
    ).first()


def is_paused(session: Session, channel: str, now: datetime) -> bool:
    state = get(session, channel)
    return state is not None and state.paused(now)


def paused(session: Session, now: datetime) -> list[ChannelState]:
    """Channels not to be used now, by name."""
    states = session.scalars(
        select(ChannelState)
        .order_by(ChannelState.channel)
        .execution_options(populate_existing=True)
    )
    return [state for state in states if state.paused(now)]


def _change(
    session: Session,
    channel: str,
    values: dict[str, Any],
    now: datetime,
    *,
    action: str,
    actor: str,
    details: dict[str, Any],
) -> ChannelState:
    insert_new(
        session,
        ChannelState.__table__,  # type: ignore[arg-type]
        {"channel": channel, "updated_at": now},
        ("channel",),
    )
    session.execute(
        update(ChannelState)
        .where(ChannelState.channel == channel)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor,
        f"channel.{action}",
        SUBJECT,
        channel,
        {key: value for key, value in details.items() if value is not None},
        now,
    )
    state = get(session, channel)
    if state is None:  # the row was inserted or already there a moment ago
        raise RuntimeError(f"channel state of {channel} vanished")
    return state


def pause(
    session: Session,
    channel: str,
    until: datetime,
    reason: str,
    now: datetime,
    *,
    actor: str = audit.SYSTEM,
) -> ChannelState:
    """Stop using ``channel`` until ``until`` (a rate limit's reset time)."""
    logger.warning("pausing %s until %s: %s", channel, until.isoformat(), reason)
    return _change(
        session,
        channel,
        {"paused_until": until, "paused_reason": reason},
        now,
        action="paused",
        actor=actor,
        details={"until": until.isoformat(), "reason": reason},
    )


def report_auth_problem(
    session: Session,
    channel: str,
    message: str,
    now: datetime,
    *,
    actor: str = audit.SYSTEM,
) -> ChannelState:
    """Stop using ``channel`` until a person fixes its credentials and resumes it."""
    logger.error("pausing %s until its credentials are fixed: %s", channel, message)
    return _change(
        session,
        channel,
        {"auth_problem": message, "paused_reason": message},
        now,
        action="auth-problem",
        actor=actor,
        details={"message": message},
    )


def resume(session: Session, channel: str, actor: str, now: datetime) -> ChannelState:
    """Use ``channel`` again: clears a rate-limit pause and a reported auth problem."""
    logger.info("resuming %s", channel)
    return _change(
        session,
        channel,
        {"paused_until": None, "paused_reason": None, "auth_problem": None},
        now,
        action="resumed",
        actor=actor,
        details={},
    )


def record_token_expiry(
    session: Session,
    channel: str,
    expires_at: datetime | None,
    now: datetime,
    *,
    actor: str = audit.SYSTEM,
) -> ChannelState:
    """Remember when the channel's token runs out, so it can be renewed before it does."""
    return _change(
        session,
        channel,
        {"token_expires_at": expires_at},
        now,
        action="token-expiry",
        actor=actor,
        details={"expires_at": expires_at.isoformat() if expires_at else None},
    )

"""What deserves a notification, read from the store at ``now``: one :class:`Event` each.

The states arise elsewhere — moderation escalates and sets due times, delivery fails or
holds posts, channel state pauses channels and remembers token expiry, the portal records
review decisions — and none of those places sends anything. The scheduler's tick asks here
what is true now; each event has a key (``kind``, ``subject``, ``threshold``) that stays the
same for as long as the situation does, and changes when it is a new one (a second failure
after a release, a renewed token that runs out again), so the store records each once.

Nothing here writes, talks to a network or reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from editorial.guideline import Guideline
from publish.settings import NotifySettings
from publish.store.models import (
    ChannelState,
    Comment,
    CommentState,
    LedgerEntry,
    ReviewDecision,
    ReviewRequest,
    Status,
)

# Events whose timing matters: never folded into the daily digest.
URGENT = frozenset({"escalation", "response_due", "response_breached"})
# Comments that still wait for their first response.
_OPEN = (CommentState.NEW.value, CommentState.APPROVED.value, CommentState.ESCALATED.value)


@dataclass(frozen=True)
class Event:
    """One thing a person should hear of, and who beyond ``NOTIFY['mail_to']`` and the
    webhooks should hear of it (``mail``: e-mail addresses, e.g. the escalation contact)."""

    kind: str
    subject: str
    threshold: str
    title: str
    text: str
    mail: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}:{self.threshold}"

    @property
    def urgent(self) -> bool:
        return self.kind in URGENT


def _local(moment: datetime, zone: str) -> str:
    """A time as people read it: in the site's zone, with its offset."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z (UTC%z)")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _address(who: str | None, guideline: Guideline | None) -> str | None:
    """An e-mail address for a contact id of the guideline or a desk user's address."""
    if not who:
        return None
    if guideline is not None and who in guideline.contacts:
        return guideline.contacts[who].email
    return who if "@" in who else None


def _comment_label(comment: Comment) -> str:
    who = comment.author_handle or comment.author_name or "someone"
    return f"comment {comment.id} by {who} on {comment.channel}"


def escalations(session: Session, guideline: Guideline | None) -> list[Event]:
    """Escalated comments; to the guideline's contact and the assignee (once per contact:
    an escalation handed on to someone else is a new event for them)."""
    found: list[Event] = []
    rows = session.scalars(
        select(Comment).where(Comment.state == CommentState.ESCALATED.value).order_by(Comment.id)
    )
    for comment in rows:
        contact = comment.escalated_to or ""
        mail = tuple(
            dict.fromkeys(
                a
                for a in (_address(contact, guideline), _address(comment.assigned_to, guideline))
                if a
            )
        )
        category = f" ({comment.category})" if comment.category else ""
        found.append(
            Event(
                kind="escalation",
                subject=f"comment:{comment.id}",
                threshold=contact or "-",
                title=f"Escalated{category}: {_comment_label(comment)}",
                text=(
                    f"{_comment_label(comment)} was escalated to {contact or 'nobody yet'}"
                    f"{category}.\n\n“{_excerpt(comment.text)}”\n"
                    + (f"\n{comment.permalink}\n" if comment.permalink else "")
                ),
                mail=mail,
            )
        )
    return found


def response_targets(
    session: Session, config: NotifySettings, guideline: Guideline | None, now: datetime
) -> list[Event]:
    """Open comments within ``breach_warning`` of their due time, and past it; comments due
    longer than ``lookback`` ago are left alone (switching notifications on must not bring
    up a year of history)."""
    found: list[Event] = []
    rows = session.scalars(
        select(Comment)
        .where(
            Comment.state.in_(_OPEN),
            Comment.responded_at.is_(None),
            Comment.due_at.is_not(None),
            Comment.due_at <= now + config.breach_warning,
            Comment.due_at > now - config.lookback,
            Comment.gone_at.is_(None),
            or_(Comment.spam.is_(None), Comment.spam == ""),
        )
        .order_by(Comment.due_at, Comment.id)
    )
    for comment in rows:
        due = comment.due_at or now  # never None: the query asked for a due time
        breached = due <= now
        mail = tuple(a for a in (_address(comment.assigned_to, guideline),) if a)
        when = _local(due, config.timezone)
        found.append(
            Event(
                kind="response_breached" if breached else "response_due",
                subject=f"comment:{comment.id}",
                threshold=_stamp(due),
                title=(
                    f"Response target {'missed' if breached else 'about to be missed'}: "
                    f"{_comment_label(comment)}"
                ),
                text=(
                    f"{_comment_label(comment)} "
                    f"{'was' if breached else 'is'} due for a first response at {when} "
                    f"and has none yet.\n\n“{_excerpt(comment.text)}”\n"
                ),
                mail=mail,
            )
        )
    return found


def posts(session: Session, config: NotifySettings) -> list[Event]:
    """Posts that failed or were held as late; a release that fails again is a new event
    (the threshold is the time the entry took its state)."""
    found: list[Event] = []
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.status.in_((Status.FAILED.value, Status.LATE.value)))
        .order_by(LedgerEntry.id)
    )
    for entry in rows:
        failed = entry.status == Status.FAILED.value
        label = f"{entry.piece_id} on {entry.channel}" + (
            f" (part {entry.part_index + 1})" if entry.part_index else ""
        )
        why = f": {entry.error}" if entry.error else ""
        found.append(
            Event(
                kind="post_failed" if failed else "post_late",
                subject=f"ledger:{entry.id}",
                threshold=_stamp(entry.updated_at),
                title=f"Post {'failed' if failed else 'held as late'}: {label}",
                text=(
                    f"{label} {'could not be posted' if failed else 'was held: it is too late'}"
                    f"{why}.\nRelease or skip it on the desk's dashboard or with "
                    "`dialogpress release`.\n"
                ),
            )
        )
    return found


def channels(session: Session, config: NotifySettings, now: datetime) -> list[Event]:
    """Paused channels (rate limit or broken credentials) and tokens expiring or expired."""
    found: list[Event] = []
    for state in session.scalars(select(ChannelState).order_by(ChannelState.channel)):
        if state.paused(now):
            reason = state.auth_problem or state.paused_reason or "paused"
            until = (
                f" until {_local(state.paused_until, config.timezone)}"
                if state.paused_until and not state.auth_problem
                else " until a person resumes it"
            )
            found.append(
                Event(
                    kind="channel_paused",
                    subject=f"channel:{state.channel}",
                    threshold=_stamp(state.updated_at),
                    title=f"Channel paused: {state.channel}",
                    text=f"{state.channel} is paused{until}: {reason}\n",
                )
            )
        expires = state.token_expires_at
        if expires is None:
            continue
        when = _local(expires, config.timezone)
        if expires <= now:
            found.append(
                Event(
                    kind="token_expired",
                    subject=f"channel:{state.channel}",
                    threshold=_stamp(expires),
                    title=f"Token expired: {state.channel}",
                    text=f"The {state.channel} token expired at {when}; renew it.\n",
                )
            )
        elif expires <= now + timedelta(days=config.token_days):
            days = (expires - now).days
            found.append(
                Event(
                    kind="token_expiring",
                    subject=f"channel:{state.channel}",
                    threshold=f"{_stamp(expires)}-within-{config.token_days}d",
                    title=f"Token expires in {days} day(s): {state.channel}",
                    text=f"The {state.channel} token expires at {when}; renew it before.\n",
                )
            )
    return found


def review_decisions(session: Session, config: NotifySettings, now: datetime) -> list[Event]:
    """Decisions made in the portal within ``lookback``; to the person who asked."""
    found: list[Event] = []
    rows = session.execute(
        select(ReviewDecision, ReviewRequest)
        .join(ReviewRequest, ReviewRequest.id == ReviewDecision.review_id)
        .where(ReviewDecision.decided_at > now - config.lookback)
        .order_by(ReviewDecision.id)
    )
    for decision, review in rows:
        verb = "approved" if decision.decision == "approved" else "asked for changes to"
        note = f"\n\n“{_excerpt(decision.comment)}”" if decision.comment else ""
        found.append(
            Event(
                kind="review_decision",
                subject=f"decision:{decision.id}",
                threshold=decision.decision,
                title=f"Review {review.id}: {decision.approver} {verb} {decision.piece}",
                text=(
                    f"{decision.approver} {verb} {decision.piece} (branch {review.branch}) at "
                    f"{_local(decision.decided_at, config.timezone)}.{note}\n"
                ),
                mail=tuple(a for a in (_address(review.requested_by, None),) if a),
            )
        )
    return found


def find_events(
    session: Session, config: NotifySettings, guideline: Guideline | None, now: datetime
) -> list[Event]:
    """Every event true at ``now`` whose kind ``NOTIFY['events']`` asks for."""
    found = [
        *escalations(session, guideline),
        *response_targets(session, config, guideline, now),
        *posts(session, config),
        *channels(session, config, now),
        *review_decisions(session, config, now),
    ]
    return [event for event in found if event.kind in config.events]

"""The agency overview: what needs someone now, across every site an account works on.

One list for all of an account's sites: overdue and escalated comments, failed or late
posts, pending client reviews and channel health, the most urgent first (by due time
across sites: what was due longest ago on top). Each site's items come from the queries
its own desk uses (the inbox's ``inbox_page``, the ledger's statuses, the review list,
the channel state, the scheduler's runs), run over that site's scoped store, and are
merged here; nothing is read from the networks, so the page stays fast when one is slow.

Comments are listed only for sites where the account's role reads the inbox, like the
site's own desk; a site without a role is not asked at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from publish import moderation
from publish.ops import scheduler
from publish.review import requests as reviews
from publish.settings import scheduler_settings
from publish.store import Store, ledger
from publish.store.models import ChannelState, Status
from publish.web import access
from publish.web.state import Desk

logger = logging.getLogger(__name__)

#: at most this many comments of each kind per site: the list is a triage, not the inbox
COMMENTS_PER_SITE = 50
#: a token expiring sooner than this is listed (as on the dashboard)
TOKEN_WARNING = timedelta(days=7)
#: no scheduler run for this many ticks: the site's posts are late
MISSED_TICKS = 3

Link = Callable[[str, dict[str, object]], str]


@dataclass(frozen=True)
class Item:
    """One thing to do on one site; ``due`` orders the list (``kind`` is a code the page
    translates, ``subject`` and ``detail`` are data: a channel, a piece, an error)."""

    due: datetime
    site: str
    site_name: str
    kind: str
    subject: str
    detail: str | None
    url: str


def items_for_site(
    key: str, name: str, state: Desk, role: str, now: datetime, link: Link
) -> list[Item]:
    """Everything urgent of one site, for an account with ``role`` on it."""
    found: list[Item] = []

    def add(due: datetime, kind: str, subject: str, detail: str | None, url: str) -> None:
        found.append(Item(due, key, name, kind, subject, detail, url))

    store = state.store
    if role in access.READ_INBOX:
        for comment in _comments(store, now):
            kind = "escalated" if comment.state == "escalated" else "overdue"
            add(
                comment.due_at or comment.created_at,
                kind,
                f"{comment.channel} · {comment.category or '—'}",
                comment.escalated_to if kind == "escalated" else None,
                link("inbox.show", {"comment_id": comment.id}),
            )
    dashboard = link("dashboard.index", {})
    with store.read() as session:
        for status, kind in ((Status.FAILED, "failed"), (Status.LATE, "late")):
            seen: set[tuple[str, str]] = set()
            for entry in ledger.by_status(session, status):
                if (entry.piece_id, entry.channel) in seen:
                    continue
                seen.add((entry.piece_id, entry.channel))
                add(
                    entry.next_attempt_at or entry.created_at,
                    kind,
                    f"{entry.piece_id} · {entry.channel}",
                    entry.error,
                    dashboard,
                )
        for summary in reviews.list_reviews(session, limit=50):
            decided = {d.piece for d in summary.decisions}
            waiting = [p for p in summary.pieces if p.piece not in decided]
            if not waiting:
                continue
            deadlines = [link_.expires_at for link_ in summary.links]
            add(
                min(deadlines) if deadlines else summary.review.requested_at,
                "review",
                summary.review.branch,
                ", ".join(p.title or p.piece for p in waiting),
                link("review_requests.index", {}),
            )
        for channel in session.scalars(select(ChannelState)).all():
            for due, kind, detail in _health(channel, now):
                add(due, kind, channel.channel, detail, dashboard)
    last = next(iter(scheduler.runs(store, limit=1)), None)
    minutes = scheduler_settings(state.settings).tick_minutes
    if last is not None and last.status == "failed":
        add(last.started_at, "run-failed", f"#{last.id}", last.error, dashboard)
    elif last is not None and last.started_at + timedelta(minutes=minutes * MISSED_TICKS) < now:
        add(
            last.started_at + timedelta(minutes=minutes),
            "no-runs",
            f"#{last.id}",
            None,
            dashboard,
        )
    return found


def _comments(store: Store, now: datetime) -> list[moderation.CommentView]:
    """The site's escalated comments and its overdue new ones, most urgent first."""
    escalated = moderation.inbox_page(store, states=["escalated"], limit=COMMENTS_PER_SITE)
    overdue = moderation.inbox_page(store, states=["new"], overdue_at=now, limit=COMMENTS_PER_SITE)
    return [*escalated.comments, *overdue.comments]


def _health(channel: ChannelState, now: datetime) -> Iterable[tuple[datetime, str, str | None]]:
    if channel.auth_problem is not None:
        yield channel.updated_at, "auth-problem", channel.auth_problem
    elif channel.paused_until is not None and channel.paused_until > now:
        yield channel.updated_at, "paused", channel.paused_reason
    expires = channel.token_expires_at
    if expires is not None and expires - now < TOKEN_WARNING:
        yield expires, "token-expiring", None


def merge(per_site: Iterable[list[Item]]) -> list[Item]:
    """One list, the most urgent (earliest due) first; ties by site and kind, stable."""
    return sorted(
        (item for items in per_site for item in items),
        key=lambda item: (item.due, item.site, item.kind, item.subject),
    )

"""The editorial calendar: every scheduled piece, where it stands, in the site's time zone.

Planners look at one place for "what goes out when, and is it ready": the repository
says what is scheduled, drafted and approved; the ledger says what really happened. The
ledger wins, because a post that went out stays out whatever the file says now.

The ICS rendering exists so that the schedule shows up in the calendar apps people
already use; each event keeps a stable UID, so a re-imported or subscribed calendar
updates events instead of duplicating them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select

from editorial.approvals import ApprovalState, approval_states
from editorial.findings import Finding
from editorial.links import post_url, snippet_link
from editorial.pieces import Piece, Post, Site, Snippet
from editorial.settings import site_zone
from publish.states import editorial_state as _editorial_state
from publish.states import ledger_state as _ledger_state
from publish.store import Store
from publish.store.models import AuditEvent, LedgerEntry

logger = logging.getLogger(__name__)

IsLive = Callable[[Post], bool]
# judges the approvals of some pieces of a site, by piece id
Approvals = Callable[[Site, list[Piece]], dict[str, ApprovalState]]

#: How long an event lasts in a calendar app: long enough to be visible and clickable.
EVENT_DURATION = timedelta(minutes=15)
EXCERPT_LENGTH = 200
NETWORK_LABELS = {"twitter": "X", "facebook": "Facebook", None: "Blog"}
#: iCalendar's STATUS per state: what no longer happens is cancelled, what is not
#: ready yet is tentative, everything else is confirmed.
_EVENT_STATUS = {
    "draft": "TENTATIVE",
    "awaiting approval": "TENTATIVE",
    "error": "TENTATIVE",
    "skipped": "CANCELLED",
    "retracted": "CANCELLED",
}


@dataclass
class Entry:
    """One piece on one channel (posts: on the site, ``channel`` None) at its time."""

    piece: str
    kind: str
    channel: str | None
    title: str
    publish_at: datetime
    state: str
    path: str
    url: str | None = None
    link: str | None = None
    error: str | None = None
    text: str = ""

    @property
    def uid(self) -> str:
        """Stable across runs and edits, so calendar apps update the event in place."""
        return f"{self.piece}#{self.channel or 'post'}@dialogpress"

    @property
    def network(self) -> str:
        return NETWORK_LABELS.get(self.channel, self.channel or "Blog")

    def to_dict(self) -> dict[str, Any]:
        return {
            "piece": self.piece,
            "kind": self.kind,
            "channel": self.channel,
            "title": self.title,
            "publish_at": self.publish_at.isoformat(timespec="seconds"),
            "state": self.state,
            "url": self.url,
            "link": self.link,
            "error": self.error,
            "path": self.path,
            "text": self.text,
        }


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_LENGTH else flat[: EXCERPT_LENGTH - 1].rstrip() + "…"


def calendar_entries(
    site: Site,
    store: Store,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    is_live: IsLive | None = None,
    approvals: Approvals = approval_states,
) -> list[Entry]:
    """Every post and (snippet, channel) with ``start <= publish_at < end``, by time.

    ``approvals`` judges the pieces' approvals (the desk passes one that remembers).

    ``is_live`` tells whether a post is on the public site (the production build); a
    post whose date has come is ``published`` when it is, ``pending`` when it is not,
    and stays ``approved`` when nobody can tell. Pieces without a readable publish time
    are not in the calendar: :func:`unscheduled` names them.
    """
    tz = site_zone(site.settings)
    scheduled = [(p, p.publish_at) for p in site.pieces if p.publish_at is not None]
    wanted = [
        (p, at)
        for p, at in scheduled
        if (start is None or at >= start) and (end is None or at < end)
    ]
    states = approvals(site, [p for p, _ in wanted]) if wanted else {}
    # only the ledger rows and retractions of the pieces in the period (the unique index
    # on piece, channel, part; the audit index on subject): not the whole history per page
    ids = sorted({p.id for p, _ in wanted})
    parts: dict[tuple[str, str, int], LedgerEntry] = {}
    retracted: set[str] = set()
    with store.read() as session:
        for first in range(0, len(ids), 500):
            chunk = ids[first : first + 500]
            for e in session.scalars(select(LedgerEntry).where(LedgerEntry.piece_id.in_(chunk))):
                parts[(e.piece_id, e.channel, e.part_index)] = e
            retracted.update(
                session.scalars(
                    select(AuditEvent.subject_id).where(
                        AuditEvent.subject_type == "piece",
                        AuditEvent.subject_id.in_(chunk),
                        AuditEvent.action == "piece.retracted",
                    )
                )
            )
        session.expunge_all()
    entries: list[Entry] = []
    for piece, at in wanted:
        when = at.astimezone(tz)
        state, error = _editorial_state(piece, states.get(piece.id))
        if isinstance(piece, Snippet):
            entries += _snippet_entries(site, piece, when, state, error, parts, now)
            continue
        entry = Entry(
            piece=piece.id,
            kind=piece.kind,
            channel=None,
            title=piece.title or piece.id,
            publish_at=when,
            state=state,
            path=piece.path,
            error=error,
            text=_excerpt(getattr(piece, "summary", None) or piece.body),
        )
        if isinstance(piece, Post):
            entry.link = post_url(site, piece)
            if piece.id in retracted:
                entry.state = "retracted"
            elif state == "approved" and at <= now and is_live is not None:
                entry.state = "published" if is_live(piece) else "pending"
                entry.url = entry.link if entry.state == "published" else None
        entries.append(entry)
    entries.sort(key=lambda e: (e.publish_at, e.piece, e.channel or ""))
    return entries


def _snippet_entries(
    site: Site,
    snippet: Snippet,
    when: datetime,
    state: str,
    error: str | None,
    ledger_parts: dict[tuple[str, str, int], LedgerEntry],
    now: datetime,
) -> list[Entry]:
    # a snippet without channels still gets a line, so its error is seen in the calendar
    channels: Iterable[str | None] = snippet.channels or [None]
    entries: list[Entry] = []
    for channel in channels:
        entry = Entry(
            piece=snippet.id,
            kind=snippet.kind,
            channel=channel,
            title=snippet.title or snippet.id,
            publish_at=when,
            state=state,
            path=snippet.path,
            error=error,
            text=_excerpt(snippet.text(channel) if channel else snippet.body),
            link=snippet_link(site, snippet, channel),
        )
        if channel is not None:
            parts = [
                ledger_parts.get((snippet.id, channel, i))
                for i in range(max(len(snippet.parts(channel)), 1))
            ]
            happened = _ledger_state(parts)
            if happened is not None:
                entry.state, entry.error = happened
                first = parts[0]
                entry.url = first.remote_url if first is not None else None
            elif state == "approved" and when <= now:
                entry.state = "pending"
        entries.append(entry)
    return entries


def unscheduled(site: Site) -> list[Finding]:
    """Why each piece without a usable publish time is missing from the calendar.

    A time in the spring-forward gap, a missing or unreadable date: the piece cannot be
    placed, so the first error of its file is what the planner needs to see.
    """
    found: list[Finding] = []
    for piece in site.pieces:
        if piece.publish_at is not None:
            continue
        errors = [f for f in piece.findings if f.severity == "error"]
        if errors:
            found.append(errors[0])
    return found


def to_ics(entries: list[Entry], site: Site, now: datetime) -> bytes:
    """An iCalendar file of ``entries``: one event each, in the site's zone with VTIMEZONE."""
    tz_name = site_zone(site.settings).key
    tz = ZoneInfo(tz_name)
    name = str(site.settings.get("SITENAME") or "dialogpress")
    cal = Calendar()
    cal.add("prodid", "-//dialogpress//editorial calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{name} – Redaktionsplan")
    cal.add("x-wr-timezone", tz_name)
    stamp = now.astimezone(ZoneInfo("UTC"))
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        start = entry.publish_at.astimezone(tz)
        event.add("dtstart", start)
        event.add("dtend", start + EVENT_DURATION)
        event.add("summary", f"[{entry.network}] {entry.title} — {entry.state}")
        event.add("description", _description(entry))
        event.add("categories", [entry.state])
        event.add("status", _EVENT_STATUS.get(entry.state, "CONFIRMED"))
        if entry.url:
            event.add("url", entry.url)
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _description(entry: Entry) -> str:
    lines = [entry.text] if entry.text else []
    if entry.url:
        lines.append(f"Posted: {entry.url}" if entry.channel else f"Published: {entry.url}")
    if entry.link and entry.link != entry.url:
        lines.append(f"Link: {entry.link}")
    if entry.error:
        lines.append(f"Problem: {entry.error}")
    lines.append(f"File: {entry.path}")
    return "\n".join(lines)

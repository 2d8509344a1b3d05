"""Comment sync: replies on X and comments on Facebook into the moderation inbox.

For every post the ledger says is on a network, sync reads the comments newer than the
stored cursor and inserts each once, keyed by (channel, remote id), triaged on arrival
(:mod:`publish.moderation.triage`). Cursors only see what is new, so conversations of recent posts
are re-read in full now and then (``MODERATION['refresh_minutes']``, for posts younger
than ``refresh_days``): that is where edits and deletions show. An edited comment gets
the new text (an approved one goes back to ``new``: approval was for the old words); a
comment deleted or hidden on the network is hidden on the site.

The commenter's e-mail address is never asked for nor stored: only the handle, the display
name, the text and the link. Reading can be refused by the network (X's free tier): sync
says so once per run and goes on with the other channels; posting is not affected.

X's budgets: recent search reaches seven days back and Basic allows 60 searches per 15
minutes. On X only conversations of posts younger than ``refresh_days`` are searched,
mentions first, then the newest posts' conversations; a run makes at most
``MODERATION['x_requests_per_run']`` read requests (the rest waits for the next run), and
the count is kept for ``dialogpress status``. A stored cursor too old for recent search is
restarted at the window's start, with a note that older replies cannot be read.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import DateTime, String, Table, insert, select, update
from sqlalchemy.orm import Session

from editorial.guideline import Guideline
from editorial.pieces import Site
from publish.moderation.triage import SpamRules, repeat_key, triage
from publish.posting.channels import (
    AuthExpired,
    BudgetSpent,
    Channel,
    ChannelError,
    RateLimited,
    ReadNotAvailable,
    RemoteComment,
)
from publish.settings import ModerationSettings
from publish.store import Store, audit
from publish.store.models import (
    AuditEvent,
    Comment,
    CommentState,
    LedgerEntry,
    Status,
    SyncCursor,
)
from publish.store.sites import writing_site

logger = logging.getLogger(__name__)

SUBJECT = "comment"
MENTIONS = "search:"
# the cursor row that remembers when sync last ran, for the scheduler's sync interval
LAST_RUN = ("*", "last-sync")
# the cursor row that remembers when the store's statistics were refreshed
LAST_MAINTENANCE = ("*", "last-maintenance")
MAINTAIN_EVERY = timedelta(days=1)
# copies of one text within this time count as repeats (spam); older copies are history
REPEAT_WINDOW = timedelta(days=30)
# remote ids looked up per statement (SQLite's parameter limit is far above)
LOOKUP_BATCH = 500
# comments stored per transaction: a write lock held for a moment (about 0.1 s), not for
# a whole sync
INGEST_BATCH = 1000
_COMMENTS = cast(Table, Comment.__table__)
_AUDIT = cast(Table, AuditEvent.__table__)


@dataclass
class SyncReport:
    """What one sync run brought in, per channel, and why a channel could not be read."""

    now: datetime
    added: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    hidden: dict[str, int] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def total_added(self) -> int:
        return sum(self.added.values())

    def count(self, bucket: dict[str, int], channel: str) -> None:
        bucket[channel] = bucket.get(channel, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["now"] = self.now.isoformat(timespec="seconds")
        return data


@dataclass(frozen=True)
class Ingested:
    """One comment after :func:`ingest`: its id, and whether this call inserted it."""

    id: int
    created: bool


def _stored_copies(
    session: Session, keys: set[str], since: datetime
) -> dict[str, list[datetime]]:
    """When the stored copies of each text arrived (sorted), from ``since`` on.

    One indexed range lookup of the repeat keys (``text_hash, created_at``) for a whole
    page, never a scan of the comments and never a query per comment: only copies of the
    page's own texts come back, so the answer is as small as the campaign it detects.
    """
    found: dict[str, list[datetime]] = {}
    ordered = sorted(keys)
    for first in range(0, len(ordered), LOOKUP_BATCH):
        for key, at in session.execute(
            select(_COMMENTS.c.text_hash, _COMMENTS.c.created_at).where(
                _COMMENTS.c.site == writing_site(session),
                _COMMENTS.c.text_hash.in_(ordered[first : first + LOOKUP_BATCH]),
                _COMMENTS.c.created_at >= since,
            )
        ):
            found.setdefault(str(key), []).append(at)
    for times in found.values():
        times.sort()
    return found


def _repeats(stored: list[datetime], page: list[datetime], received: datetime) -> int:
    """Copies of a text (as :func:`~publish.moderation.triage.normal_text` compares them)
    that arrived from anyone within :data:`REPEAT_WINDOW` before ``received``: those in
    the store (sorted, so a bisection) and those earlier in the same page."""
    start = received - REPEAT_WINDOW
    return len(stored) - bisect_left(stored, start) + sum(1 for at in page if at >= start)


def text_hash(text: str) -> str | None:
    """The repeat key the store keeps for a comment's text."""
    return repeat_key(text)


def ingest(
    store: Store,
    guideline: Guideline,
    channel: str,
    remote: RemoteComment,
    now: datetime,
    *,
    rules: SpamRules | None = None,
    kind: str = "reply",
    post_slug: str | None = None,
) -> Ingested:
    """Insert ``remote`` once, triaged; a second call with the same ids changes nothing.

    Sync and the Facebook webhook both call this, so a comment that arrives by webhook
    and is fetched again by the next sync stays one comment.
    """
    return ingest_many(
        store, guideline, channel, [remote], now, rules=rules, kind=kind, post_slug=post_slug
    )[0]


def ingest_many(
    store: Store,
    guideline: Guideline,
    channel: str,
    remotes: Sequence[RemoteComment],
    now: datetime,
    *,
    rules: SpamRules | None = None,
    kind: str = "reply",
    post_slug: str | None = None,
) -> list[Ingested]:
    """:func:`ingest` for a page of comments in one short transaction, in order.

    The known ones are found with one lookup of the (channel, remote id) key, the posts
    they are under with one more, and the new ones are inserted with their audit events
    in two bulk statements. A copy earlier in the same page counts as a repeat, as it
    would had the comments come one by one.
    """
    if not remotes:
        return []
    rules = rules or SpamRules()
    wanted = list(dict.fromkeys(remote.remote_id for remote in remotes))
    # not durable: a comment lost to a power cut is fetched again by the next sync (its
    # cursor is saved durably afterwards, which writes this commit to disk too)
    with store.transaction(durable=False) as session:
        known = _known(session, channel, wanted)
        posts = {remote.post_id for remote in remotes if remote.remote_id not in known}
        pieces = _post_pieces(session, channel, posts)
        rows: list[dict[str, Any]] = []
        verdicts: list[tuple[str, Any]] = []
        fresh: dict[str, int] = {}  # remote id → place in rows, for copies within the page
        arriving = [
            (remote, min(remote.created_at, now), repeat_key(remote.text))
            for remote in remotes
            if remote.remote_id not in known
        ]
        keys = {key for _remote, _at, key in arriving if key is not None}
        stored = (
            _stored_copies(session, keys, min(at for _r, at, _k in arriving) - REPEAT_WINDOW)
            if keys
            else {}
        )
        in_page: dict[str, list[datetime]] = {}  # copies earlier in this page, by key
        for remote, received, key in arriving:
            if remote.remote_id in fresh:
                continue
            repeats = 0
            if key is not None:
                repeats = _repeats(stored.get(key, []), in_page.get(key, []), received)
                in_page.setdefault(key, []).append(received)
            verdict = triage(remote.text, received, guideline, rules, repeats)
            state = CommentState.NEW
            reason = None
            if verdict.spam:
                state, reason = CommentState.REJECTED, f"spam: {verdict.spam}"
            elif verdict.contact:
                state = CommentState.ESCALATED
            fresh[remote.remote_id] = len(rows)
            verdicts.append((state.value, verdict))
            rows.append(
                {
                    "channel": channel,
                    "remote_id": remote.remote_id,
                    "kind": kind,
                    "post_remote_id": remote.post_id,
                    "parent_remote_id": remote.parent_id,
                    "piece_id": pieces.get(remote.post_id),
                    "post_slug": post_slug,
                    "author_handle": remote.author_handle,
                    "author_name": remote.author_name,
                    "text": remote.text,
                    "text_hash": key,
                    "permalink": remote.permalink,
                    "created_at": received,
                    "received_at": now,
                    "gone_at": now if remote.hidden else None,
                    "state": state.value,
                    "reason": reason,
                    "category": verdict.category,
                    "spam": verdict.spam,
                    "escalated_to": verdict.contact,
                    "assigned_to": verdict.contact,
                    "due_at": verdict.due_at,
                    "updated_at": now,
                }
            )
        ids: list[int] = []
        if rows:
            # Core statements on the tables: one executemany each, no ORM unit of work.
            # The ids are read back by the (channel, remote id) key rather than through
            # RETURNING, which SQLite could only keep in order a row at a time.
            _insert(session, _COMMENTS, rows)
            made = _known(session, channel, [row["remote_id"] for row in rows])
            ids = [made[row["remote_id"]] for row in rows]
            _insert(
                session,
                _AUDIT,
                [
                    {
                        "at": now,
                        "actor": audit.SYSTEM,
                        "action": "comment.received",
                        "subject_type": SUBJECT,
                        "subject_id": str(comment_id),
                        "details": {
                            "channel": channel,
                            "kind": kind,
                            "state": state,
                            "category": verdict.category,
                            "escalated_to": verdict.contact,
                            "spam": verdict.spam,
                        },
                    }
                    for comment_id, (state, verdict) in zip(ids, verdicts, strict=True)
                ],
            )
    found = []
    reported: set[str] = set()
    for remote in remotes:
        if remote.remote_id in known:
            found.append(Ingested(known[remote.remote_id], created=False))
            continue
        # a page that holds one comment twice created it once
        found.append(
            Ingested(ids[fresh[remote.remote_id]], created=remote.remote_id not in reported)
        )
        reported.add(remote.remote_id)
    return found


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` of ``rows`` (all with the same keys) as one ``executemany`` of the
    driver: the statement is compiled once per table and columns, and each value goes
    through its column type's own bind processor, as SQLAlchemy would send it, without
    SQLAlchemy's per-row parameter handling (most of the time of a bulk insert).

    A Core statement is not scoped by the store: each row of a site table gets the
    session's site here (issue 20)."""
    if "site" in table.c:
        site = writing_site(session)
        for row in rows:
            row["site"] = site
    connection = session.connection()
    dialect = connection.dialect
    columns = tuple(rows[0])
    key = (dialect.name, table.name, columns)
    prepared = _PREPARED.get(key)
    if prepared is None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
        order = list(compiled.positiontup or ()) if compiled.positional else list(columns)
        if set(order) != set(columns):  # a column default SQLAlchemy would fill in
            session.execute(insert(table), rows)
            return
        binds = {name: bind.type for name, bind in compiled.binds.items()}
        prepared = _PREPARED[key] = (
            str(compiled),
            compiled.positional,
            tuple(
                (
                    name,
                    binds[name].dialect_impl(dialect).bind_processor(dialect),
                    isinstance(getattr(binds[name], "impl", binds[name]), (DateTime, String)),
                )
                for name in order
            ),
        )
    sql, positional, processors = prepared
    # column by column: a value that repeats down a column (the arrival time, the
    # channel's post) is converted once
    converted: list[list[Any]] = []
    for name, process, repeats in processors:
        column = [row[name] for row in rows]
        if process is not None:
            if repeats:
                memo: dict[Any, Any] = {}
                for value in column:
                    if value not in memo:
                        memo[value] = process(value)
                column = [memo[value] for value in column]
            else:
                column = [process(value) for value in column]
        converted.append(column)
    values: list[Any] = list(zip(*converted, strict=True))
    if not positional:
        names = [name for name, _process, _repeats in processors]
        values = [dict(zip(names, row, strict=True)) for row in values]
    connection.exec_driver_sql(sql, values)


# compiled INSERT statements and their columns' bind processors, by dialect, table, columns
_PREPARED: dict[tuple[str, str, tuple[str, ...]], Any] = {}


def _known(session: Session, channel: str, remote_ids: list[str]) -> dict[str, int]:
    """The stored comments' ids by remote id (the unique key channel, remote id)."""
    known: dict[str, int] = {}
    for first in range(0, len(remote_ids), LOOKUP_BATCH):
        known.update(
            (str(remote_id), int(comment_id))
            for remote_id, comment_id in session.execute(
                select(_COMMENTS.c.remote_id, _COMMENTS.c.id).where(
                    _COMMENTS.c.site == writing_site(session),
                    _COMMENTS.c.channel == channel,
                    _COMMENTS.c.remote_id.in_(remote_ids[first : first + LOOKUP_BATCH]),
                )
            )
        )
    return known


def _post_pieces(session: Session, channel: str, post_ids: set[str]) -> dict[str, str]:
    """The piece behind each of our posts on ``channel`` (indexed: channel, remote id)."""
    if not post_ids:
        return {}
    found: dict[str, str] = {}
    for remote_id, piece_id in session.execute(
        select(LedgerEntry.remote_id, LedgerEntry.piece_id)
        .where(LedgerEntry.channel == channel, LedgerEntry.remote_id.in_(sorted(post_ids)))
        .order_by(LedgerEntry.id)
    ):
        found.setdefault(str(remote_id), str(piece_id))
    return found


def _apply_current(
    store: Store,
    channel: str,
    post_id: str,
    current: list[RemoteComment],
    now: datetime,
    report: SyncReport,
) -> None:
    """Compare a full read of one conversation with the store: edits and disappearances."""
    seen = {remote.remote_id: remote for remote in current}
    with store.transaction() as session:
        known = session.scalars(
            select(Comment).where(
                Comment.channel == channel,
                Comment.post_remote_id == post_id,
                Comment.kind == "reply",
            )
        ).all()
        for comment in known:
            if comment.erased:
                continue  # a tombstone is never filled again from the network
            remote = seen.get(comment.remote_id)
            if remote is None or remote.hidden:
                if comment.gone_at is None:
                    _set(session, comment, {"gone_at": now}, now)
                    audit.record(
                        session,
                        audit.SYSTEM,
                        "comment.gone",
                        SUBJECT,
                        str(comment.id),
                        {"channel": channel, "hidden": remote is not None},
                        now,
                    )
                    report.count(report.hidden, channel)
                continue
            changes: dict[str, Any] = {}
            if comment.gone_at is not None:
                changes["gone_at"] = None
            if remote.text != comment.text:
                changes.update(text=remote.text, text_hash=repeat_key(remote.text), edited_at=now)
                if comment.state == CommentState.APPROVED:
                    changes.update(
                        state=CommentState.NEW.value, reason="edited on the network after approval"
                    )
            if changes:
                _set(session, comment, changes, now)
                audit.record(
                    session,
                    audit.SYSTEM,
                    "comment.edited" if "text" in changes else "comment.back",
                    SUBJECT,
                    str(comment.id),
                    {"channel": channel, "state": changes.get("state")},
                    now,
                )
                report.count(report.updated, channel)


def _set(session: Session, comment: Comment, changes: dict[str, Any], now: datetime) -> None:
    session.execute(
        update(Comment)
        .where(Comment.id == comment.id, Comment.updated_at == comment.updated_at)
        .values(**changes, updated_at=now)
    )


def _cursor(session: Session, channel: str, source: str) -> SyncCursor | None:
    return session.get(
        SyncCursor, (writing_site(session), channel, source), populate_existing=True
    )


def _save_cursor(
    store: Store, channel: str, source: str, cursor: str | None, now: datetime, refreshed: bool
) -> None:
    with store.transaction() as session:
        row = _cursor(session, channel, source)
        if row is None:
            row = SyncCursor(channel=channel, source=source, updated_at=now)
            session.add(row)
        row.cursor = cursor
        row.updated_at = now
        if refreshed:
            row.refreshed_at = now


def _conversations(
    store: Store, channel: str, posted_after: datetime | None = None
) -> list[tuple[str, str, datetime | None]]:
    """(post remote id, piece id, posted at) of our first parts on ``channel``, newest
    first; only those posted after ``posted_after`` when given."""
    with store.read() as session:
        rows = session.execute(
            select(LedgerEntry.remote_id, LedgerEntry.piece_id, LedgerEntry.posted_at).where(
                LedgerEntry.channel == channel,
                LedgerEntry.status == Status.POSTED.value,
                LedgerEntry.part_index == 0,
                LedgerEntry.remote_id.is_not(None),
                LedgerEntry.piece_id.not_like("reply:%"),
            )
        ).all()
    found = [(str(r[0]), str(r[1]), r[2]) for r in rows]
    if posted_after is not None:
        found = [r for r in found if r[2] is None or r[2] >= posted_after]
    far = datetime.min.replace(tzinfo=_zone(found))
    return sorted(found, key=lambda r: r[2] or far, reverse=True)


def _zone(rows: list[tuple[str, str, datetime | None]]) -> Any:
    """The zone of the stored times (all alike), so they sort against a sentinel."""
    return next((r[2].tzinfo for r in rows if r[2] is not None), None)


def _slugs(site: Site | None) -> dict[str, str]:
    if site is None:
        return {}
    return {snippet.id: snippet.post for snippet in site.snippets if snippet.post}


def sync_due(store: Store, now: datetime, every: timedelta) -> bool:
    """Whether the scheduler's tick should sync now: ``every`` has passed since the last sync."""
    with store.read() as session:
        row = _cursor(session, *LAST_RUN)
        return row is None or row.refreshed_at is None or now - row.refreshed_at >= every


def maintenance_due(store: Store, now: datetime) -> bool:
    """Whether a day has passed since the store's statistics were last refreshed."""
    with store.read() as session:
        row = _cursor(session, *LAST_MAINTENANCE)
        return row is None or row.refreshed_at is None or now - row.refreshed_at >= MAINTAIN_EVERY


def maintained(store: Store, now: datetime) -> None:
    """Remember that :meth:`Store.maintain` ran at ``now``."""
    _save_cursor(store, *LAST_MAINTENANCE, None, now, refreshed=True)


def sync(
    store: Store,
    channels: Mapping[str, Channel],
    guideline: Guideline,
    moderation: ModerationSettings,
    now: datetime,
    *,
    site: Site | None = None,
) -> SyncReport:
    """Bring in what is new under every post on every channel; see the module docstring."""
    report = SyncReport(now=now)
    rules = SpamRules(
        max_links=moderation.max_links,
        blocklist=moderation.blocklist,
        repeat_limit=moderation.repeat_limit,
    )
    slugs = _slugs(site)
    for name, channel in sorted(channels.items()):
        report.added.setdefault(name, 0)
        searches = name == "twitter"  # X reads conversations through recent search
        before = channel.reads
        if searches:
            channel.read_budget = channel.reads + moderation.x_requests_per_run
        try:
            if searches and moderation.mentions:
                _sync_mentions(store, channel, guideline, rules, moderation, now, report)
            cutoff = now - timedelta(days=moderation.refresh_days) if searches else None
            for post_id, piece_id, posted_at in _conversations(store, name, cutoff):
                _sync_post(
                    store,
                    channel,
                    name,
                    guideline,
                    rules,
                    moderation,
                    now,
                    report,
                    post_id,
                    slugs.get(piece_id),
                    posted_at,
                )
        except BudgetSpent:
            report.notes.setdefault(name, []).append(
                f"read budget of {moderation.x_requests_per_run} requests for this run used "
                "up (MODERATION['x_requests_per_run']); the rest is read next run"
            )
        except ReadNotAvailable as exc:
            report.problems[name] = f"cannot read comments: {exc}"
        except (AuthExpired, RateLimited) as exc:
            report.problems[name] = f"sync stopped: {exc}"
        except ChannelError as exc:
            report.problems[name] = f"sync stopped after an error: {exc}"
        finally:
            channel.read_budget = None
        report.requests[name] = channel.reads - before
        notes = getattr(channel, "notes", None)
        if notes:
            report.notes.setdefault(name, []).extend(dict.fromkeys(notes))
            notes.clear()
    _save_cursor(store, *LAST_RUN, json.dumps({"requests": report.requests}), now, refreshed=True)
    for name, problem in report.problems.items():
        logger.warning("comment sync on %s: %s", name, problem)
    logger.info(
        "comment sync: %s added, %s updated, %s hidden",
        report.total_added,
        sum(report.updated.values()),
        sum(report.hidden.values()),
    )
    return report


def _sync_post(
    store: Store,
    channel: Channel,
    name: str,
    guideline: Guideline,
    rules: SpamRules,
    moderation: ModerationSettings,
    now: datetime,
    report: SyncReport,
    post_id: str,
    slug: str | None,
    posted_at: datetime | None,
) -> None:
    with store.transaction() as session:
        row = _cursor(session, name, post_id)
        cursor = row.cursor if row else None
        refreshed_at = row.refreshed_at if row else None
    recent = posted_at is None or now - posted_at <= timedelta(days=moderation.refresh_days)
    refresh = recent and (
        refreshed_at is None or now - refreshed_at >= timedelta(minutes=moderation.refresh_minutes)
    )
    page = channel.fetch_comments(post_id, None if refresh else cursor)
    for first in range(0, len(page.comments), INGEST_BATCH):
        done = ingest_many(
            store, guideline, name, page.comments[first : first + INGEST_BATCH], now,
            rules=rules, post_slug=slug,
        )  # fmt: skip
        report.added[name] = report.added.get(name, 0) + sum(1 for one in done if one.created)
    if refresh:
        _apply_current(store, name, post_id, page.comments, now, report)
    _save_cursor(
        store, name, post_id, page.cursor if page.reset else page.cursor or cursor, now, refresh
    )


def _sync_mentions(
    store: Store,
    channel: Channel,
    guideline: Guideline,
    rules: SpamRules,
    moderation: ModerationSettings,
    now: datetime,
    report: SyncReport,
) -> None:
    search = getattr(channel, "search_mentions", None)
    if search is None:
        return
    for query in moderation.mentions:
        source = MENTIONS + query
        with store.transaction() as session:
            row = _cursor(session, channel.name, source)
            cursor = row.cursor if row else None
        page = search(query, cursor)
        for first in range(0, len(page.comments), INGEST_BATCH):
            done = ingest_many(
                store, guideline, channel.name, page.comments[first : first + INGEST_BATCH],
                now, rules=rules, kind="mention",
            )  # fmt: skip
            added = sum(1 for one in done if one.created)
            report.added[channel.name] = report.added.get(channel.name, 0) + added
        _save_cursor(
            store,
            channel.name,
            source,
            page.cursor if page.reset else page.cursor or cursor,
            now,
            refreshed=False,
        )


def last_reads(store: Store) -> dict[str, int]:
    """Read requests per channel in the last sync run (what ``status`` shows)."""
    with store.read() as session:
        row = _cursor(session, *LAST_RUN)
        raw = row.cursor if row else None
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    requests = data.get("requests", {}) if isinstance(data, dict) else {}
    return {str(k): int(v) for k, v in requests.items() if isinstance(v, int)}

"""The syndication ledger: posting each part of each piece to each channel exactly once.

One row per (piece, channel, part). The protocol a worker follows::

    record_intent → claim → [entry.in_doubt: look it up on the network →
                             mark_posted(reconciled=True) | mark_absent]
                  → begin_send → call the network → mark_posted | schedule_retry | mark_failed

States and transitions (every one a conditional ``UPDATE … WHERE id = :id AND status =
:expected``; a row count of 0 raises :class:`Conflict`, so a change is never lost to a
concurrent one, and each writes an audit event in the same transaction)::

    (none) ──record_intent──▶ intent
    intent ──begin_send─────▶ intent, in doubt     (attempts + 1)
    intent, in doubt ──mark_absent──▶ intent       (reconciled: the post is not there)
    intent, in doubt ──mark_posted──▶ posted ──mark_retracted──▶ retracted
    intent ──schedule_retry─▶ intent    (error and next_attempt_at recorded)
    intent ──mark_failed────▶ failed    (the network refused the content, or we gave up)
    intent ──mark_late──────▶ late      (due too long ago; a human decides)
    late | failed ──release─▶ intent    (released_at set: never held as late again)
    intent | late | failed ──skip──▶ skipped

Inside ``intent`` two columns carry the exactly-once guarantee:

* ``claimed_by``/``claimed_until`` — a lease. :func:`claim` takes it only when it is free
  or expired, so two workers never work on one entry at once; :func:`begin_send` checks
  the caller still holds it. A worker that dies loses the lease when it expires. The lease
  must outlast the longest network call (``DEFAULT_LEASE`` against channel timeouts of
  seconds), or a slow call could be taken for a dead one.
* ``sending_since`` — set by :func:`begin_send` *before* the network is called and
  cleared only by a known outcome. While it is set the entry is *in doubt*: the post may
  exist. :func:`begin_send` refuses an entry in doubt, :func:`skip` and :func:`mark_late`
  too; only :func:`mark_posted` (found it) or :func:`mark_absent` (it is not there)
  resolve it. So a crash or a timeout is always reconciled with the network before
  anything is sent again, which the database enforces rather than the caller's memory.

There is no separate ``released`` status: a released entry is an ordinary ``intent``
with ``released_at`` set, so every sending transition keeps one expected status.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from publish.store import audit
from publish.store.errors import Conflict, NotFound
from publish.store.inserts import insert_new
from publish.store.models import ChannelState, LedgerEntry, Status

logger = logging.getLogger(__name__)

# Long against any single network call (channels time out after seconds), short enough
# that a crashed worker's entries are picked up again on a later tick.
DEFAULT_LEASE = timedelta(minutes=10)

SUBJECT = "piece"
_KEY = ("piece_id", "channel", "part_index")


def _label(entry: LedgerEntry) -> str:
    return f"{entry.piece_id} on {entry.channel} (part {entry.part_index + 1})"


def _details(entry: LedgerEntry, source: str, extra: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {
        "entry_id": entry.id,
        "channel": entry.channel,
        "part_index": entry.part_index,
    }
    if source:
        details["from"] = source
    details["to"] = entry.status
    details.update({key: value for key, value in extra.items() if value is not None})
    return details


def get(session: Session, entry_id: int) -> LedgerEntry:
    """The entry as it is in the database now (not as the session last saw it)."""
    entry = session.get(LedgerEntry, entry_id, populate_existing=True)
    if entry is None:
        raise NotFound(f"no ledger entry {entry_id}")
    return entry


def find(session: Session, piece_id: str, channel: str, part_index: int = 0) -> LedgerEntry | None:
    """The entry for one part of a piece on a channel, if one was recorded."""
    query = select(LedgerEntry).where(
        LedgerEntry.piece_id == piece_id,
        LedgerEntry.channel == channel,
        LedgerEntry.part_index == part_index,
    )
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def record_intent(
    session: Session,
    piece_id: str,
    channel: str,
    part_index: int,
    content_hash: str,
    text: str,
    now: datetime,
    *,
    actor: str = audit.SYSTEM,
) -> LedgerEntry:
    """The entry for (piece, channel, part): new as ``intent``, or the one already there.

    Concurrent callers get the same row and only one of them writes it (and its audit
    event); the caller compares the returned entry's status before going on.
    """
    created = insert_new(
        session,
        LedgerEntry.__table__,  # type: ignore[arg-type]
        {
            "piece_id": piece_id,
            "channel": channel,
            "part_index": part_index,
            "content_hash": content_hash,
            "text": text,
            "status": Status.INTENT.value,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        },
        _KEY,
    )
    entry = find(session, piece_id, channel, part_index)
    if entry is None:  # only if the row was deleted between insert and select
        raise Conflict(f"ledger entry for {piece_id} on {channel} vanished while recording it")
    if created:
        audit.record(
            session,
            actor,
            "ledger.intent",
            SUBJECT,
            piece_id,
            _details(entry, "", {"content_hash": content_hash}),
            now,
        )
        logger.info("intent recorded: %s", _label(entry))
    return entry


def _transition(
    session: Session,
    entry_id: int,
    expected: Sequence[Status],
    values: dict[str, Any],
    now: datetime,
    *,
    action: str,
    actor: str,
    audited: bool = True,
    conditions: Sequence[ColumnElement[bool]] = (),
    details: dict[str, Any] | None = None,
) -> LedgerEntry:
    """The one place rows change: conditional on status (and ``conditions``), audited."""
    allowed = [status.value for status in expected]
    if len(allowed) == 1:
        source: str | None = allowed[0]
    else:
        # Which of the allowed states it is now, so that the UPDATE can still demand
        # exactly that one and the audit event names it truthfully.
        found = session.scalar(
            select(LedgerEntry.status).where(LedgerEntry.id == entry_id).with_for_update()
        )
        if found is None:
            raise NotFound(f"no ledger entry {entry_id}")
        source = found if found in allowed else None
    changed = 0
    if source is not None:
        statement = (
            update(LedgerEntry)
            .where(LedgerEntry.id == entry_id, LedgerEntry.status == source, *conditions)
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        changed = cast(CursorResult[Any], session.execute(statement)).rowcount
    entry = get(session, entry_id)
    if changed != 1 or source is None:
        if entry.status in allowed:
            reason = _why(entry, now) or "it changed meanwhile"
        else:
            reason = f"it is {entry.status}, not {' or '.join(allowed)}"
        raise Conflict(f"cannot {action} {_label(entry)} (ledger entry {entry.id}): {reason}")
    if audited:
        audit.record(
            session,
            actor,
            f"ledger.{action}",
            SUBJECT,
            entry.piece_id,
            _details(entry, source, details or {}),
            now,
        )
        logger.info("%s: %s → %s", action, _label(entry), entry.status)
    return entry


def _why(entry: LedgerEntry, now: datetime) -> str:
    """What else holds the row, so a Conflict explains itself to whoever reads the log."""
    if entry.status != Status.INTENT:
        return ""
    parts = []
    if entry.claimed_by is not None and entry.claimed_until is not None:
        held = "held" if entry.claimed_until > now else "expired"
        parts.append(f"claimed by {entry.claimed_by} until {_z(entry.claimed_until)} ({held})")
    if entry.sending_since is not None:
        parts.append(f"in doubt since {_z(entry.sending_since)}")
    if entry.next_attempt_at is not None and entry.next_attempt_at > now:
        parts.append(f"next attempt at {_z(entry.next_attempt_at)}")
    if entry.released_at is not None:
        parts.append("released by a person")
    return ", ".join(parts)


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _claim_free(now: datetime) -> ColumnElement[bool]:
    return or_(LedgerEntry.claimed_until.is_(None), LedgerEntry.claimed_until <= now)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(LedgerEntry.next_attempt_at.is_(None), LedgerEntry.next_attempt_at <= now)


_UNCLAIMED: dict[str, Any] = {"claimed_by": None, "claimed_until": None}


def claim(
    session: Session,
    entry_id: int,
    worker: str,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> LedgerEntry:
    """Take the lease on a due intent (or renew one's own); :class:`Conflict` otherwise.

    Commit right after claiming: the lease protects only once others can see it.
    Claims are bookkeeping, not state changes, and write no audit event.
    """
    return _transition(
        session,
        entry_id,
        (Status.INTENT,),
        {"claimed_by": worker, "claimed_until": now + lease},
        now,
        action="claim",
        audited=False,
        actor=worker,
        conditions=(or_(_claim_free(now), LedgerEntry.claimed_by == worker), _due(now)),
    )


def take_over(
    session: Session,
    entry_id: int,
    dead_worker: str,
    worker: str,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> LedgerEntry:
    """Take the lease of a worker known to be dead (its process is gone) before it expires.

    Only the caller can know the holder is dead (same host, no such process); the update
    still demands that ``dead_worker`` holds the lease, so a live worker's claim taken in
    the meantime is never overwritten. Audited, since it is a judgement about another
    worker.
    """
    return _transition(
        session,
        entry_id,
        (Status.INTENT,),
        {"claimed_by": worker, "claimed_until": now + lease},
        now,
        action="take-over",
        actor=worker,
        conditions=(LedgerEntry.claimed_by == dead_worker, _due(now)),
        details={"dead_worker": dead_worker},
    )


def unclaim(session: Session, entry_id: int, worker: str, now: datetime) -> LedgerEntry:
    """Give the lease back without an outcome (say, the channel turned out to be paused)."""
    return _transition(
        session,
        entry_id,
        (Status.INTENT,),
        dict(_UNCLAIMED),
        now,
        action="unclaim",
        audited=False,
        actor=worker,
        conditions=(LedgerEntry.claimed_by == worker,),
    )


def begin_send(
    session: Session,
    entry_id: int,
    worker: str,
    now: datetime,
    *,
    reply_to_remote_id: str | None = None,
) -> LedgerEntry:
    """Mark the entry as being sent; commit this *before* calling the network.

    Needs the caller's unexpired lease and an entry not in doubt: from here until an
    outcome is recorded the post may exist, and a crash leaves that visible.
    ``reply_to_remote_id`` is the post a thread part answers.
    """
    values: dict[str, Any] = {
        "sending_since": now,
        "attempts": LedgerEntry.attempts + 1,
    }
    if reply_to_remote_id is not None:
        values["reply_to_remote_id"] = reply_to_remote_id
    return _transition(
        session,
        entry_id,
        (Status.INTENT,),
        values,
        now,
        action="send",
        actor=worker,
        conditions=(
            LedgerEntry.claimed_by == worker,
            LedgerEntry.claimed_until > now,
            LedgerEntry.sending_since.is_(None),
        ),
        details={"reply_to_remote_id": reply_to_remote_id},
    )


def mark_posted(
    session: Session,
    entry_id: int,
    remote_id: str,
    url: str | None,
    now: datetime,
    *,
    reconciled: bool = False,
    actor: str = audit.SYSTEM,
) -> LedgerEntry:
    """Record the post the network made: after a send, or found when reconciling one.

    Does not demand the lease: a post that exists must be recorded even by a worker
    whose lease ran out, and a second recording fails as a :class:`Conflict`. A post
    another entry on the channel carries is never recorded for this one (a
    :class:`Conflict` naming it; the store's unique index on channel and remote id
    backs this up when two workers record at once).
    """
    entry = get(session, entry_id)
    held = posts_of_others(session, entry.channel, entry_id, [remote_id])
    if held:
        holder = held[remote_id]
        raise Conflict(
            f"cannot record post {remote_id} for {_label(entry)}: it carries "
            f"{holder.piece_id} (part {holder.part_index + 1})"
        )
    try:
        with session.begin_nested():
            return _mark_posted(session, entry_id, remote_id, url, now, reconciled, actor)
    except IntegrityError:
        raise Conflict(
            f"cannot record post {remote_id} for {_label(entry)}: another entry recorded "
            "it meanwhile"
        ) from None


def _mark_posted(
    session: Session, entry_id: int, remote_id: str, url: str | None, now: datetime,
    reconciled: bool, actor: str,
) -> LedgerEntry:
    return _transition(
        session,
        entry_id,
        (Status.INTENT,),
        {
            "status": Status.POSTED.value,
            "remote_id": remote_id,
            "remote_url": url,
            "posted_at": now,
            "sending_since": None,
            "next_attempt_at": None,
            "error": None,
            **_UNCLAIMED,
        },
        now,
        action="reconciled-posted" if reconciled else "posted",
        actor=actor,
        conditions=(LedgerEntry.sending_since.is_not(None),),
        details={"remote_id": remote_id, "remote_url": url},
    )


def mark_absent(
    session: Session, entry_id: int, now: datetime, *, actor: str = audit.SYSTEM
) -> LedgerEntry:
    """Reconciliation looked on the network and the post is not there: it may be sent.

    The claim stays with the reconciling worker, which goes on to :func:`begin_send`.
    """
    return _transition(
        session,
        entry_id,
        (Status.INTENT,),
        {"sending_since": None},
        now,
        action="reconciled-absent",
        actor=actor,
        conditions=(LedgerEntry.sending_since.is_not(None),),
    )


def schedule_retry(
    session: Session,
    entry_id: int,
    error: str,
    next_attempt_at: datetime | None,
    now: datetime,
    *,
    maybe_posted: bool = False,
    actor: str = audit.SYSTEM,
) -> LedgerEntry:
    """A send did not succeed; try again at ``next_attempt_at`` (None: whenever due).

    ``maybe_posted`` is for outcomes that do not say whether the post was made (a
    timeout, a dropped connection, a 5xx: networks answer 5xx for posts they did make):
    the entry stays in doubt and is reconciled before the retry. Errors that prove
    nothing was posted (429, expired tokens, a refused connection) pass False. The lease
    is given back either way.
    """
    values: dict[str, Any] = {"error": error, "next_attempt_at": next_attempt_at, **_UNCLAIMED}
    conditions: tuple[ColumnElement[bool], ...] = ()
    if maybe_posted:
        conditions = (LedgerEntry.sending_since.is_not(None),)
    else:
        values["sending_since"] = None
    return _transition(
        session,
        entry_id,
        (Status.INTENT,),
        values,
        now,
        action="retry",
        actor=actor,
        conditions=conditions,
        details={
            "error": error,
            "next_attempt_at": next_attempt_at.isoformat() if next_attempt_at else None,
            "maybe_posted": maybe_posted,
        },
    )


def mark_failed(
    session: Session, entry_id: int, error: str, now: datetime, *, actor: str = audit.SYSTEM
) -> LedgerEntry:
    """The network refused the content (or retries ran out): a person must look at it.

    Only for definite outcomes: an entry in doubt is reconciled first, because a failed
    entry may be released and sent again.
    """
    return _transition(
        session,
        entry_id,
        (Status.INTENT,),
        {
            "status": Status.FAILED.value,
            "error": error,
            "sending_since": None,
            "next_attempt_at": None,
            **_UNCLAIMED,
        },
        now,
        action="failed",
        actor=actor,
        details={"error": error},
    )


def mark_late(
    session: Session, entry_id: int, reason: str, now: datetime, *, actor: str = audit.SYSTEM
) -> LedgerEntry:
    """Hold an intent that is too late to go out unasked (after an outage, say).

    Not for an entry in doubt (it may already be out) nor for one a person released.
    """
    return _transition(
        session,
        entry_id,
        (Status.INTENT,),
        {"status": Status.LATE.value, "error": reason, "next_attempt_at": None, **_UNCLAIMED},
        now,
        action="late",
        actor=actor,
        conditions=(
            LedgerEntry.sending_since.is_(None),
            LedgerEntry.released_at.is_(None),
            _claim_free(now),
        ),
        details={"reason": reason},
    )


def release(session: Session, entry_id: int, actor: str, now: datetime) -> LedgerEntry:
    """A person says a late (or failed) entry may go out after all: back to ``intent``.

    Attempts start again from zero, and the entry is never held as late again.
    """
    return _transition(
        session,
        entry_id,
        (Status.LATE, Status.FAILED),
        {
            "status": Status.INTENT.value,
            "released_at": now,
            "attempts": 0,
            "error": None,
            "next_attempt_at": None,
            **_UNCLAIMED,
        },
        now,
        action="released",
        actor=actor,
    )


def skip(
    session: Session, entry_id: int, actor: str, now: datetime, reason: str | None = None
) -> LedgerEntry:
    """A person decides this part never goes out. Refused while a send is in doubt."""
    return _transition(
        session,
        entry_id,
        (Status.INTENT, Status.LATE, Status.FAILED),
        {"status": Status.SKIPPED.value, "error": reason, "next_attempt_at": None, **_UNCLAIMED},
        now,
        action="skipped",
        actor=actor,
        conditions=(LedgerEntry.sending_since.is_(None), _claim_free(now)),
        details={"reason": reason},
    )


@dataclass(frozen=True)
class Decision:
    """What a person's release or skip of one piece did: parts found, changed, conflicts."""

    matched: int
    changed: int
    conflicts: list[str]


def decide(
    session: Session,
    piece_id: str,
    channel: str | None,
    action: Literal["release", "skip"],
    actor: str,
    now: datetime,
    *,
    statuses: Sequence[Status],
    reason: str | None = None,
) -> Decision:
    """Release or skip every part of a piece (on one channel) that is in ``statuses``.

    The command line and the desk offer the same decision; a part someone else changed
    meanwhile is a conflict, reported, while the other parts go on.
    """
    entries = [e for e in entries_for(session, piece_id, channel) if e.status in statuses]
    changed, conflicts = 0, []
    for entry in entries:
        try:
            if action == "release":
                release(session, entry.id, actor, now)
            else:
                skip(session, entry.id, actor, now, reason)
            changed += 1
        except Conflict as exc:
            conflicts.append(str(exc))
    return Decision(matched=len(entries), changed=changed, conflicts=conflicts)


def mark_retracted(session: Session, entry_id: int, actor: str, now: datetime) -> LedgerEntry:
    """Record that the post was deleted on the network (call after the delete succeeded)."""
    return _transition(
        session,
        entry_id,
        (Status.POSTED,),
        {"status": Status.RETRACTED.value, "retracted_at": now},
        now,
        action="retracted",
        actor=actor,
    )


@dataclass(frozen=True)
class Holder:
    """The other ledger entry that carries a post: which piece, part and since when."""

    piece_id: str
    part_index: int
    posted_at: datetime | None


def posts_of_others(
    session: Session, channel: str, entry_id: int, remote_ids: Sequence[str]
) -> dict[str, Holder]:
    """Which of ``remote_ids`` other entries on ``channel`` already carry.

    Reconciliation never records another entry's post for this one: the same words
    can belong to two pieces (a recurring notice, a closing part two threads share).
    """
    if not remote_ids:
        return {}
    rows = session.execute(
        select(
            LedgerEntry.remote_id,
            LedgerEntry.piece_id,
            LedgerEntry.part_index,
            LedgerEntry.posted_at,
        ).where(
            LedgerEntry.channel == channel,
            LedgerEntry.id != entry_id,
            LedgerEntry.remote_id.in_(list(remote_ids)),
        )
    ).all()
    return {str(r[0]): Holder(str(r[1]), int(r[2]), r[3]) for r in rows}


def entries_for(session: Session, piece_id: str, channel: str | None = None) -> list[LedgerEntry]:
    """Every entry of a piece, by channel and part."""
    query = select(LedgerEntry).where(LedgerEntry.piece_id == piece_id)
    if channel is not None:
        query = query.where(LedgerEntry.channel == channel)
    query = query.order_by(LedgerEntry.channel, LedgerEntry.part_index)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def by_status(session: Session, status: Status, channel: str | None = None) -> list[LedgerEntry]:
    """Entries in one state, oldest first (``late`` ones are what a person must decide)."""
    query = select(LedgerEntry).where(LedgerEntry.status == status.value)
    if channel is not None:
        query = query.where(LedgerEntry.channel == channel)
    query = query.order_by(LedgerEntry.created_at, LedgerEntry.id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def open_intents(session: Session, channel: str | None = None) -> list[LedgerEntry]:
    """Every entry not yet posted nor given up: claimed, waiting, or in doubt."""
    return by_status(session, Status.INTENT, channel)


def in_doubt(session: Session, channel: str | None = None) -> list[LedgerEntry]:
    """Intents whose last send has no known outcome: to be reconciled before anything else."""
    return [entry for entry in open_intents(session, channel) if entry.in_doubt]


def due(
    session: Session, now: datetime, channel: str | None = None, limit: int | None = None
) -> list[LedgerEntry]:
    """Intents a worker may claim now: due, unclaimed (or lease expired), channel not paused.

    Ordered by piece, channel and part, so thread parts come in the order they chain.
    """
    paused = select(ChannelState.channel).where(
        or_(
            ChannelState.auth_problem.is_not(None),
            and_(ChannelState.paused_until.is_not(None), ChannelState.paused_until > now),
        )
    )
    query = select(LedgerEntry).where(
        LedgerEntry.status == Status.INTENT.value,
        _due(now),
        _claim_free(now),
        LedgerEntry.channel.not_in(paused),
    )
    if channel is not None:
        query = query.where(LedgerEntry.channel == channel)
    query = query.order_by(
        LedgerEntry.created_at, LedgerEntry.piece_id, LedgerEntry.channel, LedgerEntry.part_index
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def all_entries(session: Session) -> list[LedgerEntry]:
    """Every entry, by piece, channel and part: what ``dialogpress status`` shows."""
    query = select(LedgerEntry).order_by(
        LedgerEntry.piece_id, LedgerEntry.channel, LedgerEntry.part_index
    )
    return list(session.scalars(query))

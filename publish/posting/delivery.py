"""The one delivery protocol for a ledger entry, for posts (:mod:`publish.posting.syndication`)
and replies (:mod:`publish.moderation`) alike: intent → claim or take over → reconcile
(when in doubt) → send → record. The caller records the intent and decides what its
state means (posted already, late, failed); :func:`deliver` runs the rest, with the
caller's own ``send`` (post a part, answer a comment) and ``find`` (the posts on the
network that carry this part, by its text *and* what tells it apart: the post it
answers, its link). See :mod:`publish.store.ledger` for the states.

The rules that live here, so that posts and replies cannot differ on them:

* A dead worker's entry is taken over at once, unless its send is in doubt and the
  channel's request timeout has not yet passed since the send was recorded: its request
  may still be on the wire (held by a proxy or the network) and land after a look-up
  found nothing, so a second send would make a duplicate. Until then the entry waits.
* The lease is checked again right before the network is called: by the time this
  process has held it (a monotonic clock, whatever time the run was given), so a worker
  that stalled past its lease notices, and by the database (still ours). An expired or
  lost lease hands the entry back and reports "busy", never a traceback.
* A send in doubt (a crash, a timeout, a 5xx: networks answer 5xx for posts they made)
  is looked up before anything is sent again; the post found is the oldest one made
  since the send that no other ledger entry carries. A post another entry carries is
  never recorded for this one (the store refuses it too: one post, one entry).
* A duplicate refusal is our own post when the look-up finds it; otherwise it is the
  same words another piece posted, and this part fails naming that piece.
* What each channel error means (:func:`record_failure`): ``RateLimited`` waits for the
  reset and pauses the channel, ``AuthExpired`` waits for new credentials, ``Rejected``
  fails the part, anything else retries with capped exponential backoff and jitter.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from publish.ops.workers import dead_here
from publish.posting.channels import (
    AuthExpired,
    Channel,
    ChannelError,
    DuplicateContent,
    RateLimited,
    Rejected,
    RemotePost,
    TransientError,
)
from publish.posting.channels.base import comparable_text
from publish.store import Store, channel_state, ledger
from publish.store.errors import Conflict

logger = logging.getLogger(__name__)

# Added to the channel's request timeout: time for the network to carry out a request
# it received at the last moment.
IN_FLIGHT_GRACE = timedelta(seconds=5)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
# How far back a duplicate refusal looks for the post with the same words: generous,
# because the clock a run was given (--now) need not be the network's clock.
RECONCILE_WINDOW = timedelta(days=2)
# An in-doubt send's post is not older than its recorded send, give or take the
# difference between our clock and the network's.
LOOKUP_SKEW = timedelta(minutes=5)

# Posts on the network made since the moment given that carry this part (by its text
# and what tells it apart); the caller's, since posts and replies are found differently.
Find = Callable[[datetime], list[RemotePost]]
# Posts with the part's words wherever they hang: whom a duplicate refusal is about.
SameWords = Callable[[datetime], list[RemotePost]]


@dataclass(frozen=True)
class Claimed:
    """Whether this worker now holds the entry, and why not when it does not."""

    ok: bool
    reason: str = ""
    at: float = field(default_factory=time.monotonic)  # when, on this process's clock


def effective_now(now: datetime) -> datetime:
    """The later of the run's clock and the wall clock: a run given an earlier time
    (``--now``) must still see leases and in-flight windows pass in real time."""
    return max(now, datetime.now(UTC))


def holder_is_dead(holder: str | None) -> bool:
    """True when the lease holder (``host:pid``) is a process on this host that is gone."""
    if not holder or ":" not in holder:
        return False
    host, _, pid = holder.rpartition(":")
    return pid.isdigit() and dead_here(host, int(pid))


def in_flight_until(sent_since: datetime | None, request_timeout: float) -> datetime | None:
    """Until when a send recorded at ``sent_since`` may still land on the network."""
    if sent_since is None:
        return None
    return sent_since + timedelta(seconds=request_timeout) + IN_FLIGHT_GRACE


def claim(
    store: Store,
    entry_id: int,
    holder: str | None,
    worker: str,
    now: datetime,
    *,
    sent_since: datetime | None,
    request_timeout: float,
) -> Claimed:
    """Take the entry's lease, or take it over from a dead worker (see the module)."""
    try:
        with store.transaction() as session:
            if holder and holder != worker and holder_is_dead(holder):
                until = in_flight_until(sent_since, request_timeout)
                if until is not None and effective_now(now) < until:
                    return Claimed(
                        False,
                        f"the send of dead worker {holder} may still land until "
                        f"{until.isoformat(timespec='seconds')}; taken over after that",
                    )
                ledger.take_over(session, entry_id, holder, worker, now)
            else:
                ledger.claim(session, entry_id, worker, now)
        return Claimed(True)
    except Conflict as exc:
        return Claimed(False, str(exc))


def begin_send(
    store: Store,
    entry_id: int,
    worker: str,
    now: datetime,
    claimed: Claimed,
    *,
    reply_to: str | None,
    lease: timedelta = ledger.DEFAULT_LEASE,
) -> int | str:
    """Record the send (the entry's attempts after it), or hand the entry back when the
    lease ran out or went to another worker meanwhile (the reason, as a string)."""
    try:
        held = time.monotonic() - claimed.at
        if held >= lease.total_seconds():
            raise Conflict(
                f"the lease on ledger entry {entry_id} ran out ({held:.0f} s since it was "
                "taken) before sending"
            )
        with store.transaction() as session:
            entry = ledger.begin_send(session, entry_id, worker, now, reply_to_remote_id=reply_to)
            return entry.attempts
    except Conflict as exc:
        _hand_back(store, entry_id, worker, now)
        logger.warning("not sending ledger entry %s: %s", entry_id, exc)
        return f"handed back before sending: {exc}"


def _hand_back(store: Store, entry_id: int, worker: str, now: datetime) -> None:
    try:
        with store.transaction() as session:
            ledger.unclaim(session, entry_id, worker, now)
    except Conflict:
        pass  # another worker holds it now: nothing of ours to give back


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Capped exponential backoff with ±20 % jitter, so that retries of many pieces after
    an outage do not arrive at the network in one burst."""
    base = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))
    return base * (rng or random).uniform(0.8, 1.2)


def record_failure(
    session: Session,
    entry_id: int,
    channel: str,
    exc: ChannelError,
    attempts: int,
    now: datetime,
    *,
    actor: str,
    rng: random.Random | None = None,
) -> str | None:
    """Record what a failed send of a ledger entry means; why, when it failed for good.

    The one place that decides what each channel error means for an entry:
    ``RateLimited`` waits for the reset and pauses the channel, ``AuthExpired`` waits for
    new credentials, ``Rejected`` fails the entry, and anything else retries with
    backoff, unless it surely did not go out and the attempts are used up.
    ``DuplicateContent`` is reconciled by :func:`deliver` before it gets here.
    """
    if isinstance(exc, RateLimited):
        ledger.schedule_retry(session, entry_id, str(exc), exc.until, now, actor=actor)
        channel_state.pause(session, channel, exc.until, str(exc), now, actor=actor)
        return None
    if isinstance(exc, AuthExpired):
        ledger.schedule_retry(session, entry_id, str(exc), None, now, actor=actor)
        channel_state.report_auth_problem(session, channel, str(exc), now, actor=actor)
        return None
    if isinstance(exc, Rejected):
        ledger.mark_failed(session, entry_id, exc.reason, now, actor=actor)
        return f"rejected by {channel}: {exc.reason}"
    # transient, or an error we cannot classify: the latter may have gone through
    delivered = exc.maybe_delivered if isinstance(exc, TransientError) else True
    if attempts >= MAX_ATTEMPTS and not delivered:
        reason = f"gave up after {attempts} attempts: {exc}"
        ledger.mark_failed(session, entry_id, reason, now, actor=actor)
        return reason
    ledger.schedule_retry(
        session, entry_id, str(exc), now + backoff(attempts, rng), now,
        maybe_posted=delivered, actor=actor,
    )
    return None


@dataclass(frozen=True)
class Entry:
    """A ledger entry as :func:`ledger.record_intent` left it: what :func:`deliver` needs."""

    id: int
    holder: str | None
    sent_since: datetime | None
    next_at: datetime | None


@dataclass(frozen=True)
class Result:
    """What :func:`deliver` did with one entry.

    ``status``: ``posted`` (sent now), ``reconciled`` (found what an earlier attempt
    made), ``failed`` (a person must look; ``message`` says why), ``retry`` (later, by
    itself), ``busy`` (another worker has it, or its in-flight send may still land),
    ``paused`` (rate limited: the channel waits), ``auth`` (credentials must be renewed).
    """

    status: str
    message: str = ""
    remote: RemotePost | None = None
    error: ChannelError | None = None

    @property
    def remote_id(self) -> str | None:
        return self.remote.remote_id if self.remote else None


def deliver(
    store: Store,
    entry: Entry,
    channel: Channel,
    *,
    send: Callable[[], RemotePost],
    find: Find,
    same_words: SameWords | None = None,
    reply_to: str | None,
    worker: str,
    now: datetime,
    actor: str,
    rng: random.Random | None = None,
) -> Result:
    """Claim or take over ``entry``, reconcile it when in doubt, send, record: the
    protocol of the module docstring. Never holds a transaction across a network call."""
    claimed = claim(
        store, entry.id, entry.holder, worker, now,
        sent_since=entry.sent_since, request_timeout=channel.request_timeout,
    )
    if not claimed.ok:
        if entry.next_at is not None and entry.next_at > now:
            return Result("retry", f"next attempt at {entry.next_at.isoformat()}")
        return Result("busy", claimed.reason)
    try:
        return _after_claim(
            store, entry, channel, claimed, send=send, find=find, same_words=same_words,
            reply_to=reply_to, worker=worker, now=now, actor=actor, rng=rng,
        )
    except Conflict as exc:
        # another worker changed the entry meanwhile (our lease ran out while we waited
        # for the network): nothing of ours to record; the entry says what is true
        logger.warning("ledger entry %s changed under worker %s: %s", entry.id, worker, exc)
        _hand_back(store, entry.id, worker, now)
        return Result("busy", str(exc))


def _after_claim(
    store: Store,
    entry: Entry,
    channel: Channel,
    claimed: Claimed,
    *,
    send: Callable[[], RemotePost],
    find: Find,
    same_words: SameWords | None,
    reply_to: str | None,
    worker: str,
    now: datetime,
    actor: str,
    rng: random.Random | None,
) -> Result:
    if entry.sent_since is not None:
        since = min(entry.sent_since, datetime.now(UTC)) - LOOKUP_SKEW
        found = _reconcile(store, entry.id, channel, find, since, now, actor, rng, worker)
        if found is not None:
            return found
    attempts = begin_send(store, entry.id, worker, now, claimed, reply_to=reply_to)
    if isinstance(attempts, str):
        return Result("busy", attempts)
    try:
        posted = send()
    except DuplicateContent as exc:
        return _duplicate(
            store, entry.id, channel, find, same_words, exc, now, actor, rng, worker
        )
    except ChannelError as exc:
        with store.transaction() as session:
            failure = record_failure(
                session, entry.id, channel.name, exc, attempts, now, actor=actor, rng=rng
            )
        if failure is not None:
            return Result("failed", failure, error=exc)
        return network_error(exc)
    return _record(store, entry.id, posted, now, actor, reconciled=False, worker=worker)


def network_error(exc: ChannelError) -> Result:
    """The result for an error that leaves the entry waiting (recorded already)."""
    if isinstance(exc, RateLimited):
        return Result("paused", f"rate limited until {exc.until.isoformat(timespec='seconds')}",
                      error=exc)
    if isinstance(exc, AuthExpired):
        return Result("auth", str(exc), error=exc)
    return Result("retry", str(exc), error=exc)


def _record(
    store: Store, entry_id: int, posted: RemotePost, now: datetime, actor: str, *,
    reconciled: bool, worker: str,
) -> Result:
    try:
        with store.transaction() as session:
            ledger.mark_posted(
                session, entry_id, posted.remote_id, posted.url, now,
                reconciled=reconciled, actor=actor,
            )
    except Conflict as exc:
        # another worker recorded an outcome meanwhile, or the post is another entry's
        logger.warning("ledger entry %s: %s", entry_id, exc)
        _hand_back(store, entry_id, worker, now)  # still in doubt: looked up again later
        return Result("busy", f"not recorded: {exc}")
    message = "found the post an earlier attempt made" if reconciled else ""
    return Result("reconciled" if reconciled else "posted", message, remote=posted)


@dataclass(frozen=True)
class _Found:
    mine: RemotePost | None
    others: dict[str, ledger.Holder]


def _look(
    store: Store, entry_id: int, channel: str, find: Find, since: datetime
) -> _Found | ChannelError:
    """The oldest post carrying the part made since ``since`` that no other entry
    carries, and the other entries' posts among the candidates."""
    try:
        candidates = [
            post for post in find(since) if post.created_at is None or post.created_at >= since
        ]
    except ChannelError as exc:
        return exc
    with store.transaction() as session:
        others = ledger.posts_of_others(
            session, channel, entry_id, [post.remote_id for post in candidates]
        )
    mine = [post for post in candidates if post.remote_id not in others]
    oldest = min(mine, key=_created, default=None)
    return _Found(mine=oldest, others=others)


def _created(post: RemotePost) -> datetime:
    return post.created_at or datetime.max.replace(tzinfo=UTC)


def _reconcile(
    store: Store, entry_id: int, channel: Channel, find: Find, since: datetime,
    now: datetime, actor: str, rng: random.Random | None, worker: str,
) -> Result | None:
    """Look for the post an earlier attempt may have made: a result when found (or when
    the network could not be asked: still in doubt), None when it is not there."""
    found = _look(store, entry_id, channel.name, find, since)
    if isinstance(found, ChannelError):
        with store.transaction() as session:
            ledger.schedule_retry(
                session, entry_id, f"could not reconcile: {found}", now + backoff(1, rng),
                now, maybe_posted=True, actor=actor,
            )
        return network_error(found)
    if found.mine is not None:
        return _record(store, entry_id, found.mine, now, actor, reconciled=True,
                       worker=worker)
    with store.transaction() as session:
        ledger.mark_absent(session, entry_id, now, actor=actor)
    return None


def _duplicate(
    store: Store, entry_id: int, channel: Channel, find: Find, same_words: SameWords | None,
    exc: DuplicateContent, now: datetime, actor: str, rng: random.Random | None, worker: str,
) -> Result:
    """The network refused the text as a duplicate: our own post from an attempt whose
    answer got lost (found and not another entry's: posted), or the same words another
    piece posted (a refusal of this part, naming the other)."""
    since = min(now, datetime.now(UTC)) - RECONCILE_WINDOW
    found = _look(store, entry_id, channel.name, find, since)
    if isinstance(found, ChannelError):
        with store.transaction() as session:
            ledger.schedule_retry(
                session, entry_id, f"could not reconcile a duplicate: {found}",
                now + backoff(1, rng), now, maybe_posted=True, actor=actor,
            )
        return network_error(found)
    if found.mine is not None:
        return _record(store, entry_id, found.mine, now, actor, reconciled=True,
                       worker=worker)
    others = found.others
    if not others and same_words is not None:
        try:
            ids = [post.remote_id for post in same_words(since)]
        except ChannelError:
            ids = []
        with store.transaction() as session:
            others = ledger.posts_of_others(session, channel.name, entry_id, ids)
    if others:
        holder = min(others.values(), key=lambda h: (h.posted_at is None, h.piece_id))
        when = holder.posted_at.isoformat(timespec="minutes") if holder.posted_at else "?"
        reason = (
            f"same text as {holder.piece_id} (part {holder.part_index + 1}) posted at "
            f"{when}; {channel.name} refuses the same words twice: make the text differ "
            "(a recurring notice names its date)"
        )
    else:
        reason = f"the network calls it a duplicate: {exc}"
    with store.transaction() as session:
        ledger.mark_failed(session, entry_id, f"duplicate: {reason}", now, actor=actor)
    return Result("failed", reason, error=exc)


def with_words(posts: list[RemotePost], text: str) -> list[RemotePost]:
    """The posts whose text is ``text`` as networks return it (see comparable_text)."""
    wanted = comparable_text(text)
    return [post for post in posts if comparable_text(post.text) == wanted]

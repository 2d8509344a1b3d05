"""Posting due, approved snippets to their networks: each part on each channel once.

*Due* means: the snippet reads without errors, is not a draft, carries enough valid
client approvals for exactly its current content, its ``publish_at`` has come, and the
post it links to is live on the deployed site (a link to a missing page is worse than a
late post). For every (snippet, channel, part) the ledger in :mod:`publish.store.ledger`
holds one row, and the protocol is always: record the intent, take the lease, commit
*before* calling the network, record the outcome. A row whose outcome is unknown (crash,
timeout) is *in doubt* and is looked up on the network before anything is sent again,
so a post can be late but never doubled.

The networks' errors arrive as :mod:`publish.channels.errors`; this module alone
decides what each means: a transient error retries later with capped exponential
backoff and jitter, ``RateLimited`` pauses the channel until the reset, ``AuthExpired``
pauses it until its credentials work again, ``Rejected`` fails the piece with the
network's reason, ``DuplicateContent`` is reconciled (it is most likely our own post).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from editorial.approvals import ApprovalState, approval_states, content_hash
from editorial.links import snippet_link
from editorial.pieces import Post, Site, Snippet
from publish import delivery
from publish.channels import (
    AuthExpired,
    Channel,
    ChannelError,
    DuplicateContent,
    MediaFile,
    Message,
    RateLimited,
    Rejected,
    RemotePost,
    TransientError,
)
from publish.channels.base import comparable_text
from publish.store import Store, audit, channel_state, ledger
from publish.store.models import Status
from publish.workers import worker_id

logger = logging.getLogger(__name__)

WORKER = worker_id()
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
# How far back a duplicate refusal looks for the post with the same words: generous,
# because the clock a run was given (--now) need not be the network's clock.
RECONCILE_WINDOW = timedelta(days=2)
# An in-doubt send's post is not older than its recorded send, give or take the
# difference between our clock and the network's.
LOOKUP_SKEW = timedelta(minutes=5)

IsLive = Callable[[Post], bool]


@dataclass
class Outcome:
    """What happened to one snippet on one channel in this run."""

    piece_id: str
    channel: str
    status: str
    message: str = ""
    url: str | None = None
    part: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    """One syndication run: every outcome, and the channels that are paused."""

    now: datetime
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    paused: dict[str, str] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    # channels with pieces to send and no credentials at all: nothing can go out there
    no_credentials: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        """False while a person must act: a piece failed, a channel's credentials broke or
        are missing for a channel that has pieces to send."""
        return (
            not self.broken
            and not self.no_credentials
            and not any(o.status == "failed" for o in self.outcomes)
        )

    def problems(self) -> dict[str, str]:
        """Why the run is not ok, once per channel (not once per piece): for exit messages."""
        found = {name: self.paused.get(name, "credentials broke") for name in self.broken}
        for name in self.no_credentials:
            found[name] = self.paused.get(name) or f"no credentials for {name}"
        return dict(sorted(found.items()))

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(timespec="seconds"),
            "dry_run": self.dry_run,
            "ok": self.ok,
            "outcomes": [o.to_dict() for o in self.outcomes],
            "paused": self.paused,
            "broken": sorted(self.broken),
            "no_credentials": sorted(self.no_credentials),
        }


@dataclass
class Plan:
    """A due snippet on one channel, with everything its messages need."""

    snippet: Snippet
    channel: str
    parts: list[str]
    link: str | None
    media: list[MediaFile]
    content_hash: str

    def message(self, index: int, reply_to: str | None) -> Message:
        """Part ``index``: the link and the images go with the first part only."""
        first = index == 0
        return Message(
            text=self.parts[index],
            media=self.media if first else [],
            link=self.link if first else None,
            reply_to=reply_to,
        )


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Capped exponential backoff with ±20 % jitter, so that retries of many pieces after
    an outage do not arrive at the network in one burst."""
    base = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))
    return base * (rng or random).uniform(0.8, 1.2)


def plan(
    site: Site,
    now: datetime,
    is_live: IsLive,
    states: Mapping[str, ApprovalState] | None = None,
) -> tuple[list[Plan], list[Outcome]]:
    """The due (snippet, channel) pairs, and why each other snippet that is due waits."""
    states = approval_states(site, site.snippets) if states is None else states
    plans: list[Plan] = []
    waiting: list[Outcome] = []
    for snippet in sorted(site.snippets, key=lambda s: (s.publish_at or now, s.id)):
        if snippet.is_draft or snippet.publish_at is None or snippet.publish_at > now:
            continue
        reason = _blocker(site, snippet, states.get(snippet.id), is_live)
        if reason:
            waiting += [Outcome(snippet.id, c, "waiting", reason) for c in snippet.channels]
            continue
        media = [MediaFile(path=m.path, alt=m.alt) for m in snippet.media]
        digest = content_hash(snippet)
        for channel in snippet.channels:
            plans.append(
                Plan(
                    snippet=snippet,
                    channel=channel,
                    parts=snippet.parts(channel),
                    link=snippet_link(site, snippet, channel),
                    media=media,
                    content_hash=digest,
                )
            )
    return plans, waiting


def _blocker(
    site: Site, snippet: Snippet, state: ApprovalState | None, is_live: IsLive
) -> str | None:
    if not snippet.ok:
        errors = [str(f) for f in snippet.findings if f.severity == "error"]
        return f"has errors: {errors[0]}" if errors else "cannot be read"
    if state is None or not state.approved:
        why = "; ".join(state.reasons) if state and state.reasons else "no approval"
        return f"not approved ({state.state if state else 'missing'}: {why})"
    if snippet.post:
        post = site.post_by_slug(snippet.post, snippet.lang)
        if post is None or not is_live(post):
            return f"the linked post '{snippet.post}' is not live on the site yet"
    return None


@dataclass(frozen=True)
class Lookup:
    """What a lookup found: this entry's post (None: not there), and the posts with the
    same words that other ledger entries carry, by remote id."""

    mine: RemotePost | None
    others: dict[str, ledger.Holder]


def carries(post: RemotePost, message: Message) -> bool:
    """Whether ``post`` is ``message`` on the network: the same text as networks return
    it (:func:`~publish.channels.base.comparable_text`) and, where the network says,
    the same post it answers and the same link. Text alone is not an identity: two
    pieces may say the same words."""
    if comparable_text(post.text) != comparable_text(message.text_with_link()):
        return False
    if post.reply_to is not None and post.reply_to != message.reply_to:
        return False
    return not (message.link and post.links is not None and message.link not in post.links)


def _created(post: RemotePost) -> datetime:
    return post.created_at or datetime.max.replace(tzinfo=UTC)


class _Run:
    """One pass over the plans; holds what the run learnt (channels paused meanwhile)."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        now: datetime,
        report: Report,
        worker: str,
        max_lateness: timedelta,
        actor: str,
        rng: random.Random | None,
    ) -> None:
        self.store = store
        self.channels = channels
        self.now = now
        self.report = report
        self.worker = worker
        self.max_lateness = max_lateness
        self.actor = actor
        self.rng = rng
        self.said: set[str] = set()  # channels whose pause reason this run has logged

    def out(self, plan: Plan, status: str, message: str = "", **extra: Any) -> None:
        self.report.outcomes.append(
            Outcome(plan.snippet.id, plan.channel, status, message, **extra)
        )
        log = logger.warning if status in ("failed", "auth") else logger.info
        if status in ("paused", "auth") and message == self.report.paused.get(plan.channel):
            if plan.channel in self.said:
                log = logger.debug  # the channel's reason is logged once a run, not per piece
            self.said.add(plan.channel)
        log("%s on %s: %s %s", plan.snippet.id, plan.channel, status, message)

    def pause(self, channel: str, reason: str) -> None:
        self.report.paused[channel] = reason

    # -- one (snippet, channel) ----------------------------------------------------------

    def run(self, plan: Plan) -> None:
        channel = self.channels.get(plan.channel)
        if plan.channel in self.report.paused:
            self.out(plan, "paused", self.report.paused[plan.channel])
            return
        if channel is None:
            self.out(plan, "paused", f"no credentials for {plan.channel}")
            return
        reply_to: str | None = None
        for index in range(len(plan.parts)):
            remote = self.part(plan, channel, index, reply_to)
            if remote is None:
                return
            reply_to = remote

    def part(self, plan: Plan, channel: Channel, index: int, reply_to: str | None) -> str | None:
        """Bring part ``index`` to ``posted``; its remote id, or None when it is not (yet)."""
        message = plan.message(index, reply_to)
        with self.store.transaction() as session:
            entry = ledger.record_intent(
                session,
                plan.snippet.id,
                plan.channel,
                index,
                plan.content_hash,
                message.text_with_link(),
                self.now,
                actor=self.actor,
            )
            status, entry_id = Status(entry.status), entry.id
            remote_id, remote_url = entry.remote_id, entry.remote_url
            in_doubt = entry.sending_since is not None
            holder, next_at = entry.claimed_by, entry.next_attempt_at
            sent_since = entry.sending_since
            too_late = (
                index == 0
                and not in_doubt
                and entry.released_at is None
                and status == Status.INTENT
                and plan.snippet.publish_at is not None
                and self.now - plan.snippet.publish_at > self.max_lateness
            )
            if too_late and (holder is None or delivery.holder_is_dead(holder)):
                if holder is not None:
                    ledger.take_over(session, entry_id, holder, self.worker, self.now)
                    ledger.unclaim(session, entry_id, self.worker, self.now)
                late_by = self.now - plan.snippet.publish_at  # type: ignore[operator]
                reason = (
                    f"due {_ago(late_by)} ago, later than MAX_LATENESS; "
                    "run 'dialogpress release' to post it anyway or 'dialogpress skip'"
                )
                ledger.mark_late(session, entry_id, reason, self.now, actor=self.actor)
                status = Status.LATE
        if status == Status.POSTED:
            if index == 0 and remote_url:
                self.out(plan, "already-posted", url=remote_url)
            return remote_id
        if status == Status.LATE and too_late:
            self.out(plan, "late", reason, part=index)
            return None
        if status != Status.INTENT:
            self.out(plan, status.value, "", part=index)
            return None
        claimed = self.claim(plan, channel, entry_id, holder, next_at, index, sent_since)
        if claimed is None:
            return None
        if in_doubt:
            found = self.reconcile(plan, channel, entry_id, message, sent_since)
            if isinstance(found, str):
                return found
            if found is False:
                return None
        attempts = delivery.begin_send(
            self.store, entry_id, self.worker, self.now, claimed, reply_to=reply_to
        )
        if isinstance(attempts, str):
            self.out(plan, "busy", attempts, part=index)
            return None
        try:
            posted = channel.post(message)
        except ChannelError as exc:
            return self.failed(plan, channel, entry_id, message, exc, attempts, index)
        with self.store.transaction() as session:
            ledger.mark_posted(
                session, entry_id, posted.remote_id, posted.url, self.now, actor=self.actor
            )
        self.out(plan, "posted", url=posted.url, part=index)
        return posted.remote_id

    def claim(
        self,
        plan: Plan,
        channel: Channel,
        entry_id: int,
        holder: str | None,
        next_at: datetime | None,
        index: int,
        sent_since: datetime | None,
    ) -> delivery.Claimed | None:
        claimed = delivery.claim(
            self.store, entry_id, holder, self.worker, self.now,
            sent_since=sent_since, request_timeout=channel.request_timeout,
        )
        if claimed.ok:
            return claimed
        if next_at is not None and next_at > self.now:
            self.out(plan, "retry", f"next attempt at {next_at.isoformat()}", part=index)
        else:
            self.out(plan, "busy", claimed.reason, part=index)
        return None

    def reconcile(
        self,
        plan: Plan,
        channel: Channel,
        entry_id: int,
        message: Message,
        sent_since: datetime | None,
    ) -> str | bool | None:
        """Look for the post an earlier attempt may have made.

        Its remote id when found (recorded as posted), None when it is not there (the
        entry may be sent), False when the network could not be asked (still in doubt).
        """
        since = min(sent_since or self.now, datetime.now(UTC)) - LOOKUP_SKEW
        found = self.lookup(channel, plan.channel, entry_id, message, since)
        if isinstance(found, ChannelError):
            with self.store.transaction() as session:
                ledger.schedule_retry(
                    session,
                    entry_id,
                    f"could not reconcile: {found}",
                    self.now + backoff(1, self.rng),
                    self.now,
                    maybe_posted=True,
                    actor=self.actor,
                )
            self.network_error(plan, found)
            return False
        mine = found.mine
        with self.store.transaction() as session:
            if mine is not None:
                ledger.mark_posted(
                    session,
                    entry_id,
                    mine.remote_id,
                    mine.url,
                    self.now,
                    reconciled=True,
                    actor=self.actor,
                )
            else:
                ledger.mark_absent(session, entry_id, self.now, actor=self.actor)
        if mine is not None:
            self.out(plan, "reconciled", "found the post an earlier attempt made", url=mine.url)
            return mine.remote_id
        return None

    def lookup(
        self, channel: Channel, name: str, entry_id: int, message: Message, since: datetime
    ) -> Lookup | ChannelError:
        """Posts on the network that carry ``message`` (see :func:`carries`) made since
        ``since``: the oldest one no other ledger entry holds is this entry's."""
        try:
            if message.reply_to is not None:
                reply = channel.find_reply(message.reply_to, message.text_with_link())
                candidates = [reply] if reply is not None else []
            else:
                candidates = channel.recent_posts(since)
        except ChannelError as exc:
            return exc
        candidates = [
            post for post in candidates
            if carries(post, message) and (post.created_at is None or post.created_at >= since)
        ]
        with self.store.transaction() as session:
            others = ledger.posts_of_others(
                session, name, entry_id, [post.remote_id for post in candidates]
            )
        mine = [post for post in candidates if post.remote_id not in others]
        oldest = min(mine, key=_created, default=None)
        return Lookup(mine=oldest, others=others)

    def same_words(
        self, channel: Channel, name: str, entry_id: int, message: Message, since: datetime
    ) -> dict[str, ledger.Holder]:
        """Other entries' posts with the words of ``message``, wherever they hang (the
        closing part of another thread): whom a duplicate refusal is about."""
        try:
            recent = channel.recent_posts(since)
        except ChannelError:
            return {}
        wanted = comparable_text(message.text_with_link())
        ids = [post.remote_id for post in recent if comparable_text(post.text) == wanted]
        with self.store.transaction() as session:
            return ledger.posts_of_others(session, name, entry_id, ids)

    def failed(
        self,
        plan: Plan,
        channel: Channel,
        entry_id: int,
        message: Message,
        exc: ChannelError,
        attempts: int,
        index: int,
    ) -> str | None:
        if isinstance(exc, DuplicateContent):
            return self.duplicate(plan, channel, entry_id, message, exc, index)
        with self.store.transaction() as session:
            failure = record_failure(
                session,
                entry_id,
                plan.channel,
                exc,
                attempts,
                self.now,
                actor=self.actor,
                rng=self.rng,
            )
        if failure is not None:
            self.out(plan, "failed", failure, part=index if isinstance(exc, Rejected) else None)
            return None
        self.network_error(plan, exc, index)
        return None

    def duplicate(
        self,
        plan: Plan,
        channel: Channel,
        entry_id: int,
        message: Message,
        exc: DuplicateContent,
        index: int,
    ) -> str | None:
        """The network refused the text as a duplicate: our own post from an attempt
        whose answer got lost (found and not another entry's: posted), or the same
        words another piece posted (a refusal of this piece, with the other's name)."""
        # outside any transaction: never hold the store's lock across a network call
        since = min(self.now, datetime.now(UTC)) - RECONCILE_WINDOW
        found = self.lookup(channel, plan.channel, entry_id, message, since)
        if isinstance(found, ChannelError):
            with self.store.transaction() as session:
                ledger.schedule_retry(
                    session, entry_id, f"could not reconcile a duplicate: {found}",
                    self.now + backoff(1, self.rng), self.now, maybe_posted=True,
                    actor=self.actor,
                )
            self.network_error(plan, found, index)
            return None
        if found.mine is not None:
            with self.store.transaction() as session:
                ledger.mark_posted(
                    session, entry_id, found.mine.remote_id, found.mine.url, self.now,
                    reconciled=True, actor=self.actor,
                )
            self.out(plan, "reconciled", "found the post an earlier attempt made",
                     url=found.mine.url, part=index)
            return found.mine.remote_id
        others = found.others or self.same_words(channel, plan.channel, entry_id, message, since)
        if others:
            holder = min(others.values(), key=lambda h: (h.posted_at is None, h.piece_id))
            when = holder.posted_at.isoformat(timespec="minutes") if holder.posted_at else "?"
            reason = (
                f"same text as {holder.piece_id} (part {holder.part_index + 1}) posted at "
                f"{when}; {plan.channel} refuses the same words twice: make the text differ "
                "(a recurring notice names its date)"
            )
        else:
            reason = f"the network calls it a duplicate: {exc}"
        with self.store.transaction() as session:
            ledger.mark_failed(session, entry_id, f"duplicate: {reason}", self.now,
                               actor=self.actor)
        self.out(plan, "failed", reason, part=index)
        return None

    def network_error(self, plan: Plan, exc: ChannelError, index: int | None = None) -> None:
        if isinstance(exc, RateLimited):
            reason = f"rate limited until {exc.until.isoformat(timespec='seconds')}"
            self.pause(plan.channel, reason)
            self.out(plan, "paused", reason, part=index)
        elif isinstance(exc, AuthExpired):
            self.pause(plan.channel, str(exc))
            self.report.broken.add(plan.channel)
            self.out(plan, "auth", str(exc), part=index)
        else:
            self.out(plan, "retry", str(exc), part=index)


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

    The one place that decides what each channel error means for an entry, for posts and
    for replies alike: ``RateLimited`` waits for the reset and pauses the channel,
    ``AuthExpired`` waits for new credentials, ``Rejected`` fails the entry, and anything
    else retries with backoff, unless it surely did not go out and the attempts are used up.
    ``DuplicateContent`` is the caller's to reconcile before it gets here.
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
        session,
        entry_id,
        str(exc),
        now + backoff(attempts, rng),
        now,
        maybe_posted=delivered,
        actor=actor,
    )
    return None


def _ago(delta: timedelta) -> str:
    hours, rest = divmod(int(delta.total_seconds()), 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min"


def resume_healthy(
    store: Store, channels: Mapping[str, Channel], now: datetime, actor: str = audit.SYSTEM
) -> list[str]:
    """Resume channels paused for their credentials once the credentials work again.

    Renewing a token is what the pause message asks for; the next run notices it,
    rather than waiting for someone to remember a second command.
    """
    resumed = []
    with store.transaction() as session:
        broken = [s.channel for s in channel_state.paused(session, now) if s.auth_problem]
    for name in broken:
        channel = channels.get(name)
        if channel is not None and channel.health().ok:
            with store.transaction() as session:
                channel_state.resume(session, name, actor, now)
            resumed.append(name)
    return resumed


def syndicate(
    site: Site,
    store: Store,
    channels: Mapping[str, Channel],
    now: datetime,
    *,
    is_live: IsLive,
    max_lateness: timedelta = timedelta(hours=6),
    dry_run: bool = False,
    worker: str = WORKER,
    actor: str = audit.SYSTEM,
    rng: random.Random | None = None,
) -> Report:
    """Post everything due at ``now``; the report says what happened to each piece.

    A dry run reads the ledger but writes nothing, and calls each channel in its own
    dry-run mode, so the same code builds the same messages without posting them.
    """
    report = Report(now=now, dry_run=dry_run)
    plans, waiting = plan(site, now, is_live)
    report.outcomes += waiting
    if not dry_run:
        resume_healthy(store, channels, now, actor)
    with store.transaction() as session:
        for state in channel_state.paused(session, now):
            if state.auth_problem:
                report.broken.add(state.channel)
            until = state.paused_until.isoformat(timespec="seconds") if state.paused_until else "?"
            report.paused[state.channel] = (
                state.auth_problem or f"{state.paused_reason or 'paused'} (until {until})"
            )
    plans = _without_credentials(store, channels, plans, report)
    if dry_run:
        _dry_run(store, channels, plans, report, now, max_lateness)
        return report
    run = _Run(store, channels, now, report, worker, max_lateness, actor, rng)
    for item in plans:
        run.run(item)
    return report


# ledger states in which a part may still be sent (a late one waits for a person)
_TO_SEND = (Status.INTENT, Status.FAILED)


def _without_credentials(
    store: Store, channels: Mapping[str, Channel], plans: list[Plan], report: Report
) -> list[Plan]:
    """The plans whose channel has credentials; the others are reported ``paused`` and
    their channel in ``report.no_credentials``, once a piece is there to send.

    A piece sent before the credentials went missing is nobody's concern; one that
    still has to go out cannot, and a run that says nothing of it would look like success.
    """
    missing = [p for p in plans if p.channel not in channels]
    if not missing:
        return plans
    with store.transaction() as session:
        first = {
            (e.piece_id, e.channel): Status(e.status)
            for e in ledger.all_entries(session)
            if e.part_index == 0
        }
    for item in missing:
        status = first.get((item.snippet.id, item.channel))
        if status is None or status in _TO_SEND:
            report.no_credentials.add(item.channel)
            reason = f"no credentials for {item.channel}"
            report.outcomes.append(Outcome(item.snippet.id, item.channel, "paused", reason))
    return [p for p in plans if p.channel in channels]


def too_late(publish_at: datetime | None, now: datetime, max_lateness: timedelta) -> bool:
    """Whether a piece never sent is held as late rather than sent (MAX_LATENESS)."""
    return publish_at is not None and now - publish_at > max_lateness


def _dry_run(
    store: Store,
    channels: Mapping[str, Channel],
    plans: Iterable[Plan],
    report: Report,
    now: datetime,
    max_lateness: timedelta,
) -> None:
    """What the real run would do with each plan, by the same rules: a piece never sent
    and due longer ago than MAX_LATENESS "would hold (late)", one held or sent before
    says so, the rest would post (built by the channel's dry-run mode)."""
    for item in plans:
        with store.transaction() as session:
            entries = {
                e.part_index: e for e in ledger.entries_for(session, item.snippet.id, item.channel)
            }
        first = entries.get(0)
        if first is not None and first.status == Status.POSTED:
            report.outcomes.append(
                Outcome(item.snippet.id, item.channel, "already-posted", url=first.remote_url)
            )
            continue
        if first is not None and first.status != Status.INTENT:
            report.outcomes.append(Outcome(item.snippet.id, item.channel, str(first.status)))
            continue
        unsent = first is None or (first.sending_since is None and first.released_at is None)
        if unsent and too_late(item.snippet.publish_at, now, max_lateness):
            late_by = now - item.snippet.publish_at  # type: ignore[operator]
            report.outcomes.append(
                Outcome(
                    item.snippet.id,
                    item.channel,
                    "would-hold-late",
                    f"would hold (late): due {_ago(late_by)} ago, later than MAX_LATENESS",
                )
            )
            continue
        channel = channels.get(item.channel)
        if channel is None or not channel.dry_run:
            report.outcomes.append(
                Outcome(
                    item.snippet.id,
                    item.channel,
                    "paused",
                    f"no dry-run channel for {item.channel}",
                )
            )
            continue
        reply_to = None
        for index in range(len(item.parts)):
            posted = channel.post(item.message(index, reply_to))
            reply_to = posted.remote_id
        report.outcomes.append(
            Outcome(
                item.snippet.id,
                item.channel,
                "would-post",
                f"{len(item.parts)} part(s): {item.parts[0][:60]}",
            )
        )


def retract(
    store: Store,
    channels: Mapping[str, Channel],
    piece_ids: Iterable[str],
    now: datetime,
    *,
    actor: str,
    reason: str | None = None,
) -> list[Outcome]:
    """Delete the pieces' posts on every network and record that they are retracted.

    Retracting twice changes nothing: deleted posts are ``retracted`` in the ledger and
    the retraction itself is recorded once (the site drops retracted pieces at the
    next build, from the data file :mod:`publish.sitedata` writes).
    """
    outcomes: list[Outcome] = []
    for piece_id in piece_ids:
        with store.transaction() as session:
            entries = [
                (e.id, e.channel, e.part_index, e.remote_id)
                for e in ledger.entries_for(session, piece_id)
                if e.status == Status.POSTED
            ]
            known = audit.events_for(session, "piece", piece_id)
            already = any(event.action == "piece.retracted" for event in known)
        # replies first, so a thread is never left as a dangling answer
        for entry_id, name, index, remote_id in sorted(entries, key=lambda e: -e[2]):
            channel = channels.get(name)
            if channel is None:
                outcomes.append(Outcome(piece_id, name, "failed", f"no credentials for {name}"))
                continue
            try:
                channel.delete(str(remote_id))
            except ChannelError as exc:
                outcomes.append(Outcome(piece_id, name, "failed", str(exc), part=index))
                continue
            with store.transaction() as session:
                ledger.mark_retracted(session, entry_id, actor, now)
            outcomes.append(
                Outcome(piece_id, name, "retracted", f"deleted {remote_id}", part=index)
            )
        if not already:
            with store.transaction() as session:
                audit.record(
                    session, actor, "piece.retracted", "piece", piece_id, {"reason": reason}, now
                )
            outcomes.append(Outcome(piece_id, "site", "retracted", reason or ""))
        elif not entries:
            outcomes.append(Outcome(piece_id, "site", "unchanged", "retracted already"))
    return outcomes

"""Posting due, approved snippets to their networks: each part on each channel once.

*Due* means: the snippet reads without errors, is not a draft, carries enough valid
client approvals for exactly its current content, its ``publish_at`` has come, and the
post it links to is live on the deployed site (a link to a missing page is worse than a
late post). For every (snippet, channel, part) the ledger in :mod:`publish.store.ledger`
holds one row, and the protocol is always: record the intent, take the lease, commit
*before* calling the network, record the outcome. A row whose outcome is unknown (crash,
timeout) is *in doubt* and is looked up on the network before anything is sent again,
so a post can be late but never doubled.

The protocol for each part (claim, reconcile, send, record) and what each network error
means are :mod:`publish.posting.delivery`'s, shared with moderators' replies; this module plans
what is due, holds parts that are too late, chains thread parts, and reports.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from editorial.approvals import ApprovalState, approval_states, content_hash
from editorial.links import snippet_link
from editorial.pieces import Post, Site, Snippet
from publish.ops.workers import worker_id
from publish.posting import delivery
from publish.posting.channels import (
    Channel,
    ChannelError,
    MediaFile,
    Message,
    RemotePost,
    TransientError,
)
from publish.posting.channels.base import comparable_text
from publish.store import Store, audit, channel_state, ledger
from publish.store.models import Status

logger = logging.getLogger(__name__)

WORKER = worker_id()
# The protocol's rules live in publish.posting.delivery; these names stay importable from here.
MAX_ATTEMPTS = delivery.MAX_ATTEMPTS
backoff = delivery.backoff
record_failure = delivery.record_failure

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


def carries(post: RemotePost, message: Message) -> bool:
    """Whether ``post`` is ``message`` on the network: the same text as networks return
    it (:func:`~publish.posting.channels.base.comparable_text`) and, where the network says,
    the same post it answers and the same link. Text alone is not an identity: two
    pieces may say the same words."""
    if comparable_text(post.text) != comparable_text(message.text_with_link()):
        return False
    if post.reply_to is not None and post.reply_to != message.reply_to:
        return False
    return not (message.link and post.links is not None and message.link not in post.links)


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
        result = delivery.deliver(
            self.store,
            delivery.Entry(entry_id, holder, sent_since, next_at),
            channel,
            send=lambda: channel.post(message),
            find=lambda since: [p for p in self.candidates(channel, message, since)
                                if carries(p, message)],
            same_words=lambda since: delivery.with_words(
                channel.recent_posts(since), message.text_with_link()
            ),
            reply_to=reply_to,
            worker=self.worker,
            now=self.now,
            actor=self.actor,
            rng=self.rng,
        )
        return self.report_result(plan, index, result)

    @staticmethod
    def candidates(channel: Channel, message: Message, since: datetime) -> list[RemotePost]:
        """Where an earlier attempt's post would be: under the post a thread part
        answers, else among our recent posts."""
        if message.reply_to is not None:
            reply = channel.find_reply(message.reply_to, message.text_with_link())
            return [reply] if reply is not None else []
        return channel.recent_posts(since)

    def report_result(self, plan: Plan, index: int, result: delivery.Result) -> str | None:
        """Tell the report what :func:`delivery.deliver` did; the remote id when posted."""
        url = result.remote.url if result.remote else None
        if result.status in ("posted", "reconciled"):
            self.out(plan, result.status, result.message, url=url, part=index)
            return result.remote_id
        if result.status == "paused":
            self.pause(plan.channel, result.message)
        elif result.status == "auth":
            self.pause(plan.channel, result.message)
            self.report.broken.add(plan.channel)
        gave_up = result.status == "failed" and isinstance(result.error, TransientError)
        self.out(plan, result.status, result.message, part=None if gave_up else index)
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
    next build, from the data file :mod:`publish.site.sitedata` writes).
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

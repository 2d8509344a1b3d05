"""The store's tables as typed SQLAlchemy models; the migrations create them.

The metadata carries a naming convention so that every constraint and index has a
stable name on SQLite and PostgreSQL alike: later migrations (and SQLite's batch mode,
which rebuilds tables) can then address them by name.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from publish.store.timestamps import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets room to grow.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Details = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SiteScoped:
    """A row that belongs to one site: ``site`` is the site's key (``""`` for a one-site
    installation; issue 20, migration 0010).

    The :class:`~publish.store.db.Store` filters every ORM query of such rows to its own
    site and sets ``site`` on new ones at flush, so code that reads and writes them never
    names the site. There is no Python-side default on purpose: a Core insert that forgot
    the site must fail, not quietly file the row under the one-site key. The server
    default ``''`` is only for the rows that existed before 0010.
    """

    site: Mapped[str] = mapped_column(String(63), server_default="")


class Status(StrEnum):
    """Where a ledger entry stands; the transitions live in :mod:`publish.store.ledger`."""

    INTENT = "intent"
    POSTED = "posted"
    FAILED = "failed"
    LATE = "late"
    SKIPPED = "skipped"
    RETRACTED = "retracted"


_STATUSES = ", ".join(f"'{status.value}'" for status in Status)


class LedgerEntry(SiteScoped, Base):
    """One part of one piece on one channel: what was meant to go out and what did.

    ``sending_since`` is set while a network call may have created the post and is
    cleared only by a known outcome; while it is set the entry is *in doubt* and must be
    reconciled with the network before it may be sent again.
    """

    __tablename__ = "ledger"
    __table_args__ = (
        UniqueConstraint("site", "piece_id", "channel", "part_index"),
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        CheckConstraint("part_index >= 0", name="part_index"),
        Index(None, "site", "status", "next_attempt_at"),
        # one network post carries one part: never recorded for a second entry of the
        # site (NULLs, the parts not posted yet, are distinct on SQLite and PostgreSQL
        # alike); per site, see migration 0010
        Index(None, "site", "channel", "remote_id", unique=True),
        Index(None, "site", "updated_at"),  # the site data's change stamp (0009, 0010)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    piece_id: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(32))
    part_index: Mapped[int] = mapped_column(Integer, default=0)
    content_hash: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    remote_url: Mapped[str | None] = mapped_column(Text)
    reply_to_remote_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def in_doubt(self) -> bool:
        """A call may have reached the network and no outcome was recorded."""
        return self.status == Status.INTENT and self.sending_since is not None

    def __repr__(self) -> str:
        return (
            f"<LedgerEntry {self.id} {self.piece_id} {self.channel}#{self.part_index} "
            f"{self.status}>"
        )


class ChannelState(SiteScoped, Base):
    """Whether a channel may be used now: paused by a rate limit or by broken credentials."""

    __tablename__ = "channel_state"

    site: Mapped[str] = mapped_column(String(63), primary_key=True, server_default="")
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    auth_problem: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def paused(self, now: datetime) -> bool:
        """Paused until a human fixes the credentials, or until the rate limit resets."""
        if self.auth_problem is not None:
            return True
        return self.paused_until is not None and self.paused_until > now

    def __repr__(self) -> str:
        return f"<ChannelState {self.channel} until={self.paused_until} auth={self.auth_problem}>"


class AuditEvent(SiteScoped, Base):
    """Who changed what, when: one row per state change, written in the change's transaction."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index(None, "site", "subject_type", "subject_id"),
        Index(None, "site", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(Details, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.subject_type}:{self.subject_id}>"


class SchedulerRun(SiteScoped, Base):
    """One scheduler tick and what it did: the next tick learns from it what is live."""

    __tablename__ = "scheduler_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'ok', 'skipped', 'failed', 'stopped')", name="status"
        ),
        Index(None, "site", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[dict[str, Any]] = mapped_column(Details, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<SchedulerRun {self.id} {self.status} {self.started_at}>"


class CommentState(StrEnum):
    """Where a comment stands in moderation; the transitions live in :mod:`publish.moderation`.

    ``silent`` is a decision (no public answer, with a reason code), not neglect.
    """

    NEW = "new"
    APPROVED = "approved"
    REJECTED = "rejected"
    ESCALATED = "escalated"
    SILENT = "silent"
    RESOLVED = "resolved"


# ``reason`` of a comment whose text and author were erased
ERASED_REASONS = ("forgotten", "purged")

_COMMENT_STATES = ", ".join(f"'{state.value}'" for state in CommentState)


class Comment(SiteScoped, Base):
    """A reply (X), comment (Facebook) or mention by someone else, as moderation sees it.

    Only what a moderator needs and the site may show is kept: handle, display name,
    text, link. Never an e-mail address, not even hashed. ``author_handle`` and
    ``author_name`` are None after ``forget``, and the text is erased with them.
    """

    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("site", "channel", "remote_id"),
        CheckConstraint(f"state IN ({_COMMENT_STATES})", name="state"),
        CheckConstraint("kind IN ('reply', 'mention')", name="kind"),
        # each index answers one screen's query of one site; see migrations 0006, 0010
        # and issue 24
        Index(None, "site", "state", "due_at", "created_at", "id"),
        Index(None, "site", "state", "channel", "due_at", "created_at", "id"),
        Index(None, "site", "channel", "post_remote_id", "created_at", "id"),
        Index(None, "site", "kind", "created_at"),
        Index(None, "site", "text_hash", "created_at"),
        Index(None, "site", "channel", "author_handle"),
        Index(None, "site", "updated_at"),  # the site data's change stamp (0009, 0010)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    remote_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    post_remote_id: Mapped[str | None] = mapped_column(String(200))
    parent_remote_id: Mapped[str | None] = mapped_column(String(200))
    piece_id: Mapped[str | None] = mapped_column(String(500))
    post_slug: Mapped[str | None] = mapped_column(String(500))
    author_handle: Mapped[str | None] = mapped_column(String(200))
    author_name: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    # sha256 of the text as compared for repeats (publish.moderation.triage.repeat_key)
    text_hash: Mapped[str | None] = mapped_column(String(64))
    permalink: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=CommentState.NEW.value)
    reason: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(200))
    spam: Mapped[str | None] = mapped_column(Text)
    escalated_to: Mapped[str | None] = mapped_column(String(200))
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def hidden(self) -> bool:
        """Deleted or hidden on the network: the site stops showing it."""
        return self.gone_at is not None

    @property
    def erased(self) -> bool:
        """Personal data removed (``forget``, retention): a tombstone that keeps the remote
        id only, so that sync never brings the comment back."""
        return self.reason in ERASED_REASONS

    def __repr__(self) -> str:
        return f"<Comment {self.id} {self.channel}:{self.remote_id} {self.state}>"


class ReplyStatus(StrEnum):
    """A drafted answer: ``pending`` waits for a second person (sensitive categories),
    ``queued`` goes out through the ledger, ``sent`` is on the network."""

    PENDING = "pending"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


_REPLY_STATUSES = ", ".join(f"'{status.value}'" for status in ReplyStatus)


class CommentReply(SiteScoped, Base):
    """Our answer to a comment. Sending it uses the ledger (piece ``reply:<id>``), so the
    answer goes out exactly once by the same protocol as posts."""

    __tablename__ = "comment_replies"
    __table_args__ = (
        CheckConstraint(f"status IN ({_REPLY_STATUSES})", name="status"),
        Index(None, "comment_id"),
        Index(None, "site", "updated_at"),  # the site data's change stamp (0009, 0010)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    comment_id: Mapped[int] = mapped_column(BigId)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    written_by: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    remote_url: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<CommentReply {self.id} comment={self.comment_id} {self.status}>"


class SyncCursor(SiteScoped, Base):
    """How far comment sync has read one conversation (a post) or one search (mentions)."""

    __tablename__ = "sync_cursors"

    site: Mapped[str] = mapped_column(String(63), primary_key=True, server_default="")
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(300), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(300))
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Role(StrEnum):
    """What a person may do in the desk; the route × role rule is in :mod:`publish.web.access`."""

    ADMIN = "admin"
    MODERATOR = "moderator"
    EDITOR = "editor"
    APPROVER = "approver"


_ROLES = ", ".join(f"'{role.value}'" for role in Role)


class DeskUser(Base):
    """A person who logs in to the desk. Only an argon2 hash of the password is kept.

    ``failed_logins`` counts wrong passwords since the last success; reaching the limit
    sets ``locked_until`` and starts the count again. ``must_change_password`` is set for
    a password an admin handed out, so that only its owner knows the one in use.
    """

    __tablename__ = "desk_users"
    __table_args__ = (
        UniqueConstraint("email"),
        CheckConstraint(f"role IN ({_ROLES})", name="role"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DeskUser {self.id} {self.email} {self.role}>"


class DeskSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored,
    so a copy of the database lets nobody in, and logging out really ends the session."""

    __tablename__ = "desk_sessions"
    __table_args__ = (UniqueConstraint("token_hash"), Index(None, "user_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DeskSession {self.id} user={self.user_id} until={self.expires_at}>"


class LoginAttempt(Base):
    """One login try: the record behind throttling per address and for unknown accounts.

    ``email`` is what was typed (lower-cased, cut to 200 characters); never the password.
    """

    __tablename__ = "desk_login_attempts"
    __table_args__ = (Index(None, "email", "at"), Index(None, "address", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    email: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)


class ReviewRequest(SiteScoped, Base):
    """A branch's pieces sent to client approvers for review in the portal.

    ``head`` is the branch's commit when the review was requested; the pieces and the
    versions (content hashes) the approvers were asked about are in ``review_pieces``.
    """

    __tablename__ = "review_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    branch: Mapped[str] = mapped_column(String(250))
    base: Mapped[str] = mapped_column(String(250))
    head: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class ReviewPiece(SiteScoped, Base):
    """One piece of a review, in the version the link was sent for."""

    __tablename__ = "review_pieces"
    __table_args__ = (UniqueConstraint("review_id", "piece"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    review_id: Mapped[int] = mapped_column(BigId)
    piece: Mapped[str] = mapped_column(String(500))
    hash: Mapped[str] = mapped_column(String(80))
    title: Mapped[str | None] = mapped_column(String(500))


class ReviewLink(SiteScoped, Base):
    """A magic link: single-use, expiring, bound to one approver and one review.

    Only SHA-256 hashes are stored: of the link's token, and of the portal session the
    link opened when it was used (``used_at``), so a copy of the database opens nothing.
    """

    __tablename__ = "review_links"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        UniqueConstraint("session_hash"),
        Index(None, "review_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    review_id: Mapped[int] = mapped_column(BigId)
    approver: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_hash: Mapped[str | None] = mapped_column(String(64))
    session_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewDecision(SiteScoped, Base):
    """What an approver decided in the portal about one piece, and the commit it made."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        CheckConstraint("decision IN ('approved', 'changes_requested')", name="decision"),
        Index(None, "review_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    review_id: Mapped[int] = mapped_column(BigId)
    link_id: Mapped[int] = mapped_column(BigId)
    approver: Mapped[str] = mapped_column(String(200))
    piece: Mapped[str] = mapped_column(String(500))
    hash: Mapped[str] = mapped_column(String(80))
    decision: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    commit: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NotificationStatus(StrEnum):
    """Where a notification stands; the transitions live in :mod:`publish.notify.delivery`.

    ``sending`` is recorded before the message leaves; a row still ``sending`` after its
    lease is *in doubt* and becomes ``doubt`` (never sent again blindly).
    """

    PENDING = "pending"
    DIGEST = "digest"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DOUBT = "doubt"


_NOTIFICATION_STATUSES = ", ".join(f"'{status.value}'" for status in NotificationStatus)


class Notification(SiteScoped, Base):
    """One event for one recipient: ``event_key`` (kind, subject, threshold) × ``recipient``
    is unique, so an event is recorded, and sent, once per recipient however often the
    scheduler finds it and however many workers tick."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("site", "event_key", "recipient"),
        CheckConstraint(f"status IN ({_NOTIFICATION_STATUSES})", name="status"),
        Index(None, "site", "status", "not_before"),
        Index(None, "site", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_key: Mapped[str] = mapped_column(String(600))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(500))
    recipient: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    batch: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.event_key} → {self.recipient} {self.status}>"


# --- issue 20, part 4: desk roles per site (migration 0011) -------------------------------


class DeskSiteRole(Base):
    """An account's role on one site of an agency desk (``site`` is the agency file's key).

    Agency-wide like ``desk_users``: never filtered by a store's site scope. In agency
    mode a site's pages admit an account only with a row for that site, and with that
    row's role; ``DeskUser.role`` is then the account's role in the agency desk itself
    (admin: accounts and roles). A one-site desk never reads this table.
    """

    __tablename__ = "desk_site_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "site"),
        CheckConstraint(f"role IN ({_ROLES})", name="role"),
        Index(None, "site"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId)
    site: Mapped[str] = mapped_column(String(63))
    role: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DeskSiteRole user={self.user_id} {self.site} {self.role}>"


# --- issue 20, agency workers (migration 0012): agency-wide, not scoped to a site -------

_AGENCY_OUTCOMES = "'running', 'ok', 'skipped', 'incomplete', 'failed', 'timeout', 'lost', 'error'"


class AgencySiteState(Base):
    """A site of the agency file: when its next tick is due, and who holds it until when."""

    __tablename__ = "agency_sites"
    __table_args__ = (Index(None, "next_tick_at"),)

    key: Mapped[str] = mapped_column(String(63), primary_key=True)
    next_tick_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_tick: Mapped[int | None] = mapped_column(BigId)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_tick: Mapped[int | None] = mapped_column(BigId)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<AgencySiteState {self.key} next={self.next_tick_at} owner={self.lease_owner}>"


class AgencyTick(Base):
    """One tick of one site by one worker: its interval and outcome (``running`` meanwhile)."""

    __tablename__ = "agency_ticks"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({_AGENCY_OUTCOMES})", name="outcome"),
        Index(None, "site", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site: Mapped[str] = mapped_column(String(63))
    worker: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    exit_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any]] = mapped_column(Details, default=dict)

    def __repr__(self) -> str:
        return f"<AgencyTick {self.id} {self.site} {self.outcome} {self.started_at}>"

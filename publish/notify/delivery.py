"""Notifications recorded once and sent once: the ``notifications`` table and its protocol.

Every tick (:func:`notify`) records the events that are true now (:mod:`publish.notify.events`)
as one row per event and recipient. The row's key, ``event_key`` × ``recipient``, is unique
and inserted with ``ON CONFLICT DO NOTHING``, so finding the same escalation on every tick,
or in two workers at once, records it once.

Sending a row follows the ledger's pattern:

1. **claim**: ``UPDATE … SET status='sending', sending_since=now WHERE id=? AND
   status='pending'`` in its own transaction; only the worker whose update changed one row
   sends, so two workers never send one row twice;
2. **send** (SMTP or outbox, or an HTTP POST to a chat webhook);
3. **record**: ``status='sent'``; a refusal puts the row back to ``pending`` with a backoff
   until ``NOTIFY['max_attempts']``, then ``failed``.

A crash between 2 and 3 leaves the row ``sending``. After :data:`SENDING_LEASE` it is *in
doubt*: the message may or may not have gone out, and nothing can ask a chat server or an
SMTP relay whether it did. Such a row becomes ``doubt``, logged as a warning and shown by
the desk and the CLI; it is **not sent again** (at most once). For single mails
``NOTIFY['resend_doubtful_mail']`` may choose at least once instead: the mail is sent again
with the Message-ID recorded at the claim, which mail clients use to collapse the copy.

Quiet hours and the digest only decide ``not_before`` and the starting status
(``pending`` or ``digest``) when a row is recorded; see :mod:`publish.notify.timing`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, func, select, update

from editorial.guideline import Guideline
from editorial.i18n import N_
from publish.notify.events import Event, find_events
from publish.notify.mail import Mailer, MailError, Message, new_message_id
from publish.notify.timing import schedule
from publish.settings import NotifySettings
from publish.store import Store
from publish.store.inserts import insert_new
from publish.store.models import Notification, NotificationStatus

logger = logging.getLogger(__name__)

# How long a row may stay ``sending`` before it is in doubt: longer than any one send
# (the mail and webhook timeouts are 30 s by default) by a wide margin.
SENDING_LEASE = timedelta(minutes=10)
BACKOFF = timedelta(minutes=5)
MAIL = "mail:"
WEBHOOK = "webhook:"


class NotifyError(Exception):
    """A notification could not be sent; the message names the recipient and the reason,
    never a webhook URL (it is a credential) or the body."""


class Transport(Protocol):
    """Sends one message to one recipient (``mail:…`` or ``webhook:…``)."""

    def send(self, recipient: str, title: str, text: str, message_id: str) -> None: ...


@dataclass
class Transports:
    """The mailer and the webhook URLs (secrets, from :mod:`publish.ops.context`)."""

    mailer: Mailer | None = None
    webhooks: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30

    def __repr__(self) -> str:  # the URLs are credentials
        return f"Transports(mailer={self.mailer!r}, webhooks={sorted(self.webhooks)!r})"

    def message_id(self, recipient: str) -> str:
        """The id recorded at the claim: a Message-ID for mail, an idempotency key else."""
        if recipient.startswith(MAIL) and self.mailer is not None:
            return new_message_id(self.mailer.sender)
        return secrets.token_hex(16)

    def send(self, recipient: str, title: str, text: str, message_id: str) -> None:
        if recipient.startswith(MAIL):
            if self.mailer is None:
                raise NotifyError(f"no mailer for {recipient}")
            try:
                self.mailer.send(
                    Message(
                        to=recipient[len(MAIL) :], subject=title, text=text, message_id=message_id
                    )
                )
            except (MailError, ValueError) as exc:
                raise NotifyError(str(exc)) from exc
            return
        name = recipient[len(WEBHOOK) :]
        url = self.webhooks.get(name)
        if url is None:
            raise NotifyError(
                f"webhook {name!r} has no URL: set DP_NOTIFY_WEBHOOK_{name.upper()} "
                "or add it to the DP_NOTIFY_SECRETS file"
            )
        import requests  # only when a webhook is sent: most ticks send nothing

        try:
            # {"text": …} is what Slack, Mattermost, Rocket.Chat, Teams' incoming webhooks
            # and Matrix hookshot's generic webhooks all read
            response = requests.post(
                url,
                json={"text": f"{title}\n\n{text}"},
                headers={"Idempotency-Key": message_id},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise NotifyError(f"webhook {name!r}: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise NotifyError(f"webhook {name!r} answered HTTP {response.status_code}")


@dataclass
class NotifyReport:
    """What one pass did: rows recorded, messages sent, failures, rows found in doubt."""

    recorded: int = 0
    sent: int = 0
    failed: int = 0
    doubt: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.recorded} new, {self.sent} sent, {self.failed} failed, {self.doubt} in doubt"


def recipients(event: Event, config: NotifySettings) -> list[str]:
    """``mail:`` for ``mail_to`` and the event's own people, ``webhook:`` for each hook."""
    mails = dict.fromkeys((*config.mail_to, *event.mail))
    return [f"{MAIL}{a}" for a in mails] + [f"{WEBHOOK}{n}" for n in config.webhooks]


def record(store: Store, events: list[Event], config: NotifySettings, now: datetime) -> int:
    """Record each event for each recipient unless it is recorded already; how many were new."""
    added = 0
    with store.transaction() as session:
        for event in events:
            status, not_before = schedule(event, now, config)
            for recipient in recipients(event, config):
                added += insert_new(
                    session,
                    Notification.__table__,  # type: ignore[arg-type]
                    {
                        "event_key": event.key,
                        "kind": event.kind,
                        "subject": event.subject,
                        "recipient": recipient,
                        "title": event.title,
                        "text": event.text,
                        "urgent": event.urgent,
                        "status": status,
                        "created_at": now,
                        "not_before": not_before,
                        "attempts": 0,
                        "updated_at": now,
                    },
                    key=("event_key", "recipient"),
                )
    if added:
        logger.info("event=notify.recorded count=%s", added)
    return added


def _changed(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def settle_doubt(store: Store, config: NotifySettings, now: datetime) -> int:
    """Rows left ``sending`` past the lease: ``doubt`` (at most once), or for single mails
    with ``resend_doubtful_mail`` back to ``pending`` with the same Message-ID."""
    stale = (
        Notification.status == NotificationStatus.SENDING.value,
        Notification.sending_since <= now - SENDING_LEASE,
    )
    with store.transaction() as session:
        rows = list(session.scalars(select(Notification).where(*stale)))
        doubtful = 0
        for row in rows:
            retry = config.resend_doubtful_mail and row.recipient.startswith(MAIL) and not row.batch
            status = NotificationStatus.PENDING if retry else NotificationStatus.DOUBT
            changed = _changed(
                session.execute(
                    update(Notification)
                    .where(Notification.id == row.id, *stale)
                    .values(
                        status=status.value,
                        error="the sender stopped between sending and recording; "
                        + ("sent again with the same Message-ID" if retry else "not sent again"),
                        updated_at=now,
                    )
                )
            )
            if changed and not retry:
                doubtful += 1
                logger.warning(
                    "event=notify.doubt id=%s key=%s recipient=%s message_id=%s: it may or may "
                    "not have arrived; not sent again",
                    row.id,
                    row.event_key,
                    row.recipient,
                    row.message_id,
                )
            elif changed:
                logger.warning(
                    "event=notify.resend id=%s key=%s recipient=%s message_id=%s",
                    row.id,
                    row.event_key,
                    row.recipient,
                    row.message_id,
                )
    return doubtful


def _claim(
    store: Store, transports: Transports, row_id: int, recipient: str, worker: str, now: datetime
) -> str | None:
    """Take the pending row for this worker; its message id, or None if another has it."""
    with store.transaction() as session:
        existing = session.scalar(select(Notification.message_id).where(Notification.id == row_id))
        message_id = existing or transports.message_id(recipient)
        changed = _changed(
            session.execute(
                update(Notification)
                .where(
                    Notification.id == row_id,
                    Notification.status == NotificationStatus.PENDING.value,
                )
                .values(
                    status=NotificationStatus.SENDING.value,
                    claimed_by=worker,
                    sending_since=now,
                    message_id=message_id,
                    attempts=Notification.attempts + 1,
                    updated_at=now,
                )
            )
        )
    return message_id if changed == 1 else None


def _finish(
    store: Store,
    ids: list[int],
    worker: str,
    now: datetime,
    error: str | None,
    config: NotifySettings,
    back_to: NotificationStatus,
) -> None:
    """Record the outcome of a send for the rows this worker claimed."""
    with store.transaction() as session:
        for row in session.scalars(select(Notification).where(Notification.id.in_(ids))):
            if row.status != NotificationStatus.SENDING.value or row.claimed_by != worker:
                logger.error("event=notify.record_lost id=%s worker=%s", row.id, worker)
                continue
            row.sending_since = None
            row.updated_at = now
            if error is None:
                row.status = NotificationStatus.SENT.value
                row.sent_at = now
                row.error = None
            elif row.attempts >= config.max_attempts:
                row.status = NotificationStatus.FAILED.value
                row.error = error
            else:
                row.status = back_to.value
                row.error = error
                row.not_before = now + BACKOFF * row.attempts
                row.batch = None


def _send(
    transports: Transports, recipient: str, title: str, text: str, message_id: str
) -> str | None:
    try:
        transports.send(recipient, title, text, message_id)
    except NotifyError as exc:
        logger.warning("event=notify.failed recipient=%s error=%s", recipient, exc)
        return str(exc)
    logger.info("event=notify.sent recipient=%s title=%s", recipient, title)
    return None


def send_pending(
    store: Store, transports: Transports, config: NotifySettings, worker: str, now: datetime
) -> NotifyReport:
    """Send every pending row that is due, one claim each, then the digests."""
    report = NotifyReport()
    with store.read() as session:
        due = list(
            session.execute(
                select(
                    Notification.id, Notification.recipient, Notification.title, Notification.text
                )
                .where(
                    Notification.status == NotificationStatus.PENDING.value,
                    Notification.not_before <= now,
                )
                .order_by(Notification.urgent.desc(), Notification.id)
            )
        )
    for row_id, recipient, title, text in due:
        message_id = _claim(store, transports, row_id, recipient, worker, now)
        if message_id is None:
            continue  # another worker has it
        error = _send(transports, recipient, title, text, message_id)
        _finish(store, [row_id], worker, now, error, config, NotificationStatus.PENDING)
        _count(report, error)
    _send_digests(store, transports, config, worker, now, report)
    return report


def _count(report: NotifyReport, error: str | None) -> None:
    if error is None:
        report.sent += 1
    else:
        report.failed += 1
        report.errors.append(error)


def _send_digests(
    store: Store,
    transports: Transports,
    config: NotifySettings,
    worker: str,
    now: datetime,
    report: NotifyReport,
) -> None:
    """One message per recipient for their due ``digest`` rows, claimed as a batch."""
    waiting = (
        Notification.status == NotificationStatus.DIGEST.value,
        Notification.not_before <= now,
    )
    with store.read() as session:
        people = list(session.scalars(select(Notification.recipient).where(*waiting).distinct()))
    for recipient in sorted(people):
        batch = secrets.token_hex(16)
        message_id = transports.message_id(recipient)
        with store.transaction() as session:
            claimed = _changed(
                session.execute(
                    update(Notification)
                    .where(Notification.recipient == recipient, *waiting)
                    .values(
                        status=NotificationStatus.SENDING.value,
                        batch=batch,
                        claimed_by=worker,
                        sending_since=now,
                        message_id=message_id,
                        attempts=Notification.attempts + 1,
                        updated_at=now,
                    )
                )
            )
        if not claimed:
            continue
        with store.read() as session:
            rows = list(
                session.execute(
                    select(Notification.id, Notification.title, Notification.text)
                    .where(Notification.batch == batch)
                    .order_by(Notification.created_at, Notification.id)
                )
            )
        title = f"dialogpress: {len(rows)} notification(s) of the day"
        text = "\n".join(
            f"• {t}\n  {x.strip().replace(chr(10), chr(10) + '  ')}\n" for _, t, x in rows
        )
        error = _send(transports, recipient, title, text, message_id)
        _finish(store, [r[0] for r in rows], worker, now, error, config, NotificationStatus.DIGEST)
        _count(report, error)


def notify(
    store: Store,
    config: NotifySettings,
    guideline: Guideline | None,
    transports: Transports,
    now: datetime,
    worker: str,
) -> NotifyReport:
    """The scheduler's job at ``now``: settle rows in doubt, record new events, send."""
    doubt = settle_doubt(store, config, now)
    with store.read() as session:
        events = find_events(session, config, guideline, now)
    recorded = record(store, events, config, now)
    report = send_pending(store, transports, config, worker, now)
    report.recorded = recorded
    report.doubt = doubt
    return report


def listing(store: Store, limit: int = 200, status: str | None = None) -> list[Notification]:
    """The newest notifications first, for the desk and the CLI."""
    query = select(Notification).order_by(Notification.created_at.desc(), Notification.id.desc())
    if status is not None:
        query = query.where(Notification.status == status)
    with store.read() as session:
        found = list(session.scalars(query.limit(limit)))
        session.expunge_all()
    return found


def counts(store: Store) -> dict[str, int]:
    """Rows per status."""
    with store.read() as session:
        return {
            status: count
            for status, count in session.execute(
                select(Notification.status, func.count()).group_by(Notification.status)
            )
        }


# What each status means to a person, for the CLI and the desk.
# what each state means, in English; the desk and the CLI show it in the reader's language
MEANINGS = {
    "pending": N_("waiting to be sent (quiet hours or a retry may hold it)"),
    "digest": N_("waiting for the daily digest"),
    "sending": N_("being sent now"),
    "sent": N_("sent"),
    "failed": N_("not sent: the server refused every attempt"),
    "doubt": N_("may or may not have arrived: the sender stopped between sending and recording"),
}


def as_dict(row: Notification) -> dict[str, Any]:
    """A notification for JSON: times in UTC (ISO 8601), the recipient as recorded."""

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat(timespec="seconds") if moment else None

    return {
        "id": row.id,
        "kind": row.kind,
        "subject": row.subject,
        "event": row.event_key,
        "recipient": row.recipient,
        "title": row.title,
        "urgent": row.urgent,
        "status": row.status,
        "created_at": iso(row.created_at),
        "not_before": iso(row.not_before),
        "sent_at": iso(row.sent_at),
        "attempts": row.attempts,
        "message_id": row.message_id,
        "error": row.error,
    }

"""Store rows that set off each notification event, and the settings the tests notify with.

Also runnable as a worker process: ``python -m tests.publish.notify.seed crash URL PORT
HOOK NOW`` ticks notifications once and kills itself (SIGKILL) right after the first
message went out, before the outcome is recorded: the crash the protocol must survive.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from editorial.guideline import Contact, Guideline
from publish.notify.delivery import Transports, notify
from publish.notify.mail import SmtpMailer
from publish.settings import NotifySettings, notify_settings
from publish.store import Store
from publish.store.models import ChannelState, Comment, LedgerEntry, ReviewDecision, ReviewRequest

SENDER = "Dialogpress <desk@agentur-kranich.example>"
OPS = "redaktion@agentur-kranich.example"
CONTACT = Contact(id="netz", name="Netzleitstelle", email="netz@stadtwerke-elbtal.de")
ASSIGNEE = "moderator@agentur-kranich.example"
GUIDELINE = Guideline(contacts={"netz": CONTACT})
# a Monday in winter, 10:00 in Berlin
NOW = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


def config(**overrides: Any) -> NotifySettings:
    return notify_settings(
        {
            "TIMEZONE": "Europe/Berlin",
            "NOTIFY": {"enabled": True, "mail_to": [OPS], "webhooks": ["chat"], **overrides},
        }
    )


def transports(smtp_port: int, hook_url: str) -> Transports:
    mailer = SmtpMailer("127.0.0.1", smtp_port, SENDER, security="none", timeout=10)
    return Transports(mailer=mailer, webhooks={"chat": hook_url}, timeout=10)


def escalated_comment(store: Store, now: datetime = NOW) -> int:
    with store.transaction() as session:
        comment = Comment(
            channel="facebook",
            remote_id="c-strom-1",
            kind="reply",
            author_handle="anwohner42",
            text="Kein Strom in der Gartenstraße seit einer Stunde!",
            created_at=now - timedelta(minutes=20),
            received_at=now - timedelta(minutes=19),
            state="escalated",
            category="outage",
            escalated_to="netz",
            assigned_to=ASSIGNEE,
            updated_at=now,
        )
        session.add(comment)
        session.flush()
        return comment.id


def failed_post(store: Store, now: datetime = NOW, status: str = "failed") -> int:
    with store.transaction() as session:
        entry = LedgerEntry(
            piece_id=f"snippets/2026-12-14-wartung-{status}",
            channel="twitter",
            part_index=0,
            content_hash="h" * 64,
            text="Wartungsarbeiten",
            status=status,
            attempts=3,
            error="HTTP 503 from X",
            created_at=now - timedelta(hours=1),
            updated_at=now - timedelta(minutes=5),
        )
        session.add(entry)
        session.flush()
        return entry.id


def all_events(store: Store, now: datetime = NOW) -> None:
    """One row for each event kind (nine kinds)."""
    escalated_comment(store, now)
    failed_post(store, now)
    failed_post(store, now, status="late")
    with store.transaction() as session:
        for index, due in enumerate((now + timedelta(minutes=10), now - timedelta(minutes=10))):
            session.add(
                Comment(
                    channel="twitter",
                    remote_id=f"due-{index}",
                    kind="reply",
                    author_handle=f"leser{index}",
                    text="Wann kommt die Rechnung?",
                    created_at=now - timedelta(hours=2),
                    received_at=now - timedelta(hours=2),
                    state="new",
                    due_at=due,
                    updated_at=now,
                )
            )
        session.add(
            ChannelState(
                channel="twitter",
                paused_until=now + timedelta(minutes=15),
                paused_reason="rate limit",
                updated_at=now,
            )
        )
        session.add(
            ChannelState(
                channel="facebook",
                token_expires_at=now + timedelta(days=3),
                updated_at=now,
            )
        )
        session.add(
            ChannelState(
                channel="mastodon-old",
                token_expires_at=now - timedelta(days=1119),
                updated_at=now,
            )
        )
        review = ReviewRequest(
            branch="review/dezember",
            base="main",
            head="a" * 40,
            requested_by="editor@agentur-kranich.example",
            requested_at=now - timedelta(days=1),
        )
        session.add(review)
        session.flush()
        session.add(
            ReviewDecision(
                review_id=review.id,
                link_id=1,
                approver="anna.mueller@stadtwerke-elbtal.de",
                piece="posts/2026-12-15-tarif",
                hash="b" * 40,
                decision="changes_requested",
                comment="Bitte den Preis prüfen.",
                decided_at=now - timedelta(minutes=30),
            )
        )


def _crash(url: str, smtp_port: int, hook_url: str, now: str, only: str) -> None:
    class Crashing(Transports):
        def send(self, recipient: str, title: str, text: str, message_id: str) -> None:
            super().send(recipient, title, text, message_id)
            if recipient.startswith(only):
                os.kill(os.getpid(), signal.SIGKILL)  # after sending, before recording

    base = transports(smtp_port, hook_url)
    crashing = Crashing(mailer=base.mailer, webhooks=base.webhooks, timeout=base.timeout)
    store = Store(url).upgrade()
    notify(store, config(), GUIDELINE, crashing, datetime.fromisoformat(now), "crasher:1")
    sys.exit(3)  # not reached: the worker dies after its first send to `only`


if __name__ == "__main__":
    if sys.argv[1] == "crash":
        _crash(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])

"""Notifications: every event once to a real SMTP server and a real webhook receiver, also
with two workers at once and a worker killed between sending and recording; quiet hours
hold, the digest groups; on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from editorial.settings import SettingsError
from publish.notify.delivery import SENDING_LEASE, listing, notify
from publish.notify.timing import next_digest, quiet_until
from publish.settings import NOTIFY_KINDS, notify_settings
from publish.store import Store
from publish.store.models import Notification
from tests.publish.notify import seed
from tests.publish.notify.conftest import Hook, MailServer
from tests.publish.notify.seed import CONTACT, GUIDELINE, NOW, OPS, config, transports

RECIPIENT_MAILS = 2  # OPS, and for escalations the contact and the assignee besides


def _statuses(store: Store) -> Counter[str]:
    return Counter(row.status for row in listing(store, limit=1000))


def test_every_event_is_sent_once_by_mail_and_webhook(
    store: Store, smtp_server: MailServer, webhook: Hook
) -> None:
    seed.all_events(store)
    sender = transports(smtp_server.port, webhook.url)
    first = notify(store, config(), GUIDELINE, sender, NOW, "w:1")
    kinds = {row.kind for row in listing(store)}
    assert kinds == set(NOTIFY_KINDS)
    # nine events: each to the webhook and the ops address; the escalation also to the
    # guideline's contact and the assignee, the decision also to whoever asked for review
    assert len(webhook.bodies) == 9
    assert len(smtp_server.to(OPS)) == 9
    assert len(smtp_server.to(CONTACT.email)) == 1
    assert len(smtp_server.to(seed.ASSIGNEE)) == 1
    assert len(smtp_server.to("editor@agentur-kranich.example")) == 1
    assert first.sent == 9 + 9 + 3 and first.failed == 0
    assert "Kein Strom" in smtp_server.to(CONTACT.email)[0].get_content()
    assert any("Token expired: mastodon-old" in text for text in webhook.texts())
    assert any("10:10 CET" in text for text in webhook.texts())  # the site's zone, with it
    # the same situation on the next ticks: nothing new is recorded or sent
    again = notify(store, config(), GUIDELINE, sender, NOW + timedelta(minutes=5), "w:1")
    assert (again.recorded, again.sent) == (0, 0)
    notify(store, config(), GUIDELINE, sender, NOW + timedelta(minutes=10), "w:1")
    # the comment that was "about to breach" has breached since: that one is new, once
    assert Counter(t.split(":")[0] for t in webhook.texts())["Response target missed"] == 2
    assert len(webhook.bodies) == 10
    assert _statuses(store) == Counter({"sent": 10 + 10 + 3})


def test_escalation_goes_to_a_new_contact_when_handed_on(
    store: Store, smtp_server: MailServer, webhook: Hook
) -> None:
    comment_id = seed.escalated_comment(store)
    sender = transports(smtp_server.port, webhook.url)
    notify(store, config(), GUIDELINE, sender, NOW, "w:1")
    with store.transaction() as session:
        comment = session.get(seed.Comment, comment_id)
        assert comment is not None
        comment.escalated_to = "presse@stadtwerke-elbtal.de"
    notify(store, config(), GUIDELINE, sender, NOW + timedelta(minutes=5), "w:1")
    assert len(smtp_server.to("presse@stadtwerke-elbtal.de")) == 1
    assert len(smtp_server.to(CONTACT.email)) == 1
    assert len(webhook.bodies) == 2


@pytest.mark.parametrize("rounds", [3])
def test_two_workers_ticking_at_once_send_each_event_once(
    database_url: str, smtp_server: MailServer, webhook: Hook, rounds: int
) -> None:
    Store(database_url).upgrade().dispose()
    setup = Store(database_url)
    seed.all_events(setup)
    setup.dispose()
    errors: list[BaseException] = []
    for index in range(rounds):
        barrier = threading.Barrier(2)
        now = NOW + timedelta(minutes=5 * index)

        def work(name: str, now: datetime = now, barrier: threading.Barrier = barrier) -> None:
            own = Store(database_url)  # a session and engine of its own, like a process
            try:
                barrier.wait(timeout=30)
                notify(
                    own, config(), GUIDELINE, transports(smtp_server.port, webhook.url), now, name
                )
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                own.dispose()

        threads = [threading.Thread(target=work, args=(f"w:{n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    texts = Counter(webhook.texts())
    assert texts and max(texts.values()) == 1, texts
    assert len(webhook.bodies) == 10
    ids = Counter(str(m["Message-ID"]) for m in smtp_server.messages())
    assert max(ids.values()) == 1
    assert len(smtp_server.to(OPS)) == 10


def _crash_worker(database_url: str, smtp: MailServer, hook: Hook, now: datetime, only: str) -> int:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.publish.notify.seed",
            "crash",
            database_url,
            str(smtp.port),
            hook.url,
            now.isoformat(),
            only,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode


@pytest.mark.parametrize("only", ["webhook:", "mail:"])
def test_a_worker_killed_between_sending_and_recording_does_not_send_twice(
    database_url: str,
    store: Store,
    smtp_server: MailServer,
    webhook: Hook,
    only: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed.failed_post(store)
    code = _crash_worker(database_url, smtp_server, webhook, NOW, only)
    assert code == -9  # SIGKILL, after the send
    before = len(webhook.bodies) + len(smtp_server.envelopes)
    assert before >= 1
    in_flight = [row for row in listing(store) if row.status == "sending"]
    assert len(in_flight) == 1 and in_flight[0].recipient.startswith(only)
    sender = transports(smtp_server.port, webhook.url)
    # while the lease runs, another worker leaves the row alone (it may still be sending)
    notify(store, config(), GUIDELINE, sender, NOW + timedelta(minutes=1), "w:2")
    row = next(r for r in listing(store) if r.id == in_flight[0].id)
    assert row.status == "sending"
    # after it, the row is in doubt: logged, shown, and not sent again
    later = NOW + SENDING_LEASE + timedelta(minutes=1)
    report = notify(store, config(), GUIDELINE, sender, later, "w:2")
    assert report.doubt == 1
    row = next(r for r in listing(store) if r.id == in_flight[0].id)
    assert row.status == "doubt" and row.message_id
    assert "not sent again" in caplog.text
    # every recipient got the event exactly once
    assert len(webhook.bodies) == 1
    assert len(smtp_server.to(OPS)) == 1
    notify(store, config(), GUIDELINE, sender, later + timedelta(hours=1), "w:2")
    assert len(webhook.bodies) == 1 and len(smtp_server.to(OPS)) == 1


def test_a_doubtful_mail_may_be_resent_with_the_same_message_id(
    database_url: str, store: Store, smtp_server: MailServer, webhook: Hook
) -> None:
    seed.failed_post(store)
    assert _crash_worker(database_url, smtp_server, webhook, NOW, "mail:") == -9
    first = smtp_server.to(OPS)
    assert len(first) == 1
    later = NOW + SENDING_LEASE + timedelta(minutes=1)
    chosen = config(resend_doubtful_mail=True)
    notify(store, chosen, GUIDELINE, transports(smtp_server.port, webhook.url), later, "w:2")
    copies = smtp_server.to(OPS)
    assert len(copies) == 2  # at least once, and the client can tell it is one mail
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"]
    assert len(webhook.bodies) == 1  # webhooks are never sent again on doubt


def test_quiet_hours_hold_until_morning_but_not_escalations(
    store: Store, smtp_server: MailServer, webhook: Hook
) -> None:
    night = datetime(2026, 12, 14, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    seed.failed_post(store, night)
    seed.escalated_comment(store, night)
    quiet = config(quiet_hours="22:00-07:00")
    sender = transports(smtp_server.port, webhook.url)
    notify(store, quiet, GUIDELINE, sender, night, "w:1")
    assert [t.split(":")[0] for t in webhook.texts()] == ["Escalated (outage)"]
    held = [row for row in listing(store) if row.kind == "post_failed"]
    assert {row.status for row in held} == {"pending"}
    assert {row.not_before for row in held} == {datetime(2026, 12, 15, 6, 0, tzinfo=UTC)}
    notify(store, quiet, GUIDELINE, sender, datetime(2026, 12, 15, 5, 59, tzinfo=UTC), "w:1")
    assert len(webhook.bodies) == 1
    notify(store, quiet, GUIDELINE, sender, datetime(2026, 12, 15, 6, 0, tzinfo=UTC), "w:1")
    assert len(webhook.bodies) == 2 and webhook.texts()[1].startswith("Post failed")


@pytest.mark.parametrize(
    ("now", "until"),
    [
        # the spring-forward night: 07:00 CEST is 05:00 UTC
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),
        # the fall-back night: 07:00 CET is 06:00 UTC
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 6, 0, tzinfo=UTC)),
        # 06:59 in summer, one minute left
        (datetime(2026, 7, 1, 4, 59, tzinfo=UTC), datetime(2026, 7, 1, 5, 0, tzinfo=UTC)),
        (datetime(2026, 7, 1, 5, 0, tzinfo=UTC), None),
        (datetime(2026, 7, 1, 19, 59, tzinfo=UTC), None),  # 21:59
        (datetime(2026, 7, 1, 20, 0, tzinfo=UTC), datetime(2026, 7, 2, 5, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_follow_the_sites_clock_across_dst(
    now: datetime, until: datetime | None
) -> None:
    assert quiet_until(now, config(quiet_hours="22:00-07:00")) == until


def test_quiet_hours_within_one_day_and_the_digest_time_in_summer() -> None:
    lunch = config(quiet_hours="12:00-13:00", digest="08:00")
    assert quiet_until(datetime(2026, 7, 1, 10, 30, tzinfo=UTC), lunch) == datetime(
        2026, 7, 1, 11, 0, tzinfo=UTC
    )
    assert quiet_until(datetime(2026, 7, 1, 11, 0, tzinfo=UTC), lunch) is None
    assert next_digest(datetime(2026, 7, 1, 5, 0, tzinfo=UTC), lunch) == datetime(
        2026, 7, 1, 6, 0, tzinfo=UTC
    )
    assert next_digest(datetime(2026, 7, 1, 6, 1, tzinfo=UTC), lunch) == datetime(
        2026, 7, 2, 6, 0, tzinfo=UTC
    )


def test_the_digest_groups_non_urgent_events_into_one_message_per_recipient(
    store: Store, smtp_server: MailServer, webhook: Hook
) -> None:
    seed.all_events(store)
    daily = config(digest="08:00")
    sender = transports(smtp_server.port, webhook.url)
    notify(store, daily, GUIDELINE, sender, NOW, "w:1")  # 10:00 Berlin
    # urgent ones at once: the escalation and the two response targets
    assert len(webhook.bodies) == 3
    assert all(row.status == "digest" for row in listing(store) if not row.urgent)
    notify(store, daily, GUIDELINE, sender, datetime(2026, 12, 15, 6, 59, tzinfo=UTC), "w:1")
    # only the comment that was about to breach and has breached since, urgent again
    assert len(webhook.bodies) == 4 and webhook.texts()[3].startswith("Response target missed")
    morning = datetime(2026, 12, 15, 7, 0, tzinfo=UTC)  # 08:00 Berlin
    notify(store, daily, GUIDELINE, sender, morning, "w:1")
    assert len(webhook.bodies) == 5
    digest = webhook.texts()[4]
    assert digest.startswith("dialogpress: 6 notification(s) of the day")
    for title in (
        "Post failed",
        "Post held as late",
        "Channel paused",
        "Token expired",
        "Token expires in 3 day(s)",
        "Review 1:",
    ):
        assert title in digest
    ops = smtp_server.to(OPS)
    assert len(ops) == 5 and "6 notification(s)" in str(ops[4]["Subject"])
    # the requester gets a digest of their one decision
    assert len(smtp_server.to("editor@agentur-kranich.example")) == 1
    notify(store, daily, GUIDELINE, sender, morning + timedelta(hours=1), "w:1")
    assert len(webhook.bodies) == 5
    assert set(_statuses(store)) == {"sent"}


def test_a_refusing_webhook_is_retried_then_failed_without_showing_its_url(
    store: Store, smtp_server: MailServer, webhook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    seed.failed_post(store)
    webhook.answer = 500
    sender = transports(smtp_server.port, webhook.url)
    chosen = config(max_attempts=2)
    notify(store, chosen, GUIDELINE, sender, NOW, "w:1")
    row = next(r for r in listing(store) if r.recipient == "webhook:chat")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.error == "webhook 'chat' answered HTTP 500"
    notify(store, chosen, GUIDELINE, sender, NOW + timedelta(minutes=1), "w:1")  # backoff
    assert next(r for r in listing(store) if r.id == row.id).attempts == 1
    notify(store, chosen, GUIDELINE, sender, NOW + timedelta(minutes=6), "w:1")
    assert next(r for r in listing(store) if r.id == row.id).status == "failed"
    assert "abc123secret" not in caplog.text
    assert len(smtp_server.to(OPS)) == 1


def test_an_event_kind_left_out_is_not_recorded(
    store: Store, smtp_server: MailServer, webhook: Hook
) -> None:
    seed.all_events(store)
    chosen = config(events=["escalation"])
    notify(store, chosen, GUIDELINE, transports(smtp_server.port, webhook.url), NOW, "w:1")
    with store.read() as session:
        assert set(session.scalars(select(Notification.kind))) == {"escalation"}


@pytest.mark.parametrize(
    ("notify_setting", "message"),
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"mail_to": ["nobody"]}, "mail_to'] must be a list of e-mail addresses"),
        ({"webhooks": ["https://hooks.slack.com/x"]}, "the URLs are secrets"),
        ({"events": ["escalation", "birthday"]}, "unknown event kind 'birthday'"),
        ({"quiet_hours": "22-7"}, "must be a time of day such as '07:00'"),
        ({"quiet_hours": "07:00-07:00"}, "must not start and end at the same time"),
        ({"digest": "8 Uhr"}, "NOTIFY['digest'] must be a time of day"),
        ({"token_days": 0}, "NOTIFY['token_days'] must be a whole number"),
        ({"breach_warning": "soon"}, "is not a duration"),
        ({"enabled": "yes"}, "NOTIFY['enabled'] must be True or False"),
    ],
)
def test_bad_notify_settings_are_named(notify_setting: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=r"pelicanconf\.py: NOTIFY") as caught:
        notify_settings({"DP_SETTINGS_FILE": "pelicanconf.py", "NOTIFY": notify_setting})
    assert message in str(caught.value)

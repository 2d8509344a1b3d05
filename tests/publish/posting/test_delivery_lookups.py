"""After a lost answer the part is looked up on the network before anything is resent,
by what identifies it there: its text as the network returns it (escaped, with mentions
before a reply), the post it answers, its link, its time; never another entry's post.

Runs the syndication protocol for hand-made plans against the sandbox over real HTTP
and a real SQLite store; the example site's end-to-end runs are in test_syndication.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from publish.moderation import send_replies
from publish.posting import delivery
from publish.posting.channels import (
    Channel,
    FacebookChannel,
    FacebookCredentials,
    Message,
    TransientError,
    TwitterChannel,
    TwitterCredentials,
)
from publish.posting.syndication import Plan, Report, _Run
from publish.sandbox import Sandbox
from publish.store import Store, ledger
from publish.store.models import Comment, CommentReply, Status

KEY = "lookup-test-consumer"
FB_PAGE = "100000000000042"
FB_TOKEN = "EAAlookupTestPageToken"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(consumer_key=KEY, page_id=FB_PAGE, page_token=FB_TOKEN) as box:
        yield box


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'store.db'}").upgrade()
    yield opened
    opened.dispose()


def x_channel(sandbox: Sandbox, timeout: float = 5) -> TwitterChannel:
    credentials = TwitterCredentials(KEY, "lookup-consumer", "1-token", "lookup-token")
    return TwitterChannel(credentials, api_base=sandbox.twitter_url, timeout=timeout)


def make_plan(piece: str, parts: list[str], link: str | None = None) -> Plan:
    snippet = SimpleNamespace(id=piece, publish_at=datetime.now(UTC))
    return Plan(
        snippet=cast(Any, snippet), channel="twitter", parts=parts, link=link, media=[],
        content_hash=f"hash-{piece}",
    )


def syndicate(
    store: Store, channel: Channel, plans: list[Plan], now: datetime, channel_name: str = "twitter"
) -> Report:
    report = Report(now=now, dry_run=False)
    run = _Run(store, {channel_name: channel}, now, report, "test:1", timedelta(days=1), "test",
               random.Random(1))  # noqa: S311 - backoff jitter, not a secret
    for plan in plans:
        run.run(plan)
    return report


def entries(store: Store, piece: str) -> list[Any]:
    with store.transaction() as session:
        rows = ledger.entries_for(session, piece)
        session.expunge_all()
    return rows


def tweets(sandbox: Sandbox) -> list[dict[str, Any]]:
    return list(sandbox.twitter.state()["tweets"])


def test_a_post_with_an_ampersand_whose_answer_was_lost_is_found_not_resent(
    sandbox: Sandbox, store: Store
) -> None:
    plan = make_plan("social/strom", ["Strom & Gas <günstig> ab Januar"])
    sandbox.twitter.fail(method="POST", path="/2/tweets", delay_after_accept=1.5)
    now = datetime.now(UTC)

    first = syndicate(store, x_channel(sandbox, timeout=0.4), [plan], now)
    assert [o.status for o in first.outcomes] == ["retry"]
    second = syndicate(store, x_channel(sandbox), [plan], now + timedelta(hours=1))

    assert [o.status for o in second.outcomes] == ["reconciled"]
    [tweet] = tweets(sandbox)
    [entry] = entries(store, "social/strom")
    assert entry.status == Status.POSTED and entry.remote_id == tweet["id"]


def test_created_but_answered_503_is_looked_up_and_not_posted_again(
    sandbox: Sandbox, store: Store
) -> None:
    plan = make_plan("social/503", ["Heute geschlossen"])
    sandbox.twitter.fail(method="POST", path="/2/tweets", error_after_accept=503)
    now = datetime.now(UTC)

    first = syndicate(store, x_channel(sandbox), [plan], now)
    [entry] = entries(store, "social/503")
    assert entry.in_doubt, "a 5xx on a create is in doubt"
    second = syndicate(store, x_channel(sandbox), [plan], now + timedelta(hours=1))

    assert [o.status for o in first.outcomes] == ["retry"]
    assert [o.status for o in second.outcomes] == ["reconciled"]
    assert len(tweets(sandbox)) == 1


def test_threads_sharing_a_closing_part_refuse_the_second_by_name_not_as_posted(
    sandbox: Sandbox, store: Store
) -> None:
    one = make_plan("social/one", ["Erster Hinweis", "Fragen? Rufen Sie uns an."])
    two = make_plan("social/two", ["Zweiter Hinweis", "Fragen? Rufen Sie uns an."])
    now = datetime.now(UTC)

    report = syndicate(store, x_channel(sandbox), [one, two], now)

    closing_one = entries(store, "social/one")[1]
    closing_two = entries(store, "social/two")[1]
    assert closing_one.status == Status.POSTED
    assert closing_two.status == Status.FAILED
    assert closing_two.remote_id is None  # never the other thread's post
    failed = [o for o in report.outcomes if o.status == "failed"]
    assert len(failed) == 1
    assert "same text as social/one (part 2) posted at" in failed[0].message


def test_a_recurring_notice_with_other_links_goes_out_twice(
    sandbox: Sandbox, store: Store
) -> None:
    first = make_plan("social/notice-a", ["Wartung heute Nacht"], link="https://elbtal.example/a")
    second = make_plan("social/notice-b", ["Wartung heute Nacht"], link="https://elbtal.example/b")
    now = datetime.now(UTC)

    syndicate(store, x_channel(sandbox), [first, second], now)

    ids = {entries(store, p)[0].remote_id for p in ("social/notice-a", "social/notice-b")}
    assert len(ids) == 2 and None not in ids
    assert len(tweets(sandbox)) == 2


def test_a_lost_answer_is_never_reconciled_to_another_pieces_post(
    sandbox: Sandbox, store: Store
) -> None:
    """The same words in the window, but carried by another entry: not ours."""
    other = make_plan("social/other", ["Notdienst erreichbar"])
    ours = make_plan("social/ours", ["Notdienst erreichbar"])
    now = datetime.now(UTC)
    syndicate(store, x_channel(sandbox), [other], now)
    with store.transaction() as session:
        entry = ledger.record_intent(session, "social/ours", "twitter", 0, "h", "x", now)
        ledger.claim(session, entry.id, "dead:1", now)
        ledger.begin_send(session, entry.id, "dead:1", now)  # then died: no request landed

    report = syndicate(store, x_channel(sandbox), [ours], now + timedelta(minutes=20))

    [mine] = entries(store, "social/ours")
    assert mine.remote_id != entries(store, "social/other")[0].remote_id
    assert mine.status == Status.FAILED  # sent, refused as the other piece's words
    assert "same text as social/other" in (mine.error or "")
    assert len(tweets(sandbox)) == 1
    assert [o.status for o in report.outcomes][-1] == "failed"


def test_a_reply_whose_answer_was_lost_is_found_despite_the_prepended_handle(
    sandbox: Sandbox, store: Store
) -> None:
    root = x_channel(sandbox).post(Message("Fragen zur Abrechnung?"))
    comment = sandbox.twitter.control(
        "inject-comment", in_reply_to=root.remote_id, author_handle="lena_k", text="Wann?"
    )
    now = datetime.now(UTC)
    with store.transaction() as session:
        row = Comment(
            channel="twitter", remote_id=comment["id"], kind="reply",
            post_remote_id=root.remote_id, parent_remote_id=root.remote_id,
            author_handle="lena_k", text="Wann?", created_at=now, received_at=now,
            state="new", updated_at=now,
        )
        session.add(row)
        session.flush()
        reply = CommentReply(comment_id=row.id, text="Ab dem 1. Dezember & pünktlich.",
                             status="queued", written_by="a@b.example", written_at=now,
                             updated_at=now)
        session.add(reply)
        session.flush()
        reply_id = reply.id
    sandbox.twitter.fail(method="POST", path="/2/tweets", delay_after_accept=1.5)

    first = send_replies(store, {"twitter": x_channel(sandbox, timeout=0.4)}, now)
    second = send_replies(store, {"twitter": x_channel(sandbox)}, now + timedelta(hours=1))

    assert [o.status for o in first] == ["waiting"]
    assert [o.status for o in second] == ["reconciled"]
    answers = [t for t in tweets(sandbox) if t["in_reply_to"] == comment["id"]]
    assert [t["text"] for t in answers] == ["@lena_k Ab dem 1. Dezember & pünktlich."]
    with store.transaction() as session:
        assert session.get(CommentReply, reply_id).status == "sent"  # type: ignore[union-attr]


def dead_worker() -> str:
    """The id of a worker on this host whose process is gone."""
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    return f"{socket.gethostname()}:{finished.stdout.strip()}"


def test_a_dead_workers_send_is_not_taken_over_while_its_request_may_still_land(
    sandbox: Sandbox, store: Store
) -> None:
    """The worker died with its request on the wire; the request lands later. Taking
    over at once would find nothing and post again (a duplicate)."""
    now = datetime.now(UTC)
    plan = make_plan("social/wire", ["Unterwegs auf der Leitung"])
    dead = dead_worker()
    with store.transaction() as session:
        entry = ledger.record_intent(session, "social/wire", "twitter", 0, "h", "t", now)
        ledger.claim(session, entry.id, dead, now)
        ledger.begin_send(session, entry.id, dead, now)
    sandbox.twitter.fail(method="POST", path="/2/tweets", hold_before=1.0)
    def send_and_die() -> None:
        with contextlib.suppress(Exception):
            x_channel(sandbox, timeout=3).post(Message("Unterwegs auf der Leitung"))

    orphan = threading.Thread(target=send_and_die)
    orphan.start()
    time.sleep(0.2)  # on the wire, held by the network

    early = syndicate(store, x_channel(sandbox, timeout=2), [plan], now)
    orphan.join()
    later = syndicate(store, x_channel(sandbox, timeout=2), [plan], now + timedelta(seconds=30))

    assert [o.status for o in early.outcomes] == ["busy"]
    assert "may still land until" in early.outcomes[0].message
    assert [o.status for o in later.outcomes] == ["reconciled"]
    assert len(tweets(sandbox)) == 1


def test_an_expired_lease_is_handed_back_before_sending_without_a_traceback(
    store: Store,
) -> None:
    now = datetime.now(UTC)
    with store.transaction() as session:
        entry = ledger.record_intent(session, "social/stall", "twitter", 0, "h", "t", now)
        entry_id = entry.id
    claimed = delivery.claim(store, entry_id, None, "w:1", now, sent_since=None,
                             request_timeout=5)
    stalled = delivery.Claimed(True, at=claimed.at - 11 * 60)  # held past the 10-min lease

    result = delivery.begin_send(store, entry_id, "w:1", now, stalled, reply_to=None)

    assert isinstance(result, str) and "ran out" in result
    [row] = entries(store, "social/stall")
    assert row.claimed_by is None and row.sending_since is None and row.attempts == 0
    taken = delivery.claim(store, entry_id, None, "w:2", now, sent_since=None,
                           request_timeout=5)
    assert taken.ok  # free for the next worker


def fb_channel(sandbox: Sandbox, timeout: float = 5) -> FacebookChannel:
    credentials = FacebookCredentials(FB_TOKEN, FB_PAGE)
    return FacebookChannel(credentials, page_id=FB_PAGE, api_base=sandbox.facebook_url,
                           timeout=timeout)


def test_facebook_tells_a_recurring_notice_apart_by_the_link_it_shares(
    sandbox: Sandbox, store: Store
) -> None:
    """Both answers lost, the second notice looked up first: the text matches both
    posts, the shared link (Graph's attachments) only its own."""
    plans = [
        dataclasses.replace(make_plan(f"social/notice-{name}", ["Wartung heute Nacht"],
                                      link=f"https://elbtal.example/{name}"),
                            channel="facebook")
        for name in ("a", "b")
    ]
    feed = f"/{sandbox.facebook.version}/{FB_PAGE}/feed"
    sandbox.facebook.fail(method="POST", path=feed, delay_after_accept=1.0, times=2)
    now = datetime.now(UTC)
    first = syndicate(store, fb_channel(sandbox, timeout=0.4), plans, now, channel_name="facebook")
    assert [o.status for o in first.outcomes] == ["retry", "retry"]

    second = syndicate(store, fb_channel(sandbox), plans[::-1], now + timedelta(hours=1),
                       channel_name="facebook")

    assert [o.status for o in second.outcomes] == ["reconciled", "reconciled"]
    posts = {p["id"]: p for p in sandbox.facebook.state()["posts"]}
    assert len(posts) == 2
    for name in ("a", "b"):
        [entry] = entries(store, f"social/notice-{name}")
        assert posts[str(entry.remote_id)]["link"] == f"https://elbtal.example/{name}"


def test_facebook_posts_read_back_carry_the_links_they_share(sandbox: Sandbox) -> None:
    channel = fb_channel(sandbox)
    channel.post(Message("Mit Link", link="https://elbtal.example/tarife?x=1&y=2"))
    channel.post(Message("Ohne Link"))

    read = {post.text: post for post in channel.recent_posts(datetime.now(UTC) - timedelta(1))}

    assert read["Mit Link"].links == ("https://elbtal.example/tarife?x=1&y=2",)
    assert read["Ohne Link"].links is None  # nothing shared: compared by text only



def test_a_worker_whose_entry_changed_during_its_send_reports_busy_not_a_traceback(
    sandbox: Sandbox, store: Store
) -> None:
    """The send stalls past the lease; another worker takes the entry, finds nothing and
    clears the doubt; then the first send fails. The first worker records nothing and
    says why."""
    now = datetime.now(UTC)
    with store.transaction() as session:
        entry_id = ledger.record_intent(session, "social/slow", "twitter", 0, "h", "t", now).id
    later = now + ledger.DEFAULT_LEASE + timedelta(minutes=1)

    def stalled_send() -> Any:
        with store.transaction() as session:  # meanwhile, after the lease ran out
            ledger.claim(session, entry_id, "other:2", later)
            ledger.mark_absent(session, entry_id, later)
        raise TransientError("X POST /2/tweets: timed out", maybe_delivered=True)

    result = delivery.deliver(
        store, delivery.Entry(entry_id, None, None, None), x_channel(sandbox),
        send=stalled_send, find=lambda since: [], reply_to=None, worker="me:3", now=now,
        actor="test",
    )

    assert result.status == "busy" and "ledger entry" in result.message
    [entry] = entries(store, "social/slow")
    assert entry.status == Status.INTENT and entry.claimed_by == "other:2"

"""Comment sync on X within X's budgets, against the sandbox (seven-day recent search,
400 for an older since_id) and a real SQLite store: replies and mentions on a post 8
days old and one 1 hour old, cursors too old for recent search, a bounded number of
requests per run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from editorial.guideline import load_guideline
from publish.moderation.sync import MENTIONS, last_reads, sync
from publish.posting.channels import Message, TwitterChannel, TwitterCredentials
from publish.sandbox import Sandbox
from publish.settings import ModerationSettings
from publish.store import Store, ledger
from publish.store.models import Comment, SyncCursor

KEY = "sync-budget-consumer"
GUIDELINE = load_guideline(Path(__file__).resolve().parents[3] / "guideline.yml")
RULES = ModerationSettings(
    mentions=("Stadtwerke",), blocklist=(), max_links=2, repeat_limit=3, refresh_days=7,
    refresh_minutes=60, retention_days=30,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(consumer_key=KEY) as box:
        yield box


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'store.db'}").upgrade()
    yield opened
    opened.dispose()


@pytest.fixture
def x(sandbox: Sandbox) -> TwitterChannel:
    credentials = TwitterCredentials(KEY, "budget-consumer", "1-token", "budget-token")
    return TwitterChannel(credentials, api_base=sandbox.twitter_url, timeout=5)


def posted(store: Store, x: TwitterChannel, sandbox: Sandbox, piece: str, age: timedelta) -> str:
    """A post of ours on X, ``age`` old, recorded in the ledger as posted then."""
    when = datetime.now(UTC) - age
    post = x.post(Message(f"Beitrag {piece}"))
    sandbox.twitter.control("set-created-at", id=post.remote_id, created_at=when.isoformat())
    with store.transaction() as session:
        entry = ledger.record_intent(session, piece, "twitter", 0, "h", "t", when)
        ledger.claim(session, entry.id, "w:1", when)
        ledger.begin_send(session, entry.id, "w:1", when)
        ledger.mark_posted(session, entry.id, post.remote_id, post.url, when)
    return post.remote_id


def reply(sandbox: Sandbox, to: str, text: str, age: timedelta) -> dict[str, Any]:
    when = datetime.now(UTC) - age
    return dict(sandbox.twitter.control(
        "inject-comment", in_reply_to=to, author_handle="leser", text=text,
        created_at=when.isoformat(),
    ))


def texts(store: Store) -> set[str]:
    with store.transaction() as session:
        return set(session.scalars(select(Comment.text)))


def searched(sandbox: Sandbox) -> list[str]:
    return [r["query"]["query"] for r in sandbox.twitter.requests()
            if r["path"] == "/2/tweets/search/recent"]


def test_sync_reads_the_young_post_and_leaves_the_old_ones_conversation_alone(
    sandbox: Sandbox, store: Store, x: TwitterChannel
) -> None:
    old = posted(store, x, sandbox, "social/alt", timedelta(days=8))
    young = posted(store, x, sandbox, "social/neu", timedelta(hours=1))
    old_reply = reply(sandbox, old, "Alte Antwort", timedelta(days=8))
    reply(sandbox, young, "Neue Antwort", timedelta(minutes=30))
    reply(sandbox, old, "Späte Antwort an die Stadtwerke", timedelta(minutes=10))
    with store.transaction() as session:  # cursors stored by a sync eight days ago
        session.add(SyncCursor(channel="twitter", source=old, cursor=old_reply["id"],
                               updated_at=datetime.now(UTC) - timedelta(days=8)))
        session.add(SyncCursor(channel="twitter", source=MENTIONS + "Stadtwerke",
                               cursor=old_reply["id"],
                               updated_at=datetime.now(UTC) - timedelta(days=8)))

    report = sync(store, {"twitter": x}, GUIDELINE, RULES, datetime.now(UTC))

    assert report.problems == {}
    assert {"Neue Antwort", "Späte Antwort an die Stadtwerke"} <= texts(store)
    assert "Alte Antwort" not in texts(store)  # beyond recent search, as on X
    assert f"conversation_id:{young}" in searched(sandbox)
    assert f"conversation_id:{old}" not in searched(sandbox)  # older than refresh_days
    assert any("older than X's seven-day search window" in n for n in report.notes["twitter"])
    reads = [r for r in sandbox.twitter.requests() if r["method"] == "GET"]
    assert report.requests["twitter"] == len(reads)
    again = sync(store, {"twitter": x}, GUIDELINE, RULES, datetime.now(UTC))
    assert again.problems == {} and "twitter" not in again.notes  # the cursor was replaced


def test_an_old_cursor_on_a_conversation_restarts_at_the_window_start(
    sandbox: Sandbox, store: Store, x: TwitterChannel
) -> None:
    post = posted(store, x, sandbox, "social/acht", timedelta(days=8))
    first = reply(sandbox, post, "Vor acht Tagen", timedelta(days=8))
    reply(sandbox, post, "Vor einer Stunde", timedelta(hours=1))
    with store.transaction() as session:
        session.add(SyncCursor(channel="twitter", source=post, cursor=first["id"],
                               updated_at=datetime.now(UTC) - timedelta(days=8),
                               refreshed_at=datetime.now(UTC)))
    rules = replace(RULES, mentions=(), refresh_days=10)

    report = sync(store, {"twitter": x}, GUIDELINE, rules, datetime.now(UTC))

    assert report.problems == {}
    assert "Vor einer Stunde" in texts(store)
    assert report.notes["twitter"]
    statuses = [r["status"] for r in sandbox.twitter.requests()
                if r["path"] == "/2/tweets/search/recent"]
    assert statuses[0] == 400 and set(statuses[1:]) == {200}


def test_a_run_makes_at_most_the_budgeted_requests_and_reports_them(
    sandbox: Sandbox, store: Store, x: TwitterChannel
) -> None:
    for n in range(4):
        post = posted(store, x, sandbox, f"social/p{n}", timedelta(hours=n + 1))
        reply(sandbox, post, f"Antwort {n}", timedelta(minutes=5))
    rules = replace(RULES, mentions=(), x_requests_per_run=3)
    before = len(sandbox.twitter.requests())

    report = sync(store, {"twitter": x}, GUIDELINE, rules, datetime.now(UTC))

    made = len(sandbox.twitter.requests()) - before
    assert made == report.requests["twitter"] <= 3
    assert any("read budget of 3 requests" in n for n in report.notes["twitter"])
    assert last_reads(store) == {"twitter": made}
    assert "Antwort 0" in texts(store)  # the newest post's conversation comes first

"""``demo_comments``: the first post on each network gets replies by others, so that a
demo's comment sync has an inbox to fill; the channels read them like any comment."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from publish.posting.channels import (
    FacebookChannel,
    FacebookCredentials,
    Message,
    TwitterChannel,
    TwitterCredentials,
)
from publish.sandbox import Sandbox
from tests.publish.sandbox.conftest import CONSUMER_KEY, PAGE_TOKEN

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\b0\d{2,4}[ /-]?\d{3,4}[ -]?\d{3,4}\b")
LINK = re.compile(r"https?://\S+")


def channels(box: Sandbox) -> tuple[TwitterChannel, FacebookChannel]:
    twitter = TwitterChannel(
        TwitterCredentials(CONSUMER_KEY, "a", "b", "c"), api_base=box.twitter_url, timeout=5
    )
    facebook = FacebookChannel(
        FacebookCredentials(PAGE_TOKEN, page_id=box.facebook.page_id),
        api_base=box.facebook_url, timeout=5,
    )
    return twitter, facebook


def demo_sandbox(state_file: Path | None = None) -> Sandbox:
    return Sandbox(consumer_key=CONSUMER_KEY, page_token=PAGE_TOKEN, demo_comments=True,
                   state_file=state_file)


def x_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_first_x_post_gets_praise_a_power_cut_a_thread_and_spam() -> None:
    with demo_sandbox() as box:
        twitter, _ = channels(box)
        root = twitter.post(Message("1/2 Neue Öffnungszeiten im Kundenzentrum ab Montag"))
        twitter.post(Message("2/2 Samstags 9–13 Uhr.", reply_to=root.remote_id))
        twitter.post(Message("Zweite Meldung: keine Kommentare"))

        page = twitter.fetch_comments(root.remote_id, None)
        posted = next(t for t in box.state()["twitter"]["tweets"] if t["id"] == root.remote_id)

    texts = [c.text for c in page.comments]
    assert len(texts) == 4
    assert any("kein Strom in der Bahnhofstraße" in text for text in texts)  # → Störungen
    assert any("„" in text and "“" in text for text in texts)
    spam = next(c for c in page.comments if "GEWINNSPIEL" in c.text)
    assert len(LINK.findall(spam.text)) >= 2
    complaint = next(c for c in page.comments if "kein Strom" in c.text)
    [thread] = [c for c in page.comments if c.parent_id != root.remote_id]
    assert thread.parent_id == complaint.remote_id
    assert thread.text.startswith(f"@{complaint.author_handle} ")
    assert all(c.author_handle and c.author_name for c in page.comments)
    started = x_time(posted["created_at"])
    delays = [c.created_at - started for c in page.comments]
    assert all(timedelta(minutes=1) <= delay <= timedelta(minutes=15) for delay in delays)
    assert delays == sorted(delays)


def test_first_facebook_post_gets_a_question_personal_data_and_a_reply() -> None:
    with demo_sandbox() as box:
        _, facebook = channels(box)
        root = facebook.post(Message("Neue Öffnungszeiten im Kundenzentrum ab Montag"))
        second = facebook.post(Message("Zweite Meldung"))

        page = facebook.fetch_comments(root.remote_id, None)
        assert facebook.fetch_comments(second.remote_id, None).comments == []

    english = next(c for c in page.comments if "Saturday" in c.text)
    assert english.parent_id == root.remote_id
    private = next(c for c in page.comments if EMAIL.search(c.text))
    assert PHONE.search(private.text)
    assert re.search("[äöüß]", private.text) and "„" in private.text
    [reply] = [c for c in page.comments if c.parent_id != root.remote_id]
    assert reply.parent_id == english.remote_id
    assert "„" in reply.text
    assert all(c.author_name for c in page.comments)
    assert [c.created_at for c in page.comments] == sorted(c.created_at for c in page.comments)


def test_without_the_flag_and_after_a_restart_nothing_is_injected(tmp_path: Path) -> None:
    with Sandbox(consumer_key=CONSUMER_KEY, page_token=PAGE_TOKEN) as plain:
        twitter, facebook = channels(plain)
        assert twitter.fetch_comments(twitter.post(Message("Ohne")).remote_id, None).comments == []
        assert facebook.fetch_comments(facebook.post(Message("Ohne")).remote_id,
                                       None).comments == []

    state = tmp_path / "sandbox.json"
    with demo_sandbox(state_file=state) as first:
        twitter, facebook = channels(first)
        twitter.post(Message("Erste"))
        facebook.post(Message("Erste"))
    with demo_sandbox(state_file=state) as again:
        twitter, facebook = channels(again)
        later_x = twitter.post(Message("Nach dem Neustart"))
        later_fb = facebook.post(Message("Nach dem Neustart"))
        assert twitter.fetch_comments(later_x.remote_id, None).comments == []
        assert facebook.fetch_comments(later_fb.remote_id, None).comments == []
        assert len(again.state()["facebook"]["comments"]) == 3

        again.reset()  # a fresh sandbox plays the demo again
        fresh = facebook.post(Message("Nach dem Zurücksetzen"))
        assert len(facebook.fetch_comments(fresh.remote_id, None).comments) == 3

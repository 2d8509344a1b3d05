"""Syndication of the example site against the sandbox, over real HTTP.

Each test clones the repository (approvals need its git history), points the channels at
a fresh sandbox, builds the production site and runs `dialogpress syndicate` with a
fixed clock, as cron would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest

from publish.store.models import Status
from tests.publish.syndication_site import (
    NOW,
    NOW_DT,
    Site,
    due,
)


@pytest.fixture
def site(syndication_site: Site) -> Site:
    return syndication_site


def test_every_due_snippet_goes_out_once_per_channel_with_threads_and_utm(site: Site) -> None:
    first = site.syndicate()
    assert first["exit_code"] == 0, first
    expected = {(s.id, c) for s in due(site) for c in s.channels}
    assert expected, "the example site has due snippets"
    posted = {(o["piece_id"], o["channel"]) for o in first["outcomes"] if o["status"] == "posted"}
    assert posted == expected
    # every part of every due snippet exactly once: one tweet per X part, one FB post each
    x_parts = sum(len(s.parts("twitter")) for s in due(site) if "twitter" in s.channels)
    fb_posts = sum(1 for s in due(site) if "facebook" in s.channels)
    assert len(site.tweets()) == x_parts
    assert len(site.fb_posts()) == fb_posts

    second = site.syndicate()
    assert second["exit_code"] == 0
    assert not [o for o in second["outcomes"] if o["status"] == "posted"]
    assert len(site.tweets()) == x_parts and len(site.fb_posts()) == fb_posts

    # a thread is a reply chain in order
    thread = next(s for s in due(site) if len(s.parts("twitter")) > 1)
    entries = sorted(
        (e for e in site.entries() if e.piece_id == thread.id and e.channel == "twitter"),
        key=lambda e: e.part_index,
    )
    by_id = {t["id"]: t for t in site.tweets()}
    assert [by_id[e.remote_id]["in_reply_to"] for e in entries] == [
        None,
        *[e.remote_id for e in entries[:-1]],
    ]
    # the first part links the post with UTM parameters for its network
    linked = next(s for s in due(site) if s.post and "twitter" in s.channels)
    tweet = by_id[next(e.remote_id for e in entries_of(site, linked.id, "twitter"))]
    assert f"utm_source=twitter&utm_medium=social&utm_campaign={linked.post}" in tweet["text"]
    assert tweet["text"].split()[-1].startswith("https://service.stadtwerke-elbtal.de/")


def entries_of(site: Site, piece_id: str, channel: str) -> list[Any]:
    return [e for e in site.entries() if e.piece_id == piece_id and e.channel == channel]


def test_late_pieces_are_held_until_released(site: Site) -> None:
    report = site.syndicate()
    late = {o["piece_id"] for o in report["outcomes"] if o["status"] == "late"}
    expected_late = {
        s.id for s in site.snippets() if s.publish_at and s.publish_at < NOW_DT - timedelta(days=2)
    }
    assert late == expected_late and late
    tweets_before = len(site.tweets())
    held = sorted(late)[0]
    again = site.syndicate()
    assert {o["piece_id"] for o in again["outcomes"] if o["status"] == "late"} == late
    assert len(site.tweets()) == tweets_before

    released = site.run("release", held)
    assert released.exit_code == 0, released.output
    after = site.syndicate()
    assert {o["piece_id"] for o in after["outcomes"] if o["status"] == "posted"} == {held}


def test_unapproved_stale_and_future_pieces_are_never_posted(site: Site) -> None:
    stale = due(site)[0]
    path = site.root / "content" / stale.id
    path.write_text(path.read_text(encoding="utf-8") + "\nNeu.\n", encoding="utf-8")
    (site.root / "content/social/2026-11-24-ohne-freigabe.md").write_text(
        "---\nchannels: [twitter, facebook]\npublish_at: 2026-11-24 09:30\n---\n"
        "Noch nicht freigegeben.\n",
        encoding="utf-8",
    )
    report = site.syndicate()
    waiting = {o["piece_id"]: o["message"] for o in report["outcomes"] if o["status"] == "waiting"}
    assert "stale" in waiting[stale.id]
    assert "not approved (missing" in waiting["social/2026-11-24-ohne-freigabe.md"]
    assert all("Noch nicht" not in t["text"] for t in site.tweets())
    posted = {o["piece_id"] for o in report["outcomes"] if o["status"] == "posted"}
    assert stale.id not in posted
    future = {s.id for s in site.snippets() if s.publish_at and s.publish_at > NOW_DT}
    assert future and not future & posted
    assert all(stale.id != e.piece_id for e in site.entries())


def test_crash_after_the_network_accepted_posts_no_duplicate(site: Site) -> None:
    site.sandbox.twitter.fail(path="/2/tweets", method="POST", delay_after_accept=60)
    process = subprocess.Popen(
        [sys.executable, "-m", "publish.cli", "syndicate", "--now", NOW, "-s", site.conf],
        env={**os.environ, **site.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not site.tweets() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert site.tweets(), "the sandbox never received the post"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    [accepted] = site.tweets()
    [in_doubt] = [e for e in site.entries() if e.status == Status.INTENT and e.sending_since]

    report = site.syndicate()
    assert report["exit_code"] == 0, report
    entry = next(e for e in site.entries() if e.id == in_doubt.id)
    assert entry.status == Status.POSTED and entry.remote_id == accepted["id"]
    texts = [t["text"] for t in site.tweets()]
    assert len(texts) == len(set(texts)), "a post went out twice"
    reconciled = [o for o in report["outcomes"] if o["status"] == "reconciled"]
    assert [o["piece_id"] for o in reconciled] == [in_doubt.piece_id]


def test_rate_limit_pauses_that_channel_only(site: Site) -> None:
    reset = NOW_DT + timedelta(minutes=15)
    site.sandbox.twitter.fail(
        path="/2/tweets", method="POST", error="rate_limit", reset_at=int(reset.timestamp())
    )
    first = site.syndicate()
    assert "twitter" in first["paused"]
    assert site.posts_to(site.sandbox.twitter, "/2/tweets") == 1
    assert len(site.fb_posts()) == sum(1 for s in due(site) if "facebook" in s.channels)

    site.syndicate(now=(NOW_DT + timedelta(minutes=10)).isoformat())
    assert site.posts_to(site.sandbox.twitter, "/2/tweets") == 1, "called before the reset"

    # the sandbox runs on the wall clock, the run on --now: let the network's window end too
    site.sandbox.twitter.windows.clear()
    after = site.syndicate(now=(reset + timedelta(minutes=1)).isoformat())
    assert after["exit_code"] == 0
    assert site.tweets(), "X posts after the reset"


def test_expired_facebook_token_pauses_facebook_and_x_goes_on(site: Site) -> None:
    site.sandbox.facebook.control("revoke-token")
    report = site.syndicate()
    assert report["exit_code"] == 1
    assert "facebook" in report["broken"]
    assert "DP_FACEBOOK_PAGE_TOKEN" in report["paused"]["facebook"]
    assert not site.fb_posts()
    assert site.tweets()
    result = site.run("syndicate", "--now", NOW)
    assert result.exit_code == 1
    assert "paused: facebook" in result.output


def test_retract_deletes_on_both_networks_once(site: Site) -> None:
    site.syndicate()
    both = next(s for s in due(site) if set(s.channels) == {"twitter", "facebook"} and not s.thread)
    posted = {e.channel: e.remote_id for e in site.entries() if e.piece_id == both.id}
    result = site.run("retract", both.id, "--reason", "falsche Öffnungszeiten", "--format", "json")
    assert result.exit_code == 0, result.output
    assert posted["twitter"] not in {t["id"] for t in site.tweets()}
    assert posted["facebook"] not in {p["id"] for p in site.fb_posts()}
    assert {e.status for e in site.entries() if e.piece_id == both.id} == {Status.RETRACTED}
    deletes = sum(1 for r in site.sandbox.twitter.requests() if r["method"] == "DELETE")

    again = site.run("retract", both.id, "--format", "json")
    assert again.exit_code == 0
    assert [o["status"] for o in json.loads(again.stdout)] == ["unchanged"]
    assert sum(1 for r in site.sandbox.twitter.requests() if r["method"] == "DELETE") == deletes
    data = json.loads((site.root / ".dialogpress/site-data.json").read_text(encoding="utf-8"))
    assert both.id in data["retracted"]


def test_dry_run_posts_and_records_nothing(site: Site) -> None:
    result = site.run("syndicate", "--now", NOW, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would-post" in result.output
    assert not site.tweets() and not site.fb_posts()
    assert site.entries() == []


def test_status_lists_posted_pieces_with_urls_and_channel_health(site: Site) -> None:
    site.syndicate()
    result = site.run("status", "--now", NOW, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    states = {(r["piece"], r["channel"]): r for r in data["pieces"]}
    for snippet in due(site):
        for channel in snippet.channels:
            assert states[(snippet.id, channel)]["state"] == "posted"
            assert states[(snippet.id, channel)]["url"]
    assert data["channels"]["twitter"]["ok"] and data["channels"]["facebook"]["ok"]


def test_a_lost_ledger_is_rebuilt_from_x_not_posted_again(site: Site) -> None:
    site.syndicate()
    tweets = len(site.tweets())
    for path in (site.root / ".dialogpress").glob("dialogpress.db*"):
        path.unlink()
    report = site.syndicate()
    assert report["exit_code"] == 0, report
    # X refuses a duplicate text; each is found again among our posts and recorded
    reconciled = {
        o["piece_id"]
        for o in report["outcomes"]
        if o["status"] == "reconciled" and o["channel"] == "twitter"
    }
    assert reconciled == {s.id for s in due(site) if "twitter" in s.channels}
    assert len(site.tweets()) == tweets
    assert all(e.remote_id for e in site.entries() if e.status == Status.POSTED)

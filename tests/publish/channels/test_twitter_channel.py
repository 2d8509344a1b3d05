"""TwitterChannel (tweepy 4.17) against the X sandbox over real sockets."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sandbox_credentials import ACCESS_SECRET, ACCESS_TOKEN, CONSUMER_SECRET

from publish.channels import (
    AuthExpired,
    ChannelError,
    DuplicateContent,
    MediaFile,
    Message,
    RateLimited,
    ReadNotAvailable,
    Rejected,
    TransientError,
    TwitterChannel,
    TwitterCredentials,
)
from publish.sandbox import Sandbox


def tweets(sandbox: Sandbox) -> list[dict]:
    return sandbox.state()["twitter"]["tweets"]


def mutating_requests(sandbox: Sandbox) -> list[str]:
    journal = sandbox.twitter.requests()
    return [f"{r['method']} {r['path']}" for r in journal if r["method"] != "GET"]


def test_post_sends_text_with_link_and_returns_the_remote_post(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    posted = twitter.post(
        Message("Service im Advent: „länger für Sie da“", link="https://elbtal.example/advent")
    )

    [stored] = tweets(sandbox)
    assert stored["id"] == posted.remote_id
    assert stored["text"] == "Service im Advent: „länger für Sie da“ https://elbtal.example/advent"
    assert posted.text == stored["text"]
    assert posted.url == f"https://x.com/i/web/status/{posted.remote_id}"
    assert posted.created_at is None


def test_link_already_in_the_text_is_not_repeated(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    twitter.post(Message("Mehr: https://elbtal.example/a", link="https://elbtal.example/a"))

    assert tweets(sandbox)[0]["text"] == "Mehr: https://elbtal.example/a"


def test_thread_parts_form_a_reply_chain(sandbox: Sandbox, twitter: TwitterChannel) -> None:
    first = twitter.post(Message("1/3 Wir bauen um."))
    second = twitter.post(Message("2/3 Ab Montag.", reply_to=first.remote_id))
    third = twitter.post(Message("3/3 Danke!", reply_to=second.remote_id))

    chain = {t["id"]: t for t in tweets(sandbox)}
    assert chain[second.remote_id]["in_reply_to"] == first.remote_id
    assert chain[third.remote_id]["in_reply_to"] == second.remote_id
    assert {t["conversation_id"] for t in chain.values()} == {first.remote_id}


def test_media_are_uploaded_with_alt_text_and_attached(
    sandbox: Sandbox, twitter: TwitterChannel, image: Path, second_image: Path
) -> None:
    posted = twitter.post(
        Message(
            "Unser Team",
            media=[MediaFile(image, "Das Team am Tresen"), MediaFile(second_image, "Zähler")],
        )
    )

    state = sandbox.state()["twitter"]
    media = {m["id"]: m for m in state["media"]}
    [stored] = state["tweets"]
    assert stored["id"] == posted.remote_id
    assert len(stored["media_ids"]) == 2
    alt_texts = [media[i]["alt_text"] for i in stored["media_ids"]]
    assert alt_texts == ["Das Team am Tresen", "Zähler"]
    assert media[stored["media_ids"][0]]["size"] == image.stat().st_size
    assert media[stored["media_ids"][0]]["media_category"] == "tweet_image"
    assert media[stored["media_ids"][0]]["content_type"] == "image/png"


def test_unsupported_media_is_rejected_before_anything_is_sent(
    sandbox: Sandbox, twitter: TwitterChannel, tmp_path: Path, image: Path
) -> None:
    document = tmp_path / "flyer.pdf"
    document.write_bytes(b"%PDF-1.7")

    with pytest.raises(Rejected, match=r"flyer\.pdf"):
        twitter.post(Message("Flyer", media=[MediaFile(document, "Flyer")]))
    with pytest.raises(Rejected, match="at most 4"):
        twitter.post(Message("Fünf", media=[MediaFile(image, "Bild")] * 5))
    assert mutating_requests(sandbox) == []


def test_reply_answers_a_comment(sandbox: Sandbox, twitter: TwitterChannel) -> None:
    root = twitter.post(Message("Fragen zur Abrechnung?"))
    comment = sandbox.twitter.control(
        "inject-comment", in_reply_to=root.remote_id, author_handle="lena_k", text="Ja, wann?"
    )

    answer = twitter.reply(comment["id"], "@lena_k Ab dem 1. Dezember.")

    stored = {t["id"]: t for t in tweets(sandbox)}[answer.remote_id]
    assert stored["in_reply_to"] == comment["id"]
    assert stored["conversation_id"] == root.remote_id
    assert answer.text == "@lena_k Ab dem 1. Dezember."


def test_delete_is_idempotent(sandbox: Sandbox, twitter: TwitterChannel) -> None:
    posted = twitter.post(Message("Versehentlich gepostet"))

    twitter.delete(posted.remote_id)
    twitter.delete(posted.remote_id)

    state = sandbox.state()["twitter"]
    assert state["tweets"] == []
    assert [t["id"] for t in state["deleted"]] == [posted.remote_id]
    statuses = [r["status"] for r in sandbox.twitter.requests() if r["method"] == "DELETE"]
    assert statuses == [200, 404]


def test_recent_posts_follows_pagination(sandbox: Sandbox, twitter: TwitterChannel) -> None:
    posted = [twitter.post(Message(f"Meldung {n}")) for n in range(5)]
    sandbox.twitter.control(
        "inject-comment", in_reply_to=posted[0].remote_id, author_handle="x", text="fremd"
    )

    recent = twitter.recent_posts(datetime.now(UTC) - timedelta(hours=1))

    assert [p.remote_id for p in recent] == [p.remote_id for p in reversed(posted)]
    assert [p.text for p in recent] == [f"Meldung {n}" for n in reversed(range(5))]
    assert all(p.created_at is not None and p.created_at.tzinfo for p in recent)
    assert recent[0].url.startswith("https://x.com/stadtwerke_elbtal/status/")
    pages = [r for r in sandbox.twitter.requests() if r["path"].startswith("/2/users/1")]
    assert len(pages) == 3  # page size 2: five posts need three pages
    assert twitter.recent_posts(datetime.now(UTC) + timedelta(hours=1)) == []


def test_fetch_comments_pages_through_replies_and_resumes_at_the_cursor(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    root = twitter.post(Message("Wie gefällt Ihnen der neue Newsletter?"))
    twitter.post(Message("2/2 Schreiben Sie uns!", reply_to=root.remote_id))
    first = sandbox.twitter.control(
        "inject-comment", in_reply_to=root.remote_id, author_handle="jens_p",
        author_name="Jens P.", text="Super!", created_at="2026-11-24T10:00:00Z",
    )
    second = sandbox.twitter.control(
        "inject-comment", in_reply_to=first["id"], author_handle="mia", author_name="Mia",
        text="Finde ich auch",
    )
    third = sandbox.twitter.control(
        "inject-comment", in_reply_to=root.remote_id, author_handle="ole", text="Zu lang."
    )

    page = twitter.fetch_comments(root.remote_id, None)

    assert [c.remote_id for c in page.comments] == [first["id"], second["id"], third["id"]]
    by_id = {c.remote_id: c for c in page.comments}
    assert by_id[first["id"]].parent_id == root.remote_id
    assert by_id[second["id"]].parent_id == first["id"]
    assert by_id[first["id"]].author_handle == "jens_p"
    assert by_id[first["id"]].author_name == "Jens P."
    assert by_id[first["id"]].created_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert by_id[first["id"]].permalink == f"https://x.com/jens_p/status/{first['id']}"
    assert {c.post_id for c in page.comments} == {root.remote_id}
    assert page.cursor == third["id"]
    searches = [r for r in sandbox.twitter.requests() if r["path"] == "/2/tweets/search/recent"]
    assert len(searches) == 3  # five tweets in the conversation, two per page

    fourth = sandbox.twitter.control(
        "inject-comment", in_reply_to=root.remote_id, author_handle="kim", text="Danke"
    )
    later = twitter.fetch_comments(root.remote_id, page.cursor)
    assert [c.remote_id for c in later.comments] == [fourth["id"]]
    assert later.cursor == fourth["id"]

    nothing = twitter.fetch_comments(root.remote_id, later.cursor)
    assert nothing.comments == []
    assert nothing.cursor == later.cursor


def test_revoked_token_is_auth_expired_naming_the_variable(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    sandbox.twitter.control("revoke-token")

    with pytest.raises(AuthExpired, match="DP_TWITTER_ACCESS_TOKEN"):
        twitter.post(Message("Hallo"))


def test_unknown_consumer_key_is_auth_expired(sandbox: Sandbox) -> None:
    wrong = TwitterCredentials("another-app-key", CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET)
    channel = TwitterChannel(wrong, api_base=sandbox.twitter_url, timeout=5)

    with pytest.raises(AuthExpired):
        channel.post(Message("Hallo"))


def test_rate_limit_gives_the_reset_time_from_the_header(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    reset = int(datetime(2030, 1, 1, 12, 15, tzinfo=UTC).timestamp())
    sandbox.twitter.fail(method="POST", path="/2/tweets", error="rate_limit", reset_at=reset)

    with pytest.raises(RateLimited) as caught:
        twitter.post(Message("Hallo"))

    assert caught.value.until == datetime(2030, 1, 1, 12, 15, tzinfo=UTC)
    assert tweets(sandbox) == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(
    sandbox: Sandbox, twitter: TwitterChannel, status: int
) -> None:
    sandbox.twitter.fail(method="POST", path="/2/tweets", error="server", status=status)

    with pytest.raises(TransientError, match=str(status)):
        twitter.post(Message("Hallo"))
    assert twitter.post(Message("Hallo")).remote_id  # the next attempt goes through


def test_timeout_after_the_network_accepted_is_transient_and_maybe_delivered(
    sandbox: Sandbox, twitter_credentials: TwitterCredentials
) -> None:
    impatient = TwitterChannel(twitter_credentials, api_base=sandbox.twitter_url, timeout=0.3)
    sandbox.twitter.fail(method="POST", path="/2/tweets", delay_after_accept=30)

    with pytest.raises(TransientError, match="timed out") as caught:
        impatient.post(Message("Angekommen, aber keine Antwort"))

    assert caught.value.maybe_delivered
    assert [t["text"] for t in tweets(sandbox)] == ["Angekommen, aber keine Antwort"]


def test_dropped_connection_after_accept_is_maybe_delivered(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    sandbox.twitter.fail(method="POST", path="/2/tweets", drop_after_accept=True)

    with pytest.raises(TransientError) as caught:
        twitter.post(Message("Verbindung weg"))

    assert caught.value.maybe_delivered
    assert len(tweets(sandbox)) == 1


def test_refused_connection_was_never_delivered(twitter_credentials: TwitterCredentials) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = TwitterChannel(twitter_credentials, api_base=f"http://127.0.0.1:{port}", timeout=2)

    with pytest.raises(TransientError) as caught:
        channel.post(Message("Niemand da"))

    assert not caught.value.maybe_delivered


def test_duplicate_content_is_reported_for_reconciliation(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    twitter.post(Message("Einmal reicht."))

    with pytest.raises(DuplicateContent, match="duplicate content") as caught:
        twitter.post(Message("Einmal reicht."))

    assert isinstance(caught.value, Rejected)
    assert len(tweets(sandbox)) == 1


def test_other_client_errors_are_rejected(sandbox: Sandbox, twitter: TwitterChannel) -> None:
    with pytest.raises(Rejected, match="deleted or not visible") as caught:
        twitter.post(Message("Antwort ins Leere", reply_to="1234567890"))

    assert not isinstance(caught.value, DuplicateContent)
    with pytest.raises(Rejected, match="shorter"):
        twitter.post(Message("ä" * 300))


def test_free_tier_cannot_read_but_can_post(sandbox: Sandbox, twitter: TwitterChannel) -> None:
    root = twitter.post(Message("Kostenlos posten"))
    sandbox.twitter.control("set-tier", tier="free")

    with pytest.raises(ReadNotAvailable, match="free tier"):
        twitter.fetch_comments(root.remote_id, None)
    with pytest.raises(ReadNotAvailable):
        twitter.recent_posts(datetime.now(UTC) - timedelta(hours=1))
    assert twitter.post(Message("Posten geht weiter")).remote_id
    assert not isinstance(ReadNotAvailable("x"), Rejected)


def test_dry_run_goes_through_request_but_changes_nothing(
    sandbox: Sandbox,
    twitter_credentials: TwitterCredentials,
    image: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = TwitterChannel(twitter_credentials, api_base=sandbox.twitter_url, timeout=5)
    existing = real.post(Message("Schon da"))
    before = sandbox.state()
    dry = TwitterChannel(twitter_credentials, api_base=sandbox.twitter_url, dry_run=True)

    with caplog.at_level(logging.INFO, logger="publish.channels.twitter"):
        first = dry.post(Message("Probe", media=[MediaFile(image, "Alt")]))
        second = dry.post(Message("2/2 Probe", reply_to=first.remote_id))
        dry.delete(existing.remote_id)
        recent = dry.recent_posts(datetime.now(UTC) - timedelta(hours=1))

    assert sandbox.state() == before
    assert mutating_requests(sandbox) == ["POST /2/tweets"]  # only the real post above
    would = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dry run")]
    assert [line.split()[4].removeprefix(sandbox.twitter_url) for line in would] == [
        "/2/media/upload", "/2/media/metadata", "/2/tweets", "/2/tweets",
        f"/2/tweets/{existing.remote_id}",
    ]
    assert '"text": "2/2 Probe"' in would[3]
    assert "team.png (image/png" in would[0]
    assert first.remote_id.startswith("dry-run-") and second.remote_id != first.remote_id
    assert [p.remote_id for p in recent] == [existing.remote_id]  # reads are real


def test_health_reports_the_account_or_the_problem(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    healthy = twitter.health()
    assert healthy.ok
    assert healthy.message == "authenticated as @stadtwerke_elbtal"
    assert healthy.expires_at is None

    sandbox.twitter.control("revoke-token")
    broken = twitter.health()
    assert not broken.ok
    assert "DP_TWITTER_ACCESS_TOKEN" in broken.message


def test_every_failure_is_a_channel_error() -> None:
    for error in (TransientError, RateLimited, AuthExpired, Rejected, DuplicateContent,
                  ReadNotAvailable):
        assert issubclass(error, ChannelError)

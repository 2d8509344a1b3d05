"""TwitterChannel (tweepy 4.17) against the X sandbox over real sockets."""

from __future__ import annotations

import logging
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sandbox_credentials import ACCESS_SECRET, ACCESS_TOKEN, CONSUMER_SECRET

from publish.posting.channels import (
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
    # within recent search's seven days: older replies are out of its reach (as on X)
    written = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    first = sandbox.twitter.control(
        "inject-comment", in_reply_to=root.remote_id, author_handle="jens_p",
        author_name="Jens P.", text="Super!", created_at=written.isoformat(),
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
    assert by_id[first["id"]].created_at == written
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

    with caplog.at_level(logging.INFO, logger="publish.posting.channels.twitter"):
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


# --- comment sync: full re-reads, reconciliation, brand monitoring -------------------------


def inject(sandbox: Sandbox, text: str, handle: str, in_reply_to: str | None = None) -> dict:
    return sandbox.twitter.control(
        "inject-comment", in_reply_to=in_reply_to, author_handle=handle,
        author_name=handle.title(), text=text,
    )


def test_full_reread_pages_through_every_reply_and_shows_edits_and_deletions(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    root = twitter.post(Message("Neue Abfalltermine 2027"))
    replies = [inject(sandbox, f"Frage {n}", f"user_{n}", root.remote_id) for n in range(5)]
    first = twitter.fetch_comments(root.remote_id, None)
    assert [c.text for c in first.comments] == [f"Frage {n}" for n in range(5)]

    sandbox.twitter.control("edit-comment", id=replies[1]["id"], text="Frage 1 (korrigiert)")
    sandbox.twitter.control("delete-comment", id=replies[3]["id"])
    searches_before = len(sandbox.twitter.requests())
    again = twitter.fetch_comments(root.remote_id, None)

    assert [(c.remote_id, c.text) for c in again.comments] == [
        (replies[0]["id"], "Frage 0"),
        (replies[1]["id"], "Frage 1 (korrigiert)"),
        (replies[2]["id"], "Frage 2"),
        (replies[4]["id"], "Frage 4"),
    ]
    assert len(sandbox.twitter.requests()) - searches_before == 3  # post + 4 replies, 2 a page
    assert again.cursor == replies[4]["id"]


def test_hidden_replies_come_back_unmarked_as_on_x(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    root = twitter.post(Message("Baustelle Elbbrücke"))
    reply = inject(sandbox, "Nervt.", "pendler", root.remote_id)
    sandbox.twitter.control("hide-comment", id=reply["id"])

    [comment] = twitter.fetch_comments(root.remote_id, None).comments

    assert comment.remote_id == reply["id"]
    assert comment.hidden is False  # X's v2 answers do not say that a reply is hidden


def test_free_tier_refuses_every_read_but_posting_and_replying_work(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    root = twitter.post(Message("Tarifinfo"))
    comment = inject(sandbox, "Was kostet das?", "frager", root.remote_id)
    sandbox.twitter.control("set-tier", tier="free")

    with pytest.raises(ReadNotAvailable, match="free tier"):
        twitter.fetch_comments(root.remote_id, "1")
    with pytest.raises(ReadNotAvailable):
        twitter.search_mentions("Stadtwerke Elbtal", None)
    with pytest.raises(ReadNotAvailable):
        twitter.find_reply(comment["id"], "Siehe Tarifblatt")
    assert twitter.post(Message("Posten geht weiter")).remote_id
    assert twitter.reply(comment["id"], "Siehe Tarifblatt").remote_id
    refused = [r for r in sandbox.twitter.requests() if r["status"] == 403]
    assert {r["path"] for r in refused} == {
        "/2/tweets/search/recent", f"/2/users/{sandbox.twitter.state()['me']['id']}/tweets"
    }


def test_find_reply_finds_our_answer_to_a_comment_across_pages(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    root = twitter.post(Message("Fragen zur Jahresabrechnung?"))
    comment = inject(sandbox, "Wann kommt sie?", "jens_p", root.remote_id)
    other = inject(sandbox, "Und bei mir?", "mia", root.remote_id)
    sent = twitter.reply(comment["id"], "@jens_p Ende Januar.\n\nMehr: https://elbtal.example/abr")
    twitter.reply(other["id"], "@jens_p Ende Januar.")  # same words, other parent
    for n in range(4):  # newer posts push the reply onto a later page of the timeline
        twitter.post(Message(f"Meldung {n}"))

    found = twitter.find_reply(comment["id"], "@jens_p  Ende Januar. Mehr: https://t.co/x1Y2z3")

    assert found is not None
    assert found.remote_id == sent.remote_id
    assert found.url == f"https://x.com/stadtwerke_elbtal/status/{sent.remote_id}"
    assert found.created_at is not None
    timeline = [r for r in sandbox.twitter.requests() if r["path"].endswith("/tweets")
                and r["method"] == "GET"]
    assert {r["query"]["since_id"] for r in timeline} == {comment["id"]}
    assert len(timeline) == 3


def test_find_reply_is_none_for_other_text_other_authors_and_dry_run_ids(
    sandbox: Sandbox, twitter: TwitterChannel, twitter_credentials: TwitterCredentials
) -> None:
    root = twitter.post(Message("Umfrage: Newsletter?"))
    comment = inject(sandbox, "Gern!", "lea", root.remote_id)
    inject(sandbox, "Danke für Ihr Feedback!", "trittbrett", comment["id"])
    twitter.reply(comment["id"], "Danke, Lea!")

    assert twitter.find_reply(comment["id"], "Danke für Ihr Feedback!") is None
    assert twitter.find_reply(root.remote_id, "Danke, Lea!") is None
    dry = TwitterChannel(twitter_credentials, api_base=sandbox.twitter_url, dry_run=True)
    assert dry.find_reply(comment["id"], "Danke, Lea!") is not None  # reads are real
    before = len(sandbox.twitter.requests())
    assert dry.find_reply("dry-run-3", "Danke, Lea!") is None
    assert len(sandbox.twitter.requests()) == before


def test_search_mentions_finds_posts_by_others_and_says_where_they_hang(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    ours = twitter.post(Message("Die Stadtwerke Elbtal informieren: Wartung am Freitag"))
    reply = inject(sandbox, "Stadtwerke Elbtal, gilt das auch für Pirna?", "ole", ours.remote_id)
    loose = inject(sandbox, "Wieder Ärger mit den STADTWERKEN? Nein: stadtwerke elbtal top!",
                   "kim")
    answer = inject(sandbox, "@kim Stadtwerke Elbtal? Sehe ich auch so", "tom", loose["id"])
    inject(sandbox, "Stadtwerke Dresden haben auch Wartung", "ben")

    page = twitter.search_mentions("stadtwerke elbtal", None)

    assert [c.remote_id for c in page.comments] == [reply["id"], loose["id"], answer["id"]]
    by_id = {c.remote_id: c for c in page.comments}
    assert (by_id[reply["id"]].post_id, by_id[reply["id"]].parent_id) == (
        ours.remote_id, ours.remote_id)
    assert (by_id[loose["id"]].post_id, by_id[loose["id"]].parent_id) == (
        loose["id"], loose["id"])
    assert (by_id[answer["id"]].post_id, by_id[answer["id"]].parent_id) == (
        loose["id"], loose["id"])
    assert by_id[answer["id"]].author_handle == "tom"
    assert by_id[answer["id"]].permalink == f"https://x.com/tom/status/{answer['id']}"
    assert page.cursor == answer["id"]
    [search] = {r["query"]["query"] for r in sandbox.twitter.requests()
                if r["path"] == "/2/tweets/search/recent"}
    assert search == "(stadtwerke elbtal) -from:stadtwerke_elbtal -is:retweet"

    newer = inject(sandbox, "Stadtwerke Elbtal: Danke!", "lea")
    later = twitter.search_mentions("stadtwerke elbtal", page.cursor)
    assert [c.remote_id for c in later.comments] == [newer["id"]]
    nothing = twitter.search_mentions("stadtwerke elbtal", later.cursor)
    assert nothing.comments == [] and nothing.cursor == later.cursor


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("strom", ["kein_strom", "phrase"]),  # whole words: not "Stromausfall"
        ("Stromausfall", ["ausfall"]),
        ('"kein Strom"', ["kein_strom"]),
        ('"Strom kein"', ["phrase"]),
        ("Strom Bahnhofstraße", ["kein_strom"]),
        ("Stromausfall OR Gasgeruch", ["ausfall", "gas"]),
        ("-from:gas_gabi Strom OR Gasgeruch", ["kein_strom", "gas", "phrase"]),  # AND first
        ("(Strom OR Gasgeruch) -from:gas_gabi", ["kein_strom", "phrase"]),
        ("from:@GAS_GABI", ["gas"]),
        ("#Energiewende", ["hashtag"]),
        ("energiewende", ["hashtag", "word"]),
        ("Elbtal -is:reply", ["kein_strom", "ausfall", "gas", "hashtag", "word", "phrase"]),
    ],
)
def test_search_mentions_understands_the_query_forms(
    sandbox: Sandbox, twitter: TwitterChannel, query: str, expected: list[str]
) -> None:
    texts = {
        "kein_strom": ("anna", "Elbtal: seit 6 Uhr kein Strom in der Bahnhofstraße"),
        "ausfall": ("bert", "Elbtal, schon wieder ein Stromausfall!"),
        "gas": ("gas_gabi", "Elbtal: Gasgeruch im Treppenhaus"),
        "hashtag": ("carl", "Elbtal und die #Energiewende"),
        "word": ("dora", "Energiewende in Elbtal"),
        "phrase": ("emil", "Strom: kein Thema in Elbtal"),
    }
    ids = {key: inject(sandbox, text, handle)["id"] for key, (handle, text) in texts.items()}
    twitter.post(Message("Elbtal: kein Strom in der Bahnhofstraße, wir sind dran"))

    found = [c.remote_id for c in twitter.search_mentions(query, None).comments]

    assert found == [ids[key] for key in expected]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("(Strom", "'(' without ')'"),
        ("Strom)", "')' without '('"),
        ("-Strom", "not negated"),
        ("Strom OR", "OR or ')'"),
        ("lang:de Strom", "invalid operator 'lang:de'"),
    ],
)
def test_search_queries_x_would_refuse_are_rejected_with_the_reason(
    sandbox: Sandbox, twitter: TwitterChannel, query: str, reason: str
) -> None:
    with pytest.raises(Rejected, match=re.escape(reason)):
        twitter.search_mentions(query, None)

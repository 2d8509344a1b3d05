"""FacebookChannel (Graph API over requests) against the Graph sandbox over real sockets."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sandbox_credentials import NOW, PAGE_ID, PAGE_TOKEN

from publish.posting.channels import (
    AuthExpired,
    DuplicateContent,
    FacebookChannel,
    FacebookCredentials,
    MediaFile,
    Message,
    RateLimited,
    Rejected,
    TransientError,
)
from publish.sandbox import Sandbox


def posts(sandbox: Sandbox) -> list[dict]:
    return sandbox.state()["facebook"]["posts"]


def mutating_requests(sandbox: Sandbox) -> list[str]:
    return [
        f"{r['method']} {r['path']}" for r in sandbox.facebook.requests() if r["method"] != "GET"
    ]


def test_post_text_with_link_preview(sandbox: Sandbox, facebook: FacebookChannel) -> None:
    posted = facebook.post(
        Message("Neue Servicezeiten im Advent: „wir sind für Sie da“.",
                link="https://elbtal.example/advent")
    )

    [stored] = posts(sandbox)
    assert stored["id"] == posted.remote_id
    assert stored["message"] == "Neue Servicezeiten im Advent: „wir sind für Sie da“."
    assert stored["link"] == "https://elbtal.example/advent"
    assert posted.remote_id.startswith(f"{PAGE_ID}_")
    assert posted.url == f"https://www.facebook.com/{posted.remote_id}"


def test_one_photo_is_a_photo_post_with_caption_and_alt_text(
    sandbox: Sandbox, facebook: FacebookChannel, image: Path
) -> None:
    posted = facebook.post(
        Message("Unser Team", media=[MediaFile(image, "Fünf Menschen am Tresen")],
                link="https://elbtal.example/team")
    )

    state = sandbox.state()["facebook"]
    [photo] = state["photos"]
    [stored] = state["posts"]
    assert posted.remote_id == stored["id"] == photo["post_id"]
    assert photo["caption"] == "Unser Team https://elbtal.example/team"
    assert photo["alt_text"] == "Fünf Menschen am Tresen"
    assert photo["size"] == image.stat().st_size
    assert photo["published"] is True


def test_several_photos_are_attached_to_one_feed_post(
    sandbox: Sandbox, facebook: FacebookChannel, image: Path, second_image: Path
) -> None:
    posted = facebook.post(
        Message("Zwei Bilder", media=[MediaFile(image, "Team"), MediaFile(second_image, "Zähler")])
    )

    state = sandbox.state()["facebook"]
    [stored] = state["posts"]
    assert stored["id"] == posted.remote_id
    assert [p["published"] for p in state["photos"]] == [False, False]
    assert [p["post_id"] for p in state["photos"]] == [posted.remote_id] * 2
    assert stored["photo_ids"] == [p["id"] for p in state["photos"]]
    assert [p["alt_text"] for p in state["photos"]] == ["Team", "Zähler"]


def test_reply_comments_as_the_page(sandbox: Sandbox, facebook: FacebookChannel) -> None:
    root = facebook.post(Message("Fragen?"))
    comment = sandbox.facebook.control(
        "inject-comment", on=root.remote_id, author_name="Jens Peters", text="Wann kommt sie?"
    )

    answer = facebook.reply(comment["id"], "Ende November, Herr Peters.")

    stored = {c["id"]: c for c in sandbox.state()["facebook"]["comments"]}[answer.remote_id]
    assert stored["parent_id"] == comment["id"]
    assert stored["from"] == {"id": PAGE_ID, "name": "Stadtwerke Elbtal"}
    assert stored["message"] == "Ende November, Herr Peters."


def test_message_with_reply_to_becomes_a_comment(
    sandbox: Sandbox, facebook: FacebookChannel
) -> None:
    root = facebook.post(Message("Teil 1"))

    part = facebook.post(Message("Teil 2", reply_to=root.remote_id))

    [comment] = sandbox.state()["facebook"]["comments"]
    assert comment["id"] == part.remote_id
    assert comment["post_id"] == root.remote_id


def test_delete_is_idempotent(sandbox: Sandbox, facebook: FacebookChannel) -> None:
    posted = facebook.post(Message("Weg damit"))

    facebook.delete(posted.remote_id)
    facebook.delete(posted.remote_id)

    state = sandbox.state()["facebook"]
    assert state["posts"] == []
    assert [d["id"] for d in state["deleted"]] == [posted.remote_id]


def test_recent_posts_follows_pagination(sandbox: Sandbox, facebook: FacebookChannel) -> None:
    posted = [facebook.post(Message(f"Meldung {n}")) for n in range(5)]

    recent = facebook.recent_posts(datetime.now(UTC) - timedelta(hours=1))

    assert [p.remote_id for p in recent] == [p.remote_id for p in reversed(posted)]
    assert [p.text for p in recent] == [f"Meldung {n}" for n in reversed(range(5))]
    assert all(p.created_at is not None for p in recent)
    assert recent[0].url.startswith(f"https://www.facebook.com/{PAGE_ID}/posts/")
    listings = [r for r in sandbox.facebook.requests() if r["path"].endswith("/posts")]
    assert len(listings) == 3
    assert facebook.recent_posts(datetime.now(UTC) + timedelta(hours=1)) == []


def test_fetch_comments_pages_through_the_stream_and_resumes(
    sandbox: Sandbox, facebook: FacebookChannel
) -> None:
    root = facebook.post(Message("Wie war der Tag der offenen Tür?"))
    control = sandbox.facebook.control
    first = control("inject-comment", on=root.remote_id, author_id="4711", author_name="Mia K.",
                    text="Toll!", created_at="2026-11-24T10:00:00+00:00")
    answer = facebook.reply(first["id"], "Danke, Mia!")
    second = control("inject-comment", on=first["id"], author_name="Ole", text="Fand ich auch")
    third = control("inject-comment", on=root.remote_id, author_name="Kim", text="Zu voll.")
    control("hide-comment", id=third["id"])

    page = facebook.fetch_comments(root.remote_id, None)

    assert [c.remote_id for c in page.comments] == [first["id"], second["id"], third["id"]]
    assert answer.remote_id not in {c.remote_id for c in page.comments}
    by_id = {c.remote_id: c for c in page.comments}
    assert by_id[first["id"]].parent_id == root.remote_id
    assert by_id[second["id"]].parent_id == first["id"]
    assert by_id[first["id"]].author_handle == "4711"
    assert by_id[first["id"]].author_name == "Mia K."
    assert by_id[first["id"]].created_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert by_id[third["id"]].hidden and not by_id[first["id"]].hidden
    assert by_id[first["id"]].permalink.endswith(f"comment_id={first['id'].split('_')[1]}")
    listings = [r for r in sandbox.facebook.requests() if r["path"].endswith("/comments")
                and r["method"] == "GET"]
    assert len(listings) == 2  # four comments, page size two

    fourth = control("inject-comment", on=root.remote_id, author_name="Lea", text="Nächstes Jahr?")
    later = facebook.fetch_comments(root.remote_id, page.cursor)
    assert [c.remote_id for c in later.comments] == [fourth["id"]]

    nothing = facebook.fetch_comments(root.remote_id, later.cursor)
    assert nothing.comments == []
    assert nothing.cursor == later.cursor


@pytest.mark.parametrize("reason", ["revoked", "expired"])
def test_invalid_token_is_auth_expired_naming_the_variable(
    sandbox: Sandbox, facebook: FacebookChannel, reason: str
) -> None:
    sandbox.facebook.control("revoke-token", reason=reason)

    with pytest.raises(AuthExpired, match="DP_FACEBOOK_PAGE_TOKEN"):
        facebook.post(Message("Hallo"))


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_rate_limits_wait_for_the_estimated_time_to_regain_access(
    sandbox: Sandbox, facebook: FacebookChannel, code: int
) -> None:
    sandbox.facebook.fail(method="POST", path="/v26.0/", error="rate_limit", code=code,
                          reset_in=600)

    with pytest.raises(RateLimited) as caught:
        facebook.post(Message("Hallo"))

    assert caught.value.until == NOW + timedelta(minutes=10)
    assert posts(sandbox) == []


def test_rate_limit_without_an_estimate_waits_five_minutes(
    sandbox: Sandbox, facebook: FacebookChannel
) -> None:
    sandbox.facebook.fail(path="/v26.0/", error="code", code=613, message="Calls exceeded")

    with pytest.raises(RateLimited) as caught:
        facebook.post(Message("Hallo"))

    assert caught.value.until == NOW + timedelta(minutes=5)


def test_blocked_is_rejected(sandbox: Sandbox, facebook: FacebookChannel) -> None:
    sandbox.facebook.fail(method="POST", path="/v26.0/", error="blocked")

    with pytest.raises(Rejected, match=r"^blocked: ") as caught:
        facebook.post(Message("Hallo"))
    assert not isinstance(caught.value, DuplicateContent)


def test_duplicate_status_message_is_reported_for_reconciliation(
    sandbox: Sandbox, facebook: FacebookChannel
) -> None:
    facebook.post(Message("Nur einmal"))

    with pytest.raises(DuplicateContent, match="Duplicate"):
        facebook.post(Message("Nur einmal"))
    assert len(posts(sandbox)) == 1


@pytest.mark.parametrize("error", ["server", "transient"])
def test_graph_codes_1_and_2_and_5xx_are_transient(
    sandbox: Sandbox, facebook: FacebookChannel, error: str
) -> None:
    sandbox.facebook.fail(method="POST", path="/v26.0/", error=error)

    with pytest.raises(TransientError):
        facebook.post(Message("Hallo"))
    assert facebook.post(Message("Hallo")).remote_id


def test_timeout_after_accept_is_transient_and_maybe_delivered(
    sandbox: Sandbox, facebook_credentials: FacebookCredentials
) -> None:
    impatient = FacebookChannel(facebook_credentials, api_base=sandbox.facebook_url, timeout=0.3)
    sandbox.facebook.fail(method="POST", path="/v26.0/", delay_after_accept=30)

    with pytest.raises(TransientError, match="timed out") as caught:
        impatient.post(Message("Angekommen"))

    assert caught.value.maybe_delivered
    assert [p["message"] for p in posts(sandbox)] == ["Angekommen"]
    assert PAGE_TOKEN not in str(caught.value)


def test_other_graph_errors_are_rejected_with_the_message(
    sandbox: Sandbox, facebook: FacebookChannel
) -> None:
    with pytest.raises(Rejected, match="does not exist"):
        facebook.reply(f"{PAGE_ID}_999", "Antwort")


def test_wrong_app_secret_proof_is_refused(
    sandbox: Sandbox, facebook_credentials: FacebookCredentials
) -> None:
    other = FacebookCredentials(page_token=PAGE_TOKEN, page_id=PAGE_ID, app_secret="not-the-secret")
    channel = FacebookChannel(other, api_base=sandbox.facebook_url, timeout=5)

    with pytest.raises(Rejected, match="appsecret_proof"):
        channel.post(Message("Hallo"))


def test_dry_run_goes_through_request_but_changes_nothing(
    sandbox: Sandbox,
    facebook_credentials: FacebookCredentials,
    image: Path,
    second_image: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = FacebookChannel(facebook_credentials, api_base=sandbox.facebook_url, timeout=5)
    existing = real.post(Message("Schon da"))
    before = sandbox.state()
    dry = FacebookChannel(facebook_credentials, api_base=sandbox.facebook_url, dry_run=True)

    with caplog.at_level(logging.INFO, logger="publish.posting.channels.facebook"):
        dry.post(Message("Text"))
        dry.post(Message("Bilder", media=[MediaFile(image, "A"), MediaFile(second_image, "B")]))
        dry.reply(existing.remote_id, "Antwort")
        dry.delete(existing.remote_id)
        recent = dry.recent_posts(datetime.now(UTC) - timedelta(hours=1))

    assert sandbox.state() == before
    assert mutating_requests(sandbox) == [f"POST /v26.0/{PAGE_ID}/feed"]
    would = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dry run")]
    assert [line.split()[4].removeprefix(sandbox.facebook_url) for line in would] == [
        f"/{PAGE_ID}/feed", f"/{PAGE_ID}/photos", f"/{PAGE_ID}/photos", f"/{PAGE_ID}/feed",
        f"/{existing.remote_id}/comments", f"/{existing.remote_id}",
    ]
    assert "attached_media[1]" in would[3]
    assert all(PAGE_TOKEN not in line for line in would)
    assert [p.remote_id for p in recent] == [existing.remote_id]


def test_health_reports_token_expiry(sandbox: Sandbox, facebook: FacebookChannel) -> None:
    data_access = int(datetime(2027, 2, 1, tzinfo=UTC).timestamp())
    sandbox.facebook.control("set-token", data_access_expires_at=data_access)

    health = facebook.health()

    assert health.ok
    assert health.expires_at == datetime(2027, 2, 1, tzinfo=UTC)
    assert "2027-02-01" in health.message

    sandbox.facebook.control("set-token", expires_at=int(datetime(2026, 12, 24, tzinfo=UTC)
                                                          .timestamp()))
    assert facebook.health().expires_at == datetime(2026, 12, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"control": "revoke-token"}, "DP_FACEBOOK_PAGE_TOKEN"),
        ({"control": "set-token", "type": "USER"}, "USER token, not a Page token"),
        ({"control": "set-token", "scopes": ["pages_show_list"]}, "lacks pages_manage_posts"),
    ],
)
def test_health_names_what_is_wrong_with_the_token(
    sandbox: Sandbox, facebook: FacebookChannel, change: dict, expected: str
) -> None:
    action = change.pop("control")
    sandbox.facebook.control(action, **change)

    health = facebook.health()

    assert not health.ok
    assert expected in health.message


# --- comment sync: full re-reads and reconciliation ---------------------------------------


def test_full_reread_pages_through_every_comment_with_edits_deletions_and_hidden(
    sandbox: Sandbox, facebook: FacebookChannel
) -> None:
    root = facebook.post(Message("Neue Abfalltermine 2027"))
    control = sandbox.facebook.control
    comments = [
        control("inject-comment", on=root.remote_id, author_name=f"Person {n}", text=f"Frage {n}")
        for n in range(4)
    ]
    answer = control("inject-comment", on=comments[0]["id"], author_name="Ole", text="Stimmt")
    assert len(facebook.fetch_comments(root.remote_id, None).comments) == 5

    control("edit-comment", id=comments[1]["id"], text="Frage 1 (korrigiert)")
    control("delete-comment", id=comments[2]["id"])
    control("hide-comment", id=comments[3]["id"])
    before = len(sandbox.facebook.requests())
    again = facebook.fetch_comments(root.remote_id, None)

    assert [(c.remote_id, c.text, c.hidden) for c in again.comments] == [
        (comments[0]["id"], "Frage 0", False),
        (comments[1]["id"], "Frage 1 (korrigiert)", False),
        (comments[3]["id"], "Frage 3", True),
        (answer["id"], "Stimmt", False),
    ]
    assert again.comments[3].parent_id == comments[0]["id"]
    assert len(sandbox.facebook.requests()) - before == 2  # four comments, two a page


def test_find_reply_finds_the_pages_comment_under_a_post_or_a_comment(
    sandbox: Sandbox, facebook: FacebookChannel
) -> None:
    root = facebook.post(Message("Fragen zur Jahresabrechnung?"))
    comment = sandbox.facebook.control(
        "inject-comment", on=root.remote_id, author_name="Jens Peters", text="Wann kommt sie?"
    )
    on_post = facebook.reply(root.remote_id, "Ende Januar, für alle.")
    on_comment = facebook.reply(
        comment["id"], "Ende Januar, Herr Peters.\nMehr: https://elbtal.example/a"
    )
    for n in range(3):  # later comments: the search goes page by page, newest first
        sandbox.facebook.control(
            "inject-comment", on=comment["id"], author_name=f"Person {n}", text="Bei mir auch?"
        )

    found = facebook.find_reply(
        comment["id"], "Ende Januar,  Herr Peters. Mehr: https://l.facebook.com/x"
    )
    top = facebook.find_reply(root.remote_id, "Ende Januar, für alle.")

    assert found is not None and found.remote_id == on_comment.remote_id
    assert found.url.endswith(f"comment_id={on_comment.remote_id.split('_')[1]}")
    assert found.created_at is not None
    assert top is not None and top.remote_id == on_post.remote_id
    listings = [r for r in sandbox.facebook.requests()
                if r["path"].endswith(f"/{comment['id']}/comments") and r["method"] == "GET"]
    assert len(listings) == 2
    assert listings[0]["query"]["order"] == "reverse_chronological"


def test_find_reply_is_none_for_other_text_other_authors_and_dry_run_ids(
    sandbox: Sandbox, facebook: FacebookChannel, facebook_credentials: FacebookCredentials
) -> None:
    root = facebook.post(Message("Umfrage: Newsletter?"))
    comment = sandbox.facebook.control(
        "inject-comment", on=root.remote_id, author_name="Lea", text="Gern!"
    )
    sandbox.facebook.control(
        "inject-comment", on=comment["id"], author_name="Trittbrett", text="Danke, Lea!"
    )

    assert facebook.find_reply(comment["id"], "Danke, Lea!") is None
    facebook.reply(comment["id"], "Danke, Lea!")
    assert facebook.find_reply(comment["id"], "Vielen Dank, Lea!") is None
    assert facebook.find_reply(root.remote_id, "Danke, Lea!") is None
    dry = FacebookChannel(facebook_credentials, api_base=sandbox.facebook_url, dry_run=True)
    assert dry.find_reply(comment["id"], "Danke, Lea!") is not None  # reads are real
    before = len(sandbox.facebook.requests())
    assert dry.find_reply(f"{PAGE_ID}_dry-run-1", "Danke, Lea!") is None
    assert len(sandbox.facebook.requests()) == before

"""The inbox over HTTP: filters, conflicts, the reply check, refused and pending replies,
masking of commenters' contact details, and the dashboard's late pieces."""

from __future__ import annotations

import json
from datetime import timedelta

from publish import moderation
from publish.store import ledger
from publish.store.models import Status
from tests.publish.web.conftest import Desk, email


def test_filters_narrow_the_inbox(desk: Desk) -> None:
    question = desk.comment("p1_1", "Wie lange dauert ein Zählerwechsel?")
    desk.comment("p1_2", "Bei uns ist seit gestern kein Wasser!", author_name="Emil Ernst")
    desk.comment(
        "t1",
        "Wann kommt die Abrechnung?",
        channel="twitter",
        post_id="9",
        parent_id="9",
        author_name="Frieda Frost",
    )
    moderation.assign(desk.store, question, actor="test", now=desk.clock.now, to=email("moderator"))
    client = desk.login("moderator")

    def listed(query: str) -> str:
        return client.get(f"/inbox{query}").get_data(as_text=True)

    everything = listed("")
    assert all(t in everything for t in ("Zählerwechsel", "kein Wasser", "Abrechnung"))
    only_x = listed("?channel=twitter")
    assert "Abrechnung" in only_x and "Zählerwechsel" not in only_x
    outages = listed("?category=St%C3%B6rungen")
    assert "kein Wasser" in outages and "Zählerwechsel" not in outages
    mine = listed("?mine=1")
    assert "Zählerwechsel" in mine and "kein Wasser" not in mine
    escalated_only = listed("?state=escalated")
    assert "kein Wasser" in escalated_only and "Abrechnung" not in escalated_only
    desk.clock.advance(days=3)
    overdue = desk.login("moderator").get("/inbox?overdue=1").get_data(as_text=True)
    assert "overdue by" in overdue and "Zählerwechsel" in overdue


def test_someone_who_acted_first_wins_and_the_page_says_so(desk: Desk) -> None:
    comment = desk.comment()
    first = desk.login("moderator")
    second = desk.login("admin")
    page = second.get(f"/inbox/{comment}").get_data(as_text=True)
    assert 'name="expected_state" value="new"' in page
    assert first.post(f"/inbox/{comment}/approve", {"expected_state": "new"}).status_code == 302
    late = second.post(f"/inbox/{comment}/silence", {"expected_state": "new", "reason": "troll"})
    assert late.status_code == 409
    text = late.get_data(as_text=True)
    assert "Someone acted first" in text and email("moderator") in text
    assert moderation.show(desk.store, comment).state == "approved"
    # withdrawing an approved comment needs the approved state to have been seen
    withdrawn = second.post(
        f"/inbox/{comment}/reject", {"expected_state": "approved", "reason": "Beleidigung"}
    )
    assert withdrawn.status_code == 302
    assert moderation.show(desk.store, comment).state == "rejected"


def test_the_live_check_gives_findings_and_the_x_weighted_length(desk: Desk) -> None:
    comment = desk.comment("t2", "Frage", channel="twitter", post_id="8", parent_id="8")
    client = desk.login("moderator")
    result = client.post(
        f"/inbox/{comment}/reply/check",
        {"text": "Danke 🙂 https://example.org/a/very/long/path/to/somewhere"},
    )
    data = json.loads(result.get_data(as_text=True))
    # "Danke " 6 + emoji 2 + " " 1 + a link counted as 23
    assert (data["length"], data["limit"], data["weighted"], data["ok"]) == (32, 280, True, True)
    refused = json.loads(
        client.post(f"/inbox/{comment}/reply/check", {"text": "Das war kein Blackout."}).get_data(
            as_text=True
        )
    )
    assert refused["ok"] is False
    assert refused["findings"][0]["rule"] == "guideline.forbidden-phrase"
    too_long = json.loads(
        client.post(f"/inbox/{comment}/reply/check", {"text": "x" * 281}).get_data(as_text=True)
    )
    assert too_long["ok"] is False and too_long["length"] == 281


def test_a_reply_with_a_forbidden_phrase_is_refused_on_submit_and_kept_in_the_box(
    desk: Desk,
) -> None:
    comment = desk.comment()
    client = desk.login("moderator")
    response = client.post(f"/inbox/{comment}/reply", {"text": "Das ist billig zu haben."})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The reply was not sent" in page and "günstig" in page
    assert "Das ist billig zu haben.</textarea>" in page
    assert moderation.show(desk.store, comment).replies == []


def test_an_escalated_comment_cannot_be_answered_until_resolved(desk: Desk) -> None:
    comment = desk.comment("p1_3", "Es riecht nach Gas im Treppenhaus!")
    client = desk.login("moderator")
    page = client.get(f"/inbox/{comment}").get_data(as_text=True)
    assert "Your reply" not in page and "Mark the escalation resolved" in page
    refused = client.post(f"/inbox/{comment}/reply", {"text": "Wir kümmern uns."})
    assert refused.status_code == 422 and "escalated" in refused.get_data(as_text=True)


def test_a_sensitive_reply_waits_for_a_second_person(desk: Desk) -> None:
    comment = desk.comment("p1_4", "Ich bekomme eine Mahnung, obwohl ich bezahlt habe.")
    moderator = desk.login("moderator")
    moderator.post(f"/inbox/{comment}/resolve", {"expected_state": "escalated"})
    written = moderator.post(
        f"/inbox/{comment}/reply", {"text": "Bitte schreiben Sie uns eine Direktnachricht."}
    )
    assert written.status_code == 302
    reply = moderation.show(desk.store, comment).replies[0]
    assert reply.status == "pending"
    own = moderator.post(f"/inbox/replies/{reply.id}/approve", {"comment_id": comment})
    assert own.status_code == 409 and "second person" in own.get_data(as_text=True)
    approver = desk.login("approver")
    page = approver.get(f"/inbox/{comment}").get_data(as_text=True)
    assert "Approve and send this reply" in page
    approved = approver.post(f"/inbox/replies/{reply.id}/approve", {"comment_id": comment})
    assert approved.status_code == 302
    after = moderation.show(desk.store, comment).replies[0]
    assert after.approved_by == email("approver")


def test_commenters_contact_details_are_never_shown(desk: Desk) -> None:
    comment = desk.comment(
        "p1_5",
        "Schreibt mir an max.muster@example.de oder ruft an: 0171-1234567",
        author_name="max.muster@example.de",
    )
    client = desk.login("moderator")
    for path in ("/inbox", f"/inbox/{comment}"):
        page = client.get(path).get_data(as_text=True)
        assert "max.muster@example.de" not in page and "1234567" not in page
        assert "[e-mail removed]" in page and "[phone number removed]" in page


def test_editors_release_and_skip_late_pieces_on_the_dashboard(desk: Desk) -> None:
    with desk.store.transaction() as session:
        for piece, channel in (("social/a.md", "twitter"), ("social/b.md", "facebook")):
            entry = ledger.record_intent(session, piece, channel, 0, "h", "text", desk.clock.now)
            ledger.mark_late(session, entry.id, "due 3 days ago", desk.clock.now)
    editor = desk.login("editor")
    page = editor.get("/dashboard").get_data(as_text=True)
    assert "social/a.md" in page and "Release" in page
    editor.post("/dashboard/late/release", {"piece": "social/a.md", "channel": "twitter"})
    editor.post("/dashboard/late/skip", {"piece": "social/b.md", "channel": "facebook"})
    again = editor.post("/dashboard/late/skip", {"piece": "social/b.md", "channel": "facebook"})
    assert again.status_code == 302
    with desk.store.transaction() as session:
        states = {(e.piece_id, e.status) for e in ledger.all_entries(session)}
    assert states == {("social/a.md", Status.INTENT), ("social/b.md", Status.SKIPPED)}
    page = editor.get("/dashboard").get_data(as_text=True)
    assert "No piece is late." in page


def test_the_dashboard_shows_a_month_and_rejects_a_bad_date(desk: Desk) -> None:
    client = desk.login("editor")
    month = client.get("/dashboard?view=month&start=2026-12-01").get_data(as_text=True)
    assert "Calendar: December 2026" in month
    assert "Frostschutz" in month or "frostschutz" in month
    assert client.get("/dashboard?start=tomorrow").status_code == 400
    desk.clock.advance(hours=1)
    assert client.get("/dashboard?view=year").status_code == 400


def test_sessions_expire(desk: Desk) -> None:
    client = desk.login("moderator")
    desk.clock.advance(hours=11)
    assert client.get("/inbox").status_code == 200
    desk.clock.now += timedelta(hours=2)
    assert client.get("/inbox").status_code == 302

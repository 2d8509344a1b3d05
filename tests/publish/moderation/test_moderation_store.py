"""Moderation decisions, replies, retention and the response-time report on a real store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from editorial.guideline import load_guideline
from publish import moderation
from publish.moderation import NotAllowed, ReplyRefused
from publish.moderation.response_times import percentile, report
from publish.moderation.sync import ingest
from publish.posting.channels import RemoteComment
from publish.store import Store, audit
from publish.store.errors import Conflict

GUIDELINE = load_guideline(Path(__file__).resolve().parents[3] / "guideline.yml")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}").upgrade() as opened:
        yield opened


def comment(store: Store, text: str, remote_id: str = "1", at: datetime = NOW) -> int:
    remote = RemoteComment(
        remote_id=remote_id,
        parent_id="100",
        post_id="100",
        author_handle=f"user{remote_id}",
        author_name=f"Nutzer {remote_id}",
        text=text,
        created_at=at,
        permalink=f"https://x.com/user{remote_id}/status/{remote_id}",
    )
    return ingest(store, GUIDELINE, "twitter", remote, at).id


def test_ingest_is_idempotent_by_channel_and_remote_id(store: Store) -> None:
    first = comment(store, "Danke!")
    again = ingest(
        store,
        GUIDELINE,
        "twitter",
        RemoteComment("1", "100", "100", "x", "y", "anders", NOW, None),
        NOW,
    )
    assert (again.id, again.created) == (first, False)
    assert moderation.show(store, first).text == "Danke!"


def test_a_decision_is_made_once_and_the_loser_hears_who_was_first(store: Store) -> None:
    cid = comment(store, "Danke!")
    done = moderation.approve(store, cid, actor="anna@x.org", now=NOW)
    assert done.state == "approved" and done.responded_at == NOW
    with pytest.raises(Conflict, match=r"approve by anna@x\.org"):
        moderation.reject(store, cid, actor="ben@x.org", now=NOW)
    with pytest.raises(Conflict, match="is approved now, not new"):
        moderation.approve(store, cid, actor="ben@x.org", now=NOW, expected_state="new")
    # withdrawing a public comment needs the actor to have seen that it is public
    later = NOW + timedelta(hours=1)
    withdrawn = moderation.reject(
        store, cid, actor="ben@x.org", now=later, reason="Beleidigung", expected_state="approved"
    )
    assert withdrawn.state == "rejected" and withdrawn.responded_at == NOW
    with store.transaction() as session:
        events = [(e.action, e.actor) for e in audit.events_for(session, "comment", str(cid))]
    assert events == [
        ("comment.received", audit.SYSTEM),
        ("comment.approve", "anna@x.org"),
        ("comment.reject", "ben@x.org"),
    ]


def test_silence_needs_a_known_reason_and_escalation_a_known_contact(store: Store) -> None:
    cid = comment(store, "Ihr seid alle unfähig")
    with pytest.raises(NotAllowed, match="troll"):
        moderation.silence(store, cid, actor="a@x.org", now=NOW, reason="keine Lust")
    with pytest.raises(NotAllowed, match="unknown contact 'chef'"):
        moderation.escalate(
            store, cid, actor="a@x.org", now=NOW, contact="chef", guideline=GUIDELINE
        )
    silent = moderation.silence(store, cid, actor="a@x.org", now=NOW, reason="troll")
    assert (silent.state, silent.reason) == ("silent", "troll")


def test_escalated_comments_wait_for_resolve_before_any_reply(store: Store) -> None:
    cid = comment(store, "Wir haben seit gestern kein Wasser!")
    view = moderation.show(store, cid)
    assert (view.state, view.category, view.assigned_to) == ("escalated", "Störungen", "leitstelle")
    assert view.responded_at is None  # escalation does not stop the clock
    with pytest.raises(NotAllowed, match="escalated to leitstelle"):
        moderation.reply(store, GUIDELINE, cid, "Wir kümmern uns.", actor="a@x.org", now=NOW)
    moderation.resolve(store, cid, actor="leitstelle@x.org", now=NOW)
    pending = moderation.reply(store, GUIDELINE, cid, "Wir kümmern uns.", actor="a@x.org", now=NOW)
    assert pending.status == "pending"
    with pytest.raises(NotAllowed, match="second person"):
        moderation.approve_reply(store, pending.id, actor="a@x.org", now=NOW)
    queued = moderation.approve_reply(store, pending.id, actor="b@x.org", now=NOW)
    assert (queued.status, queued.approved_by) == ("queued", "b@x.org")
    with pytest.raises(Conflict, match="not pending"):
        moderation.approve_reply(store, pending.id, actor="c@x.org", now=NOW)


def test_a_forbidden_phrase_refuses_the_reply_and_stores_nothing(store: Store) -> None:
    cid = comment(store, "Ist die Versorgung sicher?")
    with pytest.raises(ReplyRefused) as refused:
        moderation.reply(store, GUIDELINE, cid, "Das garantieren wir!", actor="a@x.org", now=NOW)
    assert any("garantieren" in f.message for f in refused.value.findings)
    assert moderation.show(store, cid).replies == []
    first = moderation.reply(store, GUIDELINE, cid, "Ja, sie ist sicher.", actor="a@x.org", now=NOW)
    again = moderation.reply(
        store, GUIDELINE, cid, "Ja,  sie ist sicher.", actor="b@x.org", now=NOW
    )
    assert first.id == again.id and first.status == "queued"


def test_rejected_and_silenced_comments_get_no_answer(store: Store) -> None:
    cid = comment(store, "Frage")
    moderation.reject(store, cid, actor="a@x.org", now=NOW)
    with pytest.raises(NotAllowed, match="rejected"):
        moderation.reply(store, GUIDELINE, cid, "Antwort", actor="a@x.org", now=NOW)


def test_retention_erases_old_rejected_comments_only(store: Store) -> None:
    old = comment(
        store, "Kauft hier: https://a.de https://b.de https://c.de", "1", NOW - timedelta(days=40)
    )
    fresh = comment(store, "Kauft dort: https://a.de https://b.de https://d.de", "2", NOW)
    kept = comment(store, "Danke", "3", NOW - timedelta(days=40))
    moderation.approve(store, kept, actor="a@x.org", now=NOW)
    assert moderation.show(store, old).state == "rejected"  # spam, rejected on arrival
    assert moderation.purge(store, 30, NOW) == 1
    erased = moderation.show(store, old)
    assert (erased.text, erased.author_handle, erased.author_name, erased.reason) == (
        "",
        None,
        None,
        "purged",
    )
    assert moderation.show(store, fresh).text.startswith("Kauft dort")
    assert moderation.show(store, kept).text == "Danke"
    assert moderation.purge(store, 30, NOW) == 0


def test_the_report_counts_response_times_breaches_and_decisions(store: Store) -> None:
    quick = comment(store, "Frage eins", "1")
    slow = comment(store, "Frage zwei", "2")
    open_ = comment(store, "Frage drei", "3")
    comment(store, "Kein Strom in der Elbstraße", "4")
    moderation.approve(store, quick, actor="a@x.org", now=NOW + timedelta(minutes=30))
    moderation.silence(store, slow, actor="a@x.org", now=NOW + timedelta(days=3), reason="troll")
    rows = {
        (r.channel, r.category): r
        for r in report(store, None, None, NOW + timedelta(days=5), GUIDELINE)
    }
    ordinary = rows[("twitter", "(none)")]
    assert (ordinary.received, ordinary.responded, ordinary.silent) == (3, 2, 1)
    assert ordinary.median_minutes == 30.0
    assert ordinary.breaches == 2  # answered too late, and one never answered
    assert ordinary.target == "1d business time"
    outage = rows[("twitter", "Störungen")]
    assert (outage.escalations, outage.target) == (1, "1h around the clock")
    assert moderation.show(store, open_).state == "new"


def test_percentile_is_a_value_that_occurred() -> None:
    assert percentile([], 0.9) is None
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.5) == 20.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_one_answer_submitted_several_times_at_once_is_stored_once(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A double click, or `comment reply` run again while the first still runs: one
    reply row, so the comment is answered once (Facebook would post both comments)."""
    url = (f"sqlite:///{tmp_path / 'store.db'}" if dialect == "sqlite"
           else str(request.getfixturevalue("postgresql_url")))
    with Store(url).upgrade() as store:
        cid = comment(store, "Wann kommt der Techniker?")
        barrier = threading.Barrier(4)
        ids: list[int] = []

        def submit() -> None:
            barrier.wait()
            view = moderation.reply(store, GUIDELINE, cid, "Morgen früh, wir melden uns.",
                                    actor="a@x.org", now=NOW)
            ids.append(view.id)

        threads = [threading.Thread(target=submit) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert len(ids) == 4 and len(set(ids)) == 1
        assert len(moderation.show(store, cid).replies) == 1

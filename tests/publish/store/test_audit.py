"""The audit log: written with the change it describes, read back by subject or by time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from publish.store import Store, audit

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_events_keep_their_details_including_umlauts(store: Store) -> None:
    details = {"reason": "„Preiserhöhung“ ist ein Eskalationswort", "n": 3, "tags": ["a", "ß"]}
    with store.transaction() as session:
        audit.record(session, "lena.berger@kranich.example", "comment.escalated", "comment",
                     "17", details, NOW)  # fmt: skip
    with store.session() as session:
        (event,) = audit.events_for(session, "comment", "17")
    assert event.details == details
    assert (event.actor, event.action, event.at) == (
        "lena.berger@kranich.example",
        "comment.escalated",
        NOW,
    )


def test_an_event_in_a_rolled_back_transaction_is_gone(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as session:
        audit.record(session, audit.SYSTEM, "ledger.posted", "piece", "social/a.md", {}, NOW)
        raise RuntimeError("the change failed after the event was written")
    with store.session() as session:
        assert audit.events_for(session, "piece", "social/a.md") == []


def test_history_is_oldest_first_and_recent_is_newest_first_and_filtered(store: Store) -> None:
    with store.transaction() as session:
        for minute, (actor, action, subject) in enumerate(
            [
                ("dialogpress", "ledger.intent", "social/a.md"),
                ("dialogpress", "ledger.posted", "social/a.md"),
                ("editor@kranich.example", "ledger.skipped", "social/b.md"),
                ("dialogpress", "channel.paused", "twitter"),
            ]
        ):
            subject_type = "channel" if subject == "twitter" else "piece"
            audit.record(session, actor, action, subject_type, subject, None,
                         NOW + timedelta(minutes=minute))  # fmt: skip
    with store.session() as session:
        history = audit.events_for(session, "piece", "social/a.md")
        assert [e.action for e in history] == ["ledger.intent", "ledger.posted"]
        assert [e.action for e in audit.events_for(session, "piece", "social/a.md", limit=1)] == [
            "ledger.intent"
        ]
        newest = audit.recent(session)
        assert [e.action for e in newest] == [
            "channel.paused",
            "ledger.skipped",
            "ledger.posted",
            "ledger.intent",
        ]
        assert [e.action for e in audit.recent(session, limit=1)] == ["channel.paused"]
        since = audit.recent(session, since=NOW + timedelta(minutes=2))
        assert [e.action for e in since] == ["channel.paused", "ledger.skipped"]
        by_person = audit.recent(session, actor="editor@kranich.example")
        assert [e.subject_id for e in by_person] == ["social/b.md"]
        assert [e.subject_id for e in audit.recent(session, subject_type="channel")] == ["twitter"]
        assert [e.id for e in audit.recent(session, action="ledger.posted")] == [history[1].id]

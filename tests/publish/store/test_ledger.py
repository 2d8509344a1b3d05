"""The ledger's state machine, its leases and its races, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from publish.store import (
    Conflict,
    LedgerEntry,
    NotFound,
    Status,
    Store,
    audit,
    channel_state,
    ledger,
)

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PIECE = "social/2026-11-24-advent.md"
LATER = NOW + timedelta(minutes=1)


def _intent(store: Store, piece: str = PIECE, channel: str = "twitter", part: int = 0) -> int:
    with store.transaction() as session:
        entry = ledger.record_intent(
            session, piece, channel, part, "sha256:abc", f"Adventszeiten „{part}“", NOW
        )
        return entry.id


def _sending(store: Store, worker: str = "w1", when: datetime = NOW) -> int:
    entry_id = _intent(store)
    with store.transaction() as session:
        ledger.claim(session, entry_id, worker, when)
    with store.transaction() as session:
        ledger.begin_send(session, entry_id, worker, when)
    return entry_id


def _actions(store: Store, piece: str = PIECE) -> list[str]:
    with store.session() as session:
        return [event.action for event in audit.events_for(session, "piece", piece)]


def _entry(store: Store, entry_id: int) -> LedgerEntry:
    with store.session() as session:
        return ledger.get(session, entry_id)


def test_record_intent_creates_an_intent_and_audits_it(store: Store) -> None:
    entry_id = _intent(store)
    entry = _entry(store, entry_id)
    assert (entry.piece_id, entry.channel, entry.part_index) == (PIECE, "twitter", 0)
    assert entry.status == Status.INTENT and entry.attempts == 0
    assert entry.text == "Adventszeiten „0“"
    assert entry.created_at == entry.updated_at == NOW
    assert not entry.in_doubt
    with store.session() as session:
        (event,) = audit.events_for(session, "piece", PIECE)
    assert event.action == "ledger.intent" and event.actor == audit.SYSTEM
    assert event.details == {
        "entry_id": entry_id,
        "channel": "twitter",
        "part_index": 0,
        "to": "intent",
        "content_hash": "sha256:abc",
    }


def test_recording_the_same_intent_again_returns_the_existing_row(store: Store) -> None:
    first = _intent(store)
    with store.transaction() as session:
        ledger.claim(session, first, "w1", NOW)
        ledger.begin_send(session, first, "w1", NOW)
        ledger.mark_posted(session, first, "1860", "https://x.com/s/status/1860", NOW)
    with store.transaction() as session:
        again = ledger.record_intent(session, PIECE, "twitter", 0, "sha256:new", "changed", LATER)
    assert again.id == first
    assert again.status == Status.POSTED and again.text == "Adventszeiten „0“"
    assert _actions(store).count("ledger.intent") == 1


def test_parts_and_channels_are_separate_entries(store: Store) -> None:
    ids = {_intent(store, part=0), _intent(store, part=1), _intent(store, channel="facebook")}
    assert len(ids) == 3
    with store.session() as session:
        entries = ledger.entries_for(session, PIECE)
        assert [(e.channel, e.part_index) for e in entries] == [
            ("facebook", 0),
            ("twitter", 0),
            ("twitter", 1),
        ]
        assert [e.channel for e in ledger.entries_for(session, PIECE, "facebook")] == ["facebook"]


def test_concurrent_workers_recording_one_intent_get_one_row(store: Store) -> None:
    workers = 4
    barrier = threading.Barrier(workers)
    ids: list[int] = []
    errors: list[BaseException] = []

    def record() -> None:
        try:
            with store.session() as session, session.begin():
                barrier.wait()
                entry = ledger.record_intent(session, PIECE, "twitter", 0, "h", "t", NOW)
                ids.append(entry.id)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    _run_threads([record] * workers)
    assert errors == []
    assert len(ids) == workers and len(set(ids)) == 1
    assert _actions(store) == ["ledger.intent"]


def test_the_full_protocol_posts_once_and_records_every_step(store: Store) -> None:
    entry_id = _intent(store)
    with store.transaction() as session:
        claimed = ledger.claim(session, entry_id, "worker-1", NOW)
    assert claimed.claimed_by == "worker-1"
    assert claimed.claimed_until == NOW + ledger.DEFAULT_LEASE
    with store.transaction() as session:
        sending = ledger.begin_send(session, entry_id, "worker-1", NOW, reply_to_remote_id="1859")
    assert sending.in_doubt and sending.attempts == 1 and sending.sending_since == NOW
    assert sending.reply_to_remote_id == "1859"
    with store.transaction() as session:
        posted = ledger.mark_posted(
            session, entry_id, "1860", "https://x.com/stadtwerke/status/1860", LATER
        )
    assert posted.status == Status.POSTED
    assert (posted.remote_id, posted.remote_url) == ("1860", "https://x.com/stadtwerke/status/1860")
    assert posted.posted_at == LATER and posted.updated_at == LATER
    assert posted.claimed_by is None and posted.sending_since is None and not posted.in_doubt
    assert _actions(store) == ["ledger.intent", "ledger.send", "ledger.posted"]
    with store.session() as session:
        send_event = audit.events_for(session, "piece", PIECE)[1]
    assert send_event.actor == "worker-1"
    assert send_event.details["reply_to_remote_id"] == "1859"


def test_mark_posted_needs_a_send_first(store: Store) -> None:
    entry_id = _intent(store)
    with pytest.raises(Conflict), store.transaction() as session:
        ledger.mark_posted(session, entry_id, "1", None, NOW)
    assert _entry(store, entry_id).status == Status.INTENT


def test_a_second_worker_cannot_claim_a_held_entry(store: Store) -> None:
    entry_id = _intent(store)
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w1", NOW)
    with pytest.raises(Conflict, match="claimed by w1"), store.transaction() as session:
        ledger.claim(session, entry_id, "w2", LATER)
    with store.transaction() as session:  # the holder may renew its own lease
        renewed = ledger.claim(session, entry_id, "w1", LATER)
    assert renewed.claimed_until == LATER + ledger.DEFAULT_LEASE


def test_an_expired_lease_can_be_taken_over_and_the_old_holder_cannot_send(store: Store) -> None:
    entry_id = _intent(store)
    lease = timedelta(minutes=5)
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w1", NOW, lease=lease)
    expired = NOW + lease
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w2", expired)
    with pytest.raises(Conflict, match="claimed by w2"), store.transaction() as session:
        ledger.begin_send(session, entry_id, "w1", expired)


def test_sending_needs_an_unexpired_lease(store: Store) -> None:
    entry_id = _intent(store)
    with pytest.raises(Conflict), store.transaction() as session:
        ledger.begin_send(session, entry_id, "w1", NOW)  # never claimed
    lease = timedelta(minutes=5)
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w1", NOW, lease=lease)
    with pytest.raises(Conflict, match="expired"), store.transaction() as session:
        ledger.begin_send(session, entry_id, "w1", NOW + lease)
    assert _entry(store, entry_id).attempts == 0


def test_a_crash_after_sending_forces_reconciliation_before_a_second_send(store: Store) -> None:
    entry_id = _sending(store, "w1")  # ...and w1 dies without recording an outcome
    after_lease = NOW + ledger.DEFAULT_LEASE
    with store.session() as session:
        assert [e.id for e in ledger.in_doubt(session)] == [entry_id]
    with store.transaction() as session:
        taken = ledger.claim(session, entry_id, "w2", after_lease)
    assert taken.in_doubt
    with pytest.raises(Conflict, match="in doubt"), store.transaction() as session:
        ledger.begin_send(session, entry_id, "w2", after_lease)
    with store.transaction() as session:  # looked on the network: not there
        ledger.mark_absent(session, entry_id, after_lease, actor="w2")
    with store.transaction() as session:
        again = ledger.begin_send(session, entry_id, "w2", after_lease)
    assert again.attempts == 2
    assert _actions(store) == [
        "ledger.intent",
        "ledger.send",
        "ledger.reconciled-absent",
        "ledger.send",
    ]


def test_reconciliation_that_finds_the_post_records_it_without_sending(store: Store) -> None:
    entry_id = _sending(store, "w1")
    after_lease = NOW + ledger.DEFAULT_LEASE
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w2", after_lease)
        found = ledger.mark_posted(
            session, entry_id, "1860", "https://x.com/s/status/1860", after_lease, reconciled=True
        )
    assert found.status == Status.POSTED and found.attempts == 1
    assert _actions(store)[-1] == "ledger.reconciled-posted"


def test_mark_absent_is_only_for_entries_in_doubt(store: Store) -> None:
    entry_id = _intent(store)
    with pytest.raises(Conflict), store.transaction() as session:
        ledger.mark_absent(session, entry_id, NOW)


def test_a_definite_failure_schedules_a_retry_after_the_backoff(store: Store) -> None:
    entry_id = _sending(store)
    retry_at = NOW + timedelta(minutes=2)
    with store.transaction() as session:
        waiting = ledger.schedule_retry(session, entry_id, "503 from api.x.com", retry_at, NOW)
    assert waiting.status == Status.INTENT and not waiting.in_doubt
    assert waiting.next_attempt_at == retry_at and waiting.error == "503 from api.x.com"
    assert waiting.claimed_by is None
    with store.session() as session:
        assert ledger.due(session, NOW) == []
        assert [e.id for e in ledger.due(session, retry_at)] == [entry_id]
    with pytest.raises(Conflict, match="next attempt"), store.transaction() as session:
        ledger.claim(session, entry_id, "w1", NOW)
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w1", retry_at)
        assert ledger.begin_send(session, entry_id, "w1", retry_at).attempts == 2


def test_a_timeout_keeps_the_entry_in_doubt_for_the_retry(store: Store) -> None:
    entry_id = _sending(store)
    retry_at = NOW + timedelta(minutes=2)
    with store.transaction() as session:
        waiting = ledger.schedule_retry(
            session, entry_id, "read timed out", retry_at, NOW, maybe_posted=True
        )
    assert waiting.in_doubt and waiting.claimed_by is None
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w1", retry_at)
    with pytest.raises(Conflict, match="in doubt"), store.transaction() as session:
        ledger.begin_send(session, entry_id, "w1", retry_at)


def test_maybe_posted_needs_a_send(store: Store) -> None:
    entry_id = _intent(store)
    with pytest.raises(Conflict), store.transaction() as session:
        ledger.schedule_retry(session, entry_id, "timeout", None, NOW, maybe_posted=True)


def test_a_rejection_fails_the_entry_until_a_person_releases_it(store: Store) -> None:
    entry_id = _sending(store)
    with store.transaction() as session:
        failed = ledger.mark_failed(session, entry_id, "Rejected: duplicate content", NOW)
    assert failed.status == Status.FAILED and failed.error == "Rejected: duplicate content"
    assert not failed.in_doubt and failed.claimed_by is None
    with store.session() as session:
        assert ledger.open_intents(session) == []
        assert [e.id for e in ledger.by_status(session, Status.FAILED)] == [entry_id]
    with store.transaction() as session:
        released = ledger.release(session, entry_id, "lena.berger@kranich.example", LATER)
    assert released.status == Status.INTENT and released.attempts == 0
    assert released.released_at == LATER and released.error is None
    with store.session() as session:
        last = audit.events_for(session, "piece", PIECE)[-1]
    assert (last.action, last.actor) == ("ledger.released", "lena.berger@kranich.example")
    assert (last.details["from"], last.details["to"]) == ("failed", "intent")


def test_a_late_entry_waits_for_release_and_is_never_held_again(store: Store) -> None:
    entry_id = _intent(store)
    with store.transaction() as session:
        held = ledger.mark_late(session, entry_id, "due 2026-11-24 09:00, 7 h ago", NOW)
    assert held.status == Status.LATE
    with store.session() as session:
        assert ledger.due(session, NOW) == []
        assert [e.id for e in ledger.by_status(session, Status.LATE)] == [entry_id]
    with store.transaction() as session:
        ledger.release(session, entry_id, "editor@kranich.example", LATER)
    with pytest.raises(Conflict, match="released"), store.transaction() as session:
        ledger.mark_late(session, entry_id, "still late", LATER)
    with store.session() as session:
        assert [e.id for e in ledger.due(session, LATER)] == [entry_id]


def test_an_entry_in_doubt_cannot_be_held_late_or_skipped(store: Store) -> None:
    entry_id = _sending(store)
    after_lease = NOW + ledger.DEFAULT_LEASE
    with pytest.raises(Conflict, match="in doubt"), store.transaction() as session:
        ledger.mark_late(session, entry_id, "late", after_lease)
    with pytest.raises(Conflict, match="in doubt"), store.transaction() as session:
        ledger.skip(session, entry_id, "editor@kranich.example", after_lease)
    assert _entry(store, entry_id).status == Status.INTENT


@pytest.mark.parametrize("start", ["intent", "late", "failed"])
def test_a_person_can_skip_what_was_not_sent(store: Store, start: str) -> None:
    entry_id = _intent(store)
    with store.transaction() as session:
        if start == "late":
            ledger.mark_late(session, entry_id, "late", NOW)
        if start == "failed":
            ledger.mark_failed(session, entry_id, "rejected", NOW)
    with store.transaction() as session:
        skipped = ledger.skip(session, entry_id, "editor@kranich.example", LATER, "zu spät")
    assert skipped.status == Status.SKIPPED and skipped.error == "zu spät"
    with store.session() as session:
        last = audit.events_for(session, "piece", PIECE)[-1]
    assert last.details["from"] == start and last.details["reason"] == "zu spät"


def test_retracting_is_only_for_posted_entries_and_only_once(store: Store) -> None:
    entry_id = _intent(store)
    with pytest.raises(Conflict, match="it is intent, not posted"), store.transaction() as s:
        ledger.mark_retracted(s, entry_id, "editor@kranich.example", NOW)
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w1", NOW)
        ledger.begin_send(session, entry_id, "w1", NOW)
        ledger.mark_posted(session, entry_id, "1860", None, NOW)
    with store.transaction() as session:
        gone = ledger.mark_retracted(session, entry_id, "editor@kranich.example", LATER)
    assert gone.status == Status.RETRACTED and gone.retracted_at == LATER
    assert gone.remote_id == "1860"
    with pytest.raises(Conflict, match="it is retracted"), store.transaction() as session:
        ledger.mark_retracted(session, entry_id, "editor@kranich.example", LATER)


@pytest.mark.parametrize(
    "change",
    [
        lambda s, i: ledger.release(s, i, "p", NOW),
        lambda s, i: ledger.mark_late(s, i, "late", NOW),
        lambda s, i: ledger.mark_failed(s, i, "x", NOW),
        lambda s, i: ledger.schedule_retry(s, i, "x", None, NOW),
        lambda s, i: ledger.claim(s, i, "w", NOW),
        lambda s, i: ledger.skip(s, i, "p", NOW),
    ],
    ids=["release", "late", "failed", "retry", "claim", "skip"],
)
def test_nothing_moves_a_posted_entry_but_retraction(
    store: Store, change: Callable[[Any, int], object]
) -> None:
    entry_id = _sending(store)
    with store.transaction() as session:
        ledger.mark_posted(session, entry_id, "1860", None, NOW)
    events_before = _actions(store)
    with pytest.raises(Conflict, match="it is posted"), store.transaction() as session:
        change(session, entry_id)
    assert _entry(store, entry_id).status == Status.POSTED
    assert _actions(store) == events_before


def test_a_stale_read_loses_instead_of_overwriting(store: Store) -> None:
    """Two sessions both saw the entry as intent; the second change is refused."""
    entry_id = _sending(store)
    first, second = store.session(), store.session()
    try:
        with first.begin():
            assert ledger.get(first, entry_id).status == Status.INTENT
        with second.begin():
            assert ledger.get(second, entry_id).status == Status.INTENT
        with first.begin():
            ledger.mark_posted(first, entry_id, "1860", None, NOW)
        with pytest.raises(Conflict, match="it is posted"), second.begin():
            ledger.mark_failed(second, entry_id, "Rejected", NOW)
    finally:
        first.close()
        second.close()
    assert _entry(store, entry_id).status == Status.POSTED
    assert _actions(store).count("ledger.failed") == 0


def test_a_failed_transition_leaves_no_audit_event(store: Store) -> None:
    entry_id = _intent(store)
    with pytest.raises(Conflict), store.transaction() as session:
        ledger.mark_retracted(session, entry_id, "p", NOW)
    assert _actions(store) == ["ledger.intent"]


def test_unknown_entries_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound), store.transaction() as session:
        ledger.mark_failed(session, 4711, "x", NOW)
    with pytest.raises(NotFound), store.transaction() as session:
        ledger.skip(session, 4711, "p", NOW)
    with store.session() as session:
        assert ledger.find(session, PIECE, "twitter", 0) is None


def _run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _race(store: Store, entry_id: int, changes: list[Callable[[Any], object]]) -> list[str]:
    """Run each change in its own thread and connection at once; what became of each."""
    barrier = threading.Barrier(len(changes))
    outcomes: list[str] = []

    def contender(change: Callable[[Any], object]) -> Callable[[], None]:
        def run() -> None:
            with store.session() as session:
                try:
                    barrier.wait()
                    with session.begin():
                        change(session)
                    outcomes.append("won")
                except Conflict:
                    outcomes.append("lost")
                except BaseException as exc:  # reported by the caller's assertion
                    outcomes.append(f"error: {exc!r}")

        return run

    _run_threads([contender(change) for change in changes])
    return outcomes


@pytest.mark.parametrize("round_", range(5))
def test_two_workers_racing_for_a_claim_exactly_one_wins(store: Store, round_: int) -> None:
    entry_id = _intent(store, part=round_)
    outcomes = _race(
        store,
        entry_id,
        [
            lambda s: ledger.claim(s, entry_id, "w1", NOW),
            lambda s: ledger.claim(s, entry_id, "w2", NOW),
        ],
    )
    assert sorted(outcomes) == ["lost", "won"]
    assert _entry(store, entry_id).claimed_by in {"w1", "w2"}


@pytest.mark.parametrize("round_", range(5))
def test_racing_outcomes_exactly_one_is_recorded(store: Store, round_: int) -> None:
    entry_id = _sending_part(store, round_)
    outcomes = _race(
        store,
        entry_id,
        [
            lambda s: ledger.mark_posted(s, entry_id, "1860", None, LATER),
            lambda s: ledger.mark_failed(s, entry_id, "Rejected", LATER),
        ],
    )
    assert sorted(outcomes) == ["lost", "won"]
    status = _entry(store, entry_id).status
    with store.session() as session:
        outcomes_audited = [
            e.action
            for e in audit.events_for(session, "piece", PIECE)
            if e.details["entry_id"] == entry_id and e.action in {"ledger.posted", "ledger.failed"}
        ]
    assert outcomes_audited == [f"ledger.{status}"]


def _sending_part(store: Store, part: int) -> int:
    entry_id = _intent(store, part=part)
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w1", NOW)
        ledger.begin_send(session, entry_id, "w1", NOW)
    return entry_id


def test_due_leaves_out_claimed_waiting_and_paused_entries_and_keeps_part_order(
    store: Store,
) -> None:
    parts = [_intent(store, part=index) for index in range(3)]
    claimed = _intent(store, piece="social/claimed.md")
    waiting = _intent(store, piece="social/waiting.md")
    paused = _intent(store, piece="social/paused.md", channel="facebook")
    with store.transaction() as session:
        ledger.claim(session, claimed, "w1", NOW)
        ledger.claim(session, waiting, "w1", NOW)
        ledger.schedule_retry(session, waiting, "503", NOW + timedelta(hours=1), NOW)
        channel_state.pause(session, "facebook", NOW + timedelta(minutes=15), "429", NOW)
    with store.session() as session:
        assert [e.id for e in ledger.due(session, NOW)] == parts
        assert [e.id for e in ledger.due(session, NOW, channel="facebook")] == []
        assert [e.id for e in ledger.due(session, NOW, limit=1)] == parts[:1]
        later = NOW + timedelta(hours=2)  # the lease, the backoff and the pause are over
        assert set(e.id for e in ledger.due(session, later)) == {
            *parts,
            claimed,
            waiting,
            paused,
        }
        assert len(ledger.open_intents(session)) == 6
        assert [e.id for e in ledger.open_intents(session, "facebook")] == [paused]


def test_unclaim_gives_the_lease_back(store: Store) -> None:
    entry_id = _intent(store)
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w1", NOW)
    with pytest.raises(Conflict), store.transaction() as session:
        ledger.unclaim(session, entry_id, "w2", NOW)
    with store.transaction() as session:
        ledger.unclaim(session, entry_id, "w1", NOW)
        ledger.claim(session, entry_id, "w2", NOW)
    assert _entry(store, entry_id).claimed_by == "w2"
    assert _actions(store) == ["ledger.intent"]  # leases are bookkeeping, not history


# --- one network post, one entry --------------------------------------------------------


def _posted(store: Store, piece: str, remote_id: str) -> int:
    entry_id = _intent(store, piece)
    with store.transaction() as session:
        ledger.claim(session, entry_id, "w1", NOW)
        ledger.begin_send(session, entry_id, "w1", NOW)
        ledger.mark_posted(session, entry_id, remote_id, None, NOW)
    return entry_id


def test_a_post_another_entry_carries_is_never_recorded_for_a_second(store: Store) -> None:
    _posted(store, "social/notice-1.md", "1900000000000000001")
    other = _intent(store, "social/notice-2.md")
    with store.transaction() as session:
        ledger.claim(session, other, "w1", NOW)
        ledger.begin_send(session, other, "w1", NOW)

    with pytest.raises(Conflict, match=r"carries social/notice-1.md \(part 1\)"), \
            store.transaction() as session:
        ledger.mark_posted(session, other, "1900000000000000001", None, LATER, reconciled=True)

    with store.transaction() as session:
        entry = ledger.get(session, other)
        assert entry.status == Status.INTENT and entry.in_doubt and entry.remote_id is None
        # the same id on another channel is another post
        facebook = ledger.record_intent(session, "social/notice-2.md", "facebook", 0, "h", "t",
                                        NOW)
        ledger.claim(session, facebook.id, "w1", NOW)
        ledger.begin_send(session, facebook.id, "w1", NOW)
        ledger.mark_posted(session, facebook.id, "1900000000000000001", None, NOW)


def test_the_database_refuses_one_post_for_two_entries_whatever_the_code_does(
    store: Store,
) -> None:
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    _posted(store, "social/notice-1.md", "1900000000000000001")
    other = _intent(store, "social/notice-2.md")
    with pytest.raises(IntegrityError), store.transaction() as session:
        session.execute(
            update(LedgerEntry).where(LedgerEntry.id == other)
            .values(status="posted", remote_id="1900000000000000001")
        )

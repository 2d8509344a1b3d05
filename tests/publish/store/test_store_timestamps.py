"""Times go in aware and come out aware, as the same instant, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from publish.store import Store, ledger
from publish.store.models import LedgerEntry

BERLIN = ZoneInfo("Europe/Berlin")


def _stored(store: Store, when: datetime) -> datetime:
    with store.transaction() as session:
        entry = ledger.record_intent(session, "social/a.md", "twitter", 0, "h", "t", when)
        entry_id = entry.id
    with store.session() as session:
        fresh = session.get(LedgerEntry, entry_id)
        assert fresh is not None
        return fresh.created_at


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 11, 24, 9, 0, tzinfo=BERLIN),  # winter time, UTC+1
        datetime(2026, 7, 1, 9, 0, tzinfo=BERLIN),  # summer time, UTC+2
        # 02:30 happens twice when the clocks go back; fold=1 is the second, winter one
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN),
        datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=UTC),
    ],
    ids=["winter", "summer", "fall-back-second-0230", "utc-microseconds"],
)
def test_aware_times_come_back_as_the_same_instant_in_utc(store: Store, when: datetime) -> None:
    back = _stored(store, when)
    # compared in UTC: Python calls times in the repeated hour unequal across zones (PEP 495)
    assert back == when.astimezone(UTC)
    local = back.astimezone(when.tzinfo)
    assert (local.replace(tzinfo=None), local.fold) == (when.replace(tzinfo=None), when.fold)
    assert back.utcoffset() == timedelta(0)
    assert back.tzinfo is UTC


def test_the_two_berlin_0230s_of_the_fall_back_night_stay_an_hour_apart(store: Store) -> None:
    first = datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=BERLIN)
    second = first.replace(fold=1)
    with store.transaction() as session:
        a = ledger.record_intent(session, "social/a.md", "twitter", 0, "h", "t", first)
        b = ledger.record_intent(session, "social/b.md", "twitter", 0, "h", "t", second)
        ids = (a.id, b.id)
    with store.session() as session:
        times = [session.get(LedgerEntry, entry_id).created_at for entry_id in ids]  # type: ignore[union-attr]
    assert times[1] - times[0] == timedelta(hours=1)


def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"), store.transaction() as session:
        ledger.record_intent(session, "social/a.md", "twitter", 0, "h", "t", datetime(2026, 1, 1))


def test_comparisons_in_queries_use_the_instant_not_the_wall_clock(store: Store) -> None:
    """09:30 in Berlin is before 09:00 in UTC: a query must not compare wall clocks."""
    with store.transaction() as session:
        ledger.record_intent(
            session, "social/a.md", "twitter", 0, "h", "t", datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
        )
    berlin_0930 = datetime(2026, 11, 24, 9, 30, tzinfo=BERLIN)  # 08:30 UTC
    berlin_0830 = datetime(2026, 11, 24, 8, 30, tzinfo=BERLIN)  # 07:30 UTC
    with store.session() as session:
        created = select(LedgerEntry.id).where(LedgerEntry.created_at <= berlin_0930)
        assert len(session.scalars(created).all()) == 1
        early = select(LedgerEntry.id).where(LedgerEntry.created_at <= berlin_0830)
        assert session.scalars(early).all() == []


def test_postgresql_session_time_zone_does_not_change_what_comes_back(
    postgresql_url: str,
) -> None:
    with Store(postgresql_url).upgrade() as store:
        when = datetime(2026, 11, 24, 9, 0, tzinfo=BERLIN)
        with store.transaction() as session:
            entry_id = ledger.record_intent(session, "social/a.md", "x", 0, "h", "t", when).id
        with store.session() as session:
            session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
            back = session.get(LedgerEntry, entry_id)
            assert back is not None
            assert back.created_at == when and back.created_at.tzinfo is UTC

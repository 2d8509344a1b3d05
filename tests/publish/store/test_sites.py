"""Many sites in one database (issue 20): each store sees and changes its site's rows only.

Two views of one database, ``a`` and ``b`` (sharing one engine), write the same piece ids,
comment remote ids, channels and events; every screen's query then answers for its own
site, a targeted change of the other site's row by id touches nothing, and the
agency-wide view (``site=None``) reads both and writes neither. Run on SQLite and
PostgreSQL (tests/publish/store/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import column, delete, func, insert, select, table, update

from editorial.guideline import guideline_for
from publish import moderation
from publish.moderation import response_times, sync
from publish.notify import delivery
from publish.notify.events import Event
from publish.ops import scheduler
from publish.ops.context import production_settings
from publish.posting.channels import RemoteComment
from publish.review.requests import RequestedPiece, create_review
from publish.settings import notify_settings
from publish.store import Store, channel_state, ledger, open_store
from publish.store.errors import NotFound, StoreError
from publish.store.inserts import insert_new
from publish.store.models import (
    AuditEvent,
    ChannelState,
    Comment,
    LedgerEntry,
    Notification,
    ReviewLink,
    ReviewRequest,
    SchedulerRun,
)
from publish.store.timestamps import UTCDateTime

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
GUIDELINE = guideline_for(production_settings(ROOT / "pelicanconf.py"))


@pytest.fixture
def sites(store: Store) -> Iterator[tuple[Store, Store]]:
    """The views of sites ``a`` and ``b`` on one migrated database."""
    yield store.scoped("site-a"), store.scoped("b")


def _remote(remote_id: str, text: str, at: datetime = NOW) -> RemoteComment:
    return RemoteComment(
        remote_id=remote_id, parent_id="post-1", post_id="post-1", author_handle="h",
        author_name="H", text=text, created_at=at, permalink=None,
    )  # fmt: skip


def _fill(view: Store, words: str) -> int:
    """One of everything a site keeps, with the same keys in every site; the comment id."""
    with view.transaction() as session:
        ledger.record_intent(session, "social/notice.md", "twitter", 0, "h", words, NOW)
        channel_state.pause(session, "twitter", NOW + timedelta(hours=1), words, NOW)
        session.add(SchedulerRun(started_at=NOW, status="ok", summary={"site": words}))
    done = sync.ingest(view, GUIDELINE, "facebook", _remote("c-1", f"Frage: {words}"), NOW)
    config = notify_settings(
        {"TIMEZONE": "Europe/Berlin", "NOTIFY": {"enabled": True, "mail_to": ["o@a.example"]}}
    )
    event = Event(kind="breach", subject="comment:1", threshold="due", title=words, text=words)
    assert delivery.record(view, [event], config, NOW) == 1
    with view.transaction() as session:
        create_review(
            session, branch="review/x", base="main", head="abc", requested_by=words,
            pieces=[RequestedPiece("posts/x.md", "hash", words)], approvers=["k@kunde.example"],
            note=None, now=NOW, link_lifetime=timedelta(days=7),
        )  # fmt: skip
    return done.id


def test_each_site_sees_only_its_own_rows(sites: tuple[Store, Store]) -> None:
    a, b = sites
    comment_a, comment_b = _fill(a, "Alpha"), _fill(b, "Beta")
    assert comment_a != comment_b  # the same remote id is a comment in each site
    for view, words, comment_id in ((a, "Alpha", comment_a), (b, "Beta", comment_b)):
        with view.read() as session:
            assert [e.text for e in session.scalars(select(LedgerEntry))] == [words]
            state = channel_state.get(session, "twitter")
            assert state is not None and state.paused_reason == words
            assert {e.site for e in session.scalars(select(AuditEvent))} == {view.site}
            assert session.scalar(select(func.count()).select_from(Comment)) == 1
            assert [n.title for n in session.scalars(select(Notification))] == [words]
            assert [r.requested_by for r in session.scalars(select(ReviewRequest))] == [words]
            assert session.scalar(select(func.count()).select_from(ReviewLink)) == 1
        assert [run.summary for run in scheduler.runs(view)] == [{"site": words}]
        page = moderation.inbox_page(view)
        assert [c.id for c in page.comments] == [comment_id]
        assert [c.id for c in moderation.thread(view, comment_id)] == [comment_id]
        other = comment_b if view is a else comment_a
        with pytest.raises(NotFound):
            moderation.show(view, other)
        rows = response_times.report(view, NOW - timedelta(days=1), NOW + timedelta(days=1), NOW)
        assert sum(row.received for row in rows) == 1


def test_a_site_cannot_change_another_sites_row(sites: tuple[Store, Store]) -> None:
    a, b = sites
    _fill(a, "Alpha")
    _fill(b, "Beta")
    with b.read() as session:
        b_entry = session.scalars(select(LedgerEntry)).one().id
        b_comment = session.scalars(select(Comment)).one().id
    with a.transaction() as session:
        assert session.get(LedgerEntry, b_entry) is None
        changed = session.execute(
            update(LedgerEntry).where(LedgerEntry.id == b_entry).values(text="taken over")
        )
        assert changed.rowcount == 0  # type: ignore[attr-defined]
        gone = session.execute(delete(Comment).where(Comment.id == b_comment))
        assert gone.rowcount == 0  # type: ignore[attr-defined]
    with b.read() as session:
        assert session.get(LedgerEntry, b_entry).text == "Beta"  # type: ignore[union-attr]
        assert session.get(Comment, b_comment) is not None


def test_a_new_row_cannot_be_filed_under_another_site(sites: tuple[Store, Store]) -> None:
    a, _b = sites
    with pytest.raises(StoreError, match="of site 'b' cannot be added"), a.transaction() as session:
        session.add(SchedulerRun(site="b", started_at=NOW, status="ok", summary={}))


def test_the_agency_view_reads_every_site_and_writes_none(
    store: Store, sites: tuple[Store, Store]
) -> None:
    a, b = sites
    _fill(a, "Alpha")
    _fill(b, "Beta")
    everything = store.scoped(None)
    assert everything.site is None and everything.engine is store.engine
    with everything.read() as session:
        assert {(e.site, e.text) for e in session.scalars(select(LedgerEntry))} == {
            ("site-a", "Alpha"), ("b", "Beta"),
        }  # fmt: skip
        assert {c.site for c in session.scalars(select(ChannelState))} == {"site-a", "b"}
    writes = {
        "add": lambda s: s.add(SchedulerRun(started_at=NOW, status="ok", summary={})),
        "update": lambda s: s.execute(update(LedgerEntry).values(text="x")),
        "delete": lambda s: s.execute(delete(Comment)),
        "change": lambda s: setattr(s.scalars(select(LedgerEntry)).first(), "text", "x"),
        "insert": lambda s: insert_new(
            s, ChannelState.__table__, {"channel": "x", "updated_at": NOW}, ["channel"]  # type: ignore[arg-type]
        ),
    }
    for name, write in writes.items():
        with pytest.raises(StoreError, match="agency-wide view"), everything.transaction() as s:
            write(s)
            s.flush()
        assert name  # each kind of write was refused
    with pytest.raises(StoreError, match="agency-wide view"):
        sync.ingest(everything, GUIDELINE, "facebook", _remote("c-9", "Hallo"), NOW)


def test_a_one_site_store_is_site_empty_and_unchanged(store: Store) -> None:
    assert store.site == ""
    _fill(store, "Solo")
    with store.read() as session:
        assert {e.site for e in session.scalars(select(LedgerEntry))} == {""}
    assert store.scoped("b").site == "b"
    with store.scoped("b").read() as session:
        assert session.scalars(select(LedgerEntry)).first() is None


@pytest.mark.parametrize("key", ["Client", "-a", "a_b", "a" * 64, "ä", "a b"])
def test_a_site_key_that_is_not_one_is_refused_by_name(
    key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(StoreError, match="site="):
        Store(f"sqlite:///{tmp_path / 's.db'}", site=key)
    monkeypatch.setenv("DP_DATABASE_URL", f"sqlite:///{tmp_path / 's.db'}")
    monkeypatch.setenv("DP_SITE", key)
    with pytest.raises(StoreError, match=r"DP_SITE=.*not a site key"):
        open_store({"DP_SETTINGS_FILE": str(tmp_path / "publishconf.py")})


def test_open_store_is_scoped_to_dp_site(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DP_DATABASE_URL", database_url)
    monkeypatch.setenv("DP_SITE", " client-a ")
    with open_store({"DP_SETTINGS_FILE": str(tmp_path / "publishconf.py")}) as opened:
        assert opened.site == "client-a"
    monkeypatch.delenv("DP_SITE")
    with open_store({"DP_SETTINGS_FILE": str(tmp_path / "publishconf.py")}) as opened:
        assert opened.site == ""


def test_the_upgrade_from_0009_keeps_every_row_as_the_one_sites(database_url: str) -> None:
    store = Store(database_url)
    try:
        store.upgrade("0009")
        with store.engine.begin() as connection:
            columns = {
                "piece_id": "social/notice.md", "channel": "twitter", "part_index": 0,
                "content_hash": "h", "text": "Alt", "status": "posted", "attempts": 1,
                "remote_id": "1", "created_at": NOW, "updated_at": NOW,
            }  # fmt: skip
            connection.execute(insert(LedgerEntry.__table__).values(**columns))
            # the table of 0009: its key was the channel alone
            old_state = table(
                "channel_state", column("channel"), column("updated_at", UTCDateTime())
            )
            connection.execute(insert(old_state).values(channel="twitter", updated_at=NOW))
        store.upgrade()
        _fill(store.scoped("b"), "Beta")  # the same keys as the old rows, another site
        with store.read() as session:
            entries = list(session.scalars(select(LedgerEntry)))
            assert [(e.site, e.text) for e in entries] == [("", "Alt")]
            state = channel_state.get(session, "twitter")
            assert state is not None and state.site == "" and state.paused_until is None
        with pytest.raises(RuntimeError, match=r"holds rows of site 'b'"):
            store.downgrade("0009")
    finally:
        store.dispose()

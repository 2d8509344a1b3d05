"""The queries behind the inbox, the thread, the report and the repeat check, at scale.

A store of generated history (``bench/bigstore.py``) on SQLite and PostgreSQL. The
plans are asserted with EXPLAIN on the statements the functions really send (captured
from the engine): none may scan the whole ``comments`` table. On PostgreSQL a table of
a few thousand rows is cheaper to scan than to look up, so the plans are read with
``enable_seqscan`` off: the question is whether an index can answer, not what the
planner prefers for a toy table.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from editorial.guideline import guideline_for
from publish import moderation
from publish.moderation import CommentView, ModerationError, response_times, sync
from publish.ops.context import production_settings
from publish.posting.channels import RemoteComment
from publish.store import Store
from publish.store.errors import StoreError
from publish.store.models import Comment

ROOT = Path(__file__).resolve().parents[3]
SIZE = 3000


def _bigstore() -> Any:
    spec = importlib.util.spec_from_file_location("bigstore", ROOT / "bench" / "bigstore.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bigstore"] = module
    spec.loader.exec_module(module)
    return module


bigstore = _bigstore()
NOW = bigstore.END


@pytest.fixture
def big(store: Store) -> Store:
    bigstore.generate(store, bigstore.Size(comments=SIZE, posts=30, years=1.0))
    return store


def _old_order(store: Store, **filters: Any) -> list[int]:
    """The inbox as it was before pages: every match, sorted in Python."""
    states = filters.get("states") or ["new", "escalated"]
    with store.read() as session:
        query = select(Comment).where(Comment.state.in_(states))
        if filters.get("channel"):
            query = query.where(Comment.channel == filters["channel"])
        if filters.get("category"):
            query = query.where(Comment.category == filters["category"])
        if filters.get("overdue_at"):
            query = query.where(
                Comment.responded_at.is_(None),
                Comment.due_at.is_not(None),
                Comment.due_at < filters["overdue_at"],
            )
        rows = list(session.scalars(query))
    far = datetime.max.replace(tzinfo=NOW.tzinfo)
    return [c.id for c in sorted(rows, key=lambda c: (c.due_at or far, c.created_at, c.id))]


def _paged(store: Store, size: int, **filters: Any) -> list[CommentView]:
    found: list[CommentView] = []
    after = None
    while True:
        page = moderation.inbox_page(store, after=after, limit=size, **filters)
        assert len(page.comments) <= size
        found += page.comments
        if page.next_after is None:
            return found
        assert len(page.comments) == size
        after = page.next_after


FILTERS: list[dict[str, Any]] = [
    {},
    {"channel": "twitter"},
    {"category": "Störungen", "states": ["new", "escalated", "approved", "rejected"]},
    {"overdue_at": NOW - timedelta(days=1)},
    {"states": ["new", "escalated", "resolved", "silent"]},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "default")
def test_pages_hold_the_same_comments_in_the_same_order_as_the_whole_list(
    big: Store, filters: dict[str, Any]
) -> None:
    expected = _old_order(big, **filters)
    assert len(expected) > 10  # several pages, or the test proves nothing
    for size in (50, 7, 3):
        assert [v.id for v in _paged(big, size, **filters)] == expected
    assert [v.id for v in moderation.inbox(big, **filters)] == expected


def test_a_cursor_that_was_not_handed_out_is_refused_by_name(big: Store) -> None:
    for bad in ("nonsense", "2026-01-01T00:00:00~2026-01-01T00:00:00~x", "-~2026-01-01~1"):
        with pytest.raises(ModerationError, match="cursor"):
            moderation.inbox_page(big, after=bad)
    with pytest.raises(ModerationError, match="at least one"):
        moderation.inbox_page(big, limit=0)


def _captured(store: Store, run: Callable[[], object]) -> list[tuple[str, Any]]:
    """The statements on ``comments`` that ``run`` sends, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if "FROM comments" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(store.engine, "before_cursor_execute", grab)
    assert seen, "nothing was asked of the comments table"
    return seen


def _plan(store: Store, statement: str, parameters: Any) -> str:
    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        return "\n".join(str(row[0]) for row in rows)


def _full_scans(store: Store, run: Callable[[], object]) -> list[str]:
    store.maintain()
    plans = [_plan(store, *captured) for captured in _captured(store, run)]
    if store.dialect == "sqlite":
        # "SCAN comments" reads every row; "SEARCH comments USING INDEX …" looks up a range
        return [plan for plan in plans if "SCAN comments" in plan]
    return [plan for plan in plans if "Seq Scan on comments" in plan]


def _repeat_check(store: Store) -> None:
    guideline = guideline_for(production_settings(ROOT / "pelicanconf.py"))
    remote = RemoteComment(
        remote_id="plan-1", parent_id="fa-post-1", post_id="fa-post-1", author_handle="a",
        author_name="A", text="Ein ganz neuer Text", created_at=NOW, permalink=None,
    )  # fmt: skip
    sync.ingest(store, guideline, "facebook", remote, NOW)


QUERIES: dict[str, Callable[[Store], object]] = {
    "inbox": lambda s: moderation.inbox_page(s),
    "inbox by channel": lambda s: moderation.inbox_page(s, channel="facebook"),
    "inbox next page": lambda s: moderation.inbox_page(
        s, after=moderation.inbox_page(s).next_after
    ),
    "inbox overdue": lambda s: moderation.inbox_page(s, overdue_at=NOW),
    "thread": lambda s: moderation.thread(s, 1500),
    "report": lambda s: response_times.report(s, NOW - timedelta(days=28), NOW, NOW),
    "repeat check": _repeat_check,
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_no_query_of_the_screens_scans_the_comments_table(big: Store, name: str) -> None:
    assert _full_scans(big, lambda: QUERIES[name](big)) == []


def test_the_report_counts_what_the_rows_say(big: Store) -> None:
    """The SQL aggregates against a count in Python over the same comments."""
    start, end = NOW - timedelta(days=28), NOW
    rows = {(r.channel, r.category): r for r in response_times.report(big, start, end, NOW)}
    with big.read() as session:
        comments = list(
            session.scalars(
                select(Comment).where(
                    Comment.kind == "reply", Comment.created_at >= start, Comment.created_at < end
                )
            )
        )
    assert sum(r.received for r in rows.values()) == len(comments) > 100
    for (channel, category), row in rows.items():
        group = [
            c for c in comments
            if c.channel == channel and (c.category or response_times.NO_CATEGORY) == category
        ]  # fmt: skip
        real = [c for c in group if not c.spam]
        minutes = [
            (c.responded_at - c.created_at).total_seconds() / 60
            for c in real
            if c.responded_at is not None
        ]
        assert row.received == len(group)
        assert row.spam == len(group) - len(real)
        assert row.responded == len(minutes)
        assert row.median_minutes == _round(response_times.percentile(minutes, 0.5))
        assert row.p90_minutes == _round(response_times.percentile(minutes, 0.9))
        assert row.breaches == sum(
            1 for c in real if c.due_at is not None and (c.responded_at or NOW) > c.due_at
        )
        assert row.silent == sum(1 for c in real if c.state == "silent")
        assert row.escalations == sum(1 for c in real if c.escalated_to is not None)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def test_copies_count_as_repeats_within_the_window_only(store: Store) -> None:
    guideline = guideline_for(production_settings(ROOT / "pelicanconf.py"))

    def arrive(number: int, text: str, at: datetime) -> Comment:
        remote = RemoteComment(
            remote_id=f"r{number}", parent_id="p", post_id="p", author_handle=f"h{number}",
            author_name="N", text=text, created_at=at, permalink=None,
        )  # fmt: skip
        done = sync.ingest(store, guideline, "facebook", remote, NOW)
        with store.read() as session:
            found = session.get(Comment, done.id)
            assert found is not None
            return found

    old = NOW - sync.REPEAT_WINDOW - timedelta(hours=1)
    assert arrive(1, "Folgt mir für Gewinne", old).spam is None
    assert arrive(2, "folgt  MIR für Gewinne https://x.example", old).spam is None
    # the two old copies are outside the window: the first recent one is no repeat
    assert arrive(3, "Folgt mir für Gewinne", NOW).spam is None
    assert arrive(4, "Folgt mir für Gewinne!", NOW).spam is None  # another text
    assert arrive(5, "FOLGT mir für gewinne", NOW).spam is None
    assert (arrive(6, "folgt mir für gewinne", NOW).spam or "").startswith("the same text")


def test_a_page_with_copies_counts_them_as_if_they_came_one_by_one(store: Store) -> None:
    guideline = guideline_for(production_settings(ROOT / "pelicanconf.py"))
    remotes = [
        RemoteComment(
            remote_id=f"s{n}",
            parent_id="p",
            post_id="p",
            author_handle=f"h{n}",
            author_name="N",
            text="Klickt hier für Gewinne",
            created_at=NOW,
            permalink=None,
        )
        for n in range(4)
    ]
    done = sync.ingest_many(store, guideline, "facebook", [*remotes, remotes[0]], NOW)
    assert [d.created for d in done] == [True, True, True, True, False]
    assert done[0].id == done[4].id
    with store.read() as session:
        spam = [session.get(Comment, d.id).spam for d in done[:4]]  # type: ignore[union-attr]
    assert [s is not None for s in spam] == [False, False, True, True]
    again = sync.ingest_many(store, guideline, "facebook", remotes, NOW)
    assert [d.created for d in again] == [False] * 4


def test_a_read_session_refuses_changes(store: Store) -> None:
    with pytest.raises(StoreError, match="read-only"), store.read() as session:
        session.add(
            Comment(
                channel="x",
                remote_id="1",
                text="t",
                created_at=NOW,
                received_at=NOW,
                updated_at=NOW,
            )
        )
        session.flush()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}").upgrade() as opened:
        yield opened


def test_reads_do_not_wait_for_a_writer_holding_the_lock(sqlite_store: Store) -> None:
    """A tick's open write transaction does not stop the desk reading (WAL snapshot)."""
    bigstore.generate(sqlite_store, bigstore.Size(comments=200, posts=5, years=0.1))
    other = Store(sqlite_store.url)
    try:
        with other.transaction() as writing:
            writing.execute(Comment.__table__.update().values(reason="busy"))
            started = datetime.now()
            assert len(moderation.inbox_page(sqlite_store).comments) > 0
            assert moderation.show(sqlite_store, 1).reason != "busy"  # the committed state
            assert (datetime.now() - started) < timedelta(seconds=1)
    finally:
        other.dispose()
    assert moderation.show(sqlite_store, 1).reason == "busy"


def test_maintenance_leaves_statistics_for_the_planner(sqlite_store: Store) -> None:
    bigstore.generate(sqlite_store, bigstore.Size(comments=300, posts=5, years=0.1))
    sqlite_store.maintain()
    with sqlite_store.engine.connect() as connection:
        tables = {row[0] for row in connection.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
    assert "comments" in tables


def test_a_page_asks_the_store_a_fixed_number_of_questions(big: Store) -> None:
    """The repeat check of a page is one lookup, however many comments the page holds:
    no statement per comment (what made ingest take an hour per 100,000)."""
    guideline = guideline_for(production_settings(ROOT / "pelicanconf.py"))

    def page(size: int, tag: str) -> list[tuple[str, Any]]:
        remotes = [
            RemoteComment(
                remote_id=f"{tag}-{n}", parent_id="fa-post-1", post_id="fa-post-1",
                author_handle=f"h{n}", author_name="N", text=f"Frage {tag} Nummer {n % 7}",
                created_at=NOW, permalink=None,
            )
            for n in range(size)
        ]  # fmt: skip
        return _captured(big, lambda: sync.ingest_many(big, guideline, "facebook", remotes, NOW))

    assert len(page(5, "small")) == len(page(150, "large")) <= 3

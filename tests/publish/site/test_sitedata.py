"""The site data file is written only when what it shows changed, and then exactly as
the full computation writes it.

A store of generated history (``bench/bigstore.py``) on SQLite and PostgreSQL, a site
whose snippets share the generated posts. After every kind of change the site shows —
a comment approved or withdrawn, a reply sent, a post's link, a retraction, a snippet
moved to another post — the file is byte for byte ``json.dumps`` of :func:`site_data`;
with no change, no comment is read at all.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update

from editorial.pieces import Site, Snippet
from publish.site import sitedata
from publish.store import Store, audit
from publish.store.models import Comment, CommentReply, LedgerEntry

ROOT = Path(__file__).resolve().parents[3]


def _bigstore() -> Any:
    spec = importlib.util.spec_from_file_location("bigstore", ROOT / "bench" / "bigstore.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bigstore"] = module
    spec.loader.exec_module(module)
    return module


bigstore = _bigstore()
NOW = bigstore.END


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = str(request.getfixturevalue("postgresql_url"))
    opened = Store(url).upgrade()
    bigstore.generate(opened, bigstore.Size(comments=1500, posts=12, years=0.2))
    try:
        yield opened
    finally:
        opened.dispose()


def _site(folder: Path, posts: int = 12, name: str = "Stadtwerke Elbtal — „Dialog“") -> Site:
    settings = {"SITENAME": name, "SITE_DATA": str(folder / "site-data.json"), "PATH": str(folder)}
    snippets = [
        Snippet(id=f"social/post-{n:05d}.md", kind="snippet", source=None, post=f"post-{n:05d}")
        for n in range(posts)
    ]
    return Site(root=folder, content=folder, settings=settings, pieces=list(snippets))


def _full(site: Site, store: Store) -> str:
    """What the file held before it was written incrementally."""
    data = sitedata.site_data(site, store)
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _comment_reads(store: Store, run: Callable[[], object]) -> int:
    seen: list[str] = []

    def grab(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if "FROM comments" in statement and "max(" not in statement:
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(store.engine, "before_cursor_execute", grab)
    return len(seen)


def test_the_rendering_is_json_dumps_byte_for_byte(store: Store, tmp_path: Path) -> None:
    site = _site(tmp_path)
    data = sitedata.site_data(site, store)
    assert sum(len(v) for v in data["comments"].values()) > 100
    assert sitedata.render(data) == _full(site, store)
    odd: dict[str, Any] = {
        "comments": {
            'a "quoted" slug\\': [
                {"author": "Ünïcode ✓ \u2028", "id": "x:1", "ours": True, "parent": None,
                 "text": "line\nbreak\t\u0000", "url": None},
                {},
            ]
        },
        "syndication": {},
        "retracted": [],
    }  # fmt: skip
    assert (
        sitedata.render(odd) == json.dumps(odd, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    )
    empty: dict[str, Any] = {
        "comments": {},
        "syndication": {"p": [{"url": "u"}]},
        "retracted": ["r"],
    }
    assert (
        sitedata.render(empty)
        == json.dumps(empty, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    )


def _first(store: Store, **where: Any) -> Comment:
    with store.read() as session:
        query = select(Comment).where(*(getattr(Comment, k) == v for k, v in where.items()))
        found = session.scalars(query.order_by(Comment.id).limit(1)).one()
        session.expunge(found)
        return found


def _set(store: Store, comment_id: int, at: Any, **values: Any) -> None:
    with store.transaction() as session:
        session.execute(
            update(Comment).where(Comment.id == comment_id).values(updated_at=at, **values)
        )
        audit.record(session, "tester", "comment.changed", "comment", str(comment_id), {}, at)


def test_every_change_the_site_shows_rewrites_the_file_as_the_full_computation(
    store: Store, tmp_path: Path
) -> None:
    site = _site(tmp_path)
    path = sitedata.data_path(site.settings)
    assert sitedata.refresh_site_data(site, store, NOW) is True
    assert path.read_text(encoding="utf-8") == _full(site, store)

    # nothing changed: no comment is read, the file is left alone
    before = path.stat().st_mtime_ns
    assert _comment_reads(store, lambda: sitedata.refresh_site_data(site, store, NOW)) == 0
    assert path.stat().st_mtime_ns == before

    later = NOW + timedelta(minutes=1)
    open_one = _first(store, state="new", kind="reply")
    shown = _first(store, state="approved", kind="reply")
    with store.transaction() as session:
        posted = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id).limit(1)).one()
        posted_piece = posted.piece_id

    def approve() -> None:
        _set(store, open_one.id, later, state="approved")

    def withdraw() -> None:
        _set(store, shown.id, later, state="new")

    def reply_sent() -> None:
        with store.transaction() as session:
            session.add(CommentReply(
                comment_id=open_one.id, text="Danke, wir kümmern uns.", status="sent",
                written_by="tester", written_at=later, remote_id="our-1",
                remote_url="https://example.invalid/our-1", posted_at=later, updated_at=later,
            ))  # fmt: skip

    def new_link() -> None:
        with store.transaction() as session:
            session.execute(
                update(LedgerEntry).where(LedgerEntry.piece_id == posted_piece)
                .values(remote_url="https://example.invalid/moved", updated_at=later)
            )  # fmt: skip

    def retract() -> None:
        with store.transaction() as session:
            audit.record(
                session, "tester", "piece.retracted", "piece", "social/post-00003.md", {}, later
            )

    def clock_behind() -> None:
        # a change stamped with an earlier clock is still seen: it is audited
        _set(store, shown.id, NOW - timedelta(days=30), state="approved")

    for change in (approve, withdraw, reply_sent, new_link, retract, clock_behind):
        text = path.read_text(encoding="utf-8")
        change()
        assert sitedata.refresh_site_data(site, store, later) is True, change.__name__
        assert path.read_text(encoding="utf-8") == _full(site, store) != text, change.__name__

    # the site's posts changed (a snippet moved, the site renamed): written again
    moved = _site(tmp_path, posts=11, name="Elbtal")
    assert sitedata.refresh_site_data(moved, store, later) is True
    assert path.read_text(encoding="utf-8") == _full(moved, store)

    # a file changed by someone else is written again
    path.write_text("{}\n", encoding="utf-8")
    assert sitedata.refresh_site_data(moved, store, later) is True
    assert path.read_text(encoding="utf-8") == _full(moved, store)

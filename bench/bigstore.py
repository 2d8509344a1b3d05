"""A generator of large stores: years of comments under thousands of posts, fast.

The store behind a site with an active community holds hundreds of thousands of
comments after a few years; the speed of the inbox, the thread, the reports and the
ingest depends on that size, so benchmarks (``bench/comments.py``) and tests run against
a generated history of a given size: ``posts`` posts shared on two channels, spread over
``years`` years, with ``comments`` comments under them, most decided long ago, the recent
ones still open. Rows go in through the database driver's bulk paths (``executemany``
on SQLite, ``COPY`` on PostgreSQL), not the ORM, so a million comments take about a
minute rather than an hour; the schema is the migrations' own (``Store.upgrade``).

The data are made from a seeded random generator, so two runs give the same store.
Besides comments: one posted ledger entry per post and channel (what sync and the site
data look up), our sent replies to 3 % of the comments, and one admin account (the
dashboard is theirs).

Run on its own: ``python bench/bigstore.py sqlite:///big.db --comments 100000``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pwd
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from publish.store import Store  # noqa: E402  (the repository is put on the path first)

END = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CHANNELS = ("facebook", "twitter")
CATEGORIES = [None, None, "Störungen", "Zahlung", "Datenschutz", "Recht", "Presse"]
# what the decided comments became; the share still open is set by OPEN_SHARE
DECIDED = ["approved"] * 80 + ["rejected"] * 8 + ["silent"] * 7 + ["resolved"] * 5
OPEN_SHARE = 0.015
MODERATOR = "moderator@agentur-kranich.example"
PASSWORD = "correct horse battery staple"  # noqa: S105 -- a throw-away bench account
WORDS = [
    "Wann",
    "kommt",
    "der",
    "Techniker",
    "Straße",
    "Zähler",
    "Abrechnung",
    "Störung",
    "heute",
    "morgen",
    "danke",
    "super",
    "schnell",
    "Wasser",
    "Strom",
    "Fernwärme",
    "Leitung",
    "Vertrag",
    "Frist",
    "wieder",
    "warum",
    "schon",
    "seit",
    "Tagen",
    "keine",
    "Antwort",
    "bitte",
    "Rückruf",
    "Kundenservice",
    "Baustelle",
    "Lärm",
    "Umleitung",
    "Bus",
    "Termin",
]
BATCH = 20_000


@dataclass(frozen=True)
class Size:
    comments: int = 1_000_000
    posts: int = 2_000
    years: float = 3.0
    seed: int = 24


def _sql_time(moment: datetime) -> str:
    """A UTC time as SQLAlchemy's SQLite dialect stores it (see store.timestamps)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def posted_times(size: Size) -> list[datetime]:
    """When each post went out, oldest first, evenly over the years before END."""
    span = timedelta(days=365 * size.years)
    step = span / max(size.posts, 1)
    return [END - span + step * number for number in range(size.posts)]


def _text_hash_of() -> Any:
    """The store's repeat key, when this version of dialogpress has one."""
    try:
        from publish.moderation.sync import text_hash
    except ImportError:
        return None
    return text_hash


def comment_rows(size: Size, columns: set[str]) -> Iterator[dict[str, Any]]:
    """The generated comments, oldest post first; only the columns the schema has."""
    rng = random.Random(size.seed)  # noqa: S311 -- reproducible data, not secrets
    posted = posted_times(size)
    hasher = _text_hash_of() if "text_hash" in columns else None
    per_post = size.comments / max(size.posts, 1)
    made = 0
    copies = [" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(50)]
    for number, at in enumerate(posted):
        target = round(per_post * (number + 1)) - made
        for _ in range(target):
            made += 1
            channel = CHANNELS[made % 2]
            # most comments come in the first hours after a post
            created = min(at + timedelta(minutes=rng.expovariate(1 / 240)), END)
            recent = END - created < timedelta(days=3)
            state = (
                rng.choice(["new", "new", "new", "escalated"])
                if recent or rng.random() < OPEN_SHARE
                else rng.choice(DECIDED)
            )
            category = rng.choice(CATEGORIES)
            due = created + timedelta(hours=4) if category or rng.random() < 0.5 else None
            responded = (
                created + timedelta(minutes=rng.expovariate(1 / 180))
                if state not in ("new", "escalated")
                else None
            )
            spam = rng.random() < 0.03
            text = (
                rng.choice(copies)
                if spam
                else " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 30))) + f" #{made}"
            )
            row: dict[str, Any] = {
                "id": made,
                "channel": channel,
                "remote_id": f"c{made}",
                "kind": "reply" if made % 20 else "mention",
                "post_remote_id": f"{channel[:2]}-post-{number}",
                "parent_remote_id": f"{channel[:2]}-post-{number}",
                "piece_id": f"social/post-{number:05d}.md",
                "post_slug": f"post-{number:05d}",
                "author_handle": f"user{rng.randrange(200_000)}",
                "author_name": f"Person {rng.randrange(200_000)}",
                "text": text,
                "permalink": f"https://example.invalid/{channel}/c{made}",
                "created_at": created,
                "received_at": created,
                "edited_at": None,
                "gone_at": None,
                "state": "rejected" if spam else state,
                "reason": "spam: repeated" if spam else None,
                "category": category,
                "spam": "repeated" if spam else None,
                "escalated_to": "leitstelle" if state == "escalated" else None,
                "assigned_to": "leitstelle" if state == "escalated" else None,
                "due_at": due,
                "responded_at": responded,
                "updated_at": responded or created,
            }
            if hasher is not None:
                row["text_hash"] = hasher(text)
            yield {key: value for key, value in row.items() if key in columns}


def ledger_rows(size: Size) -> Iterator[dict[str, Any]]:
    for number, at in enumerate(posted_times(size)):
        for channel in CHANNELS:
            yield {
                "piece_id": f"social/post-{number:05d}.md",
                "channel": channel,
                "part_index": 0,
                "content_hash": hashlib.sha256(str(number).encode()).hexdigest(),
                "text": f"Post {number}",
                "status": "posted",
                "attempts": 1,
                "remote_id": f"{channel[:2]}-post-{number}",
                "remote_url": f"https://example.invalid/{channel}/post-{number}",
                "created_at": at,
                "updated_at": at,
                "posted_at": at,
            }


def _columns(store: Store, table: str) -> list[str]:
    from sqlalchemy import inspect

    return [column["name"] for column in inspect(store.engine).get_columns(table)]


def _value(value: Any, dialect: str) -> Any:
    if isinstance(value, datetime) and dialect == "sqlite":
        return _sql_time(value)
    return value


def _bulk(store: Store, table: str, rows: Iterator[dict[str, Any]], columns: list[str]) -> int:
    """Insert ``rows`` through the driver's fastest path; the number inserted."""
    dialect = store.dialect
    count = 0
    # the driver's own path bypasses the store's site scoping: the rows are its site's
    site = getattr(store, "site", None) or ""
    rows = ({"site": site, **row} for row in rows)
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = ", ".join(columns)
        if dialect == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
            marks = ", ".join("?" for _ in columns)
            # names from the schema's own inspection, never from input
            statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(tuple(_value(row.get(name), dialect) for name in columns))
                if len(batch) >= BATCH:
                    cursor.executemany(statement, batch)
                    count += len(batch)
                    batch.clear()
            if batch:
                cursor.executemany(statement, batch)
                count += len(batch)
            cursor.execute("COMMIT")
        else:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row([row.get(name) for name in columns])
                    count += 1
            raw.commit()
    finally:
        raw.close()
    return count


def generate(store: Store, size: Size) -> dict[str, Any]:
    """Fill an empty, migrated store with ``size``'s history; what was made and how fast."""
    started = time.perf_counter()
    comment_columns = _columns(store, "comments")
    made = _bulk(store, "comments", comment_rows(size, set(comment_columns)), comment_columns)
    ledger_columns = [c for c in _columns(store, "ledger") if c != "id"]
    _bulk(store, "ledger", ledger_rows(size), ledger_columns)
    rng = random.Random(size.seed + 1)  # noqa: S311 -- reproducible data
    answered = sorted(rng.sample(range(1, made + 1), k=made * 3 // 100)) if made else []
    reply_columns = [c for c in _columns(store, "comment_replies") if c != "id"]

    def replies() -> Iterator[dict[str, Any]]:
        for comment_id in answered:
            at = END - timedelta(days=365 * size.years) * (1 - comment_id / made)
            yield {
                "comment_id": comment_id,
                "text": f"Danke für Ihre Nachricht ({comment_id}).",
                "status": "sent",
                "written_by": MODERATOR,
                "written_at": at,
                "remote_id": f"r{comment_id}",
                "remote_url": f"https://example.invalid/reply/{comment_id}",
                "posted_at": at,
                "updated_at": at,
            }

    _bulk(store, "comment_replies", replies(), reply_columns)
    if store.dialect == "postgresql":
        with store.engine.begin() as connection:
            from sqlalchemy import text

            connection.execute(
                text("SELECT setval('comments_id_seq', (SELECT max(id) FROM comments))")
            )
    _moderator(store)
    maintain = getattr(store, "maintain", None)
    if maintain is not None:
        maintain()
    return {
        "comments": made,
        "posts": size.posts,
        "replies": len(answered),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _moderator(store: Store) -> None:
    from publish.web import accounts

    with store.transaction() as session:
        accounts.add_user(session, MODERATOR, "admin", PASSWORD, END, actor="bench",
                          must_change=False)  # fmt: skip


# --- a throw-away PostgreSQL, started as the test suite does (tests/publish/store) ---------


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or the server would not start."""


def _bin_dir() -> Path:
    found = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file()
    ]
    if not found:
        raise PostgresUnavailable("no PostgreSQL under /usr/lib/postgresql/*/bin")
    return max(found, key=lambda p: tuple(int(x) for x in p.parent.name.split(".") if x.isdigit()))


class ThrowAwayPostgres:
    """A PostgreSQL server in a temp folder, on a free port; stopped and removed on exit."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="dp-bench-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.bin = _bin_dir()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], cwd=self.base, capture_output=True,
                              text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed: {done.stdout}{done.stderr}")

    def __enter__(self) -> ThrowAwayPostgres:
        data = self.base / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-locale", "--no-sync")  # fmt: skip
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.base} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.base / "log"),
                  "-o", options, "-w", "start")  # fmt: skip
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as connection:  # fmt: skip
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __exit__(self, *_exc: object) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.base / "data"),
                        "-m", "fast", "-w", "stop"], cwd=self.base, capture_output=True,
                       check=False)  # fmt: skip
        shutil.rmtree(self.base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="an empty database (sqlite:///file.db, postgresql://…)")
    parser.add_argument("--comments", type=int, default=Size.comments)
    parser.add_argument("--posts", type=int, default=Size.posts)
    parser.add_argument("--years", type=float, default=Size.years)
    args = parser.parse_args(argv)
    with Store(args.url).upgrade() as store:
        made = generate(store, Size(args.comments, args.posts, args.years))
    print(made)
    return 0


if __name__ == "__main__":
    sys.exit(main())

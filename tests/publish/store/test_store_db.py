"""Opening the store: migrations, dialect set-up, URLs and what may be logged about them."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, make_url, select, text

from publish.store import Store, StoreError, audit, ledger, mask_url, open_store
from publish.store.db import head_revision, normalize_url
from publish.store.models import Base, LedgerEntry

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
TABLES = {
    "ledger",
    "channel_state",
    "audit_events",
    "scheduler_runs",
    "comments",
    "comment_replies",
    "sync_cursors",
    "desk_users",
    "desk_sessions",
    "desk_login_attempts",
    "desk_site_roles",
    "review_requests",
    "review_pieces",
    "agency_sites",
    "agency_ticks",
    "review_links",
    "review_decisions",
    "notifications",
}


def test_migrations_create_the_schema_from_an_empty_database(database_url: str) -> None:
    store = Store(database_url)
    try:
        assert store.current_revision() is None
        store.upgrade()
        assert store.current_revision() == head_revision() == "0012"
        assert set(inspect(store.engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        store.dispose()


def test_upgrading_again_changes_nothing_and_keeps_the_data(database_url: str) -> None:
    with Store(database_url).upgrade() as store, store.transaction() as session:
        ledger.record_intent(session, "social/advent.md", "twitter", 0, "h1", "Hallo", NOW)
    with Store(database_url).upgrade().upgrade() as again, again.transaction() as session:
        assert again.current_revision() == head_revision()
        rows = session.scalars(select(LedgerEntry)).all()
        assert [(row.piece_id, row.text) for row in rows] == [("social/advent.md", "Hallo")]


def test_downgrade_to_base_removes_the_schema_and_upgrade_restores_it(database_url: str) -> None:
    with Store(database_url).upgrade() as store:
        store.downgrade("base")
        assert store.current_revision() is None
        assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
        store.upgrade()
        assert set(inspect(store.engine).get_table_names()) == TABLES | {"alembic_version"}


def test_models_and_migrations_agree(store: Store) -> None:
    """What `alembic check` does: autogenerate finds nothing the migrations left out."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_concurrent_first_starts_both_end_at_head(database_url: str) -> None:
    """Two workers starting on a fresh database: the migration lock lets one create it."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def start() -> None:
        try:
            store = Store(database_url)
            barrier.wait()
            store.upgrade()
            store.dispose()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store(database_url) as store:
        assert store.current_revision() == head_revision()


def test_a_database_from_a_newer_dialogpress_is_refused_with_a_reason(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer dialogpress"):
        store.upgrade()


def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}").upgrade()
    with store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_a_failed_sqlite_migration_leaves_no_half_schema(tmp_path: Path) -> None:
    """DDL runs inside our BEGIN IMMEDIATE: a migration that breaks half-way rolls back."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with Store(url) as store:
        with store.engine.begin() as connection:
            # a leftover table with the name the migration creates last
            connection.execute(text("CREATE TABLE audit_events (id INTEGER PRIMARY KEY)"))
        with pytest.raises(StoreError):
            store.upgrade()
        assert set(inspect(store.engine).get_table_names()) == {"audit_events"}
        assert store.current_revision() is None


def _site(tmp_path: Path) -> dict[str, object]:
    settings_file = tmp_path / "pelicanconf.py"
    settings_file.write_text('SITENAME = "x"\n', encoding="utf-8")
    return {"DP_SETTINGS_FILE": str(settings_file)}


def test_open_store_defaults_to_a_sqlite_file_in_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DP_DATABASE_URL", raising=False)
    with open_store(_site(tmp_path)) as store:
        assert store.url.database == str(tmp_path / ".dialogpress" / "dialogpress.db")
        assert (tmp_path / ".dialogpress" / "dialogpress.db").is_file()
        assert store.current_revision() == head_revision()


def test_relative_sqlite_paths_start_at_the_site_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DP_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path.parent)
    settings = _site(tmp_path) | {"DATABASE_URL": "sqlite:///var/ledger.db"}
    with open_store(settings) as store:
        assert store.url.database == str(tmp_path / "var" / "ledger.db")


def test_the_environment_url_wins_over_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgresql_url: str
) -> None:
    monkeypatch.setenv("DP_DATABASE_URL", postgresql_url)
    settings = _site(tmp_path) | {"DATABASE_URL": "sqlite:///ignored.db"}
    with open_store(settings) as store:
        assert store.dialect == "postgresql"
        assert store.current_revision() == head_revision()
    assert not (tmp_path / "ignored.db").exists()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://dp@db.example/site",
        "postgres://dp@db.example/site",
        "postgresql+psycopg2://dp@db.example/site",
    ],
)
def test_postgresql_urls_use_psycopg_3(url: str) -> None:
    assert normalize_url(url).drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match="in-memory"):
        Store(url)


def test_other_databases_are_refused_by_name() -> None:
    with pytest.raises(StoreError, match="not 'mysql'"):
        Store("mysql://dp:s3cret@db.example/site")


def test_a_url_that_cannot_be_read_is_not_echoed() -> None:
    with pytest.raises(StoreError) as caught:
        Store("not a url with s3cret in it")
    assert "s3cret" not in str(caught.value)
    assert "DATABASE_URL" in str(caught.value)


def test_mask_url_hides_passwords_in_the_authority_and_the_query() -> None:
    masked = mask_url("postgresql+psycopg://dp:s3cret@db.example:5432/site?password=t0p&x=1")
    assert "s3cret" not in masked and "t0p" not in masked
    assert masked.startswith("postgresql+psycopg://dp:***@db.example:5432/site")
    assert "x=1" in masked


def test_the_password_never_reaches_the_log(
    postgresql_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The test server trusts every local login, so a URL with a password still connects."""
    url = make_url(postgresql_url).set(password="s3cret-Pässwort")
    caplog.set_level(logging.DEBUG)
    with Store(url).upgrade() as store, store.transaction() as session:
        ledger.record_intent(session, "social/advent.md", "facebook", 0, "h", "Hallo", NOW)
        assert "s3cret" not in repr(store)
    assert "***" in caplog.text
    assert "s3cret" not in caplog.text


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with closed_port() as port:
        store = Store(f"postgresql://dp:s3cret@127.0.0.1:{port}/site")
        with pytest.raises(StoreError) as caught:
            store.upgrade()
    assert "s3cret" not in str(caught.value)
    assert f"dp:***@127.0.0.1:{port}/site" in str(caught.value)


def test_a_server_that_never_answers_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A database behind a lost network accepts nothing and refuses nothing; libpq would
    wait for ever, and a worker with it. The store gives up after its connect timeout."""
    monkeypatch.setattr("publish.store.db.CONNECT_TIMEOUT_SECONDS", 2)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        port = int(silent.getsockname()[1])
        store = Store(f"postgresql://dp@127.0.0.1:{port}/site")
        result: list[BaseException | None] = []

        def upgrade() -> None:
            try:
                store.upgrade()
                result.append(None)
            except BaseException as exc:  # the outcome is asserted below
                result.append(exc)

        attempt = threading.Thread(target=upgrade, daemon=True)
        attempt.start()
        attempt.join(timeout=60)
    assert not attempt.is_alive(), "the connection attempt still waits after 60 s"
    assert isinstance(result[0], StoreError), result


@contextmanager
def closed_port() -> Iterator[int]:
    """A local port nothing listens on, kept bound (not listening) so nobody else takes it."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])


def test_the_upgrade_hands_back_a_post_recorded_for_two_entries(database_url: str) -> None:
    """Before 0006 a duplicate refusal could record a part with another piece's post:
    the upgrade keeps it for the entry that recorded it first and fails the other with
    the reason, so that a person releases it, instead of refusing the new index."""
    store = Store(database_url)
    try:
        store.upgrade("0005")
        with store.transaction() as session:
            # a Core insert of the columns of 0005: the model has grown since (site, 0010)
            for number, piece in enumerate(("social/notice-1.md", "social/notice-2.md")):
                session.execute(insert(LedgerEntry.__table__).values(
                    piece_id=piece, channel="twitter", part_index=0, content_hash="h",
                    text="Am Samstag geschlossen", status="posted", attempts=1,
                    remote_id="1900000000000000001", posted_at=NOW + timedelta(minutes=number),
                    created_at=NOW, updated_at=NOW,
                ))
        store.upgrade()
        with store.transaction() as session:
            rows = {row.piece_id: row for row in session.scalars(select(LedgerEntry))}
            events = audit.events_for(session, "piece", "social/notice-2.md")
        assert rows["social/notice-1.md"].status == "posted"
        assert rows["social/notice-1.md"].remote_id == "1900000000000000001"
        second = rows["social/notice-2.md"]
        assert second.status == "failed" and second.remote_id is None
        assert "carries social/notice-1.md (part 1)" in (second.error or "")
        assert "release it" in (second.error or "")
        assert [event.action for event in events] == ["ledger.failed"]
    finally:
        store.dispose()


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    from publish.store.db import _alembic_head

    assert head_revision() == _alembic_head()


def test_a_store_at_head_opens_without_loading_alembic(tmp_path: Path) -> None:
    """An idle tick opens the store every few minutes: at head, alembic stays unloaded."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'store.db'}"
    probe = (
        "import sys; from publish.store import Store; "
        f"Store({url!r}).upgrade().dispose(); print('alembic' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[3]
    first = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert first.stdout.strip() == "True"  # a new store is migrated by alembic
    again = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert again.stdout.strip() == "False"
    with Store(url) as store:
        assert store.current_revision() == head_revision()


def _sync_level(store: Store, **options: bool) -> str:
    """How the commit of a transaction of ``store`` waits for the disk."""
    with store.transaction(**options) as session:
        if store.dialect == "sqlite":
            level = session.execute(text("PRAGMA synchronous")).scalar_one()
            return {0: "OFF", 1: "NORMAL", 2: "FULL"}[level]
        return str(session.execute(text("SHOW synchronous_commit")).scalar_one())


def test_only_a_transaction_that_says_so_commits_without_waiting_for_the_disk(
    database_url: str,
) -> None:
    if database_url.startswith("postgresql"):
        # the test server runs with synchronous_commit off; a production one has it on
        database_url += "?options=-csynchronous_commit%3Don"
    with Store(database_url).upgrade() as store:
        _levels_per_transaction(store)


def _levels_per_transaction(store: Store) -> None:
    durable, relaxed = ("FULL", "NORMAL") if store.dialect == "sqlite" else ("on", "off")
    assert _sync_level(store) == durable
    assert _sync_level(store, durable=False) == relaxed
    # the pooled connection goes on to a durable transaction: that one syncs again
    assert _sync_level(store) == durable
    assert _sync_level(store, durable=False) == relaxed
    with store.read() as session:  # a read needs no level; it changes nothing either
        session.execute(text("SELECT 1"))
    assert _sync_level(store) == durable


def test_raw_uses_of_a_pooled_connection_never_inherit_the_relaxed_level(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}").upgrade()
    try:
        with store.transaction(durable=False) as session:
            session.execute(text("SELECT 1"))
        raw = store.engine.raw_connection()  # what maintain() and compact() use
        try:
            assert raw.cursor().execute("PRAGMA synchronous").fetchone()[0] == 2
        finally:
            raw.close()
    finally:
        store.dispose()


def test_a_relaxed_transaction_still_commits_and_rolls_back(store: Store) -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    with store.transaction(durable=False) as session:
        audit.record(session, audit.SYSTEM, "test.kept", "t", "1", {}, now)
    with pytest.raises(RuntimeError), store.transaction(durable=False) as session:
        audit.record(session, audit.SYSTEM, "test.dropped", "t", "2", {}, now)
        raise RuntimeError("rolled back")
    with store.read() as session:
        assert [e.action for e in audit.events_for(session, "t", "1")] == ["test.kept"]
        assert audit.events_for(session, "t", "2") == []

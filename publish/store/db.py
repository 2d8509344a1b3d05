"""Opening the store: one engine per database URL, migrated to the newest schema.

The schema belongs to the migrations shipped in ``publish/store/migrations``, so a
site's database is carried forward by whatever dialogpress version runs against it:
:func:`open_store` upgrades it to head before anything else touches it.

SQLite gets WAL (readers do not block the writer), a busy timeout (a second process
waits instead of failing) and foreign keys. Its Python driver normally starts
transactions lazily and leaves DDL outside them; we take over and begin every
transaction of :meth:`Store.transaction` with ``BEGIN IMMEDIATE`` instead. That makes a
migration atomic, and it takes the write lock up front, so two workers never both read a
row and then fail to upgrade to writing (which SQLite reports as "database is locked"
without waiting). What only reads uses :meth:`Store.read`: a deferred ``BEGIN``, a WAL
snapshot that never takes nor waits for the write lock, so the desk answers while a tick
writes. A read session refuses to flush changes: a write that sneaked into one would
have to upgrade its snapshot, which is exactly the failure above.

:meth:`Store.maintain` keeps the planner's statistics fresh (a sampled ``ANALYZE``): the
comment indexes are chosen from them.

The URL may carry a password: it is only ever logged through :func:`mask_url`.

**Sites** (issue 20). A store is opened for one site (``site``; ``""`` is a one-site
installation): every ORM query of :class:`~publish.store.models.SiteScoped` rows run
through its sessions is filtered to that site (``with_loader_criteria`` added in
``do_orm_execute``, SQLAlchemy's documented pattern for global criteria; it covers
``select``, ``session.get``, ORM ``update`` and ``delete``), and new objects get the
site at flush. Core statements bypass the ORM: the few in the store's code set and filter
the site themselves (:func:`publish.store.sites.writing_site`). ``site=None`` is the
agency-wide view: it reads every site's rows and refuses to write any. :meth:`Store.scoped`
gives another site's view on the same engine, so a desk serving many sites keeps one pool.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from editorial.settings import Settings, settings_root
from publish.settings import ENV_SITE, database_site, database_url
from publish.store.errors import StoreError
from publish.store.models import SiteScoped
from publish.store.sites import SESSION_SITE, check_site_key, writing_site

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# How long a SQLite connection waits for another process's write lock before failing.
BUSY_TIMEOUT_SECONDS = 30
#: seconds a PostgreSQL connection attempt may take (libpq's connect_timeout)
CONNECT_TIMEOUT_SECONDS = 10
# pg_advisory_xact_lock key serialising concurrent migrations on one PostgreSQL database
# (the bytes of "dpmigr" as a number; any constant would do as long as it stays fixed).
MIGRATION_LOCK_KEY = 0x64706D696772


def mask_url(url: str | URL) -> str:
    """The URL fit for a log line or an error message: passwords replaced by ``***``."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<database URL that cannot be read>"
    query = {
        key: ("***" if "password" in key.lower() else value) for key, value in parsed.query.items()
    }
    return parsed.set(query=query).render_as_string(hide_password=True)


def normalize_url(url: str | URL, root: Path | None = None) -> URL:
    """Parse ``url`` and pick our drivers: psycopg 3 for PostgreSQL, pysqlite for SQLite.

    ``postgresql://`` and ``postgres://`` (what hosting panels print) would otherwise
    select psycopg2, which dialogpress does not install. A relative SQLite path is
    relative to the site's root, not to wherever the command was started.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        raise StoreError(
            "DATABASE_URL is not a database URL; write it as "
            "sqlite:///path/to/file.db or postgresql://user@host:5432/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if "+" not in parsed.drivername or parsed.get_driver_name() == "psycopg2":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise StoreError(
                f"DATABASE_URL {mask_url(parsed)} is an in-memory database, which would "
                "forget what was posted; give a file path such as sqlite:///ledger.db"
            )
        if root is not None and not Path(database).is_absolute():
            parsed = parsed.set(database=str(root / database))
        return parsed
    raise StoreError(
        f"DATABASE_URL {mask_url(parsed)}: dialogpress supports SQLite and PostgreSQL, "
        f"not {backend!r}"
    )


def alembic_config(url: str | URL | None = None) -> Config:
    """Alembic's configuration built in code: the migrations ship with the package.

    With ``url``, the ``alembic`` commands work on their own (``command.revision`` with
    autogenerate, ``command.upgrade(..., sql=True)`` for a DBA); :class:`Store` hands
    over its connection instead.
    """
    from alembic.config import Config  # alembic only when migrating

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if url is not None:
        rendered = normalize_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest schema revision this version of dialogpress knows.

    Read from the migration files' ``revision``/``down_revision`` lines rather than
    through alembic: every command opens the store, and importing alembic only to learn
    that nothing is to be done cost an idle tick half a second of CPU. With more than one
    head (a merge in progress) alembic decides.
    """
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("[0-9]*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return _alembic_head()
        revisions[revision.group(1)] = down.group(2)
    heads = set(revisions) - set(revisions.values())
    if len(heads) != 1:
        return _alembic_head()
    return heads.pop()


_REVISION = re.compile(r'^revision\s*=\s*"([^"]+)"', re.M)
_DOWN_REVISION = re.compile(r'^down_revision\s*=\s*(None|"([^"]+)")', re.M)


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory  # alembic only when needed

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _switch_to_wal(cursor: Any) -> None:
    """Turn on WAL, waiting out a second process doing the same on a new database.

    Changing the journal mode needs an exclusive lock, and SQLite answers "database is
    locked" at once, without its busy handler, when two connections try it together.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not issue its own BEGIN; see the module docstring.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        # erased personal data (`forget`, retention) must not linger in free pages
        cursor.execute("PRAGMA secure_delete=ON")
    finally:
        cursor.close()


# execution option that marks a connection of Store.read (a deferred, read-only BEGIN)
READ_ONLY = "dialogpress_read_only"


# execution option that marks a connection of Store.transaction(durable=False)
NOT_DURABLE = "dialogpress_not_durable"
# SQLite's PRAGMA synchronous levels: FULL syncs the WAL at every commit, NORMAL only at
# checkpoints (a power cut may lose the last commits, never the database's consistency)
_FULL, _NORMAL = "FULL", "NORMAL"


def _sqlite_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    if options.get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
        return
    # The level belongs to the connection and cannot change inside a transaction, so
    # every write transaction sets the one it needs before it begins: a durable one
    # after a non-durable one on the same pooled connection syncs again.
    wanted = _NORMAL if options.get(NOT_DURABLE) else _FULL
    if connection.info.get("synchronous", _FULL) != wanted:
        connection.exec_driver_sql(f"PRAGMA synchronous={wanted}")
        connection.info["synchronous"] = wanted
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_checkin(dbapi_connection: Any, record: Any) -> None:
    """A connection goes back to the pool syncing fully, whatever its last transaction
    was: raw uses of it (maintenance, checkpoints) never inherit a relaxed level."""
    if dbapi_connection is not None and record.info.get("synchronous", _FULL) != _FULL:
        dbapi_connection.execute(f"PRAGMA synchronous={_FULL}")
        record.info["synchronous"] = _FULL


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise StoreError(
            "a change was made in a read-only session (Store.read); "
            "changes belong in Store.transaction"
        )


def _scope_to_site(state: ORMExecuteState) -> None:
    """Filter every ORM statement on site rows to the session's site (``site=None``: all
    sites for reading, no ORM ``update``/``delete`` of site rows at all)."""
    if state.is_column_load or state.is_relationship_load:
        return  # rows of objects loaded already through the filter
    if not (state.is_select or state.is_update or state.is_delete):
        return
    site = state.session.info.get(SESSION_SITE, "")
    if site is None:
        if (state.is_update or state.is_delete) and any(
            issubclass(mapper.class_, SiteScoped) for mapper in state.all_mappers
        ):
            writing_site(state.session)  # raises: the agency-wide view writes no site rows
        return
    state.statement = state.statement.options(
        with_loader_criteria(SiteScoped, lambda cls: cls.site == site, include_aliases=True)
    )


def _stamp_site(session: Session, _context: Any, _instances: Any) -> None:
    """New site rows belong to the session's site; changing any site row needs one."""
    site: str | None = session.info.get(SESSION_SITE, "")
    for instance in session.new:
        if not isinstance(instance, SiteScoped):
            continue
        site = writing_site(session)
        if instance.site is None:
            instance.site = site
        elif instance.site != site:
            raise StoreError(
                f"a {type(instance).__name__} of site {instance.site!r} cannot be added "
                f"through the store of site {site!r}"
            )
    if site is None and any(
        isinstance(instance, SiteScoped) for instance in (*session.dirty, *session.deleted)
    ):
        writing_site(session)  # raises


def _engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "checkin", _sqlite_checkin)
        return engine
    # libpq's own defaults unless the URL says otherwise: a name in pg_stat_activity, and a
    # connection attempt that gives up (libpq waits for ever by default, so a worker behind a
    # lost network would hang instead of logging and trying again)
    defaults = {"application_name": "dialogpress", "connect_timeout": CONNECT_TIMEOUT_SECONDS}
    connect_args = {key: value for key, value in defaults.items() if key not in url.query}
    # pre-ping: a scheduler outlives database restarts and must not fail on a dead socket
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


class Store:
    """The database behind the ledger, channel state and audit log.

    Functions in :mod:`publish.store.ledger` and friends take a :class:`Session`; they
    never commit, so a caller groups a state change and its audit event (or several
    changes) into one transaction with :meth:`transaction`.
    """

    def __init__(
        self, url: str | URL, root: Path | None = None, *, site: str | None = ""
    ) -> None:
        self.url = normalize_url(url, root)
        self.engine = _engine(self.url)
        self._bind(site)

    def _bind(self, site: str | None) -> None:
        """Make the sessions of ``site`` on this store's engine."""
        self.site = None if site is None else check_site_key(site)
        info = {SESSION_SITE: self.site}
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self.readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}),
            expire_on_commit=False,
            info=info,
        )
        event.listen(self.readers, "before_flush", _refuse_flush)
        self.relaxed = sessionmaker(
            self.engine.execution_options(**{NOT_DURABLE: True}),
            expire_on_commit=False,
            info=info,
        )
        for maker in (self.sessions, self.readers, self.relaxed):
            event.listen(maker, "do_orm_execute", _scope_to_site)
            event.listen(maker, "before_flush", _stamp_site)

    def scoped(self, site: str | None) -> Store:
        """The view of ``site`` (``None``: agency-wide) on the same engine and pool.

        Disposing of any view closes the shared pool; the engine reconnects on next use.
        """
        view = object.__new__(Store)
        view.url = self.url
        view.engine = self.engine
        view._bind(site)
        return view

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        site = "all sites" if self.site is None else f"site={self.site!r}"
        return f"<Store {self.masked_url} {site}>"

    def session(self) -> Session:
        """A session the caller manages (``with store.session() as s, s.begin(): ...``)."""
        return self.sessions()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error.

        ``durable=False`` is for data that can be fetched again (comments from the
        networks): its commit does not wait for the disk (SQLite: ``synchronous=NORMAL``
        under WAL; PostgreSQL: ``synchronous_commit`` off for this transaction only). A
        power cut may lose such a commit, never the database's consistency, and the next
        durable commit (the ledger's intents, a sync cursor) writes it to disk as well:
        both logs are sequential, so nothing written durably after it survives without it.
        """
        if durable:
            with self.sessions.begin() as session:
                yield session
            return
        with self.relaxed.begin() as session:
            if self.dialect == "postgresql":
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only: one consistent snapshot, never the write lock.

        On SQLite a deferred ``BEGIN`` in WAL mode: the desk's pages and reports read
        while a tick writes, without waiting for it and without making it wait.
        """
        with self.readers.begin() as session:
            yield session

    def maintain(self) -> None:
        """Refresh the query planner's statistics (run by the scheduler's maintenance).

        SQLite's ``ANALYZE`` with ``analysis_limit`` reads a sample of each index, so
        it stays quick on a large table; PostgreSQL's ``ANALYZE`` samples as well. Without
        statistics SQLite can pick a poor index for the thread of a post (issue 24).
        """
        started = time.monotonic()
        if self.url.get_backend_name() == "sqlite":
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA analysis_limit=1000")
                # ANALYZE reads, then writes its statistics: taking the write lock first
                # waits for a busy writer instead of failing to upgrade ("locked")
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    # ANALYZE, not PRAGMA optimize: before SQLite 3.46 optimize looks only
                    # at tables this connection queried, which a fresh one has none of
                    cursor.execute("ANALYZE")
                    cursor.execute("COMMIT")
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
            finally:
                raw.close()
        else:
            with self.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE"
                )
        logger.debug("store %s maintained in %.2f s", self.masked_url, time.monotonic() - started)

    def upgrade(self, revision: str = "head") -> Store:
        """Bring the schema to ``revision``; safe to run at every start and concurrently."""
        if revision == "head" and self._at_head():
            return self
        logger.info("upgrading store %s to %s", self.masked_url, revision)
        from alembic import command  # alembic only when migrating

        self._migrate(lambda config: command.upgrade(config, revision))
        return self

    def _at_head(self) -> bool:
        """Whether the schema is at this version's head already (checked without alembic)."""
        head = head_revision()
        try:
            with self.read() as session:
                rows = session.execute(text("SELECT version_num FROM alembic_version")).all()
        except DBAPIError:
            return False  # never migrated: no version table yet
        return [row[0] for row in rows] == [head]

    def downgrade(self, revision: str) -> Store:
        """Take the schema back to ``revision`` (``"base"``: drop everything we created)."""
        logger.warning("downgrading store %s to %s", self.masked_url, revision)
        from alembic import command  # alembic only when migrating

        self._migrate(lambda config: command.downgrade(config, revision))
        return self

    def current_revision(self) -> str | None:
        """The schema revision the database is at (None: never migrated)."""
        try:
            from alembic.runtime.migration import MigrationContext

            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except DBAPIError as exc:
            raise self._error(exc) from None

    def compact(self) -> None:
        """Push erased data out of SQLite's write-ahead log into the (secure-deleted) file.

        After ``forget`` the old row images would otherwise survive in the WAL until the
        next automatic checkpoint; PostgreSQL's dead rows go at the next (auto)vacuum.
        """
        if self.url.get_backend_name() != "sqlite":
            return
        # on the driver's connection: a checkpoint cannot run inside the BEGIN IMMEDIATE
        # that SQLAlchemy's connection would open first
        raw = self.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()

    def dispose(self) -> None:
        """Close pooled connections (tests, and workers before they fork)."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    def _migrate(self, run: Any) -> None:
        if self.url.get_backend_name() == "sqlite" and self.url.database:
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        from alembic.util import CommandError  # alembic only when migrating

        config = alembic_config()
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                config.attributes["connection"] = connection
                run(config)
        except CommandError as exc:
            raise StoreError(
                f"cannot migrate the store {self.masked_url}: {exc} (was the database "
                "upgraded by a newer dialogpress? then upgrade dialogpress too)"
            ) from None
        except DBAPIError as exc:
            raise self._error(exc) from None
        logger.info("store %s at revision %s", self.masked_url, self.current_revision())

    def _error(self, exc: DBAPIError) -> StoreError:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return StoreError(f"cannot use the store {self.masked_url}: {reason}")


def open_store(settings: Settings) -> Store:
    """The site's store, migrated to head: what every command and job starts with.

    The URL is ``DP_DATABASE_URL`` from the environment, else the ``DATABASE_URL``
    setting, else a SQLite file in the site's git-ignored ``.dialogpress/`` folder. The
    store is scoped to ``DP_SITE`` (``""``, a one-site installation, when unset).
    """
    site = check_site_key(database_site(), ENV_SITE)
    store = Store(database_url(settings), root=settings_root(settings), site=site)
    return store.upgrade()

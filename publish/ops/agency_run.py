"""Many sites, many workers, one PostgreSQL: who ticks which site, and when.

``dialogpress run --agency FILE`` on one or several machines shares the agency's
PostgreSQL database. PostgreSQL is the coordination engine (docs/agency.md says why not a
job library): ``agency_sites`` has a row per site with the time its next tick is due and
a lease. A worker claims one due, unleased site with ``SELECT … FOR UPDATE SKIP LOCKED``
(two workers never wait for, nor take, the same row), writes itself into the lease
(``lease_owner``, ``lease_until``) and an ``agency_ticks`` row with the tick's start, and
commits: the row lock lasts milliseconds, the lease the tick's whole length. While the
tick runs, the worker renews the lease every quarter of ``lease_seconds``; when the tick
ends, it records the interval and outcome and sets the next due time, in one transaction
that checks (row counts) it still holds the lease. A worker that dies (SIGKILL, a lost
machine) stops renewing: after ``lease_seconds`` any other worker claims the site, and
marks the dead worker's tick ``lost`` with its end at the lease's end, so recorded
intervals never overlap.

Each tick is a child process, ``dialogpress tick --pull`` in the site's own git
workspace (``<workdir>/<key>``, cloned on first use), with ``DP_DATABASE_URL`` (the
agency's database), ``DP_SITE`` (the store's site key) and that site's secrets file in its
environment, and none of the worker's other ``DP_*`` variables: a client's tokens never
reach another client's tick. On Linux the child dies with its worker
(:mod:`publish.cli.tick_child`, ``PR_SET_PDEATHSIG``); a worker that cannot renew its
lease for three quarters of it kills its child itself, before another worker may take
the site. The child has a time limit (``tick_timeout_seconds``).

Times come from the database's clock (:func:`database_now`), not the machines': workers
on several hosts judge leases by one clock. Every function takes ``now`` so that tests and
the benchmark can drive it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError

from editorial import git
from editorial.git import GitError
from publish.ops.agency import Agency, AgencySite, SecretsError, site_environment
from publish.ops.workers import worker_id
from publish.store import Store
from publish.store.models import AgencySiteState, AgencyTick

logger = logging.getLogger(__name__)

#: a failing site waits longer each time, up to this (as ``dialogpress run`` does)
MAX_BACKOFF = timedelta(hours=1)
#: what a tick child's stderr keeps in the tick record when it fails
DETAIL_CHARS = 2000
#: how long an overrunning tick may take to stop on SIGTERM before it is killed
STOP_GRACE_SECONDS = 30.0
CLONE_TIMEOUT_SECONDS = 600.0
#: outcomes after which a site's failures count up (and it backs off)
FAILED_OUTCOMES = ("failed", "timeout", "error", "lost")


@dataclass(frozen=True)
class Claim:
    """A site this worker holds: the tick's record and until when the lease runs."""

    site: str
    tick_id: int
    started_at: datetime
    lease_until: datetime


@dataclass
class TickResult:
    """How a tick child ended, as recorded in ``agency_ticks``."""

    outcome: str
    exit_code: int | None = None
    detail: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def database_now(engine: Engine) -> datetime:
    """The database server's clock: one clock for workers on several machines."""
    with engine.connect() as connection:
        return cast(datetime, connection.execute(text("SELECT clock_timestamp()")).scalar_one())


def open_agency_store(agency: Agency) -> Store:
    """The agency's database, migrated; refuses anything but PostgreSQL (ValueError)."""
    if not agency.database_url.startswith(("postgresql://", "postgresql+")):
        where = f"{agency.path}: " if agency.path else ""
        raise ValueError(
            f"{where}database_url: the agency's workers share one PostgreSQL database "
            "(postgresql+psycopg://…), whose row locks coordinate them; SQLite serves one "
            "site on one machine"
        )
    return Store(agency.database_url).upgrade()


def register_sites(engine: Engine, agency: Agency, now: datetime) -> None:
    """A row for every site of the file not yet in ``agency_sites``, due at once.

    Rows of sites no longer in the file stay (their history is the operator's); workers
    only claim the keys of the file they were started with.
    """
    if not agency.sites:
        return
    rows = [
        {"key": site.key, "next_tick_at": now, "failures": 0, "updated_at": now}
        for site in agency.sites
    ]
    with engine.begin() as connection:
        connection.execute(pg_insert(AgencySiteState).values(rows).on_conflict_do_nothing())


def claim_site(
    engine: Engine, keys: tuple[str, ...], worker: str, now: datetime, lease_seconds: int
) -> Claim | None:
    """Claim the most overdue site among ``keys`` that no live lease holds, or None.

    ``SKIP LOCKED``: a row another worker is claiming this instant is passed over, not
    waited for. A site whose holder let its lease run out had a tick that never
    finished: it is recorded as ``lost``, ending when the lease did.
    """
    with engine.begin() as connection:
        row = connection.execute(
            select(AgencySiteState)
            .where(
                AgencySiteState.key.in_(keys),
                AgencySiteState.next_tick_at <= now,
                or_(AgencySiteState.lease_until.is_(None), AgencySiteState.lease_until <= now),
            )
            .order_by(AgencySiteState.next_tick_at, AgencySiteState.key)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        if row.lease_tick is not None:
            connection.execute(
                update(AgencyTick)
                .where(AgencyTick.id == row.lease_tick, AgencyTick.outcome == "running")
                .values(
                    outcome="lost",
                    finished_at=row.lease_until,
                    detail=f"{row.lease_owner} stopped renewing its lease; {worker} took over",
                )
            )
            logger.warning(
                "event=agency.takeover site=%s from=%s by=%s lease_until=%s",
                row.key, row.lease_owner, worker, row.lease_until,
            )  # fmt: skip
        tick_id = connection.execute(
            insert(AgencyTick)
            .values(site=row.key, worker=worker, started_at=now, outcome="running", summary={})
            .returning(AgencyTick.id)
        ).scalar_one()
        until = now + timedelta(seconds=lease_seconds)
        changed = cast(
            CursorResult[Any],
            connection.execute(
                update(AgencySiteState)
                .where(AgencySiteState.key == row.key)
                .values(lease_owner=worker, lease_until=until, lease_tick=tick_id, updated_at=now)
            ),
        ).rowcount
        if changed != 1:  # the row is locked by us; anything else is a bug worth stopping on
            raise RuntimeError(f"claiming {row.key}: {changed} rows changed")
    logger.info("event=agency.claimed site=%s worker=%s tick=%s", row.key, worker, tick_id)
    return Claim(row.key, tick_id, now, until)


def renew_lease(
    engine: Engine, claim: Claim, worker: str, now: datetime, lease_seconds: int
) -> bool:
    """Move the lease's end to ``now + lease_seconds``; False when it is not ours any more."""
    with engine.begin() as connection:
        changed = cast(
            CursorResult[Any],
            connection.execute(
                update(AgencySiteState)
                .where(
                    AgencySiteState.key == claim.site,
                    AgencySiteState.lease_owner == worker,
                    AgencySiteState.lease_tick == claim.tick_id,
                )
                .values(lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
            ),
        ).rowcount
    return changed == 1


def next_due(started_at: datetime, every: timedelta, failures: int) -> datetime:
    """``every`` after the tick's start; after failures twice as long each time (≤ 1 h)."""
    if failures <= 0:
        return started_at + every
    return started_at + max(every, min(every * 2 ** min(failures, 20), MAX_BACKOFF))


def finish_tick(
    engine: Engine,
    claim: Claim,
    worker: str,
    result: TickResult,
    now: datetime,
    every: timedelta,
) -> bool:
    """Record the tick's end and outcome, set the next due time and release the lease.

    One transaction, and only while the lease is still ours (row counts): a worker that
    lost its lease records nothing over the tick of the worker that took over.
    """
    with engine.begin() as connection:
        row = connection.execute(
            select(AgencySiteState)
            .where(
                AgencySiteState.key == claim.site,
                AgencySiteState.lease_owner == worker,
                AgencySiteState.lease_tick == claim.tick_id,
            )
            .with_for_update()
        ).first()
        if row is None:
            logger.error(
                "event=agency.lease_lost site=%s tick=%s worker=%s", claim.site, claim.tick_id,
                worker,
            )  # fmt: skip
            return False
        failures = row.failures + 1 if result.outcome in FAILED_OUTCOMES else 0
        connection.execute(
            update(AgencyTick)
            .where(AgencyTick.id == claim.tick_id, AgencyTick.outcome == "running")
            .values(
                finished_at=now,
                outcome=result.outcome,
                exit_code=result.exit_code,
                detail=result.detail,
                summary=result.summary,
            )
        )
        connection.execute(
            update(AgencySiteState)
            .where(AgencySiteState.key == claim.site, AgencySiteState.lease_tick == claim.tick_id)
            .values(
                lease_owner=None,
                lease_until=None,
                lease_tick=None,
                last_tick=claim.tick_id,
                failures=failures,
                next_tick_at=next_due(claim.started_at, every, failures),
                updated_at=now,
            )
        )
    logger.info(
        "event=agency.ticked site=%s tick=%s outcome=%s seconds=%.1f",
        claim.site, claim.tick_id, result.outcome, (now - claim.started_at).total_seconds(),
    )  # fmt: skip
    return True


# --- the tick child ----------------------------------------------------------------------


def child_environment(
    site: AgencySite, database_url: str, environ: Mapping[str, str]
) -> dict[str, str]:
    """The tick child's environment: the worker's without its ``DP_*`` variables, then the
    agency's database, the site's key and the site's own secrets (:class:`SecretsError`)."""
    child = site_environment(site, environ)
    child["DP_DATABASE_URL"] = database_url
    child["DP_SITE"] = site.key
    return child


def prepare_workspace(agency: Agency, site: AgencySite) -> Path:
    """The site's git workspace, cloned from its remote on first use (the tick pulls).

    The clone goes to a folder of its own and is renamed into place when complete: a
    worker that dies while cloning leaves no half-made workspace for the next one.
    """
    workspace = agency.workspace(site)
    if (workspace / ".git").exists():
        return workspace
    workspace.parent.mkdir(parents=True, exist_ok=True)
    logger.info("event=agency.clone site=%s remote=%s", site.key, site.remote)
    with tempfile.TemporaryDirectory(prefix=f".{site.key}.clone-", dir=workspace.parent) as tmp:
        fresh = Path(tmp) / site.key
        git.run(
            ["clone", "--quiet", "--branch", site.branch, "--", site.remote, str(fresh)],
            cwd=workspace.parent,
            timeout=CLONE_TIMEOUT_SECONDS,
            ssh=True,
        )
        if workspace.exists() and not any(workspace.iterdir()):
            workspace.rmdir()  # an empty folder an operator made: the clone takes its place
        fresh.rename(workspace)
    return workspace


def _tail(path: Path) -> str:
    data = path.read_bytes()[-DETAIL_CHARS:] if path.exists() else b""
    return data.decode("utf-8", "replace").strip()


def run_tick_child(
    agency: Agency,
    site: AgencySite,
    environ: Mapping[str, str],
    keep_going: Callable[[], bool],
) -> TickResult:
    """Run one site's tick as a child process and say how it ended.

    The child is :mod:`publish.cli.tick_child`, which dies with this worker.
    ``keep_going`` is asked while it runs: False (the lease is in danger) kills the
    child at once; one that overruns ``tick_timeout_seconds`` gets SIGTERM, then after
    :data:`STOP_GRACE_SECONDS` SIGKILL.
    """
    try:
        workspace = prepare_workspace(agency, site)
        env = child_environment(site, agency.database_url, environ)
    except GitError as exc:
        return TickResult("error", detail=f"cannot clone {site.remote}: {exc.reason}")
    except SecretsError as exc:
        return TickResult("error", detail=str(exc))
    settings = workspace / site.settings
    command = [
        sys.executable, "-m", "publish.cli.tick_child", str(os.getpid()),
        "tick", "--pull", "--format", "json", "--settings", str(settings),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix=f"dp-tick-{site.key}-") as tmp:
        out_path, err_path = Path(tmp, "stdout"), Path(tmp, "stderr")
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(  # our own interpreter and arguments
                command,
                cwd=workspace,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                # Ctrl-C at the worker's terminal is the worker's to handle, not the tick's
                start_new_session=True,
            )
            outcome = _wait(process, agency.tick_timeout_seconds, keep_going)
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = _tail(err_path)
    code = process.returncode
    if outcome is not None:
        return TickResult(outcome, code, f"{outcome}; the tick was killed. {stderr[-500:]}")
    summary: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        parsed = json.loads(stdout) if stdout.strip() else {}
        summary = parsed if isinstance(parsed, dict) else {}
    told = summary.get("outcome")
    if isinstance(told, str) and told in ("ok", "skipped", "incomplete", "failed"):
        result = TickResult(told, code, summary.get("error") or None, summary)
    else:
        result = TickResult("failed" if code else "ok", code, stderr or None, summary)
    if result.outcome in ("failed", "incomplete") and stderr:
        result.detail = ((result.detail or "") + "\n" + stderr).strip()[-DETAIL_CHARS:]
    return result


def _wait(
    process: subprocess.Popen[bytes],
    timeout: float,
    keep_going: Callable[[], bool],
) -> str | None:
    """Wait for the child; the reason it was killed (``timeout``, ``lost``), or None.

    A worker told to stop lets its tick finish (a half-done deploy or post would be
    worse than waiting); only the time limit and a lease in danger cut it short.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            process.wait(timeout=0.1)
            return None
        except subprocess.TimeoutExpired:
            pass
        if not keep_going():
            process.kill()
            process.wait()
            return "lost"
        if time.monotonic() > deadline:
            logger.error("event=agency.tick_timeout pid=%s seconds=%s", process.pid, timeout)
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            return "timeout"


class _Heartbeat:
    """Renews a claim's lease every quarter of it, in a thread, while the tick runs.

    :meth:`healthy` turns False once three quarters of the lease passed without a
    renewal: the worker then kills its tick before another worker may claim the site.
    """

    def __init__(self, engine: Engine, claim: Claim, worker: str, lease_seconds: int) -> None:
        self.engine = engine
        self.claim = claim
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.renewed = time.monotonic()
        self.lost = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{claim.site}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def healthy(self) -> bool:
        return not self.lost and time.monotonic() - self.renewed < 0.75 * self.lease_seconds

    def _run(self) -> None:
        while not self._done.wait(self.lease_seconds / 4):
            try:
                renewed = renew_lease(
                    self.engine, self.claim, self.worker, database_now(self.engine),
                    self.lease_seconds,
                )  # fmt: skip
            except Exception:  # the database is unreachable: try again until unhealthy
                logger.exception("event=agency.renew_failed site=%s", self.claim.site)
                continue
            if not renewed:
                self.lost = True
                logger.error("event=agency.lease_taken site=%s", self.claim.site)
                return
            self.renewed = time.monotonic()

    def close(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()


# --- the worker loop ---------------------------------------------------------------------


@dataclass
class WorkerReport:
    """What a worker did: the ticks it ran, by site, with their seconds and outcomes."""

    worker: str
    ticks: list[tuple[str, str, float]] = field(default_factory=list)


def tick_one(
    agency: Agency,
    engine: Engine,
    worker: str,
    environ: Mapping[str, str],
) -> tuple[Claim, TickResult] | None:
    """Claim one due site and tick it; None when no site is due (or all are held)."""
    keys = tuple(site.key for site in agency.sites)
    claim = claim_site(engine, keys, worker, database_now(engine), agency.lease_seconds)
    if claim is None:
        return None
    site = agency.site(claim.site)
    if site is None:  # claimed among the file's keys: cannot happen
        raise RuntimeError(f"claimed {claim.site}, which the agency file does not list")
    heartbeat = _Heartbeat(engine, claim, worker, agency.lease_seconds)
    heartbeat.start()  # before the clone, which may take longer than a lease
    try:
        result = run_tick_child(agency, site, environ, heartbeat.healthy)
    except Exception as exc:  # an OSError starting the child: recorded, never fatal
        logger.exception("event=agency.tick_crashed site=%s", claim.site)
        result = TickResult("error", detail=f"{type(exc).__name__}: {exc}")
    finally:
        heartbeat.close()
    every = timedelta(minutes=agency.every_minutes)
    finish_tick(engine, claim, worker, result, database_now(engine), every)
    return claim, result


def run_worker(
    agency: Agency,
    *,
    worker: str | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
    environ: Mapping[str, str] | None = None,
    idle_seconds: float = 5.0,
) -> WorkerReport:
    """Tick due sites until ``stop`` is set (``once``: until no site is due that it can claim).

    A tick that runs when ``stop`` is set finishes first (SIGTERM: the worker exits
    after it); give the service manager a stop timeout longer than a tick.

    An idle worker looks again after at most ``idle_seconds`` (sooner when the next site
    is due sooner), so that a dead worker's sites are taken soon after its leases end.

    Example:
        run_worker(load_agency("agency.yml"), worker="box-1", once=True)
    """
    name = worker or worker_id()
    stop = stop or threading.Event()
    environ = os.environ if environ is None else environ
    store = open_agency_store(agency)
    engine = store.engine
    report = WorkerReport(name)
    try:
        register_sites(engine, agency, database_now(engine))
        logger.info("event=agency.worker_started worker=%s sites=%s", name, len(agency.sites))
        while not stop.is_set():
            try:
                done = tick_one(agency, engine, name, environ)
                if done is not None:
                    claim, result = done
                    seconds = (database_now(engine) - claim.started_at).total_seconds()
                    report.ticks.append((claim.site, result.outcome, seconds))
                    continue
                if once:
                    break
                wait = _idle(engine, agency, idle_seconds)
            except DBAPIError as exc:
                # the database is away (restart, network): a service waits and tries again;
                # a tick it could not record is taken over as lost when its lease ends
                if once:
                    raise
                logger.error("event=agency.database_error error=%s", _first_line(exc))
                wait = idle_seconds
            stop.wait(wait)
    finally:
        store.dispose()
    logger.info("event=agency.worker_stopped worker=%s ticks=%s", name, len(report.ticks))
    return report


def _first_line(exc: BaseException) -> str:
    return '"' + str(exc).strip().splitlines()[0].replace('"', "'") + '"' if str(exc) else '""'


def _idle(engine: Engine, agency: Agency, longest: float) -> float:
    """Seconds until the next site is due or a lease ends, within [0.2, ``longest``]."""
    keys = tuple(site.key for site in agency.sites)
    with engine.connect() as connection:
        soonest = connection.execute(
            select(
                func.min(func.greatest(AgencySiteState.next_tick_at, AgencySiteState.lease_until)),
                func.clock_timestamp(),
            ).where(AgencySiteState.key.in_(keys))
        ).one()
    if soonest[0] is None:
        return longest
    return max(0.2, min(longest, (soonest[0] - soonest[1]).total_seconds()))


# --- what `dialogpress status --agency` shows --------------------------------------------

#: a token that expires within this long is shown as expiring (as `status` warns)
TOKEN_WARNING = timedelta(days=7)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when is not None else None


def agency_status(agency: Agency, now: datetime | None = None) -> dict[str, Any]:
    """Every site's last tick and its outcome, its failures, paused channels and
    expiring tokens, from the agency's database (nothing asks a network).

    Per-site facts (the ledger, the channels' state) are read through the site's view of
    the store, so that one client's paused channel is never shown as another's.

    Example:
        agency_status(load_agency("agency.yml"))["sites"][0]["last_tick"]["outcome"]
    """
    from publish.store import channel_state
    from publish.store.models import ChannelState, LedgerEntry, Status

    store = open_agency_store(agency)
    try:
        engine = store.engine
        now = now or database_now(engine)
        keys = [site.key for site in agency.sites]
        with engine.connect() as connection:
            states = {
                row.key: row
                for row in connection.execute(
                    select(AgencySiteState).where(AgencySiteState.key.in_(keys))
                )
            }
            last_ids = [row.last_tick for row in states.values() if row.last_tick is not None]
            ticks = {
                row.id: row
                for row in connection.execute(select(AgencyTick).where(AgencyTick.id.in_(last_ids)))
            }
        sites: list[dict[str, Any]] = []
        for site in agency.sites:
            state = states.get(site.key)
            last = ticks.get(state.last_tick) if state is not None and state.last_tick else None
            view = store.scoped(site.key)
            with view.read() as session:
                paused = {
                    s.channel: s.auth_problem or s.paused_reason or "paused"
                    for s in channel_state.paused(session, now)
                }
                expiring = {
                    s.channel: _iso(s.token_expires_at)
                    for s in session.scalars(
                        select(ChannelState).where(
                            ChannelState.token_expires_at.is_not(None),
                            ChannelState.token_expires_at <= now + TOKEN_WARNING,
                        )
                    )
                }
                counts = dict(
                    session.execute(
                        select(LedgerEntry.status, func.count())
                        .where(LedgerEntry.status.in_([Status.FAILED, Status.LATE]))
                        .group_by(LedgerEntry.status)
                    ).all()
                )
            sites.append(
                {
                    "key": site.key,
                    "name": site.name,
                    "next_tick_at": _iso(state.next_tick_at) if state else None,
                    "running": {"worker": state.lease_owner, "lease_until": _iso(state.lease_until)}
                    if state is not None and state.lease_owner
                    else None,
                    "failures": state.failures if state else 0,
                    "last_tick": {
                        "id": last.id,
                        "worker": last.worker,
                        "outcome": last.outcome,
                        "started_at": _iso(last.started_at),
                        "finished_at": _iso(last.finished_at),
                        "seconds": round((last.finished_at - last.started_at).total_seconds(), 1)
                        if last.finished_at
                        else None,
                        "detail": last.detail,
                    }
                    if last is not None
                    else None,
                    "failed_posts": int(counts.get(Status.FAILED, 0)),
                    "late_posts": int(counts.get(Status.LATE, 0)),
                    "paused_channels": paused,
                    "expiring_tokens": expiring,
                }
            )
    finally:
        store.dispose()
    return {"now": _iso(now), "sites": sites}

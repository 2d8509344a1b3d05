"""The scheduler commands: ``tick`` (one pass, for cron) and ``run`` (ticks forever)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import NoReturn

import click
import schedule

from editorial.settings import SettingsError, site_zone
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    _,
    agency_option,
    emit_json,
    error,
    fail,
    format_option,
    load,
    now_option,
    parse_now,
    require_site_approval,
    settings_option,
)
from publish.ops.context import FrameNotApproved, production_settings
from publish.ops.lock import LockHeld, SchedulerLock, site_lock
from publish.ops.scheduler import TickSummary, tick
from publish.settings import scheduler_settings
from publish.store import StoreError

logger = logging.getLogger(__name__)

# the longest a failing tick waits before it is tried again
MAX_BACKOFF_SECONDS = 3600


class StructuredFormatter(logging.Formatter):
    """``ts level logger event=… key=value``: one line per event, for journald and grep."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if not message.startswith("event="):
            message = 'event=log msg="' + message.replace('"', '\\"').replace("\n", " ") + '"'
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = f"{ts} {record.levelname} logger={record.name} {message}"
        if record.exc_info:
            line += " exc=" + repr(self.formatException(record.exc_info).replace("\n", " | "))
        return line


def _structured_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(StructuredFormatter())
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    if root.level > logging.DEBUG:
        # a line per written page would bury the scheduler's own events; what deploy,
        # sync, syndication and the ledger (a line per piece) and the site data file
        # say at INFO, the tick's step lines count; warnings and errors still show
        for noisy in (
            "pelican",
            "alembic",
            "publish.site.deploy",
            "publish.moderation.sync",
            "publish.site.sitedata",
            "publish.posting.syndication",
            "publish.store.ledger",
        ):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _stop_on_signals() -> threading.Event:
    """An event SIGTERM and SIGINT set: the running tick finishes, then the loop ends."""
    stop = threading.Event()

    def on_signal(number: int, _frame: FrameType | None) -> None:
        logger.info("event=run.stopping signal=%s", signal.Signals(number).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lock(settings_path: str) -> SchedulerLock:
    # the site's root is the settings file's folder (publishconf.py is beside it): found
    # without loading the settings and judging the frame again, which the tick does
    root = Path(settings_path).resolve().parent
    try:
        return site_lock(root).acquire()
    except LockHeld as exc:
        fail(str(exc), EXIT_FINDINGS)


def _tick(settings_path: str, now: datetime, dry_run: bool, pull: bool) -> TickSummary:
    try:
        # Pelican prints its own summary to stdout; stdout is for ours (JSON)
        with contextlib.redirect_stdout(sys.stderr):
            return tick(settings_path, now, environ=os.environ, dry_run=dry_run, pull=pull)
    except FrameNotApproved as exc:
        fail(str(exc), EXIT_FINDINGS)
    except (SettingsError, StoreError) as exc:
        fail(str(exc), EXIT_USAGE)


@main.command("tick")
@click.option("--dry-run", is_flag=True, help="Say what would happen; build, post, record nothing.")
@click.option("--pull", is_flag=True, help="git pull --ff-only first (a dirty tree is left alone).")
@now_option
@format_option("text", "json")
@settings_option
def tick_command(
    dry_run: bool, pull: bool, now_text: str | None, output_format: str, settings_path: str
) -> None:
    """One scheduler pass: build and deploy what changed, post what is due.

    The site is built only when its content, theme, plugins, settings or shared links
    changed since the last build that went live (or a post's date has come). A failed
    build deploys nothing and posts nothing (exit 1). Safe to run from cron; it refuses
    to run beside `dialogpress run` on the same site.

    Example:

        dialogpress tick --pull --format json
    """
    require_site_approval(settings_path)
    # the settings are read here for the zone of --now (or the reason they cannot be
    # read); otherwise the tick reads and checks them, once
    if now_text or not Path(settings_path).is_file():
        now = parse_now(now_text, site_zone(load(settings_path)).key)
    else:
        now = parse_now(None, "UTC")
    lock = None if dry_run else _lock(settings_path)
    try:
        summary = _tick(settings_path, now, dry_run, pull)
    finally:
        if lock is not None:
            lock.release()
    if output_format == "json":
        emit_json(summary.to_dict())
    else:
        # the step names and statuses are the words of the run log and the JSON
        for step in summary.steps:
            click.echo(f"{step.name} {step.status}" + (f": {step.detail}" if step.detail else ""))
        run = (_(" (run %(id)s)", id=summary.run_id) if summary.run_id
               else _(" (dry run: nothing recorded)"))
        click.echo(_("tick %(outcome)s%(run)s", outcome=summary.outcome, run=run)
                   + (f": {summary.error}" if summary.error else ""))
    if not summary.ok:
        if output_format == "json" and summary.error:
            error(summary.error)
        raise SystemExit(EXIT_FINDINGS)


class _Runner:
    """Runs ticks for ``run``; a failing tick is logged and retried later, never fatal."""

    def __init__(self, settings_path: str, pull: bool, every: int, stop: threading.Event) -> None:
        self.settings_path = settings_path
        self.pull = pull
        self.every = every
        self.stop = stop
        self.failures = 0
        self.job: schedule.Job | None = None

    def __call__(self) -> None:
        try:
            with contextlib.redirect_stdout(sys.stderr):
                summary = tick(
                    self.settings_path,
                    datetime.now(UTC),
                    environ=os.environ,
                    pull=self.pull,
                    should_stop=self.stop.is_set,
                )
            failed = summary.status == "failed"
        except FrameNotApproved as exc:
            # a user's state, not a crash: the client has to approve the layout first
            logger.error("event=tick.refused reason=%s", _quoted(str(exc)))
            failed = True
        except Exception:
            logger.exception("event=tick.crashed")
            failed = True
        self.failures = self.failures + 1 if failed else 0
        delay = min(self.every * 2**self.failures, max(self.every, MAX_BACKOFF_SECONDS))
        if self.job is not None:
            # schedule computes the next run from the interval after this call returns
            self.job.interval = delay
        if failed:
            logger.warning("event=tick.backoff failures=%s retry_in_s=%s", self.failures, delay)


def _run_agency(agency_path: str, worker: str | None, once: bool) -> NoReturn:
    """``run --agency``: a worker of the agency (publish.ops.agency_run), until stopped."""
    from sqlalchemy.exc import DBAPIError

    from publish.ops.agency import AgencyError, load_agency
    from publish.ops.agency_run import run_worker

    try:
        agency = load_agency(agency_path)
    except AgencyError as exc:
        fail(str(exc), EXIT_USAGE)
    stop = _stop_on_signals()
    try:
        report = run_worker(agency, worker=worker, once=once, stop=stop)
    except (StoreError, ValueError) as exc:
        fail(str(exc), EXIT_USAGE)
    except DBAPIError as exc:  # the database went away during --once
        fail(str(exc).strip().splitlines()[0], EXIT_FINDINGS)
    failed = [site for site, outcome, _ in report.ticks if outcome not in ("ok", "skipped")]
    for site, outcome, seconds in report.ticks:
        logger.info("event=agency.summary site=%s outcome=%s seconds=%.1f", site, outcome, seconds)
    raise SystemExit(EXIT_FINDINGS if once and failed else EXIT_OK)


@main.command("run")
@agency_option("Tick every site of this agency file, sharing its PostgreSQL with other workers.")
@click.option("--worker", help="This worker's name in leases and tick records (default host:pid).")
@click.option("--once", is_flag=True, help="With --agency: tick the due sites once, then exit.")
@click.option(
    "--every",
    "every_minutes",
    type=click.FloatRange(min=0, min_open=True),
    help="Minutes between ticks (default: SCHEDULER['tick_minutes']).",
)
@click.option("--pull", is_flag=True, help="git pull --ff-only before each tick.")
@settings_option
def run_command(
    agency_path: str | None,
    worker: str | None,
    once: bool,
    every_minutes: float | None,
    pull: bool,
    settings_path: str,
) -> None:
    """Tick every few minutes until stopped: the scheduler as a service.

    Holds a lock so that one scheduler runs per site (a second exits 1 naming the
    holder; a dead holder's lock is taken over). SIGTERM or Ctrl-C stops it after the
    current step, exit 0. A failing tick is logged and retried later, each time later
    (up to an hour). Logs: one line per event.

    With --agency, ticks the sites of an agency file instead (docs/agency.md): run one
    such worker per machine or several; they share the agency's PostgreSQL, each site's
    tick is claimed by exactly one of them, and a dead worker's sites are taken over
    when its lease runs out. SIGTERM lets the running tick finish, then exit 0. --once
    ticks the due sites it can claim and exits (1 when a tick did not end ok).

    Example:

        dialogpress run --every 5 --pull

        dialogpress run --agency /etc/dialogpress/agency.yml --worker box-1
    """
    _structured_logging()
    if agency_path is not None:
        _run_agency(agency_path, worker, once)
    if worker is not None or once:
        fail(_("--worker and --once go with --agency"), EXIT_USAGE)
    try:
        settings = production_settings(settings_path)
        minutes = every_minutes or scheduler_settings(settings).tick_minutes
    except FrameNotApproved as exc:
        fail(str(exc), EXIT_FINDINGS)
    except SettingsError as exc:
        fail(str(exc), EXIT_USAGE)
    every = max(1, round(minutes * 60))
    lock = _lock(settings_path)
    stop = _stop_on_signals()
    runner = _Runner(settings_path, pull, every, stop)
    scheduler = schedule.Scheduler()
    runner.job = scheduler.every(every).seconds.do(runner)
    logger.info("event=run.started pid=%s every_s=%s pull=%s", os.getpid(), every, pull)
    try:
        runner.job.run()
        while not stop.is_set():
            scheduler.run_pending()
            stop.wait(min(max(scheduler.idle_seconds or 0.0, 0.05), 1.0))
    finally:
        lock.release()
    logger.info("event=run.stopped pid=%s", os.getpid())
    raise SystemExit(EXIT_OK)

"""The scheduler's unit of work: one tick, safe to run from cron, a CI schedule or ``run``.

A tick pulls (when asked), builds and deploys only when what the site is made of changed
since the last build that went live, then syndicates, and builds again when the posts it
made put new "shared on" links on the site. After posting it syncs comments (every
``SCHEDULER['sync_minutes']``), sends queued replies and erases rejected comments past
their retention; approved comments and sent replies reach the site through the data
file, which the next fingerprint sees. What is "made of" is a fingerprint of the
content, theme, plugins, settings, the site data file, which posts' dates have come
(the approval gate lets a post in by its date, so time alone can change the site), and
the commits approvals are judged against (HEAD for authorship, the protected ref for the
trust root: a pull that only removes an approver must take their pages down). Every
tick is a row in ``scheduler_runs``; the newest one that went live holds the fingerprint
the next tick compares with. A failed build is never deployed and nothing is posted after
it: a snippet must not link to a post the public cannot read.

Ticks build into one folder per site (:func:`build_folder`) that outlives them, with
dp_incremental's record beside it, so that a tick after one edit renders the pages that
edit touched rather than the whole site; the deploy target copies the result into a
release, so the build folder is never what the public reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from editorial import git
from editorial.digests import update_framed
from editorial.git import GitError, GitResult
from editorial.guideline import GuidelineError, guideline_for
from editorial.links import post_save_as
from editorial.pieces import Post, Site, lend
from editorial.settings import Settings, settings_root
from editorial.trust import TrustError, protected_commit
from publish.moderation import purge, send_replies
from publish.moderation.sync import maintained, maintenance_due, sync, sync_due
from publish.notify.delivery import notify
from publish.ops.context import Context, open_context
from publish.ops.workers import worker_id
from publish.posting.syndication import Report, syndicate
from publish.settings import (
    max_lateness,
    moderation_settings,
    notify_settings,
    scheduler_settings,
)
from publish.site.build import build_site, production_settings_file
from publish.site.deploy import DeployError, DeployTarget, make_target
from publish.site.sitedata import data_path, refresh_site_data, write_site_data
from publish.store import Store
from publish.store.models import SchedulerRun

logger = logging.getLogger(__name__)

# statuses of a run whose fingerprint is live
# a pull from a remote that hangs gives up after this long; the tick goes on without it
PULL_TIMEOUT_SECONDS = 300.0
LIVE_STATUSES = ("ok", "skipped")
_SKIP_DIRS = {"__pycache__", ".git"}
# the scheduler's own build folder and its incremental record, below the site root
BUILD_FOLDER = ".dialogpress/build"


def build_folder(settings: Settings) -> Path:
    """Where ticks build: ``site/`` (the output) and ``cache/`` (the incremental record).

    It persists between ticks so that a tick with one change rebuilds only what that
    change touched; it is never served, a deploy copies it into a release.
    """
    return settings_root(settings) / BUILD_FOLDER


@dataclass
class Step:
    """One step of a tick: ``done``, ``skipped``, ``failed`` or ``warning``, and why."""

    name: str
    status: str
    detail: str = ""


@dataclass
class TickSummary:
    """What a tick did, printed by the command and kept in ``scheduler_runs``."""

    started_at: datetime
    dry_run: bool = False
    status: str = "running"
    steps: list[Step] = field(default_factory=list)
    fingerprint: str | None = None
    built: bool = False
    deployed: bool = False
    version: str | None = None
    posted: int = 0
    reconciled: int = 0
    late: int = 0
    failed: int = 0
    comments: int = 0
    syndication_ok: bool = True
    error: str | None = None
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed" and self.syndication_ok

    @property
    def outcome(self) -> str:
        """The status people read: ``incomplete`` when the site is live but a due piece
        could not go out. The recorded ``status`` stays ``ok``/``skipped`` then, because
        it says whether the build is live (the next tick compares its fingerprint)."""
        if self.status in ("ok", "skipped") and not self.syndication_ok:
            return "incomplete"
        return self.status

    def step(self, name: str, status: str, detail: str = "") -> None:
        self.steps.append(Step(name, status, detail))
        log = logger.warning if status in ("failed", "warning") else logger.info
        log("event=step name=%s status=%s detail=%s", name, status, _quoted(detail))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat(timespec="seconds")
        data["ok"] = self.ok
        data["outcome"] = self.outcome
        return data


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _files(folder: Path) -> list[str]:
    """Every file under ``folder`` as a path string, in :class:`~pathlib.Path`'s order
    (strings: on thousands of files pathlib would cost more than the reading)."""
    found: list[str] = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        found += [os.path.join(parent, name) for name in names if not name.endswith(".pyc")]
    return sorted(found, key=lambda path: path.split("/"))


def fingerprint(context: Context, settings_path: str | Path, now: datetime) -> str:
    """sha256 over every input of a production build at ``now`` (see the module docstring).

    content/ enters as the site memo's key when the site was read through it
    (:func:`editorial.site_memo.read_site`: every entry's bytes and date, the settings and
    the code), so a tick reads the content folder once. That key also changes with a
    file's date or a new dialogpress, which costs one rebuild, never a missed one."""
    settings = context.settings
    root = settings_root(settings)
    sources: list[str] = [
        str(Path(settings_path).resolve()), str(production_settings_file(settings_path))
    ]
    content = root / settings["PATH"]
    data_file = data_path(settings)
    # the site memo's key already holds every byte of content/ (read once a tick, not
    # twice), unless the data file, written after it was made, lies inside content/
    inside = data_file.resolve().is_relative_to(content.resolve())
    inputs = None if inside else context.site.inputs
    folders = [] if inputs else [content]
    folders += [Path(settings["THEME"])]
    folders += [root / p for p in settings.get("PLUGIN_PATHS", [])]
    for folder in folders:
        sources += _files(folder if folder.is_absolute() else root / folder)
    sources.append(str(data_file))
    digest = hashlib.sha256()
    if inputs:
        digest.update(f"content inputs {inputs}\n".encode())
    prefix = str(root).rstrip("/") + "/"
    for path in sources:
        name = (path[len(prefix) :] if path.startswith(prefix) else path).encode()
        try:
            with open(path, "rb") as file:
                data = file.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            data = b"\0missing"
        update_framed(digest, name, data)
    come = sorted(p.id for p in context.site.posts if p.publish_at and p.publish_at <= now)
    digest.update("\n".join(come).encode())
    digest.update(_git_state(root).encode())
    return digest.hexdigest()


def _git_state(root: Path) -> str:
    """The commits approvals are judged against, which no file of the tree shows: HEAD (who
    wrote what: authorship comes from history) and the protected ref the trust root is
    read from. A pull that only changes who may approve must rebuild, so that a page
    approved by someone no longer trusted leaves the site."""
    parts = []
    try:
        parts.append("HEAD " + git.output(["rev-parse", "HEAD"], cwd=root))
    except GitError:
        parts.append("HEAD none")
    try:
        ref, commit = protected_commit(root)
        parts.append(f"trust {ref} {commit}")
    except (TrustError, GitError):
        parts.append("trust none")
    return "\n".join(parts)


def pull_repository(root: Path) -> Step:
    """``git pull --ff-only``; a dirty tree or a diverged branch is reported, never touched."""

    def run(*args: str) -> GitResult:
        return git.run(args, cwd=root, check=False, timeout=PULL_TIMEOUT_SECONDS, ssh=True)

    try:
        dirty = run("status", "--porcelain", "--untracked-files=no")
        if dirty.returncode != 0:
            return Step("pull", "warning", f"not a git repository: {dirty.error_text.strip()}")
        changed = dirty.stdout.decode("utf-8", "replace")
        if changed.strip():
            files = ", ".join(line[3:] for line in changed.splitlines()[:5])
            return Step(
                "pull", "warning", f"working tree has local changes ({files}); not pulled"
            )
        before = run("rev-parse", "HEAD").text
        pulled = run("pull", "--ff-only", "--quiet")
        if pulled.returncode != 0:
            reason = pulled.error_text.strip().splitlines()[-1:] or ["git pull failed"]
            return Step("pull", "warning", f"not pulled: {reason[0]}")
        after = run("rev-parse", "HEAD").text
    except GitError as exc:  # git missing, or a remote that hangs: the tick goes on
        return Step("pull", "warning", f"not pulled: {exc.reason}")
    if before == after:
        return Step("pull", "skipped", "already up to date")
    return Step("pull", "done", f"{before[:12]}..{after[:12]}")


def _start_run(store: Store, now: datetime) -> int:
    with store.transaction() as session:
        run = SchedulerRun(started_at=now, status="running", summary={})
        session.add(run)
        session.flush()
        return run.id


def _finish_run(store: Store, summary: TickSummary, now: datetime) -> None:
    with store.transaction() as session:
        statement = (
            update(SchedulerRun)
            .where(SchedulerRun.id == summary.run_id, SchedulerRun.status == "running")
            .values(
                status=summary.status,
                finished_at=now,
                summary=summary.to_dict(),
                error=summary.error,
            )
        )
        changed = cast(CursorResult[Any], session.execute(statement)).rowcount
    if changed != 1:
        logger.error("event=run.record_lost run_id=%s", summary.run_id)


def last_live_fingerprint(store: Store) -> str | None:
    """The fingerprint of the newest run whose build is live, if any."""
    with store.read() as session:
        run = session.scalars(
            select(SchedulerRun)
            .where(SchedulerRun.status.in_(LIVE_STATUSES))
            .order_by(SchedulerRun.id.desc())
            .limit(1)
        ).first()
        return run.summary.get("fingerprint") if run is not None else None


def runs(store: Store, limit: int = 20) -> list[SchedulerRun]:
    """The newest runs first."""
    with store.read() as session:
        found = list(
            session.scalars(select(SchedulerRun).order_by(SchedulerRun.id.desc()).limit(limit))
        )
        session.expunge_all()
    return found


class _Deployer:
    """Builds into the site's build folder and deploys; remembers the build for ``is_live``.

    The folder keeps the last build and dp_incremental's record of it, so each build
    is incremental; a failed build leaves the folder to be rebuilt in full next time
    (``build_site`` drops the record) and is never deployed.
    """

    def __init__(
        self, settings_path: str | Path, target: DeployTarget, folder: Path, now: datetime,
        site: Site | None = None,
    ) -> None:
        self.settings_path = settings_path
        # the site the tick read: lent to the build's approval gate, which would read it again
        self.site = site
        self.target = target
        self.folder = folder
        self.now = now
        self.last_build: Path | None = None

    def build_and_deploy(self, summary: TickSummary, label: str) -> bool:
        output = self.folder / "site"
        live = self.target.live_root()
        if live is not None and (
            output.resolve().is_relative_to(live.resolve())
            or self.folder.resolve().is_relative_to(live.resolve())
        ):
            summary.step(label, "failed", f"the build folder {self.folder} is inside {live}")
            summary.error = f"the deploy target {live} holds the build folder {self.folder}"
            return False
        with lend(self.site) if self.site is not None else contextlib.nullcontext():
            result = build_site(
                self.settings_path,
                production=True,
                output=output,
                override={
                    "DP_NOW": self.now.isoformat(), "CACHE_PATH": str(self.folder / "cache")
                },
                summarise=True,
            )
        if not result.ok:
            summary.step(label, "failed", "; ".join(result.errors))
            summary.error = f"the build failed ({len(result.errors)} errors): {result.errors[0]}"
            return False
        summary.built = True
        summary.step(label, "done", f"production build of {result.settings_file.name}")
        try:
            deployed = self.target.deploy(result.output)
        except DeployError as exc:
            summary.step("deploy", "failed", f"{exc}; the live site is unchanged")
            summary.error = str(exc)
            return False
        self.last_build = result.output
        summary.version = deployed.version
        if deployed.unchanged:
            summary.step("deploy", "skipped", f"{deployed.location} already serves this build")
        else:
            summary.deployed = True
            served = f"{deployed.location} now serves {deployed.version[:12]}"
            summary.step("deploy", "done", served)
        return True

    def is_live(self, context: Context) -> Callable[[Post], bool]:
        """Whether a post is readable where the public reads it (or in what was deployed)."""
        root = self.target.live_root() or self.last_build
        if root is None:
            return context.is_live

        def live(post: Post) -> bool:
            return (root / post_save_as(context.site, post)).is_file()

        return live


def _count(summary: TickSummary, report: Report) -> None:
    summary.posted = report.count("posted")
    summary.reconciled = report.count("reconciled")
    summary.late = report.count("late")
    summary.failed = report.count("failed")
    summary.syndication_ok = report.ok
    paused = "; ".join(f"{name}: {why}" for name, why in sorted(report.paused.items()))
    problems = report.problems()
    if problems and summary.error is None:
        # the reasons are in the step, once for the run; the error names the channels
        summary.error = f"not every due piece could go out: {', '.join(problems)}"
    summary.step(
        "syndicate",
        "done" if report.ok else "failed",
        f"{summary.posted} posted, {summary.reconciled} reconciled, {summary.late} late, "
        f"{summary.failed} failed" + (f"; paused: {paused}" if paused else ""),
    )


def tick(
    settings_path: str | Path,
    now: datetime,
    *,
    environ: Mapping[str, str],
    dry_run: bool = False,
    pull: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
) -> TickSummary:
    """One pass of the scheduler at ``now``; see the module docstring for the steps.

    ``should_stop`` is asked between steps, so a scheduler told to stop finishes the
    step it is in (a half-done deploy or post would be worse than waiting) and records
    the run as ``stopped``; the next tick picks up where this one left off.
    """
    summary = TickSummary(started_at=now, dry_run=dry_run)
    root = Path(settings_path).resolve().parent
    if pull:
        if dry_run:
            summary.step("pull", "skipped", "dry run")
        else:
            done = pull_repository(root)
            summary.step(done.name, done.status, done.detail)
    context = open_context(settings_path, environ, dry_run=dry_run)
    try:
        if not dry_run:
            summary.run_id = _start_run(context.store, now)
        try:
            _steps(summary, context, settings_path, now, should_stop)
        except Exception as exc:
            summary.status = "failed"
            summary.error = f"{type(exc).__name__}: {exc}"
            logger.exception("event=tick.error run_id=%s", summary.run_id)
        if not dry_run:
            # after every step, also after a failed build: what went wrong is news
            _notify(summary, context, now)
            _finish_run(context.store, summary, now)
    finally:
        context.store.dispose()
    logger.info(
        "event=tick.done status=%s run_id=%s built=%s deployed=%s posted=%s",
        summary.outcome,
        summary.run_id,
        summary.built,
        summary.deployed,
        summary.posted,
    )
    return summary


def _steps(
    summary: TickSummary,
    context: Context,
    settings_path: str | Path,
    now: datetime,
    should_stop: Callable[[], bool],
) -> None:
    settings: Settings = context.settings
    dry_run = summary.dry_run
    target = make_target(settings)
    deployer = _Deployer(settings_path, target, build_folder(settings), now, context.site)
    if not dry_run:
        write_site_data(context.site, context.store, now)
    summary.fingerprint = fingerprint(context, settings_path, now)
    unchanged = summary.fingerprint == last_live_fingerprint(context.store)
    live_version = target.current_version()
    if unchanged and live_version is not None:
        summary.version = live_version
        summary.step("build", "skipped", "nothing changed")
        summary.step("deploy", "skipped", "nothing changed")
        summary.status = "skipped"
    elif dry_run:
        summary.step("build", "skipped", "dry run: the site changed and would be built")
        summary.step("deploy", "skipped", "dry run")
    elif not deployer.build_and_deploy(summary, "build"):
        summary.status = "failed"
        summary.step("syndicate", "skipped", "the build or deploy failed; nothing posted")
        return
    if should_stop():
        summary.status = "stopped"
        summary.step("syndicate", "skipped", "stopping")
        return
    report = syndicate(
        context.site,
        context.store,
        context.channels,
        now,
        is_live=deployer.is_live(context),
        max_lateness=max_lateness(settings),
        dry_run=dry_run,
    )
    for name, problem in context.problems.items():
        report.paused.setdefault(name, problem)
    _count(summary, report)
    if not dry_run:
        _conversation(summary, context, now)
        _rebuild_for_links(summary, context, settings_path, now, deployer, should_stop)
    if summary.status == "running":
        summary.status = "ok"


def _conversation(summary: TickSummary, context: Context, now: datetime) -> None:
    """Comments in, queued replies out, old rejected comments erased.

    A network that refuses reads is noted in the step, not a failed tick: posting works
    regardless, and the message is there each run until the access level changes.
    """
    settings = context.settings
    every = timedelta(minutes=scheduler_settings(settings).sync_minutes)
    rules = moderation_settings(settings)
    if not sync_due(context.store, now, every):
        summary.step("sync", "skipped", f"synced less than {every} ago")
    else:
        try:
            guideline = guideline_for(settings)
        except GuidelineError as exc:
            summary.step("sync", "failed", f"the guideline cannot be read: {exc}")
            return
        result = sync(context.store, context.channels, guideline, rules, now, site=context.site)
        summary.comments = result.total_added
        problems = "; ".join(f"{name}: {why}" for name, why in sorted(result.problems.items()))
        summary.step(
            "sync",
            "done",
            f"{result.total_added} new, {sum(result.updated.values())} edited, "
            f"{sum(result.hidden.values())} hidden" + (f"; {problems}" if problems else ""),
        )
    outcomes = send_replies(context.store, context.channels, now)
    if outcomes:
        sent = sum(1 for o in outcomes if o.status in ("sent", "reconciled"))
        summary.step("replies", "done", f"{sent} of {len(outcomes)} sent")
    purged = purge(context.store, rules.retention_days, now)
    if purged:
        summary.step("retention", "done", f"{purged} rejected comment(s) erased")
    if maintenance_due(context.store, now):
        context.store.maintain()
        maintained(context.store, now)
        summary.step("maintenance", "done", "query planner statistics refreshed")


def _notify(summary: TickSummary, context: Context, now: datetime) -> None:
    """Record and send the notifications that are true at ``now`` (publish.notify.delivery).

    A mail server or chat hook that refuses is a ``warning`` step, never a failed tick:
    the row stays pending and the next tick tries again.
    """
    config = notify_settings(context.settings)
    if not config.enabled:
        return
    for problem in context.notify_problems:
        summary.step("notify", "warning", problem)
    try:
        guideline = guideline_for(context.settings)
    except GuidelineError:
        guideline = None  # escalations then go to mail_to and the webhooks only
    try:
        report = notify(context.store, config, guideline, context.transports, now, worker_id())
    except Exception as exc:  # a notification problem must not fail the tick
        logger.exception("event=notify.error")
        summary.step("notify", "warning", f"{type(exc).__name__}: {exc}")
        return
    status = "warning" if report.failed or report.doubt else "done"
    summary.step("notify", status, report.summary())


def _rebuild_for_links(
    summary: TickSummary,
    context: Context,
    settings_path: str | Path,
    now: datetime,
    deployer: _Deployer,
    should_stop: Callable[[], bool],
) -> None:
    """New posts on the networks are new "shared on" links: the site shows them at once."""
    if not refresh_site_data(context.site, context.store, now):
        summary.step("rebuild", "skipped", "the links and comments on the site did not change")
        return
    if should_stop():
        summary.status = "stopped"
        summary.step("rebuild", "skipped", "stopping; the next tick builds the new links")
        return
    if deployer.build_and_deploy(summary, "rebuild"):
        summary.fingerprint = fingerprint(context, settings_path, now)
        summary.status = "ok"
    else:
        summary.status = "failed"


def overview(store: Store, settings: Settings, now: datetime) -> dict[str, Any]:
    """What `dialogpress status` says of the scheduler: last and next run, last build, the
    deploy target and its live version."""

    def brief(run: SchedulerRun | None) -> dict[str, Any] | None:
        if run is None:
            return None
        return {
            "id": run.id,
            "status": run.status,
            "started_at": run.started_at.isoformat(timespec="seconds"),
            "finished_at": run.finished_at.isoformat(timespec="seconds")
            if run.finished_at
            else None,
        }

    recent = runs(store, limit=200)
    last = recent[0] if recent else None
    built = next((r for r in recent if (r.summary or {}).get("built")), None)
    minutes = scheduler_settings(settings).tick_minutes
    upcoming = (last.started_at + timedelta(minutes=minutes)) if last else None
    target = make_target(settings)
    try:
        version = target.current_version()
    except DeployError as exc:
        version = f"unknown: {exc}"
    return {
        "last_run": brief(last),
        "next_run": max(upcoming, now).isoformat(timespec="seconds") if upcoming else None,
        "last_build": brief(built),
        "deploy": {"target": target.describe(), "version": version},
    }

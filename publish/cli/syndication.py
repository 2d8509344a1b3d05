"""Commands for posting to the networks: syndicate, status, release, skip, retract."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, Literal

import click

from editorial.approvals import approval_states
from editorial.settings import site_zone
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    _,
    agency_option,
    emit_json,
    error,
    fail,
    format_option,
    now_option,
    open_production,
    parse_now,
    settings_option,
)
from publish.moderation.sync import last_reads
from publish.ops.context import Context, actor
from publish.ops.scheduler import overview
from publish.posting.channels import ChannelError
from publish.posting.syndication import Outcome, retract, syndicate
from publish.settings import max_lateness, moderation_settings
from publish.site.sitedata import write_site_data
from publish.states import FAILED, LATE, PENDING, editorial_state, local_time, snippet_state
from publish.store import StoreError, channel_state, ledger
from publish.store.models import Status


def _print_outcomes(outcomes: list[Outcome], said: dict[str, str] | None = None) -> None:
    """One line per outcome; a channel's reason in ``said`` (printed once below) is not
    repeated on every piece it holds back."""
    said = said or {}
    for outcome in outcomes:
        url = f" {outcome.url}" if outcome.url else ""
        repeated = outcome.status == "paused" and outcome.channel in said
        shown = _("see below") if repeated else outcome.message
        message = f" — {shown}" if shown else ""
        where = _("%(piece)s on %(channel)s", piece=outcome.piece_id, channel=outcome.channel)
        part = _(" part %(n)s", n=outcome.part + 1) if outcome.part else ""
        click.echo(f"{outcome.status:>14}  {where}{part}{url}{message}")


@main.command("syndicate")
@click.option("--dry-run", is_flag=True, help="Show what would be posted; post and record nothing.")
@now_option
@format_option("text", "json")
@settings_option
def syndicate_command(
    dry_run: bool, now_text: str | None, output_format: str, settings_path: str
) -> None:
    """Post every due, approved snippet to its networks, each part exactly once.

    Due means approved for its current content, publish_at reached, and the linked post
    live in the production build. Exits 1 when a piece failed or a channel's
    credentials need renewing; the other channels go on regardless.

    Example:

        dialogpress syndicate --now "2026-11-24 10:00" --format json
    """
    context = open_production(settings_path, dry_run=dry_run)
    now = parse_now(now_text, site_zone(context.settings).key)
    report = syndicate(
        context.site,
        context.store,
        context.channels,
        now,
        is_live=context.is_live,
        max_lateness=max_lateness(context.settings),
        dry_run=dry_run,
    )
    for name, problem in context.problems.items():
        report.paused.setdefault(name, problem)
    if not dry_run:
        write_site_data(context.site, context.store, now)
    if output_format == "json":
        emit_json(report.to_dict())
    else:
        _print_outcomes(report.outcomes, report.paused)
        for name, reason in sorted(report.paused.items()):
            click.echo(_("paused: %(channel)s: %(reason)s", channel=name, reason=reason))
        if dry_run:
            summary = _("%(post)s would post, %(late)s late, %(failed)s failed, %(hold)s would "
                        "hold (late) (dry run: nothing was posted)",
                        post=report.count("would-post"), late=report.count("late"),
                        failed=report.count("failed"), hold=report.count("would-hold-late"))
        else:
            summary = _("%(posted)s posted, %(reconciled)s reconciled, %(late)s late, "
                        "%(failed)s failed", posted=report.count("posted"),
                        reconciled=report.count("reconciled"), late=report.count("late"),
                        failed=report.count("failed"))
        click.echo(summary)
    if not report.ok:
        # once, on stderr: cron mails it, JSON stays parseable; the text above has the reasons
        problems = report.problems()
        if output_format == "json":
            for name, reason in problems.items():
                error(f"{name}: {reason}")
        elif problems:
            error(_("not every due piece could go out: %(names)s (see above)",
                    names=", ".join(problems)))
        raise SystemExit(EXIT_FINDINGS)


def _status_rows(context: Context, now: datetime) -> list[dict[str, Any]]:
    """Every (snippet, channel) in the words of :mod:`publish.states`, as the calendar."""
    rows: list[dict[str, Any]] = []
    with context.store.transaction() as session:
        entries = {(e.piece_id, e.channel, e.part_index): e for e in ledger.all_entries(session)}
        session.expunge_all()
    snippets = context.site.snippets
    approvals = approval_states(context.site, snippets) if snippets else {}
    for snippet in snippets:
        editorial, why = editorial_state(snippet, approvals.get(snippet.id))
        due = snippet.publish_at is not None and snippet.publish_at <= now
        for channel in snippet.channels:
            first = entries.get((snippet.id, channel, 0))
            parts = [
                entries.get((snippet.id, channel, i)) for i in range(len(snippet.parts(channel)))
            ]
            state, error = snippet_state(editorial, parts, due)
            rows.append(
                {
                    "piece": snippet.id,
                    "channel": channel,
                    "publish_at": snippet.publish_at.isoformat(timespec="seconds")
                    if snippet.publish_at
                    else None,
                    "state": state,
                    "url": first.remote_url if first else None,
                    "error": error or (why if first is None else None),
                    "attempts": sum(p.attempts for p in parts if p is not None),
                }
            )
    return rows


def token_health(ok: bool, message: str, expires: datetime, now: datetime) -> tuple[bool, str]:
    """A token past its expiry is expired (not ok, whatever the network's probe said);
    one expiring within a week is ok with a warning to renew it."""
    if expires <= now:
        days = (now - expires).days
        ago = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
        return False, f"the token expired {ago} ({expires:%Y-%m-%d}) — renew it"
    days = (expires - now).days
    if days < 7:
        when = "within a day" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        return ok, f"{message}; the token expires {when} — renew it now"
    return ok, message


def _health(context: Context, now: datetime) -> dict[str, dict[str, Any]]:
    health: dict[str, dict[str, Any]] = {}
    with context.store.transaction() as session:
        paused = {state.channel: state for state in channel_state.paused(session, now)}
    for name, problem in context.problems.items():
        health[name] = {"ok": False, "message": problem, "expires_at": None, "paused": None}
    for name, channel in context.channels.items():
        try:
            result = channel.health()
            ok, message, expires = result.ok, result.message, result.expires_at
        except ChannelError as exc:
            ok, message, expires = False, str(exc), None
        if expires is not None:
            with context.store.transaction() as session:
                channel_state.record_token_expiry(session, name, expires, now)
            ok, message = token_health(ok, message, expires, now)
        state = paused.get(name)
        health[name] = {
            "ok": ok,
            "message": message,
            "expires_at": expires.isoformat(timespec="seconds") if expires else None,
            "paused": (state.auth_problem or state.paused_reason) if state else None,
        }
    return health


def _agency_status(agency_path: str, output_format: str) -> None:
    """``status --agency``: every site's last tick, failures, paused channels, tokens."""
    from sqlalchemy.exc import DBAPIError

    from publish.ops.agency import AgencyError, load_agency
    from publish.ops.agency_run import agency_status

    try:
        agency = load_agency(agency_path)
        data = agency_status(agency)
    except (AgencyError, StoreError, ValueError) as exc:
        fail(str(exc), EXIT_USAGE)
    except DBAPIError as exc:  # the database went away while reading
        fail(str(exc).strip().splitlines()[0], EXIT_FINDINGS)
    if output_format == "json":
        emit_json(data)
        return
    for site in data["sites"]:
        last = site["last_tick"]
        said = (
            _("%(outcome)s at %(when)s by %(worker)s (%(seconds)s s)", outcome=last["outcome"],
              when=last["started_at"], worker=last["worker"], seconds=last["seconds"])
            if last else _("never ticked")
        )  # fmt: skip
        click.echo(f"{site['key']} ({site['name']}): " + _("last tick %(said)s", said=said))
        if site["running"]:
            click.echo("  " + _("ticking now: %(worker)s, lease until %(until)s",
                                worker=site["running"]["worker"],
                                until=site["running"]["lease_until"]))
        click.echo("  " + _("next tick: %(when)s; failed ticks in a row: %(n)s; failed posts: "
                            "%(failed)s, late: %(late)s", when=site["next_tick_at"] or "—",
                            n=site["failures"], failed=site["failed_posts"],
                            late=site["late_posts"]))
        if last and last["outcome"] not in ("ok", "skipped") and last["detail"]:
            click.echo("  " + last["detail"].splitlines()[0][:200])
        for channel, why in sorted(site["paused_channels"].items()):
            click.echo("  " + _("paused: %(channel)s: %(reason)s", channel=channel, reason=why))
        for channel, when in sorted(site["expiring_tokens"].items()):
            click.echo("  " + _("token of %(channel)s expires %(when)s — renew it",
                                channel=channel, when=when))


@main.command("status")
@agency_option("Every site of this agency file: last tick, failures, paused channels, tokens.")
@now_option
@format_option("text", "json")
@settings_option
def status_command(
    agency_path: str | None, now_text: str | None, output_format: str, settings_path: str
) -> None:
    """Where every snippet stands on every channel, and each channel's health.

    States (publish/states.py, the same words as `calendar`): error, draft, awaiting
    approval, approved, pending (due, not out yet), posted (with URL), late, failed
    (with the reason), skipped, retracted. Times are in the site's zone with their
    offset; JSON has ISO 8601. Health asks each network whether the
    credentials work and when the token expires (a warning a week before).

    With --agency, one block per site of the agency file instead, from the agency's
    database: the last tick (outcome, worker, seconds), the next, failed ticks in a row,
    failed and late posts, paused channels and tokens that expire within a week.

    Example:

        dialogpress status --format json

        dialogpress status --agency /etc/dialogpress/agency.yml
    """
    if agency_path is not None:
        _agency_status(agency_path, output_format)
        return
    context = open_production(settings_path)
    now = parse_now(now_text, site_zone(context.settings).key)
    rows = _status_rows(context, now)
    health = _health(context, now)
    scheduler = overview(context.store, context.settings, now)
    reads = _reads(context)
    counts = {
        state: sum(1 for row in rows if row["state"] == state) for state in (PENDING, LATE, FAILED)
    }
    if output_format == "json":
        emit_json(
            {
                "now": now.isoformat(timespec="seconds"),
                "scheduler": scheduler,
                "pending": counts["pending"],
                "queued": counts["pending"],  # the old word for pending, kept for scripts
                "late": counts["late"],
                "failed": counts["failed"],
                "pieces": rows,
                "channels": health,
                "reads": reads,
            }
        )
        return
    tz = site_zone(context.settings)

    def shown(iso: str | None) -> str:
        # every time for people in the site's zone with its offset; JSON keeps ISO
        return local_time(datetime.fromisoformat(iso), tz) if iso else "—"

    last = scheduler["last_run"]
    click.echo(
        _("last run: %(last)s; next run: %(next)s",
          last=_("%(status)s at %(when)s", status=last["status"],
                 when=shown(last["started_at"])) if last else _("never"),
          next=shown(scheduler["next_run"]) if scheduler["next_run"] else _("at the first tick"))
    )
    build = scheduler["last_build"]
    click.echo(_("last build: %(when)s",
                 when=shown(build["started_at"]) if build else _("none by the scheduler")))
    deploy = scheduler["deploy"]
    click.echo(_("deploy target: %(target)s, live version: %(version)s",
                 target=deploy["target"], version=deploy["version"] or _("none")))
    click.echo(_("pending: %(pending)s, late: %(late)s, failed: %(failed)s", **counts))
    for row in rows:
        extra = row["url"] or row["error"] or ""
        when = shown(row["publish_at"])
        where = _("%(piece)s on %(channel)s", piece=row["piece"], channel=row["channel"])
        click.echo(f"{row['state']:>17}  {when}  {where}  {extra}")
    for name, info in sorted(health.items()):
        flag = "ok" if info["ok"] and not info["paused"] else _("NOT OK")
        detail = info["paused"] or info["message"]
        click.echo(_("channel %(channel)s: %(flag)s — %(detail)s", channel=name, flag=flag,
                     detail=detail))
    x = reads.get("twitter")
    if x is not None:
        click.echo(
            _("X reads: %(last)s requests in the last sync (at most %(per_run)s per run); tier "
              "limit %(searches)s searches per 15 min, %(month)s reads per month",
              last=x["last_sync"], per_run=x["per_run"], searches=x["searches_per_15min"],
              month=x["reads_per_month"])
        )


def _reads(context: Context) -> dict[str, dict[str, int]]:
    """The last sync's read requests per channel, against X's tier limits (settings)."""
    moderation = moderation_settings(context.settings)
    last = last_reads(context.store)
    reads: dict[str, dict[str, int]] = {
        name: {"last_sync": count} for name, count in last.items()
    }
    if "twitter" in context.channels or "twitter" in last:
        reads.setdefault("twitter", {"last_sync": 0}).update(
            per_run=moderation.x_requests_per_run,
            searches_per_15min=moderation.x_searches_per_15min,
            reads_per_month=moderation.x_reads_per_month,
        )
    return reads


def _person_command(
    settings_path: str,
    piece: str,
    channel: str | None,
    who: str | None,
    action: Literal["release", "skip"],
    reason: str | None,
) -> None:
    context = open_production(settings_path)
    person = actor(who, os.environ, context.site.root)
    now = datetime.now(UTC)
    piece_id = piece.removeprefix("content/")
    statuses = (
        (Status.LATE, Status.FAILED)
        if action == "release"
        else (Status.INTENT, Status.LATE, Status.FAILED)
    )
    with context.store.transaction() as session:
        decision = ledger.decide(
            session, piece_id, channel, action, person, now, statuses=statuses, reason=reason
        )
        if not decision.matched:
            fail(_("%(piece)s: nothing to %(action)s (see 'dialogpress status')",
                   piece=piece_id, action=action))
    for conflict in decision.conflicts:
        error(str(conflict))
    click.echo(_("%(action)s: %(n)s part(s) of %(piece)s by %(person)s", action=action,
                 n=decision.changed, piece=piece_id, person=person))


@main.command("release")
@click.argument("piece")
@click.option("--channel", help="Only this channel.")
@click.option("--as", "who", help="Who releases it (default: DP_ACTOR or git user.email).")
@settings_option
def release_command(piece: str, channel: str | None, who: str | None, settings_path: str) -> None:
    """Let a late or failed piece go out at the next run after all.

    Example:

        dialogpress release social/2026-11-20-stoerung.md --channel twitter
    """
    _person_command(settings_path, piece, channel, who, "release", None)


@main.command("skip")
@click.argument("piece")
@click.option("--channel", help="Only this channel.")
@click.option("--reason", help="Why it never goes out (kept in the audit log).")
@click.option("--as", "who", help="Who skips it (default: DP_ACTOR or git user.email).")
@settings_option
def skip_command(
    piece: str, channel: str | None, reason: str | None, who: str | None, settings_path: str
) -> None:
    """Decide that a late, failed or pending piece never goes out.

    Example:

        dialogpress skip social/2026-11-20-stoerung.md --reason "outage is over"
    """
    _person_command(settings_path, piece, channel, who, "skip", reason)


@main.command("retract")
@click.argument("pieces", nargs=-1, required=True)
@click.option("--reason", help="Why (kept in the audit log).")
@click.option("--as", "who", help="Who retracts (default: DP_ACTOR or git user.email).")
@format_option("text", "json")
@settings_option
def retract_command(
    pieces: tuple[str, ...],
    reason: str | None,
    who: str | None,
    output_format: str,
    settings_path: str,
) -> None:
    """Delete a piece's posts on every network and take it off the site at the next build.

    A post given here retracts the snippets that link to it too. Running it again
    changes nothing.

    Example:

        dialogpress retract social/2026-11-24-advent.md --reason "wrong opening hours"
    """
    context = open_production(settings_path)
    person = actor(who, os.environ, context.site.root)
    now = datetime.now(UTC)
    ids: list[str] = []
    for piece in pieces:
        piece_id = piece.removeprefix("content/")
        found = context.site.get(piece_id)
        ids.append(piece_id)
        slug = getattr(found, "slug", None)
        if slug:
            ids += [s.id for s in context.site.snippets if s.post == slug]
    outcomes = retract(context.store, context.channels, ids, now, actor=person, reason=reason)
    write_site_data(context.site, context.store, now)
    if output_format == "json":
        emit_json([o.to_dict() for o in outcomes])
    else:
        _print_outcomes(outcomes)
    if any(o.status == "failed" for o in outcomes):
        raise SystemExit(EXIT_FINDINGS)

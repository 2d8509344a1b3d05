"""Commands for the conversation: sync, inbox, comment …, report, forget.

Conflicts (someone acted on the comment first) exit 3, so that scripts and the desk can
tell "someone was quicker" from a failure.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from editorial.settings import Settings, SettingsError, site_zone
from editorial.times import TimeError, parse_time
from publish import moderation
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    _,
    emit_json,
    fail,
    format_option,
    now_option,
    open_production,
    parse_now,
    settings_option,
    use_site_language,
)
from publish.moderation import CommentView, ModerationError, ReplyRefused
from publish.ops.context import actor, production_settings
from publish.store import Store, StoreError, open_store
from publish.store.errors import Conflict, NotFound

if TYPE_CHECKING:
    from editorial.guideline import Guideline
    from editorial.pieces import Site

# What each command needs is imported when it runs (the guideline, the site, the
# networks, the site data): `inbox --format json` is run by scripts, and the start-up of
# a listing is most of its time (issue 24).

EXIT_CONFLICT = 3


def _guideline(settings: Settings) -> Guideline:
    from editorial.guideline import GuidelineError, guideline_for

    try:
        return guideline_for(settings)
    except GuidelineError as exc:
        fail(str(exc), EXIT_USAGE)


@contextmanager
def _store(settings_path: str) -> Iterator[tuple[Settings, Store]]:
    """Settings and store, without reading the site: deciding on a comment needs neither
    the pieces nor the networks."""
    try:
        settings = production_settings(settings_path)
        use_site_language(settings)
        store = open_store(settings)
    except (SettingsError, StoreError) as exc:
        fail(str(exc), EXIT_USAGE)
    try:
        yield settings, store
    finally:
        store.dispose()


def _refresh_site_data(settings: Settings, store: Store, now: datetime) -> None:
    """A decision changes what the site shows: the next build (any build) must see it."""
    from editorial.pieces import load_site

    write_site_data(load_site(settings), store, now)


def write_site_data(site: Site, store: Store, now: datetime) -> None:
    """:func:`publish.site.sitedata.write_site_data`, imported when a command writes."""
    from publish.site.sitedata import write_site_data as write

    write(site, store, now)


def _actor(explicit: str | None, settings_path: str) -> str:
    return actor(explicit, os.environ, Path(settings_path).resolve().parent)


def _when(moment: datetime | None, settings: Settings) -> str:
    if moment is None:
        return "–"
    return moment.astimezone(_zone(settings)).strftime("%Y-%m-%d %H:%M")


def _zone(settings: Settings) -> Any:

    return site_zone(settings)


def _act(action: Callable[[], Any]) -> Any:
    """Run a moderation action; its refusals become messages and exit codes."""
    try:
        return action()
    except Conflict as exc:
        fail(_("conflict: %(reason)s", reason=exc), EXIT_CONFLICT)
    except NotFound as exc:
        fail(str(exc), EXIT_USAGE)
    except ReplyRefused as exc:
        for finding in exc.findings:
            click.echo(f"  {finding.severity} [{finding.rule}] {finding.message}", err=True)
        fail(str(exc), EXIT_FINDINGS)
    except ModerationError as exc:
        fail(str(exc), EXIT_FINDINGS)
    return None


def as_option(func: Any) -> Any:
    return click.option(
        "--as",
        "as_actor",
        metavar="EMAIL",
        help="Who acts, for the audit (default: $DP_ACTOR, else git's user.email).",
    )(func)


def expect_option(func: Any) -> Any:
    return click.option(
        "--expect",
        "expected",
        type=click.Choice(moderation.STATES),
        help="The state you saw; refuse (exit 3) if someone changed it meanwhile.",
    )(func)


# --- sync ------------------------------------------------------------------------------


@main.command("sync")
@now_option
@format_option("text", "json")
@settings_option
def sync_command(now_text: str | None, output_format: str, settings_path: str) -> None:
    """Bring new X replies and Facebook comments into the inbox, triaged.

    Each comment is stored once; edits and deletions on the network show at the next
    full re-read. A network that refuses reads is reported and skipped (exit 1); the
    other channels are synced regardless.

    Example:

        dialogpress sync --format json
    """
    from publish.moderation.sync import sync
    from publish.settings import moderation_settings

    context = open_production(settings_path)
    try:
        now = parse_now(now_text, site_zone(context.settings).key)
        result = sync(
            context.store,
            context.channels,
            _guideline(context.settings),
            moderation_settings(context.settings),
            now,
            site=context.site,
        )
        write_site_data(context.site, context.store, now)
    finally:
        context.store.dispose()
    if output_format == "json":
        emit_json(result.to_dict())
    else:
        for name in sorted(result.added):
            click.echo(
                _("%(channel)s: %(new)s new, %(edited)s edited, %(hidden)s hidden, "
                  "%(requests)s read requests", channel=name, new=result.added.get(name, 0),
                  edited=result.updated.get(name, 0), hidden=result.hidden.get(name, 0),
                  requests=result.requests.get(name, 0))
            )
        for name, notes in sorted(result.notes.items()):
            for note in notes:
                click.echo(_("%(channel)s: note: %(note)s", channel=name, note=note))
        for name, problem in sorted(result.problems.items()):
            click.echo(f"{name}: {problem}")
    if result.problems:
        raise SystemExit(EXIT_FINDINGS)


# --- inbox -----------------------------------------------------------------------------


def _line(view: CommentView, settings: Settings, now: datetime) -> str:
    due = _when(view.due_at, settings)
    if view.overdue(now):
        due += " " + _("OVERDUE")
    who = view.author_name or view.author_handle or _("(erased)")
    text = " ".join(view.text.split())
    if len(text) > 60:
        text = text[:59] + "…"
    extra = []
    if view.category:
        extra.append(view.category)
    if view.assigned_to:
        extra.append(f"→ {view.assigned_to}")
    if view.spam:
        extra.append(f"spam: {view.spam}")
    tail = f" [{', '.join(extra)}]" if extra else ""
    return (f"{view.id:>5}  {view.state:<9} {view.channel:<8} {_('due')} {due:<24} "
            f"{who}: {text}{tail}")


@main.command("inbox")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([*moderation.STATES, "all"]),
    help="Only comments in this state (repeatable; default: new and escalated).",
)
@click.option("--overdue", is_flag=True, help="Only comments past their response-due time.")
@click.option("--channel", help="Only this channel (twitter, facebook).")
@click.option("--category", help="Only this guideline category.")
@click.option("--assigned-to", help="Only comments assigned to this person or contact id.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=moderation.PAGE_SIZE,
    show_default=True,
    help="Comments per page, the most urgent first.",
)
@click.option("--after", help="Start after this cursor (printed at the end of a full page).")
@now_option
@format_option("table", "json")
@settings_option
def inbox_command(
    states: tuple[str, ...],
    overdue: bool,
    channel: str | None,
    category: str | None,
    assigned_to: str | None,
    limit: int,
    after: str | None,
    now_text: str | None,
    output_format: str,
    settings_path: str,
) -> None:
    """The comments waiting for a decision, the most urgent first, a page at a time;
    when there are more, the command for the next page is printed on stderr.

    Example:

        dialogpress inbox --overdue --channel twitter --format json
    """
    with _store(settings_path) as (settings, store):
        now = parse_now(now_text, site_zone(settings).key)
        wanted = None
        if states:
            wanted = list(moderation.STATES) if "all" in states else list(states)
        page = _act(
            lambda: moderation.inbox_page(
                store,
                states=wanted,
                channel=channel,
                category=category,
                assigned_to=assigned_to,
                overdue_at=now if overdue else None,
                after=after,
                limit=limit,
            )
        )
    views = page.comments
    if page.next_after is not None:
        click.echo(_("more: %(command)s",
                     command=f"dialogpress inbox … --after '{page.next_after}'"), err=True)
    if output_format == "json":
        emit_json([{**view.to_dict(), "overdue": view.overdue(now)} for view in views])
        return
    if not views:
        click.echo(_("the inbox is empty"))
    for view in views:
        click.echo(_line(view, settings, now))


# --- comment … -------------------------------------------------------------------------


@main.group("comment")
def comment_group() -> None:
    """Look at one comment and decide on it: show, approve, reject, silence, escalate,
    resolve, assign, reply, approve-reply.

    Example:

        dialogpress comment approve 12
    """


def _show(view: CommentView, settings: Settings, now: datetime) -> None:
    click.echo(_line(view, settings, now))
    click.echo("       " + _("received %(when)s on %(channel)s",
                              when=_when(view.created_at, settings), channel=view.channel))
    if view.permalink:
        click.echo(f"       {view.permalink}")
    if view.post_slug or view.piece_id:
        click.echo("       " + _("under %(piece)s (%(post)s)", piece=view.piece_id or "",
                                  post=view.post_slug or _("no post")))
    if view.reason:
        click.echo("       " + _("reason: %(reason)s", reason=view.reason))
    if view.hidden:
        click.echo("       " + _("hidden or deleted on the network"))
    click.echo("")
    for line in view.text.splitlines() or [""]:
        click.echo(f"    {line}")
    for reply in view.replies:
        approved = (_(", approved by %(who)s", who=reply.approved_by)
                    if reply.approved_by else "")
        url = f" {reply.remote_url}" if reply.remote_url else ""
        click.echo("\n  " + _("reply %(id)s (%(status)s, by %(who)s%(approved)s)%(url)s:",
                               id=reply.id, status=reply.status, who=reply.written_by,
                               approved=approved, url=url))
        click.echo(f"    {reply.text}")
        if reply.error:
            click.echo("    " + _("error: %(error)s", error=reply.error))


def _done(view: CommentView, output_format: str, settings: Settings, now: datetime) -> None:
    if output_format == "json":
        emit_json(view.to_dict())
    else:
        click.echo(_line(view, settings, now))


@comment_group.command("show")
@click.argument("comment_id", type=int)
@now_option
@format_option("text", "json")
@settings_option
def show_command(
    comment_id: int, now_text: str | None, output_format: str, settings_path: str
) -> None:
    """One comment with its state, due time and our replies.

    Example:

        dialogpress comment show 12 --format json
    """
    with _store(settings_path) as (settings, store):
        now = parse_now(now_text, site_zone(settings).key)
        view = _act(lambda: moderation.show(store, comment_id))
    if output_format == "json":
        emit_json(view.to_dict())
    else:
        _show(view, settings, now)


def _decision(name: str, doc: str, extra: list[Any], call: Callable[..., CommentView]) -> None:
    """Define ``comment <name>`` with the options every decision shares."""

    def command(
        comment_id: int,
        as_actor: str | None,
        expected: str | None,
        now_text: str | None,
        output_format: str,
        settings_path: str,
        **options: Any,
    ) -> None:
        with _store(settings_path) as (settings, store):
            now = parse_now(now_text, site_zone(settings).key)
            who = _actor(as_actor, settings_path)
            view = _act(
                lambda: call(
                    store,
                    comment_id,
                    actor=who,
                    now=now,
                    expected_state=expected,
                    settings=settings,
                    **options,
                )
            )
            _refresh_site_data(settings, store, now)
        _done(view, output_format, settings, now)

    command.__doc__ = doc
    decorated: Any = command
    for option in reversed(extra):
        decorated = option(decorated)
    decorated = settings_option(
        format_option("text", "json")(now_option(expect_option(as_option(decorated))))
    )
    comment_group.command(name)(click.argument("comment_id", type=int)(decorated))


_decision(
    "approve",
    """Show the comment on the site (from the next build) — a response.

    Example:

        dialogpress comment approve 12 --as moderator@agentur.example
    """,
    [],
    lambda store, cid, settings, **kw: moderation.approve(store, cid, **kw),
)
_decision(
    "reject",
    """Keep the comment off the site. To withdraw an approved one, pass --expect approved.

    Example:

        dialogpress comment reject 12 --reason "Beleidigung"
    """,
    [click.option("--reason", help="Why, for the audit and the other moderators.")],
    lambda store, cid, settings, **kw: moderation.reject(store, cid, **kw),
)
_decision(
    "silence",
    """Decide on no public answer, with a reason code: troll, legal, already-answered,
    off-topic, no-answer-needed, private.

    Example:

        dialogpress comment silence 12 --reason troll
    """,
    [
        click.option(
            "--reason",
            required=True,
            type=click.Choice(sorted(moderation.SILENT_REASONS)),
            help="Why there is no answer.",
        )
    ],
    lambda store, cid, settings, **kw: moderation.silence(store, cid, **kw),
)
_decision(
    "escalate",
    """Hand the comment to a contact of the guideline; replies wait until it is resolved.

    Example:

        dialogpress comment escalate 12 --contact presse
    """,
    [click.option("--contact", help="A contact id from the guideline (default: keep).")],
    lambda store, cid, settings, **kw: moderation.escalate(
        store, cid, guideline=_guideline(settings), **kw
    ),
)
_decision(
    "resolve",
    """Close the escalation: the comment can now be answered or decided.

    Example:

        dialogpress comment resolve 12
    """,
    [],
    lambda store, cid, settings, **kw: moderation.resolve(store, cid, **kw),
)
_decision(
    "assign",
    """Make one person responsible for the comment.

    Example:

        dialogpress comment assign 12 --to jana@agentur.example
    """,
    [click.option("--to", required=True, help="The person (e-mail) or contact id.")],
    lambda store, cid, settings, **kw: moderation.assign(store, cid, **kw),
)


@comment_group.command("reply")
@click.argument("comment_id", type=int)
@click.argument("text")
@as_option
@now_option
@format_option("text", "json")
@settings_option
def reply_command(
    comment_id: int,
    text: str,
    as_actor: str | None,
    now_text: str | None,
    output_format: str,
    settings_path: str,
) -> None:
    """Answer a comment in its thread on the network, after the guideline check.

    A forbidden phrase refuses the reply (exit 1, with the reason); in a sensitive
    category the reply waits for a second person's `comment approve-reply`. Running the
    same command twice sends the answer once.

    Example:

        dialogpress comment reply 12 "Danke für den Hinweis! Wir kümmern uns darum."
    """
    context = open_production(settings_path)
    try:
        now = parse_now(now_text, site_zone(context.settings).key)
        who = _actor(as_actor, settings_path)
        guideline = _guideline(context.settings)
        written = _act(
            lambda: moderation.reply(context.store, guideline, comment_id, text, actor=who, now=now)
        )
        outcomes = moderation.send_replies(
            context.store, context.channels, now, actor=who, reply_ids=[written.id]
        )
        write_site_data(context.site, context.store, now)
        view = moderation.show(context.store, comment_id)
    finally:
        context.store.dispose()
    reply = next(r for r in view.replies if r.id == written.id)
    if output_format == "json":
        emit_json({"reply": reply.to_dict(), "outcomes": [o.to_dict() for o in outcomes]})
    elif reply.status == "pending":
        click.echo(
            _("reply %(id)s waits for a second person (category %(category)s): %(command)s",
              id=reply.id, category=view.category,
              command=f"dialogpress comment approve-reply {reply.id}")
        )
    else:
        where = f" {reply.remote_url}" if reply.remote_url else ""
        message = next((o.message for o in outcomes if o.message), "")
        click.echo(
            f"reply {reply.id}: {reply.status}{where}" + (f" — {message}" if message else "")
        )
    if reply.status == "failed":
        raise SystemExit(EXIT_FINDINGS)


@comment_group.command("approve-reply")
@click.argument("reply_id", type=int)
@as_option
@now_option
@format_option("text", "json")
@settings_option
def approve_reply_command(
    reply_id: int,
    as_actor: str | None,
    now_text: str | None,
    output_format: str,
    settings_path: str,
) -> None:
    """The second person's approval of a reply in a sensitive category; it goes out then.

    Example:

        dialogpress comment approve-reply 4 --as teamlead@agentur.example
    """
    context = open_production(settings_path)
    try:
        now = parse_now(now_text, site_zone(context.settings).key)
        who = _actor(as_actor, settings_path)
        approved = _act(
            lambda: moderation.approve_reply(context.store, reply_id, actor=who, now=now)
        )
        outcomes = moderation.send_replies(
            context.store, context.channels, now, actor=who, reply_ids=[reply_id]
        )
        write_site_data(context.site, context.store, now)
    finally:
        context.store.dispose()
    if output_format == "json":
        emit_json({"reply": approved.to_dict(), "outcomes": [o.to_dict() for o in outcomes]})
    else:
        for outcome in outcomes:
            where = f" {outcome.url}" if outcome.url else ""
            click.echo(f"reply {reply_id}: {outcome.status}{where} {outcome.message}".rstrip())


# --- report and privacy ----------------------------------------------------------------


def _moment(text: str | None, settings: Settings, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_time(text, site_zone(settings).key)
    except TimeError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None


REPORT_COLUMNS = (
    "channel",
    "category",
    "received",
    "spam",
    "responded",
    "median_minutes",
    "p90_minutes",
    "target",
    "breaches",
    "silent",
    "escalations",
)


@main.command("report")
@click.option("--from", "start_text", metavar="DATE", help="First day (site time zone).")
@click.option("--to", "end_text", metavar="DATE", help="Up to (not including) this time.")
@now_option
@format_option("table", "json", "csv")
@settings_option
def report_command(
    start_text: str | None,
    end_text: str | None,
    now_text: str | None,
    output_format: str,
    settings_path: str,
) -> None:
    """Response times per channel and category against the guideline's targets.

    Example:

        dialogpress report --from 2026-11-01 --to 2026-12-01 --format csv
    """
    with _store(settings_path) as (settings, store):
        now = parse_now(now_text, site_zone(settings).key)
        start = _moment(start_text, settings, "--from")
        end = _moment(end_text, settings, "--to")
        from publish.moderation.response_times import report as response_report

        rows = response_report(store, start, end, now, _guideline(settings))
    if output_format == "json":
        emit_json([row.to_dict() for row in rows])
        return
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(REPORT_COLUMNS)
        for row in rows:
            data = row.to_dict()
            writer.writerow(["" if data[c] is None else data[c] for c in REPORT_COLUMNS])
        click.echo(buffer.getvalue(), nl=False)
        return
    header = (
        f"{'channel':<9} {'category':<14} {'recv':>4} {'spam':>4} {'resp':>4} "
        f"{'median':>7} {'p90':>7} {'target':<22} {'breach':>6} {'silent':>6} {'escal':>5}"
    )
    click.echo(header)
    for row in rows:
        median = "–" if row.median_minutes is None else f"{row.median_minutes:g}m"
        p90 = "–" if row.p90_minutes is None else f"{row.p90_minutes:g}m"
        click.echo(
            f"{row.channel:<9} {row.category:<14} {row.received:>4} {row.spam:>4} "
            f"{row.responded:>4} {median:>7} {p90:>7} {row.target or '–':<22} "
            f"{row.breaches:>6} {row.silent:>6} {row.escalations:>5}"
        )
    if not rows:
        click.echo(_("no comments in this period"))


@main.command("forget")
@click.option("--channel", required=True, type=click.Choice(["twitter", "facebook"]))
@click.option("--author", "handle", required=True, help="The person's handle (X) or id (Facebook).")
@as_option
@now_option
@format_option("text", "json")
@settings_option
def forget_command(
    channel: str,
    handle: str,
    as_actor: str | None,
    now_text: str | None,
    output_format: str,
    settings_path: str,
) -> None:
    """Erase a person's comments and personal data from the store (a GDPR request).

    The audit keeps that it happened, without the data; the data file for the site is
    rewritten at once, so the next build has no trace of them.

    Example:

        dialogpress forget --channel twitter --author anwohnerin_elbtal
    """
    context = open_production(settings_path)
    try:
        now = parse_now(now_text, site_zone(context.settings).key)
        who = _actor(as_actor, settings_path)
        erased = moderation.forget(context.store, channel, handle, actor=who, now=now)
        write_site_data(context.site, context.store, now)
    finally:
        context.store.dispose()
    if output_format == "json":
        emit_json({"channel": channel, "erased": erased})
    else:
        click.echo(_("%(n)s comment(s) erased on %(channel)s; rebuild the site to drop them",
                     n=erased, channel=channel))

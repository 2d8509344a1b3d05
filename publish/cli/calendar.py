"""The ``calendar`` command: the editorial plan as a table, JSON or an ICS file."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import click

from editorial.checks import check_site
from editorial.settings import site_zone
from editorial.times import TimeError, parse_time
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    _,
    emit_json,
    format_option,
    now_option,
    open_production,
    parse_now,
    settings_option,
)
from publish.posting.calendar import calendar_entries, to_ics, unscheduled

_BARE_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


def _bound(text: str | None, timezone: str, option: str, end: bool = False) -> datetime | None:
    """A range bound in the site's zone; a bare date as ``--to`` includes that whole day."""
    if not text:
        return None
    try:
        moment = parse_time(text, timezone)
    except TimeError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
    if end and _BARE_DATE.match(text):
        moment = parse_time(f"{(moment.date() + timedelta(days=1)).isoformat()}", timezone)
    return moment


@main.command("calendar")
@click.option("--from", "from_text", metavar="WHEN", help="Only pieces from then on (site zone).")
@click.option(
    "--to", "to_text", metavar="WHEN", help="Only pieces before then; a date includes its day."
)
@now_option
@format_option("table", "json", "ics")
@settings_option
def calendar_command(
    from_text: str | None,
    to_text: str | None,
    now_text: str | None,
    output_format: str,
    settings_path: str,
) -> None:
    """Every scheduled post and snippet with where it stands, in the site's time zone.

    States: draft, awaiting approval, approved, pending (due, not out yet), posted (with
    its link), published (a post on the site), late, failed (with the reason), skipped,
    retracted, error. What the ledger recorded wins over what the file says now. The
    ICS output imports into calendar apps; subscribing again updates events in place.
    Pieces whose time cannot be read are listed on stderr; they make the exit code 1.

    Example:

        dialogpress calendar --from 2026-12-01 --format ics > plan.ics
    """
    context = open_production(settings_path)
    # the context judged the snippets; the calendar shows posts' guideline errors too
    check_site(context.site, pieces=context.site.posts)
    timezone = site_zone(context.settings).key
    now = parse_now(now_text, timezone)
    start = _bound(from_text, timezone, "--from")
    end = _bound(to_text, timezone, "--to", end=True)
    entries = calendar_entries(
        context.site, context.store, now, start, end, is_live=context.is_live
    )
    problems = unscheduled(context.site)
    if output_format == "json":
        emit_json(
            {
                "timezone": timezone,
                "now": now.isoformat(timespec="seconds"),
                "from": start.isoformat(timespec="seconds") if start else None,
                "to": end.isoformat(timespec="seconds") if end else None,
                "entries": [entry.to_dict() for entry in entries],
                "unscheduled": [finding.to_dict() for finding in problems],
            }
        )
    elif output_format == "ics":
        click.echo(to_ics(entries, context.site, now), nl=False)
    else:
        for entry in entries:
            extra = entry.url or entry.error or ""
            click.echo(
                f"{entry.publish_at:%Y-%m-%d %H:%M %Z}  {entry.network:<8}  "
                f"{entry.state:<17}  {entry.title}  {extra}".rstrip()
            )
    for finding in problems:
        click.echo(_("not in the calendar: %(finding)s", finding=finding), err=True)
    if problems or any(entry.state == "error" for entry in entries):
        raise SystemExit(EXIT_FINDINGS)

"""``dialogpress notifications``: what was (or will be) sent to whom, as the desk shows it."""

from __future__ import annotations

import click

from editorial.settings import SettingsError, site_zone
from publish.cli import main
from publish.cli.common import (
    EXIT_USAGE,
    _,
    emit_json,
    fail,
    format_option,
    settings_option,
    use_site_language,
)
from publish.notify.delivery import MEANINGS, as_dict, listing
from publish.ops.context import production_settings
from publish.store import StoreError, open_store


@main.command("notifications")
@click.option("--limit", default=50, show_default=True, help="How many of the newest to show.")
@click.option(
    "--status",
    type=click.Choice(sorted(MEANINGS)),
    help="Only notifications in this state (e.g. doubt: may not have arrived).",
)
@format_option("text", "json")
@settings_option
def notifications_command(
    limit: int, status: str | None, output_format: str, settings_path: str
) -> None:
    """The notifications sent (or held, or in doubt) to whom by mail and chat webhook.

    Times are in the site's zone with their offset; in JSON they are UTC.

    Example:

        dialogpress notifications --status doubt --format json
    """
    try:
        settings = production_settings(settings_path)
        use_site_language(settings)
        store = open_store(settings)
        try:
            rows = listing(store, limit=limit, status=status)
        finally:
            store.dispose()
    except (SettingsError, StoreError) as exc:
        fail(str(exc), EXIT_USAGE)
        return
    if output_format == "json":
        emit_json([as_dict(row) for row in rows])
        return
    if not rows:
        click.echo(_("no notifications in state %(state)s", state=status) if status
                   else _("no notifications"))
        return
    zone = site_zone(settings)
    for row in rows:
        when = row.sent_at or row.not_before
        shown = when.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        click.echo(f"{row.id:>5} {row.status:<8} {shown}  {row.recipient}  {row.title}")
        if row.status in ("failed", "doubt") and row.error:
            click.echo(f"      {_(MEANINGS[row.status])}: {row.error}")

"""Commands for the approval portal: request-review, reviews."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from editorial import git
from editorial.git import GitError
from editorial.settings import SettingsError, site_zone
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    _,
    emit_json,
    fail,
    format_option,
    now_option,
    parse_now,
    settings_option,
)
from publish.ops.context import actor, production_settings
from publish.review.portal import Portal, PortalError
from publish.review.requests import ReviewError, list_reviews
from publish.store import StoreError, open_store


def _current_branch(root: Path) -> tuple[str | None, str]:
    """The checked-out branch (None when HEAD is detached) and its commit.

    Raises :class:`GitError` when git cannot say (not a repository, no commit yet).
    """
    named = git.run(["symbolic-ref", "--short", "-q", "HEAD"], cwd=root, check=False)
    if named.returncode not in (0, 1):  # 1: detached HEAD; anything else is git failing
        raise GitError(named.command, named.returncode, named.error_text)
    return (named.text or None), git.output(["rev-parse", "HEAD"], cwd=root)


@main.command("request-review")
@click.option("--base", default="main", show_default=True,
              help="The branch the pull request goes into; pieces changed against it are sent.")
@click.option("--to", "approvers", multiple=True, required=True, metavar="EMAIL",
              help="An approver to send a link to (repeat for several); must be in "
              "PORTAL_SIGNER['approvers'].")
@click.option("--note", help="A line for the approvers, shown in the e-mail and the portal.")
@click.option("--as", "who", help="Who asks (default: DP_ACTOR, else git's user.email).")
@now_option
@format_option("text", "json")
@settings_option
def request_review(
    base: str, approvers: tuple[str, ...], note: str | None, who: str | None,
    now_text: str | None, output_format: str, settings_path: str,
) -> None:
    """Send the current branch's changed pieces to client approvers for the portal.

    The branch must be pushed: the portal reads it from the site's remote, in the desk's
    own clone, and each approver gets a single-use link by e-mail (MAIL; without a host,
    an .eml file in the outbox folder). The review lives in the store the desk uses.

    Example:

        dialogpress request-review --to petra.schulz@stadtwerke-elbtal.example
    """
    try:
        settings = production_settings(settings_path)
    except SettingsError as exc:
        fail(str(exc), EXIT_USAGE)
        return
    root = Path(settings_path).resolve().parent
    try:
        branch, head = _current_branch(root)
    except GitError as exc:
        fail(
            _("cannot read the branch to review in %(root)s: %(reason)s", root=root,
              reason=exc.detail or exc.reason),
            EXIT_USAGE,
        )
        return
    if not branch:
        fail(_("not on a branch: check out the branch to review first"), EXIT_USAGE)
        return
    if branch == base:
        fail(_("you are on %(base)s itself; check out the branch to review", base=base),
             EXIT_USAGE)
    now = parse_now(now_text, site_zone(settings).key)
    try:
        store = open_store(settings)
        outcome = Portal(settings, os.environ).request_review(
            store, branch=branch, base=base, approvers=list(approvers),
            requested_by=actor(who, os.environ, root), note=note, now=now,
            expected_head=head,
        )
    except (ReviewError, PortalError, StoreError) as exc:
        fail(str(exc), EXIT_FINDINGS)
        return
    if output_format == "json":
        emit_json(outcome.to_dict())
    else:
        click.echo(
            f"review {outcome.review_id} of {branch} at {outcome.head[:12]}: "
            f"{len(outcome.pieces)} piece(s)"
        )
        for piece in outcome.pieces:
            click.echo(f"  {piece}")
        for approver in outcome.sent:
            click.echo(f"link sent to {approver}")
        for approver, problem in outcome.unsent.items():
            click.echo(f"link NOT sent to {approver}: {problem}", err=True)
    if outcome.unsent:
        raise SystemExit(EXIT_FINDINGS)


@main.command("reviews")
@click.option("--limit", default=20, show_default=True, help="How many of the newest to show.")
@format_option("text", "json")
@settings_option
def reviews_command(limit: int, output_format: str, settings_path: str) -> None:
    """The review requests with each link's state and every approver's decision.

    Example:

        dialogpress reviews --format json
    """
    try:
        settings = production_settings(settings_path)
        store = open_store(settings)
        with store.transaction() as session:
            summaries = list_reviews(session, limit)
            now = datetime.now(UTC)
            data = [summary.to_dict(now) for summary in summaries]
    except (SettingsError, StoreError) as exc:
        fail(str(exc), EXIT_USAGE)
        return
    if output_format == "json":
        emit_json(data)
        return
    if not data:
        click.echo("no reviews requested yet")
    for review in data:
        click.echo(
            f"review {review['id']}: {review['branch']} (against {review['base']}, "
            f"{review['head'][:12]}) by {review['requested_by']}"
        )
        for link in review["links"]:
            click.echo(f"  {link['approver']}: link {link['state']}")
        for decision in review["decisions"]:
            what = "approved" if decision["decision"] == "approved" else "changes requested"
            comment = f": {decision['comment']}" if decision["comment"] else ""
            click.echo(f"  {decision['approver']} {what} {decision['piece']}{comment}")

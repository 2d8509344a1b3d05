"""The ``dialogpress`` command: thin commands over the library, one module per area.

Example:
    dialogpress check --format json
"""

from __future__ import annotations

import logging

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="dialogpress")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """dialogpress: a git-based newsroom for agencies publishing for client companies.

    Editors write posts and social snippets, client approvers sign them off, the
    scheduler builds, deploys and posts them once, moderators work the replies.

    Example:

        dialogpress check && dialogpress build
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _register() -> None:
    # Imported for their side effect of adding commands to `main`; listed here so that
    # the command set is visible in one place.
    from publish.cli import (  # noqa: F401
        approvals,
        calendar,
        deploy,
        desk,
        moderation,
        reviews,
        sandbox,
        scheduler,
        site,
        syndication,
    )


_register()

"""The ``dialogpress`` command: thin commands over the library, one module per area.

The command modules are imported only when their command runs (:class:`LazyGroup`):
``dialogpress --help`` or a tick must not pay for the desk's Flask, the checks'
twitter-text or Pelican. :data:`COMMANDS` names each command's module and its one-line
help, so that ``--help`` lists every command without importing one; a test holds the
table to the commands as the modules define them.

Example:
    dialogpress check --format json
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

# name → (module under publish.cli that defines it, its one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "approvals": (
        "approvals",
        "List every piece with its approval state: approved, missing, stale or invalid.",
    ),
    "approve": (
        "approvals",
        "Approve pieces with your SSH key: the given ones, or all changed on this branch.",
    ),
    "build": ("site", "Build the site with Pelican into the output folder."),
    "calendar": (
        "calendar",
        "Every scheduled post and snippet with where it stands, in the site's time zone.",
    ),
    "check": (
        "site",
        "Validate posts, pages and snippets: front matter, dates, channels, media, links.",
    ),
    "comment": (
        "moderation",
        "Look at one comment and decide on it: show, approve, reject, silence, escalate, "
        "resolve, assign, reply, approve-reply.",
    ),
    "deploy": ("deploy", "Build the production site and make it live at the DEPLOY target."),
    "desk": (
        "desk",
        "Serve the desk: the moderators' inbox and the agency's dashboard, in the browser.",
    ),
    "forget": (
        "moderation",
        "Erase a person's comments and personal data from the store (a GDPR request).",
    ),
    "init": (
        "init",
        "Make a new client site in an empty FOLDER (default: here) and commit it.",
    ),
    "inbox": (
        "moderation",
        "The comments waiting for a decision, the most urgent first, a page at a time; when "
        "there are more, the command for the next page is printed on stderr.",
    ),
    "new": ("site", "Write a new post or snippet from a skeleton (never overwrites a file)."),
    "notifications": (
        "notifications",
        "The notifications sent (or held, or in doubt) to whom by mail and chat webhook.",
    ),
    "release": ("syndication", "Let a late or failed piece go out at the next run after all."),
    "report": (
        "moderation",
        "Response times per channel and category against the guideline's targets.",
    ),
    "request-review": (
        "review_requests",
        "Send the current branch's changed pieces to client approvers for the portal.",
    ),
    "retract": (
        "syndication",
        "Delete a piece's posts on every network and take it off the site at the next build.",
    ),
    "review": (
        "approvals",
        "The review report for a pull request: what this branch adds, changes and removes.",
    ),
    "reviews": (
        "review_requests",
        "The review requests with each link's state and every approver's decision.",
    ),
    "run": ("scheduler", "Tick every few minutes until stopped: the scheduler as a service."),
    "sandbox": (
        "sandbox",
        "Run the X and Facebook API sandboxes in the foreground until Ctrl-C or SIGTERM.",
    ),
    "serve": ("site", "Serve the built site on http://127.0.0.1:8000/ until Ctrl-C."),
    "skip": ("syndication", "Decide that a late, failed or pending piece never goes out."),
    "status": (
        "syndication",
        "Where every snippet stands on every channel, and each channel's health.",
    ),
    "sync": ("moderation", "Bring new X replies and Facebook comments into the inbox, triaged."),
    "syndicate": (
        "syndication",
        "Post every due, approved snippet to its networks, each part exactly once.",
    ),
    "tick": ("scheduler", "One scheduler pass: build and deploy what changed, post what is due."),
    "trust": (
        "approvals",
        "Show the trust root in force: where it was read, approvers, policy, pending changes.",
    ),
    "user": ("desk", "Accounts of the desk: add people with a role, reset passwords, list them."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's documented pattern).

    A module adds its commands to ``main`` with ``@main.command()`` when imported;
    ``get_command`` imports the module that :data:`COMMANDS` names, and
    ``list_commands`` answers from the table.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"publish.cli.{COMMANDS[cmd_name][0]}")
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if loaded.hidden:
                    continue
                text = loaded.get_short_help_str(limit)
            else:
                # click's own shortening, applied to the table's help
                text = click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def load_all() -> None:
    """Import every command module: for tools that walk ``main.commands``."""
    for module in sorted({module for module, _ in COMMANDS.values()}):
        importlib.import_module(f"publish.cli.{module}")


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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


def __getattr__(name: str) -> Any:
    # ``from publish.cli import site`` (a command module) keeps working
    if name in {module for module, _ in COMMANDS.values()}:
        return importlib.import_module(f"publish.cli.{name}")
    raise AttributeError(name)

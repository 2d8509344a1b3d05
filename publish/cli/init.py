"""``dialogpress init``: a new client site, like ``pelican-quickstart`` (docs/init.md).

Flags for scripts and the agency's runbooks; prompts for what is missing when stdin is
a terminal; without a terminal a missing ``--title`` or ``--url`` is an error, never a
guess. The work is :mod:`publish.site.quickstart`'s.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from publish.cli import main
from publish.cli.common import (
    EXIT_USAGE,
    _,
    fail,
    warning,
)
from publish.site.quickstart import (
    GIT_HOSTS,
    QuickstartError,
    SiteSpec,
    create_site,
    next_steps,
    parse_approver,
)


def _interactive() -> bool:
    return sys.stdin.isatty()


@main.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", help="The site's name (SITENAME), e.g. 'Stadtwerke Elbtal – Blog'.")
@click.option("--url", help="The public address (publishconf.py's SITEURL), no trailing slash.")
@click.option("--author", help="The client's name (AUTHOR; default: the title).")
@click.option("--timezone", help="IANA time zone of the site.  [default: Europe/Berlin]")
@click.option("--lang", help="Language of the site.  [default: de]")
@click.option(
    "--approver",
    "approvers",
    multiple=True,
    metavar="NAME:EMAIL:KEYFILE",
    help="A client approver for trust.yml with their SSH public key file (repeat for more).",
)
@click.option(
    "--git-host",
    type=click.Choice(GIT_HOSTS),
    help="Where the site's repository lives: its CI workflow is written.  [default: github]",
)
def init(
    folder: Path,
    title: str | None,
    url: str | None,
    author: str | None,
    timezone: str | None,
    lang: str | None,
    approvers: tuple[str, ...],
    git_host: str | None,
) -> None:
    """Make a new client site in an empty FOLDER (default: here) and commit it.

    Writes pelicanconf.py and publishconf.py (the packaged theme and plugins by
    reference), guideline.yml, trust.yml with the approvers, tasks.py, the CI workflow
    (check --require-approval as the required status, the review report on each pull
    request), a draft post and snippet, .gitignore, and a git repository on main.
    Asks for what is missing when run in a terminal. Refuses a folder that is not empty.

    Example:

    \b
        dialogpress init kunde-12 --title "Kunde 12 – Blog" \\
            --url https://blog.kunde12.de --git-host gitlab \\
            --approver "Petra Schulz:petra@kunde12.de:petra.pub"
    """
    ask = _interactive()

    def value(given: str | None, prompt: str, default: str | None, flag: str) -> str:
        if given is not None:
            return given
        if ask:
            return str(click.prompt(prompt, default=default))
        if default is None:
            fail(_("%(flag)s is missing (no terminal to ask on); see %(command)s", flag=flag,
                   command="dialogpress init --help"), EXIT_USAGE)
        return str(default)

    site_title = value(title, "Title of the site", None, "--title")
    spec = SiteSpec(
        title=site_title,
        url=value(url, "Public URL (https://…)", None, "--url"),
        author=value(author, "Author (the client's name)", site_title, "--author"),
        timezone=value(timezone, "Time zone", "Europe/Berlin", "--timezone"),
        lang=value(lang, "Language", "de", "--lang"),
        git_host=value(git_host, "Git host (github/gitlab)", "github", "--git-host"),
    )
    entries = list(approvers)
    if not entries and ask:
        while True:
            entry = str(click.prompt(
                "Client approver as NAME:EMAIL:KEYFILE (empty to finish)", default="",
                show_default=False,
            )).strip()
            if not entry:
                break
            entries.append(entry)
    try:
        spec.approvers = [parse_approver(entry) for entry in entries]
        create_site(folder, spec, datetime.now(UTC))
    except QuickstartError as exc:
        fail(str(exc), EXIT_USAGE)
    click.echo(_("Wrote a new site for %(title)s into %(folder)s (git: main, 1 commit).",
                 title=spec.title, folder=folder))
    if not spec.approvers:
        warning(_("trust.yml lists no approvers yet: nothing can be approved until you add "
                  "the client's."))
    click.echo(next_steps(folder, spec))

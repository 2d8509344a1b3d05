"""What every command shares: the -s/--settings option, output formats, exit codes.

Exit codes scripts can rely on: 0 all well, 1 findings or a failed step, 2 a usage or
settings error (click's own usage errors exit 2 as well).

What people read is in their language (:func:`_`, :func:`ngettext`): German or English
from ``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG``, else the site's ``DEFAULT_LANG``
once its settings are read (:func:`load`, :func:`open_production`), else German. Flags,
option names, JSON, the run log and the states' words stay English: scripts read those.
Messages from lower layers (a settings error, a finding of ``editorial.checks``) stay
English inside a translated frame ("Fehler: …"); translating them would mean a language
argument through every pure module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import click

from editorial import i18n
from editorial.settings import Settings, SettingsError, load_settings
from editorial.times import TimeError, parse_time
from publish.ops.context import Context, open_context
from publish.store import StoreError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., Any])

# the site's DEFAULT_LANG, once a command has read the settings
_site_language: str | None = None


def use_site_language(settings: Settings | dict[str, Any]) -> None:
    """Remember the site's language: the CLI speaks it when the environment names none."""
    global _site_language  # one command per process: its site's language
    _site_language = i18n.site_language(settings)


def language() -> str:
    """The language of this command's messages: the environment's, else the site's."""
    return i18n.from_environment(os.environ, _site_language or i18n.DEFAULT_LANGUAGE)


def _(message: str, /, **variables: Any) -> str:
    """``message`` (English) in the CLI's language, ``%(name)s`` filled from ``variables``."""
    text = i18n.translate(language(), message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, /, **variables: Any) -> str:
    """The form for ``n`` in the CLI's language; ``%(num)s`` is ``n``."""
    text = i18n.translate_plural(language(), singular, plural, n)
    return text % {"num": n, **variables}


def error(message: str) -> None:
    """``Error: message`` on stderr, in the CLI's language; the command goes on."""
    click.echo(_("Error: %(message)s", message=message), err=True)


def warning(message: str) -> None:
    click.echo(_("Warning: %(message)s", message=message), err=True)


def note(message: str) -> None:
    click.echo(_("Note: %(message)s", message=message))


def settings_option(func: F) -> F:
    """The ``-s/--settings`` option every command takes (Pelican's flag, Pelican's file)."""
    return click.option(
        "-s",
        "--settings",
        "settings_path",
        default="pelicanconf.py",
        show_default=True,
        type=click.Path(dir_okay=False),
        help="The site's settings file.",
    )(func)


def agency_option(help_text: str, *, required: bool = False) -> Callable[[F], F]:
    """``--agency FILE``: the agency file (its sites, its database)."""
    return click.option(
        "--agency", "agency_path", required=required, type=click.Path(dir_okay=False),
        help=help_text,
    )


def format_option(*choices: str) -> Callable[[F], F]:
    """``--format`` with the given choices, the first being the default."""

    def decorate(func: F) -> F:
        return click.option(
            "--format",
            "output_format",
            type=click.Choice(choices),
            default=choices[0],
            show_default=True,
            help="Output format.",
        )(func)

    return decorate


def load(settings_path: str, override: Settings | None = None) -> Settings:
    """Settings or exit 2 with the reason: a broken setting is never a traceback."""
    try:
        settings = load_settings(settings_path, override)
    except SettingsError as exc:
        fail(str(exc), EXIT_USAGE)
    use_site_language(settings)
    return settings


def require_site_approval(settings_path: str) -> None:
    """Exit 1 before the settings run when what frames every page is not approved.

    Judged from files and git alone (``editorial.site_approval``): an unapproved
    ``pelicanconf.py`` is refused before it could execute.
    """
    from pathlib import Path

    from editorial.site_approval import site_approval_state

    state = site_approval_state(Path(settings_path).resolve().parent)
    if not state.may_run:
        fail(
            _("%(summary)s; a client approver approves them with: %(command)s",
              summary=state.summary(),
              command="dialogpress approve --site --key ~/.ssh/id_ed25519"),
            EXIT_FINDINGS,
        )


def fail(message: str, code: int = EXIT_FINDINGS) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``; never returns, so callers need
    no ``return``/``raise`` after it (mypy knows the code below is dead).

    ``message`` is already in the CLI's language (callers pass ``_(...)``); the frame
    "Error:" is translated here."""
    error(message)
    raise SystemExit(code)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def now_option(func: Any) -> Any:
    """``--now``: the clock, injectable so that schedules can be tested and replayed."""
    return click.option(
        "--now",
        "now_text",
        metavar="ISO",
        help="Act as if it were this time (default: now), e.g. '2026-11-24 10:00'.",
    )(func)


def parse_now(text: str | None, timezone: str) -> datetime:
    """``--now`` read in the site's zone; the wall clock when it is not given."""
    if not text:
        return datetime.now(UTC)
    try:
        return parse_time(text, timezone)
    except TimeError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None


def open_production(settings_path: str, dry_run: bool = False) -> Context:
    """The production site, store and channels, or exit 2 with the reason."""
    try:
        context = open_context(settings_path, os.environ, dry_run=dry_run)
    except (SettingsError, StoreError) as exc:
        fail(str(exc), EXIT_USAGE)
    use_site_language(context.settings)
    return context

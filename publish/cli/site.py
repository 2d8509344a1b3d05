"""Commands for the site and its pieces: new, check, build, serve."""

from __future__ import annotations

import functools
import http.server
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from editorial.approvals import approval_findings, approvals_start_note
from editorial.checks import check_site
from editorial.drafts import DraftError, new_post, new_snippet
from editorial.findings import has_errors
from editorial.pieces import Piece, load_site
from editorial.settings import (
    CHANNELS,
    SettingsError,
    legacy_trust_settings,
    settings_root,
    site_zone,
)
from editorial.theme_hooks import theme_hook_findings
from editorial.times import TimeError, parse_time
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    _,
    emit_json,
    error,
    fail,
    format_option,
    load,
    ngettext,
    note,
    require_site_approval,
    settings_option,
    warning,
)
from publish.site.build import build_site


def _at(value: str | None, timezone: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, timezone)
    except TimeError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from None


@main.group()
def new() -> None:
    """Write a new post or snippet from a skeleton (never overwrites a file).

    Example:

        dialogpress new post "Neue Servicezeiten im Advent" --at "2026-12-01 09:00"
    """


@new.command("post")
@click.argument("title")
@click.option("--lang", help="Language of the post (default: the site's DEFAULT_LANG).")
@click.option("--at", "at", help="Publication date, e.g. '2026-12-01 09:00' (site time zone).")
@settings_option
def new_post_command(title: str, lang: str | None, at: str | None, settings_path: str) -> None:
    """Write content/posts/<slug>.md with front matter to fill in.

    Example:

        dialogpress new post "Service in the holidays" --lang en
    """
    settings = load(settings_path)
    try:
        path = new_post(title, settings, lang=lang, at=_at(at, site_zone(settings).key))
    except DraftError as exc:
        fail(str(exc))
    click.echo(_("Wrote %(path)s", path=path))


@new.command("snippet")
@click.option("--post", "post", help="Slug of the post the snippet links to.")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    type=click.Choice(CHANNELS),
    help="Network to post on (repeat for several; default: all).",
)
@click.option("--at", "at", help="When to post, e.g. '2026-12-01 09:00' (site time zone).")
@click.option("--title", help="A label for the snippet (default: the post's slug).")
@settings_option
def new_snippet_command(
    post: str | None,
    channels: tuple[str, ...],
    at: str | None,
    title: str | None,
    settings_path: str,
) -> None:
    """Write content/social/<date>-<slug>.md with a text per network.

    Example:

        dialogpress new snippet --post service-im-advent --channel twitter --at "2026-12-01 10:00"
    """
    settings = load(settings_path)
    try:
        path = new_snippet(
            settings,
            post=post,
            channels=list(channels) or None,
            at=_at(at, site_zone(settings).key),
            title=title,
        )
    except DraftError as exc:
        fail(str(exc))
    click.echo(_("Wrote %(path)s", path=path))


def trust_warnings(settings: dict[str, Any], site_approval: bool = True) -> list[str]:
    """What ``check`` can see of a trust set-up that is missing or weaker than it should
    be: no trust file on the protected ref, a pending trust change, unsigned authorship,
    settings that are no longer read, framing files changed without approval."""
    from editorial.site_approval import site_approval_state
    from editorial.trust import TrustError, load_trust

    found: list[str] = []
    root = settings_root(settings)
    legacy = legacy_trust_settings(settings)
    if legacy:
        found.append(
            f"{', '.join(legacy)} in {Path(settings['DP_SETTINGS_FILE']).name} "
            f"{'is' if len(legacy) == 1 else 'are'} no longer read: who may approve is in "
            "trust.yml on the protected branch (docs/security.md)"
        )
    try:
        trust = load_trust(root)
    except TrustError as exc:
        found.append(str(exc))
        return found
    found += list(trust.notes)
    if trust.unsigned == "author-field":
        found.append(
            f"{trust.describe()}: authorship.unsigned is author-field, so authors come from "
            "git's author fields, which anyone can set; sign commits and set it to refuse "
            "(docs/security.md, \"Signed commits\")"
        )
    if site_approval:
        state = site_approval_state(root, trust)
        if not state.approved:
            found.append(state.summary())
    return found


def _markdown_diff(settings: dict[str, Any], paths: tuple[Path, ...], output_format: str) -> None:
    """The pieces whose body or formatted fields render differently with the other engine."""
    from editorial.markdown_html import Renderer, engine

    current = engine(settings)
    other = "cmark" if current == "python-markdown" else "python-markdown"
    frontmatter = dict(settings.get("DP_FRONTMATTER") or {})
    renderers = {
        name: Renderer({**settings, "DP_FRONTMATTER": {**frontmatter, "markdown": name}})
        for name in (current, other)
    }
    site = load_site(settings, list(paths) if paths else None)
    changed: list[str] = []
    for piece in site.pieces:
        if not piece.on_site or piece.source is None or piece.source.format != "yaml":
            continue  # Pelican's own formats are read by Pelican's readers, either way
        texts = [piece.body] + [
            str(v) for k, v in piece.metadata.items()
            if k in {str(f).lower() for f in settings.get("FORMATTED_FIELDS", ["summary"])}
        ]
        if any(renderers[current].convert(t) != renderers[other].convert(t) for t in texts):
            changed.append(piece.path)
    if output_format == "json":
        emit_json({"engine": current, "other": other, "changed": changed})
        return
    for path in changed:
        click.echo(path)
    click.echo(ngettext("%(num)s post or page would change from %(current)s to %(other)s",
                        "%(num)s posts and pages would change from %(current)s to %(other)s",
                        len(changed), current=current, other=other))


def _print_pieces(pieces: list[Piece], verbose: bool) -> None:
    """The pieces with findings (every piece with ``verbose``), each with its findings."""
    for piece in pieces:
        if not verbose and not piece.findings:
            continue
        when = piece.publish_at.isoformat(timespec="minutes") if piece.publish_at else "—"
        channels = ",".join(piece.channels) or "site"
        click.echo(f"{piece.id}  [{piece.kind}; {channels}; {when}]  {piece.title or ''}")
        for finding in piece.findings:
            click.echo(f"  {finding}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--require-approval",
    is_flag=True,
    help="Fail for every non-draft piece without a valid client approval (branch protection).",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="List every piece, not only those with findings."
)
@click.option(
    "--markdown-diff",
    is_flag=True,
    help="Only list the posts and pages whose HTML would change with the other Markdown "
    "engine (python-markdown / cmark; docs/markdown.md), then exit.",
)
@format_option("text", "json")
@settings_option
def check(
    paths: tuple[Path, ...],
    require_approval: bool,
    verbose: bool,
    markdown_diff: bool,
    output_format: str,
    settings_path: str,
) -> None:
    """Validate posts, pages and snippets: front matter, dates, channels, media, links.

    Also refuses what would make the public page differ from what an approver saw:
    active content (scripts, event handlers, iframes…), front-matter keys that differ
    only in case, and symbolic links in content/, the theme and the plugins.

    Prints the findings and a one-line summary; -v lists every piece. Exits 0 when
    clean, 1 when a piece has an error, 2 on a usage or settings error. Warnings are
    shown but do not fail the check. Text left from `dialogpress new` is an error.
    With --require-approval, a piece that is not a draft and lacks a valid approval
    is an error too.

    Example:

        dialogpress check content/social --format json

        dialogpress check --require-approval
    """
    if require_approval:
        # before the settings run: unapproved settings are refused, never executed
        require_site_approval(settings_path)
    settings = load(settings_path)
    if markdown_diff:
        _markdown_diff(settings, paths, output_format)
        return
    try:
        site = load_site(settings, list(paths) if paths else None)
        check_site(site)
        site.problems += theme_hook_findings(settings)
    except SettingsError as exc:
        fail(str(exc), EXIT_USAGE)
    for problem in trust_warnings(settings, site_approval=not require_approval):
        warning(problem)
    if require_approval:
        approval_findings(site)
    if output_format == "json":
        listed = [piece.to_dict() for piece in site.pieces]
        if site.problems:
            # findings about the site as a whole (a symlink in the theme) stand in an entry
            # of their own, so that the list stays one entry per piece otherwise
            listed.append({"id": None, "kind": "site", "path": None,
                           "findings": [f.to_dict() for f in site.problems]})
        emit_json(listed)
    else:
        for finding in site.problems:
            click.echo(f"{finding}")
        _print_pieces(site.pieces, verbose)
        errors = sum(f.severity == "error" for f in site.findings)
        warnings = len(site.findings) - errors
        click.echo(", ".join((
            ngettext("%(num)s piece", "%(num)s pieces", len(site.pieces)),
            ngettext("%(num)s error", "%(num)s errors", errors),
            ngettext("%(num)s warning", "%(num)s warnings", warnings),
        )))
        start = approvals_start_note(site)
        if start:
            note(start)
    if has_errors(site.findings):
        raise SystemExit(EXIT_FINDINGS)


@main.command()
@click.option(
    "--production",
    is_flag=True,
    help="Build with publishconf.py: only what may go public.",
)
@click.option(
    "-o", "--output", type=click.Path(file_okay=False, path_type=Path), help="Output folder."
)
@click.option(
    "--strict/--no-strict", default=None,
    help="Fail for any error logged, the theme's too (default: DP_BUILD_STRICT, else only "
    "dialogpress's own failures).",
)
@click.argument(
    "content", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@settings_option
def build(
    production: bool, output: Path | None, strict: bool | None, content: Path | None,
    settings_path: str,
) -> None:
    """Build the site with Pelican into the output folder.

    CONTENT is the content folder, as with ``pelican CONTENT``; without it the settings'
    PATH, else content/ beside the settings file. Errors the theme or other plugins log
    are shown but fail the build only with --strict; dialogpress's own failures (the
    approval gate, unreadable pieces, its plugins) always do.

    Example:

        dialogpress build --production

        dialogpress build content -s pelicanconf.py
    """
    if production:
        # before the settings run: unapproved settings are refused, never executed
        require_site_approval(settings_path)
    extra = {"PATH": str(content.resolve())} if content is not None else None
    load(settings_path, extra)
    try:
        result = build_site(settings_path, production=production, output=output,
                            override=extra, strict=strict)
    except SettingsError as exc:
        fail(str(exc), EXIT_USAGE)
    for message in result.site_errors:
        warning(_("the site logged an error (not dialogpress's; --strict fails for it): "
                  "%(message)s", message=message))
    for message in result.errors:
        error(message)
    if not result.ok:
        fail(ngettext("the build of %(file)s failed (%(num)s error)",
                      "the build of %(file)s failed (%(num)s errors)",
                      len(result.errors), file=result.settings_file.name))
    pages = sum(1 for _page in result.output.rglob("*.html"))
    click.echo(ngettext("Built %(num)s page into %(output)s", "Built %(num)s pages into %(output)s",
                        pages, output=result.output))
    click.echo(_("Serve it with: %(command)s   (or: %(other)s)", command="dialogpress serve",
                 other=f"python -m http.server -d {result.output}"))


@main.command()
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--autoreload", is_flag=True, help="Rebuild when content, theme, plugins or settings change."
)
@settings_option
def serve(port: int, bind: str, autoreload: bool, settings_path: str) -> None:
    """Serve the built site on http://127.0.0.1:8000/ until Ctrl-C.

    Example:

        dialogpress build && dialogpress serve --port 8080
    """
    settings = load(settings_path)
    output = Path(settings["OUTPUT_PATH"])
    if autoreload:
        threading.Thread(
            target=_rebuild_on_change, args=(settings_path, settings), daemon=True
        ).start()
        build_site(settings_path)
    if not output.is_dir():
        fail(_("%(output)s does not exist; run 'dialogpress build' first", output=output))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(output))
    with http.server.ThreadingHTTPServer((bind, port), handler) as server:
        click.echo(_("Serving %(output)s on %(url)s (Ctrl-C stops)", output=output,
                     url=f"http://{bind}:{port}/"))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo(_("Stopped."))


def _rebuild_on_change(settings_path: str, settings: dict[str, object]) -> None:
    import watchfiles

    root = settings_root(settings)
    watched = [
        str(p)
        for p in (Path(str(settings["PATH"])), Path(str(settings["THEME"])), root / "plugins")
        if p.exists()
    ]
    for _changes in watchfiles.watch(*watched, Path(settings_path).resolve()):
        result = build_site(settings_path)
        click.echo(_("Rebuilt.") if result.ok
                   else _("Rebuild failed: %(errors)s", errors="; ".join(result.errors)))

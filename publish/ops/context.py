"""Assembling what a publishing command needs: production site, store, channels, actor.

Commands stay thin by asking here; this is also the one place below the CLI that reads
the process environment (credentials, the acting person), and it hands what it read
down as plain values, so the library never looks at ``os.environ`` itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from editorial import git
from editorial.git import GitError
from editorial.settings import Settings, SettingsError, load_settings, settings_root
from publish import settings as publish_settings
from publish.ops.caches import file_cache
from publish.posting.channels import Channel, CredentialsError, load_credentials, make_channel
from publish.site.build import production_settings_file
from publish.store import Store, open_store

if TYPE_CHECKING:
    from editorial.pieces import Post, Site
    from publish.notify.delivery import Transports

# The site, the links, the mail and the notifications are imported where they are used:
# a command that only needs the production settings and the store (``inbox``) starts
# without them (issue 24).

logger = logging.getLogger(__name__)


@dataclass
class Context:
    """The production view of a site: what goes public is judged with publishconf.py."""

    settings: Settings
    site: Site
    store: Store
    channels: dict[str, Channel] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    # notifications: the mailer and webhook URLs, and what keeps a webhook from working
    transports: Transports = field(default_factory=lambda: _no_transports())
    notify_problems: list[str] = field(default_factory=list)

    def live_root(self) -> Path:
        """The folder the public site is served from (the production build's output)."""
        return Path(self.settings["OUTPUT_PATH"])

    def is_live(self, post: Post) -> bool:
        from editorial.links import post_save_as

        return (self.live_root() / post_save_as(self.site, post)).is_file()


class FrameNotApproved(SettingsError):
    """The settings, theme, plugins or guideline changed without the client's approval."""


def require_frame(settings_file: str | Path) -> None:
    """Refuse (:class:`SettingsError`) to run production settings whose framing files —
    settings, theme, plugins, guideline — the client has not approved; judged without
    executing them, so that branch code never runs where the production secrets are."""
    from editorial.site_approval import site_approval_state

    state = site_approval_state(Path(settings_file).resolve().parent)
    if state.unconfigured:
        logger.warning("%s; production builds publish no approved piece", state.reasons[0])
    if not state.may_run:
        raise FrameNotApproved(
            f"{state.summary()}; nothing is built, deployed or posted until a client "
            "approver runs: dialogpress approve --site"
        )


def production_settings(settings_path: str | Path) -> Settings:
    """publishconf.py beside the given settings when there is one, else those settings."""
    candidate = production_settings_file(settings_path)
    path = candidate if candidate.is_file() else Path(settings_path)
    require_frame(path)
    settings = load_settings(path)
    publish_settings.apply_defaults(settings)
    publish_settings.validate(settings)
    return settings


def open_context(
    settings_path: str | Path,
    environ: Mapping[str, str],
    channel_names: list[str] | None = None,
    dry_run: bool = False,
) -> Context:
    """Site, store and the channels whose credentials are there; the others in problems."""
    settings = production_settings(settings_path)
    root = settings_root(settings)
    from editorial.site_memo import read_site

    site = read_site(settings, [Path(settings_path), production_settings_file(settings_path)])
    from editorial.checks import check_site

    # Only snippets go out to the networks; the posts' guideline findings are the concern
    # of `check` and the review, and judging 2,000 posts on every tick would cost seconds.
    with file_cache(root, "checks") as cache:
        check_site(site, pieces=site.snippets, cache=cache)
    context = Context(settings=settings, site=site, store=open_store(settings))
    names = (
        channel_names
        if channel_names is not None
        else sorted({c for snippet in site.snippets for c in snippet.channels})
    )
    for name in names:
        try:
            credentials = load_credentials(name, environ)
        except CredentialsError as exc:
            context.problems[name] = str(exc)
            continue
        context.channels[name] = make_channel(name, settings, credentials, dry_run=dry_run)
    config = publish_settings.notify_settings(settings)
    if config.enabled and not dry_run:
        context.transports, context.notify_problems = notify_transports(settings, environ)
    return context


ENV_WEBHOOK_PREFIX = "DP_NOTIFY_WEBHOOK_"
ENV_NOTIFY_SECRETS = "DP_NOTIFY_SECRETS"


def webhook_urls(
    names: tuple[str, ...], environ: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The URLs of the webhooks ``NOTIFY['webhooks']`` names, and why any is missing.

    A chat webhook URL is a credential (anyone who has it may post to the channel), so it
    never stands in the settings that are in git: ``DP_NOTIFY_WEBHOOK_<NAME>`` first, then
    the file ``DP_NOTIFY_SECRETS`` names, with ``name = url`` lines (``#`` comments), which
    must be readable by its owner only. Problems never quote a URL.
    """
    from_file: dict[str, str] = {}
    problems: list[str] = []
    secrets_path = environ.get(ENV_NOTIFY_SECRETS, "").strip()
    if secrets_path:
        from_file, problems = _read_secrets(Path(secrets_path))
    urls: dict[str, str] = {}
    for name in names:
        url = environ.get(ENV_WEBHOOK_PREFIX + name.upper(), "").strip() or from_file.get(name)
        if not url:
            problems.append(
                f"webhook {name!r} has no URL: set {ENV_WEBHOOK_PREFIX}{name.upper()} or add "
                f"'{name} = https://…' to the file {ENV_NOTIFY_SECRETS} names"
            )
            continue
        try:
            publish_settings._check_url(f"webhook {name!r}", url.split("?", 1)[0])
        except SettingsError as exc:
            problems.append(str(exc).replace(url.split("?", 1)[0], "<url>"))
            continue
        urls[name] = url
    return urls, problems


def _read_secrets(path: Path) -> tuple[dict[str, str], list[str]]:
    try:
        mode = path.stat().st_mode
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return {}, [f"{ENV_NOTIFY_SECRETS}: cannot read {path}: {exc.strerror}"]
    if mode & 0o077:
        return {}, [
            f"{ENV_NOTIFY_SECRETS}: {path} is readable by others (mode {mode & 0o777:o}); "
            f"the webhook URLs in it are credentials: chmod 600 {path}"
        ]
    found: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, equals, url = text.partition("=")
        if not equals or not name.strip() or not url.strip():
            problems.append(f"{path}:{number}: expected 'name = url'")
            continue
        found[name.strip()] = url.strip()
    return found, problems


def _no_transports() -> Transports:
    from publish.notify.delivery import Transports

    return Transports()


def notify_transports(
    settings: Settings, environ: Mapping[str, str]
) -> tuple[Transports, list[str]]:
    """What sends notifications: the ``MAIL`` mailer (SMTP credentials from ``environ``)
    and the webhook URLs; with the problems that keep any of them from working."""
    from editorial.settings import settings_root
    from publish.notify.delivery import Transports
    from publish.notify.mail import make_mailer

    config = publish_settings.notify_settings(settings)
    mail = publish_settings.mail_settings(settings)

    problems: list[str] = []
    mailer = None
    try:
        mailer = make_mailer(mail, settings_root(settings), environ)
    except ValueError as exc:
        problems.append(f"mail: {exc}")
    urls, webhook_problems = webhook_urls(config.webhooks, environ)
    timeout = mail.timeout
    return Transports(mailer=mailer, webhooks=urls, timeout=timeout), problems + webhook_problems


def actor(explicit: str | None, environ: Mapping[str, str], root: Path) -> str:
    """Who acts, for the audit: ``--as``, then ``DP_ACTOR``, then git's ``user.email``."""
    if explicit:
        return explicit
    if environ.get("DP_ACTOR"):
        return environ["DP_ACTOR"]
    try:
        found = git.run(["config", "user.email"], cwd=root, check=False)
        email = found.text if found.ok else ""  # exit 1: no e-mail configured
    except GitError as exc:
        logger.debug("no git user.email for the audit: %s", exc)
        email = ""
    return email or f"{os.environ.get('USER', 'unknown')}@localhost"

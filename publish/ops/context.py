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

from editorial import git
from editorial.git import GitError
from editorial.links import post_save_as
from editorial.pieces import Post, Site, load_site
from editorial.settings import Settings, SettingsError, load_settings
from publish import settings as publish_settings
from publish.posting.channels import Channel, CredentialsError, load_credentials, make_channel
from publish.site.build import production_settings_file
from publish.store import Store, open_store

logger = logging.getLogger(__name__)


@dataclass
class Context:
    """The production view of a site: what goes public is judged with publishconf.py."""

    settings: Settings
    site: Site
    store: Store
    channels: dict[str, Channel] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def live_root(self) -> Path:
        """The folder the public site is served from (the production build's output)."""
        return Path(self.settings["OUTPUT_PATH"])

    def is_live(self, post: Post) -> bool:
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
    site = load_site(settings)
    from editorial.checks import check_site

    # Only snippets go out to the networks; the posts' guideline findings are the concern
    # of `check` and the review, and judging 2,000 posts on every tick would cost seconds.
    check_site(site, pieces=site.snippets)
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
    return context


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

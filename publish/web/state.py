"""What every request of the desk shares: the :class:`Desk` (the site, the store, the
clock, the secrets, the ``DESK`` settings) and accessors for the running request's desk
and user.

It is its own module so that the blueprints (:mod:`publish.web.auth`, ``inbox``, ...)
and the application factory (:mod:`publish.web.app`) both import it, and the factory
imports the blueprints, with no import cycle between them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, g, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from editorial import git
from editorial.approvals import ApprovalState, approval_states
from editorial.git import GitError
from editorial.guideline import Guideline
from editorial.i18n import site_language
from editorial.links import post_url
from editorial.pieces import Piece, Site
from editorial.settings import Settings, site_zone
from editorial.site_memo import read_site
from editorial.trust import REF_ENV as TRUST_REF_ENV
from editorial.trust import ROOT_PIN_ENV
from publish.ops.context import Context
from publish.posting.channels import Channel, CredentialsError, load_credentials, make_channel
from publish.review.portal import Portal
from publish.settings import DeskSettings, channels_settings
from publish.store import Store
from publish.store.models import DeskUser
from publish.web import accounts, csrf, site_roles
from publish.web.accounts import Throttle

#: the key of the :class:`Desk` in ``app.extensions``
EXTENSION = "dialogpress.desk"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, the desk's clock unless a test passes its own."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class AccountSites:
    """The sites of an agency desk (key, name) and each account's role on them by id."""

    sites: tuple[tuple[str, str], ...]
    roles: dict[int, dict[str, str]]


@dataclass(kw_only=True)
class Gate:
    """What the guard, the login and the cookies need: the accounts' store, the ``DESK``
    options, the secret and the clock. A site's desk is one (:class:`Desk`); the agency
    desk's own pages (:mod:`publish.web.agency`) are another, with no site of their own.
    """

    store: Store
    options: DeskSettings
    secret: bytes = field(repr=False)
    environ: Mapping[str, str] = field(repr=False)
    clock: Clock = utc_now

    @property
    def zone(self) -> ZoneInfo:
        """The zone the pages show times in."""
        raise NotImplementedError

    @property
    def default_language(self) -> str:
        """The language of a browser that asks for none the desk speaks."""
        raise NotImplementedError

    #: the agency desk's own pages (overview, accounts), not a site's desk
    agency_pages: ClassVar[bool] = False

    @property
    def title(self) -> str:
        """What the pages are of, next to the brand: the site's name, or the agency."""
        raise NotImplementedError

    def agency_home(self) -> str | None:
        """The agency overview's address, for a site's desk mounted in an agency desk."""
        return None

    def role_for(self, session: Session, user: DeskUser) -> str | None:
        """The account's role on these pages; None: it may see none of them."""
        return user.role

    def account_sites(self, session: Session) -> AccountSites | None:
        """For the accounts page of an agency desk: the sites and every account's roles
        on them; None where roles are not per site."""
        return None

    @property
    def throttle(self) -> Throttle:
        return Throttle(
            failures=self.options.lockout_failures,
            lock=timedelta(minutes=self.options.lockout_minutes),
            address_failures=self.options.address_failures,
        )

    @property
    def cookie_name(self) -> str:
        # __Host- cookies are only accepted with Secure, path / and no domain: a
        # neighbouring subdomain cannot plant or overwrite them
        return "__Host-dp-desk" if self.options.secure_cookies else "dp-desk"

    @property
    def csrf_cookie_name(self) -> str:
        return self.cookie_name + "-csrf"

    def now(self) -> datetime:
        return self.clock()


@dataclass(kw_only=True)
class Desk(Gate):
    """What a site's desk views need, built once per application.

    ``site_key`` None is a one-site desk: an account's role is ``DeskUser.role``. In an
    agency desk it is the site's key in the agency file, and an account's role is its
    role on that site (:mod:`publish.web.site_roles`), none without a grant.
    """

    settings: Settings
    guideline: Guideline
    app_secret: bytes | None = field(repr=False)
    verify_token: str | None = field(repr=False)
    fixed_channels: dict[str, Channel] | None = None
    site_key: str | None = None
    _portal: Portal | None = field(default=None, repr=False)
    _site: tuple[tuple[Any, ...], Site] | None = field(default=None, repr=False)
    _post_urls: tuple[tuple[Any, ...], dict[str, str]] | None = field(default=None, repr=False)
    _approvals: tuple[tuple[Any, ...], dict[str, ApprovalState]] | None = field(
        default=None, repr=False
    )
    _git_dirs: tuple[str, ...] | None = field(default=None, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        return site_zone(self.settings)

    @property
    def default_language(self) -> str:
        return site_language(self.settings)

    @property
    def title(self) -> str:
        return str(self.settings.get("SITENAME", "dialogpress"))

    def agency_home(self) -> str | None:
        return self.agency_url("/")

    def role_for(self, session: Session, user: DeskUser) -> str | None:
        if self.site_key is None:
            return user.role
        return site_roles.role_on(session, user.id, self.site_key)

    def members(self, session: Session) -> list[tuple[str, str]]:
        """Who works on this site, with the role: every account of a one-site desk, the
        accounts with a role on the site in an agency desk."""
        if self.site_key is None:
            return [(user.email, user.role) for user in accounts.all_users(session)]
        return [
            (user.email, role) for user, role in site_roles.site_members(session, self.site_key)
        ]

    def agency_url(self, path: str) -> str | None:
        """``path`` of the agency desk's own pages, when this site's desk is mounted in one
        (under ``/sites/<key>``); None for a one-site desk."""
        if self.site_key is None:
            return None
        root = request.script_root.removesuffix(f"/sites/{self.site_key}")
        return root + path

    @property
    def channel_names(self) -> tuple[str, ...]:
        """The channels of ``CHANNELS``, sorted."""
        return channels_settings(self.settings).names

    def site(self) -> Site:
        """The production site as it is now: read again only when a file under the
        content folder changed (the scheduler pulls), keyed by every file's path, size
        and modification time, which a stat walk gets without reading the pieces."""
        key = content_fingerprint(self.settings)
        cached = self._site
        if cached is not None and cached[0] == key:
            return cached[1]
        site = read_site(self.settings)  # the scheduler's memo when it read the same
        self._site = (key, site)
        self._post_urls = None
        return site

    def post_urls(self) -> dict[str, str]:
        """Each post's public URL by slug, made once per version of the site."""
        site = self.site()
        key = self._site[0] if self._site is not None else ()
        cached = self._post_urls
        if cached is not None and cached[0] == key:
            return cached[1]
        urls = {post.slug: post_url(site, post) for post in site.posts}
        self._post_urls = (key, urls)
        return urls

    def approval_states(self, site: Site, pieces: Iterable[Piece]) -> dict[str, ApprovalState]:
        """:func:`editorial.approvals.approval_states`, remembered per piece for as long
        as nothing it depends on changed: the site's files (the key of :meth:`site`), the
        repository's refs and configuration (HEAD and its history, the protected ref
        that holds trust.yml, the git user), and the trust settings in the environment.
        Judging runs git and ssh-keygen several times; a page shown again runs neither.
        """
        wanted = list(pieces)
        site_key = self._site[0] if self._site is not None and self._site[1] is site else None
        if site_key is None:  # not the desk's own site: nothing to key it by
            return approval_states(site, wanted)
        if self._git_dirs is None:
            self._git_dirs = git_dirs(site.content)
        key = (site_key, repository_fingerprint(self._git_dirs), trust_environment())
        cached = self._approvals
        if cached is None or cached[0] != key:
            cached = self._approvals = (key, {})
        known = cached[1]
        missing = [piece for piece in wanted if piece.id not in known]
        if missing:
            known.update(approval_states(site, missing))
        return {piece.id: known[piece.id] for piece in wanted}

    def context(self) -> Context:
        return Context(settings=self.settings, site=self.site(), store=self.store)

    def portal(self) -> Portal:
        """The approval portal: its clone of the site, its key and its mailer."""
        if self._portal is None:
            self._portal = Portal(self.settings, self.environ)
        return self._portal

    def channels(self) -> tuple[dict[str, Channel], dict[str, str]]:
        """Channels whose credentials are there, and what is wrong with the others."""
        if self.fixed_channels is not None:
            return self.fixed_channels, {}
        found: dict[str, Channel] = {}
        problems: dict[str, str] = {}
        for name in self.channel_names:
            try:
                credentials = load_credentials(name, self.environ)
            except CredentialsError as exc:
                problems[name] = str(exc)
                continue
            found[name] = make_channel(name, self.settings, credentials)
        return found, problems


def content_fingerprint(settings: Settings) -> tuple[Any, ...]:
    """Path, size and modification time of every file under the content folder."""
    content = Path(settings["PATH"])
    found: list[tuple[str, int, int]] = []
    for folder, _dirs, files in os.walk(content):
        for name in files:
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:
                continue  # removed while walking: the next request sees the change
            found.append((path, info.st_size, info.st_mtime_ns))
    found.sort()
    return tuple(found)


def git_dirs(content: Path) -> tuple[str, ...]:
    """The git directories of the repository around ``content`` (the worktree's own and
    the common one), or none outside git."""
    try:
        found = git.run(
            ["rev-parse", "--absolute-git-dir", "--git-common-dir"], cwd=content, timeout=30
        )
    except GitError:
        return ()
    if not found.ok:
        return ()
    paths = [Path(line) for line in found.text.splitlines()]
    return tuple(dict.fromkeys(str(p if p.is_absolute() else content / p) for p in paths))


def repository_fingerprint(dirs: tuple[str, ...]) -> tuple[Any, ...]:
    """Size and modification time of what says where the repository's branches point and
    who commits: HEAD, every ref file, packed-refs and the configuration (the
    repository's and the user's). A commit, a fetch, a checkout or a changed git user
    changes it; a stat walk, no git process."""
    paths = [os.path.join(folder, name) for folder in dirs for name in _GIT_STATE]
    home = os.environ.get("HOME")
    xdg = os.environ.get("XDG_CONFIG_HOME") or (os.path.join(home, ".config") if home else "")
    paths += [
        path
        for path in (
            os.environ.get("GIT_CONFIG_GLOBAL"),
            os.path.join(home, ".gitconfig") if home else None,
            os.path.join(xdg, "git", "config") if xdg else None,
        )
        if path
    ]
    for folder in dirs:
        for top, _dirs, files in os.walk(os.path.join(folder, "refs")):
            paths += [os.path.join(top, name) for name in files]
    found: list[tuple[str, int, int]] = []
    for path in sorted(set(paths)):
        try:
            info = os.stat(path)
        except OSError:
            continue
        found.append((path, info.st_size, info.st_mtime_ns))
    return (dirs, tuple(found))


# the files of a git directory that say where HEAD and the branches point, and who commits
_GIT_STATE = ("HEAD", "packed-refs", "config")


def trust_environment() -> tuple[str, str]:
    """The environment's say in where trust is read from (see :mod:`editorial.trust`)."""
    return (os.environ.get(TRUST_REF_ENV, ""), os.environ.get(ROOT_PIN_ENV, ""))


def gate() -> Gate:
    """The running application's :class:`Gate`: a site's desk or the agency's pages."""
    found: Gate = current_app.extensions[EXTENSION]
    return found


def desk() -> Desk:
    """The running application's :class:`Desk` (the views of a site's desk)."""
    found = current_app.extensions[EXTENSION]
    if not isinstance(found, Desk):
        raise RuntimeError("a site's view outside a site's desk")
    return found


def current_role() -> str | None:
    """The logged-in user's role on these pages (the guard put it in ``g.role``)."""
    role: str | None = g.get("role")
    return role


def current_user() -> DeskUser:
    """The logged-in user (the guard has made sure there is one on non-public routes)."""
    user: DeskUser | None = g.get("user")
    if user is None:
        raise RuntimeError("no user on a route that needs a login")
    return user


def csrf_token() -> str:
    return csrf.token(gate().secret, g.csrf_binding)


def safe_next(target: str | None) -> str | None:
    """A redirect target from a form or query, only if it stays on this site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def set_cookie(response: BaseResponse, name: str, value: str, max_age: int | None) -> None:
    """A cookie as the desk sets them all: HttpOnly, SameSite=Lax, Secure in production."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=gate().options.secure_cookies,
    )

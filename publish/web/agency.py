"""One desk for every client of an agency: ``dialogpress desk --agency FILE``.

One web process serves the agency file's sites: the agency's own pages at ``/`` (login,
password, accounts and roles per site, the overview of what is urgent on every site
the account works on) and each site's desk (:func:`publish.web.app.create_app`, as a
one-site installation has it) under ``/sites/<key>/``, dispatched by Werkzeug's
``DispatcherMiddleware``. All of them share one engine: each site's desk gets the
agency store scoped to its key, the agency pages the store itself.

One login serves them all: accounts and sessions are agency-wide (``desk_users``,
``desk_sessions`` are not scoped to a site), the session cookie has path ``/`` and the
CSRF token is derived from the session with the one secret key, so a form of any mounted
desk is valid where it posts. What an account may do on a site is its role there
(:mod:`publish.web.site_roles`); without one every page of the site answers 403.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, render_template, request
from sqlalchemy.orm import Session
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as BaseResponse

from editorial.i18n import site_language
from editorial.settings import SettingsError, site_zone
from publish.ops.agency import SecretsError, site_environment
from publish.ops.context import production_settings
from publish.posting.channels import Channel
from publish.settings import DeskSettings, desk_settings
from publish.store import Store
from publish.store.errors import NotFound
from publish.web import access, accounts, agency_overview, auth, site_roles, users
from publish.web.agency_file import Agency, load_agency
from publish.web.app import (
    ENV_APP_SECRET,
    ENV_SECRET_KEY,
    ENV_VERIFY_TOKEN,
    _secret,
    configure,
    create_app,
)
from publish.web.i18n import N_, _
from publish.web.state import (
    EXTENSION,
    AccountSites,
    Clock,
    Desk,
    Gate,
    current_user,
    gate,
    utc_now,
)

#: what every site's desk takes from the agency desk's environment: the session key, and
#: the agency's Facebook app (its webhook secret and verify token; a site's secrets file
#: may name its own); the channels' tokens come from each site's secrets file alone
SHARED_ENV = (ENV_SECRET_KEY, ENV_APP_SECRET, ENV_VERIFY_TOKEN)

logger = logging.getLogger(__name__)

#: where a site's desk is mounted: ``/sites/<key>``
MOUNT = "/sites/"


@dataclass
class MountedSite:
    key: str
    name: str
    app: Flask

    @property
    def desk(self) -> Desk:
        found: Desk = self.app.extensions[EXTENSION]
        return found


@dataclass(kw_only=True)
class AgencyDesk(Gate):
    """The agency pages' state: the sites it mounts, and the zone and language its own
    pages use (the first site's: an agency's sites usually share them)."""

    agency_pages: ClassVar[bool] = True
    sites: dict[str, MountedSite] = field(default_factory=dict)
    home_zone: ZoneInfo
    home_language: str

    @property
    def zone(self) -> ZoneInfo:
        return self.home_zone

    @property
    def default_language(self) -> str:
        return self.home_language

    @property
    def title(self) -> str:
        return _("all clients")

    def account_sites(self, session: Session) -> AccountSites:
        return AccountSites(
            sites=tuple((key, site.name) for key, site in self.sites.items()),
            roles=site_roles.all_roles(session),
        )


def scoped(store: Store, key: str) -> Store:
    """The agency store as one site's store (``Store.scoped``, sharing its engine)."""
    return store.scoped(key)


def create_agency_app(
    agency: Agency | str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    store: Store | None = None,
    options: DeskSettings | None = None,
    channels: Mapping[str, dict[str, Channel]] | None = None,
) -> Flask:
    """The agency desk for ``agency``: a Flask app whose WSGI entry also dispatches
    ``/sites/<key>/…`` to each site's desk.

    ``options`` are the ``DESK`` options every part uses for cookies, sessions and
    logins (default: the first site's production ``DESK``; the per-site ones such as
    ``report_days`` stay each site's). ``store`` an opened agency store (default: the
    agency file's database, migrated); ``clock`` and ``channels`` (by site key) for tests.
    ``agency`` is the agency file (its path, for a WSGI server's command line) or the
    file as read. Raises :class:`SettingsError` for a site's bad settings or a missing
    secret key, :class:`~publish.web.agency_file.AgencyError` for a bad agency file.
    """
    env = os.environ if environ is None else environ
    if not isinstance(agency, Agency):
        agency = load_agency(agency, env)
    if store is None:
        store = Store(agency.database_url).upgrade()
    secret = _secret(env)
    for site in agency.sites:
        if not agency.settings_path(site).is_file():
            raise SettingsError(
                f"agency site {site.key!r}: no settings file {agency.settings_path(site)} "
                "(is its workspace there?)"
            )
    first = agency.settings_path(agency.sites[0])
    first_settings = production_settings(first)
    shared = options or desk_settings(first_settings)
    state = AgencyDesk(
        store=store,
        options=shared,
        secret=secret,
        environ=env,
        clock=clock or utc_now,
        home_zone=site_zone(first_settings),
        home_language=site_language(first_settings),
    )
    for site in agency.sites:
        try:
            # the site's own tokens, none of another client's: a reply sent from this
            # site's inbox goes out with its credentials only
            site_env = site_environment(site, env, keep=SHARED_ENV)
        except SecretsError as exc:
            raise SettingsError(f"agency site {site.key!r}: {exc}") from None
        app = create_app(
            agency.settings_path(site),
            environ=site_env,
            clock=state.clock,
            store=scoped(store, site.key),
            site_key=site.key,
            options=shared,
            channels=(channels or {}).get(site.key),
        )
        state.sites[site.key] = MountedSite(site.key, site.name, app)
    app = Flask(__name__)
    configure(app, state)
    app.register_blueprint(users.blueprint)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(blueprint)
    app.add_url_rule("/", "home", overview)
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {MOUNT + key: site.app for key, site in state.sites.items()}
    )
    logger.info(
        "agency desk for %s sites on store %s (secure cookies: %s)",
        len(state.sites),
        store.masked_url,
        shared.secure_cookies,
    )
    return app


def agency() -> AgencyDesk:
    found = gate()
    if not isinstance(found, AgencyDesk):
        raise RuntimeError("an agency page outside the agency desk")
    return found


blueprint = Blueprint("agency", __name__)


@access.requires(access.EVERYONE)
def overview() -> str:
    """Every site the account has a role on: what is urgent, most urgent first."""
    state = agency()
    user = current_user()
    now = state.now()
    with state.store.read() as session:
        held = site_roles.roles_of(session, user.id)
    mine = [site for key, site in state.sites.items() if key in held]
    per_site = []
    for site in mine:
        link = _linker(site)
        per_site.append(
            agency_overview.items_for_site(
                site.key, site.name, site.desk, held[site.key], now, link
            )
        )
    items = agency_overview.merge(per_site)
    counts = {site.key: 0 for site in mine}
    for item in items:
        counts[item.site] += 1
    return render_template(
        "agency.html",
        items=items,
        sites=[(site, held[site.key], counts[site.key]) for site in mine],
        root=request.script_root,
        labels=KINDS,
    )


def _linker(site: MountedSite) -> agency_overview.Link:
    """Build a URL of the site's desk as its own pages would, under its mount."""
    adapter = site.app.url_map.bind(
        request.host, script_name=f"{request.script_root}{MOUNT}{site.key}"
    )

    def link(endpoint: str, values: dict[str, object]) -> str:
        try:
            return adapter.build(endpoint, values)
        except BuildError:
            logger.exception("agency overview: no URL for %s", endpoint)
            return f"{request.script_root}{MOUNT}{site.key}/"

    return link


#: the overview's kinds of item, as the page names them (translated at render time)
KINDS = {
    "overdue": N_("Comment overdue"),
    "escalated": N_("Comment escalated"),
    "failed": N_("Post failed"),
    "late": N_("Post late"),
    "review": N_("Review pending"),
    "auth-problem": N_("Channel credentials broken"),
    "paused": N_("Channel paused"),
    "token-expiring": N_("Access token expiring"),
    "run-failed": N_("Scheduler run failed"),
    "no-runs": N_("Scheduler not running"),
}


@blueprint.route("/admin/users/roles", methods=["POST"])
@access.requires(access.MANAGE_USERS)
def grant() -> BaseResponse | tuple[str, int]:
    state = agency()
    site = request.form.get("site", "")
    if site not in state.sites:
        return users.page(422, problem=_("There is no site %(site)s.", site=site))
    try:
        with state.store.transaction() as session:
            site_roles.grant(
                session,
                request.form.get("email", ""),
                site,
                request.form.get("role", ""),
                current_user().email,
                state.now(),
            )
    except (accounts.AccountError, NotFound) as exc:
        return users.page(422, problem=f"{str(exc).capitalize()}.")
    return users.page()


@blueprint.route("/admin/users/<int:user_id>/roles/<site>/revoke", methods=["POST"])
@access.requires(access.MANAGE_USERS)
def revoke(user_id: int, site: str) -> BaseResponse | tuple[str, int]:
    state = agency()
    with state.store.transaction() as session:
        user = accounts.get(session, user_id)
        if user is None:
            abort(404, _("There is no account %(id)s.", id=user_id))
        site_roles.revoke(session, user.email, site, current_user().email, state.now())
    return users.page()

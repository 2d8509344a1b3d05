"""The desk's application factory: it builds the :class:`~publish.web.state.Desk`,
registers the blueprints and the hooks every request passes (the guard of
:mod:`publish.web.access`, CSRF, the security headers, the error pages).

What the views share lives in :mod:`publish.web.state`; blueprints import it from there,
never from here, so that this module may import them without a cycle.

Secrets come from the environment only (``DP_DESK_SECRET_KEY``, and for the Facebook
webhook ``DP_FACEBOOK_APP_SECRET`` and ``DP_FACEBOOK_VERIFY_TOKEN``); they are never
logged. The factory is the desk's entry point under a WSGI server, so it is, beside
:mod:`publish.ops.context`, the one place that reads the process environment (``environ``
defaults to ``os.environ``; tests pass their own).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from editorial.guideline import guideline_for
from editorial.settings import Settings, SettingsError
from publish.ops.context import production_settings
from publish.posting.channels import Channel
from publish.settings import DeskSettings, desk_settings
from publish.store import Store, open_store
from publish.web import (
    access,
    auth,
    csrf,
    dashboard,
    display,
    i18n,
    inbox,
    notifications,
    portal,
    review_requests,
    sessions,
    users,
    webhook,
)
from publish.web.devserver import mask
from publish.web.state import (
    EXTENSION,
    Clock,
    Desk,
    Gate,
    csrf_token,
    current_role,
    gate,
    set_cookie,
    utc_now,
)

logger = logging.getLogger(__name__)

# the names of the environment variables, not secrets
ENV_SECRET_KEY = "DP_DESK_SECRET_KEY"  # noqa: S105
ENV_APP_SECRET = "DP_FACEBOOK_APP_SECRET"  # noqa: S105
ENV_VERIFY_TOKEN = "DP_FACEBOOK_VERIFY_TOKEN"  # noqa: S105
MIN_SECRET_LENGTH = 32


def _secret(environ: Mapping[str, str]) -> bytes:
    value = environ.get(ENV_SECRET_KEY, "")
    if len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"{ENV_SECRET_KEY} must be set in the environment to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return value.encode("utf-8")


def create_app(
    settings_path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    channels: dict[str, Channel] | None = None,
    store: Store | None = None,
    site_key: str | None = None,
    options: DeskSettings | None = None,
) -> Flask:
    """The desk for the site of ``settings_path`` (its publishconf.py when there is one).

    ``clock`` and ``channels`` replace the wall clock and the channels built from the
    environment's credentials (tests); ``store`` an opened store. ``site_key`` makes it
    one site's desk in an agency desk (:mod:`publish.web.agency` mounts it under
    ``/sites/<key>``): roles are then the accounts' roles on that site, and ``options``
    the agency's ``DESK`` options, whose cookie, session and login limits replace the
    site's own, so every mounted desk sets and reads the same cookies. Raises
    :class:`SettingsError` for bad settings or a missing secret key.
    """
    env = os.environ if environ is None else environ
    settings = production_settings(Path(settings_path))
    options = (
        shared_options(desk_settings(settings), options) if options else desk_settings(settings)
    )
    opened = store if store is not None else open_store(settings)
    state = Desk(
        settings=settings,
        options=options,
        store=opened,
        guideline=guideline_for(settings),
        secret=_secret(env),
        app_secret=env[ENV_APP_SECRET].encode("utf-8") if env.get(ENV_APP_SECRET) else None,
        verify_token=env.get(ENV_VERIFY_TOKEN) or None,
        environ=env,
        clock=clock or utc_now,
        fixed_channels=channels,
        site_key=site_key,
    )
    app = Flask(__name__)
    configure(app, state)
    _register(app)
    _warm(settings)
    logger.info(
        "desk for %s on store %s (secure cookies: %s)",
        settings_path,
        opened.masked_url,
        options.secure_cookies,
    )
    return app


def shared_options(own: DeskSettings, agency: DeskSettings) -> DeskSettings:
    """A mounted site's ``DESK``: its own, with the agency's cookies, sessions and login
    limits (one login for all: every part must set and read the same cookie)."""
    return dataclasses.replace(
        own,
        secure_cookies=agency.secure_cookies,
        session_hours=agency.session_hours,
        lockout_failures=agency.lockout_failures,
        lockout_minutes=agency.lockout_minutes,
        address_failures=agency.address_failures,
        proxy_hops=agency.proxy_hops,
    )


def configure(app: Flask, state: Gate) -> None:
    """What a site's desk and the agency desk's pages share: the state, the cookie and
    proxy settings, the guard and the headers of every request, the error pages and the
    catalogs."""
    options = state.options
    app.extensions[EXTENSION] = state
    # Flask's signed-cookie session carries only the one-time messages after an action
    # (flash); who is logged in lives in the store (publish.web.sessions)
    app.config.update(
        SECRET_KEY=state.secret,
        SESSION_COOKIE_NAME=state.cookie_name + "-flash",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=options.secure_cookies,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if options.proxy_hops:
        hops = options.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    app.before_request(_guard)
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _error_page)
    i18n.install(app)
    app.context_processor(_page_helpers)


def _page_helpers() -> dict[str, Any]:
    state = gate()
    zone = state.zone
    return {
        "user": g.get("user"),
        "role": g.get("role"),
        "csrf_token": csrf_token,
        "now": state.now(),
        "may": lambda rule: g.get("role") is not None and g.role in getattr(access, rule),
        "local": lambda moment, pattern=None: display.local(moment, zone, pattern, i18n.language()),
        "countdown": lambda due: display.countdown(due, state.now()),
        "site_name": state.title,
        "zone_name": str(zone),
        "agency_pages": state.agency_pages,
        "agency_home": state.agency_home(),
    }


def _warm(settings: Settings) -> None:
    """Load now what the first requests would otherwise load while a moderator waits:
    X's text rules (the reply's live length check, ~0.6 s), the German and English
    catalogs and their locales' date data. A desk is a server; its start may take it."""
    from babel.dates import format_datetime

    from editorial import i18n
    from editorial.length import measure

    measure("warm", "twitter")
    for language in ("de", "en"):
        i18n.translations(language)
        format_datetime(datetime.now(UTC), locale=language)
    i18n.translations(i18n.site_language(settings))


def _register(app: Flask) -> None:
    for blueprint in (
        auth.blueprint,
        inbox.blueprint,
        dashboard.blueprint,
        users.blueprint,
        webhook.blueprint,
        portal.blueprint,
        review_requests.blueprint,
        notifications.blueprint,
    ):
        app.register_blueprint(blueprint)
    app.add_url_rule("/", "home", _home)


@access.requires(access.EVERYONE)
def _home() -> BaseResponse:
    """Where a login lands: the inbox for those who work it, else the dashboard."""
    if current_role() in access.READ_INBOX:
        return redirect(url_for("inbox.index"))
    return redirect(url_for("dashboard.index"))


def _guard() -> BaseResponse | None:
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions[request.endpoint]
    state = gate()
    g.user = None
    g.role = None
    g.session_token = None
    token = request.cookies.get(state.cookie_name)
    if token:
        with state.store.read() as session:
            g.user = sessions.user_for(session, token, state.now())
            if g.user is not None:
                g.role = state.role_for(session, g.user)
        if g.user is not None:
            g.session_token = token
    binding = g.session_token or _portal_binding() or request.cookies.get(state.csrf_cookie_name)
    if binding is None:
        binding = csrf.new_binding()
        g.new_csrf_binding = binding
    g.csrf_binding = binding
    roles = access.roles_of(view)
    if roles is not None and g.user is None:
        if request.method in access.SAFE_METHODS:
            wanted = request.full_path if request.query_string else request.path
            # under a mount (an agency desk's /sites/<key>) the way back includes it
            wanted = request.script_root + wanted
            return redirect(url_for("auth.login", next=wanted))
        return redirect(url_for("auth.login"))
    if roles is not None and g.role is None:
        # an agency desk's site the account has no role on: nothing of it, not even
        # whether a comment exists, and before the CSRF check so every method gets 403
        logger.info(
            "desk: %s refused %s %s: no role on this site",
            g.user.email,
            request.method,
            mask(request.path),
        )
        return _error_page(Forbidden(i18n._("You have no role on this site.")))
    if access.needs_csrf(view, request.method):
        presented = request.form.get(csrf.FIELD) or request.headers.get(csrf.HEADER)
        if not csrf.valid(state.secret, binding, presented):
            # masked: the path of a portal link holds its unused token
            logger.warning(
                "desk: %s %s refused: missing or wrong CSRF token",
                request.method,
                mask(request.path),
            )
            return _error_page(
                BadRequest(
                    i18n._(
                        "The form was stale or not sent by this desk. "
                        "Reload the page and try again."
                    )
                )
            )
    if roles is not None and g.role not in roles:
        return _error_page(Forbidden(i18n._("Your role may not do this.")))
    if (
        g.user is not None
        and g.user.must_change_password
        and request.endpoint not in ("auth.password", "auth.logout")
    ):
        return redirect(url_for("auth.password"))
    if isinstance(state, Desk) and request.blueprint == "users":
        # accounts are the agency's: an agency desk manages them on its own pages
        agency = state.agency_url("/admin/users")
        if agency is not None:
            return redirect(agency)
    return None


def _portal_binding() -> str | None:
    """In the approval portal, forms are bound to the review's portal session."""
    if request.blueprint != "portal" or not request.view_args:
        return None
    review_id = request.view_args.get("review_id")
    return (
        request.cookies.get(portal.cookie_name(review_id)) if isinstance(review_id, int) else None
    )


def _error_page(error: HTTPException) -> BaseResponse:
    code = error.code or 500
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return Response(
            json.dumps({"error": error.description}), status=code, mimetype="application/json"
        )
    body = render_template("error.html", code=code, name=error.name, message=error.description)
    return Response(body, status=code, mimetype="text/html")


def _headers(response: Response) -> Response:
    state = gate()
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # inbox pages carry people's comments: no copies in shared caches or the history
        response.headers.setdefault("Cache-Control", "no-store")
    if state.options.secure_cookies:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    binding = g.get("new_csrf_binding")
    if binding is not None and g.get("session_token") is None:
        set_cookie(response, state.csrf_cookie_name, binding, max_age=None)
    return response

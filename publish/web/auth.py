"""Logging in and out, and changing one's password."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from publish.web import access, accounts, sessions
from publish.web.i18n import _
from publish.web.state import current_user, gate, safe_next, set_cookie

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
@access.public()
def login() -> BaseResponse | tuple[str, int] | str:
    state = gate()
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.user is not None:
            return redirect(target or url_for("home"))
        return render_template("login.html", next=target, email="", problem=None)
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    now = state.now()
    with state.store.transaction() as session:
        result = accounts.login(
            session, email, password, request.remote_addr or "unknown", now, state.throttle
        )
        token = None
        if result.user is not None:
            lifetime = timedelta(hours=state.options.session_hours)
            token = sessions.start(session, result.user.id, now, lifetime)
    if result.user is None or token is None:
        status = 429 if result.address_blocked else 401 if result.locked_until is None else 423
        page = render_template("login.html", next=target, email=email, problem=result.problem)
        return page, status
    response = redirect(target or url_for("home"))
    set_cookie(response, state.cookie_name, token, max_age=state.options.session_hours * 3600)
    response.delete_cookie(state.csrf_cookie_name, path="/")
    return response


@blueprint.route("/logout", methods=["POST"])
@access.requires(access.EVERYONE)
def logout() -> BaseResponse:
    state = gate()
    with state.store.transaction() as session:
        sessions.end(session, g.session_token)
    response = redirect(url_for("auth.login", out="1"))
    response.delete_cookie(state.cookie_name, path="/", secure=state.options.secure_cookies)
    return response


@blueprint.route("/account/password", methods=["GET", "POST"])
@access.requires(access.EVERYONE)
def password() -> BaseResponse | tuple[str, int] | str:
    state = gate()
    user = current_user()
    if request.method == "GET":
        return render_template("password.html", problem=None)
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return render_template("password.html", problem=_("The two new passwords differ.")), 422
    now = state.now()
    try:
        with state.store.transaction() as session:
            accounts.change_password(
                session, user.id, request.form.get("current_password", ""), new, now
            )
            # every session of the account ended with the change; this browser goes on
            lifetime = timedelta(hours=state.options.session_hours)
            token = sessions.start(session, user.id, now, lifetime)
    except accounts.AccountError as exc:
        return render_template("password.html", problem=f"{str(exc).capitalize()}."), 422
    response = redirect(url_for("home"))
    set_cookie(response, state.cookie_name, token, max_age=state.options.session_hours * 3600)
    return response

"""Account administration for admins: who has access with which role, new accounts, and
password resets. A new or reset password is random, shown once, and must be changed at
the first login, so an admin never knows a password in use."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from publish.store.errors import Conflict, NotFound
from publish.web import access, accounts
from publish.web.state import current_user, gate

blueprint = Blueprint("users", __name__)


def page(status: int = 200, **extra: object) -> tuple[str, int]:
    state = gate()
    with state.store.transaction() as session:
        users = accounts.all_users(session)
        sites = state.account_sites(session)
    values: dict[str, object] = {
        "problem": None,
        "issued": None,
        "issued_for": None,
        "agency": sites,
    }
    values.update(extra)
    return render_template("users.html", users=users, roles=accounts.ROLES, **values), status


@blueprint.route("/admin/users")
@access.requires(access.MANAGE_USERS)
def index() -> tuple[str, int]:
    return page()


@blueprint.route("/admin/users", methods=["POST"])
@access.requires(access.MANAGE_USERS)
def add() -> BaseResponse | tuple[str, int]:
    state = gate()
    email = request.form.get("email", "")
    password = accounts.temporary_password()
    try:
        with state.store.transaction() as session:
            user = accounts.add_user(
                session,
                email,
                request.form.get("role", ""),
                password,
                state.now(),
                actor=current_user().email,
                name=request.form.get("name") or None,
            )
    except accounts.AccountError as exc:
        return page(422, problem=f"{str(exc).capitalize()}.")
    return page(201, issued=password, issued_for=user.email)


@blueprint.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@access.requires(access.MANAGE_USERS)
def reset(user_id: int) -> BaseResponse | tuple[str, int]:
    state = gate()
    password = accounts.temporary_password()
    try:
        with state.store.transaction() as session:
            user = accounts.get(session, user_id)
            if user is None:
                raise NotFound(f"no account {user_id}")
            accounts.reset_password(
                session, user.email, password, state.now(), actor=current_user().email
            )
    except (NotFound, Conflict) as exc:
        return page(409, problem=f"{str(exc).capitalize()}.")
    return page(issued=password, issued_for=user.email)

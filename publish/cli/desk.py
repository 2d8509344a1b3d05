"""The desk and its accounts: ``desk`` serves the web application, ``user`` manages who
may log in to it."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import click

from editorial.settings import SettingsError, settings_root
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    emit_json,
    fail,
    format_option,
    settings_option,
)
from publish.ops.context import actor, production_settings
from publish.settings import desk_settings
from publish.store import Store, StoreError, open_store
from publish.store.errors import NotFound
from publish.store.models import Role

# the desk (Flask) is imported by the commands that need it, not by every `dialogpress`
ROLES = tuple(role.value for role in Role)


@main.command("desk")
@click.option("--host", help="Address to listen on (default: DESK['host'], 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: DESK['port'], 8780).")
@settings_option
def desk_command(host: str | None, port: int | None, settings_path: str) -> None:
    """Serve the desk: the moderators' inbox and the agency's dashboard, in the browser.

    This is Werkzeug's server, for one machine or a small team; in production run the
    desk under a WSGI server behind TLS (README, "The desk"). Needs DP_DESK_SECRET_KEY
    in the environment, and an account (`dialogpress user add`).

    Example:

        DP_DESK_SECRET_KEY=... dialogpress desk --port 8780
    """
    from publish.web import create_app
    from publish.web.devserver import serve

    try:
        app = create_app(settings_path)
    except (SettingsError, StoreError) as exc:
        fail(str(exc), EXIT_USAGE)
    options = desk_settings(production_settings(settings_path))
    bind = host or options.host
    chosen = port or options.port
    click.echo(f"dialogpress desk on http://{bind}:{chosen}/ (Ctrl-C stops it)", err=True)
    serve(app, bind, chosen)


@main.group("user")
def user_group() -> None:
    """Accounts of the desk: add people with a role, reset passwords, list them.

    Roles: admin (everything, accounts), moderator (the inbox), approver (reads the
    inbox, approves replies in sensitive categories), editor (dashboard, late pieces).

    Example:

        dialogpress user add lena.berger@agentur-kranich.example --role moderator
    """


def _store(settings_path: str) -> Store:
    try:
        return open_store(production_settings(settings_path))
    except (SettingsError, StoreError) as exc:
        fail(str(exc), EXIT_USAGE)


def _who(settings_path: str) -> str:
    """Who acts, for the audit log: DP_ACTOR or git's user.email, as for other commands."""
    return actor(None, os.environ, settings_root(production_settings(settings_path)))


@user_group.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the person may do.")
@click.option("--name", help="The person's name, shown in the desk.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of making a temporary one.",
)
@settings_option
def user_add_command(
    email: str, role: str, name: str | None, password_stdin: bool, settings_path: str
) -> None:
    """Give a person an account of the desk with a role.

    Without --password-stdin a random temporary password is printed once; the person
    must replace it at the first login.

    Example:

        dialogpress user add jonas.meier@agentur-kranich.example --role moderator
    """
    from publish.web import accounts

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    issued = password or accounts.temporary_password()
    store = _store(settings_path)
    try:
        with store.transaction() as session:
            user = accounts.add_user(
                session,
                email,
                role,
                issued,
                datetime.now(UTC),
                actor=_who(settings_path),
                name=name,
                must_change=password is None,
            )
    except accounts.AccountError as exc:
        fail(str(exc), EXIT_USAGE)
    finally:
        store.dispose()
    click.echo(f"added {user.email} as {user.role}")
    if password is None:
        click.echo(f"temporary password (shown once, to be changed at first login): {issued}")


@user_group.command("reset-password")
@click.argument("email")
@settings_option
def user_reset_command(email: str, settings_path: str) -> None:
    """Give an account a new temporary password; its sessions end and its lock is lifted.

    Example:

        dialogpress user reset-password lena.berger@agentur-kranich.example
    """
    from publish.web import accounts

    issued = accounts.temporary_password()
    store = _store(settings_path)
    try:
        with store.transaction() as session:
            user = accounts.reset_password(
                session, email, issued, datetime.now(UTC), actor=_who(settings_path)
            )
    except NotFound as exc:
        fail(str(exc), EXIT_FINDINGS)
    finally:
        store.dispose()
    click.echo(f"password of {user.email} reset")
    click.echo(f"temporary password (shown once, to be changed at first login): {issued}")


@user_group.command("list")
@format_option("text", "json")
@settings_option
def user_list_command(output_format: str, settings_path: str) -> None:
    """Everyone with an account of the desk, with role, last login and lock.

    Example:

        dialogpress user list --format json
    """
    from publish.web import accounts

    store = _store(settings_path)
    try:
        with store.transaction() as session:
            users = accounts.all_users(session)
    finally:
        store.dispose()
    rows = [
        {
            "email": u.email,
            "name": u.name,
            "role": u.role,
            "must_change_password": u.must_change_password,
            "locked_until": u.locked_until.isoformat(timespec="seconds")
            if u.locked_until
            else None,
            "last_login_at": u.last_login_at.isoformat(timespec="seconds")
            if u.last_login_at
            else None,
            "created_at": u.created_at.isoformat(timespec="seconds"),
        }
        for u in users
    ]
    if output_format == "json":
        emit_json(rows)
        return
    for row in rows:
        extra = " (must change password)" if row["must_change_password"] else ""
        locked = f" locked until {row['locked_until']}" if row["locked_until"] else ""
        click.echo(f"{row['email']:<40} {row['role']:<10}{extra}{locked}")

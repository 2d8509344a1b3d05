"""The desk and its accounts: ``desk`` serves the web application, ``user`` manages who
may log in to it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from editorial.settings import SettingsError, settings_root
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    agency_option,
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
from publish.web.agency_file import Agency, AgencyError, load_agency

F = TypeVar("F", bound=Callable[..., Any])

# the desk (Flask) is imported by the commands that need it, not by every `dialogpress`
ROLES = tuple(role.value for role in Role)


@main.command("desk")
@click.option("--host", help="Address to listen on (default: DESK['host'], 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: DESK['port'], 8780).")
@agency_option(
    "Serve every site of this agency file: the overview at /, each site under /sites/KEY/."
)
@settings_option
def desk_command(
    host: str | None, port: int | None, agency_path: str | None, settings_path: str
) -> None:
    """Serve the desk: the moderators' inbox and the agency's dashboard, in the browser.

    With --agency, one desk for all clients: one login, the agency overview at /, each
    site's desk under /sites/KEY/, and each account sees the sites it has a role on
    (`dialogpress user grant`). Its DESK options (cookies, sessions, host, port) are
    the first site's.

    This is Werkzeug's server, for one machine or a small team; in production run the
    desk under a WSGI server behind TLS (README, "The desk"). Needs DP_DESK_SECRET_KEY
    in the environment, and an account (`dialogpress user add`).

    Example:

        DP_DESK_SECRET_KEY=... dialogpress desk --port 8780
        DP_DESK_SECRET_KEY=... dialogpress desk --agency /etc/dialogpress/agency.yml
    """
    from publish.web import create_app
    from publish.web.devserver import serve

    if agency_path is not None:
        from publish.web.agency import create_agency_app

        agency = _agency(agency_path)
        settings_path = str(agency.settings_path(agency.sites[0]))
    try:
        app = create_agency_app(agency) if agency_path is not None else create_app(settings_path)
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


def _agency(agency_path: str) -> Agency:
    try:
        return load_agency(agency_path)
    except AgencyError as exc:
        fail(str(exc), EXIT_USAGE)


def _store(settings_path: str, agency_path: str | None = None) -> Store:
    """The site's store, or with an agency file the agency's (its accounts are there)."""
    try:
        if agency_path is not None:
            return Store(_agency(agency_path).database_url).upgrade()
        return open_store(production_settings(settings_path))
    except (SettingsError, StoreError) as exc:
        fail(str(exc), EXIT_USAGE)


def _who(settings_path: str, agency_path: str | None = None) -> str:
    """Who acts, for the audit log: DP_ACTOR or git's user.email, as for other commands."""
    if agency_path is not None:
        return actor(None, os.environ, Path(agency_path).resolve().parent)
    return actor(None, os.environ, settings_root(production_settings(settings_path)))


def _site_key(agency_path: str | None, site: str) -> str:
    """``site`` if the agency file lists it; a usage error otherwise."""
    if agency_path is None:
        fail("--site needs --agency FILE: roles per site belong to an agency desk", EXIT_USAGE)
    agency = _agency(agency_path)
    if agency.site(site) is None:
        known = ", ".join(s.key for s in agency.sites)
        fail(f"{agency_path}: no site {site!r} (the file lists {known})", EXIT_USAGE)
    return site


AGENCY_HELP = "The agency file: the account is the agency's (for `desk --agency`)."


@user_group.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the person may do.")
@click.option("--name", help="The person's name, shown in the desk.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of making a temporary one.",
)
@agency_option(AGENCY_HELP)
@click.option("--site", help="With --agency: give the account the role on this site too.")
@settings_option
def user_add_command(
    email: str,
    role: str,
    name: str | None,
    password_stdin: bool,
    agency_path: str | None,
    site: str | None,
    settings_path: str,
) -> None:
    """Give a person an account of the desk with a role.

    Without --password-stdin a random temporary password is printed once; the person
    must replace it at the first login. With --agency the account is the agency desk's:
    its role there is --role (admin: accounts and roles), and --site gives it the same
    role on one site (`user grant` for more).

    Example:

        dialogpress user add jonas.meier@agentur-kranich.example --role moderator
        dialogpress user add lena.berger@agentur-kranich.example --role moderator \\
            --agency agency.yml --site baeckerei-mueller
    """
    from publish.web import accounts, site_roles

    if site is not None:
        _site_key(agency_path, site)
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    issued = password or accounts.temporary_password()
    store = _store(settings_path, agency_path)
    who = _who(settings_path, agency_path)
    try:
        with store.transaction() as session:
            now = datetime.now(UTC)
            user = accounts.add_user(
                session,
                email,
                role,
                issued,
                now,
                actor=who,
                name=name,
                must_change=password is None,
            )
            if site is not None:
                site_roles.grant(session, user.email, site, role, who, now)
    except accounts.AccountError as exc:
        fail(str(exc), EXIT_USAGE)
    finally:
        store.dispose()
    click.echo(f"added {user.email} as {user.role}" + (f" (and on {site})" if site else ""))
    if password is None:
        click.echo(f"temporary password (shown once, to be changed at first login): {issued}")


@user_group.command("grant")
@click.argument("email")
@agency_option("The agency file.", required=True)
@click.option("--site", required=True, help="The site's key in the agency file.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The role on that site.")
def user_grant_command(email: str, agency_path: str, site: str, role: str) -> None:
    """Give an account of the agency desk a role on one site (replacing the one it had).

    Example:

        dialogpress user grant lena.berger@agentur-kranich.example --agency agency.yml \\
            --site autohaus-schmidt --role editor
    """
    from publish.web import accounts, site_roles

    _site_key(agency_path, site)
    store = _store("", agency_path)
    try:
        with store.transaction() as session:
            site_roles.grant(session, email, site, role, _who("", agency_path), datetime.now(UTC))
    except accounts.AccountError as exc:
        fail(str(exc), EXIT_USAGE)
    except NotFound as exc:
        fail(str(exc), EXIT_FINDINGS)
    finally:
        store.dispose()
    click.echo(f"{accounts.normalize_email(email)} is {role} on {site}")


@user_group.command("revoke")
@click.argument("email")
@agency_option("The agency file.", required=True)
@click.option("--site", required=True, help="The site's key in the agency file.")
def user_revoke_command(email: str, agency_path: str, site: str) -> None:
    """Take an account's role on one site away: it sees nothing of that site any more.

    Example:

        dialogpress user revoke lena.berger@agentur-kranich.example --agency agency.yml \\
            --site autohaus-schmidt
    """
    from publish.web import accounts, site_roles

    store = _store("", agency_path)
    try:
        with store.transaction() as session:
            removed = site_roles.revoke(
                session, email, site, _who("", agency_path), datetime.now(UTC)
            )
    except NotFound as exc:
        fail(str(exc), EXIT_FINDINGS)
    finally:
        store.dispose()
    address = accounts.normalize_email(email)
    if not removed:
        fail(f"{address} had no role on {site}", EXIT_FINDINGS)
    click.echo(f"{address} has no role on {site} any more")


@user_group.command("reset-password")
@click.argument("email")
@agency_option(AGENCY_HELP)
@settings_option
def user_reset_command(email: str, agency_path: str | None, settings_path: str) -> None:
    """Give an account a new temporary password; its sessions end and its lock is lifted.

    Example:

        dialogpress user reset-password lena.berger@agentur-kranich.example
    """
    from publish.web import accounts

    issued = accounts.temporary_password()
    store = _store(settings_path, agency_path)
    try:
        with store.transaction() as session:
            user = accounts.reset_password(
                session, email, issued, datetime.now(UTC), actor=_who(settings_path, agency_path)
            )
    except NotFound as exc:
        fail(str(exc), EXIT_FINDINGS)
    finally:
        store.dispose()
    click.echo(f"password of {user.email} reset")
    click.echo(f"temporary password (shown once, to be changed at first login): {issued}")


@user_group.command("list")
@format_option("text", "json")
@agency_option(AGENCY_HELP)
@settings_option
def user_list_command(output_format: str, agency_path: str | None, settings_path: str) -> None:
    """Everyone with an account of the desk, with role, last login and lock (and with
    --agency the role on each site).

    Example:

        dialogpress user list --format json
    """
    from publish.web import accounts, site_roles

    store = _store(settings_path, agency_path)
    try:
        with store.transaction() as session:
            users = accounts.all_users(session)
            per_site = site_roles.all_roles(session) if agency_path is not None else {}
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
            **({"sites": per_site.get(u.id, {})} if agency_path is not None else {}),
        }
        for u in users
    ]
    if output_format == "json":
        emit_json(rows)
        return
    for user, row in zip(users, rows, strict=True):
        extra = " (must change password)" if row["must_change_password"] else ""
        locked = f" locked until {row['locked_until']}" if row["locked_until"] else ""
        sites = per_site.get(user.id, {})
        roles = " " + ", ".join(f"{key}: {role}" for key, role in sites.items()) if sites else ""
        click.echo(f"{row['email']:<40} {row['role']:<10}{extra}{locked}{roles}")

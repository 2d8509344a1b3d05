"""Desk roles per site: in an agency desk an account's role on each client site.

An account (``desk_users``) belongs to the agency; what it may do on a site is the row of
``desk_site_roles`` for that site, and without one it sees nothing of the site (the guard
of :mod:`publish.web.app` answers 403 on every page of it). ``DeskUser.role`` stays the
account's role in the agency desk itself (an admin there manages accounts and roles) and
is the role on every page of a one-site desk, which never reads this table.

Granting and revoking are audited in the same transaction, like every account change.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from publish.store import audit
from publish.store.errors import NotFound
from publish.store.models import DeskSiteRole, DeskUser, Role
from publish.store.sites import SITE_KEY
from publish.web import accounts

logger = logging.getLogger(__name__)

ROLES = tuple(role.value for role in Role)


def _user(session: Session, email: str) -> DeskUser:
    user = accounts.by_email(session, email)
    if user is None:
        raise NotFound(f"there is no account {accounts.normalize_email(email)}")
    return user


def check_site_key(site: str) -> str:
    """``site`` if it is a site key (``[a-z0-9][a-z0-9-]{0,62}``), else AccountError."""
    if not SITE_KEY.fullmatch(site):
        raise accounts.AccountError(
            f"{site!r} is no site key (lower-case letters, digits and '-', at most 63)"
        )
    return site


def grant(
    session: Session, email: str, site: str, role: str, actor: str, now: datetime
) -> DeskSiteRole:
    """Give the account ``email`` the ``role`` on ``site`` (replacing a role it had there)."""
    if role not in ROLES:
        raise accounts.AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    check_site_key(site)
    user = _user(session, email)
    found = session.execute(
        select(DeskSiteRole).where(DeskSiteRole.user_id == user.id, DeskSiteRole.site == site)
    ).scalar_one_or_none()
    before = found.role if found is not None else None
    if found is None:
        found = DeskSiteRole(
            user_id=user.id, site=site, role=role, granted_by=actor, granted_at=now
        )
        session.add(found)
    else:
        found.role, found.granted_by, found.granted_at = role, actor, now
    session.flush()
    audit.record(
        session,
        actor,
        "desk-user.site-role-granted",
        accounts.SUBJECT,
        user.email,
        {"site": site, "role": role, "before": before},
        now,
    )
    logger.info("desk: %s granted %s the role %s on %s", actor, user.email, role, site)
    return found


def revoke(session: Session, email: str, site: str, actor: str, now: datetime) -> bool:
    """Take the account's role on ``site`` away; False when it had none."""
    user = _user(session, email)
    removed = role_on(session, user.id, site)
    if removed is None:
        return False
    session.execute(
        delete(DeskSiteRole).where(DeskSiteRole.user_id == user.id, DeskSiteRole.site == site)
    )
    audit.record(
        session,
        actor,
        "desk-user.site-role-revoked",
        accounts.SUBJECT,
        user.email,
        {"site": site, "role": removed},
        now,
    )
    logger.info("desk: %s revoked the role of %s on %s", actor, user.email, site)
    return True


def role_on(session: Session, user_id: int, site: str) -> str | None:
    """The account's role on ``site``, or None: no access to that site at all."""
    found: str | None = session.scalar(
        select(DeskSiteRole.role).where(DeskSiteRole.user_id == user_id, DeskSiteRole.site == site)
    )
    return found


def roles_of(session: Session, user_id: int) -> dict[str, str]:
    """The account's role by site key."""
    rows = session.execute(
        select(DeskSiteRole.site, DeskSiteRole.role)
        .where(DeskSiteRole.user_id == user_id)
        .order_by(DeskSiteRole.site)
    ).all()
    return {site: role for site, role in rows}


def all_roles(session: Session) -> dict[int, dict[str, str]]:
    """Every account's roles by site key, by account id."""
    found: dict[int, dict[str, str]] = {}
    rows = session.execute(
        select(DeskSiteRole.user_id, DeskSiteRole.site, DeskSiteRole.role).order_by(
            DeskSiteRole.site
        )
    ).all()
    for user_id, site, role in rows:
        found.setdefault(user_id, {})[site] = role
    return found


def site_members(session: Session, site: str) -> list[tuple[DeskUser, str]]:
    """The accounts with a role on ``site`` and that role, by e-mail address."""
    rows = session.execute(
        select(DeskUser, DeskSiteRole.role)
        .join(DeskSiteRole, DeskSiteRole.user_id == DeskUser.id)
        .where(DeskSiteRole.site == site)
        .order_by(DeskUser.email)
    ).all()
    return [(user, role) for user, role in rows]

"""Desk accounts in the store: people, roles, password hashes, and login throttling.

Passwords are hashed with argon2id (memory-hard, so a stolen table is slow to crack on
graphics cards) and never stored, logged or returned; a temporary password handed out
by an admin must be changed at first login, so afterwards only its owner knows it.

Throttling has two parts. An account is locked for a while after ``lockout_failures``
wrong passwords in a row (counted on the user row with one atomic UPDATE, so parallel
tries cannot slip past the limit); an address is refused after ``address_failures``
failures within the lock time, whichever accounts it tried. A name that is no account
gets the same lock after as many tries, counted in the attempts log, so the lock
message does not tell which addresses have an account.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from publish.store import audit
from publish.store.errors import Conflict, NotFound
from publish.store.models import DeskUser, LoginAttempt, Role
from publish.web import sessions
from publish.web.i18n import _

logger = logging.getLogger(__name__)

ROLES = tuple(role.value for role in Role)
MIN_PASSWORD_LENGTH = 12
# attempts older than this are deleted: long enough for an investigation of a break-in try
ATTEMPTS_KEPT = timedelta(days=30)
SUBJECT = "desk-user"

_hasher = PasswordHasher()
# verified against when the account does not exist, so that a wrong name costs as much
# time as a wrong password and timing does not tell which accounts exist
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about an account that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class Throttle:
    """The login limits from ``DESK``."""

    failures: int = 10
    lock: timedelta = timedelta(minutes=15)
    address_failures: int = 50


@dataclass(frozen=True)
class LoginResult:
    """What a login try came to: ``user`` on success, else ``problem`` for the page."""

    user: DeskUser | None
    problem: str | None = None
    locked_until: datetime | None = None
    address_blocked: bool = False


def normalize_email(email: str) -> str:
    return email.strip().lower()[:200]


def check_password_strength(password: str) -> None:
    """Raise :class:`AccountError` for a password too short to stand a guessing attack."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def temporary_password() -> str:
    """A random password to hand out once (about 120 bits)."""
    return secrets.token_urlsafe(15)


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get(session: Session, user_id: int) -> DeskUser | None:
    return session.get(DeskUser, user_id, populate_existing=True)


def by_email(session: Session, email: str) -> DeskUser | None:
    return session.scalars(
        select(DeskUser)
        .where(DeskUser.email == normalize_email(email))
        .execution_options(populate_existing=True)
    ).first()


def all_users(session: Session) -> list[DeskUser]:
    return list(session.scalars(select(DeskUser).order_by(DeskUser.email)))


def add_user(
    session: Session,
    email: str,
    role: str,
    password: str,
    now: datetime,
    *,
    actor: str,
    name: str | None = None,
    must_change: bool = True,
) -> DeskUser:
    """Create an account; :class:`AccountError` for a bad address, role or password, or
    an account that exists already."""
    address = normalize_email(email)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise AccountError(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    check_password_strength(password)
    if by_email(session, address) is not None:
        raise AccountError(f"{address} has an account already")
    user = DeskUser(
        email=address,
        name=name,
        role=role,
        password_hash=_hash(password),
        must_change_password=must_change,
        failed_logins=0,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "desk-user.added", SUBJECT, address, {"role": role}, now)
    logger.info("desk account %s added with role %s by %s", address, role, actor)
    return user


def reset_password(
    session: Session, email: str, password: str, now: datetime, *, actor: str
) -> DeskUser:
    """An admin sets a temporary password: the lock is lifted, every session of the
    account ends, and its owner must choose a new password at the next login."""
    check_password_strength(password)
    user = by_email(session, email)
    if user is None:
        raise NotFound(f"no desk account {normalize_email(email)}")
    _set_password(session, user, password, now, must_change=True)
    audit.record(session, actor, "desk-user.password-reset", SUBJECT, user.email, {}, now)
    logger.info("desk password of %s reset by %s", user.email, actor)
    return user


def change_password(
    session: Session, user_id: int, current: str, new: str, now: datetime
) -> DeskUser:
    """The owner changes their password; the current one must be right."""
    user = get(session, user_id)
    if user is None:
        raise NotFound(f"no desk account {user_id}")
    if not _verify(user.password_hash, current):
        raise AccountError("the current password is wrong")
    check_password_strength(new)
    if new == current:
        raise AccountError("the new password must differ from the current one")
    _set_password(session, user, new, now, must_change=False)
    audit.record(session, user.email, "desk-user.password-changed", SUBJECT, user.email, {}, now)
    return user


def _set_password(
    session: Session, user: DeskUser, password: str, now: datetime, *, must_change: bool
) -> None:
    changed = _rowcount(
        session,
        update(DeskUser)
        .where(DeskUser.id == user.id, DeskUser.password_hash == user.password_hash)
        .values(
            password_hash=_hash(password),
            must_change_password=must_change,
            failed_logins=0,
            locked_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False),
    )
    if changed != 1:
        raise Conflict(f"the password of {user.email} was changed by someone else meanwhile")
    sessions.end_all(session, user.id)
    session.refresh(user)


def _rowcount(session: Session, statement: Any) -> int:
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def _record_attempt(
    session: Session, email: str, address: str, succeeded: bool, now: datetime
) -> None:
    session.add(LoginAttempt(at=now, email=email, address=address[:64], succeeded=succeeded))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - ATTEMPTS_KEPT))
    session.flush()


def _failures_since(session: Session, since: datetime, **where: str) -> int:
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))
    )
    for column, value in where.items():
        query = query.where(getattr(LoginAttempt, column) == value)
    return int(session.scalar(query) or 0)


def _unknown_locked_until(
    session: Session, email: str, now: datetime, throttle: Throttle
) -> datetime | None:
    since = now - throttle.lock
    if _failures_since(session, since, email=email) < throttle.failures:
        return None
    last = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(False)
        )
    )
    return (last + throttle.lock) if last is not None else None


def login(
    session: Session,
    email: str,
    password: str,
    address: str,
    now: datetime,
    throttle: Throttle,
) -> LoginResult:
    """Check a login; every try is recorded (without the password)."""
    typed = normalize_email(email)
    if _failures_since(session, now - throttle.lock, address=address) >= throttle.address_failures:
        logger.warning("desk login from %s refused: too many failed logins", address)
        _record_attempt(session, typed, address, False, now)
        return LoginResult(
            None,
            "Too many failed logins from your address; try again later.",
            address_blocked=True,
        )
    user = by_email(session, typed)
    if user is None:
        _verify(_DUMMY_HASH, password)
        locked = _unknown_locked_until(session, typed, now, throttle)
        _record_attempt(session, typed, address, False, now)
        if locked is not None:
            return LoginResult(None, _locked_message(locked), locked_until=locked)
        logger.info("desk login failed for %s from %s", typed, address)
        return LoginResult(None, _("The e-mail address or the password is wrong."))
    if user.locked_until is not None and user.locked_until > now:
        # the full argon2 time, as for an unknown name and a wrong password: a quick
        # answer would tell which addresses have a (locked) account
        _verify(_DUMMY_HASH, password)
        _record_attempt(session, typed, address, False, now)
        return LoginResult(None, _locked_message(user.locked_until), locked_until=user.locked_until)
    if not _verify(user.password_hash, password):
        _record_attempt(session, typed, address, False, now)
        return _failed(session, user, address, now, throttle)
    session.execute(
        update(DeskUser)
        .where(DeskUser.id == user.id)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
        .execution_options(synchronize_session=False)
    )
    _record_attempt(session, typed, address, True, now)
    logger.info("desk login of %s from %s", user.email, address)
    session.refresh(user)
    return LoginResult(user)


def _failed(
    session: Session, user: DeskUser, address: str, now: datetime, throttle: Throttle
) -> LoginResult:
    # one statement counts the failure and locks at the limit, so that parallel wrong
    # passwords cannot each see "one below the limit"
    session.execute(
        update(DeskUser)
        .where(DeskUser.id == user.id)
        .values(failed_logins=DeskUser.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )
    locked = _rowcount(
        session,
        update(DeskUser)
        .where(DeskUser.id == user.id, DeskUser.failed_logins >= throttle.failures)
        .values(failed_logins=0, locked_until=now + throttle.lock, updated_at=now)
        .execution_options(synchronize_session=False),
    )
    logger.info("desk login failed for %s from %s", user.email, address)
    if locked:
        until = now + throttle.lock
        logger.warning(
            "desk account %s locked until %s after %s failed logins",
            user.email,
            until.isoformat(timespec="seconds"),
            throttle.failures,
        )
        audit.record(
            session,
            audit.SYSTEM,
            "desk-user.locked",
            SUBJECT,
            user.email,
            {"until": until.isoformat(), "address": address},
            now,
        )
        return LoginResult(None, _locked_message(until), locked_until=until)
    return LoginResult(None, _("The e-mail address or the password is wrong."))


def _locked_message(until: datetime) -> str:
    return _(
        "Too many failed logins: this account is locked for a while (until %(until)s UTC). "
        "An admin can reset the password.",
        until=until.strftime("%H:%M"),
    )

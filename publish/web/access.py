"""Who may reach which route: every view declares its roles, one guard enforces them.

The guard runs before every request, in this order: a route that needs a login sends an
anonymous browser to the login page; a state-changing request (anything but GET/HEAD/
OPTIONS) without a valid CSRF token is refused with 400; a role the route does not list
gets 403. Declaring is mandatory: a view with neither :func:`requires` nor
:func:`public` is refused to everyone, so a forgotten declaration fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from publish.store.models import Role

F = TypeVar("F", bound=Callable[..., Any])

ADMIN = Role.ADMIN.value
MODERATOR = Role.MODERATOR.value
EDITOR = Role.EDITOR.value
APPROVER = Role.APPROVER.value
EVERYONE = frozenset(role.value for role in Role)

# The desk's rules, by what a route does (the test's route × role table checks them).
READ_DASHBOARD = EVERYONE
READ_INBOX = frozenset({ADMIN, MODERATOR, APPROVER})
MODERATE = frozenset({ADMIN, MODERATOR})
# a reply to a sensitive comment waits for a second person; moderation makes sure the
# second person is not the one who wrote it
APPROVE_REPLY = frozenset({ADMIN, MODERATOR, APPROVER})
DECIDE_LATE = frozenset({ADMIN, EDITOR})
MANAGE_USERS = frozenset({ADMIN})
# review requests for the approval portal: everyone sees them, editors send them
READ_REVIEWS = EVERYONE
REQUEST_REVIEW = frozenset({ADMIN, EDITOR})
# the notifications list: everyone; those about comments only for READ_INBOX (the view)
READ_NOTIFICATIONS = EVERYONE

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def requires(roles: frozenset[str]) -> Callable[[F], F]:
    """The view needs a login with one of ``roles``."""

    def mark(view: F) -> F:
        view.desk_roles = roles  # type: ignore[attr-defined]
        return view

    return mark


def public(*, csrf: bool = True) -> Callable[[F], F]:
    """The view needs no login (login page, webhook). ``csrf=False`` only for callers
    that prove themselves otherwise (the webhook's signature)."""

    def mark(view: F) -> F:
        view.desk_public = True  # type: ignore[attr-defined]
        view.desk_csrf = csrf  # type: ignore[attr-defined]
        return view

    return mark


def roles_of(view: Callable[..., Any]) -> frozenset[str] | None:
    """The roles a view admits; None for a public view; empty for an undeclared one."""
    if getattr(view, "desk_public", False):
        return None
    return frozenset(getattr(view, "desk_roles", frozenset()))


def needs_csrf(view: Callable[..., Any], method: str) -> bool:
    return method not in SAFE_METHODS and bool(getattr(view, "desk_csrf", True))

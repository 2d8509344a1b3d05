"""Who may use which route: the route × role table, CSRF on every state change, and the
login page for everyone else."""

from __future__ import annotations

import pytest

from publish.web import access
from tests.publish.web.conftest import ROLES, Desk

ALL = set(ROLES)
INBOX = {"admin", "moderator", "approver"}
MODERATE = {"admin", "moderator"}

# (method, path, the roles that may use it); {id} is a comment, {reply} a reply of it.
# This is the specification: the desk's declarations are checked against it, and every
# route of the app must be in it.
ROUTES: list[tuple[str, str, set[str]]] = [
    ("GET", "/", ALL),
    ("GET", "/dashboard", ALL),
    ("GET", "/dashboard?view=month", ALL),
    ("POST", "/dashboard/late/release", {"admin", "editor"}),
    ("POST", "/dashboard/late/skip", {"admin", "editor"}),
    ("GET", "/inbox", INBOX),
    ("GET", "/inbox/{id}", INBOX),
    ("POST", "/inbox/{id}/approve", MODERATE),
    ("POST", "/inbox/{id}/reject", MODERATE),
    ("POST", "/inbox/{id}/silence", MODERATE),
    ("POST", "/inbox/{id}/escalate", MODERATE),
    ("POST", "/inbox/{id}/resolve", MODERATE),
    ("POST", "/inbox/{id}/assign", MODERATE),
    ("POST", "/inbox/{id}/reply", MODERATE),
    ("POST", "/inbox/{id}/reply/check", MODERATE),
    ("POST", "/inbox/replies/{reply}/approve", {"admin", "moderator", "approver"}),
    ("GET", "/admin/users", {"admin"}),
    ("POST", "/admin/users", {"admin"}),
    ("POST", "/admin/users/1/reset-password", {"admin"}),
    ("GET", "/account/password", ALL),
    ("POST", "/account/password", ALL),
    ("POST", "/logout", ALL),
    ("GET", "/reviews", ALL),
    ("POST", "/reviews", {"admin", "editor"}),
    ("GET", "/notifications", ALL),
    ("GET", "/notifications?status=doubt", ALL),
]
# public routes: the login page, Facebook's webhook (which proves itself by signature) and
# the approval portal (its magic links and portal sessions; tests/publish/web/test_portal.py)
PUBLIC = {
    "/login",
    "/webhooks/facebook",
    "/portal/<int:review_id>/<token>",
    "/portal/<int:review_id>",
    "/portal/<int:review_id>/approve",
    "/portal/<int:review_id>/changes",
    "/portal/<int:review_id>/preview/<sha>/<path:name>",
}
FORM = {
    "expected_state": "new",
    "reason": "troll",
    "contact": "presse",
    "to": "moderator@agentur-kranich.example",
    "text": "Danke, wir kümmern uns darum.",
    "piece": "social/none.md",
    "channel": "facebook",
    "email": "new.person@agentur-kranich.example",
    "role": "editor",
    "current_password": "wrong password here",
    "new_password": "a new password of some length",
    "confirm_password": "a new password of some length",
}


def _path(desk: Desk, template: str) -> str:
    comment = desk.comment()
    return template.format(id=comment, reply=_reply(desk, comment))


def _reply(desk: Desk, comment_id: int) -> int:
    from publish import moderation
    from publish.web.state import desk as current

    with desk.app.app_context():
        guideline = current().guideline
    return moderation.reply(
        desk.store,
        guideline,
        comment_id,
        "Wir melden uns.",
        actor="someone@example.org",
        now=desk.clock.now,
    ).id


@pytest.mark.parametrize("method,template,allowed", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_admits_exactly_its_roles(
    desk: Desk, method: str, template: str, allowed: set[str]
) -> None:
    path = _path(desk, template)
    for role in ROLES:
        client = desk.login(role)
        response = client.get(path) if method == "GET" else client.post(path, FORM)
        if role in allowed:
            assert response.status_code not in (400, 403, 500), (role, response.status_code)
        else:
            assert response.status_code == 403, (role, response.status_code)


@pytest.mark.parametrize("template", [p for m, p, _ in ROUTES if m == "POST"])
def test_every_state_change_needs_a_valid_csrf_token(desk: Desk, template: str) -> None:
    path = _path(desk, template)
    client = desk.login("admin")
    assert client.post(path, FORM, csrf=False).status_code == 400
    forged = {**FORM, "csrf_token": "0" * 64}
    assert client.post(path, forged, csrf=False).status_code == 400
    # a token of another session does not count either
    other = desk.login("moderator")
    stolen = {**FORM, "csrf_token": other.token}
    assert client.post(path, stolen, csrf=False).status_code == 400


@pytest.mark.parametrize("method,template", [(m, p) for m, p, _ in ROUTES])
def test_without_a_login_every_route_goes_to_the_login_page(
    desk: Desk, method: str, template: str
) -> None:
    path = _path(desk, template)
    client = desk.client()
    response = client.get(path) if method == "GET" else client.post(path, FORM)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_table_covers_every_route_and_the_app_declares_the_same_roles(desk: Desk) -> None:
    rules = {
        (rule.rule, method)
        for rule in desk.app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    covered = set()
    for method, template, allowed in ROUTES:
        path = template.split("?")[0].format(id=1, reply=1)
        adapter = desk.app.url_map.bind("localhost")
        endpoint, _args = adapter.match(path, method=method)
        view = desk.app.view_functions[endpoint]
        assert access.roles_of(view) == frozenset(allowed), (method, template)
        rule = next(r for r in desk.app.url_map.iter_rules() if r.endpoint == endpoint)
        covered.add((rule.rule, method))
    public = {(rule, method) for rule, method in rules if rule in PUBLIC}
    assert rules - covered - public == set(), "routes missing from the table"
    for rule in desk.app.url_map.iter_rules():
        if rule.endpoint != "static":
            view = desk.app.view_functions[rule.endpoint]
            assert getattr(view, "desk_public", False) or getattr(view, "desk_roles", None)


def test_a_login_redirect_keeps_the_page_and_never_leaves_the_site(desk: Desk) -> None:
    client = desk.client()
    response = client.get("/inbox?channel=facebook")
    assert response.headers["Location"] == "/login?next=/inbox?channel%3Dfacebook"
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client = desk.client()
        client.get("/login")
        response = client.post(
            "/login",
            {
                "email": "moderator@agentur-kranich.example",
                "password": "correct horse battery staple",
                "next": target,
            },
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target


def test_pages_forbid_framing_inline_scripts_and_caching(desk: Desk) -> None:
    response = desk.login("moderator").get("/inbox")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

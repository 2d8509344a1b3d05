"""The agency desk over Flask's test client: one login for every client site, roles per
site (no role: 403 on every page of the site, JSON and POST included), the overview
across sites by due time, granting and revoking, and the one-site desk unchanged."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from editorial.settings import SettingsError
from publish.cli import main
from publish.review import requests as reviews
from publish.store import Store, audit, channel_state, ledger
from publish.store.models import Comment, SchedulerRun
from publish.web import agency_overview, site_roles
from publish.web.accounts import AccountError
from publish.web.agency_file import AgencyError, load_agency
from tests.publish.web.agency_site import ADMIN, LENA, AgencyDesk, make_agency, write_agency
from tests.publish.web.conftest import ENVIRON, NOW, PASSWORD, Desk, desk_of_app, email


@pytest.fixture
def agency(site_root: Path, tmp_path: Path) -> Iterator[AgencyDesk]:
    made = make_agency(tmp_path / "agency", site_root)
    try:
        yield made
    finally:
        made.store.dispose()


def test_one_login_serves_the_agency_pages_and_every_site_with_a_role(
    agency: AgencyDesk,
) -> None:
    lena = agency.login(LENA)
    assert lena.get("/").status_code == 200
    assert lena.get("/sites/mueller/inbox").status_code == 200
    assert lena.get("/sites/schmidt/dashboard").status_code == 200
    # logging out in one site's desk ends the session everywhere
    assert lena.post("/sites/mueller/logout").status_code == 302
    assert lena.get("/sites/schmidt/dashboard").status_code == 302
    assert lena.get("/").headers["Location"].startswith("/login")


def test_a_site_without_a_role_answers_403_on_every_page(agency: AgencyDesk) -> None:
    comment = agency.comment("weber", "weber_c1", timedelta(minutes=10))
    lena = agency.login(LENA)
    assert lena.get("/sites/mueller/inbox").status_code == 200  # a token for the forms
    for path in (
        "/sites/weber/",
        "/sites/weber/inbox",
        f"/sites/weber/inbox/{comment}",
        "/sites/weber/dashboard",
        "/sites/weber/reviews",
        "/sites/weber/notifications",
        f"/sites/weber/inbox/{comment + 999}",  # not even whether a comment exists
    ):
        response = lena.get(path)
        assert response.status_code == 403, path
        assert "no role on this site" in response.get_data(as_text=True)
    # with a valid CSRF token (the session's): still 403, and nothing changed
    approved = lena.post(f"/sites/weber/inbox/{comment}/approve", {"expected_state": "new"})
    assert approved.status_code == 403
    checked = lena.post(
        f"/sites/weber/inbox/{comment}/reply/check",
        {"text": "Danke!"},
        headers={"Accept": "application/json"},
    )
    assert checked.status_code == 403
    assert checked.is_json and "no role" in checked.get_json()["error"]
    with agency.site("weber").read() as session:
        assert session.get(Comment, comment).state == "new"  # type: ignore[union-attr]
    # the site's admin reaches the same pages
    admin = agency.login(ADMIN)
    assert admin.get(f"/sites/weber/inbox/{comment}").status_code == 200


def test_the_role_on_a_site_is_the_role_there(agency: AgencyDesk) -> None:
    """Lena moderates Müller, edits Schmidt: the inbox of Schmidt is not hers."""
    lena = agency.login(LENA)
    assert lena.get("/sites/mueller/inbox").status_code == 200
    refused = lena.get("/sites/schmidt/inbox")
    assert refused.status_code == 403
    assert "Your role may not do this" in refused.get_data(as_text=True)
    # the site's home sends an editor to the dashboard, a moderator to the inbox
    assert lena.get("/sites/schmidt/").headers["Location"].endswith("/sites/schmidt/dashboard")
    assert lena.get("/sites/mueller/").headers["Location"].endswith("/sites/mueller/inbox")
    # her agency role (moderator) gives her nothing on a site by itself
    assert lena.get("/sites/weber/dashboard").status_code == 403


def test_the_agency_admin_manages_accounts_and_roles_others_may_not(
    agency: AgencyDesk,
) -> None:
    lena = agency.login(LENA)
    assert lena.get("/admin/users").status_code == 403
    assert lena.get("/sites/weber/dashboard").status_code == 403
    admin = agency.login(ADMIN)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "Roles per site" in page and "Zahnarzt Weber" in page
    granted = admin.post("/admin/users/roles", {"email": LENA, "site": "weber", "role": "editor"})
    assert granted.status_code == 200
    assert lena.get("/sites/weber/dashboard").status_code == 200
    assert lena.get("/sites/weber/inbox").status_code == 403  # an editor's role
    unknown = admin.post("/admin/users/roles", {"email": LENA, "site": "nowhere", "role": "editor"})
    assert unknown.status_code == 422 and "There is no site nowhere" in unknown.get_data(
        as_text=True
    )
    wrong = admin.post("/admin/users/roles", {"email": LENA, "site": "weber", "role": "boss"})
    assert wrong.status_code == 422
    with agency.store.read() as session:
        user_id = site_roles.site_members(session, "weber")[-1][0].id
    assert admin.post(f"/admin/users/{user_id}/roles/weber/revoke").status_code == 200
    assert lena.get("/sites/weber/dashboard").status_code == 403
    # a site's own accounts page leads to the agency's: accounts are the agency's
    moved = admin.get("/sites/weber/admin/users")
    assert moved.status_code == 302 and moved.headers["Location"] == "/admin/users"


def test_the_overview_lists_the_sites_with_a_role_most_urgent_first(agency: AgencyDesk) -> None:
    agency.comment("mueller", "m_soon", timedelta(minutes=20))  # neither overdue nor escalated
    overdue = agency.comment("mueller", "m_overdue", timedelta(minutes=-10))
    escalated = agency.comment(
        "mueller", "m_escalated", timedelta(minutes=-5), state="escalated", escalated_to="chefin"
    )
    schmidt = agency.comment("schmidt", "s_overdue", timedelta(minutes=-45))
    agency.comment("weber", "w_overdue", timedelta(hours=-3))  # Lena has no role there
    agency.late_post("schmidt", "social/advent.md", timedelta(minutes=-30))
    agency.late_post("weber", "social/weber.md", timedelta(hours=-2))
    with agency.site("schmidt").transaction() as session:
        channel_state.report_auth_problem(
            session, "facebook", "token revoked", agency.clock.now - timedelta(minutes=7)
        )
    lena = agency.login(LENA)
    page = lena.get("/").get_data(as_text=True)
    # Schmidt is Lena's as an editor: its posts and channels, not its comments
    assert _rows(page) == [
        ("late", "schmidt", "/sites/schmidt/dashboard"),
        ("overdue", "mueller", f"/sites/mueller/inbox/{overdue}"),
        ("auth-problem", "schmidt", "/sites/schmidt/dashboard"),
        ("escalated", "mueller", f"/sites/mueller/inbox/{escalated}"),
    ]
    assert "Zahnarzt Weber" not in page and "token revoked" in page
    # the admin of Weber sees Weber's only
    admin = agency.login(ADMIN)
    assert [row[:2] for row in _rows(admin.get("/").get_data(as_text=True))] == [
        ("overdue", "weber"),
        ("late", "weber"),
    ]
    # once Schmidt's inbox is Lena's, its comment 45 minutes overdue comes first
    with agency.store.transaction() as session:
        site_roles.grant(session, LENA, "schmidt", "moderator", "test", NOW)
    rows = _rows(lena.get("/").get_data(as_text=True))
    assert rows[0] == ("overdue", "schmidt", f"/sites/schmidt/inbox/{schmidt}")
    assert len(rows) == 5


def test_three_sites_in_one_postgresql_database(
    site_root: Path, tmp_path: Path, postgresql_url: str
) -> None:
    agency = make_agency(tmp_path / "agency", site_root, database_url=postgresql_url)
    try:
        weber = agency.comment("weber", "w_pg", timedelta(minutes=-50))
        mueller = agency.comment("mueller", "m_pg", timedelta(minutes=-20))
        agency.late_post("schmidt", "social/advent.md", timedelta(minutes=-30))
        lena = agency.login(LENA)
        assert _rows(lena.get("/").get_data(as_text=True)) == [
            ("late", "schmidt", "/sites/schmidt/dashboard"),
            ("overdue", "mueller", f"/sites/mueller/inbox/{mueller}"),
        ]
        assert lena.get(f"/sites/weber/inbox/{weber}").status_code == 403
        assert lena.get(f"/sites/mueller/inbox/{mueller}").status_code == 200
        # a comment of another site is not found under this one's address
        assert lena.get(f"/sites/mueller/inbox/{weber}").status_code == 404
    finally:
        agency.store.dispose()


def _rows(page: str) -> list[tuple[str, str, str]]:
    """(kind, site, link) of each item of the overview, in the page's order."""
    return re.findall(
        r'<tr class="item item-([a-z-]+)[^"]*" data-site="([a-z-]+)">\s*<td>.*?</td>\s*'
        r'<td>.*?</td>\s*<td><a href="([^"]+)">',
        page,
        flags=re.S,
    )


def test_the_overview_speaks_german(agency: AgencyDesk) -> None:
    agency.comment("mueller", "m_de", timedelta(minutes=-5))
    lena = agency.login(LENA)
    page = lena.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Alle Kunden" in page and "Kommentar überfällig" in page


def test_site_roles_refuse_bad_input(agency: AgencyDesk) -> None:
    with agency.store.transaction() as session:
        with pytest.raises(AccountError, match="no site key"):
            site_roles.grant(session, LENA, "Bad Key", "moderator", "test", NOW)
        with pytest.raises(AccountError, match="unknown role"):
            site_roles.grant(session, LENA, "weber", "owner", "test", NOW)
        assert site_roles.revoke(session, LENA, "weber", "test", NOW) is False
        # granting again replaces the role: one row per account and site
        site_roles.grant(session, LENA, "mueller", "approver", "test", NOW)
        assert site_roles.roles_of(session, site_roles._user(session, LENA).id) == {
            "mueller": "approver",
            "schmidt": "editor",
        }


def test_a_one_site_desk_keeps_the_accounts_own_roles(desk: Desk) -> None:
    """Site roles mean nothing to a one-site desk: DeskUser.role decides, as before."""
    with desk.store.transaction() as session:
        site_roles.grant(session, email("editor"), "anything", "moderator", "test", NOW)
    assert desk.login("moderator").get("/inbox").status_code == 200
    assert desk.login("editor").get("/inbox").status_code == 403


def test_migration_0011_adds_and_removes_the_roles_table(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'roles.db'}").upgrade() as store:
        assert "desk_site_roles" in inspect(store.engine).get_table_names()
        store.downgrade("0010")
        assert "desk_site_roles" not in inspect(store.engine).get_table_names()
        store.upgrade()
        columns = {c["name"] for c in inspect(store.engine).get_columns("desk_site_roles")}
        assert columns == {"id", "user_id", "site", "role", "granted_by", "granted_at"}


def test_the_cli_adds_grants_lists_and_revokes_roles_per_site(
    site_root: Path, tmp_path: Path
) -> None:
    path = write_agency(tmp_path / "agency", site_root)
    runner = CliRunner()
    env = {"DP_ACTOR": "chefin@agentur-kranich.example"}
    agency = ["--agency", str(path)]
    added = runner.invoke(
        main,
        [
            "user",
            "add",
            "Jonas@agentur-kranich.example",
            "--role",
            "moderator",
            *agency,
            "--site",
            "mueller",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert "added jonas@agentur-kranich.example as moderator (and on mueller)" in added.output
    granted = runner.invoke(
        main,
        [
            "user",
            "grant",
            "jonas@agentur-kranich.example",
            *agency,
            "--site",
            "weber",
            "--role",
            "editor",
        ],
        env=env,
    )
    assert granted.exit_code == 0, granted.output
    listed = runner.invoke(main, ["user", "list", "--format", "json", *agency], env=env)
    assert json.loads(listed.output)[0]["sites"] == {"mueller": "moderator", "weber": "editor"}
    revoked = runner.invoke(
        main,
        ["user", "revoke", "jonas@agentur-kranich.example", *agency, "--site", "weber"],
        env=env,
    )
    assert revoked.exit_code == 0 and "no role on weber any more" in revoked.output
    again = runner.invoke(
        main,
        ["user", "revoke", "jonas@agentur-kranich.example", *agency, "--site", "weber"],
        env=env,
    )
    assert again.exit_code != 0 and "had no role on weber" in again.output
    unknown = runner.invoke(
        main,
        [
            "user",
            "grant",
            "jonas@agentur-kranich.example",
            *agency,
            "--site",
            "nowhere",
            "--role",
            "editor",
        ],
        env=env,
    )
    assert unknown.exit_code == 2
    assert "no site 'nowhere' (the file lists mueller, schmidt, weber)" in unknown.output
    nobody = runner.invoke(
        main,
        [
            "user",
            "grant",
            "nobody@agentur-kranich.example",
            *agency,
            "--site",
            "weber",
            "--role",
            "editor",
        ],
        env=env,
    )
    assert nobody.exit_code != 0 and "there is no account nobody@" in nobody.output
    no_agency = runner.invoke(
        main,
        [
            "user",
            "add",
            "x@agentur-kranich.example",
            "--role",
            "editor",
            "--site",
            "weber",
            "-s",
            str(site_root / "pelicanconf.py"),
        ],
        env=env,
    )
    assert no_agency.exit_code == 2 and "--site needs --agency FILE" in no_agency.output
    with Store(load_agency(path).database_url) as store, store.read() as session:
        events = audit.events_for(session, "desk-user", "jonas@agentur-kranich.example")
        actions = [event.action for event in events]
    assert "desk-user.site-role-granted" in actions and "desk-user.site-role-revoked" in actions


def test_a_bad_agency_file_is_refused_with_file_line_and_field(
    site_root: Path, tmp_path: Path
) -> None:
    path = write_agency(tmp_path / "agency", site_root)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("key: schmidt", "key: Schmidt GmbH"), encoding="utf-8")
    with pytest.raises(AgencyError, match=r"agency.yml:8: sites\[1\]\.key: 'Schmidt GmbH'"):
        load_agency(path)
    path.write_text(text.replace("key: schmidt", "key: mueller"), encoding="utf-8")
    with pytest.raises(AgencyError, match="listed twice"):
        load_agency(path)
    result = CliRunner().invoke(
        main, ["desk", "--agency", str(path)], env={"DP_DESK_SECRET_KEY": "x" * 40}
    )
    assert result.exit_code == 2 and "listed twice" in result.output
    assert "Traceback" not in result.output
    # a site whose workspace is not there yet: named, before anything is served
    path.write_text(text, encoding="utf-8")
    (path.parent / "sites" / "weber").unlink()
    result = CliRunner().invoke(
        main, ["desk", "--agency", str(path)], env={"DP_DESK_SECRET_KEY": "x" * 40}
    )
    assert result.exit_code == 2, result.output
    assert "agency site 'weber': no settings file" in result.output


def test_a_comment_is_assigned_only_to_those_who_moderate_that_site(agency: AgencyDesk) -> None:
    comment = agency.comment("mueller", "m_assign", timedelta(minutes=30))
    page = agency.login(LENA).get(f"/sites/mueller/inbox/{comment}").get_data(as_text=True)
    offered = re.findall(r'<option value="([^"]+@agentur-kranich\.example)"', page)
    # the agency's admin is no moderator of Müller: only an admin of Weber
    assert offered == [LENA]


def test_a_login_asked_for_by_a_sites_page_returns_to_that_page(agency: AgencyDesk) -> None:
    client = agency.client()
    asked = client.get("/sites/mueller/inbox?state=escalated")
    assert asked.status_code == 302
    assert asked.headers["Location"] == (
        "/sites/mueller/login?next=/sites/mueller/inbox?state%3Descalated"
    )
    client.get(asked.headers["Location"])
    back = client.post(
        "/sites/mueller/login",
        {"email": LENA, "password": PASSWORD, "next": "/sites/mueller/inbox?state=escalated"},
    )
    assert back.headers["Location"] == "/sites/mueller/inbox?state=escalated"
    assert client.get("/sites/mueller/inbox?state=escalated").status_code == 200


def test_every_kind_of_item_comes_with_its_due_time(desk: Desk) -> None:
    """What the overview asks of one site's store (here a one-site desk's): failed posts,
    pending reviews, broken channels, expiring tokens and a failed scheduler run."""
    now = desk.clock.now
    state = desk_of_app(desk.app)
    with desk.store.transaction() as session:
        entry = ledger.record_intent(
            session, "social/advent.md", "facebook", 0, "h", "Text", now - timedelta(hours=5)
        )
        ledger.mark_failed(session, entry.id, "the network refused it", now)
        channel_state.report_auth_problem(session, "twitter", "token revoked", now)
        channel_state.record_token_expiry(session, "facebook", now + timedelta(days=2), now)
        reviews.create_review(
            session,
            branch="advent",
            base="main",
            head="0" * 40,
            pieces=[reviews.RequestedPiece("posts/advent.md", "sha256:1", "Advent")],
            approvers=["kunde@example.org"],
            requested_by="editor@agentur-kranich.example",
            note=None,
            now=now - timedelta(days=1),
            link_lifetime=timedelta(days=2),
        )
        session.add(
            SchedulerRun(
                started_at=now - timedelta(minutes=3), status="failed", summary={}, error="boom"
            )
        )
    with desk.app.test_request_context("/"):
        items = agency_overview.merge(
            [agency_overview.items_for_site("k", "K", state, "editor", now, lambda e, v: e)]
        )
    assert [(item.kind, item.due - now) for item in items] == [
        ("failed", timedelta(hours=-5)),
        ("run-failed", timedelta(minutes=-3)),
        ("auth-problem", timedelta(0)),
        ("review", timedelta(days=1)),
        ("token-expiring", timedelta(days=2)),
    ]
    assert items[0].detail == "the network refused it" and items[3].detail == "Advent"


def test_each_site_desk_sends_with_its_own_tokens_only(site_root: Path, tmp_path: Path) -> None:
    """A reply sent from one client's inbox goes out with that client's credentials: the
    agency desk's own DP_* variables (a token set there by mistake, the database) reach no
    site, each site gets its secrets file, and the session key and the Facebook app stay."""
    import dataclasses

    from publish.web.agency import create_agency_app
    from publish.web.state import EXTENSION

    path = write_agency(tmp_path / "agency", site_root)
    agency = load_agency(path)
    secrets = {}
    for site in agency.sites:
        secrets[site.key] = tmp_path / f"{site.key}.env"
        secrets[site.key].write_text(f"DP_X_ACCESS_TOKEN=token-of-{site.key}\n", "utf-8")
        secrets[site.key].chmod(0o600)
    agency = dataclasses.replace(
        agency, sites=tuple(dataclasses.replace(s, secrets=secrets[s.key]) for s in agency.sites)
    )
    environ = {**ENVIRON, "DP_X_ACCESS_TOKEN": "the-agency-desks", "DP_DATABASE_URL": "x"}
    app = create_agency_app(agency, environ=environ, store=Store(agency.database_url).upgrade())
    mounted = app.extensions[EXTENSION].sites
    assert sorted(mounted) == ["mueller", "schmidt", "weber"]
    for key, site in mounted.items():
        environ_of_site = desk_of_app(site.app).environ
        assert environ_of_site["DP_X_ACCESS_TOKEN"] == f"token-of-{key}"
        assert "DP_DATABASE_URL" not in environ_of_site
        for name, value in ENVIRON.items():
            assert environ_of_site[name] == value
    # a secrets file others can read stops the desk with the site's name, no traceback
    secrets["weber"].chmod(0o644)
    with pytest.raises(SettingsError, match=r"agency site 'weber': .*readable by others"):
        create_agency_app(agency, environ=environ, store=Store(agency.database_url))

"""Accounts: argon2 hashes, lockout after ten failures, throttling per address, sessions
that really end, temporary passwords, cookies, and the `user` commands."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from gitsite import approve_example_frame
from sqlalchemy import select

from editorial.settings import SettingsError
from publish.cli import main
from publish.store import Store
from publish.store.models import DeskUser, LoginAttempt
from publish.web import accounts, create_app
from tests.publish.web.conftest import ENVIRON, PASSWORD, Desk, email, make_desk

MODERATOR = email("moderator")


def _attempts(desk: Desk) -> list[LoginAttempt]:
    with desk.store.transaction() as session:
        return list(session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)))


def test_ten_failed_logins_lock_the_account_for_a_while(desk: Desk) -> None:
    client = desk.client()
    for attempt in range(9):
        response = client.login(MODERATOR, f"wrong password {attempt}")
        assert response.status_code == 401
        assert "wrong" in response.get_data(as_text=True)
    tenth = client.login(MODERATOR, "wrong password 9")
    assert tenth.status_code == 423
    assert "locked" in tenth.get_data(as_text=True)
    # the right password does not help while the lock lasts
    assert client.login(MODERATOR, PASSWORD).status_code == 423
    desk.clock.advance(minutes=14)
    assert client.login(MODERATOR, PASSWORD).status_code == 423
    desk.clock.advance(minutes=2)
    assert client.login(MODERATOR, PASSWORD).status_code == 302
    # other accounts were never affected
    assert desk.client().login(email("admin"), PASSWORD).status_code == 302


def test_a_success_starts_the_count_again(desk: Desk) -> None:
    client = desk.client()
    for attempt in range(9):
        client.login(MODERATOR, f"wrong {attempt}")
    assert client.login(MODERATOR, PASSWORD).status_code == 302
    other = desk.client()
    for attempt in range(9):
        assert other.login(MODERATOR, f"wrong again {attempt}").status_code == 401


def test_unknown_accounts_lock_alike_so_the_lock_tells_nothing(desk: Desk) -> None:
    client = desk.client()
    for attempt in range(10):
        client.login("nobody@agentur-kranich.example", f"guess {attempt}")
    response = client.login("nobody@agentur-kranich.example", "guess 11")
    assert response.status_code == 423
    assert "locked" in response.get_data(as_text=True)


def test_one_address_trying_many_accounts_is_throttled(site_root: Path, tmp_path: Path) -> None:
    conf = site_root / "publishconf.py"
    original = conf.read_text(encoding="utf-8")
    approval = site_root / "site-approval.yml"
    approved = approval.read_text(encoding="utf-8")
    conf.write_text(original + "\nDESK = {'address_failures': 5}\n", encoding="utf-8")
    approve_example_frame(site_root)
    try:
        desk = make_desk(site_root, tmp_path)
        client = desk.client()
        for number in range(5):
            assert client.login(f"person{number}@example.org", "guess").status_code == 401
        refused = client.login(MODERATOR, PASSWORD)
        assert refused.status_code == 429
        assert "from your address" in refused.get_data(as_text=True)
        desk.clock.advance(minutes=16)
        assert client.login(MODERATOR, PASSWORD).status_code == 302
    finally:
        conf.write_text(original, encoding="utf-8")
        approval.write_text(approved, encoding="utf-8")


def test_passwords_are_argon2_hashes_and_never_stored_or_logged_in_clear(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with desk.store.transaction() as session:
        user = session.scalars(select(DeskUser).where(DeskUser.email == MODERATOR)).one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    client = desk.client()
    client.login(MODERATOR, "a wrong password typed")
    client.login(MODERATOR, PASSWORD)
    client.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "the new password of the moderator",
            "confirm_password": "the new password of the moderator",
        },
    )
    desk.store.dispose()
    database = Path(str(desk.store.url.database)).read_bytes()
    for secret in (PASSWORD, "a wrong password typed", "the new password of the moderator"):
        assert secret.encode() not in database
        assert all(secret not in record.getMessage() for record in caplog.records)
    assert [a.succeeded for a in _attempts(desk)] == [False, True]


def test_cookies_are_httponly_samesite_and_secure(desk: Desk) -> None:
    client = desk.client()
    response = client.login(MODERATOR, PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie


def test_logging_out_ends_the_session_on_the_server(desk: Desk) -> None:
    client = desk.login("moderator")
    assert client.get("/inbox").status_code == 200
    cookie = client.client.get_cookie("__Host-dp-desk", domain="localhost")
    assert cookie is not None
    assert client.post("/logout").status_code == 302
    assert client.get("/inbox").status_code == 302
    # the old cookie, kept by someone, opens nothing any more
    thief = desk.client()
    thief.client.set_cookie("__Host-dp-desk", cookie.value, domain="localhost")
    assert thief.get("/inbox").status_code == 302


def test_an_admins_reset_ends_sessions_and_forces_a_new_password(desk: Desk) -> None:
    moderator = desk.login("moderator")
    admin = desk.login("admin")
    with desk.store.transaction() as session:
        target = accounts.by_email(session, MODERATOR)
        assert target is not None
        target_id = target.id
    page = admin.post(f"/admin/users/{target_id}/reset-password").get_data(as_text=True)
    issued = page.split('<code class="secret">')[1].split("</code>")[0]
    assert moderator.get("/inbox").status_code == 302
    fresh = desk.client()
    assert fresh.login(MODERATOR, PASSWORD).status_code == 401
    assert fresh.login(MODERATOR, issued).status_code == 302
    forced = fresh.get("/inbox")
    assert forced.status_code == 302 and forced.headers["Location"] == "/account/password"
    changed = fresh.post(
        "/account/password",
        {
            "current_password": issued,
            "new_password": "my very own password",
            "confirm_password": "my very own password",
        },
    )
    assert changed.status_code == 302
    assert fresh.get("/inbox").status_code == 200


def test_short_passwords_are_refused(desk: Desk) -> None:
    client = desk.login("editor")
    response = client.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert response.status_code == 422
    assert "at least 12 characters" in response.get_data(as_text=True)


def test_the_desk_needs_a_secret_key_from_the_environment(site_root: Path, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}").upgrade()
    with pytest.raises(SettingsError, match="DP_DESK_SECRET_KEY"):
        create_app(site_root / "pelicanconf.py", environ={}, store=store)
    with pytest.raises(SettingsError, match="at least 32"):
        create_app(
            site_root / "pelicanconf.py", environ={"DP_DESK_SECRET_KEY": "short"}, store=store
        )
    store.dispose()


def test_desk_settings_are_checked(site_root: Path) -> None:
    from publish.settings import desk_settings

    assert desk_settings({}).lockout_failures == 10
    with pytest.raises(SettingsError, match=r"DESK: unknown key 'lockout'"):
        desk_settings({"DESK": {"lockout": 3}})
    with pytest.raises(SettingsError, match=r"DESK\['port'\] must be a whole number"):
        desk_settings({"DESK": {"port": "80"}})
    with pytest.raises(SettingsError, match=r"secure_cookies"):
        desk_settings({"DESK": {"secure_cookies": "yes"}})


def test_user_commands_add_list_and_reset(site_root: Path, tmp_path: Path) -> None:
    env = {"DP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DP_ACTOR": "admin@x.example"}
    conf = str(site_root / "pelicanconf.py")
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["user", "add", "Lena.Berger@agentur-kranich.example", "--role", "moderator", "-s", conf],
        env=env,
    )
    assert added.exit_code == 0, added.output
    temporary = added.output.split("first login): ")[1].strip()
    assert len(temporary) >= 12
    scripted = runner.invoke(
        main,
        [
            "user",
            "add",
            "jonas@agentur-kranich.example",
            "--role",
            "editor",
            "--password-stdin",
            "-s",
            conf,
        ],
        env=env,
        input="a password from a script\n",
    )
    assert scripted.exit_code == 0 and "password" not in scripted.output.split("\n", 1)[1]
    again = runner.invoke(
        main,
        ["user", "add", "lena.berger@agentur-kranich.example", "--role", "admin", "-s", conf],
        env=env,
    )
    assert again.exit_code == 2 and "has an account already" in again.output
    bad = runner.invoke(main, ["user", "add", "x@y.example", "--role", "boss", "-s", conf], env=env)
    assert bad.exit_code == 2
    listed = runner.invoke(main, ["user", "list", "--format", "json", "-s", conf], env=env)
    rows = json.loads(listed.output)
    assert [(r["email"], r["role"], r["must_change_password"]) for r in rows] == [
        ("jonas@agentur-kranich.example", "editor", False),
        ("lena.berger@agentur-kranich.example", "moderator", True),
    ]
    reset = runner.invoke(
        main,
        ["user", "reset-password", "lena.berger@agentur-kranich.example", "-s", conf],
        env=env,
    )
    assert reset.exit_code == 0 and "temporary password" in reset.output
    missing = runner.invoke(
        main, ["user", "reset-password", "nobody@agentur-kranich.example", "-s", conf], env=env
    )
    assert missing.exit_code == 1 and "no desk account" in missing.output


def test_desk_command_without_a_secret_key_exits_2(site_root: Path, tmp_path: Path) -> None:
    env = {"DP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DP_DESK_SECRET_KEY": ""}
    result = CliRunner().invoke(main, ["desk", "-s", str(site_root / "pelicanconf.py")], env=env)
    assert result.exit_code == 2
    assert "DP_DESK_SECRET_KEY" in result.output


def test_environment_fixture_is_complete() -> None:
    assert set(ENVIRON) == {
        "DP_DESK_SECRET_KEY",
        "DP_FACEBOOK_APP_SECRET",
        "DP_FACEBOOK_VERIFY_TOKEN",
    }

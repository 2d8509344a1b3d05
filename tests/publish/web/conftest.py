"""A desk on a clone of the example site, with a store of its own and a settable clock.

The site is cloned once per module (approvals and the calendar need its git history);
every test gets a fresh store and one account per role. ``DeskClient`` speaks to the
app over Flask's test client as a browser would: over https, with the cookies the desk
set, and with the CSRF token read from the page's own form.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from publish.moderation.sync import ingest
from publish.posting.channels import RemoteComment
from publish.store import Store
from publish.web import accounts, create_app
from publish.web.state import desk as desk_of
from tests.worktree import clone_working_tree

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
SECRET_KEY = "desk-test-secret-key-0123456789abcdefghijkl"
APP_SECRET = "desk-test-facebook-app-secret"
VERIFY_TOKEN = "desk-test-verify-token"
PASSWORD = "correct horse battery staple"
ROLES = ("admin", "moderator", "editor", "approver")
ENVIRON = {
    "DP_DESK_SECRET_KEY": SECRET_KEY,
    "DP_FACEBOOK_APP_SECRET": APP_SECRET,
    "DP_FACEBOOK_VERIFY_TOKEN": VERIFY_TOKEN,
}
_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


class Clock:
    """The desk's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def email(role: str) -> str:
    return f"{role}@agentur-kranich.example"


# argon2id still, at its cheapest settings: the desk tests log in about a thousand times,
# and at the production settings (64 MiB, three passes) each login cost 0.1-0.2 s. What
# they test is who may log in and what follows, not the hash's cost; the production
# hasher is tested where it matters (tests/security/test_desk_small_fixes.py times a
# locked account against an unknown one), and a hash made here is verified by its own
# parameters, as argon2 encodes them in the hash.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="module", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Per module, before the module's store template hashes its four passwords."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", CHEAP_HASHER)
        patch.setattr(accounts, "_DUMMY_HASH", CHEAP_HASHER.hash("no such account"))
        yield


def clone_site(target: Path) -> Path:
    clone_working_tree(target)
    return target


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_site(tmp_path_factory.mktemp("desk") / "site")


@dataclass
class Desk:
    app: Flask
    store: Store
    clock: Clock
    root: Path

    def client(self, language: str | None = "en") -> DeskClient:
        """A browser asking for ``language`` (Accept-Language); None asks for none, so
        the site's DEFAULT_LANG (German in the example) answers."""
        return DeskClient(self.app.test_client(), language)

    def login(self, role: str, password: str = PASSWORD, language: str | None = "en") -> DeskClient:
        client = self.client(language)
        response = client.login(email(role), password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def comment(
        self, remote_id: str = "post1_c1", text: str = "Wann kommt der Techniker?", **extra: Any
    ) -> int:
        remote = RemoteComment(
            remote_id=remote_id,
            parent_id=extra.pop("parent_id", "post1"),
            post_id=extra.pop("post_id", "post1"),
            author_handle=extra.pop("author_handle", "1000001"),
            author_name=extra.pop("author_name", "Anna Anwohnerin"),
            text=text,
            created_at=extra.pop("created_at", self.clock.now - timedelta(minutes=20)),
            permalink=None,
        )
        return ingest(
            self.store,
            desk_of_app(self.app).guideline,
            extra.pop("channel", "facebook"),
            remote,
            self.clock.now,
        ).id


def desk_of_app(app: Flask) -> Any:
    with app.app_context():
        return desk_of()


class DeskClient:
    """A browser's view of the desk: https, cookies, CSRF tokens from the pages."""

    def __init__(self, client: FlaskClient, language: str | None = "en") -> None:
        self.client = client
        self.token: str | None = None
        self.headers = {"Accept-Language": language} if language else {}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
        response = self.client.get(path, base_url="https://localhost", **kwargs)
        found = _TOKEN.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> TestResponse:
        form = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            form["csrf_token"] = self.token
        kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
        return self.client.post(path, data=form, base_url="https://localhost", **kwargs)

    def login(self, address: str, password: str) -> TestResponse:
        self.get("/login")
        response = self.post("/login", {"email": address, "password": password})
        if response.status_code == 302:
            self.get("/", follow_redirects=True)  # a new session: a token of its pages
        return response


def make_store(path: Path) -> Path:
    """A migrated store with one account per role (password :data:`PASSWORD`)."""
    with Store(f"sqlite:///{path}").upgrade() as store, store.transaction() as session:
        for role in ROLES:
            accounts.add_user(
                session, email(role), role, PASSWORD, NOW, actor="test", must_change=False
            )
    return path


def make_desk(root: Path, tmp_path: Path, template: Path | None = None, **options: Any) -> Desk:
    """A desk on a store of its own: a copy of ``template``, or made afresh."""
    clock = Clock(NOW)
    path = tmp_path / "desk.db"
    if template is None:
        make_store(path)
    else:
        shutil.copyfile(template, path)
    store = Store(f"sqlite:///{path}")
    app = create_app(
        root / "pelicanconf.py",
        environ=options.pop("environ", ENVIRON),
        clock=clock,
        store=store,
        **options,
    )
    app.config["TESTING"] = True
    return Desk(app=app, store=store, clock=clock, root=root)


@pytest.fixture(scope="module")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrating and hashing four passwords once per module, not once per test."""
    return make_store(tmp_path_factory.mktemp("template") / "desk.db")


@pytest.fixture
def desk(site_root: Path, tmp_path: Path, store_template: Path) -> Iterator[Desk]:
    made = make_desk(site_root, tmp_path, store_template)
    try:
        yield made
    finally:
        made.store.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module that asks for it."""
    from playwright.sync_api import sync_playwright

    from tests.publish.web.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()

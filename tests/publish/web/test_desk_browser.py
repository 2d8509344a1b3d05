"""The desk in a real browser (Debian's Chromium, driven by Playwright) against a clone of
the example site whose channels point at the sandbox.

The site is built and its due snippets are posted to the sandbox first, so comments can
be made under real (sandbox) Facebook posts. Comments reach the desk through its webhook
over HTTP, with Facebook's signature; the moderator logs in, filters, approves, is refused
a reply with a forbidden phrase, sends a clean one (which reaches the sandbox once) and
logs out. axe-core checks every page; screenshots go to tests/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from gitsite import approve_example_frame
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer, make_server

from editorial.settings import load_settings
from publish.cli import main
from publish.sandbox import Sandbox
from publish.site.build import build_site
from publish.store import open_store
from publish.store.models import Comment
from publish.web import accounts, create_app
from publish.web.webhook import signature
from tests.publish.web.browser import accessible, shot
from tests.publish.web.conftest import APP_SECRET, ENVIRON, PASSWORD, Clock, clone_site

NOW = datetime.fromisoformat("2026-11-24T10:00:00+01:00")
CONSUMER_KEY = "desk-test-consumer-key"
PAGE_ID = "100000000000001"
PAGE_TOKEN = "EAAdeskTestPageToken"
MODERATOR = "lena.berger@agentur-kranich.example"


@dataclass
class LiveDesk:
    url: str
    root: Path
    sandbox: Sandbox
    env: dict[str, str]
    clock: Clock

    def deliver(self, comment: dict[str, Any]) -> requests.Response:
        """What Facebook sends when someone comments on the Page: a signed feed change."""
        payload = {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": 0,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "comment_id": comment["id"],
                                "post_id": comment["post_id"],
                                "parent_id": comment["parent_id"] or comment["post_id"],
                                "from": comment["from"],
                                "message": comment["message"],
                                "created_time": int(
                                    datetime.fromisoformat(
                                        comment["created_time"].replace("+0000", "+00:00")
                                    ).timestamp()
                                ),
                            },
                        }
                    ],
                }
            ],
        }
        body = json.dumps(payload).encode()
        return requests.post(
            f"{self.url}/webhooks/facebook",
            data=body,
            timeout=10,
            headers={
                "X-Hub-Signature-256": signature(APP_SECRET.encode(), body),
                "Content-Type": "application/json",
            },
        )

    def comment_on_facebook(self, text: str, name: str, minutes: int) -> dict[str, Any]:
        post = self.sandbox.facebook.state()["posts"][0]
        created = (NOW + timedelta(minutes=minutes)).isoformat()
        made: dict[str, Any] = self.sandbox.facebook.control(
            "inject-comment", on=post["id"], text=text, author_name=name, created_at=created
        )
        return made

    def page_replies(self) -> list[dict[str, Any]]:
        comments = self.sandbox.facebook.state()["comments"]
        values = comments.values() if isinstance(comments, dict) else comments
        return [c for c in values if c["from"]["id"] == PAGE_ID]

    def comments_with(self, remote_id: str) -> int:
        store = open_store(load_settings(self.root / "publishconf.py"))
        try:
            with store.transaction() as session:
                return int(
                    session.scalar(
                        select(func.count())
                        .select_from(Comment)
                        .where(Comment.remote_id == remote_id)
                    )
                    or 0
                )
        finally:
            store.dispose()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDesk]:
    root = clone_site(tmp_path_factory.mktemp("browser") / "site")
    with Sandbox(consumer_key=CONSUMER_KEY, page_id=PAGE_ID, page_token=PAGE_TOKEN) as box:
        with (root / "pelicanconf.py").open("a", encoding="utf-8") as conf:
            conf.write(
                f'\nCHANNELS = {{"twitter": {{"api_base": "{box.twitter_url}", "timeout": 5}},'
                f' "facebook": {{"api_base": "{box.facebook_url}", "page_id": "{PAGE_ID}",'
                ' "timeout": 5}}\n'
            )
        approve_example_frame(root)
        assert build_site(root / "pelicanconf.py", production=True).ok
        env = {
            **ENVIRON,
            "DP_TWITTER_CONSUMER_KEY": CONSUMER_KEY,
            "DP_TWITTER_CONSUMER_SECRET": "test-consumer-secret",
            "DP_TWITTER_ACCESS_TOKEN": "1-test-access-token",
            "DP_TWITTER_ACCESS_TOKEN_SECRET": "test-access-secret",
            "DP_FACEBOOK_PAGE_TOKEN": PAGE_TOKEN,
            "DP_ACTOR": "scheduler@agentur-kranich.example",
        }
        posted = CliRunner().invoke(
            main,
            ["syndicate", "--now", NOW.isoformat(), "-s", str(root / "pelicanconf.py")],
            env=env,
        )
        assert posted.exit_code == 0, posted.output
        assert box.facebook.state()["posts"], "the example site posts to Facebook"
        clock = Clock(NOW + timedelta(minutes=40))
        app = create_app(root / "pelicanconf.py", environ=env, clock=clock)
        store = open_store(load_settings(root / "publishconf.py"))
        with store.transaction() as session:
            accounts.add_user(
                session, MODERATOR, "moderator", PASSWORD, NOW, actor="test", must_change=False
            )
        store.dispose()
        server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveDesk(f"http://127.0.0.1:{server.server_port}", root, box, env, clock)
        finally:
            server.shutdown()
            thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # axe is added to each page as a script; the desk's CSP allows only its own scripts
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def test_a_moderator_works_the_inbox_in_the_browser(live: LiveDesk, page: Page) -> None:
    outage = live.comment_on_facebook(
        "Seit heute früh kein Strom in der Neustadt! Ruft mich an: 0351 1234567",
        "Dora Dietrich",
        2,
    )
    question = live.comment_on_facebook(
        "Wann sind die Servicezeiten im Advent? Ich finde sie nicht auf der Seite.",
        "Anna Anwohnerin",
        5,
    )
    praise = live.comment_on_facebook("Danke für die schnelle Info!", "Bernd Beispiel", 10)
    for comment in (outage, question, praise):
        assert live.deliver(comment).status_code == 200

    # log in: the inbox sends an anonymous visitor to the login page. The cookies are the
    # production ones (__Host-, Secure): Chromium takes them from http://127.0.0.1 too
    page.goto(f"{live.url}/inbox")
    expect(page).to_have_url(f"{live.url}/login?next=/inbox")
    accessible(page, "login")
    page.get_by_label("E-mail address").fill(MODERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-dp-desk")
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Lax")
    rows = page.locator("table.inbox tbody tr")
    expect(rows).to_have_count(3)
    # the outage was escalated on arrival; the phone number in it is never shown
    expect(page.locator("table.inbox")).to_contain_text("[phone number removed]")
    expect(page.locator("table.inbox")).not_to_contain_text("1234567")
    accessible(page, "inbox")
    shot(page, "inbox")

    # filters: a category, a channel, a state
    page.get_by_label("Category").select_option("Störungen")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("escalated")
    page.get_by_label("Category").select_option("")
    page.get_by_label("Channel").select_option("twitter")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Nothing to do here.")).to_be_visible()
    page.get_by_label("Channel").select_option("facebook")
    page.get_by_label("escalated").uncheck()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{live.url}/inbox?state=new&channel=facebook&category=")
    expect(rows).to_have_count(2)
    expect(page.locator("time[data-due]").first).to_contain_text("due in")

    # approve the praise
    page.get_by_role("link", name="Bernd Beispiel: Danke für die schnelle Info!").click()
    expect(page.get_by_role("heading", name="Conversation")).to_be_visible()
    page.get_by_role("button", name="Approve (show on the site)").click()
    expect(page.get_by_role("status")).to_contain_text("approved")
    expect(page.locator("#comment-state")).to_have_text("approved")

    # answer the question: a forbidden phrase is shown while typing and refused on submit
    page.get_by_role("link", name="← Back to the inbox").click()
    page.get_by_role("link", name="Anna Anwohnerin: Wann sind die Servicezeiten").click()
    reply = page.get_by_label("Your reply")
    reply.fill("Das ist kein Blackout, nur eine kurze Störung.")
    expect(page.locator("#reply-findings")).to_contain_text("'Blackout' must not be used")
    expect(page.locator("#reply-length")).to_contain_text("/ 1500 characters")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("alert")).to_contain_text("The reply was not sent")
    expect(page.locator("#reply-findings")).to_contain_text("Stromausfall")
    assert live.page_replies() == []

    clean = "Danke für den Hinweis! Die Netzleitstelle arbeitet daran, wir melden uns hier."
    reply = page.get_by_label("Your reply")
    reply.fill(clean)
    expect(page.locator("#reply-findings")).to_have_text("")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("The reply was sent")
    accessible(page, "comment")
    shot(page, "comment")
    sent = live.page_replies()
    assert [(c["message"], c["parent_id"]) for c in sent] == [(clean, question["id"])]
    expect(page.get_by_role("link", name="on Facebook")).to_be_visible()

    # the dashboard
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("table.calendar")).to_contain_text("posted")
    accessible(page, "dashboard")
    shot(page, "dashboard")
    page.get_by_role("link", name="month view").click()
    expect(page.get_by_role("heading", name="Calendar: November 2026")).to_be_visible()
    accessible(page, "dashboard month")
    shot(page, "dashboard-month")

    # log out
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto(f"{live.url}/inbox")
    expect(page).to_have_url(f"{live.url}/login?next=/inbox")


def test_a_webhook_comment_stays_one_when_sync_fetches_it(live: LiveDesk) -> None:
    comment = live.comment_on_facebook("Gibt es morgen wieder Strom?", "Carla Clausen", 20)
    assert live.deliver(comment).status_code == 200
    assert live.comments_with(comment["id"]) == 1
    synced = CliRunner().invoke(
        main,
        [
            "sync",
            "--now",
            (NOW + timedelta(hours=1)).isoformat(),
            "-s",
            str(live.root / "pelicanconf.py"),
        ],
        env=live.env,
    )
    assert "Traceback" not in synced.output, synced.output
    assert live.comments_with(comment["id"]) == 1
    assert live.deliver(comment).status_code == 200
    assert live.comments_with(comment["id"]) == 1


def test_a_forged_webhook_event_is_rejected(live: LiveDesk) -> None:
    comment = live.comment_on_facebook("Fälschung", "Mallory", 30)
    body = json.dumps({"object": "page", "entry": []}).encode()
    response = requests.post(
        f"{live.url}/webhooks/facebook",
        data=body,
        timeout=10,
        headers={"X-Hub-Signature-256": signature(b"guessed", body)},
    )
    assert response.status_code == 403
    assert live.comments_with(comment["id"]) == 0


def test_an_admin_sets_a_password_and_adds_an_account_in_the_browser(
    live: LiveDesk, page: Page
) -> None:
    conf = str(live.root / "pelicanconf.py")
    added = CliRunner().invoke(
        main, ["user", "add", "katrin.admin@agentur-kranich.example", "--role", "admin",
               "-s", conf], env=live.env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    temporary = added.output.split("first login): ")[1].strip()

    page.goto(f"{live.url}/login")
    page.get_by_label("E-mail address").fill("katrin.admin@agentur-kranich.example")
    page.get_by_label("Password").fill(temporary)
    page.get_by_role("button", name="Log in").click()
    # a password an admin handed out must be replaced first
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    accessible(page, "password")
    page.get_by_label("Current password").fill(temporary)
    page.get_by_label("New password (at least 12 characters)").fill("Katrins eigenes Passwort")
    page.get_by_label("New password again").fill("Katrins eigenes Passwort")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()

    page.get_by_role("link", name="Accounts").click()
    page.get_by_label("E-mail address").fill("jonas.meier@agentur-kranich.example")
    page.get_by_label("Role").select_option("editor")
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_role("status")).to_contain_text("Temporary password for")
    expect(page.locator("table")).to_contain_text("must change password")
    accessible(page, "accounts")
    shot(page, "accounts")

    page.goto(f"{live.url}/inbox/99999")
    expect(page.get_by_role("heading", name="404 Not Found")).to_be_visible()
    accessible(page, "not found")


# what each language's browser must see; the other language's words must not appear
DESK_WORDS: dict[str, dict[str, Any]] = {
    "de": {"inbox": "Eingang", "dashboard": "Übersicht", "logout": "Abmelden",
           "month": "November 2026", "foreign": ["Log out", "Dashboard", "Inbox"]},
    "en": {"inbox": "Inbox", "dashboard": "Dashboard", "logout": "Log out",
           "month": "November 2026", "foreign": ["Abmelden", "Übersicht", "Eingang"]},
}


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_desk_in_the_browsers_language(
    live: LiveDesk, browser: Browser, language: str
) -> None:
    """Chromium's locale sets Accept-Language: the same desk in German and in English,
    axe-clean in both, screenshots of each (desk-inbox-de.png, desk-dashboard-en.png…)."""
    words = DESK_WORDS[language]
    locale = {"de": "de-DE", "en": "en-GB"}[language]
    context = browser.new_context(
        bypass_csp=True, viewport={"width": 1280, "height": 900}, locale=locale
    )
    page = context.new_page()
    try:
        page.goto(f"{live.url}/login")
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.locator("#email").fill(MODERATOR)
        page.locator("#password").fill(PASSWORD)
        page.locator("button[type=submit]").click()
        expect(page.get_by_role("heading", name=words["inbox"], exact=True)).to_be_visible()
        expect(page.get_by_role("button", name=words["logout"])).to_be_visible()
        accessible(page, f"inbox ({language})")
        shot(page, f"inbox-{language}")
        body = page.locator("body").inner_text()
        for word in words["foreign"]:
            assert word not in body, (language, word)

        page.goto(f"{live.url}/dashboard?view=month")
        expect(page.locator("h1")).to_have_text(words["dashboard"])
        expect(page.locator("#calendar-heading")).to_contain_text(words["month"])
        accessible(page, f"dashboard ({language})")
        shot(page, f"dashboard-{language}")

        page.goto(f"{live.url}/notifications")
        accessible(page, f"notifications ({language})")
        shot(page, f"notifications-{language}")
    finally:
        context.close()

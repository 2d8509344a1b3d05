"""The approval portal in a real browser (Debian's Chromium, driven by Playwright).

An editor's branch is on the site's remote (a bare repository); the review is requested
and the link read from the outbox mail. The approver opens it, sees the post rendered by
the preview build and the X and Facebook versions of the snippet, approves both, and the
commit on the branch holds approvals that ``dialogpress approvals`` counts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from publish.cli import main
from publish.notify.mail import OutboxMailer
from tests.publish.web.browser import CHROMIUM, CHROMIUM_ARGS, accessible, shot
from tests.publish.web.conftest import Desk, make_desk
from tests.publish.web.portal_site import (
    BRANCH,
    LENA,
    PETRA,
    POST,
    SNIPPET,
    SNIPPET_X,
    PortalSite,
    git,
    make_portal_site,
    portal,
)


@pytest.fixture
def site(tmp_path: Path) -> PortalSite:
    return make_portal_site(tmp_path / "world")


@pytest.fixture
def live(site: PortalSite, tmp_path: Path) -> Iterator[tuple[str, Desk]]:
    desk = make_desk(site.desk_root, tmp_path, environ=site.environ)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, desk.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", desk
    finally:
        server.shutdown()
        thread.join(timeout=10)
        desk.store.dispose()


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        # axe is added to each page as a script; the desk's CSP allows only its own scripts.
        # The approver's browser asks for German (Chromium's own default is en-US)
        context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900},
                                      locale="de-DE")
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_an_approver_approves_in_the_browser_and_the_branch_has_valid_approvals(
    live: tuple[str, Desk], site: PortalSite, page: Page
) -> None:
    url, desk = live
    outcome = portal(desk).request_review(
        desk.store, branch=BRANCH, base="main", approvers=[PETRA], requested_by=LENA[1],
        note="Bitte bis Freitag freigeben", now=desk.clock.now,
    )
    mail = OutboxMailer.messages(site.desk_root / ".dialogpress" / "outbox")[-1]
    found = re.search(r"/portal/\d+/[A-Za-z0-9_-]+", mail.get_content())  # type: ignore[attr-defined]
    assert found is not None

    page.goto(url + found.group(0))
    expect(page.get_by_role("heading", name="Guten Tag Petra Schulz")).to_be_visible()
    accessible(page, "portal welcome")
    page.get_by_role("button", name="Vorschau öffnen").click()
    expect(page).to_have_url(f"{url}/portal/{outcome.review_id}")
    expect(page.get_by_role("heading", name="Zur Freigabe, Petra Schulz")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"].startswith("__Host-dp-portal"))
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Lax")

    # the post as the site's theme renders it, from the preview build of the branch
    post = page.frame_locator("iframe.post-preview")
    expect(post.get_by_role("heading", name="Winterservice: So kommen Sie gut durch den Frost")
           ).to_be_visible()
    expect(post.locator("body")).to_contain_text("Wenn die Temperaturen unter null fallen")
    # with the theme's stylesheet and the post's picture, as the site will show them
    frame = page.frame_locator("iframe.post-preview")
    assert frame.locator("link[rel=stylesheet]").count() >= 1
    assert frame.locator("body").evaluate(
        "body => getComputedStyle(body).fontFamily !== '' && document.styleSheets.length > 0"
        " && [...document.styleSheets].every(s => s.cssRules.length > 0)"
    )
    for image in frame.locator("main img").all():
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")

    # the snippet as X shows it (link shortened, thread in order) and as Facebook shows it
    x = page.get_by_role("article", name="Vorschau auf X")
    expect(x).to_contain_text(SNIPPET_X)
    expect(x).to_contain_text("service.stadtwerke-elbta…")
    expect(x.locator(".network-post")).to_have_count(2)
    expect(x.locator(".network-post").nth(1)).to_contain_text("2/2 Rohrbruch?")
    expect(x).to_contain_text("von 280 Zeichen (wie X zählt)")
    facebook = page.get_by_role("article", name="Vorschau auf Facebook")
    expect(facebook).to_contain_text("Mit fünf einfachen Tipps")
    card = facebook.locator(".link-card")
    expect(card).to_contain_text("Winterservice: So kommen Sie gut durch den Frost")
    expect(card).to_contain_text("SERVICE.STADTWERKE-ELBTAL.DE")
    picture = card.locator("img")
    expect(picture).to_have_attribute("alt", "Unser Service-Team im Kundenzentrum")
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator("body")).to_contain_text("geplant für Di., 15. Dez. 2026, 09:00 MEZ")
    accessible(page, "portal review")
    shot(page, "portal-review")

    before = site.tip()
    page.get_by_role("button", name="Alle 2 freigeben").click()
    expect(page.get_by_text("Danke: Ihre Freigabe ist gespeichert.")).to_be_visible()
    expect(page.get_by_text("Sie haben alle Beiträge dieser Freigabe freigegeben.")).to_be_visible()
    expect(page.get_by_text("Von Ihnen freigegeben.")).to_have_count(2)
    shot(page, "portal-approved")

    assert site.tip() != before
    git(site.editor, "pull", "-q", "--ff-only")
    listed = CliRunner().invoke(
        main, ["approvals", POST, SNIPPET, "-s", str(site.editor / "pelicanconf.py")]
    )
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    states = [line.split()[0] for line in lines if line.endswith(("Frost", "Winterservice"))]
    assert states == ["approved", "approved"], listed.output
    portal_lines = [line for line in lines if "via the portal" in line]
    assert len(portal_lines) == 2
    assert all(
        line.strip().startswith("ok: Petra Schulz <petra.schulz@stadtwerke-elbtal.example>")
        for line in portal_lines
    )


PORTAL_WORDS = {
    "de": ("Guten Tag Petra Schulz", "Vorschau öffnen", "Zur Freigabe, Petra Schulz",
           "Vorschau auf X", re.compile(r"geplant für Di\., 15\. Dez\. 2026, 09:00 MEZ")),
    "en": ("Hello Petra Schulz", "Open the preview", "For your approval, Petra Schulz",
           "Preview on X", re.compile(r"scheduled for Tue, 15 Dec 2026, 09:00 CET")),
}


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_portal_in_the_browsers_language(
    live: tuple[str, Desk], site: PortalSite, language: str
) -> None:
    """The approver's browser language (Chromium's locale) chooses the portal's words and
    how its dates read; axe-clean in both; portal-review-de.png / -en.png."""
    url, desk = live
    hello, open_preview, heading, x_preview, scheduled = PORTAL_WORDS[language]
    portal(desk).request_review(
        desk.store, branch=BRANCH, base="main", approvers=[PETRA], requested_by=LENA[1],
        note="Bitte bis Freitag freigeben", now=desk.clock.now,
    )
    mail = OutboxMailer.messages(site.desk_root / ".dialogpress" / "outbox")[-1]
    found = re.search(r"/portal/\d+/[A-Za-z0-9_-]+", mail.get_content())  # type: ignore[attr-defined]
    assert found is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            bypass_csp=True, viewport={"width": 1280, "height": 900},
            locale={"de": "de-DE", "en": "en-GB"}[language],
        )
        try:
            page = context.new_page()
            page.goto(url + found.group(0))
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.get_by_role("heading", name=hello)).to_be_visible()
            accessible(page, f"portal welcome ({language})")
            shot(page, f"portal-welcome-{language}", prefix="")
            page.get_by_role("button", name=open_preview).click()
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            expect(page.get_by_role("article", name=x_preview)).to_be_visible()
            expect(page.locator("body")).to_contain_text(scheduled)
            accessible(page, f"portal review ({language})")
            shot(page, f"portal-review-{language}", prefix="")
        finally:
            context.close()
            browser.close()

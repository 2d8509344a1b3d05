"""The agency desk in a real browser (Debian's Chromium, driven by Playwright): three
client sites in one database; Lena, moderator at Bäckerei Müller and editor at Autohaus
Schmidt, logs in once, sees exactly those two sites' items in the overview, ordered by
due time across the sites, follows one into Müller's desk, and is refused (403) at
Zahnarzt Weber. axe-core checks the overview; screenshots go to tests/screenshots/."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from werkzeug.serving import BaseWSGIServer, make_server

from tests.publish.web.agency_site import LENA, SITES, AgencyDesk, make_agency
from tests.publish.web.browser import accessible, shot
from tests.publish.web.conftest import PASSWORD


@pytest.fixture(scope="module")
def live(
    site_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, AgencyDesk]]:
    agency = make_agency(tmp_path_factory.mktemp("agency-browser"), site_root, secure=False)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, agency.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", agency
    finally:
        server.shutdown()
        thread.join(timeout=10)
        agency.store.dispose()


def test_a_moderator_of_two_clients_sees_both_and_nothing_of_the_third(
    live: tuple[str, AgencyDesk], browser: Browser
) -> None:
    url, agency = live
    agency.comment("schmidt", "s_overdue", timedelta(minutes=-40))
    weber = agency.comment("weber", "w_overdue", timedelta(hours=-2))
    overdue = agency.comment("mueller", "m_overdue", timedelta(minutes=-25))
    agency.late_post("schmidt", "social/advent.md", timedelta(minutes=-10))
    agency.late_post("weber", "social/weber.md", timedelta(hours=-1))
    agency.comment(
        "mueller", "m_escalated", timedelta(minutes=-3), state="escalated", escalated_to="chefin"
    )
    context = browser.new_context(
        bypass_csp=True, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    page = context.new_page()
    try:
        page.goto(f"{url}/")
        page.get_by_label("E-mail address").fill(LENA)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="All clients")).to_be_visible()
        rows = page.locator("table.agency tbody tr")
        sites = [row.get_attribute("data-site") for row in rows.all()]
        kinds = [
            re.search(r"item-([a-z-]+)", row.get_attribute("class") or "").group(1)  # type: ignore[union-attr]
            for row in rows.all()
        ]
        # Schmidt's comment is not Lena's to see (she edits there); its late post is
        assert list(zip(kinds, sites, strict=True)) == [
            ("overdue", "mueller"),
            ("late", "schmidt"),
            ("escalated", "mueller"),
        ], page.content()
        expect(page.get_by_text(SITES["weber"])).to_have_count(0)
        accessible(page, "agency overview")
        shot(page, "overview", prefix="agency-")
        # one login: the item opens the comment in Müller's own desk
        page.get_by_role("link", name="Comment overdue").click()
        assert page.url == f"{url}/sites/mueller/inbox/{overdue}"
        expect(page.get_by_role("link", name="All clients")).to_be_visible()
        # the third client's desk: refused, whatever the page
        for path in (
            "/sites/weber/inbox",
            f"/sites/weber/inbox/{weber}",
            "/sites/weber/dashboard",
        ):
            response = page.goto(f"{url}{path}")
            assert response is not None and response.status == 403, path
            expect(page.get_by_text("You have no role on this site.")).to_be_visible()
    finally:
        context.close()

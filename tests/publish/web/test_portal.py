"""The approval portal over HTTP (Flask's test client), on real git: a bare remote, an
editor's clone, the desk's own clone, real ssh-keygen signatures and the outbox mail.

The approver's browser is a :class:`DeskClient` that keeps the cookies the desk sets;
what lands in git is read in the editor's clone after ``git pull``, with the same
commands the editors use (``dialogpress approvals``, ``dialogpress review``).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from werkzeug.serving import make_server

import publish.review.portal_writes as portal_library
from editorial.approvals import approval_state
from editorial.pieces import load_site
from editorial.settings import load_settings
from publish.cli import main
from publish.notify.mail import OutboxMailer
from publish.review import requests as reviews
from publish.review.portal import PortalError
from publish.review.requests import ReviewError
from publish.web.devserver import MaskingRequestHandler, mask
from tests.publish.web.conftest import Desk, make_desk
from tests.publish.web.portal_site import (
    BRANCH,
    JONAS,
    LENA,
    LINK,
    PETRA,
    POST,
    SNIPPET,
    SNIPPET_X,
    PortalSite,
    git,
    make_portal_site,
    open_review,
    outbox,
    portal,
    request_review,
    shown,
)


@pytest.fixture
def site(tmp_path: Path) -> PortalSite:
    return make_portal_site(tmp_path / "world")


@pytest.fixture
def desk(site: PortalSite, tmp_path: Path, store_template: Path) -> Iterator[Desk]:
    made = make_desk(site.desk_root, tmp_path, store_template, environ=site.environ)
    try:
        yield made
    finally:
        made.store.dispose()


def cli(site_root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [*args, "-s", str(site_root / "pelicanconf.py")], env=env)


def test_an_approver_approves_everything_and_the_branch_gets_valid_portal_approvals(
    desk: Desk, site: PortalSite
) -> None:
    review_id, link = request_review(desk)
    to, subject, text = outbox(site)[0]
    assert to == PETRA and "Freigabe erbeten" in subject
    assert "Bitte bis Freitag freigeben" in text and "7 Tage" in text

    browser = open_review(desk, link)
    page = browser.get(f"/portal/{review_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # the post from the preview build, and each network's version of the snippet
    assert 'class="post-preview"' in html and "/preview/" in html
    assert 'aria-label="Vorschau auf X"' in html and 'aria-label="Vorschau auf Facebook"' in html
    assert SNIPPET_X in html and "service.stadtwerke-elbta…" in html
    assert "Thread mit 2 Beiträgen" in html
    assert "Winterservice: So kommen Sie gut durch den Frost" in html  # the link card
    assert "SERVICE.STADTWERKE-ELBTAL.DE" in html
    # the site's language (no Accept-Language) and zone, as Germans write it
    assert "Di., 15. Dez. 2026, 09:00 MEZ" in html
    assert re.search(r"\d+ von 280 Zeichen \(wie X zählt\)", html)
    before = site.tip()

    # the approve-all form carries both pieces with the versions shown
    pieces = shown(html)
    assert set(pieces) == {POST, SNIPPET}
    done = browser.post(
        f"/portal/{review_id}/approve", {"piece": list(pieces), "hash": list(pieces.values())}
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    after = site.tip()
    assert after != before
    assert git(site.remote, "log", "-1", "--format=%an <%ae>|%s", BRANCH) == (
        "dialogpress portal <portal@dialogpress.invalid>|Approve 2 pieces for Petra Schulz via "
        "the portal"
    )
    # the editor's own history is an ancestor: nothing was forced
    git(site.remote, "merge-base", "--is-ancestor", before, after)

    site.pull()
    listed = cli(site.editor, "approvals", POST, SNIPPET)
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("approved  ") == 2, listed.output
    assert listed.output.count(
        "ok: Petra Schulz <petra.schulz@stadtwerke-elbtal.example> approved"
    ) == 2
    assert "via the portal (signed by the portal's key)" in listed.output
    as_json = json.loads(cli(site.editor, "approvals", SNIPPET, "--format", "json").output)
    assert as_json[0]["state"] == "approved"
    assert as_json[0]["approvals"][0]["via"] == "portal"

    # the page now says so, and the editor got a notice
    assert "Sie haben alle Beiträge dieser Freigabe freigegeben" in browser.get(
        f"/portal/{review_id}"
    ).get_data(as_text=True)
    notice = outbox(site)[-1]
    assert notice[0] == LENA[1] and notice[1].strip().startswith("Freigegeben:")
    assert POST in notice[2] and SNIPPET in notice[2]


def test_one_piece_at_a_time_and_approving_twice_writes_once(
    desk: Desk, site: PortalSite
) -> None:
    review_id, link = request_review(desk)
    browser = open_review(desk, link)
    pieces = shown(browser.get(f"/portal/{review_id}").get_data(as_text=True))
    form = {"piece": SNIPPET, "hash": pieces[SNIPPET]}
    assert browser.post(f"/portal/{review_id}/approve", form).status_code == 302
    once = site.tip()
    assert browser.post(f"/portal/{review_id}/approve", form).status_code == 302
    assert site.tip() == once, "a second click adds no second approval"
    site.pull()
    settings = load_settings(site.editor / "pelicanconf.py")
    current = load_site(settings)
    assert approval_state(current.get(SNIPPET), current).state == "approved"  # type: ignore[arg-type]
    assert approval_state(current.get(POST), current).state == "missing"  # type: ignore[arg-type]


def test_a_link_opens_the_review_once(desk: Desk, site: PortalSite) -> None:
    review_id, link = request_review(desk)
    # a mail scanner fetching the link uses up nothing
    assert desk.client(language=None).get(link).status_code == 200
    browser = open_review(desk, link)
    # the approver clicks the link again in the same browser: back to the review
    back = browser.get(link)
    assert back.status_code == 302 and back.headers["Location"] == f"/portal/{review_id}"
    before = site.tip()
    again = desk.client(language=None)
    assert again.get(link).status_code == 410
    assert "schon benutzt" in again.get(link).get_data(as_text=True)
    again.get("/login")
    refused = again.post(link)
    assert refused.status_code == 410
    assert "dp-portal" not in refused.headers.get("Set-Cookie", "")
    # without the session of the browser that opened it, the review stays closed
    assert again.get(f"/portal/{review_id}").status_code == 403
    response = again.post(f"/portal/{review_id}/approve", {"piece": SNIPPET, "hash": "x"})
    assert response.status_code in (400, 403)
    assert site.tip() == before, "nothing was written"


def test_an_expired_link_or_one_for_another_review_opens_nothing(
    desk: Desk, site: PortalSite
) -> None:
    first, link = request_review(desk)
    second, _other = request_review(desk)
    token = link.rsplit("/", 1)[1]
    browser = desk.client(language=None)
    wrong = browser.get(f"/portal/{second}/{token}")
    assert wrong.status_code == 404 and "anderen Freigabe" in wrong.get_data(as_text=True)
    assert browser.get(f"/portal/{first}/{'A' * 43}").status_code == 404
    desk.clock.advance(days=7, seconds=1)
    expired = browser.get(link)
    assert expired.status_code == 410 and "abgelaufen" in expired.get_data(as_text=True)
    browser.get("/login")
    assert browser.post(link).status_code == 410
    with desk.store.transaction() as session:
        links = reviews.list_reviews(session)
        assert all(link.used_at is None for summary in links for link in summary.links)
    assert git(site.remote, "log", "-1", "--format=%s", BRANCH) == (
        "Winterservice: post and snippet"
    )


def test_links_are_stored_only_as_hashes(desk: Desk, site: PortalSite) -> None:
    _review_id, link = request_review(desk)
    token = link.rsplit("/", 1)[1]
    database = Path(str(desk.store.url.database))
    files = [database, database.with_name(database.name + "-wal")]
    written = b"".join(f.read_bytes() for f in files if f.exists())
    assert reviews.digest(token).encode() in written
    assert token.encode() not in written


def test_a_change_pushed_after_the_link_was_sent_is_shown_before_it_is_approved(
    desk: Desk, site: PortalSite
) -> None:
    review_id, link = request_review(desk)
    browser = open_review(desk, link)
    old = shown(browser.get(f"/portal/{review_id}").get_data(as_text=True))
    # the approver approves the snippet as it was; then the editor changes it
    assert browser.post(
        f"/portal/{review_id}/approve", {"piece": SNIPPET, "hash": old[SNIPPET]}
    ).status_code == 302
    site.edit_and_push(SNIPPET, "fünf Tipps für den Winter", "sechs Tipps für den Winter")
    site.pull()
    stale = cli(site.editor, "approvals", SNIPPET)
    assert stale.output.startswith("stale"), stale.output

    # the page, loaded again, shows the new text and says it changed
    page = browser.get(f"/portal/{review_id}").get_data(as_text=True)
    assert "sechs Tipps für den Winter" in page
    assert "Geändert, seit der Link verschickt wurde" in page
    new = shown(page)
    assert new[SNIPPET] != old[SNIPPET]

    # the editor changes the post while the approver has the page open: approving the
    # version on screen writes nothing and shows the new one
    tip = site.edit_and_push(POST, "Fünf Tipps gegen", "Sechs Tipps gegen")
    refused = browser.post(
        f"/portal/{review_id}/approve", {"piece": list(new), "hash": list(new.values())}
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Neue Fassung" in text and "nichts freigegeben" in text
    assert "Sechs Tipps gegen" in text
    assert site.tip() == tip, "nothing was written"

    # approving what is shown now works, for both
    latest = shown(text)
    assert browser.post(
        f"/portal/{review_id}/approve", {"piece": list(latest), "hash": list(latest.values())}
    ).status_code == 302
    site.pull()
    listed = cli(site.editor, "approvals", POST, SNIPPET)
    assert listed.output.count("approved  ") == 2, listed.output


def test_the_portal_cannot_approve_for_an_approver_the_settings_do_not_list(
    desk: Desk, site: PortalSite
) -> None:
    # Jonas is an approver (with his own key), but PORTAL_SIGNER does not list him
    with pytest.raises(ReviewError, match="the portal may not sign for jonas"):
        request_review(desk, [JONAS])
    editor = desk.login("editor")
    editor.get("/reviews")
    page = editor.post("/reviews", {"branch": BRANCH, "base": "main", "approver": JONAS})
    assert page.status_code == 422
    assert "the portal may not sign for jonas" in page.get_data(as_text=True)

    # a branch that lists him in its own settings does not change the desk's mind
    settings = site.editor / "pelicanconf.py"
    git(site.editor, "pull", "-q")
    settings.write_text(
        settings.read_text(encoding="utf-8")
        + f"\nPORTAL_SIGNER = {{**PORTAL_SIGNER, 'approvers': [{PETRA!r}, {JONAS!r}]}}\n",
        encoding="utf-8",
    )
    git(site.editor, "commit", "-q", "-am", "Let the portal sign for Jonas")
    git(site.editor, "push", "-q")
    with desk.store.transaction() as session:
        made, invitations = reviews.create_review(
            session, branch=BRANCH, base="main", head=site.tip(),
            pieces=[reviews.RequestedPiece(SNIPPET, "sha256:x", "Winterservice")],
            approvers=[JONAS], requested_by=LENA[1], note=None, now=desk.clock.now,
            link_lifetime=timedelta(days=7),
        )
        review_id, token = made.id, invitations[0].token
    browser = desk.client(language=None)
    browser.get(f"/portal/{review_id}/{token}")
    assert browser.post(f"/portal/{review_id}/{token}").status_code == 302
    before = site.tip()
    form = shown(browser.get(f"/portal/{review_id}").get_data(as_text=True))
    refused = browser.post(
        f"/portal/{review_id}/approve", {"piece": SNIPPET, "hash": form[SNIPPET]}
    )
    assert refused.status_code == 422
    assert "the portal may not sign for jonas" in refused.get_data(as_text=True)
    assert site.tip() == before

    # and the library refuses directly as well
    with desk.store.transaction() as session:
        link = session.get(reviews.ReviewLink, invitations[0].link_id)
        assert link is not None
        session.expunge(link)
    with pytest.raises(PortalError, match="the portal may not sign for jonas"):
        portal(desk).approve(made, link, form, desk.clock.now)


def test_requested_changes_reach_the_review_report_and_the_editor(
    desk: Desk, site: PortalSite
) -> None:
    review_id, link = request_review(desk)
    browser = open_review(desk, link)
    pieces = shown(browser.get(f"/portal/{review_id}").get_data(as_text=True))
    empty = browser.post(f"/portal/{review_id}/changes", {"piece": POST, "hash": pieces[POST],
                                                          "comment": "  "})
    assert empty.status_code == 422
    comment = "Bitte „Rohrbruch“ durch „geplatzte Leitung“ ersetzen – das versteht jeder."
    response = browser.post(
        f"/portal/{review_id}/changes", {"piece": POST, "hash": pieces[POST], "comment": comment}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert git(site.remote, "log", "-1", "--format=%s", BRANCH).startswith(
        "Changes requested by Petra Schulz via the portal"
    )
    site.pull()
    report = cli(site.editor, "review", "--base", "origin/main")
    assert report.exit_code in (0, 1), report.output
    assert comment in report.output
    assert "Changes requested" in report.output and "via the portal" in report.output
    as_json = json.loads(cli(site.editor, "review", "--base", "origin/main", "--format",
                             "json").output)
    post = next(i for i in as_json["pieces"] if i["id"] == POST)
    assert post["change_requests"][0]["comment"] == comment
    assert post["change_requests"][0]["current_version"] is True
    # a change request is not content: it leaves approvals as they were
    assert post["approval"]["state"] == "missing"

    notice = outbox(site)[-1]
    assert notice[0] == LENA[1] and "Änderungen erbeten" in notice[1]
    assert comment in notice[2]
    editor = desk.login("editor")
    reviews_page = editor.get("/reviews").get_data(as_text=True)
    assert "changes requested" in reviews_page and "geplatzte Leitung" in reviews_page
    dashboard = editor.get("/dashboard").get_data(as_text=True)
    assert f"{PETRA} asked for changes to <code>{POST}</code>" in dashboard
    assert "geplatzte Leitung" in dashboard


def test_an_editor_requests_a_review_in_the_desk(desk: Desk, site: PortalSite) -> None:
    editor = desk.login("editor")
    page = editor.get("/reviews").get_data(as_text=True)
    assert f"<option>{BRANCH}</option>" in page and "Petra Schulz" in page
    response = editor.post(
        "/reviews", {"branch": BRANCH, "base": "main", "approver": PETRA, "note": "Danke!"}
    )
    assert response.status_code == 302
    listing = editor.get("/reviews").get_data(as_text=True)
    assert "link sent to petra.schulz@stadtwerke-elbtal.example" in listing
    assert "Review 1: winterservice" in listing
    assert outbox(site)[-1][0] == PETRA
    # approvers see the list, but only admins and editors may send
    assert desk.login("approver").post("/reviews", {"branch": BRANCH}).status_code == 403


def test_request_review_on_the_command_line(desk: Desk, site: PortalSite, tmp_path: Path) -> None:
    env = {"DP_DATABASE_URL": str(desk.store.url), "DP_ACTOR": LENA[1]}
    done = cli(site.editor, "request-review", "--to", PETRA, "--format", "json", env=env)
    assert done.exit_code == 0, done.output
    outcome = json.loads(done.output)
    assert outcome["pieces"] == [POST, SNIPPET] and outcome["sent"] == [PETRA]
    mails = OutboxMailer.messages(site.editor / ".dialogpress" / "outbox")
    found = LINK.search(mails[-1].get_content())  # type: ignore[attr-defined]
    assert found is not None
    # the desk opens the link: the review is in the store both share
    open_review(desk, found.group(1))
    listed = cli(site.editor, "reviews", env=env)
    assert "link opened" in listed.output and f"review {outcome['review']}" in listed.output

    # an unpushed commit: the approver would see an older text
    (site.editor / "content" / POST).write_text(
        site.read(POST).replace("Fünf Tipps", "Sieben Tipps"), encoding="utf-8"
    )
    git(site.editor, "commit", "-q", "-am", "Not pushed yet")
    refused = cli(site.editor, "request-review", "--to", PETRA, env=env)
    assert refused.exit_code == 1
    assert "push first" in refused.output
    unknown = cli(site.editor, "request-review", "--to", "someone@example.org", env=env)
    assert unknown.exit_code == 1 and "is not an approver in trust.yml" in unknown.output


def test_the_preview_is_only_for_the_review_and_may_not_run_scripts(
    desk: Desk, site: PortalSite
) -> None:
    review_id, link = request_review(desk)
    browser = open_review(desk, link)
    page = browser.get(f"/portal/{review_id}").get_data(as_text=True)
    source = re.search(r'<iframe class="post-preview" src="([^"]+)"', page)
    assert source is not None
    framed = browser.get(source.group(1))
    assert framed.status_code == 200
    assert "Winterservice: So kommen Sie gut durch den Frost" in framed.get_data(as_text=True)
    assert framed.headers["Content-Security-Policy"].startswith("sandbox allow-same-origin;")
    assert "script-src 'none'" in framed.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert desk.client(language=None).get(source.group(1)).status_code == 403
    elsewhere = source.group(1).replace("/winterservice.html", "/../../../pelicanconf.py")
    assert browser.get(elsewhere).status_code == 404
    main_sha = git(site.remote, "rev-parse", "main^")
    other = re.sub(r"/preview/[0-9a-f]+/", f"/preview/{main_sha}/", source.group(1))
    assert browser.get(other).status_code == 404


def test_the_desk_server_logs_no_magic_link(
    desk: Desk, site: PortalSite, caplog: pytest.LogCaptureFixture
) -> None:
    review_id, link = request_review(desk)
    token = link.rsplit("/", 1)[1]
    server = make_server(
        "127.0.0.1", 0, desk.app, threaded=True, request_handler=MaskingRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO, logger="werkzeug")
    try:
        answer = requests.get(f"http://127.0.0.1:{server.server_port}{link}", timeout=10)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert answer.status_code == 200 and "Guten Tag Petra Schulz" in answer.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"/portal/{review_id}/***" in logged
    assert token not in logged
    # the portal's own routes stay readable in the log
    assert mask(f"POST /portal/{review_id}/approve HTTP/1.1") == (
        f"POST /portal/{review_id}/approve HTTP/1.1"
    )
    assert mask(f"GET /portal/{review_id}/preview/ab12/x.html") == (
        f"GET /portal/{review_id}/preview/ab12/x.html"
    )
    assert mask(f"GET /portal/{review_id}/approveXyz_-1 HTTP/1.1") == (
        f"GET /portal/{review_id}/*** HTTP/1.1"
    )


@pytest.mark.parametrize("edit", ["another file", "the approved piece"])
def test_an_editor_pushing_while_the_portal_commits_is_never_overwritten(
    desk: Desk, site: PortalSite, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    """The editor's push lands between the portal's checkout and its push: the portal's
    push is rejected, it fetches, and decides again on the editor's commit."""
    review_id, link = request_review(desk)
    browser = open_review(desk, link)
    pieces = shown(browser.get(f"/portal/{review_id}").get_data(as_text=True))
    real = portal_library.write_approval
    pushed: list[str] = []

    def editor_pushes_first(*args: object) -> None:
        if not pushed:
            if edit == "another file":
                pushed.append(site.edit_and_push(POST, "Fünf Tipps gegen", "Sechs Tipps gegen"))
            else:
                pushed.append(site.edit_and_push(SNIPPET, "fünf Tipps für", "sechs Tipps für"))
        real(*args)  # type: ignore[arg-type]

    # the one seam: the editor's push happens while the portal writes the approval
    monkeypatch.setattr(portal_library, "write_approval", editor_pushes_first)
    response = browser.post(
        f"/portal/{review_id}/approve", {"piece": SNIPPET, "hash": pieces[SNIPPET]}
    )
    [editors] = pushed
    if edit == "another file":
        assert response.status_code == 302
        tip = site.tip()
        assert git(site.remote, "rev-parse", f"{tip}^") == editors, "on top, not instead"
        site.pull()
        assert "sechs" not in site.read(SNIPPET) and "Sechs Tipps gegen" in site.read(POST)
        assert cli(site.editor, "approvals", SNIPPET).output.startswith("approved")
    else:
        assert response.status_code == 409
        assert "sechs Tipps für" in response.get_data(as_text=True)
        assert site.tip() == editors, "nothing was written over the editor's change"

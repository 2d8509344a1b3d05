"""Approvals the portal signs for approvers without git, and change requests, on real git
repositories with real ssh-keygen keys.

The portal's key may speak only for the approvers the trust file's ``portal`` lists; its signature
never passes for an approver's own, nor an approver's for the portal's.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from gitsite import (
    APPROVED_AT,
    JONAS,
    LENA,
    PETRA,
    POST,
    GitSite,
    Person,
    make_keys,
    standard_site,
)

from editorial.approvals import (
    PORTAL,
    Approval,
    ApprovalError,
    content_hash,
    sign,
    sign_portal_approval,
    write_approval,
)
from editorial.change_requests import (
    ChangeRequest,
    ChangeRequestError,
    piece_change_requests,
    write_change_request,
)
from editorial.review_report import build_review, render_markdown, review_to_dict
from editorial.trust import TrustError, load_trust

SNIP = "social/2026-11-24-advent.md"
POST_ID = "posts/service-im-advent.md"


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    made = make_keys(folder)
    portal = folder / "portal"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "portal", "-f", str(portal)],
        check=True,
    )
    made["portal"] = portal
    return made


def portal_settings(keys: dict[str, Path], approvers: list[Person]) -> dict[str, Any]:
    """GitSite arguments for a trust file whose portal may sign for ``approvers``."""
    key = keys["portal"].with_suffix(".pub").read_text().strip()
    return {"portal": key, "portal_for": tuple(approvers)}


@pytest.fixture
def site(tmp_path: Path, keys: dict[str, Path]) -> GitSite:
    return standard_site(tmp_path / "site", keys, **portal_settings(keys, [PETRA]))


def portal_approve(site: GitSite, piece_id: str, who: str, **extra: object) -> Approval:
    current = site.site()
    piece = site.piece(piece_id, current)
    approval = sign_portal_approval(
        piece, current, site.keys["portal"], who, APPROVED_AT, **extra  # type: ignore[arg-type]
    )
    write_approval(piece, approval)
    return approval


def test_a_portal_approval_counts_for_a_listed_approver(site: GitSite) -> None:
    approval = portal_approve(site, SNIP, PETRA.email)
    state = site.state(SNIP)
    assert state.state == "approved"
    assert approval.via == PORTAL
    assert [(c.verdict, c.approval.via, c.approval.approver) for c in state.approvals] == [
        ("valid", "portal", PETRA.email)
    ]
    assert "via: \"portal\"" in site.read(SNIP)


def test_the_portal_refuses_to_sign_for_an_approver_it_is_not_allowed_to(site: GitSite) -> None:
    with pytest.raises(ApprovalError, match="may not sign for jonas"):
        portal_approve(site, SNIP, JONAS.email)
    assert "approvals" not in site.read(SNIP)


def test_a_portal_signature_for_an_unlisted_approver_is_invalid(site: GitSite) -> None:
    piece = site.piece(SNIP)
    forged = Approval(SNIP, content_hash(piece), JONAS.email, APPROVED_AT, via=PORTAL)
    write_approval(piece, sign(forged, site.keys["portal"]))
    state = site.state(SNIP)
    assert state.state == "invalid"
    assert "the portal may not sign for jonas.weber" in state.approvals[0].reason


def test_the_portals_key_cannot_pass_for_an_approvers_own(site: GitSite) -> None:
    piece = site.piece(SNIP)
    claimed = Approval(SNIP, content_hash(piece), PETRA.email, APPROVED_AT)  # no via
    write_approval(piece, sign(claimed, site.keys["portal"]))
    state = site.state(SNIP)
    assert state.state == "invalid"
    assert "signed with the key of the portal, not of petra" in state.approvals[0].reason


def test_an_approvers_own_key_cannot_pass_for_the_portal(site: GitSite) -> None:
    piece = site.piece(SNIP)
    claimed = Approval(SNIP, content_hash(piece), PETRA.email, APPROVED_AT, via=PORTAL)
    write_approval(piece, sign(claimed, site.keys[PETRA.email]))
    state = site.state(SNIP)
    assert state.state == "invalid"
    assert "not of the portal" in state.approvals[0].reason


def test_removing_via_from_a_portal_approval_breaks_it(site: GitSite) -> None:
    portal_approve(site, SNIP, PETRA.email)
    site.write(SNIP, site.read(SNIP).replace('    via: "portal"\n', ""))
    assert "via" not in site.read(SNIP)
    assert site.state(SNIP).state == "invalid"


def test_the_portal_signs_only_the_version_that_was_shown(site: GitSite) -> None:
    shown = content_hash(site.piece(SNIP))
    site.edit(SNIP, "Im Advent länger für Sie da!", "Im Advent noch länger für Sie da!")
    site.commit(LENA, "Longer")
    with pytest.raises(ApprovalError, match="changed since it was shown"):
        portal_approve(site, SNIP, PETRA.email, expected_hash=shown)
    assert "approvals" not in site.read(SNIP)


def test_an_edit_after_a_portal_approval_makes_it_stale(site: GitSite) -> None:
    portal_approve(site, SNIP, PETRA.email)
    site.commit(LENA, "Approval from the portal")
    site.edit(SNIP, "Im Advent länger für Sie da!", "Im Advent noch länger für Sie da!")
    site.commit(LENA, "Longer")
    assert site.state(SNIP).state == "stale"


def test_the_portal_refuses_a_self_approval(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = standard_site(tmp_path / "site", keys, **portal_settings(keys, [PETRA]))
    site.edit(SNIP, "Im Advent länger", "Im Advent viel länger")
    site.commit(PETRA, "Petra edits the snippet herself")
    with pytest.raises(ApprovalError, match=r"petra\.schulz@stadtwerke-elbtal\.example is an"):
        portal_approve(site, SNIP, PETRA.email)


@pytest.mark.parametrize(
    "portal,message",
    [
        ("portal: {key: ssh-ed25519 AAAA, approvers: [x@y.test]}",
         "x@y.test is not in approvers"),
        ("portal: {key: nonsense}", "is not an SSH public key"),
        ("portal: [ssh-ed25519 AAAA]", "must be a mapping with key and approvers"),
    ],
)
def test_the_portal_in_the_trust_file_is_checked(
    tmp_path: Path, keys: dict[str, Path], portal: str, message: str
) -> None:
    site = GitSite(tmp_path / "site", keys, [PETRA], trust_extra=portal + "\n")
    site.write("posts/service-im-advent.md", POST)
    site.commit(LENA, "Start")
    with pytest.raises(TrustError, match=message):
        load_trust(site.root)


def test_the_portal_key_may_not_be_an_approvers_key(tmp_path: Path, keys: dict[str, Path]) -> None:
    own = keys[PETRA.email].with_suffix(".pub").read_text().strip()
    site = GitSite(tmp_path / "site", keys, [PETRA], portal=own, portal_for=(PETRA,))
    site.write("posts/service-im-advent.md", POST)
    site.commit(LENA, "Start")
    with pytest.raises(TrustError, match="needs a key of its own"):
        load_trust(site.root)


# --- change requests ---------------------------------------------------------------------


def request(site: GitSite, piece_id: str, comment: str) -> ChangeRequest:
    piece = site.piece(piece_id)
    made = ChangeRequest(piece_id, content_hash(piece), PETRA.email, APPROVED_AT, comment, PORTAL)
    write_change_request(piece, made)
    return made


def test_a_change_request_changes_neither_hash_nor_authorship(site: GitSite) -> None:
    before = content_hash(site.piece(SNIP))
    request(site, SNIP, "Bitte „länger“ durch „bis 20 Uhr“ ersetzen.")
    site.commit(JONAS, "Change request from the portal")
    piece = site.piece(SNIP)
    assert content_hash(piece) == before
    assert [r.comment for r in piece_change_requests(piece)] == [
        "Bitte „länger“ durch „bis 20 Uhr“ ersetzen."
    ]
    # Jonas committed only the request: he may still approve the piece
    site.approve(SNIP, JONAS)
    assert site.state(SNIP).state == "approved"


def test_the_review_report_shows_change_requests(site: GitSite) -> None:
    site.git("checkout", "-q", "-b", "advent-2")
    site.edit(SNIP, "Im Advent länger", "Im Advent deutlich länger")
    site.commit(LENA, "Edit")
    request(site, SNIP, "Bitte die Öffnungszeiten nennen.")
    markdown = render_markdown(build_review(site.site(), "main"))
    assert "**Changes requested:**" in markdown
    assert "petra.schulz@stadtwerke-elbtal.example on 2026-11-20 10:15 +0100 via the portal" in (
        markdown
    )
    assert "Bitte die Öffnungszeiten nennen." in markdown
    assert "💬 changes requested" in markdown
    data = review_to_dict(build_review(site.site(), "main"))
    entry = next(p for p in data["pieces"] if p["id"] == SNIP)
    assert entry["change_requests"][0]["current_version"] is True

    site.edit(SNIP, "Im Advent deutlich länger", "Im Advent bis 20 Uhr")
    later = render_markdown(build_review(site.site(), "main"))
    assert "(about an earlier version)" in later
    assert "💬 changes requested" not in later


def test_a_change_request_needs_a_comment(site: GitSite) -> None:
    piece = site.piece(SNIP)
    empty = ChangeRequest(SNIP, content_hash(piece), PETRA.email, APPROVED_AT + timedelta(1), " ")
    with pytest.raises(ChangeRequestError, match="needs a comment"):
        write_change_request(piece, empty)

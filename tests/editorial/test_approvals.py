"""Approvals on real git repositories with real ssh-keygen keys.

Every test builds a site in tmp_path (see tests/gitsite.py), commits as the people
involved, signs with keys generated once per session, and asks for the approval state
the way the CLI, the build and the scheduler do.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from gitsite import (
    APPROVED_AT,
    JONAS,
    LEAD,
    LENA,
    MALLORY,
    PETRA,
    POST,
    SNIPPET,
    GitSite,
    jpeg,
    make_keys,
    standard_site,
)

from editorial.approvals import (
    Approval,
    ApprovalError,
    approval_findings,
    approval_states,
    content_hash,
    sign,
    sign_approval,
    write_approval,
)
from editorial.pieces import load_site
from editorial.settings import load_settings

SNIP = "social/2026-11-24-advent.md"
POST_ID = "posts/service-im-advent.md"


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def site(tmp_path: Path, keys: dict[str, Path]) -> GitSite:
    return standard_site(tmp_path / "site", keys)


def forged(site: GitSite, piece_id: str, signer: str, claimed: str) -> Approval:
    """An approval of the piece's current content claiming ``claimed``, signed by ``signer``."""
    piece = site.piece(piece_id)
    approval = Approval(piece_id, content_hash(piece), claimed, APPROVED_AT)
    signed = sign(approval, site.keys[signer])
    write_approval(piece, signed)
    return signed


# --- content hash ------------------------------------------------------------------------


def test_formatting_noise_leaves_the_hash_alone(site: GitSite) -> None:
    before = content_hash(site.piece(SNIP))
    noisy = (
        "---\r\n"
        "channels:   [twitter, facebook]   \r\n"
        'title: "Adventszeiten"\r\n'
        "post: service-im-advent\r\n"
        "publish_at: '2026-11-24 09:00:00'\r\n"
        "text:\r\n"
        "  twitter: Im Advent länger für Sie da!   \r\n"
        "media:\r\n"
        "  - alt: Unser Service-Team\r\n"
        "    file: images/team.jpg\r\n"
        "---\r\n"
        "\r\n"
        "Im Advent haben unsere Kundenzentren länger für Sie geöffnet. Alle Zeiten im Blog.  \r\n"
        "\r\n"
    )
    site.write(SNIP, noisy.encode("utf-8"))
    assert content_hash(site.piece(SNIP)) == before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Alle Zeiten im Blog.", "Alle Zeiten im Netz."),  # one word of the body
        ("länger für Sie da!", "länger für euch da!"),  # one word of the X text
        ("publish_at: 2026-11-24 09:00", "publish_at: 2026-11-24 10:00"),
        ("publish_at: 2026-11-24 09:00", "publish_at: 2026-11-24 09:00+00:00"),
        ("channels: [twitter, facebook]", "channels: [twitter]"),
        ("alt: Unser Service-Team", "alt: Das Team"),
    ],
)
def test_every_change_of_meaning_changes_the_hash(site: GitSite, old: str, new: str) -> None:
    before = content_hash(site.piece(SNIP))
    site.edit(SNIP, old, new)
    assert content_hash(site.piece(SNIP)) != before


def test_the_image_bytes_are_part_of_the_hash(site: GitSite) -> None:
    before = content_hash(site.piece(SNIP))
    site.write("images/team.jpg", jpeg(b"team-2"))
    assert content_hash(site.piece(SNIP)) != before


def test_an_image_in_the_post_body_is_part_of_the_hash(site: GitSite) -> None:
    site.write("images/chart.png", b"\x89PNG one")
    site.edit(POST_ID, "Wir freuen uns", "![Tabelle]({static}/images/chart.png)\n\nWir freuen uns")
    before = content_hash(site.piece(POST_ID))
    site.write("images/chart.png", b"\x89PNG two")
    assert content_hash(site.piece(POST_ID)) != before


def test_adding_an_approval_does_not_change_the_hash(site: GitSite) -> None:
    before = content_hash(site.piece(SNIP))
    site.approve(SNIP, PETRA)
    assert content_hash(site.piece(SNIP)) == before


# --- acceptance 1: approved --------------------------------------------------------------


def test_an_approver_approves_an_editors_piece_on_a_branch(site: GitSite) -> None:
    site.git("checkout", "-q", "-b", "advent")
    site.edit(SNIP, "Alle Zeiten im Blog.", "Alle Zeiten stehen im Blog.")
    site.commit(LENA, "Sharpen the snippet")
    assert site.state(SNIP).state == "missing"

    approval = site.approve(SNIP, PETRA, comment="Passt so.")
    state = site.state(SNIP)
    assert state.state == "approved", state.reasons
    assert state.approvers == [PETRA.email]
    assert state.approvals[0].approval.comment == "Passt so."
    assert state.hash == approval.hash

    site.commit(PETRA, "Approve the advent snippet")  # approval-only: Petra is no author
    assert site.state(SNIP).state == "approved"
    assert site.state(POST_ID).state == "missing"


def test_the_approval_is_written_into_the_front_matter_and_nothing_else_changes(
    site: GitSite,
) -> None:
    text = site.read(POST_ID).replace("category: Service", "category: Service   # Thema")
    site.write(POST_ID, text)
    site.commit(LENA, "Comment the category")
    site.approve(POST_ID, PETRA)
    after = site.read(POST_ID)
    assert after.startswith(text.split("---\n")[0] + "---\ntitle: Service im Advent\n")
    assert "category: Service   # Thema\n" in after
    assert after.endswith("---\n" + text.split("---\n", 2)[2])
    assert "approvals:\n  - piece: \"posts/service-im-advent.md\"\n" in after
    assert "-----BEGIN SSH SIGNATURE-----" in after

    site.approve(POST_ID, JONAS)  # appended to the same block
    assert site.read(POST_ID).count("approvals:") == 1
    assert [a.approval.approver for a in site.state(POST_ID).approvals] == [
        PETRA.email,
        JONAS.email,
    ]


def test_an_approvals_block_amid_other_fields_is_extended_in_place(site: GitSite) -> None:
    site.edit(SNIP, "post: service-im-advent", (
        "approvals: []   # the client signs here\npost: service-im-advent  # slug"))
    site.commit(LENA, "Prepare the approvals block")
    site.approve(SNIP, PETRA)
    site.approve(SNIP, JONAS)
    text = site.read(SNIP)
    assert "approvals:  # the client signs here\n  - piece:" in text
    block = text.split("approvals:", 1)[1].split("post: service-im-advent  # slug", 1)
    assert len(block) == 2 and block[0].count("- piece:") == 2
    assert site.state(SNIP).approvers == [PETRA.email, JONAS.email]


def test_an_approvals_list_in_flow_style_is_refused_untouched(site: GitSite) -> None:
    site.edit(SNIP, "post: service-im-advent", "approvals: [{piece: x}]\npost: service-im-advent")
    before = site.read(SNIP)
    with pytest.raises(ApprovalError, match="flow style"):
        site.approve(SNIP, PETRA)
    assert site.read(SNIP) == before


def test_a_crlf_file_stays_crlf(site: GitSite) -> None:
    site.write(SNIP, SNIPPET.replace("\n", "\r\n").encode("utf-8"))
    site.commit(LENA, "Windows line endings")
    site.approve(SNIP, PETRA)
    raw = (site.root / "content" / SNIP).read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert site.state(SNIP).state == "approved"


def test_one_approver_counts_once(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = standard_site(tmp_path / "site", keys, required=2)
    site.approve(SNIP, PETRA)
    site.approve(SNIP, PETRA)
    state = site.state(SNIP)
    assert state.state == "missing"
    assert state.note == "1 of 2 required approvals"
    site.approve(SNIP, JONAS)
    assert site.state(SNIP).approved


# --- acceptance 2: self-approval ---------------------------------------------------------


def test_an_approver_who_committed_the_text_cannot_approve_it(site: GitSite) -> None:
    site.edit(SNIP, "Alle Zeiten im Blog.", "Alle Zeiten finden Sie im Blog.")
    site.commit(PETRA, "Petra polishes the text herself")
    with pytest.raises(ApprovalError, match="you are an author"):
        site.approve(SNIP, PETRA)
    forged(site, SNIP, PETRA.email, PETRA.email)  # her listed key, her e-mail
    state = site.state(SNIP)
    assert state.state == "invalid"
    assert "self-approval" in state.approvals[0].reason
    assert "Petra polishes" in state.approvals[0].reason


def test_an_approver_named_in_the_front_matter_cannot_approve(site: GitSite) -> None:
    site.edit(SNIP, "title: Adventszeiten", "title: Adventszeiten\nauthors: [Petra Schulz]")
    site.commit(LENA, "Credit Petra")
    forged(site, SNIP, PETRA.email, PETRA.email)
    state = site.state(SNIP)
    assert state.state == "invalid"
    assert "self-approval" in state.reasons[0]
    assert "front matter" in state.reasons[0]


def test_uncommitted_changes_belong_to_the_current_git_user(site: GitSite) -> None:
    site.git("config", "user.email", PETRA.email)
    site.edit(SNIP, "Alle Zeiten im Blog.", "Alle Zeiten im Blog, versprochen.")
    with pytest.raises(ApprovalError, match="uncommitted"):
        site.approve(SNIP, PETRA)
    site.approve(SNIP, JONAS)
    assert site.state(SNIP).approved


def test_a_commit_changing_only_approvals_makes_nobody_an_author(site: GitSite) -> None:
    site.approve(SNIP, JONAS)
    site.commit(PETRA, "Petra commits Jonas' approval")
    site.approve(SNIP, PETRA)
    site.commit(PETRA, "Petra approves too")
    assert site.state(SNIP).approvers == [JONAS.email, PETRA.email]


# --- acceptance 3: stale -----------------------------------------------------------------


def test_editing_one_word_after_approval_makes_it_stale(site: GitSite) -> None:
    site.approve(SNIP, PETRA)
    site.commit(PETRA, "Approve")
    site.edit(SNIP, "Alle Zeiten im Blog.", "Alle Zeiten im Netz.")
    site.commit(LENA, "One more word")
    state = site.state(SNIP)
    assert state.state == "stale"
    assert "changed after Petra Schulz approved it" in state.reasons[0]


def test_replacing_the_image_after_approval_makes_it_stale(site: GitSite) -> None:
    site.approve(SNIP, PETRA)
    site.approve(POST_ID, PETRA)
    site.commit(PETRA, "Approve")
    site.write("images/team.jpg", jpeg(b"another picture"))
    site.commit(LENA, "Better photo")
    assert site.state(SNIP).state == "stale"
    assert site.state(POST_ID).state == "stale"


# --- acceptance 4: invalid ---------------------------------------------------------------


def test_a_key_not_in_approvers_is_an_unknown_approver(site: GitSite) -> None:
    forged(site, SNIP, MALLORY.email, PETRA.email)
    state = site.state(SNIP)
    assert state.state == "invalid"
    assert state.approvals[0].reason.startswith("unknown approver")
    assert "SHA256:" in state.approvals[0].reason


def test_an_e_mail_not_in_approvers_is_an_unknown_approver(site: GitSite) -> None:
    forged(site, SNIP, MALLORY.email, MALLORY.email)
    reason = site.state(SNIP).approvals[0].reason
    assert reason.startswith(
        f"unknown approver: {MALLORY.email} is not an approver in trust.yml of main"
    )


def test_another_approvers_key_is_a_bad_signature(site: GitSite) -> None:
    forged(site, SNIP, JONAS.email, PETRA.email)
    reason = site.state(SNIP).approvals[0].reason
    assert reason == (
        f"bad signature: signed with the key of {JONAS.email}, not of {PETRA.email}"
    )


@pytest.mark.parametrize(
    "field",
    ["at", "hash", "comment"],
)
def test_editing_a_signed_field_is_a_bad_signature(site: GitSite, field: str) -> None:
    approval = site.approve(SNIP, PETRA, comment="Freigegeben")
    text = site.read(SNIP)
    changes = {
        "at": ('"2026-11-20T10:15:00+01:00"', '"2026-11-19T10:15:00+01:00"'),
        "hash": (approval.hash, approval.hash[:-4] + "0000"),
        "comment": ('"Freigegeben"', '"Freigegeben, aber nur X"'),
    }
    old, new = changes[field]
    assert old in text
    site.write(SNIP, text.replace(old, new))
    state = site.state(SNIP)
    assert state.state == "invalid"
    assert state.approvals[0].reason == (
        "bad signature: the approval's fields were changed after it was signed"
    )


def test_a_damaged_signature_is_a_bad_signature(site: GitSite) -> None:
    site.approve(SNIP, PETRA)
    site.edit(SNIP, "-----BEGIN SSH SIGNATURE-----", "-----BEGIN SSH SIGNATUR-----")
    reason = site.state(SNIP).approvals[0].reason
    assert reason is not None and reason.startswith("bad signature: the signature text")


def test_an_approval_copied_into_another_piece_is_invalid(site: GitSite) -> None:
    site.approve(SNIP, PETRA)
    block = site.read(SNIP).split("approvals:\n", 1)[1].split("\n---\n", 1)[0]
    other = SNIPPET.replace("Adventszeiten", "Kopie").replace(
        "\n---\nIm Advent", "\napprovals:\n" + block + "\n---\nIm Advent"
    )
    site.write("social/2026-11-25-kopie.md", other)
    state = site.state("social/2026-11-25-kopie.md")
    assert state.state == "invalid"
    assert state.approvals[0].reason.startswith(
        f"copied from another piece: it was signed for {SNIP}"
    )


def test_renaming_a_file_needs_a_new_approval(site: GitSite) -> None:
    site.approve(SNIP, PETRA)
    site.commit(PETRA, "Approve")
    site.git("mv", f"content/{SNIP}", "content/social/2026-11-24-adventszeiten.md")
    site.commit(LENA, "Rename")
    state = site.state("social/2026-11-24-adventszeiten.md")
    assert state.state == "invalid"
    assert "copied from another piece" in state.reasons[0]


def test_a_malformed_entry_is_invalid_with_its_reason(site: GitSite) -> None:
    site.edit(SNIP, "title: Adventszeiten", "title: Adventszeiten\napprovals:\n  - piece: x")
    state = site.state(SNIP)
    assert state.state == "invalid"
    assert state.approvals[0].reason == (
        "malformed: approvals[0] lacks hash, approver, at, signature"
    )


def test_a_valid_approval_beside_an_invalid_one_still_approves(site: GitSite) -> None:
    forged(site, SNIP, MALLORY.email, PETRA.email)
    site.approve(SNIP, JONAS)
    state = site.state(SNIP)
    assert state.state == "approved"
    assert [c.verdict for c in state.approvals] == ["invalid", "valid"]


# --- acceptance 5: squash merges and rebases ---------------------------------------------


def _approved_branch(site: GitSite) -> None:
    site.git("checkout", "-q", "-b", "advent")
    site.edit(SNIP, "Alle Zeiten im Blog.", "Alle Zeiten und Termine im Blog.")
    site.commit(LENA, "Advent snippet, second draft")
    site.approve(SNIP, PETRA)
    site.commit(PETRA, "Approve the advent snippet")
    assert site.state(SNIP).approved


def test_approvals_survive_a_squash_merge(site: GitSite) -> None:
    _approved_branch(site)
    site.git("checkout", "-q", "main")
    site.git("merge", "--squash", "advent")
    site.commit(LEAD, "Advent snippet (#12)")
    state = site.state(SNIP)
    assert state.state == "approved", state.reasons


def test_approvals_survive_a_rebase_onto_a_newer_main(site: GitSite) -> None:
    _approved_branch(site)
    site.git("checkout", "-q", "main")
    site.write("posts/neu.md", POST.replace("service-im-advent", "neu").replace("Advent", "Neu"))
    site.commit(LENA, "Another post on main")
    site.git("checkout", "-q", "advent")
    site.git("rebase", "-q", "main", who=LEAD)
    assert site.git("log", "--format=%s", "-1").strip() == "Approve the advent snippet"
    state = site.state(SNIP)
    assert state.state == "approved", state.reasons


def test_a_merge_that_rewrites_the_text_makes_the_merger_an_author(site: GitSite) -> None:
    _approved_branch(site)
    site.git("checkout", "-q", "main")
    site.edit(SNIP, "Im Advent haben", "Im Dezember haben")
    site.commit(LENA, "Conflicting edit on main")
    site.git("merge", "-q", "advent", "--no-commit", "-X", "theirs")
    site.edit(SNIP, "Alle Zeiten und Termine", "Alle Zeiten, Termine")
    site.commit(JONAS, "Merge advent with a fix")
    forged(site, SNIP, JONAS.email, JONAS.email)
    site.approve(SNIP, PETRA)
    checks = {c.approval.approver: c for c in site.state(SNIP).approvals}
    assert checks[JONAS.email].reason is not None
    assert checks[JONAS.email].reason.startswith("self-approval")
    assert "Merge advent with a fix" in checks[JONAS.email].reason
    assert checks[PETRA.email].verdict == "valid"


# --- history we cannot trust ---------------------------------------------------------------


def test_a_shallow_clone_cannot_tell_authors_and_approves_nothing(
    site: GitSite, tmp_path: Path
) -> None:
    site.approve(SNIP, PETRA)
    site.commit(PETRA, "Approve")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{site.root}", str(clone)], check=True
    )
    other = load_site(load_settings(clone / "pelicanconf.py"))
    state = approval_states(other)[SNIP]
    assert state.state == "invalid"
    assert "shallow clone" in state.reasons[0]


def test_outside_git_nothing_counts_as_approved(site: GitSite, tmp_path: Path) -> None:
    site.approve(SNIP, PETRA)
    copy = tmp_path / "export"
    subprocess.run(["cp", "-r", str(site.root), str(copy)], check=True)
    subprocess.run(["rm", "-rf", str(copy / ".git")], check=True)
    state = approval_states(load_site(load_settings(copy / "pelicanconf.py")))[SNIP]
    assert state.state == "invalid"
    assert "not in a git repository" in state.reasons[0]


# --- the gate as findings ------------------------------------------------------------------


def test_approval_findings_name_every_unapproved_non_draft_piece(site: GitSite) -> None:
    site.write("social/entwurf.md", SNIPPET.replace("title: Adventszeiten",
                                                     "title: Entwurf\nstatus: draft"))
    site.approve(SNIP, PETRA)
    loaded = site.site()
    findings = approval_findings(loaded)
    assert [(f.path, f.rule) for f in findings] == [
        (f"content/{POST_ID}", "approval.missing"),
    ]
    assert findings[0].message == "not approved (missing): nobody has approved it yet"
    assert loaded.get(POST_ID).findings[-1] == findings[0]


def test_the_payload_is_fixed_text_that_a_comment_cannot_forge(site: GitSite) -> None:
    approval = site.approve(SNIP, PETRA, comment='ok"\nhash: "sha256:0')
    lines = approval.payload().decode().splitlines()
    assert lines[0] == "dialogpress-approval v1"
    assert lines[1] == f'piece: "{SNIP}"'
    assert [line.split(":")[0] for line in lines] == [
        "dialogpress-approval v1", "piece", "hash", "approver", "at", "comment",
    ]
    with_via = replace(approval, via="portal")
    assert with_via.payload().decode().endswith('via: "portal"\n')
    assert site.state(SNIP).approved


def test_signing_refuses_a_key_that_is_not_the_approvers(site: GitSite) -> None:
    loaded = site.site()
    piece = site.piece(SNIP, loaded)
    with pytest.raises(ApprovalError, match=r"is not the key trust\.yml of main .* lists"):
        sign_approval(piece, loaded, site.keys[JONAS.email], PETRA.email, APPROVED_AT)


def test_an_unprotected_private_key_gets_a_clear_message(site: GitSite, tmp_path: Path) -> None:
    key = tmp_path / "open_key"
    key.write_bytes(site.keys[PETRA.email].read_bytes())
    key.with_name("open_key.pub").write_text(site.public_key(PETRA))
    key.chmod(0o644)
    with pytest.raises(ApprovalError, match="chmod 600"):
        sign(Approval(SNIP, "sha256:x", PETRA.email, APPROVED_AT), key)


def test_a_site_without_approvals_is_all_missing(site: GitSite) -> None:
    states = approval_states(site.site())
    assert {k: s.state for k, s in states.items()} == {POST_ID: "missing", SNIP: "missing"}


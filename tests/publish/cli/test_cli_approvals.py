"""The approval commands as a user runs them: approve, approvals, review, check, build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gitsite import JONAS, LENA, PETRA, SNIPPET, GitSite, make_keys, standard_site

from publish.cli import main

SNIP = "social/2026-11-24-advent.md"
POST_ID = "posts/service-im-advent.md"
NOW = 'DP_NOW = "2026-12-01 12:00"\n'


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def site(tmp_path: Path, keys: dict[str, Path]) -> GitSite:
    return standard_site(tmp_path / "site", keys, extra=NOW)


def run(site: GitSite, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        main, [*args, "-s", str(site.root / "pelicanconf.py")], input=input
    )


def test_approve_all_changed_pieces_on_a_branch(site: GitSite) -> None:
    site.git("checkout", "-q", "-b", "advent")
    site.edit(SNIP, "Alle Zeiten im Blog.", "Alle Zeiten stehen im Blog.")
    site.commit(LENA, "Edit")
    key = str(site.keys[PETRA.email])
    declined = run(site, "approve", "--key", key, input="n\n")
    assert declined.exit_code == 1
    assert "Adventszeiten" in declined.output
    assert "twitter (" in declined.output and "Im Advent länger für Sie da!" in declined.output
    assert "schedule: Tue 2026-11-24 09:00 CET (Europe/Berlin) = Tue 2026-11-24 08:00 UTC" in (
        declined.output
    )
    assert "approvals:" not in site.read(SNIP)

    result = run(site, "approve", "--key", key, "--now", "2026-11-20 10:15", input="y\n")
    assert result.exit_code == 0, result.output
    assert f"Approved {SNIP}" in result.output
    assert POST_ID not in result.output  # unchanged on this branch
    assert 'at: "2026-11-20T10:15:00+01:00"' in site.read(SNIP)

    again = run(site, "approve", "--key", key, "--yes")
    assert again.exit_code == 0
    assert f"{SNIP}: already approved by you in this version" in again.output


def test_approve_named_pieces_with_a_comment(site: GitSite) -> None:
    result = run(site, "approve", str(site.root / "content"), "--key",
                 str(site.keys[JONAS.email]), "--comment", "Gern so.", "--yes")
    assert result.exit_code == 0, result.output
    assert f"Approved {POST_ID}" in result.output and f"Approved {SNIP}" in result.output
    assert 'comment: "Gern so."' in site.read(POST_ID)


def test_approve_refuses_the_approvers_own_piece(site: GitSite) -> None:
    site.write("social/petra.md", SNIPPET.replace("title: Adventszeiten", "title: Von Petra"))
    site.commit(PETRA, "Petra writes a snippet")
    result = run(site, "approve", "social/petra.md", SNIP, "--key",
                 str(site.keys[PETRA.email]), "--yes")
    assert result.exit_code == 1
    assert "social/petra.md: you are an author of this piece" in result.output
    assert f"Approved {SNIP}" in result.output


def test_approve_with_a_key_of_nobody_in_approvers(site: GitSite, keys: dict[str, Path]) -> None:
    result = run(site, "approve", SNIP, "--key", str(keys[LENA.email]), "--yes")
    assert result.exit_code == 2
    assert "belongs to no approver in trust.yml" in result.output


def test_approve_an_unknown_piece(site: GitSite) -> None:
    result = run(site, "approve", "social/nope.md", "--key", str(site.keys[PETRA.email]), "--yes")
    assert result.exit_code == 1
    assert "social/nope.md is no post or snippet of this site" in result.output


def test_approvals_lists_states_as_text_and_json(site: GitSite) -> None:
    site.approve(SNIP, PETRA)
    text = run(site, "approvals")
    assert text.exit_code == 0
    assert f"approved  {SNIP}  Adventszeiten" in text.output
    assert f"missing   {POST_ID}" in text.output
    assert "1 approved, 0 stale, 1 missing, 0 invalid" in text.output
    data = json.loads(run(site, "approvals", "--format", "json").stdout)
    assert [(d["piece"], d["state"]) for d in data] == [(POST_ID, "missing"), (SNIP, "approved")]
    assert data[1]["approvals"][0]["approver"] == PETRA.email
    assert data[1]["approvals"][0]["verdict"] == "valid"
    assert "signature" not in data[1]["approvals"][0]


def test_check_require_approval_is_the_gate_and_build_publishes_only_approved(
    site: GitSite,
) -> None:
    site.approve(SNIP, PETRA)
    site.write("posts/zweiter.md", site.read(POST_ID).replace(
        "service-im-advent", "zweiter").replace("Service im Advent", "Zweiter Beitrag"))
    site.commit(LENA, "Second post")
    site.approve("posts/zweiter.md", PETRA)
    site.commit(PETRA, "Approve")

    plain = run(site, "check")
    assert plain.exit_code == 0, plain.output
    gate = run(site, "check", "--require-approval")
    assert gate.exit_code == 1
    line = next(line for line in gate.output.splitlines() if "[approval." in line)
    assert line.strip().startswith(f"content/{POST_ID}:2:")  # the title's line
    assert line.endswith(
        "error [approval.missing] title: not approved (missing): nobody has approved it yet"
    )
    assert "zweiter.md: error" not in gate.output
    data = json.loads(run(site, "check", "--require-approval", "--format", "json").stdout)
    rules = {d["id"]: [f["rule"] for f in d["findings"]] for d in data}
    assert rules[POST_ID] == ["approval.missing"]

    out = site.root / "public"
    build = run(site, "build", "--production", "--output", str(out))
    assert build.exit_code == 0, build.output
    assert (out / "zweiter.html").is_file()
    assert not (out / "service-im-advent.html").exists()

    site.approve(POST_ID, JONAS)
    assert run(site, "check", "--require-approval").exit_code == 0


def test_drafts_need_no_approval(site: GitSite) -> None:
    site.write(SNIP, site.read(SNIP).replace("title: Adventszeiten", "title: A\nstatus: draft"))
    site.approve(POST_ID, PETRA)
    assert run(site, "check", "--require-approval").exit_code == 0


def test_review_markdown_lists_added_changed_and_removed(site: GitSite) -> None:
    site.git("checkout", "-q", "-b", "dezember")
    site.write("social/neu.md", SNIPPET.replace("title: Adventszeiten", "title: Neu"))
    site.edit(POST_ID, "Wir freuen uns", "Wir freuen uns sehr")
    site.git("rm", "-q", f"content/{SNIP}")
    site.commit(LENA, "December")
    site.approve(POST_ID, PETRA)
    result = run(site, "review", "--base", "main")
    assert result.exit_code == 0, result.output
    assert "🆕 added | **Neu**<br>`social/neu.md` |" in result.output
    assert "⏳ missing" in result.output
    assert "✏️ changed | **Service im Advent**" in result.output
    assert "✅ approved" in result.output
    assert f"🗑️ removed | **Adventszeiten**<br>`{SNIP}`" in result.output
    data = json.loads(run(site, "review", "--format", "json").stdout)
    assert [(p["change"], p["id"]) for p in data["pieces"]] == [
        ("added", "social/neu.md"), ("changed", POST_ID), ("removed", SNIP)
    ]


def test_review_against_an_unknown_branch(site: GitSite) -> None:
    result = run(site, "review", "--base", "trunk")
    assert result.exit_code == 2
    assert "there is no branch or commit 'trunk'" in result.output

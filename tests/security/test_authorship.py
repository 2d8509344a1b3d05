"""Attack class 4: authorship can be faked.

"Nobody approves their own piece" needs to know who wrote it, and git's author fields
say whatever the committer typed. An approver who edits a piece under an editor's
e-mail, who is a ``Co-authored-by``, or whose commit is squashed into an editor's,
must still not approve it; the legitimate flows — an editor's signed commits approved by
a client, a squash merge signed by the forge, a rebase — keep working.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gitsite import LEAD, LENA, PETRA
from trustworld import FORGE, Clone, World, make_keys, make_world

POST_ID = "content/posts/service-im-advent.md"
EDIT = ("Wir freuen uns auf Ihren Besuch.", "Wir freuen uns sehr auf Ihren Besuch.")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def world(tmp_path: Path, keys: dict[str, Path]) -> World:
    return make_world(tmp_path, keys)


def approvals(clone: Clone) -> str:
    run = clone.dp("approvals", POST_ID)
    assert run.code == 0, run.output
    return run.out


def test_an_editors_signed_change_is_approved_by_the_client(world: World) -> None:
    editor = world.clone(LENA)
    editor.edit(POST_ID, *EDIT)
    editor.commit("Etwas herzlicher")
    approver = world.clone(PETRA)
    approver.git("pull", "-q", "--ff-only", str(editor.root), "main")
    assert approver.approve(POST_ID).code == 0
    assert approvals(approver).startswith("approved")


def test_an_approver_committing_under_the_editors_e_mail_is_still_an_author(
    world: World,
) -> None:
    approver = world.clone(PETRA)
    approver.edit(POST_ID, *EDIT)
    # git's author fields say Lena; the signature says Petra
    approver.commit("Lena's Korrektur", who=LENA)
    refused = approver.approve(POST_ID)
    assert refused.code == 1 and "you are an author of this piece (signed commit" in (
        refused.output
    )


def test_an_unsigned_change_cannot_be_attributed_and_no_approval_counts(world: World) -> None:
    approver = world.clone(PETRA)
    approver.edit(POST_ID, *EDIT)
    approver.commit("Kleine Korrektur", sign=False, who=LENA)
    refused = approver.approve(POST_ID)
    assert refused.code == 1 and "authorship unknown" in refused.output
    # Petra's earlier approval does not count for the unattributable version either
    listed = approver.dp("approvals", POST_ID)
    assert listed.out.startswith("invalid") and "is not signed by a key of trust.yml" in (
        listed.out
    )
    check = approver.dp("check", "--require-approval")
    assert check.code == 1


def test_a_co_author_is_an_author(world: World) -> None:
    editor = world.clone(LENA)
    editor.edit(POST_ID, *EDIT)
    editor.git("add", "-A")
    editor.git("commit", "-q", "-m",
               f"Gemeinsam formuliert\n\nCo-authored-by: {PETRA.name} <{PETRA.email}>")
    approver = world.clone(PETRA)
    approver.git("pull", "-q", "--ff-only", str(editor.root), "main")
    refused = approver.approve(POST_ID)
    assert refused.code == 1 and "co-author of commit" in refused.output


def squash_as_forge(clone: Clone, branch: str, message: str) -> None:
    """What the forge does on "Squash and merge": one commit, signed with its key."""
    clone.git("checkout", "-q", "main")
    clone.git("merge", "-q", "--squash", branch)
    forge = Clone(clone.root, FORGE, clone.keys)
    forge.git("commit", "-q", "-m", message, who=LENA)


def test_an_approvers_commit_squashed_into_the_editors_keeps_her_an_author(
    world: World,
) -> None:
    approver = world.clone(PETRA)
    approver.git("checkout", "-q", "-b", "gemeinsam")
    approver.edit(POST_ID, *EDIT)
    approver.commit("Petra schreibt mit")
    editor = world.clone(LENA)
    editor.git("fetch", "-q", str(approver.root), "gemeinsam:gemeinsam")
    # GitHub's squash keeps every author as a co-author trailer
    squash_as_forge(
        editor, "gemeinsam",
        f"Advent (#7)\n\nCo-authored-by: {PETRA.name} <{PETRA.email}>",
    )
    editor.git("push", "-q", "origin", "main")
    approver.git("checkout", "-q", "main")
    approver.git("pull", "-q", "--ff-only")
    refused = approver.approve(POST_ID)
    assert refused.code == 1 and "co-author of commit" in refused.output


def test_a_forge_signed_squash_of_the_editors_work_stays_approved(world: World) -> None:
    editor = world.clone(LENA)
    editor.git("checkout", "-q", "-b", "herzlich")
    editor.edit(POST_ID, *EDIT)
    editor.commit("Etwas herzlicher")
    approver = world.clone(PETRA)
    approver.git("fetch", "-q", str(editor.root), "herzlich:herzlich")
    approver.git("checkout", "-q", "herzlich")
    assert approver.approve(POST_ID).code == 0
    approver.commit("Freigabe")
    editor.git("pull", "-q", "--ff-only", str(approver.root), "herzlich")
    squash_as_forge(editor, "herzlich", "Etwas herzlicher (#8)")
    editor.git("push", "-q", "origin", "main")
    assert approvals(editor).startswith("approved"), approvals(editor)
    assert editor.dp("check", "--require-approval").code == 0


def test_a_rebased_branch_keeps_its_approval(world: World) -> None:
    editor = world.clone(LENA)
    editor.git("checkout", "-q", "-b", "rebase")
    editor.edit(POST_ID, *EDIT)
    editor.commit("Etwas herzlicher")
    approver = world.clone(PETRA)
    approver.git("fetch", "-q", str(editor.root), "rebase:rebase")
    approver.git("checkout", "-q", "rebase")
    assert approver.approve(POST_ID).code == 0
    approver.commit("Freigabe")
    # main moves on (another file), Lena rebases and re-signs her commits
    lead = world.clone(LEAD)
    lead.write("content/posts/anderes.md", "---\ntitle: Anderes\ndate: 2026-11-21 09:00\n"
                                          "category: Service\nstatus: draft\n---\nText.\n")
    lead.commit("Ein Entwurf")
    lead.git("push", "-q", "origin", "main")
    editor.git("pull", "-q", "--ff-only", str(approver.root), "rebase")
    editor.git("fetch", "-q", "origin")
    editor.git("rebase", "-q", "origin/main")
    assert approvals(editor).startswith("approved"), approvals(editor)
    assert editor.dp("check", "--require-approval").code == 0



def test_an_approver_who_fixes_up_the_editors_commit_is_its_author(world: World) -> None:
    editor = world.clone(LENA)
    editor.git("checkout", "-q", "-b", "fixup")
    editor.edit(POST_ID, *EDIT)
    editor.commit("Etwas herzlicher")
    approver = world.clone(PETRA)
    approver.git("fetch", "-q", str(editor.root), "fixup:fixup")
    approver.git("checkout", "-q", "fixup")
    target = approver.git("rev-parse", "HEAD").strip()
    approver.edit(POST_ID, "Kundenzentren", "Kundencenter")
    approver.git("add", "-A")
    approver.git("commit", "-q", f"--fixup={target}")
    # folded into Lena's commit: git keeps Lena as the author, the signature is Petra's
    approver.git("-c", "sequence.editor=true", "rebase", "-q", "-i", "--autosquash",
                 "origin/main")
    log = approver.git("log", "-1", "--format=%ae")
    assert log.strip() == LENA.email
    refused = approver.approve(POST_ID)
    assert refused.code == 1 and "you are an author of this piece (signed commit" in (
        refused.output
    )


def test_signature_verdicts_are_kept_per_key_set_in_the_local_git_folder(world: World) -> None:
    import json

    clone = world.clone(LEAD)
    assert approvals(clone).startswith("approved")
    kept = list((clone.root / ".git" / "dialogpress").glob("signatures-*.json"))
    assert len(kept) == 1
    verdicts = json.loads(kept[0].read_text())
    lena = clone.git("log", "-1", "--format=%H", "--author", LENA.email).strip()
    assert verdicts[lena] == ["G", LENA.email]
    # a forged verdict in the cache of another key set is never read
    kept[0].with_name("signatures-0000000000000000.json").write_text(
        json.dumps({lena: ["G", PETRA.email]})
    )
    assert approvals(clone).startswith("approved")

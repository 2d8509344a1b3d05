"""Attack class 1: the branch decides who may approve.

An editor with push access edits the trust file or the settings on her branch: makes
herself an approver, swaps the portal's key, lowers the number of approvals, patches the
approval code from ``pelicanconf.py``, switches the gate off, moves the clock, silences
the guideline. Each is refused by the real command, with the reason; and the legitimate
flows — approving on a branch, a trust change approved by the old approvers — work.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gitsite import JONAS, LEAD, LENA, PETRA
from trustworld import MARA, NOW, World, make_keys, make_world, public, trust_text

POST_ID = "content/posts/service-im-advent.md"
NEW_POST = """\
---
title: Neue Öffnungszeiten
date: 2026-11-22 09:00
slug: neue-oeffnungszeiten
category: Service
---
Ab Dezember haben wir samstags geöffnet.
"""


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def world(tmp_path: Path, keys: dict[str, Path]) -> World:
    return make_world(tmp_path, keys)


def test_the_legitimate_flow_approves_on_a_branch_and_ci_goes_green(world: World) -> None:
    editor = world.clone(LENA)
    editor.git("checkout", "-q", "-b", "neue-zeiten")
    editor.write("content/posts/neue-oeffnungszeiten.md", NEW_POST)
    editor.commit("Neue Öffnungszeiten")
    editor.git("push", "-q", "-u", "origin", "neue-zeiten")
    red = editor.dp("check", "--require-approval")
    assert red.code == 1 and "not approved (missing)" in red.output

    approver = world.clone(PETRA, "neue-zeiten")
    assert approver.approve("--base", "origin/main").code == 0
    approver.commit("Freigabe")
    approver.git("push", "-q", "origin", "neue-zeiten")
    editor.git("pull", "-q", "--ff-only")
    green = editor.dp("check", "--require-approval")
    assert green.code == 0, green.output


def test_an_editor_who_adds_herself_as_approver_on_her_branch_is_not_one(
    world: World, keys: dict[str, Path]
) -> None:
    editor = world.clone(LENA)
    editor.git("checkout", "-q", "-b", "selbst")
    editor.write("trust.yml", trust_text(keys, approvers=(PETRA, JONAS, LENA)))
    editor.write("content/posts/neue-oeffnungszeiten.md", NEW_POST)
    editor.commit("Neue Öffnungszeiten")
    # her key is not an approver's in the trust file in force (origin/main)
    refused = editor.approve("content/posts/neue-oeffnungszeiten.md")
    assert refused.code == 2 and "belongs to no approver in trust.yml of origin" in refused.output
    # she signs the approval herself and writes it into the post by hand
    from editorial.approvals import Approval, sign, write_approval
    from editorial.pieces import load_site
    from editorial.settings import load_settings
    from editorial.times import parse_time

    site = load_site(load_settings(editor.root / "pelicanconf.py"))
    piece = site.get("posts/neue-oeffnungszeiten.md")
    assert piece is not None
    from editorial.approvals import content_hash

    forged = Approval("posts/neue-oeffnungszeiten.md", content_hash(piece), LENA.email,
                      parse_time(NOW, "Europe/Berlin"))
    write_approval(piece, sign(forged, Path(editor.key())))
    editor.commit("Freigabe (selbst)")
    editor.git("push", "-q", "origin", "selbst")
    check = editor.dp("check", "--require-approval")
    assert check.code == 1
    assert f"unknown approver: {LENA.email} is not an approver in trust.yml of origin" in (
        check.output
    )

    # merged anyway (the merger did not look): main still trusts the old file, and says so
    merger = world.clone(LEAD)
    merger.git("fetch", "-q", "origin", "selbst")
    merger.git("merge", "-q", "--no-ff", "-m", "Merge selbst", "origin/selbst")
    merger.git("push", "-q", "origin", "main")
    merger.git("fetch", "-q")
    after = merger.dp("check", "--require-approval")
    assert after.code == 1 and "unknown approver" in after.output
    trust = merger.dp("trust")
    assert "without the approval of 1 approver(s) of the version in force" in trust.output
    assert f"approver {LENA.name}" not in trust.out


def test_a_trust_change_approved_by_the_old_approvers_counts_after_the_merge(
    world: World, keys: dict[str, Path]
) -> None:
    lead = world.clone(LEAD)
    lead.git("checkout", "-q", "-b", "mara")
    lead.write("trust.yml", trust_text(keys, approvers=(PETRA, JONAS, MARA)))
    lead.commit("Mara Klein approves for the client too")
    lead.git("push", "-q", "origin", "mara")
    # Mara cannot approve her own appointment: only approvers of the version in force
    mara = world.clone(MARA, "mara")
    own = mara.approve("--trust", who=MARA)
    assert own.code == 1 and "belongs to no approver in trust.yml of origin" in own.output
    petra = world.clone(PETRA, "mara")
    signed = petra.approve("--trust")
    assert signed.code == 0, signed.output
    petra.commit("Approve Mara")
    petra.git("push", "-q", "origin", "mara")
    lead.git("pull", "-q", "origin", "mara")
    lead.git("checkout", "-q", "main")
    lead.git("merge", "-q", "--ff-only", "mara")
    lead.git("push", "-q", "origin", "main")
    lead.git("fetch", "-q")
    shown = lead.dp("trust", "--format", "json")
    assert shown.code == 0, shown.output
    assert MARA.email in shown.out and '"notes": []' in shown.out


@pytest.mark.parametrize(
    "setting",
    [
        # patch the verifier from the settings, which Pelican executes
        "import editorial.approvals as a\n"
        "a.approval_findings = lambda site: []\n"
        "open('PWNED', 'w').write('settings ran')\n",
        'DP_APPROVAL_GATE = {"mode": "preview"}\n',  # switch the gate off
        'DP_NOW = "2030-01-01 00:00"\n',  # move the clock past every embargo
        "GUIDELINE = None\n",  # silence the guideline
        'TIMEZONE = "Pacific/Kiritimati"\n',  # move the clock by a zone
        "APPROVERS = [{'name': 'L', 'email': 'lena.berger@kranich.example', 'key': 'x'}]\n"
        "REQUIRED_APPROVALS = type('Zero', (int,), {'__lt__': lambda s, o: True})(0)\n",
    ],
    ids=["patch-code", "gate-off", "clock", "guideline", "timezone", "approvers-setting"],
)
def test_settings_from_a_branch_are_refused_before_they_run(world: World, setting: str) -> None:
    editor = world.clone(LENA)
    editor.git("checkout", "-q", "-b", "einstellungen")
    editor.write("pelicanconf.py", (editor.root / "pelicanconf.py").read_text() + setting)
    editor.write("content/posts/neue-oeffnungszeiten.md", NEW_POST)
    editor.commit("Kleine Anpassung")
    for command in (("check", "--require-approval"), ("build", "--production")):
        run = editor.dp(*command)
        assert run.code == 1, run.output
        assert "layout/settings changed and not approved" in run.output
        assert "pelicanconf.py" in run.output
    ticked = editor.dp("tick", "--now", NOW)
    assert ticked.code == 1 and "layout/settings changed and not approved" in ticked.output
    assert not (editor.root / "PWNED").exists()
    assert not (editor.root / "output" / "neue-oeffnungszeiten.html").exists()


def test_a_theme_change_needs_the_clients_site_approval_and_not_the_authors(
    world: World,
) -> None:
    editor = world.clone(LENA)
    editor.write("theme/templates/article.html", "{{ article.content }} Jetzt kaufen!\n")
    editor.write("pelicanconf.py",
                 (editor.root / "pelicanconf.py").read_text() + 'THEME = "theme"\n')
    editor.commit("Eigenes Theme")
    editor.git("push", "-q", "origin", "HEAD:refs/heads/theme")
    editor.git("fetch", "-q")
    refused = editor.dp("build", "--production")
    assert refused.code == 1
    assert "theme/templates/article.html" in refused.output
    assert "pelicanconf.py" in refused.output
    review = editor.dp("review", "--base", "origin/main")
    assert "Layout/settings changed" in review.out, review.output
    assert "- `theme/templates/article.html`" in review.out and "Site approval: ❌" in review.out

    # the client looks at the layout and approves it; a second edit makes it stale
    approver = world.clone(PETRA, "theme")
    assert approver.approve("--site").code == 0
    approver.commit("Layout freigegeben")
    approver.git("push", "-q", "origin", "theme")
    editor.git("pull", "-q", "--ff-only", "origin", "theme")
    built = editor.dp("build", "--production")
    assert built.code == 0, built.output
    assert "Jetzt kaufen!" in (editor.root / "output" / "service-im-advent.html").read_text()

    editor.write("theme/templates/article.html", "{{ article.content }} Sonderangebot!\n")
    editor.commit("Noch ein Satz")
    stale = editor.dp("check", "--require-approval")
    assert stale.code == 1 and "(stale): theme/templates/article.html" in stale.output

    # an approver who changed the layout herself cannot approve it
    approver.git("pull", "-q", "--ff-only", "origin", "theme")
    approver.write("theme/templates/article.html", "{{ article.content }}\n")
    approver.commit("Petra räumt auf")
    self_approved = approver.approve("--site")
    assert self_approved.code == 1 and "you changed the layout/settings yourself" in (
        self_approved.output
    )


def test_a_swapped_portal_key_on_a_branch_cannot_sign_for_anyone(
    world: World, keys: dict[str, Path]
) -> None:
    from editorial.approvals import PORTAL, Approval, content_hash, sign, write_approval
    from editorial.pieces import load_site
    from editorial.settings import load_settings
    from editorial.times import parse_time

    editor = world.clone(LENA)
    editor.git("checkout", "-q", "-b", "portal")
    # the branch names Lena's own key as the portal's
    text = (editor.root / "trust.yml").read_text()
    editor.write("trust.yml", text.replace(public(keys, "portal"), public(keys, LENA)))
    editor.write("content/posts/neue-oeffnungszeiten.md", NEW_POST)
    editor.commit("Neuer Beitrag")
    site = load_site(load_settings(editor.root / "pelicanconf.py"))
    piece = site.get("posts/neue-oeffnungszeiten.md")
    assert piece is not None
    forged = Approval(piece.id, content_hash(piece), PETRA.email,
                      parse_time(NOW, "Europe/Berlin"), via=PORTAL)
    write_approval(piece, sign(forged, Path(editor.key())))
    editor.commit("Freigabe über das Portal")
    check = editor.dp("check", "--require-approval")
    assert check.code == 1
    assert "signed with the key of" in check.output or "unknown approver" in check.output


def test_required_approvals_come_from_the_trust_file_in_force(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    world = make_world(tmp_path, keys, required=2)
    editor = world.clone(LENA)
    # make_world's one approval (Petra) is not enough for two required approvals
    check = editor.dp("check", "--require-approval")
    assert check.code == 1 and "1 of 2 required approvals" in check.output
    # a branch lowering the number is a trust change nobody approved
    editor.edit("trust.yml", "required_approvals: 2", "required_approvals: 1")
    editor.commit("Eine Freigabe reicht")
    assert editor.dp("check", "--require-approval").code == 1


def test_a_static_file_the_site_approval_covers_is_published_and_others_are_not(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    frame = ("pelicanconf.py", "publishconf.py", "guideline.yml", "content/images/logo.svg")
    world = make_world(tmp_path / "w", keys, frame=frame)
    editor = world.clone(LENA)
    editor.write("content/images/logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>\n")
    editor.write("content/images/extra.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>\n")
    editor.commit("Logo")
    refused = editor.dp("build", "--production")
    assert refused.code == 1 and "content/images/logo.svg" in refused.output
    approver = world.clone(PETRA)
    approver.git("pull", "-q", "--ff-only", str(editor.root), "main")
    assert approver.approve("--site").code == 0
    built = approver.dp("build", "--production")
    assert built.code == 0, built.output
    assert (approver.root / "output" / "images" / "logo.svg").is_file()
    assert not (approver.root / "output" / "images" / "extra.svg").exists()


def test_the_scheduler_service_refuses_unapproved_settings_without_running_them(
    world: World,
) -> None:
    import os
    import signal
    import subprocess
    import time

    from trustworld import DIALOGPRESS

    scheduler = world.clone(LEAD)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DP_", "GIT_"))}
    process = subprocess.Popen(
        [str(DIALOGPRESS), "run", "--every", "0.05", "--pull"], cwd=scheduler.root,
        env=environ, stderr=subprocess.PIPE, text=True,
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        while "event=tick.done" not in "".join(lines):
            lines.append(process.stderr.readline())
        # someone pushes settings the client never approved; the service pulls them
        editor = world.clone(LENA)
        editor.write("pelicanconf.py", (editor.root / "pelicanconf.py").read_text()
                     + "open('PWNED', 'w').write('ran')\n")
        editor.commit("Unreviewed settings")
        editor.git("push", "-q", "origin", "main")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "event=tick.refused" not in lines[-1]:
            lines.append(process.stderr.readline())
        assert "pelicanconf.py" in lines[-1] and "event=tick.refused" in lines[-1], "".join(lines)
    finally:
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=60)[1]
    assert process.returncode == 0
    assert "Traceback" not in "".join(lines) + rest
    assert not (scheduler.root / "PWNED").exists()
    # started on unapproved settings, it does not start at all
    again = scheduler.dp("run", "--every", "0.05")
    assert again.code == 1 and "layout/settings changed and not approved" in again.err
    assert "Traceback" not in again.err and not (scheduler.root / "PWNED").exists()


def test_a_self_approved_snippet_merged_unreviewed_never_reaches_the_networks(
    world: World, keys: dict[str, Path]
) -> None:
    from editorial.times import parse_time
    from publish.sandbox import Sandbox, clock_from
    from publish.sandbox.facebook import PAGE_ID, PAGE_TOKEN

    editor = world.clone(LENA)
    editor.git("checkout", "-q", "-b", "eilig")
    editor.write("trust.yml", trust_text(keys, approvers=(PETRA, JONAS, LENA)))
    editor.write("content/social/2026-11-24-eilig.md", (
        "---\ntitle: Eilig\nchannels: [twitter]\npublish_at: 2026-11-24 09:30\n"
        "text:\n  twitter: Heute alles zum halben Preis!\n---\nHeute alles zum halben Preis!\n"
    ))
    editor.commit("Eilige Aktion")
    from editorial.approvals import Approval, content_hash, sign, write_approval
    from editorial.pieces import load_site
    from editorial.settings import load_settings

    site = load_site(load_settings(editor.root / "pelicanconf.py"))
    piece = site.get("social/2026-11-24-eilig.md")
    assert piece is not None
    mine = Approval(piece.id, content_hash(piece), LENA.email, parse_time(NOW, "Europe/Berlin"))
    write_approval(piece, sign(mine, Path(editor.key())))
    editor.commit("Freigabe")
    editor.git("push", "-q", "origin", "eilig")
    merger = world.clone(LEAD)  # merges without looking
    merger.git("fetch", "-q", "origin", "eilig")
    merger.git("merge", "-q", "--no-ff", "-m", "Merge eilig", "origin/eilig")
    merger.git("push", "-q", "origin", "main")

    scheduler = world.clone(LEAD)
    with Sandbox(consumer_key="trust-test", twitter_clock=clock_from(
            parse_time(NOW, "Europe/Berlin"))) as box:
        env = {
            "DP_TEST_SANDBOX_X": box.twitter_url, "DP_TEST_SANDBOX_FB": box.facebook_url,
            "DP_TEST_PAGE_ID": PAGE_ID,
            "DP_TWITTER_CONSUMER_KEY": "trust-test", "DP_TWITTER_CONSUMER_SECRET": "s",
            "DP_TWITTER_ACCESS_TOKEN": "1-t", "DP_TWITTER_ACCESS_TOKEN_SECRET": "s",
            "DP_FACEBOOK_PAGE_TOKEN": PAGE_TOKEN, "DP_ACTOR": "test@kranich.example",
        }
        ticked = scheduler.dp("tick", "--now", NOW, env=env)
        texts = [t["text"] for t in box.twitter.state()["tweets"]]
    # Petra's approved advent snippet went out, Lena's self-approved one did not
    assert any("Im Advent" in text for text in texts), ticked.output
    assert not any("halben Preis" in text for text in texts)
    listed = scheduler.dp("approvals", "content/social/2026-11-24-eilig.md")
    assert f"unknown approver: {LENA.email}" in listed.out


def test_check_warns_where_it_can_see_the_set_up_is_missing(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    from click.testing import CliRunner
    from gitsite import POST, GitSite
    from gitsite import make_keys as make_person_keys

    from publish.cli import main

    people = make_person_keys(tmp_path / "people")
    site = GitSite(tmp_path / "site", people, [PETRA], unsigned="author-field",
                   extra="APPROVERS = [{'name': 'x', 'email': 'x@y.test', 'key': 'k'}]\n")
    (site.root / "trust.yml").unlink()
    site.write("posts/service-im-advent.md", POST)
    site.commit(LENA, "Start without a trust file")
    settings = str(site.root / "pelicanconf.py")
    missing = CliRunner().invoke(main, ["check", "-s", settings])
    assert "Warning: no trust root: trust.yml is not on main" in missing.stderr
    assert "Warning: APPROVERS in pelicanconf.py is no longer read" in missing.stderr
    strict = CliRunner().invoke(main, ["check", "--require-approval", "-s", settings])
    assert strict.exit_code == 1 and "no trust root" in strict.output

    site.write_trust([PETRA], unsigned="author-field")
    site.commit(LENA, "Add the trust file")
    weak = CliRunner().invoke(main, ["check", "-s", settings])
    assert "authorship.unsigned is author-field" in weak.stderr
    assert "no trust root" not in weak.stderr


def test_a_branch_the_operator_names_is_never_a_pushed_tag_of_that_name(
    world: World, keys: dict[str, Path]
) -> None:
    """``DP_TRUST_REF=origin/main`` as docs/security.md advises for CI: git alone would
    read the editor's tag ``origin/main`` first. The name is looked up among branches;
    a tag counts only when named in full, and a name two branches share is refused."""
    editor = world.clone(LENA)
    editor.git("checkout", "-q", "--orphan", "eigene-geschichte")
    editor.write("trust.yml", trust_text(keys, approvers=(LENA,)))
    editor.commit("My own trust root")
    editor.git("tag", "origin/main")
    editor.git("push", "-q", "origin", "refs/tags/origin/main")
    fresh = world.clone(LEAD)
    assert fresh.git("tag", "--list", "origin/main").strip() == "origin/main"
    named = fresh.dp("trust", env={"DP_TRUST_REF": "origin/main"})
    assert named.code == 0, named.output
    assert f"approver {PETRA.name}" in named.out and f"approver {LENA.name}" not in named.out
    in_full = fresh.dp("trust", env={"DP_TRUST_REF": "refs/tags/origin/main"})
    tagged = fresh.git("rev-parse", "refs/tags/origin/main").strip()[:7]
    assert tagged in in_full.output  # the operator asked for that tag: read (and judged)
    fresh.git("branch", "origin/main", "refs/remotes/origin/main")  # a local one beside it
    shared = fresh.dp("trust", env={"DP_TRUST_REF": "origin/main"})
    assert shared.code != 0 and "ambiguous" in shared.output, shared.output
    assert "Traceback" not in shared.output


@pytest.mark.parametrize("tag", ["origin/HEAD", "main"])
def test_a_pushed_tag_named_like_the_protected_branch_is_not_the_trust_root(
    world: World, keys: dict[str, Path], tag: str
) -> None:
    """git's short names prefer tags to branches (``origin/main`` → refs/tags/origin/main
    first): an editor who pushes a tag of that name, on a history of her own whose first
    trust file names her, must not become the root every new clone reads trust from."""
    editor = world.clone(LENA)
    editor.git("checkout", "-q", "--orphan", "eigene-geschichte")
    editor.write("trust.yml", trust_text(keys, approvers=(LENA,)))
    editor.commit("My own trust root")
    editor.git("tag", tag)
    editor.git("push", "-q", "origin", f"refs/tags/{tag}")
    # the scheduler's workspace: a fresh clone gets every tag, and git names it ambiguous
    fresh = world.clone(LEAD)
    assert fresh.git("tag", "--list", tag).strip() == tag
    trust = fresh.dp("trust")
    assert trust.code == 0, trust.output
    assert f"approver {PETRA.name}" in trust.out
    assert f"approver {LENA.name}" not in trust.out

"""A tick builds incrementally in its own folder, and what it deploys is a full build's.

Each step changes the example site (a clone, with the repository's history for the
approvals) the way editors, approvers and moderators do, runs a tick in-process with a
fixed clock, and compares the live tree with a fresh full production build of the same
site at the same time, into a fresh folder with a fresh cache: same files, same bytes.
The steps follow each other, so every tick after the first is incremental on top of an
incremental build, as on a scheduler's host.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from gitsite import APPROVED_AT, FIXTURE_KEYS, approve_example_frame

from editorial.approvals import sign_approval, write_approval
from editorial.pieces import load_site
from editorial.settings import load_settings
from publish.ops.scheduler import BUILD_FOLDER, TickSummary, tick
from publish.site.build import build_site
from publish.store import open_store
from publish.store.models import Comment, CommentState
from tests.worktree import clone_working_tree

NOW = datetime.fromisoformat("2026-11-24T10:00:00+01:00")
APPROVER = "petra.schulz@stadtwerke-elbtal.example"
EDITOR = ["-c", "user.name=Lena Berger", "-c", "user.email=lena.berger@agentur-kranich.example"]


@pytest.fixture
def site(repo_root: Path, tmp_path: Path) -> Path:
    """The example site in its own folder, as the working tree has it now."""
    folder = tmp_path / "site"
    clone_working_tree(folder, root=repo_root)
    for name in ("pelicanconf.py", "publishconf.py"):
        shutil.copy2(repo_root / name, folder / name)
    for name in ("theme", "plugins"):
        shutil.rmtree(folder / name)
        shutil.copytree(repo_root / name, folder / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    approve_example_frame(folder)
    return folder


def run_tick(site: Path, now: datetime = NOW) -> TickSummary:
    summary = tick(site / "pelicanconf.py", now, environ={})
    assert summary.status in ("ok", "skipped"), (summary.error, summary.steps)
    return summary


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


def assert_live_is_a_full_build(
    site: Path, tmp_path: Path, label: str, now: datetime = NOW
) -> dict[str, bytes]:
    fresh = Path(tempfile.mkdtemp(prefix=f"full-{label}-", dir=tmp_path))
    result = build_site(
        site / "pelicanconf.py", production=True, output=fresh / "site",
        override={"DP_NOW": now.isoformat(), "CACHE_PATH": str(fresh / "cache")},
    )
    assert result.ok, result.errors
    live, full = tree(site / "public"), tree(fresh / "site")
    assert sorted(live) == sorted(full), (
        f"{label}: only live: {sorted(set(live) - set(full))}; "
        f"only full: {sorted(set(full) - set(live))}"
    )
    differing = [name for name in live if live[name] != full[name]]
    assert not differing, f"{label}: differing files: {differing[:10]}"
    return live


def approve(site: Path, piece_id: str) -> None:
    """The example's client approver signs the piece as it is now."""
    with tempfile.TemporaryDirectory(prefix="dp-key-") as scratch:
        key = Path(scratch) / "approver"
        shutil.copyfile(FIXTURE_KEYS / "approver_ed25519", key)
        key.chmod(0o600)
        pieces = load_site(load_settings(site / "publishconf.py"))
        piece = pieces.get(piece_id)
        assert piece is not None, piece_id
        write_approval(piece, sign_approval(piece, pieces, key, APPROVER, APPROVED_AT))


def append(site: Path, name: str, text: str) -> None:
    path = site / "content" / name
    path.write_text(path.read_text("utf-8") + text, "utf-8")


def body_edit(site: Path) -> None:
    append(site, "posts/wasserhaerte-fragen-und-antworten.md", "\nEin Nachtrag zur Härte.\n")
    approve(site, "posts/wasserhaerte-fragen-und-antworten.md")


def title_change(site: Path) -> None:
    path = site / "content/posts/heizungs-check-wochen.md"
    text = path.read_text("utf-8")
    start = text.index("\ntitle:") + 1
    end = text.index("\n", start)
    path.write_text(text[:start] + 'title: "Heizungs-Check: jetzt anmelden"' + text[end:], "utf-8")
    approve(site, "posts/heizungs-check-wochen.md")


def new_post(site: Path) -> None:
    (site / "content/posts/wasserzaehler-ablesen.md").write_text(
        "---\ntitle: Wasserzähler selbst ablesen\ndate: 2026-11-22 09:00\n"
        "slug: wasserzaehler-ablesen\nlang: de\ncategory: Wasser\ntags: [Zähler]\n"
        "authors: [lena.berger@agentur-kranich.example]\n"
        "summary: So lesen Sie Ihren Wasserzähler in zwei Minuten selbst ab.\n---\n\n"
        "Der Zähler hängt meist im Keller, gleich hinter der Hauswand.\n",
        "utf-8",
    )
    subprocess.run(["git", *EDITOR, "add", "content/posts/wasserzaehler-ablesen.md"],
                   cwd=site, check=True, capture_output=True)
    subprocess.run(["git", *EDITOR, "commit", "-q", "-m", "Add a post"],
                   cwd=site, check=True, capture_output=True)
    approve(site, "posts/wasserzaehler-ablesen.md")


def deleted_post(site: Path) -> None:
    (site / "content/posts/stromausfall-altstadt-rueckblick.md").unlink()


def approval_made_stale(site: Path) -> None:
    append(site, "posts/stoerungen-richtig-melden.md", "\nEin ungeprüfter Satz.\n")


def approval_added(site: Path) -> None:
    approve(site, "posts/stoerungen-richtig-melden.md")


def comment_approved(site: Path) -> None:
    store = open_store(load_settings(site / "publishconf.py"))
    try:
        with store.transaction() as session:
            session.add(Comment(
                channel="facebook", remote_id="fb-comment-1", kind="reply",
                piece_id="social/2026-11-21-wasserhaerte-facebook.md",
                author_name="Erika Muster", text="Danke, endlich verständlich erklärt!",
                permalink="https://facebook.com/c/1", created_at=NOW, received_at=NOW,
                updated_at=NOW, state=CommentState.APPROVED.value,
            ))
    finally:
        store.dispose()


STEPS: list[tuple[str, Callable[[Path], None], str | None]] = [
    ("body edit", body_edit, "Ein Nachtrag zur Härte."),
    ("title change", title_change, "Heizungs-Check: jetzt anmelden"),
    ("new post", new_post, "Wasserzähler selbst ablesen"),
    ("deleted post", deleted_post, None),
    ("approval made stale", approval_made_stale, None),
    ("approval added", approval_added, "Ein ungeprüfter Satz."),
    ("comment approved", comment_approved, "endlich verständlich erklärt"),
]


def test_each_tick_after_a_change_deploys_what_a_full_build_writes(
    site: Path, tmp_path: Path
) -> None:
    first = run_tick(site)
    assert first.built and first.deployed
    before = assert_live_is_a_full_build(site, tmp_path, "first")
    build = site / BUILD_FOLDER
    assert (build / "site" / "index.html").is_file() and (build / "cache").is_dir()
    # the build folder is the scheduler's own: the public reads a copy
    assert not (site / "public").resolve().is_relative_to(build.resolve())
    for label, change, shown in STEPS:
        change(site)
        summary = run_tick(site)
        assert summary.built and summary.deployed, (label, summary.steps)
        live = assert_live_is_a_full_build(site, tmp_path, label.replace(" ", "-"))
        text = b"".join(live.values()).decode("utf-8", "replace")
        if shown is not None:
            assert shown in text, f"{label}: {shown!r} is not on the live site"
        assert live != before, f"{label}: the live site did not change"
        before = live
    stale = "Ein ungeprüfter Satz."
    assert stale in text
    assert not any("stromausfall-altstadt-rueckblick" in name for name in live)


def test_a_failed_incremental_build_leaves_the_live_site_unchanged(
    site: Path, tmp_path: Path
) -> None:
    run_tick(site)
    live_link = (site / "public").readlink()
    live = tree(site / "public")
    # an edit that reaches the site, and beside it a post that cannot be read: the
    # settings and theme are as before, so the build is incremental and fails
    append(site, "posts/wasserhaerte-fragen-und-antworten.md", "\nEin Nachtrag.\n")
    approve(site, "posts/wasserhaerte-fragen-und-antworten.md")
    broken = site / "content/posts/kaputt.md"
    broken.write_text("---\ntitle: [nicht geschlossen\ndate: 2026-11-22\n---\n\nText.\n", "utf-8")
    failed = tick(site / "pelicanconf.py", NOW, environ={})
    assert failed.status == "failed" and not failed.deployed, failed.steps
    assert "build failed" in (failed.error or "")
    assert (site / "public").readlink() == live_link
    assert tree(site / "public") == live
    # repaired, the next tick builds (in full: the failed build left no record) and
    # deploys exactly a full build
    broken.unlink()
    repaired = run_tick(site)
    assert repaired.built and repaired.deployed
    assert_live_is_a_full_build(site, tmp_path, "repaired")


def test_a_commit_that_changes_no_file_of_the_site_still_rebuilds(site: Path) -> None:
    """Who may approve is read from the protected branch and who wrote what from history:
    a commit that changes neither content nor settings can change what the gate admits,
    so the tick after it must not skip the build (the trust-root change itself is tested
    in tests/security)."""
    run_tick(site)
    assert run_tick(site).status == "skipped"
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.invalid",
         "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", "nothing"],
        cwd=site, check=True,
    )
    after = run_tick(site)
    assert after.built, after.steps


def test_a_post_goes_live_when_its_date_comes_with_no_file_changed(
    site: Path, tmp_path: Path
) -> None:
    """The read memo and the incremental record know files, not the clock: the tick
    after the date of an approved post must publish it, exactly as a full build does."""
    (site / "content/posts/zaehlerwechsel-termin.md").write_text(
        "---\ntitle: Zählerwechsel am Nachmittag\ndate: 2026-11-24 11:00\n"
        "slug: zaehlerwechsel-termin\nlang: de\ncategory: Service\ntags: [Zähler]\n"
        "authors: [lena.berger@agentur-kranich.example]\n"
        "summary: Der Zählerwechsel beginnt um elf Uhr.\n---\n\n"
        "Bitte halten Sie den Keller zugänglich.\n",
        "utf-8",
    )
    subprocess.run(["git", *EDITOR, "add", "content/posts/zaehlerwechsel-termin.md"],
                   cwd=site, check=True, capture_output=True)
    subprocess.run(["git", *EDITOR, "commit", "-q", "-m", "Add a post for later"],
                   cwd=site, check=True, capture_output=True)
    approve(site, "posts/zaehlerwechsel-termin.md")
    first = run_tick(site)
    assert first.built and first.deployed
    live = assert_live_is_a_full_build(site, tmp_path, "not-yet")
    shown = "Zählerwechsel am Nachmittag"
    assert shown not in b"".join(live.values()).decode("utf-8", "replace")
    later = NOW + timedelta(hours=2)
    due = run_tick(site, later)
    assert due.built and due.deployed, due.steps
    live = assert_live_is_a_full_build(site, tmp_path, "due", later)
    assert shown in b"".join(live.values()).decode("utf-8", "replace")

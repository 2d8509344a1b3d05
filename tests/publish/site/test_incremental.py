"""An incremental build writes exactly what a full build writes, byte for byte.

Each test copies the example site into tmp_path (with its git history, which approvals
are checked against), builds it, makes one change, and builds again into the same
output; a full build of the changed site into a fresh folder, with a fresh cache, must
give the same tree: the same files, the same bytes. Preview builds, so that every post
is on the site and a change reaches every kind of page.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from publish.site.build import BuildResult, build_site
from tests.worktree import clone_working_tree

Change = Callable[[Path], None]


def _git(site: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@kranich.example", *args],
        cwd=site, check=True, capture_output=True,
    )


@pytest.fixture
def site(repo_root: Path, tmp_path: Path) -> Path:
    """The example site in its own folder, with the repository's history."""
    folder = tmp_path / "site"
    clone_working_tree(folder, root=repo_root)
    # the working tree as it is now (the clone holds the last commit only)
    for name in ("pelicanconf.py", "publishconf.py"):
        shutil.copy2(repo_root / name, folder / name)
    for name in ("theme", "plugins", "content"):
        shutil.rmtree(folder / name)
        shutil.copytree(repo_root / name, folder / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def build(site: Path, output: Path, cache: Path) -> BuildResult:
    result = build_site(site / "pelicanconf.py", output=output, override={"CACHE_PATH": str(cache)})
    assert result.ok, result.errors
    return result


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


def assert_same_tree(incremental: Path, full: Path) -> None:
    left, right = tree(incremental), tree(full)
    assert sorted(left) == sorted(right), (
        f"only incremental: {sorted(set(left) - set(right))}; "
        f"only full: {sorted(set(right) - set(left))}"
    )
    differing = [name for name in left if left[name] != right[name]]
    assert not differing, f"differing files: {differing[:10]}"
    assert not filecmp.dircmp(incremental, full).diff_files


POST = "content/posts/wasserhaerte-fragen-und-antworten.md"


def edit_body(site: Path) -> None:
    path = site / POST
    path.write_text(path.read_text("utf-8") + "\nEin neuer Absatz mit „Anführungszeichen“.\n",
                    "utf-8")


def change_title(site: Path) -> None:
    path = site / POST
    text = path.read_text("utf-8")
    start = text.index("\ntitle:") + 1
    end = text.index("\n", start)
    path.write_text(text[:start] + 'title: "Wasserhärte – alle Antworten"' + text[end:], "utf-8")


def add_post(site: Path) -> None:
    (site / "content/posts/neuer-beitrag.md").write_text(
        "---\ntitle: Ein neuer Beitrag\ndate: 2026-11-30 09:00\ncategory: Service\n"
        "tags: [Wasser, Neu]\nauthors: [lena.berger@agentur-kranich.example]\nlang: de\n"
        "summary: Ganz neu.\n---\n\nText mit **Betonung**.\n",
        "utf-8",
    )


def delete_post(site: Path) -> None:
    (site / POST).unlink()


def change_tag(site: Path) -> None:
    path = site / POST
    text = path.read_text("utf-8")
    start = text.index("\ntags:") + 1
    end = text.index("\n", start)
    path.write_text(text[:start] + "tags: [Trinkwasser, Kalk]" + text[end:], "utf-8")


def change_template(site: Path) -> None:
    path = site / "theme/templates/article.html"
    text = path.read_text("utf-8")
    path.write_text(text.replace('<article class="post', '<article data-x class="post'), "utf-8")


def share_a_post(site: Path) -> None:
    """The site data file gains a "shared on" link for one post (what syndication writes)."""
    data = site / ".dialogpress" / "site-data.json"
    data.parent.mkdir(exist_ok=True)
    data.write_text(
        '{"syndication": {"wasserhaerte-fragen-und-antworten": [{"channel": "twitter", '
        '"url": "https://x.com/sw_elbtal/status/1", "piece": "social/x.md"}]}}',
        "utf-8",
    )


CHANGES: dict[str, Change] = {
    "edit a post's body": edit_body,
    "change a title": change_title,
    "add a post": add_post,
    "delete a post": delete_post,
    "change a tag": change_tag,
    "change a template": change_template,
    "share a post (site data)": share_a_post,
}


def stamps(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*.html")}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_an_incremental_build_equals_a_full_build(site: Path, tmp_path: Path, change: str) -> None:
    output, cache = tmp_path / "out", tmp_path / "cache"
    build(site, output, cache)
    before, written = tree(output), stamps(output)
    CHANGES[change](site)
    build(site, output, cache)
    full = tmp_path / "full"
    build(site, full, tmp_path / "cache-full")
    assert_same_tree(output, full)
    assert tree(output) != before
    rewritten = {name for name, stamp in stamps(output).items() if written.get(name) != stamp}
    if change == "change a template":
        # a theme change is a full build: every article page is written again
        assert {n for n in written if n.startswith("wasserhaerte")} <= rewritten
        assert len(rewritten) == len(stamps(output))
    elif change in ("edit a post's body", "change a title", "change a tag",
                    "share a post (site data)", "add a post"):
        # the pages that do not show the change were kept as they were: every page's
        # navigation walks the categories, but only for their names (deleting the one
        # post of "Wasser" takes that category out of every page's navigation)
        assert rewritten and len(rewritten) < len(stamps(output)) / 2, sorted(rewritten)
    if change == "add a post":
        # a post of "Service": the other categories' article pages list the newest of
        # their own category only, and stay as they were
        others = [page for page, category in posts(site, output) if category != "Service"]
        assert len(others) >= 3 and not set(others) & rewritten, sorted(set(others) & rewritten)


def posts(site: Path, output: Path) -> list[tuple[str, str]]:
    """(page, category) of the example's posts, by the slugs of their front matter."""
    found = []
    for path in sorted((site / "content/posts").glob("*.md")):
        front = path.read_text("utf-8").split("\n---", 1)[0]
        fields = dict(
            line.split(": ", 1) for line in front.splitlines() if ": " in line
        )
        page = f"{fields.get('slug', path.stem)}.html"
        if (output / page).is_file():
            found.append((page, fields.get("category", "")))
    return found


def test_nothing_changed_writes_nothing(site: Path, tmp_path: Path) -> None:
    output, cache = tmp_path / "out", tmp_path / "cache"
    build(site, output, cache)
    written = stamps(output)
    build(site, output, cache)
    assert stamps(output) == written
